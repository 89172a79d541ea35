variable "aws_region" {
  description = "Region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "aws_endpoint_url" {
  description = "Send every AWS API call to this URL (an emulator such as moto server); null for real AWS."
  type        = string
  default     = null
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "architect"
}

variable "lambda_zips" {
  description = "Function name -> path of its bootstrap.zip (ingest, query, authorizer; compact, rules and alerts when built)."
  type        = map(string)
}

variable "schedules" {
  description = "Function name -> EventBridge schedule expression."
  type        = map(string)
  default     = { compact = "rate(15 minutes)", rules = "rate(1 minute)", alerts = "rate(1 minute)" }
}

variable "enable_ingester" {
  description = "Deploy the ECS Fargate ingester and the VPC it runs in."
  type        = bool
  default     = true
}

variable "ingester_image" {
  description = "ECR image URI of the ingester (required when enable_ingester)."
  type        = string
  default     = null
}

variable "vpc_cidr" {
  description = "Address range of the example's VPC."
  type        = string
  default     = "10.42.0.0/16"
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with its data."
  type        = bool
  default     = false
}

variable "enable_api_access_logs" {
  description = "Write API Gateway access logs to CloudWatch."
  type        = bool
  default     = true
}

variable "enable_efs_file_system_policy" {
  description = "Attach the TLS-only policy to the WAL's EFS (off only for emulators that lack the EFS policy API)."
  type        = bool
  default     = true
}
