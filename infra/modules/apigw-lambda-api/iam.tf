################################################################################
# Account-wide CloudWatch role for API Gateway logging (optional), as apigw-kinesis-proxy does
################################################################################

resource "aws_iam_role" "cloudwatch" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  name        = "${var.name}-apigw-cloudwatch"
  description = "API Gateway account role: writes access and execution logs in ${data.aws_region.current.name}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ApiGatewayAssumeRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "apigateway.amazonaws.com" }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "cloudwatch" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  name = "${var.name}-apigw-cloudwatch"
  role = aws_iam_role.cloudwatch[0].id
  # The role serves every API of the account in this region, so it is scoped to the region's log
  # groups (the actions of AmazonAPIGatewayPushToCloudWatchLogs).
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "ApiGatewayLogging"
      Effect = "Allow"
      Action = [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
      ]
      Resource = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:*"]
    }]
  })
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  # The account setting is a singleton: destroy only forgets it (hashicorp/aws 5.x behaviour;
  # reset_on_delete is deprecated, and the emulator never finishes a reset).
  cloudwatch_role_arn = aws_iam_role.cloudwatch[0].arn

  depends_on = [aws_iam_role_policy.cloudwatch]
}
