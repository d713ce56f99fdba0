//! Lambda function firehose-transform (work in progress).
