//! kstream producer (work in progress).
