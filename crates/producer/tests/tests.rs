//! Integration tests of the producer: against a fault-injecting local endpoint (plain
//! `cargo test`) and against the emulator (`#[ignore]`d; run by scripts/test-e2e.sh).

#[path = "support/fake_kinesis.rs"]
mod fake_kinesis;

mod common;
mod emulator;
mod fault;
