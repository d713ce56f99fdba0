//! Integration tests of kstream-local: the Runtime API host with real function binaries, and
//! (with the emulator, `#[ignore]`d here and run by scripts/test-e2e.sh) the event source mappings.

mod apigw_emulator;
mod apigw_lambda;
mod common;
mod firehose_emulator;
mod firehose_formats;
mod mappings;
mod runtime_host;
