//! Authorization, API keys, usage plans and throttling.
//!
//! Local limits (documented in the module docs of [`crate`]):
//! - `AWS_IAM`: the `Authorization` header must be a well-formed SigV4 header
//!   (`AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`) with an `X-Amz-Date` or
//!   `Date` header; the signature itself is verified in [`signature`](crate::signature) when
//!   the executor has credentials.
//! - `COGNITO_USER_POOLS`: the token must be a well-formed, unexpired JWT whose issuer is one of
//!   the authorizer's user pools; the signature is not verified.
//! - Throttling uses token buckets (rate per second, burst as capacity) per API key, per key and
//!   method (usage plan method throttles), and per stage method (stage method settings).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use base64::Engine;
use chrono::{Datelike, Utc};
use kstream_throttle::TokenBucket;
use serde_json::{Map, Value};

use super::model::{ApiKey, Authorizer, Deployment, Throttle, UsagePlan};

/// Throttle and quota state shared by every request.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    buckets: Mutex<HashMap<String, TokenBucket>>,
    quotas: Mutex<HashMap<String, (String, i64)>>,
}

/// Why a request was limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limited {
    /// A throttle: 429 "Too Many Requests".
    Throttled,
    /// A usage plan quota: 429 "Limit Exceeded".
    QuotaExceeded,
}

impl Limiter {
    /// Takes a token from every bucket named in `limits` (`(key, throttle)`), creating buckets
    /// on first use. A throttle without a rate is no limit.
    pub(crate) fn check(&self, limits: &[(String, Throttle)], now: Instant) -> Result<(), Limited> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        for (key, t) in limits {
            let Some(rate) = t.rate_limit else { continue };
            let burst = t.burst_limit.unwrap_or(rate.ceil() as i64) as f64;
            let bucket = buckets
                .entry(key.clone())
                .or_insert_with(|| TokenBucket::new(rate, burst, now));
            if !bucket.try_take(1.0, now) {
                return Err(Limited::Throttled);
            }
        }
        Ok(())
    }

    /// Counts one request against a usage plan quota for a key.
    pub(crate) fn count_quota(&self, plan: &UsagePlan, key_id: &str) -> Result<(), Limited> {
        let Some(q) = &plan.quota else { return Ok(()) };
        let today = Utc::now().date_naive();
        let period = match q.period.as_str() {
            "DAY" => today.to_string(),
            "WEEK" => format!("{}-W{}", today.iso_week().year(), today.iso_week().week()),
            _ => format!("{}-{:02}", today.year(), today.month()),
        };
        let mut quotas = self.quotas.lock().unwrap_or_else(|e| e.into_inner());
        let entry = quotas
            .entry(format!("{}:{key_id}", plan.id))
            .or_insert_with(|| (period.clone(), 0));
        if entry.0 != period {
            *entry = (period, 0);
        }
        if entry.1 >= q.limit {
            return Err(Limited::QuotaExceeded);
        }
        entry.1 += 1;
        Ok(())
    }
}

/// The API key of a request and the usage plan that lets it call this stage.
#[derive(Debug, Clone)]
pub(crate) struct KeyGrant<'a> {
    pub(crate) key: &'a ApiKey,
    pub(crate) plan: &'a UsagePlan,
}

/// Checks an API key for `api_id`/`stage`: it must exist, be enabled, and belong to a usage plan
/// that covers the stage. `None` means 403 Forbidden.
pub(crate) fn check_api_key<'a>(
    deployment: &'a Deployment,
    value: Option<&str>,
    api_id: &str,
    stage: &str,
) -> Option<KeyGrant<'a>> {
    let value = value?;
    let key = deployment
        .api_keys
        .iter()
        .find(|k| k.value == value && k.enabled)?;
    let plan = deployment.usage_plans.iter().find(|p| {
        p.key_ids.contains(&key.id)
            && p.api_stages
                .iter()
                .any(|s| s.api_id == api_id && s.stage == stage)
    })?;
    Some(KeyGrant { key, plan })
}

/// An authorization failure: the status and API Gateway's message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Denied {
    pub(crate) status: u16,
    pub(crate) message: String,
}

impl Denied {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

/// What a successful authorization tells the integration.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Principal {
    /// `$context.identity.accessKey` etc. for IAM.
    pub(crate) access_key: Option<String>,
    /// `$context.authorizer.claims` for Cognito.
    pub(crate) claims: Option<Map<String, Value>>,
    /// `principalId` and `context` from a Lambda authorizer.
    pub(crate) authorizer: Option<(String, Map<String, Value>)>,
}

/// `AWS_IAM`: a SigV4-shaped `Authorization` header (the signature is verified afterwards, in
/// [`signature`](crate::signature), when the executor has credentials).
pub(crate) fn check_iam(headers: &http::HeaderMap) -> Result<Principal, Denied> {
    let Some(auth) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(Denied::new(403, "Missing Authentication Token"));
    };
    let mut problems = Vec::new();
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256").map(str::trim);
    let field = |name: &str| {
        rest.and_then(|r| {
            r.split(',')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                .filter(|v| !v.is_empty())
        })
    };
    let credential = field("Credential");
    for (name, value) in [
        ("Credential", credential),
        ("Signature", field("Signature")),
        ("SignedHeaders", field("SignedHeaders")),
    ] {
        if value.is_none() {
            problems.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    if !headers.contains_key("x-amz-date") && !headers.contains_key(http::header::DATE) {
        problems.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .to_owned(),
        );
    }
    if !problems.is_empty() {
        return Err(Denied::new(
            403,
            format!("{} Authorization={auth}", problems.join(" ")),
        ));
    }
    let access_key = credential
        .and_then(|c| c.split('/').next())
        .map(str::to_owned);
    Ok(Principal {
        access_key,
        ..Principal::default()
    })
}

/// `COGNITO_USER_POOLS`: an unexpired JWT from one of the authorizer's user pools in the
/// identity source header (signature not verified).
pub(crate) fn check_cognito(
    authorizer: &Authorizer,
    headers: &http::HeaderMap,
    now_epoch_s: i64,
) -> Result<Principal, Denied> {
    let unauthorized = || Denied::new(401, "Unauthorized");
    let header = authorizer
        .identity_source
        .as_deref()
        .and_then(|s| s.strip_prefix("method.request.header."))
        .unwrap_or("Authorization");
    let token = headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(unauthorized)?;
    let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 || parts[2].is_empty() {
        return Err(unauthorized());
    }
    let decode = |p: &str| -> Option<Map<String, Value>> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            Value::Object(o) => Some(o),
            _ => None,
        }
    };
    let header_json = decode(parts[0]).ok_or_else(unauthorized)?;
    if !header_json.contains_key("alg") {
        return Err(unauthorized());
    }
    let claims = decode(parts[1]).ok_or_else(unauthorized)?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(unauthorized)?;
    if exp <= now_epoch_s {
        return Err(Denied::new(401, "The incoming token has expired"));
    }
    if !authorizer.provider_arns.is_empty() {
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ok = authorizer.provider_arns.iter().any(|arn| {
            // arn:aws:cognito-idp:<region>:<account>:userpool/<pool-id>
            let parts: Vec<&str> = arn.split(':').collect();
            match (parts.get(3), arn.rsplit('/').next()) {
                (Some(region), Some(pool)) => {
                    iss.ends_with(&format!("cognito-idp.{region}.amazonaws.com/{pool}"))
                }
                _ => false,
            }
        });
        if !ok {
            return Err(unauthorized());
        }
    }
    // API Gateway hands claims to the integration as strings.
    let claims = claims
        .into_iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, Value::String(s))
        })
        .collect();
    Ok(Principal {
        claims: Some(claims),
        ..Principal::default()
    })
}

/// Fuzzing entry point (fuzz/fuzz_targets/cognito.rs): the `COGNITO_USER_POOLS` check of an
/// `Authorization` header value at `now_epoch_s`, with an authorizer of `provider_arns`: the
/// claims handed to the integration, or the status and message of the refusal. A value that is
/// not a valid header value is refused as a missing token.
#[doc(hidden)]
pub fn fuzz_check_cognito(
    authorization: &[u8],
    provider_arns: &[String],
    now_epoch_s: i64,
) -> Result<Map<String, Value>, (u16, String)> {
    let authorizer = Authorizer {
        authorizer_type: "COGNITO_USER_POOLS".to_owned(),
        identity_source: Some("method.request.header.Authorization".to_owned()),
        provider_arns: provider_arns.to_vec(),
        ..Authorizer::default()
    };
    let mut headers = http::HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_bytes(authorization) {
        headers.insert(http::header::AUTHORIZATION, value);
    }
    match check_cognito(&authorizer, &headers, now_epoch_s) {
        Ok(principal) => Ok(principal.claims.unwrap_or_default()),
        Err(denied) => Err((denied.status, denied.message)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{Quota, UsagePlanStage};

    #[test]
    fn limiter_checks_every_bucket() {
        let l = Limiter::default();
        let t0 = Instant::now();
        let key = Throttle {
            rate_limit: Some(1.0),
            burst_limit: Some(1),
        };
        let stage = Throttle {
            rate_limit: Some(100.0),
            burst_limit: Some(100),
        };
        let limits = vec![("stage".to_owned(), stage), ("key:a".to_owned(), key)];
        assert_eq!(l.check(&limits, t0), Ok(()));
        assert_eq!(l.check(&limits, t0), Err(Limited::Throttled));
        let other = vec![("stage".to_owned(), stage), ("key:b".to_owned(), key)];
        assert_eq!(l.check(&other, t0), Ok(()), "buckets are per key");
        assert_eq!(l.check(&[("none".into(), Throttle::default())], t0), Ok(()));
    }

    fn deployment() -> Deployment {
        let key = |id: &str, value: &str, enabled: bool| ApiKey {
            id: id.into(),
            name: id.into(),
            value: value.into(),
            enabled,
        };
        Deployment {
            apis: vec![],
            api_keys: vec![
                key("k1", "good", true),
                key("k2", "off", false),
                key("k3", "orphan", true),
            ],
            usage_plans: vec![UsagePlan {
                id: "p1".into(),
                name: "plan".into(),
                api_stages: vec![UsagePlanStage {
                    api_id: "api".into(),
                    stage: "prod".into(),
                    ..Default::default()
                }],
                throttle: Some(Throttle {
                    rate_limit: Some(20.0),
                    burst_limit: Some(100),
                }),
                quota: Some(Quota {
                    limit: 2,
                    period: "DAY".into(),
                }),
                key_ids: vec!["k1".into(), "k2".into()],
            }],
        }
    }

    #[test]
    fn api_keys_need_an_enabled_key_in_a_plan_for_the_stage() {
        let d = deployment();
        let g = check_api_key(&d, Some("good"), "api", "prod").expect("granted");
        assert_eq!((g.key.id.as_str(), g.plan.id.as_str()), ("k1", "p1"));
        assert!(check_api_key(&d, None, "api", "prod").is_none());
        assert!(check_api_key(&d, Some("nope"), "api", "prod").is_none());
        assert!(
            check_api_key(&d, Some("off"), "api", "prod").is_none(),
            "disabled"
        );
        assert!(
            check_api_key(&d, Some("orphan"), "api", "prod").is_none(),
            "in no plan"
        );
        assert!(
            check_api_key(&d, Some("good"), "api", "dev").is_none(),
            "other stage"
        );
        assert!(
            check_api_key(&d, Some("good"), "other", "prod").is_none(),
            "other api"
        );
    }

    #[test]
    fn quotas_count_per_key() {
        let d = deployment();
        let l = Limiter::default();
        let plan = &d.usage_plans[0];
        assert_eq!(l.count_quota(plan, "k1"), Ok(()));
        assert_eq!(l.count_quota(plan, "k1"), Ok(()));
        assert_eq!(l.count_quota(plan, "k1"), Err(Limited::QuotaExceeded));
        assert_eq!(l.count_quota(plan, "k2"), Ok(()));
    }

    fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn iam_requires_a_sigv4_shaped_header() {
        let e = check_iam(&headers(&[])).unwrap_err();
        assert_eq!(e, Denied::new(403, "Missing Authentication Token"));
        let e = check_iam(&headers(&[("authorization", "Bearer x")])).unwrap_err();
        assert_eq!(e.status, 403);
        assert!(
            e.message.contains("requires 'Credential' parameter"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("'X-Amz-Date' or a 'Date' header"),
            "{}",
            e.message
        );
        let good = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        let p = check_iam(&headers(&[
            ("authorization", good),
            ("x-amz-date", "20260101T000000Z"),
        ]))
        .unwrap();
        assert_eq!(p.access_key.as_deref(), Some("AKIDEXAMPLE"));
        let no_sig = good.replace(", Signature=abc", "");
        let e =
            check_iam(&headers(&[("authorization", &no_sig), ("x-amz-date", "x")])).unwrap_err();
        assert!(
            e.message
                .starts_with("Authorization header requires 'Signature' parameter."),
            "{}",
            e.message
        );
    }

    fn jwt(claims: Value) -> String {
        let b = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.c2ln",
            b(json!({"alg": "RS256", "kid": "k"})),
            b(claims)
        )
    }

    fn cognito() -> Authorizer {
        Authorizer {
            id: "a1".into(),
            name: "pool".into(),
            authorizer_type: "COGNITO_USER_POOLS".into(),
            identity_source: Some("method.request.header.Authorization".into()),
            provider_arns: vec![
                "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Abc".into(),
            ],
            authorizer_uri: None,
            identity_validation_expression: None,
        }
    }

    #[test]
    fn cognito_accepts_unexpired_tokens_from_the_pool() {
        let iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc";
        let token = jwt(json!({"sub": "u1", "iss": iss, "exp": 2_000, "email_verified": true}));
        let p = check_cognito(&cognito(), &headers(&[("authorization", &token)]), 1_000).unwrap();
        let claims = p.claims.unwrap();
        assert_eq!(claims["sub"], json!("u1"));
        assert_eq!(claims["email_verified"], json!("true"));
        let bearer = format!("Bearer {token}");
        assert!(check_cognito(&cognito(), &headers(&[("authorization", &bearer)]), 1_000).is_ok());
    }

    #[test]
    fn cognito_rejects_missing_malformed_expired_and_foreign_tokens() {
        let iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc";
        let unauthorized = Denied::new(401, "Unauthorized");
        let check = |h: http::HeaderMap| check_cognito(&cognito(), &h, 1_000).unwrap_err();
        assert_eq!(check(headers(&[])), unauthorized);
        assert_eq!(
            check(headers(&[("authorization", "not-a-jwt")])),
            unauthorized
        );
        assert_eq!(check(headers(&[("authorization", "a.b.c")])), unauthorized);
        let expired = jwt(json!({"iss": iss, "exp": 999}));
        assert_eq!(
            check(headers(&[("authorization", &expired)])),
            Denied::new(401, "The incoming token has expired")
        );
        let no_exp = jwt(json!({"iss": iss}));
        assert_eq!(check(headers(&[("authorization", &no_exp)])), unauthorized);
        let foreign =
            jwt(json!({"iss": "https://cognito-idp.us-east-1.amazonaws.com/other", "exp": 2_000}));
        assert_eq!(check(headers(&[("authorization", &foreign)])), unauthorized);
    }
}
