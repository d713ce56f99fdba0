//! The deployed configuration of REST APIs, as read from the control plane.
//!
//! These types mirror the API Gateway REST API resources (`RestApi`, `Resource`, `Method`,
//! `Integration`, `IntegrationResponse`, `Model`, `RequestValidator`, `Stage`, `Authorizer`,
//! `ApiKey`, `UsagePlan`) with only what the executor needs. They are plain data with public
//! fields, `Default`, and serde support, so tests and tools can build them from JSON in the same
//! shape the control plane returns (camelCase field names).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything deployed that the executor serves: the REST APIs plus the account-level API keys
/// and usage plans that govern them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Deployment {
    /// The REST APIs.
    pub apis: Vec<DeployedApi>,
    /// API keys, with their values.
    pub api_keys: Vec<ApiKey>,
    /// Usage plans, with the ids of their keys.
    pub usage_plans: Vec<UsagePlan>,
}

/// One REST API.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeployedApi {
    /// The API id (the first label of its execute-api host name).
    pub id: String,
    /// The API name.
    pub name: String,
    /// Where API keys come from: `HEADER` (the `x-api-key` header, the default) or `AUTHORIZER`.
    pub api_key_source: Option<String>,
    /// Media types treated as binary (base64 in proxy events).
    pub binary_media_types: Vec<String>,
    /// The resources, each with its methods.
    pub resources: Vec<Resource>,
    /// Models by name.
    pub models: BTreeMap<String, Model>,
    /// Request validators by id.
    pub request_validators: BTreeMap<String, RequestValidator>,
    /// Authorizers by id.
    pub authorizers: BTreeMap<String, Authorizer>,
    /// Deployed stages.
    pub stages: Vec<Stage>,
}

/// A resource (a path) of a REST API.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Resource {
    /// The resource id.
    pub id: String,
    /// The full path template, such as `/orders/{id}` or `/{proxy+}`.
    pub path: String,
    /// Methods by HTTP verb (`GET`, `POST`, …, or `ANY`).
    pub methods: BTreeMap<String, Method>,
}

/// A method of a resource.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Method {
    /// The HTTP verb, or `ANY`.
    pub http_method: String,
    /// `NONE`, `AWS_IAM`, `COGNITO_USER_POOLS` or `CUSTOM`.
    pub authorization_type: Option<String>,
    /// The authorizer id for `COGNITO_USER_POOLS` and `CUSTOM`.
    pub authorizer_id: Option<String>,
    /// Whether an API key is required.
    pub api_key_required: bool,
    /// The request validator id.
    pub request_validator_id: Option<String>,
    /// Model names by content type.
    pub request_models: BTreeMap<String, String>,
    /// Request parameters (`method.request.header.X`, `…querystring.X`, `…path.X`) and whether
    /// each is required.
    pub request_parameters: BTreeMap<String, bool>,
    /// The integration.
    pub method_integration: Option<Integration>,
    /// Method responses by status code.
    pub method_responses: BTreeMap<String, MethodResponse>,
}

/// A method response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MethodResponse {
    /// The status code.
    pub status_code: String,
    /// Declared response parameters (`method.response.header.X`).
    pub response_parameters: BTreeMap<String, bool>,
    /// Model names by content type.
    pub response_models: BTreeMap<String, String>,
}

/// The integration of a method.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Integration {
    /// `AWS`, `AWS_PROXY`, `HTTP`, `HTTP_PROXY` or `MOCK`.
    #[serde(rename = "type")]
    pub integration_type: String,
    /// The verb used to call the backend.
    pub http_method: Option<String>,
    /// The backend URI, such as `arn:aws:apigateway:us-east-1:kinesis:action/PutRecord`.
    pub uri: Option<String>,
    /// The role API Gateway assumes for AWS integrations.
    pub credentials: Option<String>,
    /// Integration request parameters (`integration.request.header.X` → source).
    pub request_parameters: BTreeMap<String, String>,
    /// Request mapping templates by content type.
    pub request_templates: BTreeMap<String, String>,
    /// `WHEN_NO_MATCH` (the default), `WHEN_NO_TEMPLATES` or `NEVER`.
    pub passthrough_behavior: Option<String>,
    /// `CONVERT_TO_TEXT` or `CONVERT_TO_BINARY`.
    pub content_handling: Option<String>,
    /// The integration timeout in milliseconds (default 29000).
    pub timeout_in_millis: Option<i64>,
    /// Integration responses by status code.
    pub integration_responses: BTreeMap<String, IntegrationResponse>,
}

/// An integration response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IntegrationResponse {
    /// The method response status code this response maps to.
    pub status_code: String,
    /// The selection pattern (a regular expression matched against the whole backend status code,
    /// or the Lambda `errorMessage` for Lambda custom integrations); `None` or empty is the
    /// default response.
    pub selection_pattern: Option<String>,
    /// Response parameters (`method.response.header.X` → source).
    pub response_parameters: BTreeMap<String, String>,
    /// Response mapping templates by content type.
    pub response_templates: BTreeMap<String, String>,
    /// `CONVERT_TO_TEXT` or `CONVERT_TO_BINARY`.
    pub content_handling: Option<String>,
}

/// A model (a JSON Schema draft-04 document).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Model {
    /// The model id.
    pub id: String,
    /// The model name.
    pub name: String,
    /// The content type, usually `application/json`.
    pub content_type: String,
    /// The schema text.
    pub schema: Option<String>,
}

/// A request validator.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestValidator {
    /// The id.
    pub id: String,
    /// The name.
    pub name: String,
    /// Validate the body against the method's model.
    pub validate_request_body: bool,
    /// Validate that required request parameters are present.
    pub validate_request_parameters: bool,
}

/// An authorizer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Authorizer {
    /// The id.
    pub id: String,
    /// The name.
    pub name: String,
    /// `TOKEN`, `REQUEST` or `COGNITO_USER_POOLS`.
    #[serde(rename = "type")]
    pub authorizer_type: String,
    /// Where the token is read, such as `method.request.header.Authorization`.
    pub identity_source: Option<String>,
    /// User pool ARNs (Cognito).
    pub provider_arns: Vec<String>,
    /// The Lambda authorizer URI (TOKEN and REQUEST).
    pub authorizer_uri: Option<String>,
    /// A regular expression the TOKEN authorizer's token must match (else 401).
    pub identity_validation_expression: Option<String>,
}

/// A deployed stage.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Stage {
    /// The stage name.
    pub stage_name: String,
    /// The deployment id.
    pub deployment_id: Option<String>,
    /// Stage variables.
    pub variables: BTreeMap<String, String>,
    /// Method settings by `resourcePath/httpMethod` (`*/*` for all methods).
    pub method_settings: BTreeMap<String, MethodSetting>,
}

/// Method settings of a stage (throttling only; caching and logging are not emulated).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MethodSetting {
    /// Steady-state requests per second.
    pub throttling_rate_limit: Option<f64>,
    /// Bucket size in requests.
    pub throttling_burst_limit: Option<i64>,
}

/// An API key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiKey {
    /// The id.
    pub id: String,
    /// The name.
    pub name: String,
    /// The key value sent in `x-api-key`.
    pub value: String,
    /// Whether the key is enabled.
    pub enabled: bool,
}

/// Throttle settings (a token bucket).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Throttle {
    /// Steady-state requests per second.
    pub rate_limit: Option<f64>,
    /// Bucket size in requests.
    pub burst_limit: Option<i64>,
}

/// A usage plan quota.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Quota {
    /// Requests allowed per period.
    pub limit: i64,
    /// `DAY`, `WEEK` or `MONTH`.
    pub period: String,
}

/// An API stage a usage plan covers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UsagePlanStage {
    /// The API id.
    pub api_id: String,
    /// The stage name.
    pub stage: String,
    /// Per-method throttles by `/resourcePath/HTTPMETHOD`.
    pub throttle: BTreeMap<String, Throttle>,
}

/// A usage plan.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UsagePlan {
    /// The id.
    pub id: String,
    /// The name.
    pub name: String,
    /// The API stages covered.
    pub api_stages: Vec<UsagePlanStage>,
    /// The per-key throttle.
    pub throttle: Option<Throttle>,
    /// The per-key quota.
    pub quota: Option<Quota>,
    /// Ids of the API keys attached.
    pub key_ids: Vec<String>,
}

impl DeployedApi {
    /// The stage with this name, if deployed.
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.stage_name == name)
    }
}
