//! Integration tests of kstream-local-lambda: the Runtime API host with the real test function
//! binary (`kstream-test-fn`).

mod runtime_host;
