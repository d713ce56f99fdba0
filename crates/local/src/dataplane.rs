//! The whole local data plane: functions, mappings, REST APIs, Firehose delivery, schedules,
//! status, graceful shutdown.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use kstream_local_firehose::{DeliveryConfig, FirehoseDelivery, FirehoseStats, FirehoseStatus};
use kstream_local_lambda::Error as LambdaError;
use kstream_local_lambda::checkpoint::CheckpointStore;
use kstream_local_lambda::deployed::{self, BinaryResolver, Deployed};
use kstream_local_lambda::invoke_api;
use kstream_local_lambda::mapping::{MappingRunner, MappingSpec, MappingStats, RunnerOptions};
use kstream_local_lambda::runtime::{AwsEnv, FunctionHost};
use kstream_local_scheduler::{ScheduleSpec, ScheduleStats, Scheduler, SchedulerOptions};

use crate::error::Result;
use crate::status::StatusReport;

/// The variable that sends a function's calls to API Gateway (`https://{api}.execute-api.{region}.amazonaws.com/{stage}/…`)
/// to the local REST API executor: its base URL, set in every function's environment while the
/// executor serves. A caller keeps the path and the `Host` header (`{api}.execute-api.{region}.amazonaws.com`),
/// by which the executor finds the API (see [`kstream_local_apigw`]'s address scheme). On AWS it
/// is unset.
pub const EXECUTE_API_ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL_EXECUTE_API";

/// The variable that sends a function's Lambda calls to the data plane's Lambda endpoint
/// ([`invoke_api`]): `Invoke` runs the function here, other operations go to the emulator. The
/// SDKs' own service-specific endpoint variable; on AWS it is unset.
pub const LAMBDA_ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL_LAMBDA";

/// `http://<addr>` for the executor listening on `addr`; an unspecified address (`0.0.0.0`,
/// `::`) is reached on loopback.
pub fn execute_api_endpoint(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if !ip.is_unspecified() => ip,
        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// A listener on `addr`, with the address it got (port 0: a free one).
async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr)> {
    let bind_error = |source| LambdaError::Bind {
        addr: addr.to_string(),
        source,
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(bind_error)?;
    let bound = listener.local_addr().map_err(bind_error)?;
    Ok((listener, bound))
}

/// Builds a [`DataPlane`].
#[derive(Debug, Clone)]
pub struct DataPlaneBuilder {
    state_dir: PathBuf,
    resolver: BinaryResolver,
    console_logs: bool,
    max_concurrency: usize,
    runner: RunnerOptions,
    function_env: BTreeMap<String, String>,
    aws_env: Option<AwsEnv>,
    api_addr: Option<SocketAddr>,
    lambda_addr: SocketAddr,
    default_log_format: Option<String>,
    name_prefix: Option<String>,
    firehose_max_buffer_interval: Option<Duration>,
    scheduler: SchedulerOptions,
}

impl Default for DataPlaneBuilder {
    fn default() -> Self {
        Self {
            state_dir: PathBuf::from(".kstream/local"),
            resolver: BinaryResolver::default(),
            console_logs: false,
            max_concurrency: 10,
            runner: RunnerOptions::default(),
            function_env: BTreeMap::new(),
            aws_env: None,
            api_addr: None,
            lambda_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            default_log_format: None,
            name_prefix: None,
            firehose_max_buffer_interval: None,
            scheduler: SchedulerOptions::default(),
        }
    }
}

impl DataPlaneBuilder {
    /// Where checkpoints, logs and the status file live. By default `.kstream/local`.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = dir.into();
        self
    }

    /// How function binaries are found. By default nowhere (see [`BinaryResolver`]).
    pub fn binaries(mut self, resolver: BinaryResolver) -> Self {
        self.resolver = resolver;
        self
    }

    /// Copy function output to stderr. By default off (logs go to `<state dir>/logs/`).
    pub fn console_logs(mut self, on: bool) -> Self {
        self.console_logs = on;
        self
    }

    /// Most processes per function. By default 10.
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n;
        self
    }

    /// Polling settings. By default [`RunnerOptions::default`].
    pub fn runner_options(mut self, options: RunnerOptions) -> Self {
        self.runner = options;
        self
    }

    /// An extra variable for every function process (e.g. `RUST_LOG`). By default none.
    pub fn function_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.function_env.insert(key.into(), value.into());
        self
    }

    /// Endpoint and credentials handed to functions. By default [`AwsEnv::from_env`].
    pub fn aws_env(mut self, env: AwsEnv) -> Self {
        self.aws_env = Some(env);
        self
    }

    /// `AWS_LAMBDA_LOG_FORMAT` (`JSON` or `Text`) for functions whose logging config the
    /// emulator does not report (moto keeps none). By default unset: the runtime's default, text.
    pub fn default_log_format(mut self, format: impl Into<String>) -> Self {
        self.default_log_format = Some(format.into());
        self
    }

    /// Only run functions (with their mappings) and REST APIs whose names start with this prefix
    /// (one deployment's `name_prefix`, in an emulator shared with others). By default everything.
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = Some(prefix.into());
        self
    }

    /// Caps the Firehose buffer intervals (transform and S3) for quick local runs (see
    /// [`FirehoseDeliveryBuilder::max_buffer_interval`](kstream_local_firehose::FirehoseDeliveryBuilder::max_buffer_interval)).
    /// By default none: the deployed buffering hints are honoured.
    pub fn firehose_max_buffer_interval(mut self, max: Duration) -> Self {
        self.firehose_max_buffer_interval = Some(max);
        self
    }

    /// Run the schedules' clock this many times faster than real time, for quick local runs
    /// (see [`SchedulerOptions::speedup`]). By default 1: real time.
    pub fn schedule_speedup(mut self, speedup: f64) -> Self {
        self.scheduler.speedup = speedup;
        self
    }

    /// The scheduler of this deployment's schedules (by the name prefix) whose target `host`
    /// runs; the others are returned with the reason. `None` when there is none, or when the
    /// Scheduler API cannot be read (logged).
    async fn scheduler(
        &self,
        sdk: &aws_config::SdkConfig,
        host: &FunctionHost,
    ) -> (Option<Scheduler>, Vec<(String, String)>) {
        let prefix = self.name_prefix.clone().unwrap_or_default();
        let deployed =
            match kstream_local_scheduler::deployed::load_matching(sdk, |n| n.starts_with(&prefix))
                .await
            {
                Ok(deployed) => deployed,
                Err(e) => {
                    tracing::warn!(error = %e, "the schedules could not be read; none is fired");
                    return (None, Vec::new());
                }
            };
        let mut skipped: Vec<(String, String)> = deployed
            .skipped
            .into_iter()
            .map(|(name, e)| {
                tracing::warn!(schedule = %name, error = %e, "not fired by kstream local");
                (name, e.to_string())
            })
            .collect();
        let mut runnable = Vec::new();
        for spec in deployed.schedules {
            if host.function(&spec.target_arn).is_none() {
                let reason = format!(
                    "its target {} cannot run here (see --functions-dir / --binary)",
                    spec.target_arn
                );
                tracing::warn!(schedule = %spec.name, %reason, "not fired by kstream local");
                skipped.push((format!("{}/{}", spec.group, spec.name), reason));
                continue;
            }
            runnable.push(spec);
        }
        let scheduler = (!runnable.is_empty())
            .then(|| Scheduler::new(runnable, host.clone(), sdk, self.scheduler.clone()));
        (scheduler, skipped)
    }

    /// Serve the deployed REST APIs (the [`apigw`](kstream_local_apigw) executor) on this address
    /// (port 0 picks a free one), which must be a loopback address ([`start`](Self::start)
    /// refuses others: [`Error::NotLoopback`](crate::Error::NotLoopback)). By default the APIs are
    /// not served. `AWS_IAM` methods verify
    /// SigV4 signatures against the [`aws_env`](Self::aws_env) credentials. While they are, every
    /// function gets [`EXECUTE_API_ENDPOINT_VAR`] = the executor's URL (unless
    /// [`function_env`](Self::function_env) sets it).
    pub fn api_addr(mut self, addr: SocketAddr) -> Self {
        self.api_addr = Some(addr);
        self
    }

    /// Serve Lambda's `Invoke` API for the functions run here
    /// ([`invoke_api`](kstream_local_lambda::invoke_api)) on this loopback address; by default
    /// a free port of 127.0.0.1. Every function gets [`LAMBDA_ENDPOINT_VAR`] = its URL (unless
    /// [`function_env`](Self::function_env) sets it), so that a function invoking another (the
    /// redrive function) reaches this host.
    pub fn lambda_addr(mut self, addr: SocketAddr) -> Self {
        self.lambda_addr = addr;
        self
    }

    /// The Firehose delivery of this deployment's delivery streams (by the name prefix), run by
    /// `host`; `None` when there is none, or when the Firehose API cannot be read (logged).
    async fn firehose(&self, sdk: &aws_config::SdkConfig, host: &FunctionHost) -> Option<Firehose> {
        let mut builder = FirehoseDelivery::builder(sdk, host.clone()).state_dir(&self.state_dir);
        if let Some(prefix) = &self.name_prefix {
            builder = builder.name_prefix(prefix);
        }
        if let Some(max) = self.firehose_max_buffer_interval {
            builder = builder.max_buffer_interval(max);
        }
        let delivery = builder.build();
        let (configs, skipped) = match delivery.discover().await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "the Firehose delivery streams could not be read; none is delivered");
                return None;
            }
        };
        let mut skipped: Vec<(String, String)> = skipped
            .into_iter()
            .map(|(name, e)| {
                tracing::warn!(delivery_stream = %name, error = %e, "not delivered by kstream local");
                (name, e.to_string())
            })
            .collect();
        let mut deliverable = Vec::new();
        for config in configs {
            if let Some(p) = &config.processor
                && host.function(&p.function_arn).is_none()
            {
                // Firehose would send every record to the error output; say why instead.
                let reason = format!(
                    "its transform {} cannot run here (see --functions-dir / --binary)",
                    p.function_arn
                );
                tracing::warn!(delivery_stream = %config.name, %reason, "not delivered by kstream local");
                skipped.push((config.name.clone(), reason));
                continue;
            }
            deliverable.push(config);
        }
        if deliverable.is_empty() && skipped.is_empty() {
            return None;
        }
        Some(Firehose {
            stats: delivery.stats(),
            delivery,
            configs: deliverable,
            skipped,
        })
    }

    /// Reads the deployed configuration through `sdk` and prepares everything.
    pub async fn start(self, sdk: &aws_config::SdkConfig) -> Result<DataPlane> {
        for addr in self.api_addr.iter().chain([&self.lambda_addr]) {
            if !addr.ip().is_loopback() {
                return Err(crate::Error::NotLoopback { addr: *addr });
            }
        }
        std::fs::create_dir_all(&self.state_dir).map_err(|source| LambdaError::Io {
            what: "creating the state directory",
            path: self.state_dir.clone(),
            source,
        })?;
        let mut deployed = deployed::load(sdk).await?;
        if let Some(prefix) = &self.name_prefix {
            deployed
                .functions
                .retain(|f| f.spec.name.starts_with(prefix.as_str()));
            deployed
                .mappings
                .retain(|m| m.function_name.starts_with(prefix.as_str()));
        }
        // The executor's listener comes first: its address goes into every function's
        // environment, so that calls to `https://{api}.execute-api.{region}.amazonaws.com/…`
        // reach it (see EXECUTE_API_ENDPOINT_VAR).
        let api_listener = match self.api_addr {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        // The same for Lambda's Invoke API (AWS_ENDPOINT_URL_LAMBDA).
        let (lambda_listener, lambda_bound) = bind(self.lambda_addr).await?;
        let aws_env = self.aws_env.clone().unwrap_or_else(AwsEnv::from_env);
        let mut host = FunctionHost::builder()
            .log_dir(self.state_dir.join("logs"))
            .console_logs(self.console_logs)
            .max_concurrency(self.max_concurrency)
            .aws_env(aws_env.clone());
        if let Some((_, bound)) = &api_listener {
            host = host.env(EXECUTE_API_ENDPOINT_VAR, execute_api_endpoint(*bound));
        }
        host = host.env(LAMBDA_ENDPOINT_VAR, format!("http://{lambda_bound}"));
        // Set last: an explicit function_env wins.
        for (k, v) in &self.function_env {
            host = host.env(k, v);
        }
        let host = host.build();
        let mut missing = Vec::new();
        for function in &deployed.functions {
            match self.resolver.resolve(function) {
                Some(binary) => {
                    let mut spec = function.spec.clone();
                    spec.binary = binary;
                    if spec.log_format.is_none() {
                        spec.log_format.clone_from(&self.default_log_format);
                    }
                    tracing::info!(function = %spec.name, binary = %spec.binary.display(), "function registered");
                    host.register(spec);
                }
                None => {
                    tracing::warn!(function = %function.spec.name, "no binary found for this function; it is not run (see --functions-dir / --binary)");
                    missing.push(function.spec.name.clone());
                }
            }
        }
        let mut mappings = Vec::new();
        for spec in &deployed.mappings {
            if !spec.enabled {
                tracing::info!(mapping = %spec.uuid, "mapping disabled; not polled");
                continue;
            }
            if host.function(&spec.function_name).is_none() {
                tracing::warn!(mapping = %spec.uuid, function = %spec.function_name, "the mapping's function cannot run here; not polled");
                continue;
            }
            let checkpoints = CheckpointStore::open(&self.state_dir, &spec.uuid, &spec.stream_arn)?;
            let stats = Arc::new(MappingStats::default());
            mappings.push(MappingRunner::new(
                spec.clone(),
                host.clone(),
                sdk,
                checkpoints,
                stats,
                self.runner.clone(),
            ));
        }
        let (api, api_urls) = match api_listener {
            Some((listener, bound)) => {
                let mut deployment = kstream_local_apigw::load(sdk).await?;
                if let Some(prefix) = &self.name_prefix {
                    deployment
                        .apis
                        .retain(|a| a.name.starts_with(prefix.as_str()));
                }
                let executor = kstream_local_apigw::Executor::builder(deployment.clone())
                    .backend(kstream_local_apigw::AwsBackend::from_sdk_config(sdk).await?)
                    .invoker(Arc::new(host.clone()))
                    // AWS_IAM methods take requests signed with the credentials the functions
                    // have (this data plane's), as IAM would take the functions' role.
                    .iam_credentials(kstream_local_apigw::IamCredentials {
                        access_key_id: aws_env.access_key_id.clone(),
                        secret_access_key: aws_env.secret_access_key.clone(),
                        session_token: aws_env.session_token.clone(),
                    })
                    .build();
                let urls = deployment
                    .apis
                    .iter()
                    .flat_map(|api| {
                        api.stages.iter().map(move |stage| {
                            format!(
                                "http://{bound}/restapis/{}/{}/_user_request_/ ({})",
                                api.id, stage.stage_name, api.name
                            )
                        })
                    })
                    .collect();
                (Some((executor, listener, bound)), urls)
            }
            None => (None, Vec::new()),
        };
        let firehose = self.firehose(sdk, &host).await;
        let (scheduler, skipped_schedules) = self.scheduler(sdk, &host).await;
        Ok(DataPlane {
            host,
            deployed,
            mappings,
            missing,
            state_dir: self.state_dir,
            api: api.as_ref().map(|(_, _, bound)| bound.to_string()),
            execute_api_url: api
                .as_ref()
                .map(|(_, _, bound)| execute_api_endpoint(*bound)),
            api_urls,
            server: api.map(|(executor, listener, _)| (executor, listener)),
            lambda: lambda_bound.to_string(),
            lambda_server: (
                lambda_listener,
                aws_env.endpoint_url.as_deref().and_then(|u| u.parse().ok()),
            ),
            firehose,
            scheduler,
            skipped_schedules,
            started_at: chrono::Utc::now().to_rfc3339(),
        })
    }
}

/// The Firehose delivery streams of a [`DataPlane`].
#[derive(Debug)]
struct Firehose {
    delivery: FirehoseDelivery,
    stats: Arc<FirehoseStats>,
    configs: Vec<DeliveryConfig>,
    skipped: Vec<(String, String)>,
}

/// The data plane for everything deployed.
///
/// # Example
///
/// ```no_run
/// # async fn example() -> kstream_local::Result<()> {
/// use kstream_local::dataplane::DataPlane;
/// use kstream_local::lambda::deployed::BinaryResolver;
///
/// let sdk = aws_config::load_from_env().await;
/// let plane = DataPlane::builder()
///     .state_dir(".kstream/local")
///     .binaries(BinaryResolver::default().functions_dir("target/release"))
///     .start(&sdk)
///     .await?;
/// plane.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct DataPlane {
    host: FunctionHost,
    deployed: Deployed,
    mappings: Vec<MappingRunner>,
    missing: Vec<String>,
    state_dir: PathBuf,
    api: Option<String>,
    execute_api_url: Option<String>,
    api_urls: Vec<String>,
    server: Option<(kstream_local_apigw::Executor, tokio::net::TcpListener)>,
    lambda: String,
    /// The Invoke API's listener, and the emulator it passes other Lambda operations to.
    lambda_server: (tokio::net::TcpListener, Option<invoke_api::Uri>),
    firehose: Option<Firehose>,
    scheduler: Option<Scheduler>,
    skipped_schedules: Vec<(String, String)>,
    started_at: String,
}

/// Reads the live counters of a running [`DataPlane`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct StatusHandle {
    mappings: Vec<(Arc<MappingSpec>, Arc<MappingStats>)>,
    functions: Vec<String>,
    api: Option<String>,
    lambda: String,
    firehose: Option<(Vec<String>, Arc<FirehoseStats>)>,
    schedules: Vec<(Arc<ScheduleSpec>, Arc<ScheduleStats>)>,
    started_at: String,
}

impl StatusHandle {
    /// A report of the counters now.
    pub fn report(&self, state: &str) -> StatusReport {
        StatusReport {
            pid: std::process::id(),
            started_at: self.started_at.clone(),
            updated_at: chrono::Utc::now().to_rfc3339(),
            state: state.to_owned(),
            api: self.api.clone(),
            lambda: Some(self.lambda.clone()),
            functions: self.functions.clone(),
            mappings: self
                .mappings
                .iter()
                .map(|(spec, stats)| {
                    stats.snapshot(&spec.uuid, &spec.function_name, &spec.stream_arn)
                })
                .collect(),
            firehose: self
                .firehose
                .as_ref()
                .map(|(names, stats)| FirehoseStatus::snapshot(names, stats)),
            schedules: self
                .schedules
                .iter()
                .map(|(spec, stats)| stats.snapshot(spec))
                .collect(),
        }
    }
}

impl DataPlane {
    /// A builder with the documented defaults.
    pub fn builder() -> DataPlaneBuilder {
        DataPlaneBuilder::default()
    }

    /// The function host (for the REST API executor's Lambda integrations).
    pub fn host(&self) -> &FunctionHost {
        &self.host
    }

    /// What was read from the emulator.
    pub fn deployed(&self) -> &Deployed {
        &self.deployed
    }

    /// Functions deployed without a binary here.
    pub fn missing_binaries(&self) -> &[String] {
        &self.missing
    }

    /// The mappings that will be polled.
    pub fn mappings(&self) -> Vec<MappingSpec> {
        self.mappings.iter().map(|m| (**m.spec()).clone()).collect()
    }

    /// The address the REST API executor listens on, when it serves.
    pub fn api_address(&self) -> Option<&str> {
        self.api.as_deref()
    }

    /// The address Lambda's Invoke API listens on (given to every function as
    /// [`LAMBDA_ENDPOINT_VAR`]).
    pub fn lambda_address(&self) -> &str {
        &self.lambda
    }

    /// The executor's base URL given to every function as [`EXECUTE_API_ENDPOINT_VAR`], when
    /// it serves.
    pub fn execute_api_url(&self) -> Option<&str> {
        self.execute_api_url.as_deref()
    }

    /// The base URL of each deployed API stage (LocalStack's address scheme), with its name.
    pub fn api_urls(&self) -> &[String] {
        &self.api_urls
    }

    /// The delivery streams that will be delivered to S3 (see [`firehose`](kstream_local_firehose)).
    pub fn delivery_streams(&self) -> &[DeliveryConfig] {
        self.firehose.as_ref().map_or(&[], |f| &f.configs)
    }

    /// Delivery streams of this deployment that are not delivered here, with the reason.
    pub fn skipped_delivery_streams(&self) -> &[(String, String)] {
        self.firehose.as_ref().map_or(&[], |f| &f.skipped)
    }

    /// The schedules that will be fired (disabled ones included, never fired).
    pub fn schedules(&self) -> Vec<ScheduleSpec> {
        self.scheduler.as_ref().map_or_else(Vec::new, |s| {
            s.schedules()
                .iter()
                .map(|(spec, _)| (**spec).clone())
                .collect()
        })
    }

    /// Schedules of this deployment that are not fired here (`group/name`), with the reason.
    pub fn skipped_schedules(&self) -> &[(String, String)] {
        &self.skipped_schedules
    }

    /// A handle on the live counters.
    pub fn status(&self) -> StatusHandle {
        StatusHandle {
            mappings: self
                .mappings
                .iter()
                .map(|m| (m.spec().clone(), m.stats().clone()))
                .collect(),
            functions: self.host.functions().into_iter().map(|f| f.name).collect(),
            api: self.api.clone(),
            lambda: self.lambda.clone(),
            firehose: self
                .firehose
                .as_ref()
                .filter(|f| !f.configs.is_empty())
                .map(|f| {
                    (
                        f.configs.iter().map(|c| c.name.clone()).collect(),
                        Arc::clone(&f.stats),
                    )
                }),
            schedules: self
                .scheduler
                .as_ref()
                .map_or_else(Vec::new, |s| s.schedules().to_vec()),
            started_at: self.started_at.clone(),
        }
    }

    /// Runs every mapping, the REST API executor, the Firehose delivery and the schedules until
    /// `shutdown` completes; then lets in-flight invocations finish, flushes the Firehose buffers to S3
    /// (invoking the transforms), saves checkpoints, stops the function processes and writes the
    /// final status.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        let status = self.status();
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut runners = tokio::task::JoinSet::new();
        for runner in self.mappings {
            let stop = stop_rx.clone();
            runners.spawn(async move {
                let uuid = runner.spec().uuid.clone();
                (uuid, runner.run(stop).await)
            });
        }
        let state_dir = self.state_dir.clone();
        let writer_status = status.clone();
        let mut writer_stop = stop_rx.clone();
        let writer = tokio::spawn(async move {
            loop {
                if let Err(e) = writer_status.report("running").write(&state_dir) {
                    tracing::warn!(error = %e, "could not write the status file");
                }
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = writer_stop.wait_for(|s| *s) => break,
                }
            }
        });
        let api_server = self.server.map(|(executor, listener)| {
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                if let Err(e) = kstream_local_apigw::serve(executor, listener, stopped).await {
                    tracing::error!(error = %e, "the REST API executor stopped");
                }
            })
        });
        let lambda_server = {
            let mut stop = stop_rx.clone();
            let (listener, upstream) = self.lambda_server;
            let host = self.host.clone();
            tokio::spawn(async move {
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                if let Err(e) = invoke_api::serve(listener, host, upstream, stopped).await {
                    tracing::error!(error = %e, "Lambda's Invoke API stopped");
                }
            })
        };
        let mut deliveries = tokio::task::JoinSet::new();
        if let Some(firehose) = self.firehose {
            for config in firehose.configs {
                let delivery = firehose.delivery.clone();
                let mut stop = stop_rx.clone();
                deliveries.spawn(async move {
                    let name = config.name.clone();
                    let stopped = async move {
                        let _ = stop.wait_for(|s| *s).await;
                    };
                    (name, delivery.run_one(config, stopped).await)
                });
            }
        }
        let scheduler = self.scheduler.map(|scheduler| {
            let stop = stop_rx.clone();
            tokio::spawn(scheduler.run(stop))
        });
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                joined = runners.join_next(), if !runners.is_empty() => {
                    if let Some(Ok((uuid, Err(e)))) = joined {
                        tracing::error!(mapping = %uuid, error = %e, "mapping stopped");
                    }
                }
                joined = deliveries.join_next(), if !deliveries.is_empty() => {
                    if let Some(Ok((name, Err(e)))) = joined {
                        tracing::error!(delivery_stream = %name, error = %e, "firehose delivery stopped");
                    }
                }
            }
        }
        tracing::info!("stopping: finishing in-flight invocations");
        stop_tx.send_replace(true);
        while let Some(joined) = runners.join_next().await {
            if let Ok((uuid, Err(e))) = joined {
                tracing::error!(mapping = %uuid, error = %e, "mapping stopped");
            }
        }
        // Before the host stops: flushing invokes the transforms one last time.
        while let Some(joined) = deliveries.join_next().await {
            if let Ok((name, Err(e))) = joined {
                tracing::error!(delivery_stream = %name, error = %e, "firehose delivery stopped");
            }
        }
        if let Some(scheduler) = scheduler {
            let _ = scheduler.await;
        }
        let _ = writer.await;
        if let Some(server) = api_server {
            let _ = server.await;
        }
        let _ = lambda_server.await;
        self.host.shutdown().await;
        status.report("stopped").write(&self.state_dir)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{DataPlane, execute_api_endpoint};

    #[tokio::test]
    async fn the_api_listens_on_loopback_only() {
        let dir = tempfile::tempdir().unwrap();
        let sdk = aws_config::SdkConfig::builder().build();
        for addr in ["0.0.0.0:0", "[::]:0", "192.0.2.1:4567"] {
            let err = DataPlane::builder()
                .state_dir(dir.path().join("state"))
                .api_addr(addr.parse().unwrap())
                .start(&sdk)
                .await
                .expect_err("refused");
            assert!(
                matches!(err, crate::Error::NotLoopback { .. }),
                "{addr}: {err}"
            );
        }
        assert!(
            !dir.path().join("state").exists(),
            "refused before anything is written"
        );
    }

    #[test]
    fn execute_api_endpoint_reaches_the_listener() {
        assert_eq!(
            execute_api_endpoint("127.0.0.1:4567".parse().unwrap()),
            "http://127.0.0.1:4567"
        );
        assert_eq!(
            execute_api_endpoint("0.0.0.0:4567".parse().unwrap()),
            "http://127.0.0.1:4567"
        );
        assert_eq!(
            execute_api_endpoint("[::]:80".parse().unwrap()),
            "http://[::1]:80"
        );
    }
}
