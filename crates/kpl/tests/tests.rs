//! Integration tests of kstream-kpl, one binary with a module per topic.

mod aggregator;
mod deaggregate;
mod hash;
mod interop;
mod md5x;
mod support;
