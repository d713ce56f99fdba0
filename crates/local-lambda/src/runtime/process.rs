//! One function process: its own Runtime API listener, the child process, its logs.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::api::{self, Invocation, RuntimeState};
use super::{FunctionError, FunctionSpec, HostConfig, InvokeResult};
use crate::error::{Error, Result};

/// Where a function's output goes: `logs/<function>.log`, and the console if asked.
#[derive(Debug)]
pub(crate) struct LogSink {
    function: String,
    file: Option<Mutex<std::fs::File>>,
    console: bool,
}

impl LogSink {
    pub(crate) fn open(function: &str, dir: Option<&Path>, console: bool) -> Result<Self> {
        let file = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                    what: "creating the log directory",
                    path: dir.to_path_buf(),
                    source,
                })?;
                let path = dir.join(format!("{function}.log"));
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|source| Error::Io {
                        what: "opening the function log",
                        path,
                        source,
                    })?;
                Some(Mutex::new(file))
            }
            None => None,
        };
        Ok(Self {
            function: function.to_owned(),
            file,
            console,
        })
    }

    /// Appends one line (a line of the function's output, or a START/END/REPORT line).
    pub(crate) fn line(&self, line: &str) {
        if let Some(file) = &self.file {
            let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
            if let Err(err) = writeln!(file, "{line}") {
                tracing::warn!(function = %self.function, error = %err, "could not write the function log");
            }
        }
        if self.console {
            let mut stderr = std::io::stderr().lock();
            // The console is best effort: a closed stderr must not stop the function.
            let _ = writeln!(stderr, "[{}] {line}", self.function);
        }
    }
}

/// A running function process with its Runtime API.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) id: u64,
    invocations: mpsc::Sender<Invocation>,
    state: Arc<RuntimeState>,
    exited: watch::Receiver<Option<String>>,
    kill: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    healthy: bool,
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Dropping `kill` makes the wait task kill the child; the listener goes with the task.
        self.kill.take();
        self.server.abort();
    }
}

/// The environment a function process starts with, as on Lambda (see the crate docs).
pub(crate) fn environment(
    spec: &FunctionSpec,
    config: &HostConfig,
    runtime_api: SocketAddr,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| {
        env.retain(|(key, _)| key != k);
        env.push((k.to_owned(), v));
    };
    set("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned());
    set("LANG", "en_US.UTF-8".to_owned());
    set("TZ", ":UTC".to_owned());
    if let Some(endpoint) = &config.aws.endpoint_url {
        set("AWS_ENDPOINT_URL", endpoint.clone());
    }
    // The function's own environment, as deployed (may override the endpoint, not the reserved names).
    for (k, v) in &spec.environment {
        set(k, v.clone());
    }
    for (k, v) in &config.extra_env {
        set(k, v.clone());
    }
    let binary = std::fs::canonicalize(&spec.binary).unwrap_or_else(|_| spec.binary.clone());
    let task_root = binary
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    set("LAMBDA_TASK_ROOT", task_root.clone());
    set("LAMBDA_RUNTIME_DIR", task_root);
    set("_HANDLER", spec.handler.clone());
    set("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned());
    set("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone());
    set(
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        spec.memory_mb.to_string(),
    );
    set("AWS_LAMBDA_FUNCTION_VERSION", spec.version.clone());
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned());
    set("AWS_REGION", spec.region.clone());
    set("AWS_DEFAULT_REGION", spec.region.clone());
    set("AWS_LAMBDA_LOG_GROUP_NAME", spec.log_group());
    set(
        "AWS_LAMBDA_LOG_STREAM_NAME",
        format!(
            "{}/[{}]local",
            chrono::Utc::now().format("%Y/%m/%d"),
            spec.version
        ),
    );
    set("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string());
    if let Some(format) = &spec.log_format {
        set("AWS_LAMBDA_LOG_FORMAT", format.clone());
    }
    if let Some(level) = &spec.log_level {
        set("AWS_LAMBDA_LOG_LEVEL", level.clone());
    }
    set("AWS_ACCESS_KEY_ID", config.aws.access_key_id.clone());
    set(
        "AWS_SECRET_ACCESS_KEY",
        config.aws.secret_access_key.clone(),
    );
    if let Some(token) = &config.aws.session_token {
        set("AWS_SESSION_TOKEN", token.clone());
    }
    env
}

fn pipe_lines<R>(reader: R, log: Arc<LogSink>)
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        loop {
            match lines.next_line().await {
                Ok(Some(line)) => log.line(&line),
                Ok(None) => break,
                Err(err) => {
                    tracing::debug!(error = %err, "function output closed");
                    break;
                }
            }
        }
    });
}

impl Instance {
    /// Starts the function's bootstrap with its own Runtime API listener.
    pub(crate) async fn spawn(
        id: u64,
        spec: &FunctionSpec,
        config: &HostConfig,
        log: Arc<LogSink>,
    ) -> Result<Self> {
        if !spec.binary.is_file() {
            return Err(Error::MissingBinary {
                function: spec.name.clone(),
                path: spec.binary.clone(),
            });
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| Error::Bind {
                addr: "127.0.0.1:0".to_owned(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: "127.0.0.1:0".to_owned(),
            source,
        })?;
        let (tx, rx) = mpsc::channel(1);
        let state = RuntimeState::new(spec.arn.clone(), rx);
        let app = api::routes(state.clone());
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::warn!(error = %err, "runtime API listener stopped");
            }
        });

        // Absolute, since the process starts in the binary's directory (LAMBDA_TASK_ROOT).
        let binary = std::fs::canonicalize(&spec.binary).map_err(|source| Error::Spawn {
            function: spec.name.clone(),
            path: spec.binary.clone(),
            source,
        })?;
        let mut command = Command::new(&binary);
        command
            .env_clear()
            .envs(environment(spec, config, addr))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = binary.parent() {
            command.current_dir(dir);
        }
        let mut child = command.spawn().map_err(|source| Error::Spawn {
            function: spec.name.clone(),
            path: spec.binary.clone(),
            source,
        })?;
        if let Some(out) = child.stdout.take() {
            pipe_lines(out, log.clone());
        }
        if let Some(err) = child.stderr.take() {
            pipe_lines(err, log.clone());
        }
        let (exit_tx, exit_rx) = watch::channel(None);
        let (kill_tx, kill_rx) = oneshot::channel::<()>();
        let function = spec.name.clone();
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                _ = kill_rx => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            let description = match status {
                Ok(status) => describe_exit(status),
                Err(err) => format!("wait failed: {err}"),
            };
            tracing::debug!(%function, instance = id, %description, "function process ended");
            exit_tx.send_replace(Some(description));
        });
        tracing::debug!(function = %spec.name, instance = id, %addr, "function process started");
        Ok(Self {
            id,
            invocations: tx,
            state,
            exited: exit_rx,
            kill: Some(kill_tx),
            server,
            healthy: true,
        })
    }

    /// Whether the process can take another invocation.
    pub(crate) fn is_healthy(&self) -> bool {
        self.healthy && self.exited.borrow().is_none()
    }

    fn exit_error(&mut self, request_id: &str) -> InvokeResult {
        self.healthy = false;
        let how = self
            .exited
            .borrow()
            .clone()
            .unwrap_or_else(|| "the process went away".to_owned());
        InvokeResult::Error(FunctionError::new(
            "Runtime.ExitError",
            format!("RequestId: {request_id} Error: Runtime exited with error: {how}"),
        ))
    }

    /// Runs one invocation; the caller has made sure no other one is running on this instance.
    pub(crate) async fn invoke(
        &mut self,
        request_id: &str,
        payload: Bytes,
        timeout: Duration,
        init_timeout: Duration,
        trace_id: String,
    ) -> InvokeResult {
        let (taken_tx, taken_rx) = oneshot::channel();
        let (resp_tx, resp_rx) = oneshot::channel();
        let invocation = Invocation {
            request_id: request_id.to_owned(),
            payload,
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            trace_id,
            taken: taken_tx,
            responder: resp_tx,
        };
        if self.invocations.send(invocation).await.is_err() {
            return self.exit_error(request_id);
        }
        let mut exited = self.exited.clone();
        let mut init_error = self.state.init_error();
        let already_initialized = *self.state.initialized().borrow();
        let init_wait = if already_initialized {
            // A warm process picks the invocation up at once; allow generously for scheduling.
            init_timeout.max(Duration::from_secs(1))
        } else {
            init_timeout
        };

        // Phase 1: the process (re)initializes and takes the invocation through /next.
        tokio::select! {
            biased;
            taken = taken_rx => {
                if taken.is_err() {
                    return self.exit_error(request_id);
                }
            }
            error = init_error.wait_for(Option::is_some) => {
                self.healthy = false;
                self.kill.take();
                let error = error.ok().and_then(|e| e.clone()).unwrap_or_else(|| {
                    FunctionError::new("Runtime.InitError", "initialization failed")
                });
                return InvokeResult::Error(error);
            }
            _ = exited.wait_for(Option::is_some) => {
                return self.exit_error(request_id);
            }
            () = tokio::time::sleep(init_wait) => {
                self.healthy = false;
                self.kill.take();
                return InvokeResult::Error(FunctionError::new(
                    "Sandbox.Timedout",
                    format!("RequestId: {request_id} Error: the runtime did not ask for the invocation within {:.2} seconds (init timeout)", init_wait.as_secs_f64()),
                ));
            }
        }

        // Phase 2: the function runs until it answers, exits, or its timeout passes.
        tokio::select! {
            biased;
            result = resp_rx => match result {
                Ok(result) => result,
                Err(_) => self.exit_error(request_id),
            },
            _ = exited.wait_for(Option::is_some) => self.exit_error(request_id),
            () = tokio::time::sleep(timeout) => {
                self.state.abandon(request_id);
                self.healthy = false;
                self.kill.take();
                InvokeResult::Error(FunctionError::new(
                    "Sandbox.Timedout",
                    format!(
                        "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                        timeout.as_secs_f64()
                    ),
                ))
            }
        }
    }

    /// Stops the process and waits (briefly) until it is gone.
    pub(crate) async fn stop(mut self) {
        self.kill.take();
        let mut exited = self.exited.clone();
        let _ =
            tokio::time::timeout(Duration::from_secs(5), exited.wait_for(Option::is_some)).await;
    }
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            let name = match signal {
                6 => "aborted",
                9 => "killed",
                11 => "segmentation fault",
                15 => "terminated",
                _ => "signal",
            };
            return format!("signal: {name} ({signal})");
        }
    }
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => status.to_string(),
    }
}
