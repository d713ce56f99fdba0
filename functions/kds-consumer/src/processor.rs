//! The per-record processing step, and the one kstream ships.

use std::future::Future;

use kstream_pipeline::DecodeError;
use kstream_pipeline::config::Env;
use kstream_pipeline::decode::check_json;
use serde_json::Value;

use crate::error::ProcessError;

/// Environment variable naming fields every record must have (comma-separated).
pub const REQUIRED_FIELDS_ENV: &str = "REQUIRED_FIELDS";

/// The field that marks a poison record (see [`ValidatingProcessor`]).
pub const POISON_FIELD: &str = "poison";

/// One user record as the processor sees it: a plain Kinesis record, or one sub-record
/// of a KPL aggregate, already checked to be one UTF-8 JSON document.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct UserRecord<'a> {
    /// Sequence number of the Kinesis record that carried this user record.
    pub sequence_number: &'a str,
    /// Index inside the KPL aggregate; `None` for a plain (not aggregated) record.
    pub sub_sequence_number: Option<u64>,
    /// The user record's partition key (from the aggregate's table for sub-records).
    pub partition_key: &'a str,
    /// The explicit hash key from the aggregate's table, if any.
    pub explicit_hash_key: Option<&'a str>,
    /// When Kinesis accepted the outer record, seconds since the epoch.
    pub approximate_arrival_timestamp: Option<f64>,
    /// The raw bytes of the user record.
    pub data: &'a [u8],
    /// The same bytes as text: one JSON document (the consumer checked it).
    pub text: &'a str,
    /// The decoded JSON; `Value::Null` for a processor whose
    /// [`JSON_VALUE`](RecordProcessor::JSON_VALUE) is `false` (it reads [`text`](Self::text)).
    pub json: &'a Value,
}

impl<'a> UserRecord<'a> {
    /// A plain (not aggregated) user record, for unit tests of a processor; the other
    /// fields are `None` until set.
    pub fn new(
        sequence_number: &'a str,
        partition_key: &'a str,
        text: &'a str,
        json: &'a Value,
    ) -> Self {
        Self {
            sequence_number,
            sub_sequence_number: None,
            partition_key,
            explicit_hash_key: None,
            approximate_arrival_timestamp: None,
            data: text.as_bytes(),
            text,
            json,
        }
    }
}

/// Business logic applied to every user record, in batch order.
///
/// Replace [`ValidatingProcessor`] with your own implementation and build the
/// consumer with [`ConsumerBuilder::processor`](crate::ConsumerBuilder::processor).
/// Return an error to fail the record: its Kinesis record is reported in
/// `batchItemFailures`, and Lambda retries from the lowest failed sequence number.
/// Processing must therefore be idempotent: records after a failed one are delivered
/// again.
///
/// Implementations may be written with `async fn`:
///
/// ```
/// use kds_consumer::{ProcessError, RecordProcessor, UserRecord};
///
/// struct OnlyAmazon;
///
/// impl RecordProcessor for OnlyAmazon {
///     async fn process(&self, record: &UserRecord<'_>) -> Result<(), ProcessError> {
///         match record.json.get("ticker").and_then(|t| t.as_str()) {
///             Some("AMZN") => Ok(()),
///             other => Err(ProcessError::other(format!("unexpected ticker {other:?}"))),
///         }
///     }
/// }
/// ```
pub trait RecordProcessor: Send + Sync {
    /// Whether [`process`](Self::process) may emit tracing events (logs); `true` unless the
    /// implementation says otherwise. With `false`, and no debug or trace level enabled, the
    /// consumer makes a record's span (`sequence_number`, `partition_key`, `shard_id`) only
    /// when the record fails, for the warning it logs in it: the same log lines, at a fraction
    /// of the cost. With `true`, every record is processed in its span, so that the events
    /// `process` emits carry those fields.
    const LOGS: bool = true;

    /// Whether the consumer builds a `serde_json::Value` of every user record for
    /// [`UserRecord::json`]; `true` unless the implementation says otherwise. A processor that
    /// reads only [`UserRecord::text`] sets it to `false`: the consumer then checks that the
    /// text is one JSON document (the same decode errors) without building the tree, the
    /// largest part of a small record's cost (bench/kds-consumer), and `json` is `Value::Null`.
    const JSON_VALUE: bool = true;

    /// For a processor that reads the text ([`JSON_VALUE`](Self::JSON_VALUE) `false`): checks
    /// that `bytes` are one UTF-8 JSON document, as `kstream_pipeline::decode::check_json` does
    /// (the same errors), and returns the text. A processor whose verdict needs nothing but a
    /// walk over the text may read it in the same walk and return it too (`Some`): the consumer
    /// then reports that verdict as [`process`](Self::process)'s, without calling it (so the
    /// two must agree). By default, `check_json` and `None`.
    ///
    /// # Errors
    /// `check_json`'s [`DecodeError`]: the record fails to decode.
    fn check_text<'t>(&self, bytes: &'t [u8]) -> Result<TextCheck<'t>, DecodeError> {
        Ok((check_json(bytes)?, None))
    }

    /// Processes one user record.
    ///
    /// # Errors
    /// A [`ProcessError`] fails the record (a batch item failure), never the invocation.
    fn process(
        &self,
        record: &UserRecord<'_>,
    ) -> impl Future<Output = Result<(), ProcessError>> + Send;
}

/// What [`RecordProcessor::check_text`] returns: the record's text, and the processor's
/// verdict when the check read it.
pub type TextCheck<'t> = (&'t str, Option<Result<(), ProcessError>>);

/// The processing step kstream ships, a small validation that real pipelines extend:
///
/// 1. the record must be a JSON object, else [`ProcessError::NotAnObject`];
/// 2. every field named in `REQUIRED_FIELDS` (comma-separated top-level names, blanks
///    ignored; none by default) must be present and not `null`, else
///    [`ProcessError::MissingField`];
/// 3. **poison-record convention**: a record with `"poison": true` (the JSON boolean)
///    fails with [`ProcessError::Poison`]. It is deterministic, so tests, the local data
///    plane and `make demo` use it to drive the failure path (batch item failures,
///    retries, bisect, on-failure destination). `"poison": false`, `"poison": "true"`
///    or no `poison` field are ordinary records.
///
/// Valid records are counted by the handler and logged at `trace` level with their payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidatingProcessor {
    required_fields: Vec<String>,
}

impl ValidatingProcessor {
    /// A processor requiring `fields` (empty names are ignored).
    pub fn new<I, S>(fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            required_fields: fields
                .into_iter()
                .map(Into::into)
                .map(|f: String| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect(),
        }
    }

    /// A processor configured from `REQUIRED_FIELDS` (unset or empty: no required fields).
    pub fn from_env() -> Self {
        Self::from_env_with(&Env::process())
    }

    /// As [`from_env`](Self::from_env), reading `REQUIRED_FIELDS` from `env`.
    pub fn from_env_with(env: &Env<'_>) -> Self {
        Self::new(env.list(REQUIRED_FIELDS_ENV))
    }

    /// The required fields.
    pub fn required_fields(&self) -> &[String] {
        &self.required_fields
    }

    /// The check behind [`RecordProcessor::process`], on the record's JSON text (one JSON
    /// document): the same verdict as [`validate`](Self::validate) on its `Value`, without
    /// building one (`top_level.rs`).
    ///
    /// # Errors
    /// As described on the type.
    pub fn validate_text(&self, text: &str) -> Result<(), ProcessError> {
        crate::top_level::check(text, &self.required_fields)
    }

    /// The same check on a decoded `Value`.
    ///
    /// # Errors
    /// As described on the type.
    pub fn validate(&self, json: &Value) -> Result<(), ProcessError> {
        let Value::Object(object) = json else {
            return Err(ProcessError::NotAnObject {
                found: kstream_pipeline::decode::json_type_name(json),
            });
        };
        if object.get(POISON_FIELD) == Some(&Value::Bool(true)) {
            return Err(ProcessError::Poison);
        }
        for field in &self.required_fields {
            if object.get(field).is_none_or(Value::is_null) {
                return Err(ProcessError::MissingField {
                    field: field.clone(),
                });
            }
        }
        Ok(())
    }
}

impl RecordProcessor for ValidatingProcessor {
    /// `validate_text` emits no event: a failure is logged by the consumer, in the record's span.
    const LOGS: bool = false;
    /// `validate_text` reads the text: no `Value` is built.
    const JSON_VALUE: bool = false;

    /// `check_json` and [`validate_text`](Self::validate_text) in one walk over the text
    /// (`top_level.rs`): the same errors and the same verdict, the text read once.
    fn check_text<'t>(&self, bytes: &'t [u8]) -> Result<TextCheck<'t>, DecodeError> {
        let (text, verdict) = crate::top_level::check_document(bytes, &self.required_fields)?;
        Ok((text, Some(verdict)))
    }

    async fn process(&self, record: &UserRecord<'_>) -> Result<(), ProcessError> {
        self.validate_text(record.text)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn validation_rules() {
        let p = ValidatingProcessor::new([" id ", "", "ts"]);
        assert_eq!(p.required_fields(), ["id", "ts"]);
        assert!(p.validate(&json!({"id": 1, "ts": "x"})).is_ok());
        assert!(matches!(
            p.validate(&json!({"id": 1})),
            Err(ProcessError::MissingField { field }) if field == "ts"
        ));
        assert!(matches!(
            p.validate(&json!({"id": 1, "ts": null})),
            Err(ProcessError::MissingField { .. })
        ));
        assert!(matches!(
            p.validate(&json!([1])),
            Err(ProcessError::NotAnObject { found: "array" })
        ));
        assert!(matches!(
            p.validate(&json!({"id": 1, "ts": 2, "poison": true})),
            Err(ProcessError::Poison)
        ));
        for not_poison in [json!(false), json!("true"), json!(1)] {
            assert!(
                p.validate(&json!({"id": 1, "ts": 2, "poison": not_poison}))
                    .is_ok()
            );
        }
    }
}
