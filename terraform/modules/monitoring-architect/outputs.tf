# What a user pastes into Prometheus and Grafana, and the names of what was created.

output "api_url" {
  description = "Base URL of the HTTP API."
  value       = aws_apigatewayv2_api.http.api_endpoint
}

output "remote_write_url" {
  description = "Prometheus remote_write URL (send `Authorization: Bearer <token>`)."
  value       = "${aws_apigatewayv2_api.http.api_endpoint}/api/v1/push"
}

output "prometheus_url" {
  description = "URL of the Grafana Prometheus data source (or any Prometheus API client); the API is also served at api_url itself."
  value       = "${aws_apigatewayv2_api.http.api_endpoint}/prometheus"
}

output "otlp_metrics_url" {
  description = "OTLP/HTTP metrics endpoint."
  value       = "${aws_apigatewayv2_api.http.api_endpoint}/otlp/v1/metrics"
}

output "bucket_name" {
  description = "S3 bucket holding the Parquet blocks."
  value       = aws_s3_bucket.data.bucket
}

output "table_name" {
  description = "DynamoDB table holding the index and the API tokens."
  value       = aws_dynamodb_table.index.name
}

output "function_names" {
  description = "Function name -> deployed Lambda function name."
  value       = { for k, f in aws_lambda_function.fn : k => f.function_name }
}

output "function_role_arns" {
  description = "Function name -> ARN of its IAM role."
  value       = { for k, r in aws_iam_role.function : k => r.arn }
}

output "schedule_rule_names" {
  description = "Function name -> EventBridge rule that runs it."
  value       = { for k, r in aws_cloudwatch_event_rule.schedule : k => r.name }
}

output "ingester_url" {
  description = "URL the functions use to reach the ingester (null without it)."
  value       = var.enable_ingester ? local.ingester_url : null
}

output "ingester_cluster_name" {
  description = "ECS cluster of the ingester (null without it)."
  value       = var.enable_ingester ? aws_ecs_cluster.this[0].name : null
}

output "ingester_service_name" {
  description = "ECS service of the ingester (null without it)."
  value       = var.enable_ingester ? aws_ecs_service.ingester[0].name : null
}

output "wal_file_system_id" {
  description = "EFS file system of the ingester's write-ahead log (null without it)."
  value       = var.enable_ingester ? aws_efs_file_system.wal[0].id : null
}
