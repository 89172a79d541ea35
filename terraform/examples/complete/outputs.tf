output "remote_write_url" {
  description = "Prometheus remote_write URL."
  value       = module.architect.remote_write_url
}

output "prometheus_url" {
  description = "Grafana Prometheus data source URL."
  value       = module.architect.prometheus_url
}

output "api_url" {
  description = "Base URL of the HTTP API."
  value       = module.architect.api_url
}

output "otlp_metrics_url" {
  description = "OTLP/HTTP metrics endpoint."
  value       = module.architect.otlp_metrics_url
}

output "bucket_name" {
  description = "S3 bucket of the Parquet blocks."
  value       = module.architect.bucket_name
}

output "table_name" {
  description = "DynamoDB table (index and API tokens)."
  value       = module.architect.table_name
}

output "function_names" {
  description = "Function name -> Lambda function name."
  value       = module.architect.function_names
}

output "function_role_arns" {
  description = "Function name -> IAM role ARN."
  value       = module.architect.function_role_arns
}

output "schedule_rule_names" {
  description = "Function name -> EventBridge rule."
  value       = module.architect.schedule_rule_names
}

output "ingester_url" {
  description = "Cloud Map URL of the ingester."
  value       = module.architect.ingester_url
}

output "ingester_cluster_name" {
  description = "ECS cluster of the ingester."
  value       = module.architect.ingester_cluster_name
}

output "ingester_service_name" {
  description = "ECS service of the ingester."
  value       = module.architect.ingester_service_name
}

output "wal_file_system_id" {
  description = "EFS file system of the ingester's WAL."
  value       = module.architect.wal_file_system_id
}

output "vpc_id" {
  description = "The example's VPC (null without the ingester)."
  value       = var.enable_ingester ? aws_vpc.this[0].id : null
}
