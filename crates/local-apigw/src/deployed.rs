//! What is deployed: REST APIs, API keys and usage plans, read from the control plane (the
//! emulator, through `AWS_ENDPOINT_URL`, or AWS).
//!
//! This module follows the convention every service crate of the local data plane shares:
//! `kstream_local_lambda`'s crate docs, "How a service crate reads what Terraform deployed".

use std::collections::BTreeMap;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::error::DisplayErrorContext;

use super::error::{ApigwError, Result};
use super::model::{
    ApiKey, Authorizer, DeployedApi, Deployment, Integration, IntegrationResponse, Method,
    MethodResponse, MethodSetting, Model, Quota, RequestValidator, Resource, Stage, Throttle,
    UsagePlan, UsagePlanStage,
};

fn map<V: Clone>(m: Option<&std::collections::HashMap<String, V>>) -> BTreeMap<String, V> {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn throttle(t: &aws_sdk_apigateway::types::ThrottleSettings) -> Throttle {
    Throttle {
        rate_limit: (t.rate_limit > 0.0).then_some(t.rate_limit),
        burst_limit: Some(i64::from(t.burst_limit)),
    }
}

/// Reads every REST API (resources, methods, integrations, integration responses, models,
/// request validators, authorizers, stages) plus the API keys (with values) and usage plans
/// (with their keys).
///
/// # Errors
/// [`ApigwError::Aws`] when the API Gateway control plane cannot be read.
pub async fn load(sdk: &aws_config::SdkConfig) -> Result<Deployment> {
    let client = Client::new(sdk);
    let mut deployment = Deployment::default();
    let apis = client
        .get_rest_apis()
        .into_paginator()
        .page_size(500)
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| ApigwError::aws("APIGateway.GetRestApis", e))?;
    for api in &apis {
        let Some(id) = api.id() else { continue };
        let mut deployed = load_api(&client, id).await?;
        deployed.name = api.name().unwrap_or_default().to_owned();
        deployed.api_key_source = api.api_key_source().map(|s| s.as_str().to_owned());
        deployed.binary_media_types = api.binary_media_types().to_vec();
        tracing::debug!(api = %deployed.name, id, resources = deployed.resources.len(), stages = deployed.stages.len(), "found a deployed REST API");
        deployment.apis.push(deployed);
    }
    let keys = client
        .get_api_keys()
        .include_values(true)
        .into_paginator()
        .page_size(500)
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| ApigwError::aws("APIGateway.GetApiKeys", e))?;
    for k in &keys {
        let key = ApiKey {
            id: k.id().unwrap_or_default().to_owned(),
            name: k.name().unwrap_or_default().to_owned(),
            value: k.value().unwrap_or_default().to_owned(),
            enabled: k.enabled(),
        };
        tracing::debug!(api_key = %key.name, id = %key.id, enabled = key.enabled, "found a deployed API key");
        deployment.api_keys.push(key);
    }
    let plans = client
        .get_usage_plans()
        .into_paginator()
        .page_size(500)
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| ApigwError::aws("APIGateway.GetUsagePlans", e))?;
    for p in &plans {
        let id = p.id().unwrap_or_default().to_owned();
        let keys = client
            .get_usage_plan_keys()
            .usage_plan_id(&id)
            .into_paginator()
            .page_size(500)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| ApigwError::aws("APIGateway.GetUsagePlanKeys", e))?;
        tracing::debug!(usage_plan = %p.name().unwrap_or_default(), %id, keys = keys.len(), "found a deployed usage plan");
        deployment.usage_plans.push(UsagePlan {
            id,
            name: p.name().unwrap_or_default().to_owned(),
            api_stages: p
                .api_stages()
                .iter()
                .map(|s| UsagePlanStage {
                    api_id: s.api_id().unwrap_or_default().to_owned(),
                    stage: s.stage().unwrap_or_default().to_owned(),
                    throttle: s
                        .throttle()
                        .map(|m| m.iter().map(|(k, t)| (k.clone(), throttle(t))).collect())
                        .unwrap_or_default(),
                })
                .collect(),
            throttle: p
                .throttle()
                .map(throttle)
                .filter(|t| t.rate_limit.is_some()),
            quota: p.quota().filter(|q| q.limit > 0).map(|q| Quota {
                limit: i64::from(q.limit),
                period: q
                    .period()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "MONTH".into()),
            }),
            key_ids: keys
                .iter()
                .filter_map(|k| k.id().map(str::to_owned))
                .collect(),
        });
    }
    Ok(deployment)
}

async fn load_api(client: &Client, api_id: &str) -> Result<DeployedApi> {
    let mut api = DeployedApi {
        id: api_id.to_owned(),
        ..DeployedApi::default()
    };
    let resources = client
        .get_resources()
        .rest_api_id(api_id)
        .embed("methods")
        .into_paginator()
        .page_size(500)
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| ApigwError::aws("APIGateway.GetResources", e))?;
    for r in &resources {
        let resource_id = r.id().unwrap_or_default().to_owned();
        let mut resource = Resource {
            id: resource_id.clone(),
            path: r.path().unwrap_or("/").to_owned(),
            methods: BTreeMap::new(),
        };
        let verbs: Vec<String> = r
            .resource_methods()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for verb in verbs {
            let m = client
                .get_method()
                .rest_api_id(api_id)
                .resource_id(&resource_id)
                .http_method(&verb)
                .send()
                .await
                .map_err(|e| ApigwError::aws("APIGateway.GetMethod", e))?;
            let mut method = Method {
                http_method: verb.clone(),
                authorization_type: m.authorization_type().map(str::to_owned),
                authorizer_id: m.authorizer_id().map(str::to_owned),
                api_key_required: m.api_key_required().unwrap_or(false),
                request_validator_id: m.request_validator_id().map(str::to_owned),
                request_models: map(m.request_models()),
                request_parameters: map(m.request_parameters()),
                method_integration: None,
                method_responses: m
                    .method_responses()
                    .map(|rs| {
                        rs.iter()
                            .map(|(code, mr)| {
                                (
                                    code.clone(),
                                    MethodResponse {
                                        status_code: code.clone(),
                                        response_parameters: map(mr.response_parameters()),
                                        response_models: map(mr.response_models()),
                                    },
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            // GetIntegration is authoritative; some control planes leave it out of GetMethod.
            let integration = match client
                .get_integration()
                .rest_api_id(api_id)
                .resource_id(&resource_id)
                .http_method(&verb)
                .send()
                .await
            {
                Ok(i) => Some(i),
                Err(e) => {
                    tracing::debug!(api = api_id, path = %resource.path, method = %verb, error = %DisplayErrorContext(&e), "no integration");
                    None
                }
            };
            if let Some(i) = integration {
                let mut integration = Integration {
                    integration_type: i
                        .r#type()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    http_method: i.http_method().map(str::to_owned),
                    uri: i.uri().map(str::to_owned),
                    credentials: i.credentials().map(str::to_owned),
                    request_parameters: map(i.request_parameters()),
                    request_templates: map(i.request_templates()),
                    passthrough_behavior: i.passthrough_behavior().map(str::to_owned),
                    content_handling: i.content_handling().map(|c| c.as_str().to_owned()),
                    timeout_in_millis: (i.timeout_in_millis() > 0)
                        .then_some(i64::from(i.timeout_in_millis())),
                    integration_responses: BTreeMap::new(),
                };
                let mut responses: BTreeMap<String, IntegrationResponse> = i
                    .integration_responses()
                    .map(|rs| {
                        rs.iter()
                            .map(|(code, r)| (code.clone(), integration_response(code, r)))
                            .collect()
                    })
                    .unwrap_or_default();
                // Fill in any the integration did not embed, by method response status code.
                for code in method.method_responses.keys() {
                    if responses.contains_key(code) {
                        continue;
                    }
                    if let Ok(r) = client
                        .get_integration_response()
                        .rest_api_id(api_id)
                        .resource_id(&resource_id)
                        .http_method(&verb)
                        .status_code(code)
                        .send()
                        .await
                    {
                        let code = r.status_code().unwrap_or(code).to_owned();
                        responses.insert(
                            code.clone(),
                            IntegrationResponse {
                                status_code: code,
                                selection_pattern: r.selection_pattern().map(str::to_owned),
                                response_parameters: map(r.response_parameters()),
                                response_templates: map(r.response_templates()),
                                content_handling: r
                                    .content_handling()
                                    .map(|c| c.as_str().to_owned()),
                            },
                        );
                    }
                }
                integration.integration_responses = responses;
                method.method_integration = Some(integration);
            }
            resource.methods.insert(verb, method);
        }
        api.resources.push(resource);
    }

    let models = client
        .get_models()
        .rest_api_id(api_id)
        .into_paginator()
        .page_size(500)
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| ApigwError::aws("APIGateway.GetModels", e))?;
    api.models = models
        .iter()
        .map(|m| {
            let name = m.name().unwrap_or_default().to_owned();
            (
                name.clone(),
                Model {
                    id: m.id().unwrap_or_default().to_owned(),
                    name,
                    content_type: m.content_type().unwrap_or("application/json").to_owned(),
                    schema: m.schema().map(str::to_owned),
                },
            )
        })
        .collect();

    // GetRequestValidators, GetAuthorizers and GetStages have no SDK paginator: one page each.
    let validators = client
        .get_request_validators()
        .rest_api_id(api_id)
        .limit(500)
        .send()
        .await
        .map_err(|e| ApigwError::aws("APIGateway.GetRequestValidators", e))?;
    api.request_validators = validators
        .items()
        .iter()
        .map(|v| {
            let id = v.id().unwrap_or_default().to_owned();
            (
                id.clone(),
                RequestValidator {
                    id,
                    name: v.name().unwrap_or_default().to_owned(),
                    validate_request_body: v.validate_request_body(),
                    validate_request_parameters: v.validate_request_parameters(),
                },
            )
        })
        .collect();

    let authorizers = client
        .get_authorizers()
        .rest_api_id(api_id)
        .limit(500)
        .send()
        .await
        .map_err(|e| ApigwError::aws("APIGateway.GetAuthorizers", e))?;
    api.authorizers = authorizers
        .items()
        .iter()
        .map(|a| {
            let id = a.id().unwrap_or_default().to_owned();
            (
                id.clone(),
                Authorizer {
                    id,
                    name: a.name().unwrap_or_default().to_owned(),
                    authorizer_type: a
                        .r#type()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    identity_source: a.identity_source().map(str::to_owned),
                    provider_arns: a.provider_arns().to_vec(),
                    authorizer_uri: a.authorizer_uri().map(str::to_owned),
                    identity_validation_expression: a
                        .identity_validation_expression()
                        .map(str::to_owned),
                },
            )
        })
        .collect();

    let stages = client
        .get_stages()
        .rest_api_id(api_id)
        .send()
        .await
        .map_err(|e| ApigwError::aws("APIGateway.GetStages", e))?;
    api.stages = stages
        .item()
        .iter()
        .map(|s| Stage {
            stage_name: s.stage_name().unwrap_or_default().to_owned(),
            deployment_id: s.deployment_id().map(str::to_owned),
            variables: map(s.variables()),
            method_settings: s
                .method_settings()
                .map(|ms| {
                    ms.iter()
                        .map(|(k, m)| {
                            // The SDK reads an absent limit as 0: no rate means no throttle.
                            let set = m.throttling_rate_limit > 0.0;
                            (
                                k.clone(),
                                MethodSetting {
                                    throttling_rate_limit: set.then_some(m.throttling_rate_limit),
                                    throttling_burst_limit: set
                                        .then_some(i64::from(m.throttling_burst_limit)),
                                },
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    Ok(api)
}

fn integration_response(
    code: &str,
    r: &aws_sdk_apigateway::types::IntegrationResponse,
) -> IntegrationResponse {
    IntegrationResponse {
        status_code: r.status_code().unwrap_or(code).to_owned(),
        selection_pattern: r.selection_pattern().map(str::to_owned),
        response_parameters: map(r.response_parameters()),
        response_templates: map(r.response_templates()),
        content_handling: r.content_handling().map(|c| c.as_str().to_owned()),
    }
}
