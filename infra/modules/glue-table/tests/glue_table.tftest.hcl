mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  name_prefix = "kstream-p3"
  bucket_name = "kstream-p3-123456789012-us-east-1"
  columns = [
    { name = "ticker", type = "string" },
    { name = "price", type = "double", comment = "last trade price" },
  ]
}

run "json_table_with_hourly_projection" {
  command = plan

  assert {
    condition     = aws_glue_catalog_database.this[0].name == "kstream_p3"
    error_message = "the database name is the prefix with - turned into _"
  }
  assert {
    condition     = aws_glue_catalog_table.this.table_type == "EXTERNAL_TABLE" && aws_glue_catalog_table.this.name == "records"
    error_message = "an external table named records"
  }
  assert {
    condition     = aws_glue_catalog_table.this.storage_descriptor[0].location == "s3://kstream-p3-123456789012-us-east-1/data/"
    error_message = "the table location is the data prefix"
  }
  assert {
    condition     = aws_glue_catalog_table.this.storage_descriptor[0].ser_de_info[0].serialization_library == "org.openx.data.jsonserde.JsonSerDe"
    error_message = "JSON uses the OpenX JSON SerDe"
  }
  assert {
    condition     = aws_glue_catalog_table.this.storage_descriptor[0].input_format == "org.apache.hadoop.mapred.TextInputFormat"
    error_message = "JSON uses the text input format"
  }
  assert {
    condition     = aws_glue_catalog_table.this.parameters["projection.enabled"] == "true"
    error_message = "partition projection must be on"
  }
  assert {
    condition     = aws_glue_catalog_table.this.parameters["storage.location.template"] == "s3://kstream-p3-123456789012-us-east-1/data/year=$${year}/month=$${month}/day=$${day}/hour=$${hour}/"
    error_message = "the location template must match the Firehose Hive-style data prefix"
  }
  assert {
    condition = alltrue([
      aws_glue_catalog_table.this.parameters["projection.year.type"] == "integer",
      aws_glue_catalog_table.this.parameters["projection.month.range"] == "1,12",
      aws_glue_catalog_table.this.parameters["projection.month.digits"] == "2",
      aws_glue_catalog_table.this.parameters["projection.day.range"] == "1,31",
      aws_glue_catalog_table.this.parameters["projection.hour.range"] == "0,23",
      aws_glue_catalog_table.this.parameters["projection.hour.digits"] == "2",
    ])
    error_message = "year/month/day/hour integer projections with two-digit month, day and hour"
  }
  assert {
    condition     = [for k in aws_glue_catalog_table.this.partition_keys : k.name] == ["year", "month", "day", "hour"]
    error_message = "partition keys in folder order"
  }
  assert {
    condition     = [for c in aws_glue_catalog_table.this.storage_descriptor[0].columns : "${c.name}:${c.type}"] == ["ticker:string", "price:double"]
    error_message = "columns come from the variable, in order"
  }
}

run "parquet_and_dynamic_partition_key" {
  command = plan

  variables {
    format          = "parquet"
    location_prefix = "tickers/"
    columns         = [{ name = "price", type = "double" }]
    partition_keys = [
      { name = "ticker", projection = { type = "injected" } },
      { name = "dt", projection = { type = "date", range = "2024-01-01,NOW", format = "yyyy-MM-dd" } },
    ]
  }

  assert {
    condition     = aws_glue_catalog_table.this.storage_descriptor[0].ser_de_info[0].serialization_library == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    error_message = "parquet uses the Parquet SerDe"
  }
  assert {
    condition     = aws_glue_catalog_table.this.storage_descriptor[0].input_format == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    error_message = "parquet uses the Parquet input format"
  }
  assert {
    condition     = aws_glue_catalog_table.this.parameters["storage.location.template"] == "s3://kstream-p3-123456789012-us-east-1/tickers/ticker=$${ticker}/dt=$${dt}/"
    error_message = "the template follows the given keys"
  }
  assert {
    condition     = aws_glue_catalog_table.this.parameters["projection.ticker.type"] == "injected" && aws_glue_catalog_table.this.parameters["projection.dt.format"] == "yyyy-MM-dd"
    error_message = "projection parameters are passed through"
  }
}

run "existing_database" {
  command = plan

  variables {
    create_database = false
    database_name   = "analytics"
  }

  assert {
    condition     = length(aws_glue_catalog_database.this) == 0 && aws_glue_catalog_table.this.database_name == "analytics"
    error_message = "the table goes into the given database"
  }
  assert {
    condition     = output.table_arn == "arn:aws:glue:us-east-1:123456789012:table/analytics/records"
    error_message = "the table ARN is built from the names"
  }
}

run "existing_database_needs_a_name" {
  command = plan
  variables {
    create_database = false
  }
  expect_failures = [aws_glue_catalog_table.this]
}

run "partition_key_may_not_be_a_column" {
  command = plan
  variables {
    columns = [{ name = "year", type = "int" }]
  }
  expect_failures = [aws_glue_catalog_table.this]
}

run "rejects_unknown_format" {
  command = plan
  variables {
    format = "orc"
  }
  expect_failures = [var.format]
}

run "rejects_empty_columns" {
  command = plan
  variables {
    columns = []
  }
  expect_failures = [var.columns]
}

run "rejects_bad_column_name" {
  command = plan
  variables {
    columns = [{ name = "Bad Name", type = "string" }]
  }
  expect_failures = [var.columns]
}

run "rejects_expression_in_location_prefix" {
  command = plan
  variables {
    location_prefix = "data/!{timestamp:yyyy}/"
  }
  expect_failures = [var.location_prefix]
}

run "rejects_unknown_projection_type" {
  command = plan
  variables {
    partition_keys = [{ name = "p", projection = { type = "range" } }]
  }
  expect_failures = [var.partition_keys]
}
