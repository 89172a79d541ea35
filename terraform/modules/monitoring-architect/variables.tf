# Inputs of the module. Sizes, retention and schedules have working defaults; what a deployment
# must give is the function zips, and with the ingester its image and the network to run in.

variable "name" {
  description = "Prefix of every resource name (functions, roles, table, API, cluster)."
  type        = string
  default     = "architect"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lower-case letters, digits and '-', starting with a letter."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

# --- functions -------------------------------------------------------------------------------

variable "lambda_zips" {
  description = <<-EOT
    Function name -> path of its `bootstrap.zip` (built by `cargo lambda build --release
    --output-format zip`). Known names: ingest, query, authorizer (required), compact,
    rules and alerts (optional). A function is created only when its zip is given.
  EOT
  type        = map(string)

  validation {
    condition     = alltrue([for f in ["ingest", "query", "authorizer"] : contains(keys(var.lambda_zips), f)])
    error_message = "lambda_zips must contain the zips of ingest, query and authorizer."
  }

  validation {
    condition     = alltrue([for f in keys(var.lambda_zips) : contains(["ingest", "query", "authorizer", "compact", "rules", "alerts"], f)])
    error_message = "lambda_zips keys must be among ingest, query, authorizer, compact, rules, alerts."
  }
}

variable "lambda_architectures" {
  description = "Instruction set of the functions: [\"x86_64\"] or [\"arm64\"] (about 20% cheaper per GB-second); the zips must be built for it."
  type        = list(string)
  default     = ["x86_64"]

  validation {
    condition     = length(var.lambda_architectures) == 1 && contains(["x86_64", "arm64"], var.lambda_architectures[0])
    error_message = "lambda_architectures must be [\"x86_64\"] or [\"arm64\"]."
  }
}

variable "lambda_memory_mb" {
  description = "Memory (MB) per function; CPU grows with it. Missing names use 512."
  type        = map(number)
  default = {
    ingest     = 1024
    query      = 2048
    authorizer = 256
    compact    = 2048
    rules      = 1024
    alerts     = 512
  }
}

variable "lambda_timeout_seconds" {
  description = "Timeout (seconds) per function. API Gateway answers 503 after 30 s whatever this says. Missing names use 30."
  type        = map(number)
  default = {
    ingest     = 30
    query      = 30
    authorizer = 10
    compact    = 900
    rules      = 300
    alerts     = 120
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency per function (caps its cost and protects the others); a missing name is unreserved (-1)."
  type        = map(number)
  default     = {}
}

variable "default_tenant" {
  description = "Tenant of requests without X-Scope-OrgID (ARCHITECT_DEFAULT_TENANT)."
  type        = string
  default     = "anonymous"
}

variable "log_level" {
  description = "ARCHITECT_LOG of the functions and the ingester (an EnvFilter: info, debug, architect=debug, ...)."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of every CloudWatch log group this module creates."
  type        = number
  default     = 30
}

# --- API -------------------------------------------------------------------------------------

variable "authorizer_cache_ttl_seconds" {
  description = "How long API Gateway caches the authorizer's answer per Authorization header (0 disables the cache)."
  type        = number
  default     = 300

  validation {
    condition     = var.authorizer_cache_ttl_seconds >= 0 && var.authorizer_cache_ttl_seconds <= 3600
    error_message = "authorizer_cache_ttl_seconds must be between 0 and 3600."
  }
}

variable "api_throttling_rate_limit" {
  description = "Steady-state requests per second the API accepts across all routes."
  type        = number
  default     = 1000
}

variable "api_throttling_burst_limit" {
  description = "Burst of requests the API accepts across all routes."
  type        = number
  default     = 2000
}

variable "enable_api_access_logs" {
  description = "Write API Gateway access logs (one JSON line per request) to a log group."
  type        = bool
  default     = true
}

variable "limits" {
  description = "Write limits of the ingest function as JSON: the `limits:` section of docs/configuration.md (e.g. {\"accept_ha_samples\": true} for Prometheus HA pairs). Empty uses the defaults."
  type        = string
  default     = ""
}

variable "compactor_settings" {
  description = "Settings of the compact function as YAML or JSON: the `compactor:` section of docs/configuration.md (default retention, grace period, downsampling). Empty uses the defaults; per-tenant retention lives in the table (`architect retention set`)."
  type        = string
  default     = ""
}

variable "ruler_settings" {
  description = "Settings of the rules function as YAML or JSON: the `ruler:` section of docs/configuration.md (external URL and labels, Alertmanager URLs, catch-up window). Empty uses the defaults; rule groups live in the table (ruler API)."
  type        = string
  default     = ""
}

variable "alertmanager_settings" {
  description = "Settings of the alerts function as YAML or JSON: the `alertmanager:` section of docs/configuration.md (external URL for links). Empty uses the defaults; Alertmanager configurations, alerts and silences live in the table (API)."
  type        = string
  default     = ""
}

variable "alert_wakeups" {
  description = "Precise alert timers: an SQS queue of wake-ups for the alerts function, so group_wait and group_interval below the one-minute schedule hold (docs/alerting.md). Needs the alerts function; in a VPC (enable_ingester) the query and rules functions reach SQS through an interface endpoint."
  type        = bool
  default     = true
}

# --- schedules -------------------------------------------------------------------------------

variable "schedules" {
  description = "Function name -> EventBridge schedule expression. A schedule is created only for a function whose zip is given."
  type        = map(string)
  default = {
    compact = "rate(15 minutes)"
    rules   = "rate(1 minute)"
    alerts  = "rate(1 minute)"
  }

  validation {
    condition     = alltrue([for expr in values(var.schedules) : can(regex("^(rate|cron)\\(.+\\)$", expr))])
    error_message = "schedules values must be EventBridge expressions: rate(...) or cron(...)."
  }
}

# --- storage ---------------------------------------------------------------------------------

variable "bucket_name" {
  description = "Name of the S3 bucket; null lets AWS pick a unique name starting with \"<name>-\"."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with its objects (and every version). Off by default so data is never deleted by accident."
  type        = bool
  default     = false
}

variable "bucket_versioning" {
  description = "Keep old versions of overwritten or deleted objects for `noncurrent_version_expiration_days` (a safety net against a bad compaction or a mistaken delete)."
  type        = bool
  default     = true
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object's old version is kept when versioning is on."
  type        = number
  default     = 7
}

variable "abort_incomplete_multipart_days" {
  description = "Days after which S3 removes the parts of a multipart upload that was never completed."
  type        = number
  default     = 1
}

# --- ingester and network --------------------------------------------------------------------

variable "enable_ingester" {
  description = "Run the ECS Fargate ingester (WAL on EFS). When true, ingest and query run in the VPC and reach it through Cloud Map; when false, the functions run outside any VPC and write straight to S3."
  type        = bool
  default     = false
}

variable "wal_throughput_mibps" {
  description = "EFS throughput for the ingester's WAL. null: elastic (pay per GB written, $0.06/GB; cheapest below ~100 GB/month). A number: provisioned MiB/s ($6 per MiB/s-month, no per-GB charge); size it to the WAL rate (docs/cost.md)."
  type        = number
  default     = null
}

variable "ingester_image" {
  description = "Image URI of the ingester in a private ECR repository of the deployment's region (built from infra/ingester.Dockerfile), e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/architect-ingester:v1. Required when enable_ingester."
  type        = string
  default     = null

  validation {
    condition     = var.ingester_image == null || can(regex("^\\d{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/[^:@]+[:@].+$", var.ingester_image))
    error_message = "ingester_image must be a private ECR image URI with a tag or digest: the VPC has no internet route, only ECR endpoints."
  }

  validation {
    condition     = !var.enable_ingester || var.ingester_image != null
    error_message = "ingester_image is required when enable_ingester is true."
  }
}

variable "ingester_cpu" {
  description = "Fargate CPU units of the ingester task (256 = 0.25 vCPU)."
  type        = number
  default     = 1024
}

variable "ingester_memory_mb" {
  description = "Fargate memory (MB) of the ingester task; must be valid for ingester_cpu. The head lives in memory."
  type        = number
  default     = 4096
}

variable "ingester_cpu_architecture" {
  description = "X86_64 or ARM64 (Graviton, about 20% cheaper); the image must be built for it."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.ingester_cpu_architecture)
    error_message = "ingester_cpu_architecture must be X86_64 or ARM64."
  }
}

variable "ingester_port" {
  description = "TCP port the ingester listens on."
  type        = number
  default     = 9009
}

variable "enable_efs_file_system_policy" {
  description = "Attach a file system policy to the WAL's EFS that refuses clients without TLS. The test against moto switches it off: moto has no DeleteFileSystemPolicy, so destroy would hang."
  type        = bool
  default     = true
}

variable "ingester_health_check_command" {
  description = "Container health check of the ingester (ECS runs it inside the container); null means `curl -fsS http://127.0.0.1:<port>/-/ready`, which needs curl in the image."
  type        = list(string)
  default     = null
}

variable "service_discovery_namespace" {
  description = "Private DNS namespace of Cloud Map; the ingester is reachable as ingester.<namespace>."
  type        = string
  default     = "architect.internal"
}

variable "vpc_id" {
  description = "VPC to run the ingester and the VPC functions in (enable_ingester only). It needs DNS support and DNS host names on."
  type        = string
  default     = null

  validation {
    condition     = !var.enable_ingester || var.vpc_id != null
    error_message = "vpc_id is required when enable_ingester is true."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets (one per AZ, at least two) for the ingester, the VPC functions, EFS mount targets and the interface endpoints."
  type        = list(string)
  default     = []

  validation {
    condition     = !var.enable_ingester || length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids needs at least two subnets (in two AZs) when enable_ingester is true."
  }
}

variable "private_route_table_ids" {
  description = "Route tables of the private subnets; the S3 and DynamoDB gateway endpoints are added to them."
  type        = list(string)
  default     = []
}

variable "create_interface_endpoints" {
  description = "Create the ECR (api, dkr) and CloudWatch Logs interface endpoints the ingester pulls its image and ships its logs through. Set false when the VPC already has them (two endpoints with private DNS for one service conflict) or reaches those APIs through a NAT gateway: the ingester may then send HTTPS anywhere."
  type        = bool
  default     = true
}
