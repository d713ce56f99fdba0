//! The request pipeline, one stage per function: route → authorize → API key and usage plan →
//! throttle → validate → integrate → respond. Each stage returns early with the response API
//! Gateway would give (`Err`), or what the next stage needs (`Ok`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::integration::Ctx;
use super::{
    CompiledApi, DEFAULT_INTEGRATION_TIMEOUT, Executor, ExecutorRequest, ExecutorResponse,
    gateway_error, internal_error, missing_token, parse_query, stage_throttle,
};
use crate::auth::{self, KeyGrant, Limited, Principal};
use crate::authorizer::{self, AuthRequest, Refusal};
use crate::model::{Method, Resource, Stage};
use crate::routing::best_match;
use crate::signature::{self, Signed};
use crate::validate::{BodyRejection, missing_parameters, model_for};

/// A stage's outcome: what the next stage needs, or the response that ends the request (boxed:
/// it is the rarer, larger case).
type Staged<T> = Result<T, Box<ExecutorResponse>>;

/// What routing found for a request.
struct Route<'a> {
    compiled: &'a CompiledApi,
    stage: &'a Stage,
    resource: &'a Resource,
    method: &'a Method,
    path_params: BTreeMap<String, String>,
    query: BTreeMap<String, Vec<String>>,
    now: DateTime<Utc>,
}

impl Executor {
    /// Runs `req` through every stage.
    pub(super) async fn run_stages(
        &self,
        req: &ExecutorRequest,
        request_id: &str,
    ) -> ExecutorResponse {
        match self.stages(req, request_id).await {
            Ok(response) => response,
            Err(response) => *response,
        }
    }

    async fn stages(&self, req: &ExecutorRequest, request_id: &str) -> Staged<ExecutorResponse> {
        let route = self.route(req)?;
        let principal = self.authorize(req, request_id, &route).await?;
        let grant = self.api_key(req, &route)?;
        self.throttle(req, &route, grant.as_ref())?;
        self.validate(req, request_id, &route)?;
        let ctx = self.integration_context(req, request_id, &route, &principal, grant.as_ref())?;
        // Integrate, then respond (the integration response), in the integration module.
        Ok(self.integrate(&ctx).await)
    }

    /// Route: API, stage, resource, then method (exact verb, else `ANY`).
    fn route<'a>(&'a self, req: &ExecutorRequest) -> Staged<Route<'a>> {
        let Some(compiled) = self.inner.apis.get(&req.api_id) else {
            return Err(gateway_error(404, "Not Found", "NotFoundException").into());
        };
        let api = &compiled.api;
        let Some(stage) = api.stage(&req.stage) else {
            return Err(gateway_error(403, "Forbidden", "ForbiddenException").into());
        };
        let Some((idx, path_params)) = best_match(compiled.routes.iter().enumerate(), &req.path)
        else {
            return Err(missing_token().into());
        };
        let resource = &api.resources[idx];
        let Some(method) = resource
            .methods
            .get(req.method.as_str())
            .or_else(|| resource.methods.get("ANY"))
        else {
            return Err(missing_token().into());
        };
        Ok(Route {
            compiled,
            stage,
            resource,
            method,
            path_params,
            query: parse_query(req.query.as_deref()),
            now: chrono::Utc::now(),
        })
    }

    /// Authorize: `NONE`, `AWS_IAM`, `COGNITO_USER_POOLS` or a Lambda (`CUSTOM`) authorizer.
    async fn authorize(
        &self,
        req: &ExecutorRequest,
        request_id: &str,
        route: &Route<'_>,
    ) -> Staged<Principal> {
        let inner = &self.inner;
        let api = &route.compiled.api;
        let (resource, method) = (route.resource, route.method);
        match method.authorization_type.as_deref().unwrap_or("NONE") {
            "NONE" => Ok(Principal::default()),
            "AWS_IAM" => {
                let principal = auth::check_iam(&req.headers).map_err(|d| {
                    let t = if d.message == "Missing Authentication Token" {
                        "MissingAuthenticationTokenException"
                    } else {
                        "IncompleteSignatureException"
                    };
                    gateway_error(d.status, &d.message, t)
                })?;
                if let Some(credentials) = &inner.iam {
                    let signed = Signed {
                        method: req.method.as_str(),
                        path: &req.request_path,
                        query: req.query.as_deref(),
                        headers: &req.headers,
                        body: &req.body,
                    };
                    signature::verify(credentials, &signed, std::time::SystemTime::now())
                        .map_err(|r| {
                            tracing::info!(%request_id, message = %r.message, "AWS_IAM signature refused");
                            gateway_error(403, &r.message, r.error_type)
                        })?;
                }
                Ok(principal)
            }
            "COGNITO_USER_POOLS" => {
                let Some(authorizer) = method
                    .authorizer_id
                    .as_ref()
                    .and_then(|id| api.authorizers.get(id))
                else {
                    tracing::warn!(api = %api.id, path = %resource.path, "method names no known Cognito authorizer");
                    return Err(internal_error().into());
                };
                auth::check_cognito(authorizer, &req.headers, route.now.timestamp()).map_err(|d| {
                    gateway_error(d.status, &d.message, "UnauthorizedException").into()
                })
            }
            "CUSTOM" => {
                let Some(authorizer) = method
                    .authorizer_id
                    .as_ref()
                    .and_then(|id| api.authorizers.get(id))
                else {
                    tracing::warn!(api = %api.id, path = %resource.path, "method names no known Lambda authorizer");
                    return Err(internal_error().into());
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
                    query: &route.query,
                    path_params: &route.path_params,
                    stage_variables: &route.stage.variables,
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
                    Ok(g) => Ok(Principal {
                        authorizer: Some((g.principal_id, g.context)),
                        ..Principal::default()
                    }),
                    Err(Refusal::Unauthorized) => {
                        Err(gateway_error(401, "Unauthorized", "UnauthorizedException").into())
                    }
                    Err(Refusal::Forbidden(explicit)) => {
                        let message = if explicit {
                            "User is not authorized to access this resource with an explicit deny"
                        } else {
                            "User is not authorized to access this resource"
                        };
                        Err(gateway_error(403, message, "AccessDeniedException").into())
                    }
                    Err(Refusal::Failed(e)) => {
                        tracing::warn!(%request_id, authorizer = %authorizer.name, error = %e, "Lambda authorizer failed");
                        let mut r = gateway_error(500, "", "AuthorizerConfigurationException");
                        r.body = Bytes::from_static(br#"{"message":null}"#);
                        Err(r.into())
                    }
                }
            }
            other => {
                tracing::warn!(api = %api.id, path = %resource.path, authorization = other, "authorization type not supported by the local executor");
                Err(internal_error().into())
            }
        }
    }

    /// API key and usage plan: a method with `apiKeyRequired` needs an enabled key in a usage
    /// plan of this stage.
    fn api_key<'a>(
        &'a self,
        req: &ExecutorRequest,
        route: &Route<'_>,
    ) -> Staged<Option<KeyGrant<'a>>> {
        if !route.method.api_key_required {
            return Ok(None);
        }
        let api = &route.compiled.api;
        let api_key_value = req.headers.get("x-api-key").and_then(|v| v.to_str().ok());
        let from_header = api.api_key_source.as_deref().unwrap_or("HEADER") == "HEADER";
        match auth::check_api_key(
            &self.inner.deployment,
            api_key_value.filter(|_| from_header),
            &api.id,
            &req.stage,
        ) {
            Some(g) => Ok(Some(g)),
            None => Err(gateway_error(403, "Forbidden", "ForbiddenException").into()),
        }
    }

    /// Throttle: the stage's method setting, then the usage plan's for this key (per method,
    /// then overall), then the usage plan's quota.
    fn throttle(
        &self,
        req: &ExecutorRequest,
        route: &Route<'_>,
        grant: Option<&KeyGrant<'_>>,
    ) -> Staged<()> {
        let api = &route.compiled.api;
        let (resource, method) = (route.resource, route.method);
        let method_key = format!("{} {}", resource.path, method.http_method);
        let mut limits = Vec::new();
        if let Some(t) = stage_throttle(api, &req.stage, &resource.path, &method.http_method) {
            limits.push((format!("stage:{}:{}:{method_key}", api.id, req.stage), t));
        }
        if let Some(g) = grant {
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
        let limiter = &self.inner.limiter;
        if limiter.check(&limits, Instant::now()).is_err() {
            return Err(gateway_error(429, "Too Many Requests", "TooManyRequestsException").into());
        }
        if let Some(g) = grant
            && let Err(Limited::QuotaExceeded) = limiter.count_quota(g.plan, &g.key.id)
        {
            return Err(gateway_error(429, "Limit Exceeded", "LimitExceededException").into());
        }
        Ok(())
    }

    /// Validate: the method's request validator (required parameters, body against the model).
    fn validate(&self, req: &ExecutorRequest, request_id: &str, route: &Route<'_>) -> Staged<()> {
        let api = &route.compiled.api;
        let method = route.method;
        let Some(validator) = method
            .request_validator_id
            .as_ref()
            .and_then(|id| api.request_validators.get(id))
        else {
            return Ok(());
        };
        let content_type = req
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if validator.validate_request_parameters {
            let missing =
                missing_parameters(method, &req.headers, &route.query, &route.path_params);
            if !missing.is_empty() {
                return Err(gateway_error(
                    400,
                    &format!(
                        "Missing required request parameters: [{}]",
                        missing.join(", ")
                    ),
                    "BadRequestException",
                )
                .into());
            }
        }
        if validator.validate_request_body
            && let Some(model) = model_for(method, content_type)
        {
            match route.compiled.models.validate(model, &req.body) {
                Ok(()) => {}
                Err(BodyRejection::Malformed(e)) => {
                    tracing::debug!(%request_id, error = %e, "request body is not JSON");
                    return Err(
                        gateway_error(400, "Invalid request body", "BadRequestException").into(),
                    );
                }
                Err(BodyRejection::Invalid(errors)) => {
                    tracing::debug!(%request_id, errors = ?errors, "request body does not match the model");
                    return Err(
                        gateway_error(400, "Invalid request body", "BadRequestException").into(),
                    );
                }
                Err(BodyRejection::BadModel(e)) => {
                    tracing::warn!(api = %api.id, error = %e, "model does not compile");
                    return Err(internal_error().into());
                }
            }
        }
        Ok(())
    }

    /// The request context shared by the proxy event and `$context`, and the integration to run.
    fn integration_context<'a>(
        &self,
        req: &'a ExecutorRequest,
        request_id: &'a str,
        route: &'a Route<'a>,
        principal: &Principal,
        grant: Option<&KeyGrant<'_>>,
    ) -> Staged<Ctx<'a>> {
        let inner = &self.inner;
        let api = &route.compiled.api;
        let resource = route.resource;
        let now = route.now;
        let mut identity = json!({
            "cognitoIdentityPoolId": null, "accountId": null, "cognitoIdentityId": null,
            "caller": null, "sourceIp": req.source_ip, "principalOrgId": null,
            "accessKey": null, "cognitoAuthenticationType": null,
            "cognitoAuthenticationProvider": null, "userArn": null,
            "userAgent": req.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()),
            "user": null,
        });
        // `apiKey` and `apiKeyId` appear only for methods that require a key (AWS-recorded:
        // a keyless method's proxy event has neither).
        if let Some(g) = grant {
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
            "deploymentId": route.stage.deployment_id.as_deref().unwrap_or("local"),
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

        let Some(integration) = &route.method.method_integration else {
            tracing::warn!(api = %api.id, path = %resource.path, "method has no integration");
            return Err(internal_error().into());
        };
        let timeout = integration
            .timeout_in_millis
            .filter(|ms| *ms > 0)
            .map(|ms| Duration::from_millis(ms as u64))
            .unwrap_or(DEFAULT_INTEGRATION_TIMEOUT);
        Ok(Ctx {
            compiled: route.compiled,
            resource_path: &resource.path,
            integration,
            req,
            request_id,
            path_params: &route.path_params,
            query: &route.query,
            stage_variables: &route.stage.variables,
            request_context,
            timeout,
        })
    }
}
