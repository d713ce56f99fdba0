//! A function's EMF telemetry in one place: the metrics configuration and the sink, built
//! once per cold start, and the document of each invocation, started with the request id
//! and flushed at its end.
//!
//! ```
//! use std::sync::Arc;
//!
//! use kstream_pipeline::emf::{MemorySink, MetricsConfig};
//! use kstream_pipeline::telemetry::Telemetry;
//!
//! let sink = Arc::new(MemorySink::default());
//! let telemetry = Telemetry::new(MetricsConfig::builder().dimension("FunctionName", "demo").build())
//!     .with_sink(sink.clone());
//! // in the handler:
//! let mut metrics = telemetry.start("request-1");
//! metrics.count("Records", 3);
//! telemetry.finish(&metrics);
//!
//! let doc = &sink.documents()[0];
//! assert_eq!((doc["Records"].as_u64(), doc["requestId"].as_str()), (Some(3), Some("request-1")));
//! ```

use std::fmt;
use std::sync::Arc;

use crate::config::Env;
use crate::emf::{EmfSink, Metrics, MetricsConfig, Stdout};

/// Where a function's metrics go and under which dimensions.
#[derive(Clone)]
pub struct Telemetry {
    config: MetricsConfig,
    sink: Arc<dyn EmfSink>,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// `config`, written to stdout ([`Stdout`], what Lambda needs).
    pub fn new(config: MetricsConfig) -> Self {
        Self {
            config,
            sink: Arc::new(Stdout),
        }
    }

    /// The configuration from the process environment
    /// ([`MetricsConfig::from_env`]), written to stdout.
    pub fn from_env(function_name: &str) -> Self {
        Self::from_env_with(&Env::process(), function_name)
    }

    /// The configuration from `env` ([`MetricsConfig::from_lookup`]), written to stdout;
    /// `function_name` is the `FunctionName` dimension when `AWS_LAMBDA_FUNCTION_NAME` is
    /// unset.
    pub fn from_env_with(env: &Env<'_>, function_name: &str) -> Self {
        Self::new(MetricsConfig::from_lookup(function_name, |k| {
            env.get_raw(k)
        }))
    }

    /// The same configuration, written to `sink` instead (tests: a
    /// [`MemorySink`](crate::emf::MemorySink)).
    pub fn with_sink(mut self, sink: Arc<dyn EmfSink>) -> Self {
        self.sink = sink;
        self
    }

    /// The metrics configuration.
    pub fn config(&self) -> &MetricsConfig {
        &self.config
    }

    /// The empty document of one invocation, with the `requestId` property when
    /// `request_id` is not empty.
    pub fn start(&self, request_id: &str) -> Metrics<'_> {
        let mut metrics = Metrics::new(&self.config);
        if !request_id.is_empty() {
            metrics.property("requestId", request_id);
        }
        metrics
    }

    /// Writes the invocation's document, stamped with the current time. Metrics never fail
    /// an invocation (its records were processed): a write error is logged at `warn`.
    pub fn finish(&self, metrics: &Metrics<'_>) {
        if let Err(error) = metrics.flush(self.sink.as_ref()) {
            tracing::warn!(error = %error, "could not write the EMF metrics document");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emf::MemorySink;

    #[test]
    fn one_document_per_invocation_with_the_request_id() {
        let sink = Arc::new(MemorySink::default());
        let env = Env::from_pairs(&[("KSTREAM_METRICS_NAMESPACE", "ns")]);
        let telemetry = Telemetry::from_env_with(&env, "f").with_sink(sink.clone());
        assert_eq!(telemetry.config().namespace(), "ns");
        let mut metrics = telemetry.start("");
        metrics.count("Records", 1);
        telemetry.finish(&metrics);
        telemetry.finish(&telemetry.start("r-2"));
        let docs = sink.documents();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["FunctionName"], "f");
        assert_eq!(docs[0]["Records"], 1);
        assert!(docs[0].get("requestId").is_none());
        assert_eq!(docs[1]["requestId"], "r-2");
    }
}
