//! `AWS_IAM` signatures verified for real: the executor recomputes the SigV4 signature of a
//! request with the credentials it was given (`kstream local`'s own, which its functions sign
//! with) and compares it with the one sent.
//!
//! The recomputation uses `aws-sigv4` (the signer of the Rust SDK) over exactly the headers the
//! client listed in `SignedHeaders`, the path as sent (stage included), the raw query string,
//! and the body (or the `x-amz-content-sha256` value when the client sent one), at the
//! `X-Amz-Date` instant and in the credential scope's region. As API Gateway:
//!
//! | Problem | 403 `message` |
//! |---|---|
//! | Access key id other than the executor's | `The security token included in the request is invalid.` |
//! | Scope not for `execute-api` | `Credential should be scoped to correct service: 'execute-api'. ` |
//! | `X-Amz-Date` missing or malformed | `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=…` is checked before; a malformed date is a signature mismatch |
//! | `X-Amz-Date` more than 5 minutes off | `Signature expired: {date} is now earlier than {now−5m} ({now} - 5 min.)` / `Signature not yet current: {date} is still later than {now+5m} ({now} + 5 min.)` |
//! | Any other difference | `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.` |

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use chrono::{DateTime, NaiveDateTime, Utc};

/// The largest clock difference accepted between `X-Amz-Date` and now.
pub const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

const AMZ_DATE: &str = "%Y%m%dT%H%M%SZ";

/// The mismatch message, as API Gateway words it.
pub const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// The unknown-key message, as API Gateway words it.
pub const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

/// The credentials that `AWS_IAM` requests must be signed with.
#[derive(Clone)]
pub struct IamCredentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`, when the credentials are temporary.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for IamCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

/// Why a signature was refused: the 403 message and `x-amzn-ErrorType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub(crate) message: String,
    pub(crate) error_type: &'static str,
}

impl Refused {
    fn new(message: impl Into<String>, error_type: &'static str) -> Self {
        Self {
            message: message.into(),
            error_type,
        }
    }

    fn mismatch() -> Self {
        Self::new(SIGNATURE_MISMATCH, "InvalidSignatureException")
    }
}

/// One request to verify.
pub(crate) struct Signed<'a> {
    pub(crate) method: &'a str,
    /// The path as the client sent it (percent-encoded, stage included).
    pub(crate) path: &'a str,
    /// The raw query string.
    pub(crate) query: Option<&'a str>,
    pub(crate) headers: &'a http::HeaderMap,
    pub(crate) body: &'a [u8],
}

/// The `Authorization` header's parts.
struct Authorization<'a> {
    access_key_id: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim();
    let field = |name: &str| {
        rest.split(',')
            .map(str::trim)
            .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    };
    let mut scope = field("Credential")?.split('/');
    let (access_key_id, _date, region, service) =
        (scope.next()?, scope.next()?, scope.next()?, scope.next()?);
    Some(Authorization {
        access_key_id,
        region,
        service,
        signed_headers: field("SignedHeaders")?.split(';').collect(),
        signature: field("Signature")?,
    })
}

/// Verifies the request's SigV4 signature against `credentials` at `now`. The header's shape
/// was checked before ([`check_iam`](crate::auth)).
pub(crate) fn verify(
    credentials: &IamCredentials,
    req: &Signed<'_>,
    now: SystemTime,
) -> Result<(), Refused> {
    let value = req
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(Refused::mismatch)?;
    let auth = parse_authorization(value).ok_or_else(Refused::mismatch)?;
    if auth.access_key_id != credentials.access_key_id {
        return Err(Refused::new(INVALID_TOKEN, "UnrecognizedClientException"));
    }
    if auth.service != "execute-api" {
        return Err(Refused::new(
            "Credential should be scoped to correct service: 'execute-api'. ",
            "InvalidSignatureException",
        ));
    }
    let amz_date = req
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(Refused::mismatch)?;
    let signed_at: DateTime<Utc> = NaiveDateTime::parse_from_str(amz_date, AMZ_DATE)
        .map_err(|_| Refused::mismatch())?
        .and_utc();
    let now_utc = DateTime::<Utc>::from(now);
    let skew = chrono::Duration::from_std(MAX_SKEW).unwrap_or_default();
    let fmt = |t: DateTime<Utc>| t.format(AMZ_DATE).to_string();
    if signed_at < now_utc - skew {
        return Err(Refused::new(
            format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - 5 min.)",
                fmt(now_utc - skew),
                fmt(now_utc)
            ),
            "InvalidSignatureException",
        ));
    }
    if signed_at > now_utc + skew {
        return Err(Refused::new(
            format!(
                "Signature not yet current: {amz_date} is still later than {} ({} + 5 min.)",
                fmt(now_utc + skew),
                fmt(now_utc)
            ),
            "InvalidSignatureException",
        ));
    }

    // Exactly the headers the client signed, each value as sent.
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for name in &auth.signed_headers {
        for v in req.headers.get_all(*name) {
            headers.push((name, v.to_str().map_err(|_| Refused::mismatch())?));
        }
    }
    let host = req
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let url = match req.query {
        Some(q) if !q.is_empty() => format!("https://{host}{}?{q}", req.path),
        _ => format!("https://{host}{}", req.path),
    };
    let body = match req
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        Some(hash) => SignableBody::Precomputed(hash.to_owned()),
        None => SignableBody::Bytes(req.body),
    };
    let signable =
        SignableRequest::new(req.method, &url, headers.into_iter(), body).map_err(|e| {
            tracing::debug!(error = %e, "request cannot be re-signed");
            Refused::mismatch()
        })?;
    let identity = Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "kstream-local",
    )
    .into();
    let mut settings = SigningSettings::default();
    // Only what the client listed is signed, whatever it is.
    settings.excluded_headers = Some(Vec::new());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name("execute-api")
        .time(SystemTime::from(signed_at))
        .settings(settings)
        .build()
        .map_err(|_| Refused::mismatch())?
        .into();
    let expected = sign(signable, &params).map_err(|e| {
        tracing::debug!(error = %e, "request cannot be re-signed");
        Refused::mismatch()
    })?;
    if expected.signature() == auth.signature {
        Ok(())
    } else {
        Err(Refused::mismatch())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;

    use super::{INVALID_TOKEN, IamCredentials, SIGNATURE_MISMATCH, Signed, verify};

    const HOST: &str = "abc123.execute-api.us-east-1.amazonaws.com";

    fn creds(token: Option<&str>) -> IamCredentials {
        IamCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(str::to_owned),
        }
    }

    /// A request signed as a client (the SDK's signer, default settings) would sign it.
    fn signed(
        c: &IamCredentials,
        service: &str,
        path_and_query: &str,
        body: &[u8],
        at: SystemTime,
    ) -> http::Request<Vec<u8>> {
        let mut req = http::Request::builder()
            .method("POST")
            .uri(format!("https://{HOST}{path_and_query}"))
            .header("host", HOST)
            .header("x-api-key", "k-0123456789")
            .header("content-type", "application/json")
            .header("user-agent", "test")
            .body(body.to_vec())
            .unwrap();
        let identity = Credentials::new(
            &c.access_key_id,
            &c.secret_access_key,
            c.session_token.clone(),
            None,
            "test",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(service)
            .time(at)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let url = req.uri().to_string();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        let signable = SignableRequest::new(
            "POST",
            &url,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut req);
        req
    }

    fn check(
        c: &IamCredentials,
        req: &http::Request<Vec<u8>>,
        now: SystemTime,
    ) -> Result<(), String> {
        verify(
            c,
            &Signed {
                method: req.method().as_str(),
                path: req.uri().path(),
                query: req.uri().query(),
                headers: req.headers(),
                body: req.body(),
            },
            now,
        )
        .map_err(|r| r.message)
    }

    #[test]
    fn a_good_signature_passes() {
        let now = SystemTime::now();
        for token in [None, Some("session-token-example")] {
            let c = creds(token);
            let req = signed(
                &c,
                "execute-api",
                "/prod/predictFare?ride_request_id=123&b=a%20b",
                b"{}",
                now,
            );
            assert_eq!(check(&c, &req, now), Ok(()), "{token:?}");
            // A few minutes of clock difference is fine.
            assert_eq!(check(&c, &req, now + Duration::from_secs(240)), Ok(()));
        }
    }

    #[test]
    fn tampering_is_a_mismatch() {
        let now = SystemTime::now();
        let c = creds(None);
        let mut wrong = c.clone();
        wrong.secret_access_key = "another-secret".into();
        let req = signed(
            &wrong,
            "execute-api",
            "/prod/predictFare?ride_request_id=123",
            b"",
            now,
        );
        assert_eq!(check(&c, &req, now), Err(SIGNATURE_MISMATCH.into()));

        let good = signed(
            &c,
            "execute-api",
            "/prod/predictFare?ride_request_id=123",
            b"x",
            now,
        );
        let mut req = good.clone();
        *req.uri_mut() = format!("https://{HOST}/prod/predictFare?ride_request_id=124")
            .parse()
            .unwrap();
        assert_eq!(check(&c, &req, now), Err(SIGNATURE_MISMATCH.into()));
        let mut req = good.clone();
        req.headers_mut()
            .insert("x-api-key", "another".parse().unwrap());
        assert_eq!(check(&c, &req, now), Err(SIGNATURE_MISMATCH.into()));
        let mut req = good.clone();
        *req.body_mut() = b"y".to_vec();
        assert_eq!(check(&c, &req, now), Err(SIGNATURE_MISMATCH.into()));
        // A header that was not signed may change (the SDK does not sign user-agent).
        let mut req = good;
        req.headers_mut()
            .insert("user-agent", "changed".parse().unwrap());
        assert_eq!(check(&c, &req, now), Ok(()));
    }

    #[test]
    fn another_key_or_service_or_time_is_refused() {
        let now = SystemTime::now();
        let c = creds(None);
        let mut other = c.clone();
        other.access_key_id = "AKIDOTHER".into();
        let req = signed(&other, "execute-api", "/prod/x", b"", now);
        assert_eq!(check(&c, &req, now), Err(INVALID_TOKEN.into()));

        let req = signed(&c, "lambda", "/prod/x", b"", now);
        assert_eq!(
            check(&c, &req, now),
            Err("Credential should be scoped to correct service: 'execute-api'. ".into())
        );

        let req = signed(&c, "execute-api", "/prod/x", b"", now);
        let late = check(&c, &req, now + Duration::from_secs(301)).unwrap_err();
        assert!(late.starts_with("Signature expired: "), "{late}");
        assert!(late.ends_with(" - 5 min.)"), "{late}");
        let early = check(&c, &req, now - Duration::from_secs(301)).unwrap_err();
        assert!(early.starts_with("Signature not yet current: "), "{early}");
    }
}
