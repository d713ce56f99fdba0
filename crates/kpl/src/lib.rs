//! kstream kpl (work in progress).
