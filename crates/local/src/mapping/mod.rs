//! mapping (work in progress).
