//! Lambda function kds-consumer (work in progress).
