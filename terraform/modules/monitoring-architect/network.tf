# The network of the ingester (enable_ingester only), in the VPC given by var.vpc_id:
#
#   ingest/query Lambda ENIs --tcp ingester_port--> ingester task --tcp 2049--> EFS mount targets
#          |                                           |
#          +--443--> S3 / DynamoDB gateway endpoints <-+--443--> ECR and Logs interface endpoints
#
# There is no NAT gateway and no internet route: S3 and DynamoDB are reached through gateway
# endpoints (free), the ingester pulls its image and ships its logs through interface endpoints
# (unless create_interface_endpoints is false because the VPC has its own), and the functions
# find the ingester by its Cloud Map name (ingester.<namespace>). Security groups allow exactly
# these paths (DNS to the VPC resolver is not subject to security groups).

locals {
  # SQS for the alert wake-ups the query and rules functions send from the VPC.
  interface_endpoints = concat(["ecr.api", "ecr.dkr", "logs"], local.alert_wakeups ? ["sqs"] : [])
  create_endpoints    = var.enable_ingester && var.create_interface_endpoints
}

# --- security groups -------------------------------------------------------------------------

resource "aws_security_group" "lambda" {
  count       = var.enable_ingester ? 1 : 0
  name        = "${var.name}-lambda"
  description = "Lambda functions that talk to the ingester"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_security_group" "ingester" {
  count       = var.enable_ingester ? 1 : 0
  name        = "${var.name}-ingester"
  description = "Ingester task: accepts the functions, reaches EFS, S3, DynamoDB, ECR and Logs"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_security_group" "efs" {
  count       = var.enable_ingester ? 1 : 0
  name        = "${var.name}-efs"
  description = "EFS mount targets of the ingester's write-ahead log"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_security_group" "endpoints" {
  count       = local.create_endpoints ? 1 : 0
  name        = "${var.name}-endpoints"
  description = "ECR and CloudWatch Logs interface endpoints, used by the ingester"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "lambda_to_ingester" {
  count                        = var.enable_ingester ? 1 : 0
  security_group_id            = aws_security_group.lambda[0].id
  description                  = "to the ingester"
  ip_protocol                  = "tcp"
  from_port                    = var.ingester_port
  to_port                      = var.ingester_port
  referenced_security_group_id = aws_security_group.ingester[0].id
}

resource "aws_vpc_security_group_ingress_rule" "ingester_from_lambda" {
  count                        = var.enable_ingester ? 1 : 0
  security_group_id            = aws_security_group.ingester[0].id
  description                  = "from the ingest and query functions"
  ip_protocol                  = "tcp"
  from_port                    = var.ingester_port
  to_port                      = var.ingester_port
  referenced_security_group_id = aws_security_group.lambda[0].id
}

resource "aws_vpc_security_group_egress_rule" "ingester_to_efs" {
  count                        = var.enable_ingester ? 1 : 0
  security_group_id            = aws_security_group.ingester[0].id
  description                  = "to the EFS mount targets (NFS)"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = aws_security_group.efs[0].id
}

resource "aws_vpc_security_group_ingress_rule" "efs_from_ingester" {
  count                        = var.enable_ingester ? 1 : 0
  security_group_id            = aws_security_group.efs[0].id
  description                  = "NFS from the ingester"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = aws_security_group.ingester[0].id
}

resource "aws_vpc_security_group_egress_rule" "ingester_to_endpoints" {
  count                        = local.create_endpoints ? 1 : 0
  security_group_id            = aws_security_group.ingester[0].id
  description                  = "HTTPS to the ECR and Logs interface endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints[0].id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_ingester" {
  count                        = local.create_endpoints ? 1 : 0
  security_group_id            = aws_security_group.endpoints[0].id
  description                  = "HTTPS from the ingester"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.ingester[0].id
}

resource "aws_vpc_security_group_egress_rule" "lambda_to_endpoints" {
  count                        = local.create_endpoints && local.alert_wakeups ? 1 : 0
  security_group_id            = aws_security_group.lambda[0].id
  description                  = "HTTPS to the SQS interface endpoint (alert wake-ups)"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints[0].id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_lambda" {
  count                        = local.create_endpoints && local.alert_wakeups ? 1 : 0
  security_group_id            = aws_security_group.endpoints[0].id
  description                  = "HTTPS from the functions (alert wake-ups to SQS)"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.lambda[0].id
}

# Without our interface endpoints, SQS is reached through whatever the VPC has.
resource "aws_vpc_security_group_egress_rule" "lambda_to_https" {
  #checkov:skip=CKV_AWS_382:only when create_interface_endpoints is false: the VPC's own SQS endpoint or NAT gateway is then at an address this module does not know
  count             = var.enable_ingester && !var.create_interface_endpoints && local.alert_wakeups ? 1 : 0
  security_group_id = aws_security_group.lambda[0].id
  description       = "HTTPS to SQS through the VPC's own endpoint or NAT (alert wake-ups)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# Without our interface endpoints, ECR and Logs are reached through whatever the VPC has (its
# own endpoints or a NAT gateway), whose addresses this module does not know.
resource "aws_vpc_security_group_egress_rule" "ingester_to_https" {
  #checkov:skip=CKV_AWS_382:only when create_interface_endpoints is false: the VPC's own ECR/Logs endpoints or NAT gateway are then at addresses this module does not know
  count             = var.enable_ingester && !var.create_interface_endpoints ? 1 : 0
  security_group_id = aws_security_group.ingester[0].id
  description       = "HTTPS to ECR and CloudWatch Logs through the VPC's own endpoints or NAT"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# HTTPS from the functions and the ingester to S3 and DynamoDB, through the gateway endpoints'
# prefix lists (so no route to anywhere else exists).
resource "aws_vpc_security_group_egress_rule" "to_gateway_endpoints" {
  for_each = var.enable_ingester ? {
    "lambda-s3"         = { sg = aws_security_group.lambda[0].id, endpoint = "s3" }
    "lambda-dynamodb"   = { sg = aws_security_group.lambda[0].id, endpoint = "dynamodb" }
    "ingester-s3"       = { sg = aws_security_group.ingester[0].id, endpoint = "s3" }
    "ingester-dynamodb" = { sg = aws_security_group.ingester[0].id, endpoint = "dynamodb" }
  } : {}
  security_group_id = each.value.sg
  description       = "HTTPS to ${each.value.endpoint} through its gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.gateway[each.value.endpoint].prefix_list_id
}

# --- VPC endpoints ---------------------------------------------------------------------------

resource "aws_vpc_endpoint" "gateway" {
  for_each          = var.enable_ingester ? toset(["s3", "dynamodb"]) : toset([])
  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.private_route_table_ids
  tags              = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = local.create_endpoints ? toset(local.interface_endpoints) : toset([])
  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = var.private_subnet_ids
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true
  tags                = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

# --- service discovery -----------------------------------------------------------------------

resource "aws_service_discovery_private_dns_namespace" "this" {
  count       = var.enable_ingester ? 1 : 0
  name        = var.service_discovery_namespace
  description = "Monitoring Architect internal names"
  vpc         = var.vpc_id
  tags        = var.tags
}

# ECS registers the running task's IP as an A record; the task's health decides whether it is
# answered.
resource "aws_service_discovery_service" "ingester" {
  count = var.enable_ingester ? 1 : 0
  name  = "ingester"

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.this[0].id
    routing_policy = "MULTIVALUE"
    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  health_check_custom_config {
    failure_threshold = 1
  }

  tags = var.tags
}
