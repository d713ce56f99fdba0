//! CloudWatch embedded metric format (EMF): one JSON document per invocation.
//!
//! In Lambda, a JSON line on stdout whose `_aws` member follows the
//! [EMF specification](https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
//! becomes CloudWatch metrics with no API call and no extra latency. A function
//! collects its counters in a [`Metrics`] document during an invocation and writes
//! it once at the end with [`Metrics::write_to`] (an [`EmfSink`]); [`Stdout`] is the
//! sink Lambda needs, [`MemorySink`] captures documents in tests.
//!
//! The document written for a consumer invocation looks like this (one line):
//!
//! ```json
//! {"_aws":{"Timestamp":1732246800000,"CloudWatchMetrics":[{"Namespace":"kstream",
//!   "Dimensions":[["FunctionName"]],"Metrics":[{"Name":"Records","Unit":"Count"}]}]},
//!  "FunctionName":"p1-consumer","Records":100}
//! ```
//!
//! # Configuration ([`MetricsConfig::from_env`])
//! - namespace: `POWERTOOLS_METRICS_NAMESPACE`, else `KSTREAM_METRICS_NAMESPACE`, else `kstream`;
//! - dimension `FunctionName`: `AWS_LAMBDA_FUNCTION_NAME`, else the fallback name given;
//! - property `service` (not a dimension, so dashboards keep one metric identity):
//!   `POWERTOOLS_SERVICE_NAME` when set.
//!
//! # Example
//! ```
//! use kstream_pipeline::emf::{MemorySink, Metrics, MetricsConfig, Unit};
//!
//! let config = MetricsConfig::builder()
//!     .namespace("kstream")
//!     .dimension("FunctionName", "p1-consumer")
//!     .build();
//! let mut metrics = Metrics::new(&config);
//! metrics.add("Records", Unit::Count, 3.0);
//! metrics.add("Records", Unit::Count, 2.0); // accumulates
//! let sink = MemorySink::default();
//! metrics.write_to(&sink, 1_732_246_800_000).unwrap();
//! let doc: serde_json::Value = serde_json::from_slice(&sink.lines()[0]).unwrap();
//! assert_eq!(doc["Records"], 5);
//! assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], "kstream");
//! ```

use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Number, Value, json};

use crate::error::EmfError;

/// Default namespace when neither `POWERTOOLS_METRICS_NAMESPACE` nor
/// `KSTREAM_METRICS_NAMESPACE` is set.
pub const DEFAULT_NAMESPACE: &str = "kstream";

/// EMF allows at most 100 metrics per document.
pub const MAX_METRICS: usize = 100;

/// EMF allows at most 100 values in a metric's array of values.
pub const MAX_VALUES: usize = 100;

/// EMF allows at most 30 dimensions per dimension set.
pub const MAX_DIMENSIONS: usize = 30;

/// CloudWatch metric units used by kstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unit {
    /// `Count`.
    Count,
    /// `Bytes`.
    Bytes,
    /// `Milliseconds`.
    Milliseconds,
    /// `Seconds`.
    Seconds,
    /// `Percent`.
    Percent,
    /// `None`.
    None,
}

impl Unit {
    /// The unit's CloudWatch name.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Bytes => "Bytes",
            Unit::Milliseconds => "Milliseconds",
            Unit::Seconds => "Seconds",
            Unit::Percent => "Percent",
            Unit::None => "None",
        }
    }
}

/// Where metrics go and under which dimensions: built once per cold start.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsConfig {
    namespace: String,
    dimensions: Vec<(String, String)>,
    properties: Vec<(String, String)>,
}

impl MetricsConfig {
    /// A builder; see [`MetricsConfigBuilder`] for the defaults.
    pub fn builder() -> MetricsConfigBuilder {
        MetricsConfigBuilder::default()
    }

    /// Configuration from the Lambda environment (see the module docs);
    /// `fallback_function_name` is the `FunctionName` dimension when
    /// `AWS_LAMBDA_FUNCTION_NAME` is unset (outside Lambda).
    pub fn from_env(fallback_function_name: &str) -> Self {
        Self::from_lookup(fallback_function_name, |k| std::env::var(k).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables through `lookup` (for tests).
    pub fn from_lookup(
        fallback_function_name: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let non_empty = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let mut builder = Self::builder();
        if let Some(ns) = non_empty("POWERTOOLS_METRICS_NAMESPACE")
            .or_else(|| non_empty("KSTREAM_METRICS_NAMESPACE"))
        {
            builder = builder.namespace(ns);
        }
        let function = non_empty("AWS_LAMBDA_FUNCTION_NAME")
            .unwrap_or_else(|| fallback_function_name.to_owned());
        builder = builder.dimension("FunctionName", function);
        if let Some(service) = non_empty("POWERTOOLS_SERVICE_NAME") {
            builder = builder.property("service", service);
        }
        builder.build()
    }

    /// The CloudWatch namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The dimensions (name, value), in order; they form one dimension set.
    pub fn dimensions(&self) -> &[(String, String)] {
        &self.dimensions
    }
}

/// Builder for [`MetricsConfig`].
#[derive(Debug, Clone)]
pub struct MetricsConfigBuilder {
    namespace: String,
    dimensions: Vec<(String, String)>,
    properties: Vec<(String, String)>,
}

impl Default for MetricsConfigBuilder {
    fn default() -> Self {
        Self {
            namespace: DEFAULT_NAMESPACE.to_owned(),
            dimensions: Vec::new(),
            properties: Vec::new(),
        }
    }
}

impl MetricsConfigBuilder {
    /// The CloudWatch namespace. By default, [`DEFAULT_NAMESPACE`] (`kstream`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Adds a dimension to the (single) dimension set. By default, there are none.
    /// A repeated name replaces the earlier value.
    pub fn dimension(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        let value = value.into();
        match self.dimensions.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.dimensions.push((name, value)),
        }
        self
    }

    /// Adds a string property: written into every document, searchable in Logs
    /// Insights, not a dimension. By default, there are none.
    pub fn property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((name.into(), value.into()));
        self
    }

    /// Builds the configuration.
    pub fn build(self) -> MetricsConfig {
        MetricsConfig {
            namespace: self.namespace,
            dimensions: self.dimensions,
            properties: self.properties,
        }
    }
}

/// Where EMF documents are written: one call per document, a complete line.
pub trait EmfSink: Send + Sync {
    /// Writes one document (a JSON object followed by `\n`) in one piece.
    ///
    /// # Errors
    /// The underlying I/O error.
    fn write_document(&self, line: &[u8]) -> std::io::Result<()>;
}

/// The Lambda sink: the process's stdout, locked for the whole document so log
/// lines from other threads cannot interleave with it.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stdout;

impl EmfSink for Stdout {
    fn write_document(&self, line: &[u8]) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(line)?;
        out.flush()
    }
}

/// A sink that keeps documents in memory (tests, local tools).
#[derive(Debug, Default)]
pub struct MemorySink {
    lines: Mutex<Vec<Vec<u8>>>,
}

impl MemorySink {
    /// The documents written so far, each with its trailing newline.
    pub fn lines(&self) -> Vec<Vec<u8>> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The documents written so far, parsed.
    ///
    /// # Panics
    /// If a document is not valid JSON (it always is when written by [`Metrics`]).
    pub fn documents(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .map(|l| serde_json::from_slice(l).expect("EMF documents are JSON"))
            .collect()
    }
}

impl EmfSink for MemorySink {
    fn write_document(&self, line: &[u8]) -> std::io::Result<()> {
        self.lines
            .lock()
            .map_err(|_| std::io::Error::other("memory sink poisoned"))?
            .push(line.to_vec());
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Metric {
    name: String,
    unit: Unit,
    value: f64,
    /// Values recorded one by one ([`Metrics::sample`]), written as an array; empty for a
    /// metric that accumulates ([`Metrics::add`]).
    samples: Vec<f64>,
}

/// The metrics of one invocation: values accumulate per name until written.
#[derive(Debug, Clone)]
pub struct Metrics<'c> {
    config: &'c MetricsConfig,
    metrics: Vec<Metric>,
    properties: Map<String, Value>,
}

impl<'c> Metrics<'c> {
    /// An empty document for `config`.
    pub fn new(config: &'c MetricsConfig) -> Self {
        Self {
            config,
            metrics: Vec::new(),
            properties: Map::new(),
        }
    }

    /// Adds `value` to the metric `name` (created with `unit` on first use).
    pub fn add(&mut self, name: &str, unit: Unit, value: f64) {
        match self.metrics.iter_mut().find(|m| m.name == name) {
            Some(m) => m.value += value,
            None => self.metrics.push(Metric {
                name: name.to_owned(),
                unit,
                value,
                samples: Vec::new(),
            }),
        }
    }

    /// Records one value of the metric `name` (created with `unit` on first use): the values
    /// are written as an array, so CloudWatch keeps each one (percentiles of a latency, say)
    /// instead of their sum. More than [`MAX_VALUES`] values are spread over further documents
    /// (see [`write_to`](Self::write_to)). Do not mix with [`add`](Self::add) for one name.
    pub fn sample(&mut self, name: &str, unit: Unit, value: f64) {
        match self.metrics.iter_mut().find(|m| m.name == name) {
            Some(m) => {
                m.value += value;
                m.samples.push(value);
            }
            None => self.metrics.push(Metric {
                name: name.to_owned(),
                unit,
                value,
                samples: vec![value],
            }),
        }
    }

    /// Adds `n` to a `Count` metric.
    pub fn count(&mut self, name: &str, n: usize) {
        self.add(name, Unit::Count, n as f64);
    }

    /// Adds `n` to a `Bytes` metric.
    pub fn bytes(&mut self, name: &str, n: usize) {
        self.add(name, Unit::Bytes, n as f64);
    }

    /// The current value of metric `name`, if recorded (the sum of a sampled metric's values).
    pub fn value(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
    }

    /// Sets a property (any JSON value) written at the top level of the document,
    /// e.g. a request id to search for in Logs Insights. Not a metric, not a dimension.
    pub fn property(&mut self, name: &str, value: impl Into<Value>) {
        self.properties.insert(name.to_owned(), value.into());
    }

    /// The document as JSON, stamped with `timestamp_ms` (milliseconds since the epoch).
    ///
    /// # Errors
    /// [`EmfError::NonFinite`], [`EmfError::TooManyMetrics`], [`EmfError::TooManyDimensions`].
    pub fn to_json(&self, timestamp_ms: u64) -> Result<Value, EmfError> {
        self.document(timestamp_ms, 0)
    }

    /// How many documents [`write_to`](Self::write_to) writes: one, plus one per further
    /// [`MAX_VALUES`] values of the most sampled metric.
    fn document_count(&self) -> usize {
        let most = self
            .metrics
            .iter()
            .map(|m| m.samples.len())
            .max()
            .unwrap_or(0);
        most.div_ceil(MAX_VALUES).max(1)
    }

    /// Document `part`: the first holds every metric (and the first [`MAX_VALUES`] values of a
    /// sampled one); each further one only the next values of the sampled metrics.
    fn document(&self, timestamp_ms: u64, part: usize) -> Result<Value, EmfError> {
        if self.metrics.len() > MAX_METRICS {
            return Err(EmfError::TooManyMetrics {
                count: self.metrics.len(),
            });
        }
        if self.config.dimensions.len() > MAX_DIMENSIONS {
            return Err(EmfError::TooManyDimensions {
                count: self.config.dimensions.len(),
            });
        }
        let mut root = Map::new();
        for (k, v) in &self.config.properties {
            root.insert(k.clone(), Value::String(v.clone()));
        }
        for (k, v) in &self.properties {
            root.insert(k.clone(), v.clone());
        }
        for (k, v) in &self.config.dimensions {
            root.insert(k.clone(), Value::String(v.clone()));
        }
        let mut definitions = Vec::with_capacity(self.metrics.len());
        for m in &self.metrics {
            let value = if m.samples.is_empty() {
                if part > 0 {
                    continue;
                }
                number(&m.name, m.value)?
            } else {
                let start = part * MAX_VALUES;
                if start >= m.samples.len() {
                    continue;
                }
                let end = (start + MAX_VALUES).min(m.samples.len());
                Value::Array(
                    m.samples[start..end]
                        .iter()
                        .map(|v| number(&m.name, *v))
                        .collect::<Result<_, _>>()?,
                )
            };
            root.insert(m.name.clone(), value);
            definitions.push(json!({"Name": m.name, "Unit": m.unit.as_str()}));
        }
        let dimension_names: Vec<&str> = self
            .config
            .dimensions
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        root.insert(
            "_aws".to_owned(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.config.namespace,
                    "Dimensions": [dimension_names],
                    "Metrics": definitions,
                }],
            }),
        );
        Ok(Value::Object(root))
    }

    /// Writes the document as one line to `sink`, stamped with `timestamp_ms` (and, when a
    /// sampled metric has more than [`MAX_VALUES`] values, one more line per further
    /// [`MAX_VALUES`] values, holding only those).
    ///
    /// # Errors
    /// As [`to_json`](Self::to_json), or [`EmfError::Io`].
    pub fn write_to(&self, sink: &dyn EmfSink, timestamp_ms: u64) -> Result<(), EmfError> {
        for part in 0..self.document_count() {
            let mut line = serde_json::to_vec(&self.document(timestamp_ms, part)?)
                .map_err(|e| EmfError::Io(std::io::Error::other(e)))?;
            line.push(b'\n');
            sink.write_document(&line)?;
        }
        Ok(())
    }

    /// Writes the document to `sink`, stamped with the current time.
    ///
    /// # Errors
    /// As [`write_to`](Self::write_to).
    pub fn flush(&self, sink: &dyn EmfSink) -> Result<(), EmfError> {
        self.write_to(sink, now_ms())
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Whole values are written as JSON integers (`5`, not `5.0`), others as floats.
fn number(name: &str, value: f64) -> Result<Value, EmfError> {
    if !value.is_finite() {
        return Err(EmfError::NonFinite {
            name: name.to_owned(),
            value,
        });
    }
    // 2^53: every integer up to here is exact in an f64.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if value.fract() == 0.0 && value.abs() <= EXACT {
        return Ok(Value::Number(Number::from(value as i64)));
    }
    Number::from_f64(value)
        .map(Value::Number)
        .ok_or(EmfError::NonFinite {
            name: name.to_owned(),
            value,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_values_are_arrays_of_at_most_100_per_document() {
        let config = MetricsConfig::builder()
            .dimension("FunctionName", "f")
            .build();
        let mut metrics = Metrics::new(&config);
        metrics.count("Calls", 250);
        for i in 0..250 {
            metrics.sample("CallLatency", Unit::Milliseconds, f64::from(i));
        }
        assert_eq!(metrics.value("CallLatency"), Some(31125.0));
        let sink = MemorySink::default();
        metrics.write_to(&sink, 1).unwrap();
        let docs = sink.documents();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0]["Calls"], 250);
        assert_eq!(docs[0]["CallLatency"].as_array().unwrap().len(), 100);
        assert_eq!(docs[0]["CallLatency"][0], 0);
        assert_eq!(docs[1]["CallLatency"][0], 100);
        assert_eq!(docs[2]["CallLatency"].as_array().unwrap().len(), 50);
        assert!(docs[1].get("Calls").is_none());
        assert_eq!(docs[1]["FunctionName"], "f");
        let defs = &docs[2]["_aws"]["CloudWatchMetrics"][0]["Metrics"];
        assert_eq!(
            defs,
            &json!([{"Name": "CallLatency", "Unit": "Milliseconds"}])
        );
    }

    fn config() -> MetricsConfig {
        MetricsConfig::builder()
            .namespace("ns")
            .dimension("FunctionName", "f")
            .property("service", "svc")
            .build()
    }

    #[test]
    fn document_follows_the_emf_specification() {
        let config = config();
        let mut m = Metrics::new(&config);
        m.count("Records", 2);
        m.bytes("Bytes", 10);
        m.count("Records", 1);
        m.add("Ratio", Unit::None, 0.5);
        m.property("requestId", "r-1");
        let sink = MemorySink::default();
        m.write_to(&sink, 42).unwrap();
        let lines = sink.lines();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].last(), Some(&b'\n'));
        assert_eq!(lines[0].iter().filter(|b| **b == b'\n').count(), 1);
        let doc = &sink.documents()[0];
        assert_eq!(
            doc["_aws"],
            json!({
                "Timestamp": 42,
                "CloudWatchMetrics": [{
                    "Namespace": "ns",
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [
                        {"Name": "Records", "Unit": "Count"},
                        {"Name": "Bytes", "Unit": "Bytes"},
                        {"Name": "Ratio", "Unit": "None"},
                    ],
                }],
            })
        );
        assert_eq!(doc["FunctionName"], "f");
        assert_eq!(doc["service"], "svc");
        assert_eq!(doc["requestId"], "r-1");
        assert_eq!(doc["Records"], json!(3));
        assert_eq!(doc["Bytes"], json!(10));
        assert_eq!(doc["Ratio"], json!(0.5));
    }

    #[test]
    fn non_finite_values_are_rejected() {
        let config = config();
        let mut m = Metrics::new(&config);
        m.add("Bad", Unit::Count, f64::NAN);
        assert!(matches!(m.to_json(0), Err(EmfError::NonFinite { .. })));
    }

    #[test]
    fn too_many_metrics_are_rejected() {
        let config = config();
        let mut m = Metrics::new(&config);
        for i in 0..=MAX_METRICS {
            m.count(&format!("M{i}"), 1);
        }
        assert!(matches!(
            m.to_json(0),
            Err(EmfError::TooManyMetrics { count: 101 })
        ));
    }

    #[test]
    fn from_env_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let c = MetricsConfig::from_lookup("fallback", env(&[]));
        assert_eq!(c.namespace(), "kstream");
        assert_eq!(
            c.dimensions(),
            [("FunctionName".to_owned(), "fallback".to_owned())]
        );

        let c = MetricsConfig::from_lookup(
            "fallback",
            env(&[
                ("KSTREAM_METRICS_NAMESPACE", "k"),
                ("AWS_LAMBDA_FUNCTION_NAME", "fn"),
            ]),
        );
        assert_eq!(c.namespace(), "k");
        assert_eq!(c.dimensions()[0].1, "fn");

        let c = MetricsConfig::from_lookup(
            "fallback",
            env(&[
                ("KSTREAM_METRICS_NAMESPACE", "k"),
                ("POWERTOOLS_METRICS_NAMESPACE", "p"),
                ("POWERTOOLS_SERVICE_NAME", "svc"),
            ]),
        );
        assert_eq!(c.namespace(), "p");
        let m = Metrics::new(&c);
        assert_eq!(m.to_json(0).unwrap()["service"], "svc");
    }
}
