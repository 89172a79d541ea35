# The Lambda functions: one per zip in var.lambda_zips, each with its own role, its own log
# group and a policy that allows only what that function does.

locals {
  dynamodb_read  = ["dynamodb:GetItem", "dynamodb:Query"]
  dynamodb_write = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:TransactWriteItems", "dynamodb:ConditionCheckItem"]

  # Function -> the statements of its policy (besides logging and the VPC network interfaces).
  function_permissions = {
    ingest = [
      { actions = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"], resources = [local.bucket_objects_arn] },
      { actions = ["s3:ListBucket"], resources = [aws_s3_bucket.data.arn] },
      { actions = concat(local.dynamodb_read, local.dynamodb_write), resources = [aws_dynamodb_table.index.arn] },
    ]
    query = [
      { actions = ["s3:GetObject"], resources = [local.bucket_objects_arn] },
      { actions = ["s3:ListBucket"], resources = [aws_s3_bucket.data.arn] },
      { actions = local.dynamodb_read, resources = [aws_dynamodb_table.index.arn] },
      # The ruler configuration and Alertmanager APIs write rule groups, alerts, silences and
      # Alertmanager configurations, and nothing else: only items whose partition key is one of
      # theirs (docs/rules.md, docs/alerting.md).
      {
        actions      = ["dynamodb:PutItem", "dynamodb:DeleteItem"]
        resources    = [aws_dynamodb_table.index.arn]
        leading_keys = ["*#rules", "*#rulestate", "rules#tenants", "*#am", "*#am#alerts", "*#am#silences", "am#tenants", "*#am#wake"]
      },
    ]
    authorizer = [
      { actions = ["dynamodb:GetItem"], resources = [aws_dynamodb_table.index.arn] },
    ]
    compact = [
      { actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], resources = [local.bucket_objects_arn] },
      { actions = ["s3:ListBucket"], resources = [aws_s3_bucket.data.arn] },
      { actions = concat(local.dynamodb_read, local.dynamodb_write), resources = [aws_dynamodb_table.index.arn] },
    ]
    # The built-in Alertmanager's notification pipeline: alerts, silences, group timers and the
    # notification log are all in the table; notifications go out over HTTPS.
    alerts = [
      { actions = concat(local.dynamodb_read, local.dynamodb_write), resources = [aws_dynamodb_table.index.arn] },
    ]
    # Reads data like a query, writes rule output like an ingest, keeps rule state in the table.
    rules = [
      { actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], resources = [local.bucket_objects_arn] },
      { actions = ["s3:ListBucket"], resources = [aws_s3_bucket.data.arn] },
      { actions = concat(local.dynamodb_read, local.dynamodb_write), resources = [aws_dynamodb_table.index.arn] },
    ]
  }
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each           = var.lambda_zips
  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "function" {
  #checkov:skip=CKV_AWS_111:the VPC network-interface actions cannot be scoped to a resource (AWS documents Resource "*" for them); every other statement names the bucket, table or log group
  #checkov:skip=CKV_AWS_356:same: ec2:*NetworkInterface* for a VPC function only accept Resource "*"
  for_each = var.lambda_zips

  dynamic "statement" {
    for_each = concat(
      local.function_permissions[each.key],
      contains(local.alert_wakers, each.key) ? [{ actions = ["sqs:SendMessage"], resources = [local.alert_queue_arn] }] : [],
      each.key == "alerts" && local.alert_wakeups ? [{ actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], resources = [local.alert_queue_arn] }] : [],
    )
    content {
      actions   = statement.value.actions
      resources = statement.value.resources
      dynamic "condition" {
        for_each = lookup(statement.value, "leading_keys", null) == null ? [] : [statement.value.leading_keys]
        content {
          test     = "ForAllValues:StringLike"
          variable = "dynamodb:LeadingKeys"
          values   = condition.value
        }
      }
    }
  }

  # Logs to its own log group only (the group is created here, so no logs:CreateLogGroup).
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
  }

  # What Lambda needs to attach the function to the VPC (AWSLambdaVPCAccessExecutionRole without
  # its logs:* on every group).
  dynamic "statement" {
    for_each = local.in_vpc[each.key] ? [1] : []
    content {
      actions = [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = var.lambda_zips
  name     = "${var.name}-${each.key}"
  role     = aws_iam_role.function[each.key].id
  policy   = data.aws_iam_policy_document.function[each.key].json
}

resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its own key; a customer-managed KMS key is a cost this data does not need
  #checkov:skip=CKV_AWS_338:retention is var.log_retention_days (default 30): the project's own telemetry is the long-term record, not these logs
  for_each          = var.lambda_zips
  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "fn" {
  #checkov:skip=CKV_AWS_50:no X-Ray: the functions export their own metrics, logs and traces into a tenant of their own
  #checkov:skip=CKV_AWS_116:API functions are invoked synchronously (the caller retries) and a failed compaction or rule pass is redone by the next schedule, so a dead-letter queue would only collect noise
  #checkov:skip=CKV_AWS_117:only the functions that talk to the ingester run in a VPC (when it is enabled); the rest need no network but AWS APIs
  #checkov:skip=CKV_AWS_173:the environment holds names (bucket, table, URL), no secrets; Lambda encrypts it at rest with its own key
  #checkov:skip=CKV_AWS_272:code signing needs AWS Signer profiles the zips of cargo lambda build do not have; the zip hash is pinned by source_code_hash
  for_each = var.lambda_zips

  function_name    = "${var.name}-${each.key}"
  description      = "Monitoring Architect ${each.key}"
  role             = aws_iam_role.function[each.key].arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = var.lambda_architectures
  filename         = each.value
  source_code_hash = filebase64sha256(each.value)

  memory_size                    = lookup(var.lambda_memory_mb, each.key, 512)
  timeout                        = lookup(var.lambda_timeout_seconds, each.key, 30)
  reserved_concurrent_executions = lookup(var.lambda_reserved_concurrency, each.key, -1)

  environment {
    variables = merge(
      local.function_env,
      local.in_vpc[each.key] ? { ARCHITECT_INGESTER_URL = local.ingester_url } : {},
      each.key == "compact" && var.compactor_settings != "" ? { ARCHITECT_COMPACTOR = var.compactor_settings } : {},
      each.key == "rules" && var.ruler_settings != "" ? { ARCHITECT_RULER = var.ruler_settings } : {},
      each.key == "alerts" && var.alertmanager_settings != "" ? { ARCHITECT_ALERTMANAGER = var.alertmanager_settings } : {},
      each.key == "ingest" && var.limits != "" ? { ARCHITECT_LIMITS = var.limits } : {},
      contains(local.alert_wakers, each.key) ? { ARCHITECT_ALERT_QUEUE = local.alert_queue_url } : {},
    )
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc[each.key] ? [1] : []
    content {
      subnet_ids         = var.private_subnet_ids
      security_group_ids = [aws_security_group.lambda[0].id]
    }
  }

  tags = var.tags

  # The log group must exist before the first invocation creates it with no retention, and a
  # VPC function's role must be allowed to create network interfaces before Lambda tries.
  depends_on = [aws_cloudwatch_log_group.function, aws_iam_role_policy.function]
}
