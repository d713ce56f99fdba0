//! `kstream local up` runs only against an endpoint on this machine.
//!
//! The data plane polls every deployed stream, invokes functions, writes to S3 and sends to SQS
//! with the caller's credentials. Pointed at real AWS by mistake (no `AWS_ENDPOINT_URL`, or one
//! naming a remote host), it would read and write a real account's data. So before anything is
//! read, every endpoint the data plane and its functions would use must be local:
//! - `AWS_ENDPOINT_URL` must be set (the data plane passes it on to every function; an
//!   `endpoint_url` in a profile alone does not reach them);
//! - it and every service-specific `AWS_ENDPOINT_URL_<SERVICE>` must name a loopback address:
//!   `127.0.0.0/8`, `::1`, `localhost`, or a name that resolves to loopback addresses only
//!   (LocalStack's `localhost.localstack.cloud`);
//! - `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` must not be `true` (the SDK would then ignore them all).
//!
//! `--allow-real-aws` skips the check (an emulator on another machine, or a deliberate run
//! against an account).

use std::net::IpAddr;

/// The global endpoint variable.
const GLOBAL: &str = "AWS_ENDPOINT_URL";
/// The prefix of the service-specific endpoint variables.
const SERVICE_PREFIX: &str = "AWS_ENDPOINT_URL_";
/// How long a host name may take to resolve before it counts as not local.
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Why an endpoint is not local.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotLocal {
    /// The variable, or a description of what is missing.
    pub(crate) what: String,
    /// Why it is refused.
    pub(crate) why: String,
}

/// Checks the endpoints in `vars` (name, value pairs: the process environment). Returns every
/// endpoint that is not local; empty when all are.
pub(crate) async fn non_local_endpoints(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Vec<NotLocal> {
    let vars: Vec<(String, String)> = vars.into_iter().collect();
    let mut refused = Vec::new();
    if vars.iter().any(|(k, v)| {
        k == "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" && v.trim().eq_ignore_ascii_case("true")
    }) {
        refused.push(NotLocal {
            what: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true".into(),
            why: "the AWS SDK ignores every configured endpoint and calls AWS".into(),
        });
    }
    if !vars.iter().any(|(k, v)| k == GLOBAL && !v.is_empty()) {
        refused.push(NotLocal {
            what: GLOBAL.into(),
            why: "not set: every call would go to AWS".into(),
        });
    }
    for (name, value) in &vars {
        if value.is_empty() || !(name == GLOBAL || name.starts_with(SERVICE_PREFIX)) {
            continue;
        }
        if let Err(why) = check_local(value).await {
            refused.push(NotLocal {
                what: format!("{name}={value}"),
                why,
            });
        }
    }
    refused
}

/// `Ok` when `url` names a host on this machine.
async fn check_local(url: &str) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("not a URL ({e})"))?;
    let host = uri
        .host()
        .ok_or_else(|| "a URL without a host".to_owned())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return if ip.is_loopback() {
            Ok(())
        } else {
            Err(format!("{ip} is not a loopback address"))
        };
    }
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Ok(());
    }
    let port = uri.port_u16().unwrap_or(443);
    let lookup = tokio::net::lookup_host((host, port));
    let addrs: Vec<IpAddr> = match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
        Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect(),
        Ok(Err(e)) => return Err(format!("{host} does not resolve here ({e})")),
        Err(_) => return Err(format!("{host} did not resolve within {LOOKUP_TIMEOUT:?}")),
    };
    match addrs.iter().find(|ip| !ip.is_loopback()) {
        None if !addrs.is_empty() => Ok(()),
        None => Err(format!("{host} resolves to no address")),
        Some(ip) => Err(format!("{host} resolves to {ip}, not a loopback address")),
    }
}

/// The error `kstream local up` stops with when [`non_local_endpoints`] found some.
pub(crate) fn refusal(refused: &[NotLocal]) -> miette::Report {
    let list = refused
        .iter()
        .map(|r| format!("  {}: {}", r.what, r.why))
        .collect::<Vec<_>>()
        .join("\n");
    miette::miette!(
        help = "point AWS_ENDPOINT_URL at the emulator (make emulator; export AWS_ENDPOINT_URL=http://127.0.0.1:4566), or pass --allow-real-aws to run the data plane against these endpoints with your credentials",
        "kstream local up runs only against an emulator on this machine: it polls every deployed stream and writes to S3 and SQS, and these endpoints are not local:\n{list}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    async fn refused(pairs: &[(&str, &str)]) -> Vec<String> {
        non_local_endpoints(env(pairs))
            .await
            .into_iter()
            .map(|r| r.what)
            .collect()
    }

    #[tokio::test]
    async fn loopback_endpoints_are_local() {
        for url in [
            "http://127.0.0.1:4566",
            "http://127.3.4.5:4566/",
            "http://localhost:4566",
            "http://LOCALHOST",
            "http://moto.localhost:5000",
            "http://[::1]:4566",
        ] {
            assert!(
                refused(&[("AWS_ENDPOINT_URL", url)]).await.is_empty(),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn a_missing_endpoint_means_aws() {
        assert_eq!(
            refused(&[("HOME", "/root")]).await,
            vec!["AWS_ENDPOINT_URL".to_owned()]
        );
        assert_eq!(
            refused(&[("AWS_ENDPOINT_URL", "")]).await,
            vec!["AWS_ENDPOINT_URL".to_owned()]
        );
    }

    #[tokio::test]
    async fn remote_and_unresolvable_hosts_are_refused() {
        for url in [
            "https://kinesis.eu-west-1.amazonaws.com",
            "http://10.0.0.5:4566",
            "http://192.168.1.20:4566",
            "http://no-such-host.invalid:4566",
            "not a url",
        ] {
            assert_eq!(
                refused(&[("AWS_ENDPOINT_URL", url)]).await.len(),
                1,
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn service_specific_endpoints_are_checked_too() {
        let got = refused(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("AWS_ENDPOINT_URL_S3", "https://s3.us-east-1.amazonaws.com"),
            ("AWS_ENDPOINT_URL_KINESIS", "http://localhost:4566"),
        ])
        .await;
        assert_eq!(
            got,
            vec!["AWS_ENDPOINT_URL_S3=https://s3.us-east-1.amazonaws.com".to_owned()]
        );
    }

    #[tokio::test]
    async fn ignoring_configured_endpoints_is_refused() {
        let got = refused(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"),
        ])
        .await;
        assert_eq!(
            got,
            vec!["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true".to_owned()]
        );
    }

    #[test]
    fn the_refusal_names_each_endpoint_and_the_way_out() {
        let report = refusal(&[NotLocal {
            what: "AWS_ENDPOINT_URL".into(),
            why: "not set: every call would go to AWS".into(),
        }]);
        let text = format!("{report:?}");
        assert!(text.contains("AWS_ENDPOINT_URL: not set"), "{text}");
        assert!(text.contains("--allow-real-aws"), "{text}");
    }
}
