################################################################################
# Database
################################################################################

variable "name_prefix" {
  description = "Prefix of the Glue database name: <name_prefix> with '-' replaced by '_' (Athena names allow only lowercase letters, digits and '_'). 1 to 200 characters: lowercase letters, digits, '-' and '_'."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{0,199}$", var.name_prefix))
    error_message = "name_prefix must be 1 to 200 characters of lowercase letters, digits, '-' and '_', starting with a letter or digit."
  }
}

variable "create_database" {
  description = "Whether the module creates the Glue database. Default true; set false to add the table to an existing database named database_name."
  type        = bool
  default     = true

  validation {
    condition     = var.create_database != null
    error_message = "create_database must be true or false, not null."
  }
}

variable "database_name" {
  description = "Name of the Glue database. Default null: <name_prefix> with '-' replaced by '_'. Required when create_database is false. 1 to 255 characters: lowercase letters, digits and '_'."
  type        = string
  default     = null

  validation {
    condition     = var.database_name == null || can(regex("^[a-z0-9_]{1,255}$", var.database_name))
    error_message = "database_name must be null or 1 to 255 characters of lowercase letters, digits and '_'."
  }
}

################################################################################
# Table
################################################################################

variable "table_name" {
  description = "Name of the Glue table. Default \"records\". 1 to 255 characters: lowercase letters, digits and '_'."
  type        = string
  default     = "records"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.table_name))
    error_message = "table_name must be 1 to 255 characters of lowercase letters, digits and '_'."
  }
}

variable "bucket_name" {
  description = "Name of the S3 bucket that holds the data (3 to 63 characters)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3 to 63 characters of lowercase letters, digits, '.' and '-')."
  }
}

variable "location_prefix" {
  description = "Key prefix of the data in the bucket, before the partition folders: the static start of the Firehose data prefix. Default \"data/\". 0 to 512 characters; empty or ending with /; no Firehose expressions (!{...})."
  type        = string
  default     = "data/"

  validation {
    condition     = length(var.location_prefix) <= 512 && (var.location_prefix == "" || endswith(var.location_prefix, "/")) && !strcontains(var.location_prefix, "!{")
    error_message = "location_prefix must be at most 512 characters, empty or ending with /, and hold no !{...} expressions."
  }
}

variable "columns" {
  description = "Columns of the records, in order: name (lowercase letters, digits, '_') and Hive/Athena type (string, bigint, double, boolean, timestamp, struct<...>, array<...>, ...), with an optional comment. 1 to 1000 columns."
  type = list(object({
    name    = string
    type    = string
    comment = optional(string, "")
  }))

  validation {
    condition     = length(var.columns) >= 1 && length(var.columns) <= 1000 && alltrue([for c in var.columns : can(regex("^[a-z0-9_]{1,255}$", c.name)) && length(c.type) > 0])
    error_message = "columns must hold 1 to 1000 columns, each with a name of lowercase letters, digits and '_' and a non-empty type."
  }
}

variable "partition_keys" {
  description = "Partition columns in the order of the folders under location_prefix (each folder is <name>=<value>/, as in the Firehose Hive-style prefix), with their partition projection settings (Athena projection.<name>.* properties without the prefix, e.g. { type = \"integer\", range = \"1,12\", digits = \"2\" }). Default: year/month/day/hour integer projections matching data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/. 1 to 10 keys."
  type = list(object({
    name       = string
    type       = optional(string, "string")
    projection = map(string)
  }))
  default = [
    { name = "year", projection = { type = "integer", range = "2024,2099" } },
    { name = "month", projection = { type = "integer", range = "1,12", digits = "2" } },
    { name = "day", projection = { type = "integer", range = "1,31", digits = "2" } },
    { name = "hour", projection = { type = "integer", range = "0,23", digits = "2" } },
  ]
  # null (a caller passing its own optional setting through) means the default.
  nullable = false

  validation {
    condition     = length(var.partition_keys) >= 1 && length(var.partition_keys) <= 10 && alltrue([for k in var.partition_keys : can(regex("^[a-z0-9_]{1,255}$", k.name)) && contains(["integer", "enum", "date", "injected"], lookup(k.projection, "type", ""))])
    error_message = "partition_keys must hold 1 to 10 keys, each named with lowercase letters, digits and '_' and with a projection type of integer, enum, date or injected."
  }
}

variable "format" {
  description = "Storage format of the objects: \"json\" (newline-delimited JSON read with the OpenX JSON SerDe; GZIP objects are read transparently) or \"parquet\" (Firehose record format conversion). Default \"json\"."
  type        = string
  default     = "json"

  validation {
    condition     = contains(["json", "parquet"], var.format)
    error_message = "format must be \"json\" or \"parquet\"."
  }
}

variable "tags" {
  description = "Tags (as Glue table parameters are not tags, these apply to the database only). At most 40 entries."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 40
    error_message = "tags may hold at most 40 entries."
  }
}
