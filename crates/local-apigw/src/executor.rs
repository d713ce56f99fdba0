//! The request pipeline: route, authorize, check the API key and throttles, validate, integrate,
//! map the response.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use regex::Regex;
use serde_json::{Map, Value, json};

use super::auth::{self, Limited, Limiter, Principal};
use super::authorizer::{self, AuthRequest, Refusal};
use super::backend::{AwsBackend, BackendResponse, ServiceAction};
use super::invoke::{LambdaInvoker, NoLambda, function_of_uri};
use super::model::{DeployedApi, Deployment, Integration, IntegrationResponse, Throttle};
use super::proxy;
use super::routing::{PathTemplate, best_match};
use super::validate::{BodyRejection, Models, media_type, missing_parameters, model_for};
use super::vtl::{RequestParams, Template, TemplateInput};
use kstream_local_lambda::runtime::InvokeResult;

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
}

impl ExecutorBuilder {
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
                http: super::backend::http_client(),
                account_id: self.account_id,
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
        let dec = |s: &str| super::routing::percent_decode(&s.replace('+', " "));
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
        }
    }

    /// The deployment served.
    pub fn deployment(&self) -> &Deployment {
        &self.inner.deployment
    }

    /// Runs one request through the pipeline.
    pub async fn execute(&self, req: ExecutorRequest, request_id: &str) -> ExecutorResponse {
        let mut resp = self.execute_inner(&req, request_id).await;
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

    async fn execute_inner(&self, req: &ExecutorRequest, request_id: &str) -> ExecutorResponse {
        let inner = &self.inner;
        let Some(compiled) = inner.apis.get(&req.api_id) else {
            return gateway_error(404, "Not Found", "NotFoundException");
        };
        let api = &compiled.api;
        let Some(stage) = api.stage(&req.stage) else {
            return gateway_error(403, "Forbidden", "ForbiddenException");
        };
        // Route: resource, then method (exact verb, else ANY).
        let Some((idx, path_params)) = best_match(compiled.routes.iter().enumerate(), &req.path)
        else {
            return missing_token();
        };
        let resource = &api.resources[idx];
        let Some(method) = resource
            .methods
            .get(req.method.as_str())
            .or_else(|| resource.methods.get("ANY"))
        else {
            return missing_token();
        };
        let now = chrono::Utc::now();
        let query = parse_query(req.query.as_deref());

        // Authorization.
        let principal = match method.authorization_type.as_deref().unwrap_or("NONE") {
            "NONE" => Principal::default(),
            "AWS_IAM" => match auth::check_iam(&req.headers) {
                Ok(p) => p,
                Err(d) => {
                    let t = if d.message == "Missing Authentication Token" {
                        "MissingAuthenticationTokenException"
                    } else {
                        "IncompleteSignatureException"
                    };
                    return gateway_error(d.status, &d.message, t);
                }
            },
            "COGNITO_USER_POOLS" => {
                let Some(authorizer) = method
                    .authorizer_id
                    .as_ref()
                    .and_then(|id| api.authorizers.get(id))
                else {
                    tracing::warn!(api = %api.id, path = %resource.path, "method names no known Cognito authorizer");
                    return internal_error();
                };
                match auth::check_cognito(authorizer, &req.headers, now.timestamp()) {
                    Ok(p) => p,
                    Err(d) => return gateway_error(d.status, &d.message, "UnauthorizedException"),
                }
            }
            "CUSTOM" => {
                let Some(authorizer) = method
                    .authorizer_id
                    .as_ref()
                    .and_then(|id| api.authorizers.get(id))
                else {
                    tracing::warn!(api = %api.id, path = %resource.path, "method names no known Lambda authorizer");
                    return internal_error();
                };
                let region = authorizer
                    .authorizer_uri
                    .as_deref()
                    .and_then(|u| u.split(':').nth(3))
                    .unwrap_or("us-east-1");
                let method_arn = format!(
                    "arn:aws:execute-api:{region}:{}:{}/{}/{}/{}",
                    inner.account_id,
                    api.id,
                    req.stage,
                    req.method,
                    req.path.trim_start_matches('/')
                );
                let auth_req = AuthRequest {
                    method_arn,
                    resource_path: &resource.path,
                    path: &req.path,
                    http_method: req.method.as_str(),
                    headers: &req.headers,
                    query: &query,
                    path_params: &path_params,
                    stage_variables: &stage.variables,
                    request_context: json!({
                        "accountId": inner.account_id, "apiId": api.id, "stage": req.stage,
                        "requestId": request_id, "resourceId": resource.id,
                        "resourcePath": resource.path, "httpMethod": req.method.as_str(),
                        "path": format!("/{}{}", req.stage, req.path),
                        "identity": {"sourceIp": req.source_ip},
                    }),
                };
                match authorizer::authorize(
                    inner.invoker.as_ref(),
                    authorizer,
                    &auth_req,
                    DEFAULT_INTEGRATION_TIMEOUT,
                )
                .await
                {
                    Ok(g) => Principal {
                        authorizer: Some((g.principal_id, g.context)),
                        ..Principal::default()
                    },
                    Err(Refusal::Unauthorized) => {
                        return gateway_error(401, "Unauthorized", "UnauthorizedException");
                    }
                    Err(Refusal::Forbidden(explicit)) => {
                        let message = if explicit {
                            "User is not authorized to access this resource with an explicit deny"
                        } else {
                            "User is not authorized to access this resource"
                        };
                        return gateway_error(403, message, "AccessDeniedException");
                    }
                    Err(Refusal::Failed(e)) => {
                        tracing::warn!(%request_id, authorizer = %authorizer.name, error = %e, "Lambda authorizer failed");
                        let mut r = gateway_error(500, "", "AuthorizerConfigurationException");
                        r.body = Bytes::from_static(br#"{"message":null}"#);
                        return r;
                    }
                }
            }
            other => {
                tracing::warn!(api = %api.id, path = %resource.path, authorization = other, "authorization type not supported by the local executor");
                return internal_error();
            }
        };

        // API key and usage plan.
        let api_key_value = req.headers.get("x-api-key").and_then(|v| v.to_str().ok());
        let grant = if method.api_key_required {
            let from_header = api.api_key_source.as_deref().unwrap_or("HEADER") == "HEADER";
            match auth::check_api_key(
                &inner.deployment,
                api_key_value.filter(|_| from_header),
                &api.id,
                &req.stage,
            ) {
                Some(g) => Some(g),
                None => return gateway_error(403, "Forbidden", "ForbiddenException"),
            }
        } else {
            None
        };

        // Throttling: the stage's method setting, then the usage plan's for this key.
        let method_key = format!("{} {}", resource.path, method.http_method);
        let mut limits = Vec::new();
        if let Some(t) = stage_throttle(api, &req.stage, &resource.path, &method.http_method) {
            limits.push((format!("stage:{}:{}:{method_key}", api.id, req.stage), t));
        }
        if let Some(g) = &grant {
            let plan_stage = g
                .plan
                .api_stages
                .iter()
                .find(|s| s.api_id == api.id && s.stage == req.stage);
            if let Some(t) = plan_stage.and_then(|s| {
                s.throttle
                    .get(&format!("{}/{}", resource.path, method.http_method))
            }) {
                limits.push((format!("plan:{}:{}:{method_key}", g.plan.id, g.key.id), *t));
            }
            if let Some(t) = g.plan.throttle {
                limits.push((format!("plan:{}:{}", g.plan.id, g.key.id), t));
            }
        }
        if inner.limiter.check(&limits, Instant::now()).is_err() {
            return gateway_error(429, "Too Many Requests", "TooManyRequestsException");
        }
        if let Some(g) = &grant
            && let Err(Limited::QuotaExceeded) = inner.limiter.count_quota(g.plan, &g.key.id)
        {
            return gateway_error(429, "Limit Exceeded", "LimitExceededException");
        }

        // Request validation.
        let content_type = req
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if let Some(validator) = method
            .request_validator_id
            .as_ref()
            .and_then(|id| api.request_validators.get(id))
        {
            if validator.validate_request_parameters {
                let missing = missing_parameters(method, &req.headers, &query, &path_params);
                if !missing.is_empty() {
                    return gateway_error(
                        400,
                        &format!(
                            "Missing required request parameters: [{}]",
                            missing.join(", ")
                        ),
                        "BadRequestException",
                    );
                }
            }
            if validator.validate_request_body
                && let Some(model) = model_for(method, content_type)
            {
                match compiled.models.validate(model, &req.body) {
                    Ok(()) => {}
                    Err(BodyRejection::Malformed(e)) => {
                        tracing::debug!(%request_id, error = %e, "request body is not JSON");
                        return gateway_error(400, "Invalid request body", "BadRequestException");
                    }
                    Err(BodyRejection::Invalid(errors)) => {
                        tracing::debug!(%request_id, errors = ?errors, "request body does not match the model");
                        return gateway_error(400, "Invalid request body", "BadRequestException");
                    }
                    Err(BodyRejection::BadModel(e)) => {
                        tracing::warn!(api = %api.id, error = %e, "model does not compile");
                        return internal_error();
                    }
                }
            }
        }

        // The request context shared by the proxy event and `$context`.
        let mut identity = json!({
            "cognitoIdentityPoolId": null, "accountId": null, "cognitoIdentityId": null,
            "caller": null, "sourceIp": req.source_ip, "principalOrgId": null,
            "accessKey": null, "cognitoAuthenticationType": null,
            "cognitoAuthenticationProvider": null, "userArn": null,
            "userAgent": req.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()),
            "user": null, "apiKey": null, "apiKeyId": null,
        });
        if let Some(g) = &grant {
            identity["apiKey"] = json!(g.key.value);
            identity["apiKeyId"] = json!(g.key.id);
        }
        if let Some(ak) = &principal.access_key {
            identity["accessKey"] = json!(ak);
            identity["caller"] = json!(ak);
            identity["user"] = json!(ak);
            identity["accountId"] = json!(inner.account_id);
            identity["userArn"] = json!(format!("arn:aws:iam::{}:user/{ak}", inner.account_id));
        }
        let domain_prefix = req.domain_name.split('.').next().unwrap_or_default();
        let mut request_context = json!({
            "accountId": inner.account_id,
            "apiId": api.id,
            "resourceId": resource.id,
            "resourcePath": resource.path,
            "stage": req.stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "requestTimeEpoch": now.timestamp_millis(),
            "httpMethod": req.method.as_str(),
            "path": format!("/{}{}", req.stage, req.path),
            "protocol": "HTTP/1.1",
            "domainName": req.domain_name,
            "domainPrefix": domain_prefix,
            "identity": identity,
        });
        if let Some(claims) = &principal.claims {
            request_context["authorizer"] = json!({ "claims": claims });
        }
        if let Some((principal_id, context)) = &principal.authorizer {
            let mut a = context.clone();
            a.insert("principalId".into(), json!(principal_id));
            request_context["authorizer"] = Value::Object(a);
        }

        let Some(integration) = &method.method_integration else {
            tracing::warn!(api = %api.id, path = %resource.path, "method has no integration");
            return internal_error();
        };
        let timeout = integration
            .timeout_in_millis
            .filter(|ms| *ms > 0)
            .map(|ms| Duration::from_millis(ms as u64))
            .unwrap_or(DEFAULT_INTEGRATION_TIMEOUT);
        let ctx = Ctx {
            compiled,
            resource_path: &resource.path,
            integration,
            req,
            request_id,
            path_params: &path_params,
            query: &query,
            stage_variables: &stage.variables,
            request_context,
            timeout,
        };
        match integration.integration_type.as_str() {
            "AWS_PROXY" => self.lambda_proxy(&ctx).await,
            "AWS" | "MOCK" | "HTTP" => self.mapped(&ctx).await,
            "HTTP_PROXY" => self.http_proxy(&ctx).await,
            other => {
                tracing::warn!(api = %api.id, path = %resource.path, integration = other, "integration type not supported by the local executor");
                internal_error()
            }
        }
    }

    async fn lambda_proxy(&self, ctx: &Ctx<'_>) -> ExecutorResponse {
        let api = &ctx.compiled.api;
        let content_type = ctx
            .req
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(media_type);
        let binary = content_type.is_some_and(|ct| {
            api.binary_media_types.iter().any(|b| {
                b == "*/*"
                    || b.eq_ignore_ascii_case(&ct)
                    || (b.ends_with("/*") && ct.starts_with(b.trim_end_matches('*')))
            })
        });
        let event = proxy::event(&proxy::ProxyRequest {
            resource_path: ctx.resource_path,
            path: &ctx.req.path,
            http_method: ctx.req.method.as_str(),
            headers: Some(&ctx.req.headers),
            query: ctx.query,
            path_params: ctx.path_params,
            stage_variables: ctx.stage_variables,
            body: &ctx.req.body,
            binary,
            request_context: ctx.request_context.clone(),
        });
        let function = function_of_uri(ctx.integration.uri.as_deref().unwrap_or_default());
        tracing::trace!(request_id = %ctx.request_id, %function, event = %event, "Lambda proxy event");
        let invoked = tokio::time::timeout(
            ctx.timeout,
            self.inner
                .invoker
                .invoke(function, Bytes::from(event.to_string())),
        )
        .await;
        match invoked {
            Err(_) => gateway_error(504, "Endpoint request timed out", "IntegrationTimeout"),
            Ok(Err(e)) => {
                tracing::warn!(request_id = %ctx.request_id, %function, error = %e, "Lambda invocation failed");
                internal_error()
            }
            Ok(Ok(InvokeResult::Error(e))) => {
                tracing::info!(request_id = %ctx.request_id, %function, error_type = %e.error_type, error = %e.error_message, "Lambda function failed");
                gateway_error(502, "Internal server error", "InternalServerErrorException")
            }
            Ok(Ok(InvokeResult::Ok(payload))) => match proxy::response(&payload) {
                Ok(r) => {
                    let mut headers = r.headers;
                    if !headers.contains_key(http::header::CONTENT_TYPE) {
                        headers.insert(
                            http::header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        );
                    }
                    ExecutorResponse {
                        status: r.status,
                        headers,
                        body: r.body,
                    }
                }
                Err(e) => {
                    tracing::info!(request_id = %ctx.request_id, %function, error = %e, "Malformed Lambda proxy response");
                    gateway_error(502, "Internal server error", "InternalServerErrorException")
                }
            },
        }
    }

    /// `AWS` (service or Lambda custom) and `MOCK` integrations: request template, call,
    /// integration response.
    async fn mapped(&self, ctx: &Ctx<'_>) -> ExecutorResponse {
        let integration = ctx.integration;
        let media = media_type(
            ctx.req
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json"),
        );
        let template = integration
            .request_templates
            .iter()
            .find(|(ct, _)| ct.eq_ignore_ascii_case(&media))
            .map(|(_, t)| t);
        let passthrough = integration
            .passthrough_behavior
            .as_deref()
            .unwrap_or("WHEN_NO_MATCH");
        let params = self.template_params(ctx);
        let mut context = template_context(&ctx.request_context);
        let rendered = match template {
            Some(src) => match self.render(
                ctx.compiled,
                src,
                &String::from_utf8_lossy(&ctx.req.body),
                &params,
                &context,
                ctx.stage_variables,
            ) {
                Ok((body, new_ctx)) => {
                    context = new_ctx;
                    Bytes::from(body)
                }
                Err(e) => {
                    tracing::warn!(request_id = %ctx.request_id, error = %e, "request mapping template failed");
                    return internal_error();
                }
            },
            None => {
                let allowed = match passthrough {
                    "NEVER" => false,
                    "WHEN_NO_TEMPLATES" => integration.request_templates.is_empty(),
                    _ => true,
                };
                if !allowed {
                    return gateway_error(
                        415,
                        "Unsupported Media Type",
                        "UnsupportedMediaTypeException",
                    );
                }
                ctx.req.body.clone()
            }
        };

        // Integration request headers: mapped parameters, then `$context.requestOverride.header`.
        let mut headers: Vec<(String, String)> = Vec::new();
        for (dest, src) in &integration.request_parameters {
            if let Some(name) = dest.strip_prefix("integration.request.header.")
                && let Some(v) = self.resolve_source(src, ctx)
            {
                headers.push((name.to_owned(), v));
            }
        }
        if let Some(Value::Object(o)) = context.pointer("/requestOverride/header") {
            for (k, v) in o {
                headers.push((k.clone(), super::vtl::util::java_string(v)));
            }
        }

        // Call the backend; the selection string is the status code, or the Lambda errorMessage.
        let uri = integration.uri.as_deref().unwrap_or_default();
        let (backend, selection, lambda_error) = if integration.integration_type == "MOCK" {
            let status = serde_json::from_slice::<Value>(&rendered)
                .ok()
                .and_then(|v| v.get("statusCode").and_then(Value::as_u64))
                .unwrap_or(200);
            (
                BackendResponse {
                    status: status as u16,
                    headers: HeaderMap::new(),
                    body: Bytes::new(),
                },
                status.to_string(),
                false,
            )
        } else if uri.contains(":lambda:path/") {
            let function = function_of_uri(uri);
            match tokio::time::timeout(ctx.timeout, self.inner.invoker.invoke(function, rendered))
                .await
            {
                Err(_) => {
                    return gateway_error(504, "Endpoint request timed out", "IntegrationTimeout");
                }
                Ok(Err(e)) => {
                    tracing::warn!(request_id = %ctx.request_id, %function, error = %e, "Lambda invocation failed");
                    return internal_error();
                }
                Ok(Ok(InvokeResult::Ok(body))) => (
                    BackendResponse {
                        status: 200,
                        headers: HeaderMap::new(),
                        body,
                    },
                    String::new(),
                    false,
                ),
                Ok(Ok(InvokeResult::Error(e))) => (
                    BackendResponse {
                        status: 200,
                        headers: HeaderMap::new(),
                        body: e.payload.clone(),
                    },
                    e.error_message.clone(),
                    true,
                ),
            }
        } else if integration.integration_type == "HTTP" {
            let url = self.integration_url(ctx, uri, false);
            let method = integration.http_method.as_deref().unwrap_or("POST");
            let method = if method == "ANY" {
                ctx.req.method.as_str()
            } else {
                method
            };
            match super::backend::send_http(
                &self.inner.http,
                method,
                &url,
                &headers,
                rendered,
                ctx.timeout,
            )
            .await
            {
                Ok(r) => {
                    let s = r.status.to_string();
                    (r, s, false)
                }
                Err(e) if e == "timeout" => {
                    return gateway_error(504, "Endpoint request timed out", "IntegrationTimeout");
                }
                Err(e) => {
                    tracing::warn!(request_id = %ctx.request_id, %url, error = %e, "HTTP integration call failed");
                    return internal_error();
                }
            }
        } else if let Some(action) = ServiceAction::parse(uri) {
            let Some(backend) = &self.inner.backend else {
                tracing::warn!(request_id = %ctx.request_id, %uri, "no AWS endpoint configured for AWS integrations");
                return internal_error();
            };
            match backend.call(&action, &headers, rendered, ctx.timeout).await {
                Ok(r) => {
                    let s = r.status.to_string();
                    (r, s, false)
                }
                Err(e) if e == "timeout" => {
                    return gateway_error(504, "Endpoint request timed out", "IntegrationTimeout");
                }
                Err(e) => {
                    tracing::warn!(request_id = %ctx.request_id, %uri, error = %e, "AWS integration call failed");
                    return internal_error();
                }
            }
        } else {
            tracing::warn!(request_id = %ctx.request_id, %uri, "integration URI not supported by the local executor");
            return internal_error();
        };
        tracing::debug!(request_id = %ctx.request_id, status = backend.status, selection = %selection, "integration responded");

        let Some(response) = select_response(ctx.compiled, integration, &selection, lambda_error)
        else {
            tracing::warn!(request_id = %ctx.request_id, status = backend.status, "no integration response matches and none is the default");
            return internal_error();
        };
        self.integration_response(ctx, response, &backend, &params)
    }

    /// `HTTP_PROXY`: the request goes to the backend as it came (headers, query string, body),
    /// and the backend's answer comes back as it is.
    async fn http_proxy(&self, ctx: &Ctx<'_>) -> ExecutorResponse {
        let integration = ctx.integration;
        let url = self.integration_url(ctx, integration.uri.as_deref().unwrap_or_default(), true);
        let method = integration.http_method.as_deref().unwrap_or("ANY");
        let method = if method == "ANY" {
            ctx.req.method.as_str()
        } else {
            method
        };
        let mut headers: Vec<(String, String)> = ctx
            .req
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        for (dest, src) in &integration.request_parameters {
            if let Some(name) = dest.strip_prefix("integration.request.header.")
                && let Some(v) = self.resolve_source(src, ctx)
            {
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
                headers.push((name.to_owned(), v));
            }
        }
        match super::backend::send_http(
            &self.inner.http,
            method,
            &url,
            &headers,
            ctx.req.body.clone(),
            ctx.timeout,
        )
        .await
        {
            Ok(r) => ExecutorResponse {
                status: StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY),
                headers: r.headers,
                body: r.body,
            },
            Err(e) if e == "timeout" => {
                gateway_error(504, "Endpoint request timed out", "IntegrationTimeout")
            }
            Err(e) => {
                tracing::warn!(request_id = %ctx.request_id, %url, error = %e, "HTTP proxy integration failed");
                internal_error()
            }
        }
    }

    /// The backend URL: `{name}` placeholders filled from `integration.request.path.name`
    /// mappings (or the method's path parameter of that name), query parameters from
    /// `integration.request.querystring.*` mappings, plus the whole request query for proxies.
    fn integration_url(&self, ctx: &Ctx<'_>, uri: &str, pass_query: bool) -> String {
        let mut url = uri.to_owned();
        let mut query: Vec<(String, String)> = Vec::new();
        for (dest, src) in &ctx.integration.request_parameters {
            if let Some(name) = dest.strip_prefix("integration.request.path.") {
                if let Some(v) = self.resolve_source(src, ctx) {
                    url = url.replace(&format!("{{{name}}}"), &encode_path(&v));
                }
            } else if let Some(name) = dest.strip_prefix("integration.request.querystring.")
                && let Some(v) = self.resolve_source(src, ctx)
            {
                query.push((name.to_owned(), v));
            }
        }
        for (name, value) in ctx.path_params {
            url = url.replace(&format!("{{{name}}}"), &encode_path(value));
            url = url.replace(&format!("{{{name}+}}"), &encode_path(value));
        }
        if pass_query {
            for (k, vs) in ctx.query {
                for v in vs {
                    query.push((k.clone(), v.clone()));
                }
            }
        }
        if !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        super::vtl::util::url_encode(k),
                        super::vtl::util::url_encode(v)
                    )
                })
                .collect();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&q.join("&"));
        }
        url
    }

    fn integration_response(
        &self,
        ctx: &Ctx<'_>,
        response: &IntegrationResponse,
        backend: &BackendResponse,
        params: &RequestParams,
    ) -> ExecutorResponse {
        let accept = ctx
            .req
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(media_type);
        let templates = &response.response_templates;
        let chosen = accept
            .and_then(|a| templates.iter().find(|(ct, _)| ct.eq_ignore_ascii_case(&a)))
            .or_else(|| templates.iter().find(|(ct, _)| *ct == "application/json"))
            .or_else(|| templates.iter().next());
        let mut context = template_context(&ctx.request_context);
        context["integration"] = json!({ "status": backend.status });
        let mut headers = HeaderMap::new();
        let body = match chosen {
            Some((ct, src)) if !src.trim().is_empty() => {
                let body_text = String::from_utf8_lossy(&backend.body);
                match self.render(
                    ctx.compiled,
                    src,
                    &body_text,
                    params,
                    &context,
                    ctx.stage_variables,
                ) {
                    Ok((out, new_ctx)) => {
                        context = new_ctx;
                        if let Ok(v) = HeaderValue::from_str(ct) {
                            headers.insert(http::header::CONTENT_TYPE, v);
                        }
                        Bytes::from(out)
                    }
                    Err(e) => {
                        tracing::warn!(request_id = %ctx.request_id, error = %e, "response mapping template failed");
                        return internal_error();
                    }
                }
            }
            other => {
                let ct = other
                    .map(|(ct, _)| ct.clone())
                    .or_else(|| {
                        backend
                            .headers
                            .get(http::header::CONTENT_TYPE)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned)
                    })
                    .unwrap_or_else(|| "application/json".to_owned());
                if let Ok(v) = HeaderValue::from_str(&ct) {
                    headers.insert(http::header::CONTENT_TYPE, v);
                }
                backend.body.clone()
            }
        };
        // Response parameters.
        for (dest, src) in &response.response_parameters {
            let Some(name) = dest.strip_prefix("method.response.header.") else {
                continue;
            };
            let value = if let Some(lit) = src.strip_prefix('\'').and_then(|s| s.strip_suffix('\''))
            {
                Some(lit.to_owned())
            } else if let Some(h) = src.strip_prefix("integration.response.header.") {
                backend
                    .headers
                    .get(h)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            } else if src == "integration.response.body" {
                Some(String::from_utf8_lossy(&backend.body).into_owned())
            } else if let Some(path) = src.strip_prefix("integration.response.body.") {
                serde_json::from_slice::<Value>(&backend.body)
                    .ok()
                    .and_then(|doc| {
                        super::jsonpath::select(&doc, &format!("$.{path}"))
                            .ok()
                            .flatten()
                    })
                    .map(|v| match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    })
            } else {
                self.resolve_source(src, ctx)
            };
            if let (Some(v), Ok(n)) = (value, HeaderName::from_bytes(name.as_bytes()))
                && let Ok(v) = HeaderValue::from_str(&v)
            {
                headers.insert(n, v);
            }
        }
        // `$context.responseOverride`.
        let mut status = response.status_code.parse::<u16>().unwrap_or(200);
        if let Some(s) = context.pointer("/responseOverride/status") {
            match s {
                Value::Number(n) => status = n.as_u64().map(|n| n as u16).unwrap_or(status),
                Value::String(t) => status = t.trim().parse().unwrap_or(status),
                _ => {}
            }
        }
        if let Some(Value::Object(o)) = context.pointer("/responseOverride/header") {
            for (k, v) in o {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(&super::vtl::util::java_string(v)),
                ) {
                    headers.insert(n, v);
                }
            }
        }
        ExecutorResponse {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers,
            body,
        }
    }

    fn template_params(&self, ctx: &Ctx<'_>) -> RequestParams {
        let mut header = BTreeMap::new();
        for name in ctx.req.headers.keys() {
            if let Some(v) = ctx.req.headers.get_all(name).iter().next_back() {
                header.insert(
                    canonical(name.as_str()),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                );
            }
        }
        RequestParams {
            path: ctx.path_params.clone(),
            querystring: ctx
                .query
                .iter()
                .filter_map(|(k, v)| v.last().map(|l| (k.clone(), l.clone())))
                .collect(),
            header,
        }
    }

    fn render(
        &self,
        compiled: &CompiledApi,
        src: &str,
        body: &str,
        params: &RequestParams,
        context: &Value,
        stage_variables: &BTreeMap<String, String>,
    ) -> Result<(String, Value), String> {
        let template = match compiled.templates.get(src) {
            Some(Ok(t)) => t.clone(),
            Some(Err(e)) => return Err(e.clone()),
            None => Arc::new(Template::parse(src).map_err(|e| e.to_string())?),
        };
        template
            .render_with_context(&TemplateInput {
                body,
                params,
                context,
                stage_variables,
            })
            .map_err(|e| e.to_string())
    }

    /// A request parameter mapping source: `'static'`, `method.request.{header,querystring,path}.X`,
    /// `context.X`, `stageVariables.X`.
    fn resolve_source(&self, src: &str, ctx: &Ctx<'_>) -> Option<String> {
        if let Some(lit) = src.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            return Some(lit.to_owned());
        }
        if let Some(name) = src.strip_prefix("method.request.header.") {
            return ctx
                .req
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
        }
        if let Some(name) = src.strip_prefix("method.request.querystring.") {
            return ctx.query.get(name).and_then(|v| v.last()).cloned();
        }
        if let Some(name) = src.strip_prefix("method.request.path.") {
            return ctx.path_params.get(name).cloned();
        }
        if let Some(name) = src.strip_prefix("stageVariables.") {
            return ctx.stage_variables.get(name).cloned();
        }
        if let Some(path) = src.strip_prefix("context.") {
            let pointer = format!("/{}", path.replace('.', "/"));
            return ctx.request_context.pointer(&pointer).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
        None
    }
}

struct Ctx<'a> {
    compiled: &'a CompiledApi,
    resource_path: &'a str,
    integration: &'a Integration,
    req: &'a ExecutorRequest,
    request_id: &'a str,
    path_params: &'a BTreeMap<String, String>,
    query: &'a BTreeMap<String, Vec<String>>,
    stage_variables: &'a BTreeMap<String, String>,
    request_context: Value,
    timeout: Duration,
}

/// `$context` for templates: the request context with empty strings for absent identity fields
/// (as API Gateway renders them) and the override maps templates can `#set` into.
fn template_context(request_context: &Value) -> Value {
    let mut c = request_context.clone();
    if let Some(Value::Object(identity)) = c.get_mut("identity") {
        for v in identity.values_mut() {
            if v.is_null() {
                *v = Value::String(String::new());
            }
        }
    }
    c["responseOverride"] = json!({ "header": {} });
    c["requestOverride"] = json!({ "header": {}, "querystring": {}, "path": {} });
    if c.get("authorizer").is_none() {
        c["authorizer"] = Value::Object(Map::new());
    }
    c
}

fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Picks the integration response: the first (by status code) whose selection pattern matches
/// the whole selection string, else the default (no pattern). For Lambda custom integrations
/// the selection string is the function's `errorMessage` and successful calls take the default.
fn select_response<'a>(
    compiled: &CompiledApi,
    integration: &'a Integration,
    selection: &str,
    lambda_error: bool,
) -> Option<&'a IntegrationResponse> {
    let is_default =
        |r: &IntegrationResponse| r.selection_pattern.as_deref().is_none_or(str::is_empty);
    let lambda_success = integration
        .uri
        .as_deref()
        .is_some_and(|u| u.contains(":lambda:path/"))
        && !lambda_error;
    if !lambda_success {
        let matched = integration.integration_responses.values().find(|r| {
            !is_default(r)
                && r.selection_pattern
                    .as_deref()
                    .and_then(|p| compiled.patterns.get(p))
                    .and_then(Option::as_ref)
                    .is_some_and(|re| re.is_match(selection))
        });
        if matched.is_some() {
            return matched;
        }
    }
    integration
        .integration_responses
        .values()
        .find(|r| is_default(r))
}

/// Percent-encodes a path value, keeping `/` (greedy parameters span segments).
fn encode_path(v: &str) -> String {
    v.split('/')
        .map(|seg| super::vtl::util::url_encode(seg).replace('+', "%20"))
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

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
