# Names and values shared by the files of this module.

data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # Functions that talk to the ingester. With the ingester enabled they run in the VPC (to reach
  # it through Cloud Map); every other function, and all of them without the ingester, runs
  # outside any VPC and so needs no network of its own.
  ingester_clients = ["ingest", "query", "rules"]
  in_vpc           = { for f in keys(var.lambda_zips) : f => var.enable_ingester && contains(local.ingester_clients, f) }

  ingester_host = "ingester.${var.service_discovery_namespace}"
  ingester_url  = "http://${local.ingester_host}:${var.ingester_port}"

  # The environment every function gets (the contract with the Rust side).
  function_env = {
    ARCHITECT_BUCKET         = aws_s3_bucket.data.bucket
    ARCHITECT_TABLE          = aws_dynamodb_table.index.name
    ARCHITECT_DEFAULT_TENANT = var.default_tenant
    ARCHITECT_LOG_FORMAT     = "json"
    ARCHITECT_LOG            = var.log_level
  }

  bucket_objects_arn = "${aws_s3_bucket.data.arn}/*"
}
