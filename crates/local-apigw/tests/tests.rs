//! Integration tests of kstream-local-apigw: the executor with the real test function binary
//! through the Runtime API host, and (with the emulator, `#[ignore]`d here and run by
//! scripts/test-e2e.sh) the deployed APIs read from the emulator.

mod apigw_emulator;
mod apigw_lambda;
