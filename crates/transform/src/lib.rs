//! kstream transform: records through Handlebars templates, compiled once per cold start.
//!
//! The engine behind the Firehose processor (`functions/firehose-transform`) and
//! `kstream put --partition-key-template`. Templates are checked when they are added
//! (malformed templates, unknown helpers, JSON that can never be valid) and rendered in
//! strict mode, with values encoded for their JSON context and never HTML-escaped.
//!
//! # Layout
//! - [`template`]: [`Templates`], named Handlebars templates sharing one registry; values
//!   encoded for their place in JSON output, a fast path for plain templates, the
//!   `format_date` helper.
//! - [`raw`]: records read as borrowed JSON text (the fast path of plain templates).
//! - [`flatten`]: nested JSON to `a.b.c` keys.
//! - [`transform`]: [`Transform`], the Firehose record transform (decode, flatten,
//!   filter, template, validate, delimit, partition keys), configured by a builder or the
//!   environment.
//! - [`budget`]: the per-record limits (output bytes, keys, depth, iterations,
//!   partition-key values) and where each number comes from.
//! - [`error`]: [`TemplateError`] and [`ConfigError`] (found when building),
//!   [`TransformError`] (one record failed).
//!
//! Decoding and its [`DecodeError`](kstream_pipeline::DecodeError) come from
//! `kstream-pipeline`, shared with the other functions.
//!
//! # Example
//! ```
//! use kstream_transform::{OutputFormat, Templates, Transform};
//! use serde_json::json;
//!
//! let transform = Transform::builder()
//!     .template(r#"{"t": {{ticker}}, "p": {{price}}}"#)
//!     .partition_key("ticker", "{{ticker}}")
//!     .build()
//!     .unwrap();
//! let out = transform.apply(br#"{"ticker":"AMZN","price":12.5}"#).unwrap().unwrap();
//! assert_eq!(out.data, b"{\"t\":\"AMZN\",\"p\":12.5}\n");
//! assert_eq!(out.partition_keys, [("ticker".to_owned(), "AMZN".to_owned())]);
//!
//! let mut templates = Templates::new();
//! templates.add("key", "{{region}}-{{customer.id}}", OutputFormat::Text).unwrap();
//! let key = templates.render("key", &json!({"region": "eu", "customer": {"id": 7}})).unwrap();
//! assert_eq!(key, "eu-7");
//! ```

pub mod budget;
pub mod error;
pub mod flatten;
pub mod raw;
pub mod template;
pub mod transform;

pub use error::{ConfigError, TemplateError, TransformError};
pub use template::{OutputFormat, Templates};
pub use transform::{Transform, TransformBuilder, Transformed};
