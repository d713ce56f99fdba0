//! firehose (work in progress).
