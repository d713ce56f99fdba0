//! Integration tests of kstream-local-lambda: the Runtime API host with the real test function
//! binary (`kstream-test-fn`), and (with the emulator) tumbling windows, enhanced fan-out and a
//! refused on-failure destination.

mod on_failure;
mod runtime_host;
mod windows;
