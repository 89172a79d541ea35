# Monitoring Architect: the AWS deployment module.
#
# Everything the project runs in an AWS account: one S3 bucket (Parquet blocks), one DynamoDB
# table (the index, API tokens and all small state), the Lambda functions named in
# `var.lambda_zips` behind an API Gateway HTTP API with a Lambda REQUEST authorizer, EventBridge
# schedules for the periodic functions, and, when `var.enable_ingester` is true, the ECS Fargate
# ingester with its write-ahead log on EFS, reached by the functions through Cloud Map.
#
# Files: storage.tf (bucket, table), functions.tf (Lambda, IAM, logs), api.tf (HTTP API,
# authorizer, routes), schedules.tf (EventBridge), network.tf (security groups, VPC endpoints,
# Cloud Map), ingester.tf (ECS, EFS). docs/deploy.md walks through a deployment and the network
# and cost model.
#
# Only the hashicorp/aws provider is used, so the module initialises from a filesystem mirror.

terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70, < 7.0"
    }
  }
}
