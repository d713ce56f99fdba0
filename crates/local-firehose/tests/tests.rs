//! Integration tests of kstream-local-firehose, with the emulator (`#[ignore]`d here and run by
//! scripts/test-e2e.sh): delivery with the real `firehose-transform` binary, and the object
//! formats (ZIP, Snappy, HADOOP_SNAPPY, Parquet through a Glue table), and delivery through an
//! emulator outage.

mod firehose_emulator;
mod firehose_formats;
mod firehose_outage;
