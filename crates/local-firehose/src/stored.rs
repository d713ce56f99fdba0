//! An object as the delivery writes it, kept in memory by
//! [`FirehoseDelivery::deliver_records`](crate::FirehoseDelivery::deliver_records).

/// One object the delivery wrote: where, with which `Content-Encoding`, and its bytes as they
/// would be stored in S3 (compressed as configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// The bucket.
    pub bucket: String,
    /// The key: `<evaluated prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>`.
    pub key: String,
    /// `Content-Encoding` (`gzip`, ...), when compressed.
    pub content_encoding: Option<String>,
    /// The body as written.
    pub body: Vec<u8>,
}
