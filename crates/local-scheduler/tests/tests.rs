//! Integration tests of kstream-local-scheduler on the emulator (moto), `#[ignore]`d here and run
//! by scripts/test-e2e.sh: schedules created with the SDK, read back by `deployed::load`, fired
//! at the real test function binary and at the real scheduled-producer binary.

mod fire;
