//! Integration tests of the producer: against a fault-injecting local endpoint (plain
//! `cargo test`) and against the emulator (`#[ignore]`d; run by scripts/test-e2e.sh).

#[cfg(feature = "cloudwatch")]
#[path = "support/fake_cloudwatch.rs"]
mod fake_cloudwatch;
#[path = "support/fake_kinesis.rs"]
mod fake_kinesis;

mod common;
mod emulator;
mod fault;
