//! The KPL aggregation protobuf (proto2), written out by hand for prost (no protoc needed).
//!
//! ```proto
//! syntax = "proto2";
//! message AggregatedRecord {
//!   repeated string partition_key_table     = 1;
//!   repeated string explicit_hash_key_table = 2;
//!   repeated Record records                 = 3;
//! }
//! message Record {
//!   required uint64 partition_key_index     = 1;
//!   optional uint64 explicit_hash_key_index = 2;
//!   required bytes  data                    = 3;
//!   repeated Tag    tags                    = 4;
//! }
//! message Tag {
//!   required string key   = 1;
//!   optional string value = 2;
//! }
//! ```
//!
//! The `required` fields are declared `optional` here: both encode identically on the wire
//! (a `required` field is simply always present), and `Option` lets the decoder tell a missing
//! required field from a zero, which prost's `required` support cannot. The deaggregator checks
//! their presence; the aggregator always sets them.

/// `AggregatedRecord`: the key tables and the records.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct AggregatedRecord {
    /// Distinct partition keys, indexed by `Record::partition_key_index`.
    #[prost(string, repeated, tag = "1")]
    pub(crate) partition_key_table: Vec<String>,
    /// Distinct explicit hash keys, indexed by `Record::explicit_hash_key_index`.
    #[prost(string, repeated, tag = "2")]
    pub(crate) explicit_hash_key_table: Vec<String>,
    /// The user records, in order.
    #[prost(message, repeated, tag = "3")]
    pub(crate) records: Vec<Record>,
}

/// `Record`: one user record.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Record {
    /// Required on the wire.
    #[prost(uint64, optional, tag = "1")]
    pub(crate) partition_key_index: Option<u64>,
    #[prost(uint64, optional, tag = "2")]
    pub(crate) explicit_hash_key_index: Option<u64>,
    /// Required on the wire.
    #[prost(bytes = "bytes", optional, tag = "3")]
    pub(crate) data: Option<bytes::Bytes>,
    #[prost(message, repeated, tag = "4")]
    pub(crate) tags: Vec<Tag>,
}

/// `Tag`: a key and an optional value.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Tag {
    /// Required on the wire.
    #[prost(string, optional, tag = "1")]
    pub(crate) key: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub(crate) value: Option<String>,
}
