################################################################################
# Database
################################################################################

output "database_name" {
  description = "Name of the Glue database."
  value       = aws_glue_catalog_table.this.database_name
}

output "database_arn" {
  description = "ARN of the Glue database (built from the name, known at plan time)."
  value       = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:database/${aws_glue_catalog_table.this.database_name}"
}

output "catalog_arn" {
  description = "ARN of the account's Glue Data Catalog."
  value       = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:catalog"
}

################################################################################
# Table
################################################################################

output "table_name" {
  description = "Name of the Glue table."
  value       = aws_glue_catalog_table.this.name
}

output "table_arn" {
  description = "ARN of the Glue table (built from the names, known at plan time)."
  value       = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:table/${aws_glue_catalog_table.this.database_name}/${aws_glue_catalog_table.this.name}"
}

output "location" {
  description = "S3 location of the table (s3://<bucket>/<location_prefix>)."
  value       = local.location
}

output "storage_location_template" {
  description = "Partition projection location template (s3://<bucket>/<prefix><key>=$${<key>}/...)."
  value       = local.location_template
}
