//! kstream pipeline: the record pieces the functions share (work in progress).
