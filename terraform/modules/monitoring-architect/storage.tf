# The S3 bucket (Parquet blocks, keyed {tenant}/{signal}/{day}/...) and the DynamoDB table (the
# index: block catalog, tenants, API tokens, leases; single-table design, pk/sk strings).

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_18:server access logs would need a second bucket; CloudTrail data events are the audit trail if one is wanted
  #checkov:skip=CKV_AWS_144:cross-region replication doubles storage cost; blocks are rebuilt from nothing else, so a user who needs it adds it
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES-256) is on; a customer-managed KMS key would add a KMS request per object read
  #checkov:skip=CKV2_AWS_62:no consumer of S3 event notifications: blocks become visible through the index, not through events
  bucket        = var.bucket_name
  bucket_prefix = var.bucket_name == null ? "${var.name}-" : null
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "data" {
  bucket = aws_s3_bucket.data.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Refuse every request that does not use TLS.
resource "aws_s3_bucket_policy" "data" {
  bucket = aws_s3_bucket.data.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.data.arn, local.bucket_objects_arn]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.data]
}

resource "aws_s3_bucket_versioning" "data" {
  count  = var.bucket_versioning ? 1 : 0
  bucket = aws_s3_bucket.data.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    id     = "cleanup"
    status = "Enabled"
    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }

    # Blocks are immutable and compaction deletes the ones it replaced, so with versioning every
    # delete leaves a noncurrent version: keep it a few days, then let it and its marker go.
    dynamic "noncurrent_version_expiration" {
      for_each = var.bucket_versioning ? [1] : []
      content {
        noncurrent_days = var.noncurrent_version_expiration_days
      }
    }

    dynamic "expiration" {
      for_each = var.bucket_versioning ? [1] : []
      content {
        expired_object_delete_marker = true
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.data]
}

resource "aws_dynamodb_table" "index" {
  #checkov:skip=CKV_AWS_119:encrypted with the AWS-managed key (aws/dynamodb); a customer-managed key costs $1/month plus requests and adds no protection this data needs
  name         = "${var.name}-index"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  # Items with a `ttl` attribute (epoch seconds: leases, notification log, expiring tokens) are
  # deleted by DynamoDB after that time.
  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = var.tags
}
