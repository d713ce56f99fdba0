//! What is deployed: functions and event source mappings, read from the emulator's Lambda API.
//!
//! Functions come from `ListFunctions` + `GetFunction` (timeout, memory, handler, role,
//! environment, logging config, tags); mappings from `ListEventSourceMappings` (every setting).
//!
//! # Finding a function's binary
//!
//! A deployed function runs from a `bootstrap` built for this machine. For a function named `F`,
//! in this order:
//! 1. an explicit `F=PATH` ([`BinaryResolver::binary`], `--binary F=PATH` on the CLI);
//! 2. the tag `kstream:package` (a package name) → `<functions dir>/<package>`;
//! 3. the longest executable name `P` in the functions directory such that `F == P` or `F` ends
//!    with `-P` or `_P` (so `demo-kds-consumer` runs `target/release/kds-consumer`);
//! 4. the one executable `P` whose last `-`-separated word is `F`'s last word, when exactly one
//!    has it (so pattern 1's `<prefix>-consumer` runs `kds-consumer`); when several do, none is
//!    chosen: tag the function or pass `--binary`.
//!
//! A function with no binary is reported and left out; so are its mappings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::mapping::{
    FailurePolicy, FilterCriteria, MappingSpec, StartingPosition, stream_name_of,
};
use crate::runtime::FunctionSpec;

/// The tag naming the Cargo package of a function.
pub const PACKAGE_TAG: &str = "kstream:package";

/// A function as deployed (without a binary yet).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeployedFunction {
    /// The spec, with an empty binary path.
    pub spec: FunctionSpec,
    /// The function's tags.
    pub tags: BTreeMap<String, String>,
}

/// Everything `kstream local` runs.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Deployed {
    /// Functions.
    pub functions: Vec<DeployedFunction>,
    /// Kinesis event source mappings (other sources are left out).
    pub mappings: Vec<MappingSpec>,
}

/// Reads the deployed functions and Kinesis mappings (see the crate docs, "How a service crate
/// reads what Terraform deployed").
///
/// # Errors
/// [`Error::Aws`] when the Lambda API cannot be read; [`Error::Config`] or
/// [`Error::FilterPattern`] for a Kinesis mapping the data plane cannot honour.
pub async fn load(sdk: &aws_config::SdkConfig) -> Result<Deployed> {
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let mut deployed = Deployed::default();
    let listed = lambda
        .list_functions()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| Error::aws("Lambda.ListFunctions", e))?;
    let names: Vec<String> = listed
        .iter()
        .filter_map(|f| f.function_name().map(str::to_owned))
        .collect();
    for name in names {
        let out = match lambda.get_function().function_name(&name).send().await {
            Ok(out) => out,
            // Deleted between the listing and now: it is simply not deployed any more.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                continue;
            }
            Err(e) => return Err(Error::aws("Lambda.GetFunction", e)),
        };
        let Some(config) = out.configuration() else {
            continue;
        };
        let function = function_from(config, out.tags());
        tracing::debug!(function = %function.spec.name, "found a deployed function");
        deployed.functions.push(function);
    }
    let mappings = lambda
        .list_event_source_mappings()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| Error::aws("Lambda.ListEventSourceMappings", e))?;
    for esm in &mappings {
        if let Some(spec) = mapping_from(esm)? {
            tracing::debug!(mapping = %spec.uuid, function = %spec.function_name, stream = %spec.stream_name, "found a deployed event source mapping");
            deployed.mappings.push(spec);
        }
    }
    Ok(deployed)
}

fn function_from(
    config: &aws_sdk_lambda::types::FunctionConfiguration,
    tags: Option<&std::collections::HashMap<String, String>>,
) -> DeployedFunction {
    let name = config.function_name().unwrap_or_default().to_owned();
    let mut spec = FunctionSpec::new(name, PathBuf::new());
    if let Some(arn) = config.function_arn() {
        spec.arn = arn.to_owned();
        if let Some(region) = arn.split(':').nth(3) {
            spec.region = region.to_owned();
        }
    }
    if let Some(memory) = config.memory_size() {
        spec.memory_mb = u32::try_from(memory).unwrap_or(128);
    }
    if let Some(timeout) = config.timeout() {
        spec.timeout = Duration::from_secs(u64::try_from(timeout).unwrap_or(3));
    }
    if let Some(handler) = config.handler() {
        spec.handler = handler.to_owned();
    }
    spec.role = config.role().map(str::to_owned);
    if let Some(vars) = config.environment().and_then(|e| e.variables()) {
        spec.environment = vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    }
    if let Some(logging) = config.logging_config() {
        spec.log_format = logging.log_format().map(|f| f.as_str().to_owned());
        spec.log_level = logging
            .application_log_level()
            .map(|l| l.as_str().to_owned());
        spec.log_group = logging.log_group().map(str::to_owned);
    }
    DeployedFunction {
        spec,
        tags: tags
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }
}

fn epoch_seconds(t: &aws_smithy_types::DateTime) -> f64 {
    t.secs() as f64 + f64::from(t.subsec_nanos()) / 1e9
}

/// A mapping spec from a Lambda `EventSourceMappingConfiguration`; `None` for non-Kinesis sources.
pub fn mapping_from(
    esm: &aws_sdk_lambda::types::EventSourceMappingConfiguration,
) -> Result<Option<MappingSpec>> {
    let Some(source) = esm.event_source_arn() else {
        return Ok(None);
    };
    if !source.starts_with("arn:aws:kinesis:") || !source.contains(":stream/") {
        tracing::debug!(%source, "not a Kinesis stream mapping; left out");
        return Ok(None);
    }
    let uuid = esm.uuid().unwrap_or_default().to_owned();
    let function_arn = esm.function_arn().unwrap_or_default().to_owned();
    let function_name = crate::runtime::function_name_of(&function_arn).to_owned();
    let mut spec = MappingSpec::new(uuid, function_name, source);
    if !function_arn.is_empty() {
        spec.function_arn = function_arn;
    }
    spec.stream_name = stream_name_of(source).to_owned();
    if let Some(n) = esm.batch_size() {
        spec.batch_size = usize::try_from(n).unwrap_or(100).max(1);
    }
    if let Some(w) = esm.maximum_batching_window_in_seconds() {
        spec.batching_window = Duration::from_secs(u64::try_from(w).unwrap_or(0));
    }
    if let Some(p) = esm.parallelization_factor() {
        spec.parallelization_factor = usize::try_from(p).unwrap_or(1).clamp(1, 10);
    }
    let last_modified = esm.last_modified().map(epoch_seconds);
    spec.starting_position = match esm.starting_position().map(|p| p.as_str()) {
        Some("TRIM_HORIZON") => StartingPosition::TrimHorizon,
        Some("AT_TIMESTAMP") => StartingPosition::AtTimestamp(
            esm.starting_position_timestamp()
                .map(epoch_seconds)
                .ok_or_else(|| {
                    Error::Config(format!(
                        "mapping {} starts AT_TIMESTAMP without a timestamp",
                        spec.uuid
                    ))
                })?,
        ),
        _ => StartingPosition::Latest(last_modified),
    };
    if let Some(criteria) = esm.filter_criteria() {
        let patterns: Vec<&str> = criteria
            .filters()
            .iter()
            .filter_map(|f| f.pattern())
            .collect();
        spec.filters = FilterCriteria::parse(&patterns)?;
    }
    spec.policy = FailurePolicy {
        report_batch_item_failures: esm
            .function_response_types()
            .iter()
            .any(|t| t.as_str() == "ReportBatchItemFailures"),
        bisect: esm.bisect_batch_on_function_error().unwrap_or(false),
        max_retry_attempts: esm
            .maximum_retry_attempts()
            .and_then(|n| u32::try_from(n).ok()),
        max_record_age: esm
            .maximum_record_age_in_seconds()
            .and_then(|n| u64::try_from(n).ok())
            .map(Duration::from_secs),
    };
    spec.on_failure = esm
        .destination_config()
        .and_then(|d| d.on_failure())
        .and_then(|o| o.destination())
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    spec.enabled = !matches!(esm.state(), Some("Disabled" | "Disabling" | "Deleting"));
    spec.tumbling_window = match esm.tumbling_window_in_seconds() {
        None | Some(0) => None,
        Some(n @ 1..=900) => Some(n.unsigned_abs()),
        Some(n) => {
            return Err(Error::Config(format!(
                "mapping {}: TumblingWindowInSeconds is {n}; Lambda accepts 0 to 900",
                spec.uuid
            )));
        }
    };
    if spec.tumbling_window.is_some() && spec.parallelization_factor > 1 {
        tracing::warn!(
            mapping = %spec.uuid,
            parallelization_factor = spec.parallelization_factor,
            "a tumbling window needs a parallelization factor of 1 (one state per shard); running one lane per shard"
        );
        spec.parallelization_factor = 1;
    }
    Ok(Some(spec))
}

/// Finds the binary of each deployed function (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct BinaryResolver {
    functions_dir: Option<PathBuf>,
    explicit: BTreeMap<String, PathBuf>,
}

impl BinaryResolver {
    /// Looks in `dir` (e.g. `target/release`). By default no directory.
    pub fn functions_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.functions_dir = Some(dir.into());
        self
    }

    /// Runs `function` from `path`, whatever else is found.
    pub fn binary(mut self, function: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.explicit.insert(function.into(), path.into());
        self
    }

    /// The binary for a function, if one is found.
    pub fn resolve(&self, function: &DeployedFunction) -> Option<PathBuf> {
        let name = &function.spec.name;
        if let Some(path) = self.explicit.get(name) {
            return Some(path.clone());
        }
        let dir = self.functions_dir.as_deref()?;
        if let Some(package) = function.tags.get(PACKAGE_TAG) {
            let path = dir.join(package);
            return is_executable(&path).then_some(path);
        }
        let mut best: Option<String> = None;
        for candidate in executables(dir) {
            let fits = *name == candidate
                || name.ends_with(&format!("-{candidate}"))
                || name.ends_with(&format!("_{candidate}"));
            if fits && best.as_ref().is_none_or(|b| candidate.len() > b.len()) {
                best = Some(candidate);
            }
        }
        if let Some(best) = best {
            return Some(dir.join(best));
        }
        let last_word = |s: &str| s.rsplit(['-', '_']).next().unwrap_or(s).to_owned();
        let word = last_word(name);
        let mut same_word = executables(dir)
            .into_iter()
            .filter(|c| c.contains(['-', '_']) && last_word(c) == word);
        match (same_word.next(), same_word.next()) {
            (Some(only), None) => Some(dir.join(only)),
            (Some(_), Some(_)) => {
                tracing::warn!(function = %name, "several binaries end in -{word}; tag the function with kstream:package or pass --binary");
                None
            }
            _ => None,
        }
    }
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn executables(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| is_executable(&e.path()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.contains('.'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::types::{
        DestinationConfig, EventSourceMappingConfiguration, EventSourcePosition, Filter,
        FilterCriteria as SdkFilterCriteria, FunctionResponseType, OnFailure,
    };

    fn executable(path: &Path) {
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    fn function(name: &str) -> DeployedFunction {
        DeployedFunction {
            spec: FunctionSpec::new(name, PathBuf::new()),
            tags: BTreeMap::new(),
        }
    }

    #[test]
    fn binaries_are_found_by_suffix_tag_or_explicit_path() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["kds-consumer", "consumer", "firehose-transform"] {
            executable(&dir.path().join(name));
        }
        std::fs::write(dir.path().join("kds-consumer.d"), "deps").unwrap();
        let resolver = BinaryResolver::default().functions_dir(dir.path());
        assert_eq!(
            resolver.resolve(&function("demo-kds-consumer")),
            Some(dir.path().join("kds-consumer")),
            "the longest suffix wins"
        );
        assert_eq!(
            resolver.resolve(&function("kds-consumer")),
            Some(dir.path().join("kds-consumer"))
        );
        assert_eq!(resolver.resolve(&function("demo-unknown")), None);
        assert_eq!(
            resolver.resolve(&function("p1-transform")),
            Some(dir.path().join("firehose-transform")),
            "the only binary ending in -transform"
        );
        executable(&dir.path().join("a-sink"));
        executable(&dir.path().join("b-sink"));
        assert_eq!(
            resolver.resolve(&function("p1-sink")),
            None,
            "ambiguous: a-sink or b-sink"
        );
        let mut tagged = function("whatever");
        tagged
            .tags
            .insert(PACKAGE_TAG.into(), "firehose-transform".into());
        assert_eq!(
            resolver.resolve(&tagged),
            Some(dir.path().join("firehose-transform"))
        );
        let explicit = resolver.binary("demo-unknown", "/opt/x");
        assert_eq!(
            explicit.resolve(&function("demo-unknown")),
            Some(PathBuf::from("/opt/x"))
        );
    }

    #[test]
    fn a_kinesis_mapping_keeps_every_setting() {
        let esm = EventSourceMappingConfiguration::builder()
            .uuid("u-1")
            .event_source_arn("arn:aws:kinesis:eu-west-1:111122223333:stream/orders")
            .function_arn("arn:aws:lambda:eu-west-1:111122223333:function:demo-kds-consumer")
            .batch_size(10)
            .maximum_batching_window_in_seconds(2)
            .parallelization_factor(3)
            .starting_position(EventSourcePosition::TrimHorizon)
            .filter_criteria(
                SdkFilterCriteria::builder()
                    .filters(Filter::builder().pattern(r#"{"data":{"a":[1]}}"#).build())
                    .build(),
            )
            .function_response_types(FunctionResponseType::ReportBatchItemFailures)
            .bisect_batch_on_function_error(true)
            .maximum_retry_attempts(4)
            .maximum_record_age_in_seconds(3600)
            .destination_config(
                DestinationConfig::builder()
                    .on_failure(
                        OnFailure::builder()
                            .destination("arn:aws:sqs:eu-west-1:111122223333:dlq")
                            .build(),
                    )
                    .build(),
            )
            .state("Enabled")
            .build();
        let spec = mapping_from(&esm).unwrap().unwrap();
        assert_eq!(spec.uuid, "u-1");
        assert_eq!(spec.function_name, "demo-kds-consumer");
        assert_eq!(spec.stream_name, "orders");
        assert_eq!(spec.region, "eu-west-1");
        assert_eq!(spec.batch_size, 10);
        assert_eq!(spec.batching_window, Duration::from_secs(2));
        assert_eq!(spec.parallelization_factor, 3);
        assert_eq!(spec.starting_position, StartingPosition::TrimHorizon);
        assert!(!spec.filters.is_empty());
        assert!(spec.policy.report_batch_item_failures);
        assert!(spec.policy.bisect);
        assert_eq!(spec.policy.max_retry_attempts, Some(4));
        assert_eq!(spec.policy.max_record_age, Some(Duration::from_secs(3600)));
        assert_eq!(
            spec.on_failure.as_deref(),
            Some("arn:aws:sqs:eu-west-1:111122223333:dlq")
        );
        assert!(spec.enabled);
    }

    #[test]
    fn a_tumbling_window_is_read_and_forces_one_lane() {
        let base = || {
            EventSourceMappingConfiguration::builder()
                .uuid("u-3")
                .event_source_arn("arn:aws:kinesis:us-east-1:123456789012:stream/s")
                .function_arn("arn:aws:lambda:us-east-1:123456789012:function:f")
                .parallelization_factor(4)
        };
        let spec = mapping_from(&base().tumbling_window_in_seconds(60).build())
            .unwrap()
            .unwrap();
        assert_eq!(spec.tumbling_window, Some(60));
        assert_eq!(spec.parallelization_factor, 1);
        let spec = mapping_from(&base().tumbling_window_in_seconds(0).build())
            .unwrap()
            .unwrap();
        assert_eq!(spec.tumbling_window, None, "0 is off");
        assert_eq!(spec.parallelization_factor, 4);
        let err = mapping_from(&base().tumbling_window_in_seconds(901).build()).unwrap_err();
        assert!(err.to_string().contains("0 to 900"), "{err}");
    }

    #[test]
    fn a_stream_consumer_mapping_reads_the_consumers_stream() {
        let consumer = "arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/efo:1700000000";
        let esm = EventSourceMappingConfiguration::builder()
            .uuid("u-4")
            .event_source_arn(consumer)
            .function_arn("arn:aws:lambda:us-east-1:123456789012:function:f")
            .build();
        let spec = mapping_from(&esm).unwrap().unwrap();
        assert_eq!(spec.stream_name, "s");
        assert_eq!(
            spec.stream_arn,
            "arn:aws:kinesis:us-east-1:123456789012:stream/s"
        );
        assert_eq!(spec.consumer_arn.as_deref(), Some(consumer));
    }

    #[test]
    fn defaults_unbounded_retries_and_other_sources() {
        let esm = EventSourceMappingConfiguration::builder()
            .uuid("u-2")
            .event_source_arn("arn:aws:kinesis:us-east-1:123456789012:stream/s")
            .function_arn("arn:aws:lambda:us-east-1:123456789012:function:f")
            .maximum_retry_attempts(-1)
            .maximum_record_age_in_seconds(-1)
            .starting_position(EventSourcePosition::Latest)
            .state("Disabled")
            .build();
        let spec = mapping_from(&esm).unwrap().unwrap();
        assert_eq!(spec.policy.max_retry_attempts, None);
        assert_eq!(spec.policy.max_record_age, None);
        assert_eq!(spec.starting_position, StartingPosition::Latest(None));
        assert!(!spec.enabled);
        let sqs = EventSourceMappingConfiguration::builder()
            .event_source_arn("arn:aws:sqs:us-east-1:123456789012:q")
            .build();
        assert!(mapping_from(&sqs).unwrap().is_none());
    }
}
