//! A function's EMF telemetry in one place: the metrics configuration and the sink, built
//! once per cold start, and the document of each invocation, started with the request id
//! and flushed at its end, after the `ColdStart` document on the first invocation (as
//! Powertools' `log_metrics(capture_cold_start_metric=True)`).
//!
//! ```
//! use std::sync::Arc;
//!
//! use kstream_pipeline::emf::{MemorySink, MetricsConfig};
//! use kstream_pipeline::telemetry::Telemetry;
//!
//! let sink = Arc::new(MemorySink::default());
//! let telemetry = Telemetry::new(MetricsConfig::builder().function_name("demo").build())
//!     .with_sink(sink.clone());
//! // in the handler:
//! let mut metrics = telemetry.start("request-1");
//! metrics.count("Records", 3);
//! telemetry.finish(&metrics);
//!
//! let docs = sink.documents();
//! assert_eq!(docs[0]["ColdStart"], 1); // the first invocation of the process only
//! let doc = &sink.invocation_documents()[0];
//! assert_eq!((doc["Records"].as_u64(), doc["requestId"].as_str()), (Some(3), Some("request-1")));
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::Env;
use crate::emf::{
    EmfSink, Metrics, MetricsConfig, Stdout, cold_start_document, now_ms, write_line,
};

/// Where a function's metrics go and under which dimensions. A function builds one per
/// process (its clones share the cold start: one `ColdStart` document in all).
#[derive(Clone)]
pub struct Telemetry {
    config: Arc<MetricsConfig>,
    sink: Arc<dyn EmfSink>,
    cold: Arc<AtomicBool>,
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
        let cold = Arc::new(AtomicBool::new(config.cold_start()));
        Self {
            config: Arc::new(config),
            sink: Arc::new(Stdout),
            cold,
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

    /// Writes the invocation's documents, stamped with the current time, after the
    /// `ColdStart` document on the process's first invocation (when the configuration has
    /// it). Metrics never fail an invocation (its records were processed): a write error is
    /// logged at `warn`.
    pub fn finish(&self, metrics: &Metrics<'_>) {
        let now = now_ms();
        if self.cold.swap(false, Ordering::Relaxed)
            && let Err(error) =
                write_line(self.sink.as_ref(), &cold_start_document(&self.config, now))
        {
            tracing::warn!(error = %error, "could not write the EMF ColdStart document");
        }
        if let Err(error) = metrics.write_to(self.sink.as_ref(), now) {
            tracing::warn!(error = %error, "could not write the EMF metrics document");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emf::MemorySink;

    #[test]
    fn cold_start_document_first_then_one_document_per_invocation() {
        let sink = Arc::new(MemorySink::default());
        let env = Env::from_pairs(&[
            ("KSTREAM_METRICS_NAMESPACE", "ns"),
            ("POWERTOOLS_SERVICE_NAME", "svc"),
        ]);
        let telemetry = Telemetry::from_env_with(&env, "f").with_sink(sink.clone());
        let clone = telemetry.clone();
        assert_eq!(telemetry.config().namespace(), "ns");
        let mut metrics = telemetry.start("");
        metrics.count("Records", 1);
        telemetry.finish(&metrics);
        let mut metrics = clone.start("r-2");
        metrics.count("Records", 2);
        clone.finish(&metrics);
        clone.finish(&clone.start("r-3")); // no metrics: no document
        let docs = sink.documents();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0]["ColdStart"], 1);
        assert_eq!(docs[0]["function_name"], "f");
        assert_eq!(docs[0]["service"], "svc");
        assert_eq!(docs[1]["FunctionName"], "f");
        assert_eq!(docs[1]["Records"], 1);
        assert!(docs[1].get("requestId").is_none());
        assert_eq!(docs[2]["requestId"], "r-2");
        assert_eq!(sink.invocation_documents().len(), 2);
    }

    #[test]
    fn no_cold_start_document_under_provisioned_concurrency() {
        let sink = Arc::new(MemorySink::default());
        let env = Env::from_pairs(&[("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")]);
        let telemetry = Telemetry::from_env_with(&env, "f").with_sink(sink.clone());
        let mut metrics = telemetry.start("r-1");
        metrics.count("Records", 1);
        telemetry.finish(&metrics);
        assert_eq!(sink.documents().len(), 1);
        assert_eq!(sink.documents()[0]["Records"], 1);
    }
}
