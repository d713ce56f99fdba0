//! The executor: the compiled deployment and the request pipeline (route, authorize, check the
//! API key and throttles, validate, integrate, map the response), one function per stage in
//! `stages`, the integrations in `integration`.

mod integration;
mod stages;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use regex::Regex;
use serde_json::json;

use crate::auth::Limiter;
use crate::backend::AwsBackend;
use crate::invoke::{LambdaInvoker, NoLambda};
use crate::model::{DeployedApi, Deployment, Throttle};
use crate::routing::PathTemplate;
use crate::signature::IamCredentials;
use crate::validate::Models;
use crate::vtl::Template;

/// The account id used in `$context.accountId` and ARNs when none is configured: moto's
/// default account.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";

/// The default integration timeout (API Gateway's 29 s) for integrations that set none.
pub const DEFAULT_INTEGRATION_TIMEOUT: Duration = Duration::from_millis(29_000);

/// An HTTP response produced by the executor.
#[derive(Debug, Clone)]
pub struct ExecutorResponse {
    /// Status code.
    pub status: StatusCode,
    /// Headers (always with `x-amzn-RequestId`).
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

/// One request, as the server hands it to the executor.
#[derive(Debug, Clone)]
pub struct ExecutorRequest {
    /// The REST API id.
    pub api_id: String,
    /// The stage name.
    pub stage: String,
    /// The resource path as sent (percent-encoded), starting with `/`, without the stage.
    pub path: String,
    /// The raw query string (without `?`).
    pub query: Option<String>,
    /// The HTTP method.
    pub method: http::Method,
    /// Request headers.
    pub headers: HeaderMap,
    /// Request body.
    pub body: Bytes,
    /// The client address (`$context.identity.sourceIp`).
    pub source_ip: String,
    /// The host name the request used (`$context.domainName`).
    pub domain_name: String,
    /// The path as the client sent it (percent-encoded, stage included): what an `AWS_IAM`
    /// signature covers.
    pub request_path: String,
}

struct CompiledApi {
    api: DeployedApi,
    routes: Vec<PathTemplate>,
    models: Models,
    templates: HashMap<String, Result<Arc<Template>, String>>,
    patterns: HashMap<String, Option<Regex>>,
}

/// Request counters, for status lines.
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    ok: AtomicU64,
    client_errors: AtomicU64,
    server_errors: AtomicU64,
    throttled: AtomicU64,
}

/// A snapshot of the executor's request counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecutorStats {
    /// Requests answered.
    pub requests: u64,
    /// Answered with 1xx–3xx.
    pub ok: u64,
    /// Answered with 4xx (throttling included).
    pub client_errors: u64,
    /// Answered with 5xx.
    pub server_errors: u64,
    /// Answered with 429.
    pub throttled: u64,
}

/// One method of a deployed API stage, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// The API id.
    pub api_id: String,
    /// The API name.
    pub api_name: String,
    /// The stage.
    pub stage: String,
    /// The HTTP method (or `ANY`).
    pub method: String,
    /// The resource path template.
    pub path: String,
    /// The integration type.
    pub integration: String,
}

impl RouteInfo {
    /// The local URL of this route under `base` (such as `http://127.0.0.1:4567`), in the
    /// `/restapis/…/_user_request_` scheme.
    pub fn url(&self, base: &str) -> String {
        format!(
            "{}/restapis/{}/{}/_user_request_{}",
            base.trim_end_matches('/'),
            self.api_id,
            self.stage,
            self.path
        )
    }
}

struct Inner {
    http: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<Bytes>,
    >,
    counters: Counters,
    deployment: Deployment,
    apis: HashMap<String, CompiledApi>,
    invoker: Arc<dyn LambdaInvoker>,
    backend: Option<AwsBackend>,
    limiter: Limiter,
    account_id: String,
    iam: Option<IamCredentials>,
}

/// Serves a [`Deployment`]: cheap to clone (shared state: throttle buckets, quotas).
#[derive(Clone)]
pub struct Executor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("apis", &self.inner.apis.keys().collect::<Vec<_>>())
            .field("backend", &self.inner.backend)
            .field("account_id", &self.inner.account_id)
            .finish()
    }
}

/// Configures an [`Executor`].
pub struct ExecutorBuilder {
    deployment: Deployment,
    invoker: Arc<dyn LambdaInvoker>,
    backend: Option<AwsBackend>,
    account_id: String,
    iam: Option<IamCredentials>,
}

impl ExecutorBuilder {
    /// Verify `AWS_IAM` signatures: requests must be signed with these credentials (see
    /// [`signature`](crate::signature)). By default only the `Authorization` header's shape is
    /// checked.
    pub fn iam_credentials(mut self, credentials: IamCredentials) -> Self {
        self.iam = Some(credentials);
        self
    }

    /// How Lambda integrations run. By default, [`NoLambda`]: Lambda integrations answer 500.
    pub fn invoker(mut self, invoker: Arc<dyn LambdaInvoker>) -> Self {
        self.invoker = invoker;
        self
    }

    /// Where `AWS` service integrations go. By default none: they answer 500.
    pub fn backend(mut self, backend: AwsBackend) -> Self {
        self.backend = Some(backend);
        self
    }

    /// The account id in `$context` and the proxy event. By default
    /// [`DEFAULT_ACCOUNT_ID`] (moto's account).
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = account_id.into();
        self
    }

    /// Compiles routes, models, templates and selection patterns. Problems in them (a template
    /// that does not parse, an invalid schema or regex) are logged here and answered with 500
    /// when a request needs them, as API Gateway reports configuration errors.
    pub fn build(self) -> Executor {
        let apis = self
            .deployment
            .apis
            .iter()
            .map(|api| (api.id.clone(), compile(api)))
            .collect();
        Executor {
            inner: Arc::new(Inner {
                deployment: self.deployment,
                apis,
                invoker: self.invoker,
                backend: self.backend,
                limiter: Limiter::default(),
                counters: Counters::default(),
                http: crate::backend::http_client(),
                account_id: self.account_id,
                iam: self.iam,
            }),
        }
    }
}

fn compile(api: &DeployedApi) -> CompiledApi {
    let routes = api
        .resources
        .iter()
        .map(|r| PathTemplate::new(&r.path))
        .collect();
    let mut templates = HashMap::new();
    let mut patterns = HashMap::new();
    for resource in &api.resources {
        for method in resource.methods.values() {
            let Some(integration) = &method.method_integration else {
                continue;
            };
            let responses = integration.integration_responses.values();
            let sources = integration.request_templates.values().chain(
                responses
                    .clone()
                    .flat_map(|r| r.response_templates.values()),
            );
            for src in sources {
                templates.entry(src.clone()).or_insert_with(|| {
                    Template::parse(src).map(Arc::new).map_err(|e| {
                        tracing::warn!(api = %api.id, path = %resource.path, method = %method.http_method, error = %e, "mapping template does not parse");
                        e.to_string()
                    })
                });
            }
            for p in responses.filter_map(|r| r.selection_pattern.as_deref()) {
                patterns.entry(p.to_owned()).or_insert_with(|| {
                    Regex::new(&format!("^(?s:{p})$"))
                        .inspect_err(|e| {
                            tracing::warn!(api = %api.id, pattern = %p, error = %e, "selection pattern is not a valid regular expression");
                        })
                        .ok()
                });
            }
        }
    }
    CompiledApi {
        api: api.clone(),
        routes,
        models: Models::compile(api),
        templates,
        patterns,
    }
}

/// A response API Gateway itself produces (`{"message": …}` with `x-amzn-ErrorType`).
pub(crate) fn gateway_error(status: u16, message: &str, error_type: &str) -> ExecutorResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(error_type) {
        headers.insert("x-amzn-errortype", v);
    }
    ExecutorResponse {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers,
        body: Bytes::from(json!({ "message": message }).to_string()),
    }
}

fn internal_error() -> ExecutorResponse {
    gateway_error(500, "Internal server error", "InternalServerErrorException")
}

fn missing_token() -> ExecutorResponse {
    gateway_error(
        403,
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    )
}

/// Parses a query string into name → values (percent-decoded, `+` as space).
pub(crate) fn parse_query(q: Option<&str>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in q.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let dec = |s: &str| crate::routing::percent_decode(&s.replace('+', " "));
        out.entry(dec(k)).or_default().push(dec(v));
    }
    out
}

/// The stage method setting key (`~1record/POST`, `*/*`) that applies, most specific first.
fn stage_throttle(
    api: &DeployedApi,
    stage: &str,
    resource_path: &str,
    method: &str,
) -> Option<Throttle> {
    let settings = &api.stage(stage)?.method_settings;
    let encoded = resource_path.trim_start_matches('/').replace('/', "~1");
    let candidates = [
        format!("{encoded}/{method}"),
        format!("~1{encoded}/{method}"),
        format!("{encoded}/*"),
        format!("~1{encoded}/*"),
        "*/*".to_owned(),
    ];
    candidates.iter().find_map(|k| {
        settings.get(k).and_then(|s| {
            s.throttling_rate_limit.map(|rate| Throttle {
                rate_limit: Some(rate),
                burst_limit: s.throttling_burst_limit,
            })
        })
    })
}

impl Executor {
    /// Starts configuring an executor for `deployment`.
    pub fn builder(deployment: Deployment) -> ExecutorBuilder {
        ExecutorBuilder {
            deployment,
            invoker: Arc::new(NoLambda),
            backend: None,
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            iam: None,
        }
    }

    /// The deployment served.
    pub fn deployment(&self) -> &Deployment {
        &self.inner.deployment
    }

    /// Runs one request through the pipeline.
    pub async fn execute(&self, req: ExecutorRequest, request_id: &str) -> ExecutorResponse {
        let mut resp = self.run_stages(&req, request_id).await;
        if let Ok(v) = HeaderValue::from_str(request_id) {
            resp.headers.insert("x-amzn-requestid", v);
        }
        let c = &self.inner.counters;
        c.requests.fetch_add(1, Ordering::Relaxed);
        match resp.status.as_u16() {
            429 => {
                c.throttled.fetch_add(1, Ordering::Relaxed);
                c.client_errors.fetch_add(1, Ordering::Relaxed);
            }
            400..=499 => {
                c.client_errors.fetch_add(1, Ordering::Relaxed);
            }
            500.. => {
                c.server_errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                c.ok.fetch_add(1, Ordering::Relaxed);
            }
        }
        tracing::debug!(%request_id, api = %req.api_id, stage = %req.stage, method = %req.method, path = %req.path, status = resp.status.as_u16(), "apigw request");
        resp
    }

    /// The request counters so far.
    pub fn stats(&self) -> ExecutorStats {
        let c = &self.inner.counters;
        ExecutorStats {
            requests: c.requests.load(Ordering::Relaxed),
            ok: c.ok.load(Ordering::Relaxed),
            client_errors: c.client_errors.load(Ordering::Relaxed),
            server_errors: c.server_errors.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
        }
    }

    /// Every method of every deployed stage, sorted by API, stage, path and method.
    pub fn routes(&self) -> Vec<RouteInfo> {
        let mut out = Vec::new();
        for api in &self.inner.deployment.apis {
            for stage in &api.stages {
                for resource in &api.resources {
                    for method in resource.methods.values() {
                        out.push(RouteInfo {
                            api_id: api.id.clone(),
                            api_name: api.name.clone(),
                            stage: stage.stage_name.clone(),
                            method: method.http_method.clone(),
                            path: resource.path.clone(),
                            integration: method
                                .method_integration
                                .as_ref()
                                .map(|i| i.integration_type.clone())
                                .unwrap_or_default(),
                        });
                    }
                }
            }
        }
        out.sort_by(|a, b| {
            (&a.api_id, &a.stage, &a.path, &a.method)
                .cmp(&(&b.api_id, &b.stage, &b.path, &b.method))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::integration::select_response;
    use super::*;
    use crate::model::{Integration, IntegrationResponse};

    fn integration(responses: &[(&str, Option<&str>)]) -> Integration {
        let mut i = Integration {
            integration_type: "AWS".into(),
            uri: Some("arn:aws:apigateway:us-east-1:kinesis:action/PutRecord".into()),
            ..Integration::default()
        };
        for (status, pattern) in responses {
            i.integration_responses.insert(
                status.to_string(),
                IntegrationResponse {
                    status_code: status.to_string(),
                    selection_pattern: pattern.map(str::to_owned),
                    ..IntegrationResponse::default()
                },
            );
        }
        i
    }

    fn compiled_with(i: &Integration) -> CompiledApi {
        use super::super::model::Method;
        let mut api = DeployedApi::default();
        let mut method = Method {
            http_method: "POST".into(),
            ..Method::default()
        };
        method.method_integration = Some(i.clone());
        let mut resource = super::super::model::Resource {
            path: "/record".into(),
            ..Default::default()
        };
        resource.methods.insert("POST".into(), method);
        api.resources.push(resource);
        compile(&api)
    }

    #[test]
    fn selection_patterns_match_the_whole_status_code() {
        // The pattern 1 module's responses.
        let i = integration(&[
            ("200", None),
            ("400", Some("4\\d{2}")),
            ("500", Some("5\\d{2}")),
        ]);
        let c = compiled_with(&i);
        let pick = |s: &str| select_response(&c, &i, s, false).map(|r| r.status_code.clone());
        assert_eq!(pick("200").as_deref(), Some("200"));
        assert_eq!(pick("400").as_deref(), Some("400"));
        assert_eq!(pick("429").as_deref(), Some("400"));
        assert_eq!(pick("503").as_deref(), Some("500"));
        assert_eq!(pick("4000").as_deref(), Some("200"), "full match only");
        // The reference's responses: only "500" is mapped; Kinesis 4xx falls to the default 200.
        let i = integration(&[("200", None), ("500", Some("500"))]);
        let c = compiled_with(&i);
        assert_eq!(
            select_response(&c, &i, "400", false).unwrap().status_code,
            "200"
        );
        assert_eq!(
            select_response(&c, &i, "500", false).unwrap().status_code,
            "500"
        );
        // Without a default, an unmatched status has no response (500 to the client).
        let i = integration(&[("400", Some("4\\d{2}"))]);
        let c = compiled_with(&i);
        assert!(select_response(&c, &i, "200", false).is_none());
        // An empty pattern is the default too.
        let i = integration(&[("201", Some(""))]);
        let c = compiled_with(&i);
        assert_eq!(
            select_response(&c, &i, "200", false).unwrap().status_code,
            "201"
        );
    }

    #[test]
    fn lambda_custom_integrations_match_the_error_message() {
        let mut i = integration(&[
            ("200", None),
            ("400", Some(".*Bad request.*")),
            ("500", Some("(?i)internal.*")),
        ]);
        i.uri = Some("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:f/invocations".into());
        let c = compiled_with(&i);
        assert_eq!(
            select_response(&c, &i, "x Bad request y", true)
                .unwrap()
                .status_code,
            "400"
        );
        assert_eq!(
            select_response(&c, &i, "Internal oops", true)
                .unwrap()
                .status_code,
            "500"
        );
        assert_eq!(
            select_response(&c, &i, "other", true).unwrap().status_code,
            "200"
        );
        assert_eq!(
            select_response(&c, &i, "", false).unwrap().status_code,
            "200"
        );
    }

    #[test]
    fn query_strings_are_decoded_and_multi_valued() {
        let q = parse_query(Some("a=1&a=2&b=x%20y+z&c"));
        assert_eq!(q["a"], vec!["1", "2"]);
        assert_eq!(q["b"], vec!["x y z"]);
        assert_eq!(q["c"], vec![""]);
        assert!(parse_query(None).is_empty());
    }

    #[test]
    fn stage_method_settings_most_specific_first() {
        use super::super::model::{MethodSetting, Stage};
        let mut api = DeployedApi::default();
        let mut stage = Stage {
            stage_name: "prod".into(),
            ..Stage::default()
        };
        let setting = |r: f64, b: i64| MethodSetting {
            throttling_rate_limit: Some(r),
            throttling_burst_limit: Some(b),
        };
        stage
            .method_settings
            .insert("*/*".into(), setting(100.0, 50));
        stage
            .method_settings
            .insert("~1records/POST".into(), setting(5.0, 1));
        api.stages.push(stage);
        assert_eq!(
            stage_throttle(&api, "prod", "/records", "POST")
                .unwrap()
                .rate_limit,
            Some(5.0)
        );
        assert_eq!(
            stage_throttle(&api, "prod", "/record", "POST")
                .unwrap()
                .rate_limit,
            Some(100.0)
        );
        assert!(stage_throttle(&api, "dev", "/record", "POST").is_none());
    }
}
