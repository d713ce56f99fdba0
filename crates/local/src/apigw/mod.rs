//! apigw (work in progress).
