//! Integration tests of kstream-local-lambda: the Runtime API host with the real test function
//! binary (`kstream-test-fn`), and (with the emulator) tumbling windows and enhanced fan-out.

mod runtime_host;
mod windows;
