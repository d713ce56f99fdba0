//! Integration tests of kstream-local-lambda: the Runtime API host with the real test function
//! binary (`kstream-test-fn`), Lambda's Invoke API served for it, and (with the emulator) tumbling windows, enhanced fan-out and a
//! refused on-failure destination.

mod invoke_api;
mod on_failure;
mod runtime_host;
mod windows;
