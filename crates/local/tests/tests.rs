//! Integration tests of kstream-local: the data plane with the real test function binary and
//! (with the emulator, `#[ignore]`d here and run by scripts/test-e2e.sh) the event source
//! mappings and schedules it runs, and pattern 4's fare API behind the REST API executor.

mod fare_api;
mod mappings;
mod schedules;
