//! The Lambda Runtime API host: runs function binaries as Lambda would.
//!
//! A [`FunctionHost`] knows the deployed functions ([`FunctionSpec`]) and keeps, per function, a
//! pool of processes started from the function's `bootstrap` built for this machine. Each process
//! has its own Runtime API listener ([`api`]) on `127.0.0.1`, gets one invocation at a time, and
//! more processes are started when invocations overlap, up to
//! [`FunctionHostBuilder::max_concurrency`]. The function's timeout is enforced (the process is
//! killed, the invocation fails with `Sandbox.Timedout`); a process that exits mid-invocation fails
//! it with `Runtime.ExitError`; either way the next invocation starts a fresh process.
//!
//! Logs (the process's stdout and stderr, with Lambda's `START`/`END`/`REPORT` lines) go to
//! `<log dir>/<function>.log`, and to stderr when console logs are on.

pub mod api;
mod process;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng as _;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::error::{Error, Result};
use process::{Instance, LogSink};

/// A function as deployed: what the host needs to run it.
///
/// Built with [`FunctionSpec::new`] and adjusted through its public fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FunctionSpec {
    /// The function name (`AWS_LAMBDA_FUNCTION_NAME`).
    pub name: String,
    /// The function ARN. By default `arn:aws:lambda:<region>:123456789012:function:<name>`.
    pub arn: String,
    /// The `bootstrap` built for this machine.
    pub binary: PathBuf,
    /// Memory in MB (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`). By default 128.
    pub memory_mb: u32,
    /// The timeout. By default 3 s, as on Lambda.
    pub timeout: Duration,
    /// The handler (`_HANDLER`). By default `bootstrap`.
    pub handler: String,
    /// The version (`AWS_LAMBDA_FUNCTION_VERSION`). By default `$LATEST`.
    pub version: String,
    /// The region (`AWS_REGION`). By default `us-east-1`.
    pub region: String,
    /// The execution role ARN, used as the Kinesis events' `invokeIdentityArn`.
    pub role: Option<String>,
    /// The function's configured environment variables.
    pub environment: BTreeMap<String, String>,
    /// The log format (`AWS_LAMBDA_LOG_FORMAT`: `JSON` or `Text`), from the logging config.
    pub log_format: Option<String>,
    /// The application log level (`AWS_LAMBDA_LOG_LEVEL`), from the logging config.
    pub log_level: Option<String>,
    /// The log group. By default `/aws/lambda/<name>`.
    pub log_group: Option<String>,
}

impl FunctionSpec {
    /// A function named `name` run from `binary`, with Lambda's defaults.
    pub fn new(name: impl Into<String>, binary: impl Into<PathBuf>) -> Self {
        let name = name.into();
        let region = "us-east-1".to_owned();
        Self {
            arn: format!("arn:aws:lambda:{region}:123456789012:function:{name}"),
            name,
            binary: binary.into(),
            memory_mb: 128,
            timeout: Duration::from_secs(3),
            handler: "bootstrap".to_owned(),
            version: "$LATEST".to_owned(),
            region,
            role: None,
            environment: BTreeMap::new(),
            log_format: None,
            log_level: None,
            log_group: None,
        }
    }

    /// The log group name (`AWS_LAMBDA_LOG_GROUP_NAME`).
    pub fn log_group(&self) -> String {
        self.log_group
            .clone()
            .unwrap_or_else(|| format!("/aws/lambda/{}", self.name))
    }
}

/// Credentials, region and endpoint handed to function processes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AwsEnv {
    /// `AWS_ENDPOINT_URL` for the functions' SDK clients (the emulator). By default unset.
    pub endpoint_url: Option<String>,
    /// `AWS_ACCESS_KEY_ID`. By default `test`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`. By default `test`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`. By default unset.
    pub session_token: Option<String>,
}

impl Default for AwsEnv {
    fn default() -> Self {
        Self {
            endpoint_url: None,
            access_key_id: "test".to_owned(),
            secret_access_key: "test".to_owned(),
            session_token: None,
        }
    }
}

impl AwsEnv {
    /// Reads `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
    /// `AWS_SESSION_TOKEN` from this process's environment, with the defaults above.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let defaults = Self::default();
        Self {
            endpoint_url: var("AWS_ENDPOINT_URL"),
            access_key_id: var("AWS_ACCESS_KEY_ID").unwrap_or(defaults.access_key_id),
            secret_access_key: var("AWS_SECRET_ACCESS_KEY").unwrap_or(defaults.secret_access_key),
            session_token: var("AWS_SESSION_TOKEN"),
        }
    }
}

/// Settings of a [`FunctionHost`].
#[derive(Debug, Clone)]
pub(crate) struct HostConfig {
    pub(crate) log_dir: Option<PathBuf>,
    pub(crate) console_logs: bool,
    pub(crate) max_concurrency: usize,
    pub(crate) init_timeout: Duration,
    pub(crate) aws: AwsEnv,
    pub(crate) extra_env: BTreeMap<String, String>,
}

/// Builds a [`FunctionHost`].
#[derive(Debug, Clone)]
pub struct FunctionHostBuilder {
    config: HostConfig,
}

impl Default for FunctionHostBuilder {
    fn default() -> Self {
        Self {
            config: HostConfig {
                log_dir: None,
                console_logs: false,
                max_concurrency: 10,
                init_timeout: Duration::from_secs(10),
                aws: AwsEnv::from_env(),
                extra_env: BTreeMap::new(),
            },
        }
    }
}

impl FunctionHostBuilder {
    /// Directory for `<function>.log` files. By default none (logs only to the console, if on).
    pub fn log_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.log_dir = Some(dir.into());
        self
    }

    /// Also copy function output to stderr, each line prefixed `[<function>]`. By default off.
    pub fn console_logs(mut self, on: bool) -> Self {
        self.config.console_logs = on;
        self
    }

    /// Most processes (so concurrent invocations) per function. By default 10; at least 1.
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.config.max_concurrency = n.max(1);
        self
    }

    /// How long a new process may take to initialize (call `/next`). By default 10 s, as on Lambda.
    pub fn init_timeout(mut self, timeout: Duration) -> Self {
        self.config.init_timeout = timeout;
        self
    }

    /// Endpoint and credentials for the functions. By default [`AwsEnv::from_env`].
    pub fn aws_env(mut self, aws: AwsEnv) -> Self {
        self.config.aws = aws;
        self
    }

    /// An extra variable for every function process (e.g. `RUST_LOG`). By default none.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.extra_env.insert(key.into(), value.into());
        self
    }

    /// The host.
    pub fn build(self) -> FunctionHost {
        FunctionHost {
            inner: Arc::new(HostInner {
                config: self.config,
                functions: RwLock::new(HashMap::new()),
                closing: AtomicBool::new(false),
                next_instance: AtomicU64::new(1),
            }),
        }
    }
}

/// The error a function produced, as Lambda reports it (`errorType`, `errorMessage`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FunctionError {
    /// `errorType`, e.g. `Runtime.ExitError`, `Sandbox.Timedout`, or the function's own.
    pub error_type: String,
    /// `errorMessage`.
    pub error_message: String,
    /// The error document the runtime posted (JSON), or one built from the two fields.
    pub payload: Bytes,
}

impl FunctionError {
    /// An error of `error_type` with `error_message`.
    pub fn new(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        let error_type = error_type.into();
        let error_message = error_message.into();
        let payload = serde_json::json!({
            "errorType": error_type,
            "errorMessage": error_message,
        })
        .to_string()
        .into();
        Self {
            error_type,
            error_message,
            payload,
        }
    }
}

/// What an invocation returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeResult {
    /// The function's response body.
    Ok(Bytes),
    /// The function failed (`X-Amz-Function-Error: Unhandled` on Lambda's Invoke API).
    Error(FunctionError),
}

/// One finished invocation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InvokeOutcome {
    /// The request id (`Lambda-Runtime-Aws-Request-Id`).
    pub request_id: String,
    /// The result.
    pub result: InvokeResult,
    /// Wall-clock duration, including a cold start.
    pub duration: Duration,
    /// Whether a new process was started for it.
    pub cold_start: bool,
}

impl InvokeOutcome {
    /// The function's error, if it failed.
    pub fn error(&self) -> Option<&FunctionError> {
        match &self.result {
            InvokeResult::Ok(_) => None,
            InvokeResult::Error(e) => Some(e),
        }
    }
}

#[derive(Debug)]
struct FunctionPool {
    spec: FunctionSpec,
    idle: Mutex<Vec<Instance>>,
    limit: Arc<Semaphore>,
    log: Mutex<Option<Arc<LogSink>>>,
}

#[derive(Debug)]
struct HostInner {
    config: HostConfig,
    functions: RwLock<HashMap<String, Arc<FunctionPool>>>,
    closing: AtomicBool,
    next_instance: AtomicU64,
}

/// Runs deployed functions from their binaries; cheap to clone (shared state).
///
/// # Example
///
/// ```no_run
/// # async fn example() -> kstream_local_lambda::Result<()> {
/// use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec, InvokeResult};
///
/// let host = FunctionHost::builder().log_dir(".kstream/local/logs").build();
/// host.register(FunctionSpec::new("demo-kds-consumer", "target/release/kds-consumer"));
/// let outcome = host.invoke("demo-kds-consumer", r#"{"Records":[]}"#).await?;
/// if let InvokeResult::Ok(body) = &outcome.result {
///     println!("{}", String::from_utf8_lossy(body));
/// }
/// host.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct FunctionHost {
    inner: Arc<HostInner>,
}

/// A new request id in the shape Lambda uses (a UUID v4).
pub fn new_request_id() -> String {
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex_lower(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn new_trace_id() -> String {
    let rand: [u8; 12] = rand::rng().random();
    let parent: [u8; 8] = rand::rng().random();
    format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        chrono::Utc::now().timestamp(),
        hex_lower(&rand),
        hex_lower(&parent)
    )
}

/// The function name in a name, a partial ARN or a full ARN (with or without a qualifier).
pub fn function_name_of(name_or_arn: &str) -> &str {
    match name_or_arn.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => name_or_arn,
    }
}

impl FunctionHost {
    /// A builder with the documented defaults.
    pub fn builder() -> FunctionHostBuilder {
        FunctionHostBuilder::default()
    }

    /// Registers (or replaces) a function. Running processes of a replaced function are stopped
    /// when they become idle.
    pub fn register(&self, spec: FunctionSpec) {
        let pool = Arc::new(FunctionPool {
            limit: Arc::new(Semaphore::new(self.inner.config.max_concurrency)),
            idle: Mutex::new(Vec::new()),
            log: Mutex::new(None),
            spec,
        });
        self.inner
            .functions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(pool.spec.name.clone(), pool);
    }

    /// The registered functions' specs, sorted by name.
    pub fn functions(&self) -> Vec<FunctionSpec> {
        let mut specs: Vec<FunctionSpec> = self
            .inner
            .functions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(|p| p.spec.clone())
            .collect();
        specs.sort_by(|a, b| a.name.cmp(&b.name));
        specs
    }

    /// The spec of a function, by name or ARN.
    pub fn function(&self, name_or_arn: &str) -> Option<FunctionSpec> {
        self.pool(name_or_arn).map(|p| p.spec.clone())
    }

    fn pool(&self, name_or_arn: &str) -> Option<Arc<FunctionPool>> {
        let name = function_name_of(name_or_arn);
        self.inner
            .functions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// Invokes a function synchronously (`RequestResponse`) with `payload`, by name or ARN.
    ///
    /// A function that fails, crashes or times out gives `Ok` with [`InvokeResult::Error`];
    /// `Err` means the host could not run it at all (unknown function, missing binary, shutdown).
    pub async fn invoke(&self, function: &str, payload: impl Into<Bytes>) -> Result<InvokeOutcome> {
        if self.inner.closing.load(Ordering::SeqCst) {
            return Err(Error::ShuttingDown);
        }
        let pool = self
            .pool(function)
            .ok_or_else(|| Error::UnknownFunction(function.to_owned()))?;
        let _permit = pool
            .limit
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::ShuttingDown)?;
        let log = self.log_sink(&pool)?;
        let started = Instant::now();
        let reused = pool
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let (mut instance, cold_start) = match reused {
            Some(instance) if instance.is_healthy() => (instance, false),
            _ => {
                let id = self.inner.next_instance.fetch_add(1, Ordering::Relaxed);
                let instance =
                    Instance::spawn(id, &pool.spec, &self.inner.config, log.clone()).await?;
                (instance, true)
            }
        };
        let request_id = new_request_id();
        let span = tracing::debug_span!("invoke", function = %pool.spec.name, %request_id, instance = instance.id);
        log.line(&format!(
            "START RequestId: {request_id} Version: {}",
            pool.spec.version
        ));
        let result = instance
            .invoke(
                &request_id,
                payload.into(),
                pool.spec.timeout,
                self.inner.config.init_timeout,
                new_trace_id(),
            )
            .instrument(span)
            .await;
        let duration = started.elapsed();
        if let InvokeResult::Error(error) = &result {
            log.line(&format!(
                "{} {request_id} {}: {}",
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                error.error_type,
                error.error_message
            ));
        }
        log.line(&format!("END RequestId: {request_id}"));
        let ms = duration.as_secs_f64() * 1000.0;
        log.line(&format!(
            "REPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB{}",
            ms.ceil(),
            pool.spec.memory_mb,
            if cold_start { "\tInit: cold start" } else { "" }
        ));
        if instance.is_healthy() && !self.inner.closing.load(Ordering::SeqCst) {
            pool.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(instance);
        } else {
            instance.stop().await;
        }
        Ok(InvokeOutcome {
            request_id,
            result,
            duration,
            cold_start,
        })
    }

    fn log_sink(&self, pool: &FunctionPool) -> Result<Arc<LogSink>> {
        let mut slot = pool.log.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(log) = slot.as_ref() {
            return Ok(log.clone());
        }
        let log = Arc::new(LogSink::open(
            &pool.spec.name,
            self.inner.config.log_dir.as_deref(),
            self.inner.config.console_logs,
        )?);
        *slot = Some(log.clone());
        Ok(log)
    }

    /// Number of idle (warm) processes of a function.
    pub fn idle_processes(&self, function: &str) -> usize {
        self.pool(function)
            .map(|p| p.idle.lock().unwrap_or_else(PoisonError::into_inner).len())
            .unwrap_or(0)
    }

    /// Refuses new invocations and stops every idle process. Invocations in flight finish
    /// (their processes are stopped when they return).
    pub async fn shutdown(&self) {
        self.inner.closing.store(true, Ordering::SeqCst);
        let pools: Vec<Arc<FunctionPool>> = self
            .inner
            .functions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for pool in pools {
            let idle: Vec<Instance> =
                std::mem::take(&mut *pool.idle.lock().unwrap_or_else(PoisonError::into_inner));
            for instance in idle {
                instance.stop().await;
            }
        }
    }
}
