//! Shared helpers of the integration tests.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

/// The test function's binary, built by cargo with the tests.
pub fn test_fn() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kstream-test-fn"))
}
