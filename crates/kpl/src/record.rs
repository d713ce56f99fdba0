//! User records: what callers put in and get out.

use bytes::Bytes;

use crate::error::Error;
use crate::hash;

/// Longest partition key Kinesis accepts, in Unicode characters.
pub const MAX_PARTITION_KEY_CHARS: usize = 256;

/// A user record: the unit a producer puts and a consumer gets back after deaggregation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Partition key (1 to 256 Unicode characters); decides the shard unless an explicit hash key
    /// is given.
    pub partition_key: String,
    /// Explicit hash key: a decimal integer in `0..=2^128-1` that overrides the partition key's
    /// hash for shard selection.
    pub explicit_hash_key: Option<String>,
    /// The payload.
    pub data: Bytes,
    /// Tags carried inside aggregates (the KPL itself never sets them; kept on decode).
    pub tags: Vec<Tag>,
}

/// A tag of a user record inside an aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag {
    /// Tag key.
    pub key: String,
    /// Optional tag value.
    pub value: Option<String>,
}

impl UserRecord {
    /// A record with a partition key and data, no explicit hash key and no tags.
    pub fn new(partition_key: impl Into<String>, data: impl Into<Bytes>) -> Self {
        Self {
            partition_key: partition_key.into(),
            explicit_hash_key: None,
            data: data.into(),
            tags: Vec::new(),
        }
    }

    /// Sets the explicit hash key (decimal).
    #[must_use]
    pub fn with_explicit_hash_key(mut self, explicit_hash_key: impl Into<String>) -> Self {
        self.explicit_hash_key = Some(explicit_hash_key.into());
        self
    }

    /// Adds a tag.
    #[must_use]
    pub fn with_tag(mut self, key: impl Into<String>, value: Option<String>) -> Self {
        self.tags.push(Tag {
            key: key.into(),
            value,
        });
        self
    }

    /// The hash key that places this record on a shard: the explicit hash key if set, else the
    /// MD5 of the partition key read as a big-endian integer.
    ///
    /// # Errors
    /// [`Error::InvalidHashKey`] if the explicit hash key is not a decimal in `0..=2^128-1`.
    pub fn hash_key(&self) -> Result<u128, Error> {
        hash::effective_hash_key(&self.partition_key, self.explicit_hash_key.as_deref())
    }

    /// Checks the partition key length and the explicit hash key, as Kinesis would.
    ///
    /// # Errors
    /// [`Error::InvalidPartitionKey`] or [`Error::InvalidHashKey`].
    pub fn validate(&self) -> Result<(), Error> {
        validate_partition_key(&self.partition_key)?;
        if let Some(ehk) = &self.explicit_hash_key {
            hash::parse_hash_key(ehk)?;
        }
        Ok(())
    }
}

/// Checks that a partition key has 1 to 256 Unicode characters.
///
/// # Errors
/// [`Error::InvalidPartitionKey`] otherwise.
pub fn validate_partition_key(partition_key: &str) -> Result<(), Error> {
    // Fast path: 256 bytes are at most 256 characters.
    if !partition_key.is_empty() && partition_key.len() <= MAX_PARTITION_KEY_CHARS {
        return Ok(());
    }
    let chars = partition_key.chars().count();
    if chars == 0 || chars > MAX_PARTITION_KEY_CHARS {
        return Err(Error::InvalidPartitionKey { chars });
    }
    Ok(())
}
