# Example: a complete Monitoring Architect deployment with the ingester, in a VPC of its own.
#
# The VPC has two private subnets in two AZs and no internet access at all (no internet gateway,
# no NAT): the module adds the S3/DynamoDB gateway endpoints and the ECR/Logs interface endpoints
# the ingester needs. Set enable_ingester = false to deploy only the functions (the VPC is then
# not created).
#
#   terraform init && terraform apply -var-file=my.tfvars
#
# For a test against an AWS emulator (moto server) set aws_endpoint_url; every AWS API then goes
# to that URL, with credentials from the environment (AWS_ACCESS_KEY_ID=test ...).

provider "aws" {
  region = var.aws_region

  # Against an emulator: path-style S3, no real credential or account checks.
  s3_use_path_style           = var.aws_endpoint_url != null
  skip_credentials_validation = var.aws_endpoint_url != null
  skip_requesting_account_id  = var.aws_endpoint_url != null
  skip_metadata_api_check     = var.aws_endpoint_url != null

  dynamic "endpoints" {
    for_each = var.aws_endpoint_url == null ? [] : [var.aws_endpoint_url]
    content {
      apigatewayv2     = endpoints.value
      cloudwatchevents = endpoints.value
      dynamodb         = endpoints.value
      ec2              = endpoints.value
      ecs              = endpoints.value
      efs              = endpoints.value
      iam              = endpoints.value
      lambda           = endpoints.value
      logs             = endpoints.value
      s3               = endpoints.value
      servicediscovery = endpoints.value
      sqs              = endpoints.value
      sts              = endpoints.value
    }
  }

  default_tags {
    tags = { Project = "monitoring-architect", Deployment = var.name }
  }
}

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:only the first two names are used (slice below), and AWS adds new zones at the end of the sorted list
  state = "available"
}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, 2)
}

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:VPC flow logs cost per GB; the VPC carries only the functions' and the ingester's traffic, whose logs are kept
  count                = var.enable_ingester ? 1 : 0
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true # Cloud Map names and the endpoints' private DNS need both
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

# The default security group allows nothing: every resource gets its own.
resource "aws_default_security_group" "this" {
  count  = var.enable_ingester ? 1 : 0
  vpc_id = aws_vpc.this[0].id
}

resource "aws_subnet" "private" {
  count             = var.enable_ingester ? length(local.azs) : 0
  vpc_id            = aws_vpc.this[0].id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 4, count.index)
  tags              = { Name = "${var.name}-private-${local.azs[count.index]}" }
}

resource "aws_route_table" "private" {
  count  = var.enable_ingester ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  tags   = { Name = "${var.name}-private" }
}

resource "aws_route_table_association" "private" {
  count          = length(aws_subnet.private)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[0].id
}

module "architect" {
  source = "../../modules/monitoring-architect"

  name        = var.name
  lambda_zips = var.lambda_zips
  schedules   = var.schedules

  enable_ingester         = var.enable_ingester
  ingester_image          = var.ingester_image
  vpc_id                  = var.enable_ingester ? aws_vpc.this[0].id : null
  private_subnet_ids      = aws_subnet.private[*].id
  private_route_table_ids = aws_route_table.private[*].id

  force_destroy                 = var.force_destroy
  enable_api_access_logs        = var.enable_api_access_logs
  enable_efs_file_system_policy = var.enable_efs_file_system_policy
}
