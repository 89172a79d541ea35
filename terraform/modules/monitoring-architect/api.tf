# The HTTP API: every route, the Lambda proxy integrations (payload format 2.0), the REQUEST
# authorizer that checks the project's API tokens, and the $default stage.

locals {
  # Route key -> the function behind it and whether the authorizer guards it. HTTP APIs pick
  # the most specific route, so the ingest routes win over `ANY /api/v1/{proxy+}`. A new ingest
  # protocol is one more line here.
  routes = {
    "POST /api/v1/push"          = { function = "ingest", authorized = true }
    "POST /api/v1/write"         = { function = "ingest", authorized = true }
    "POST /otlp/v1/metrics"      = { function = "ingest", authorized = true }
    "ANY /api/v1/{proxy+}"       = { function = "query", authorized = true }
    "ANY /prometheus/{proxy+}"   = { function = "query", authorized = true }
    "ANY /config/v1/{proxy+}"    = { function = "query", authorized = true }
    "ANY /api/v2/{proxy+}"       = { function = "query", authorized = true }
    "ANY /alertmanager/{proxy+}" = { function = "query", authorized = true }
    "GET /-/healthy"             = { function = "query", authorized = false }
    "GET /-/ready"               = { function = "query", authorized = false }
  }

  api_functions = toset([for r in values(local.routes) : r.function])
}

resource "aws_apigatewayv2_api" "http" {
  name          = var.name
  description   = "Monitoring Architect: Prometheus remote_write, OTLP and the Prometheus query API"
  protocol_type = "HTTP"
  tags          = var.tags
}

resource "aws_apigatewayv2_integration" "fn" {
  for_each               = local.api_functions
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.fn[each.key].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000
}

# Tokens are items pk = "token", sk = hex(sha256(token)) with attribute `tenant`; the authorizer
# answers {"isAuthorized": ..., "context": {"tenant": ...}}. API Gateway caches the answer per
# Authorization header for authorizer_cache_ttl_seconds.
resource "aws_apigatewayv2_authorizer" "token" {
  api_id                            = aws_apigatewayv2_api.http.id
  name                              = "${var.name}-token"
  authorizer_type                   = "REQUEST"
  authorizer_uri                    = aws_lambda_function.fn["authorizer"].invoke_arn
  authorizer_payload_format_version = "2.0"
  enable_simple_responses           = true
  identity_sources                  = ["$request.header.Authorization"]
  authorizer_result_ttl_in_seconds  = var.authorizer_cache_ttl_seconds
}

resource "aws_apigatewayv2_route" "route" {
  #checkov:skip=CKV_AWS_309:GET /-/healthy and /-/ready are the unauthenticated health probes; every other route has authorization_type CUSTOM
  for_each           = local.routes
  api_id             = aws_apigatewayv2_api.http.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.fn[each.value.function].id}"
  authorization_type = each.value.authorized ? "CUSTOM" : "NONE"
  authorizer_id      = each.value.authorized ? aws_apigatewayv2_authorizer.token.id : null
}

resource "aws_cloudwatch_log_group" "api" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its own key; a customer-managed KMS key is a cost this data does not need
  #checkov:skip=CKV_AWS_338:retention is var.log_retention_days (default 30)
  count             = var.enable_api_access_logs ? 1 : 0
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.api_throttling_rate_limit
    throttling_burst_limit = var.api_throttling_burst_limit
  }

  dynamic "access_log_settings" {
    for_each = var.enable_api_access_logs ? [1] : []
    content {
      destination_arn = aws_cloudwatch_log_group.api[0].arn
      format = jsonencode({
        requestId          = "$context.requestId"
        ip                 = "$context.identity.sourceIp"
        time               = "$context.requestTime"
        method             = "$context.httpMethod"
        path               = "$context.path"
        routeKey           = "$context.routeKey"
        status             = "$context.status"
        responseLength     = "$context.responseLength"
        latencyMs          = "$context.responseLatency"
        integrationStatus  = "$context.integrationStatus"
        integrationLatency = "$context.integrationLatency"
        authorizerError    = "$context.authorizer.error"
        tenant             = "$context.authorizer.tenant"
      })
    }
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  for_each      = local.api_functions
  statement_id  = "AllowApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/*"
}

resource "aws_lambda_permission" "authorizer" {
  statement_id  = "AllowApiGatewayAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["authorizer"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.token.id}"
}
