locals {
  # Partition, region and account of the stream (arn:<partition>:kinesis:<region>:<account>:stream/<name>).
  # The Kinesis integration calls that region; read from the ARN so the module needs no data sources.
  stream_arn_parts = split(":", var.stream_arn)
  partition        = local.stream_arn_parts[1]
  region           = local.stream_arn_parts[3]
  account_id       = local.stream_arn_parts[4]

  cognito = var.authorization == "COGNITO"

  # The two routes. Everything per route (resource, method, model, integration,
  # responses) is created with for_each over this map.
  routes = {
    record = {
      path              = "record"
      action            = "PutRecord"
      model             = "PutRecordModel"
      request_template  = "put-record.request.vtl"
      response_template = "put-record.response.vtl"
    }
    records = {
      path              = "records"
      action            = "PutRecords"
      model             = "PutRecordsModel"
      request_template  = "put-records.request.vtl"
      response_template = "put-records.response.vtl"
    }
  }

  # Integration responses. For AWS (service) integrations API Gateway matches
  # selection_pattern against the integration's HTTP status code (the whole
  # string, as a Java regular expression); the response without a pattern is the
  # default, used when no pattern matches. Throttling is a 400 from Kinesis too,
  # so the 400 template tells it apart by the error type (__type) and sets
  # $context.responseOverride.status = 429 (see templates/client-error.response.vtl).
  integration_responses = {
    "200" = { selection_pattern = null, template = null }
    "400" = { selection_pattern = "4\\d{2}", template = "client-error.response.vtl" }
    "500" = { selection_pattern = "5\\d{2}", template = "server-error.response.vtl" }
  }
  # Method responses: what clients can get (429 and 500 come from overrides too).
  method_status_codes = ["200", "400", "429", "500"]

  route_integration_responses = merge([
    for route, r in local.routes : {
      for status, ir in local.integration_responses : "${route}:${status}" => {
        route             = route
        status            = status
        selection_pattern = ir.selection_pattern
        template          = coalesce(ir.template, r.response_template)
      }
    }
  ]...)
  route_method_responses = merge([
    for route, r in local.routes : {
      for status in local.method_status_codes : "${route}:${status}" => { route = route, status = status }
    }
  ]...)

  schemas = {
    PutRecordModel = {
      "$schema" = "http://json-schema.org/draft-04/schema#"
      title     = "PutRecord"
      type      = "object"
      required  = ["data", "partitionKey"]
      properties = {
        data         = { type = "string", maxLength = 1048576 }
        partitionKey = { type = "string", minLength = 1, maxLength = 256 }
      }
    }
    PutRecordsModel = {
      "$schema" = "http://json-schema.org/draft-04/schema#"
      title     = "PutRecords"
      type      = "object"
      required  = ["records"]
      properties = {
        records = {
          type     = "array"
          minItems = 1
          maxItems = 500
          items = {
            type     = "object"
            required = ["data", "partitionKey"]
            properties = {
              data         = { type = "string", maxLength = 1048576 }
              partitionKey = { type = "string", minLength = 1, maxLength = 256 }
            }
          }
        }
      }
    }
  }
}

################################################################################
# REST API, models, validator
################################################################################

resource "aws_api_gateway_rest_api" "this" {
  name        = var.name
  description = var.description

  endpoint_configuration {
    types = [var.endpoint_type]
  }

  tags = var.tags
}

resource "aws_api_gateway_request_validator" "body" {
  rest_api_id           = aws_api_gateway_rest_api.this.id
  name                  = "request-body-validator"
  validate_request_body = true
}

resource "aws_api_gateway_model" "this" {
  for_each = local.schemas

  rest_api_id  = aws_api_gateway_rest_api.this.id
  name         = each.key
  description  = "Body of POST /${each.key == "PutRecordModel" ? "record" : "records"} (JSON Schema draft-04)"
  content_type = "application/json"
  schema       = jsonencode(each.value)
}

################################################################################
# Routes: POST /record and POST /records
################################################################################

resource "aws_api_gateway_resource" "route" {
  for_each = local.routes

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = each.value.path
}

resource "aws_api_gateway_method" "route" {
  for_each = local.routes

  rest_api_id   = aws_api_gateway_rest_api.this.id
  resource_id   = aws_api_gateway_resource.route[each.key].id
  http_method   = "POST"
  authorization = local.cognito ? "COGNITO_USER_POOLS" : "AWS_IAM"
  authorizer_id = local.cognito ? aws_api_gateway_authorizer.cognito[0].id : null

  request_validator_id = aws_api_gateway_request_validator.body.id
  request_models = {
    "application/json" = aws_api_gateway_model.this[each.value.model].name
  }
}

resource "aws_api_gateway_integration" "kinesis" {
  for_each = local.routes

  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.route[each.key].id
  http_method             = aws_api_gateway_method.route[each.key].http_method
  type                    = "AWS"
  integration_http_method = "POST"
  uri                     = "arn:${local.partition}:apigateway:${local.region}:kinesis:action/${each.value.action}"
  credentials             = aws_iam_role.integration.arn

  # Only application/json bodies (validated against the model) are mapped;
  # anything else is rejected with 415 instead of being passed to Kinesis.
  passthrough_behavior = "NEVER"
  request_parameters = {
    "integration.request.header.Content-Type" = "'application/x-amz-json-1.1'"
  }
  request_templates = {
    "application/json" = templatefile("${path.module}/templates/${each.value.request_template}", {
      stream_name = var.stream_name
    })
  }
}

resource "aws_api_gateway_method_response" "route" {
  for_each = local.route_method_responses

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = aws_api_gateway_resource.route[each.value.route].id
  http_method = aws_api_gateway_method.route[each.value.route].http_method
  status_code = each.value.status
  response_models = {
    "application/json" = "Empty"
  }
}

resource "aws_api_gateway_integration_response" "kinesis" {
  for_each = local.route_integration_responses

  rest_api_id       = aws_api_gateway_rest_api.this.id
  resource_id       = aws_api_gateway_resource.route[each.value.route].id
  http_method       = aws_api_gateway_method.route[each.value.route].http_method
  status_code       = aws_api_gateway_method_response.route["${each.value.route}:${each.value.status}"].status_code
  selection_pattern = each.value.selection_pattern
  response_templates = {
    "application/json" = file("${path.module}/templates/${each.value.template}")
  }

  depends_on = [aws_api_gateway_integration.kinesis]
}
