# The ingester (enable_ingester only): one ECS Fargate task holding the head in memory, with its
# write-ahead log on EFS so that an acknowledged write survives the loss of the task. It is the
# only writer of that WAL, so the service never runs two tasks at once (a deployment stops the
# old task before it starts the new one: a few seconds of 5xx that remote_write retries).

locals {
  # POSIX identity the EFS access point imposes on every file the ingester writes, whatever user
  # the image runs as.
  wal_uid = 10001

  ingester_repository_arn = var.ingester_image == null ? null : format(
    "arn:%s:ecr:%s:%s:repository/%s",
    data.aws_partition.current.partition,
    regex("^\\d{12}\\.dkr\\.ecr\\.([a-z0-9-]+)\\.", var.ingester_image)[0],
    regex("^(\\d{12})\\.", var.ingester_image)[0],
    regex("^[^/]+/([^:@]+)", var.ingester_image)[0],
  )

  ingester_health_check = coalescelist(
    var.ingester_health_check_command == null ? [] : var.ingester_health_check_command,
    ["CMD-SHELL", "curl -fsS http://127.0.0.1:${var.ingester_port}/-/ready || exit 1"],
  )
}

# --- the write-ahead log on EFS --------------------------------------------------------------

resource "aws_efs_file_system" "wal" {
  #checkov:skip=CKV_AWS_184:encrypted with the AWS-managed key (aws/elasticfilesystem); a customer-managed key adds cost, not protection this data needs
  #checkov:skip=CKV2_AWS_18:the WAL only holds the last few minutes until the next flush to S3; a backup of it is never restored
  count                           = var.enable_ingester ? 1 : 0
  creation_token                  = "${var.name}-wal"
  encrypted                       = true
  performance_mode                = "generalPurpose"
  throughput_mode                 = var.wal_throughput_mibps == null ? "elastic" : "provisioned"
  provisioned_throughput_in_mibps = var.wal_throughput_mibps
  tags                            = merge(var.tags, { Name = "${var.name}-wal" })
}

# Only clients that authenticate with IAM and use TLS may mount it.
resource "aws_efs_file_system_policy" "wal" {
  count          = var.enable_ingester && var.enable_efs_file_system_policy ? 1 : 0
  file_system_id = aws_efs_file_system.wal[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = { AWS = "*" }
      Action    = "*"
      Resource  = aws_efs_file_system.wal[0].arn
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

resource "aws_efs_access_point" "wal" {
  count          = var.enable_ingester ? 1 : 0
  file_system_id = aws_efs_file_system.wal[0].id

  posix_user {
    uid = local.wal_uid
    gid = local.wal_uid
  }

  root_directory {
    path = "/ingester"
    creation_info {
      owner_uid   = local.wal_uid
      owner_gid   = local.wal_uid
      permissions = "0750"
    }
  }

  tags = merge(var.tags, { Name = "${var.name}-wal" })
}

resource "aws_efs_mount_target" "wal" {
  count           = var.enable_ingester ? length(var.private_subnet_ids) : 0
  file_system_id  = aws_efs_file_system.wal[0].id
  subnet_id       = var.private_subnet_ids[count.index]
  security_groups = [aws_security_group.efs[0].id]
}

# --- roles -----------------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# The execution role: what ECS itself needs to start the task (pull the image, ship its logs).
resource "aws_iam_role" "ingester_execution" {
  count              = var.enable_ingester ? 1 : 0
  name               = "${var.name}-ingester-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "ingester_execution" {
  #checkov:skip=CKV_AWS_111:ecr:GetAuthorizationToken has no resource to scope to (AWS documents Resource "*"); image pulls are scoped to the ingester's repository
  #checkov:skip=CKV_AWS_356:same: ecr:GetAuthorizationToken only accepts Resource "*"
  count = var.enable_ingester ? 1 : 0

  statement {
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [local.ingester_repository_arn]
  }

  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.ingester[0].arn}:*"]
  }
}

resource "aws_iam_role_policy" "ingester_execution" {
  count  = var.enable_ingester ? 1 : 0
  name   = "${var.name}-ingester-execution"
  role   = aws_iam_role.ingester_execution[0].id
  policy = data.aws_iam_policy_document.ingester_execution[0].json
}

# The task role: what the ingester process does (flush blocks to S3, commit them in the table,
# mount its WAL through the access point).
resource "aws_iam_role" "ingester_task" {
  count              = var.enable_ingester ? 1 : 0
  name               = "${var.name}-ingester-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "ingester_task" {
  count = var.enable_ingester ? 1 : 0

  statement {
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [local.bucket_objects_arn]
  }

  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.data.arn]
  }

  statement {
    actions   = concat(local.dynamodb_read, local.dynamodb_write)
    resources = [aws_dynamodb_table.index.arn]
  }

  statement {
    actions   = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    resources = [aws_efs_file_system.wal[0].arn]
    condition {
      test     = "StringEquals"
      variable = "elasticfilesystem:AccessPointArn"
      values   = [aws_efs_access_point.wal[0].arn]
    }
  }
}

resource "aws_iam_role_policy" "ingester_task" {
  count  = var.enable_ingester ? 1 : 0
  name   = "${var.name}-ingester-task"
  role   = aws_iam_role.ingester_task[0].id
  policy = data.aws_iam_policy_document.ingester_task[0].json
}

# --- ECS -------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "ingester" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its own key; a customer-managed KMS key is a cost this data does not need
  #checkov:skip=CKV_AWS_338:retention is var.log_retention_days (default 30)
  count             = var.enable_ingester ? 1 : 0
  name              = "/ecs/${var.name}-ingester"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_ecs_cluster" "this" {
  #checkov:skip=CKV_AWS_65:Container Insights bills per metric for one task; the ingester exports its own metrics
  count = var.enable_ingester ? 1 : 0
  name  = var.name
  tags  = var.tags
}

resource "aws_ecs_task_definition" "ingester" {
  count                    = var.enable_ingester ? 1 : 0
  family                   = "${var.name}-ingester"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.ingester_cpu
  memory                   = var.ingester_memory_mb
  execution_role_arn       = aws_iam_role.ingester_execution[0].arn
  task_role_arn            = aws_iam_role.ingester_task[0].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.ingester_cpu_architecture
  }

  volume {
    name = "wal"
    efs_volume_configuration {
      file_system_id     = aws_efs_file_system.wal[0].id
      transit_encryption = "ENABLED"
      authorization_config {
        access_point_id = aws_efs_access_point.wal[0].id
        iam             = "ENABLED"
      }
    }
  }

  container_definitions = jsonencode([{
    name                   = "ingester"
    image                  = var.ingester_image
    essential              = true
    readonlyRootFilesystem = true
    portMappings           = [{ containerPort = var.ingester_port, protocol = "tcp" }]
    mountPoints            = [{ sourceVolume = "wal", containerPath = "/data", readOnly = false }]
    environment = [for k, v in {
      ARCHITECT_LISTEN         = "0.0.0.0:${var.ingester_port}"
      ARCHITECT_DATA_DIR       = "/data"
      ARCHITECT_BUCKET         = aws_s3_bucket.data.bucket
      ARCHITECT_TABLE          = aws_dynamodb_table.index.name
      ARCHITECT_DEFAULT_TENANT = var.default_tenant
      ARCHITECT_LOG_FORMAT     = "json"
      ARCHITECT_LOG            = var.log_level
    } : { name = k, value = v }]
    # /-/ready turns 200 once the WAL has been replayed; a large WAL takes a while.
    healthCheck = {
      command     = local.ingester_health_check
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 300
    }
    # SIGTERM makes the ingester drain requests and flush its head; give it Fargate's maximum.
    stopTimeout = 120
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.ingester[0].name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "ingester"
      }
    }
  }])

  tags = var.tags

  lifecycle {
    precondition {
      condition     = strcontains(var.ingester_image, ".dkr.ecr.${data.aws_region.current.name}.amazonaws.com/")
      error_message = "ingester_image must be in an ECR repository of the deployment's region: the task pulls it through this region's ECR endpoints."
    }
  }
}

resource "aws_ecs_service" "ingester" {
  count            = var.enable_ingester ? 1 : 0
  name             = "${var.name}-ingester"
  cluster          = aws_ecs_cluster.this[0].id
  task_definition  = aws_ecs_task_definition.ingester[0].arn
  launch_type      = "FARGATE"
  platform_version = "LATEST"
  desired_count    = 1

  # Never two writers of one WAL: stop the old task before starting its replacement.
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.ingester[0].id]
    assign_public_ip = false
  }

  service_registries {
    registry_arn = aws_service_discovery_service.ingester[0].arn
  }

  propagate_tags = "SERVICE"
  tags           = var.tags

  # The task mounts EFS and pulls through the endpoints as it starts.
  depends_on = [aws_efs_mount_target.wal, aws_vpc_endpoint.interface, aws_vpc_endpoint.gateway, aws_iam_role_policy.ingester_execution]
}
