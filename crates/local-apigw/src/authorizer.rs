//! Lambda (`CUSTOM`) authorizers, `TOKEN` and `REQUEST`, run through the [`LambdaInvoker`].
//!
//! The function gets API Gateway's authorizer event; its answer (`principalId`,
//! `policyDocument`, `context`) decides: an explicit `Deny` matching the method ARN gives 403
//! "User is not authorized to access this resource with an explicit deny", no matching `Allow`
//! gives 403 "User is not authorized to access this resource", the error message
//! `Unauthorized` gives 401, anything else (a failing function, a malformed answer) gives 500
//! `{"message": null}` (`AuthorizerConfigurationException`). Results are not cached
//! (`authorizerResultTtlInSeconds` is ignored).

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value, json};

use super::invoke::{LambdaInvoker, function_of_uri};
use super::model::Authorizer;
use kstream_local_lambda::runtime::InvokeResult;

/// Why a Lambda authorizer refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Refusal {
    /// 401 "Unauthorized" (no identity, or the function said `Unauthorized`).
    Unauthorized,
    /// 403: explicitly denied (`true`) or not allowed (`false`).
    Forbidden(bool),
    /// 500 `{"message": null}`: the authorizer failed or answered nonsense.
    Failed(String),
}

/// What the authorizer allowed: `principalId` and `context` (values as strings).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Grant {
    pub(crate) principal_id: String,
    pub(crate) context: Map<String, Value>,
}

/// The request, as the authorizer event describes it.
pub(crate) struct AuthRequest<'a> {
    pub(crate) method_arn: String,
    pub(crate) resource_path: &'a str,
    pub(crate) path: &'a str,
    pub(crate) http_method: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) query: &'a BTreeMap<String, Vec<String>>,
    pub(crate) path_params: &'a BTreeMap<String, String>,
    pub(crate) stage_variables: &'a BTreeMap<String, String>,
    pub(crate) request_context: Value,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Runs the authorizer.
pub(crate) async fn authorize(
    invoker: &dyn LambdaInvoker,
    authorizer: &Authorizer,
    req: &AuthRequest<'_>,
    timeout: Duration,
) -> Result<Grant, Refusal> {
    let sources: Vec<&str> = authorizer
        .identity_source
        .as_deref()
        .unwrap_or("method.request.header.Authorization")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let event = if authorizer.authorizer_type == "TOKEN" {
        let name = sources
            .first()
            .and_then(|s| s.strip_prefix("method.request.header."))
            .unwrap_or("Authorization");
        let token = header(req.headers, name)
            .filter(|t| !t.is_empty())
            .ok_or(Refusal::Unauthorized)?;
        if let Some(expr) = authorizer.identity_validation_expression.as_deref() {
            let re = regex::Regex::new(&format!("^(?:{expr})$"))
                .map_err(|e| Refusal::Failed(format!("identityValidationExpression: {e}")))?;
            if !re.is_match(token) {
                return Err(Refusal::Unauthorized);
            }
        }
        json!({"type": "TOKEN", "authorizationToken": token, "methodArn": req.method_arn})
    } else {
        // REQUEST: every identity source must be present.
        for s in &sources {
            let present = if let Some(h) = s.strip_prefix("method.request.header.") {
                header(req.headers, h).is_some()
            } else if let Some(q) = s.strip_prefix("method.request.querystring.") {
                req.query.contains_key(q)
            } else if let Some(v) = s.strip_prefix("stageVariables.") {
                req.stage_variables.contains_key(v)
            } else {
                true
            };
            if !present {
                return Err(Refusal::Unauthorized);
            }
        }
        let mut headers = Map::new();
        let mut multi = Map::new();
        for name in req.headers.keys() {
            let values: Vec<String> = req
                .headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            if let Some(last) = values.last() {
                headers.insert(name.as_str().to_owned(), json!(last));
            }
            multi.insert(name.as_str().to_owned(), json!(values));
        }
        let query: Map<String, Value> = req
            .query
            .iter()
            .filter_map(|(k, v)| v.last().map(|l| (k.clone(), json!(l))))
            .collect();
        json!({
            "type": "REQUEST",
            "methodArn": req.method_arn,
            "resource": req.resource_path,
            "path": req.path,
            "httpMethod": req.http_method,
            "headers": headers,
            "multiValueHeaders": multi,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": req.query,
            "pathParameters": req.path_params,
            "stageVariables": req.stage_variables,
            "requestContext": req.request_context,
        })
    };
    let function = function_of_uri(authorizer.authorizer_uri.as_deref().unwrap_or_default());
    let result = tokio::time::timeout(
        timeout,
        invoker.invoke(function, Bytes::from(event.to_string())),
    )
    .await
    .map_err(|_| Refusal::Failed("the authorizer timed out".to_owned()))?
    .map_err(Refusal::Failed)?;
    let payload = match result {
        InvokeResult::Ok(p) => p,
        InvokeResult::Error(e) if e.error_message == "Unauthorized" => {
            return Err(Refusal::Unauthorized);
        }
        InvokeResult::Error(e) => {
            return Err(Refusal::Failed(format!(
                "{}: {}",
                e.error_type, e.error_message
            )));
        }
    };
    decide(&payload, &req.method_arn)
}

/// Evaluates the authorizer's answer for `method_arn`.
pub(crate) fn decide(payload: &[u8], method_arn: &str) -> Result<Grant, Refusal> {
    let v: Value = serde_json::from_slice(payload)
        .map_err(|e| Refusal::Failed(format!("the authorizer's answer is not JSON: {e}")))?;
    let principal_id = match v.get("principalId") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(Refusal::Failed("principalId is missing".to_owned())),
    };
    let statements = match v.pointer("/policyDocument/Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        _ => {
            return Err(Refusal::Failed(
                "policyDocument.Statement is missing".to_owned(),
            ));
        }
    };
    let list = |x: Option<&Value>| -> Vec<String> {
        match x {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut allowed = false;
    for s in &statements {
        let effect = s.get("Effect").and_then(Value::as_str).unwrap_or_default();
        let actions = list(s.get("Action"));
        let resources = list(s.get("Resource"));
        let applies = actions.iter().any(|a| glob(a, "execute-api:Invoke"))
            && resources.iter().any(|r| glob(r, method_arn));
        if !applies {
            continue;
        }
        if effect.eq_ignore_ascii_case("Deny") {
            return Err(Refusal::Forbidden(true));
        }
        if effect.eq_ignore_ascii_case("Allow") {
            allowed = true;
        }
    }
    if !allowed {
        return Err(Refusal::Forbidden(false));
    }
    let context = match v.get("context") {
        Some(Value::Object(o)) => o
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), Value::String(s))
            })
            .collect(),
        _ => Map::new(),
    };
    Ok(Grant {
        principal_id,
        context,
    })
}

/// IAM-style wildcard matching: `*` any run of characters, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/rides/7";

    fn policy(effect: &str, resource: &str) -> Vec<u8> {
        json!({
            "principalId": "user-1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
            ]},
            "context": {"tier": "gold", "n": 3, "ok": true}
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn wildcards() {
        assert!(glob("*", "anything"));
        assert!(glob("arn:aws:execute-api:*:*:api1/*/GET/*", ARN));
        assert!(glob(
            "arn:aws:execute-api:us-east-1:123456789012:api1/prod/???/rides/7",
            ARN
        ));
        assert!(!glob("arn:aws:execute-api:*:*:api1/*/POST/*", ARN));
        assert!(glob("execute-api:*", "execute-api:Invoke"));
    }

    #[test]
    fn allow_deny_and_context() {
        let g = decide(&policy("Allow", "arn:aws:execute-api:*:*:api1/*"), ARN).unwrap();
        assert_eq!(g.principal_id, "user-1");
        assert_eq!(g.context["n"], json!("3"));
        assert_eq!(g.context["ok"], json!("true"));
        assert_eq!(
            decide(&policy("Deny", "*"), ARN),
            Err(Refusal::Forbidden(true))
        );
        assert_eq!(
            decide(&policy("Allow", "arn:aws:execute-api:*:*:other/*"), ARN),
            Err(Refusal::Forbidden(false))
        );
        assert!(matches!(decide(b"{}", ARN), Err(Refusal::Failed(_))));
        assert!(matches!(decide(b"nope", ARN), Err(Refusal::Failed(_))));
    }
}
