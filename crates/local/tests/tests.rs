//! Integration tests of kstream-local: the data plane with the real test function binary and
//! (with the emulator, `#[ignore]`d here and run by scripts/test-e2e.sh) the event source
//! mappings and schedules it runs.

mod mappings;
mod schedules;
