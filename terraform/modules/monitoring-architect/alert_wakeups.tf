# Precise alert timers (docs/alerting.md, "Timer precision"): the alerts function runs on a
# one-minute schedule, and a group due in between (group_wait: 30s, group_interval: 10s) gets a
# wake-up instead: an SQS message delayed until the group is due, which triggers the alerts
# function for that tenant. The query and rules functions send one when alerts are posted; the
# alerts function after each pass, for the next due group.

locals {
  alert_wakeups   = var.alert_wakeups && contains(keys(var.lambda_zips), "alerts")
  alert_queue_arn = one(aws_sqs_queue.alert_wakeups[*].arn)
  alert_queue_url = one(aws_sqs_queue.alert_wakeups[*].url)
  # The functions that send wake-ups, and the permission they need.
  alert_wakers = [for f in ["query", "rules", "alerts"] : f if local.alert_wakeups && contains(keys(var.lambda_zips), f)]
}

resource "aws_sqs_queue" "alert_wakeups" {
  #checkov:skip=CKV_AWS_27:SSE-SQS (sqs_managed_sse_enabled) encrypts at rest; a message names a tenant and nothing else, so a customer-managed KMS key is a cost without a purpose
  count                   = local.alert_wakeups ? 1 : 0
  name                    = "${var.name}-alert-wakeups"
  sqs_managed_sse_enabled = true
  # A wake-up is worth nothing after the next scheduled pass; keep them an hour at most.
  message_retention_seconds = 3600
  # AWS's advice for a Lambda event source: at least six times the function's timeout.
  visibility_timeout_seconds = 6 * lookup(var.lambda_timeout_seconds, "alerts", 120)
  tags                       = var.tags
}

resource "aws_lambda_event_source_mapping" "alert_wakeups" {
  count            = local.alert_wakeups ? 1 : 0
  event_source_arn = local.alert_queue_arn
  function_name    = aws_lambda_function.fn["alerts"].arn
  batch_size       = 10
}
