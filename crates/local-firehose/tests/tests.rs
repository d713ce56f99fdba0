//! Integration tests of kstream-local-firehose, with the emulator (`#[ignore]`d here and run by
//! scripts/test-e2e.sh): delivery with the real `firehose-transform` binary, and the object
//! formats (ZIP, Snappy, HADOOP_SNAPPY, Parquet through a Glue table).

mod firehose_emulator;
mod firehose_formats;
