//! The integrations: `AWS_PROXY` (Lambda proxy), `AWS`/`MOCK`/`HTTP` (mapped through templates
//! and integration responses), `HTTP_PROXY`; and the integration response (respond) stage.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Map, Value, json};

use super::{
    CompiledApi, Executor, ExecutorRequest, ExecutorResponse, gateway_error, internal_error,
};
use crate::backend::{BackendError, BackendResponse, ServiceAction};
use crate::invoke::function_of_uri;
use crate::model::{Integration, IntegrationResponse};
use crate::proxy::{self, canonical_header_name};
use crate::validate::media_type;
use crate::vtl::{RequestParams, Template, TemplateInput};
use kstream_local_lambda::runtime::InvokeResult;

impl Executor {
    /// The integrate stage: runs the method's integration and maps its answer (the respond
    /// stage, [`integration_response`](Self::integration_response)).
    pub(super) async fn integrate(&self, ctx: &Ctx<'_>) -> ExecutorResponse {
        match ctx.integration.integration_type.as_str() {
            "AWS_PROXY" => self.lambda_proxy(ctx).await,
            "AWS" | "MOCK" | "HTTP" => self.mapped(ctx).await,
            "HTTP_PROXY" => self.http_proxy(ctx).await,
            other => {
                tracing::warn!(api = %ctx.compiled.api.id, path = %ctx.resource_path, integration = other, "integration type not supported by the local executor");
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
                headers.push((k.clone(), crate::vtl::util::java_string(v)));
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
            match crate::backend::send_http(
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
                Err(e) => {
                    return backend_failure(&e, ctx.request_id, &url, "HTTP integration call");
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
                Err(e) => return backend_failure(&e, ctx.request_id, uri, "AWS integration call"),
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
        self.integration_response(ctx, response, &backend, &params, &context)
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
        match crate::backend::send_http(
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
            Err(e) => backend_failure(&e, ctx.request_id, &url, "HTTP proxy integration"),
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
                        crate::vtl::util::url_encode(k),
                        crate::vtl::util::url_encode(v)
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
        request_context: &Value,
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
        // What the request template `#set` into `$context.requestOverride` is still there for
        // the response template, as on API Gateway.
        if let Some(o) = request_context.get("requestOverride") {
            context["requestOverride"] = o.clone();
        }
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
                        crate::jsonpath::select(&doc, &format!("$.{path}"))
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
                    HeaderValue::from_str(&crate::vtl::util::java_string(v)),
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
                    canonical_header_name(name.as_str()),
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

/// What the integration stage works with: the routed request and its request context.
pub(super) struct Ctx<'a> {
    pub(super) compiled: &'a CompiledApi,
    pub(super) resource_path: &'a str,
    pub(super) integration: &'a Integration,
    pub(super) req: &'a ExecutorRequest,
    pub(super) request_id: &'a str,
    pub(super) path_params: &'a BTreeMap<String, String>,
    pub(super) query: &'a BTreeMap<String, Vec<String>>,
    pub(super) stage_variables: &'a BTreeMap<String, String>,
    pub(super) request_context: Value,
    pub(super) timeout: Duration,
}

/// The API Gateway response to a backend that gave no answer: 504 when it timed out, else 500
/// (and the log says why).
fn backend_failure(
    e: &BackendError,
    request_id: &str,
    target: &str,
    what: &str,
) -> ExecutorResponse {
    match e {
        BackendError::Timeout => {
            gateway_error(504, "Endpoint request timed out", "IntegrationTimeout")
        }
        e => {
            tracing::warn!(%request_id, backend = target, error = %e, "{what} failed");
            internal_error()
        }
    }
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

/// Picks the integration response: the first (by status code) whose selection pattern matches
/// the whole selection string, else the default (no pattern). For Lambda custom integrations
/// the selection string is the function's `errorMessage` and successful calls take the default.
pub(super) fn select_response<'a>(
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
        .map(|seg| crate::vtl::util::url_encode(seg).replace('+', "%20"))
        .collect::<Vec<_>>()
        .join("/")
}
