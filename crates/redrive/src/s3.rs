//! The S3 sink: one JSON-lines object per range, its key derived from the range.

use kstream_local_lambda::mapping::event::StreamRecord;

use crate::aws::Objects;
use crate::error::{Error, Result};
use crate::message::BatchInfo;
use crate::records::{line, user_records};
use crate::sink::{Handled, Sink};

/// An S3 location: a bucket and a key prefix (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Prefix {
    /// The bucket.
    pub bucket: String,
    /// The key prefix (`""`: the bucket's root).
    pub prefix: String,
}

impl S3Prefix {
    /// Parses `s3://bucket/prefix` (`s3://bucket` and `s3://bucket/` mean every object).
    ///
    /// # Errors
    /// When the text is not an `s3://` URL or its bucket is not a bucket name.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{text:?} is not an s3:// URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid {
            return Err(format!(
                "{text:?}: {bucket:?} is not a bucket name (3 to 63 lowercase letters, digits, '-' or '.')"
            ));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

impl std::fmt::Display for S3Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// The S3 key of a range: `<prefix><stream>/<shard>/<start>-<end>.jsonl` (a second run writes
/// the same object again, so nothing is duplicated).
pub fn s3_key(prefix: &S3Prefix, info: &BatchInfo) -> String {
    format!(
        "{}{}/{}/{}-{}.jsonl",
        prefix.prefix,
        info.stream_name(),
        info.shard_id,
        info.start_sequence_number,
        info.end_sequence_number
    )
}

/// Writes each range's user records as one JSON-lines object ([`crate::records::line`]) at
/// [`s3_key`].
#[derive(Debug, Clone)]
pub struct S3Sink<O> {
    client: O,
    prefix: S3Prefix,
}

impl<O: Objects> S3Sink<O> {
    /// A sink writing under `prefix` with `client` (whose region is the bucket's).
    pub fn new(client: O, prefix: S3Prefix) -> Self {
        Self { client, prefix }
    }
}

impl<O: Objects> Sink for S3Sink<O> {
    async fn handle(&mut self, info: &BatchInfo, records: &[StreamRecord]) -> Result<Handled> {
        let lines = user_records(records)
            .map(|(r, sub)| line(info, r, &sub).1)
            .collect::<Vec<_>>();
        let key = s3_key(&self.prefix, info);
        let mut body = lines.join("\n");
        body.push('\n');
        self.client
            .put_object(
                &self.prefix.bucket,
                &key,
                "application/x-ndjson",
                body.into_bytes().into(),
            )
            .await
            .map_err(|e| {
                Error::aws(
                    format!("cannot write s3://{}/{key}", self.prefix.bucket),
                    &e,
                )
            })?;
        Ok(Handled {
            records: lines.len() as u64,
            already: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::tests::info;

    #[test]
    fn s3_keys_derive_from_the_range() {
        let prefix = S3Prefix::parse("s3://bucket/redrive/").unwrap();
        assert_eq!(
            s3_key(&prefix, &info()),
            "redrive/s/shardId-000000000000/1-2.jsonl"
        );
    }

    #[test]
    fn s3_prefixes_parse() {
        assert_eq!(
            S3Prefix::parse("s3://bucket").unwrap(),
            S3Prefix {
                bucket: "bucket".into(),
                prefix: String::new()
            }
        );
        assert!(S3Prefix::parse("s3://B/").is_err());
        assert!(S3Prefix::parse("bucket/x").is_err());
    }
}
