//! Where a service's requests go, as the SDKs resolve it from the environment: the configured
//! endpoint (`AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, both ignored when
//! `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`; the emulator, `kstream local`), else the
//! service's regional endpoint in the region's partition, FIPS when `AWS_USE_FIPS_ENDPOINT=true`
//! and dual-stack when `AWS_USE_DUALSTACK_ENDPOINT=true`.
//!
//! The regional endpoints follow the services' endpoint rules for the commercial, China and
//! GovCloud partitions (`amazonaws.com`, `amazonaws.com.cn`; FIPS host `<service>-fips`;
//! dual-stack `s3.dualstack.<region>.amazonaws.com` for S3, `<service>.<region>.api.aws` for
//! the others). Other partitions (ISO) are reached through `AWS_ENDPOINT_URL_<SERVICE>`.

use crate::config::Env;
use crate::error::AwsError;

/// A service as its endpoint and signature name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// The SigV4 signing name and the endpoint's host prefix (`s3`, `ssm`, `secretsmanager`).
    pub name: &'static str,
    /// The service's suffix of `AWS_ENDPOINT_URL_<SERVICE>` (its SDK service id, upper case,
    /// spaces as underscores: `S3`, `SSM`, `SECRETS_MANAGER`).
    pub env_suffix: &'static str,
}

/// Amazon S3.
pub const S3: Service = Service {
    name: "s3",
    env_suffix: "S3",
};
/// AWS Systems Manager (Parameter Store).
pub const SSM: Service = Service {
    name: "ssm",
    env_suffix: "SSM",
};
/// AWS Secrets Manager.
pub const SECRETS_MANAGER: Service = Service {
    name: "secretsmanager",
    env_suffix: "SECRETS_MANAGER",
};

/// A resolved endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `scheme://host[:port]`, no trailing slash.
    pub base: String,
    /// Whether it was configured (an emulator or a proxy) rather than AWS's own: S3 then
    /// addresses buckets in the path.
    pub configured: bool,
}

/// The endpoints of every service, read once from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    region: String,
    fips: bool,
    dualstack: bool,
    configured: Vec<(&'static str, String)>,
    global: Option<String>,
}

/// Amazon Kinesis Data Streams.
pub const KINESIS: Service = Service {
    name: "kinesis",
    env_suffix: "KINESIS",
};
/// Amazon SQS.
pub const SQS: Service = Service {
    name: "sqs",
    env_suffix: "SQS",
};
/// AWS Lambda.
pub const LAMBDA: Service = Service {
    name: "lambda",
    env_suffix: "LAMBDA",
};

/// The services whose configured endpoint is read.
const SERVICES: [Service; 6] = [S3, SSM, SECRETS_MANAGER, KINESIS, SQS, LAMBDA];

impl Endpoints {
    /// The endpoints for `region` from `env`.
    ///
    /// # Errors
    /// When a configured endpoint is not an `http://` or `https://` URL, or a flag is not a
    /// boolean.
    pub fn from_env(env: &Env<'_>, region: &str) -> Result<Self, AwsError> {
        let flag = |var: &'static str| {
            env.bool(var)
                .map(Option::unwrap_or_default)
                .map_err(|e| AwsError::Config(e.to_string()))
        };
        let ignore = flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?;
        let url = |var: String| -> Result<Option<String>, AwsError> {
            if ignore {
                return Ok(None);
            }
            env.get(&var).map(|url| checked_url(&var, &url)).transpose()
        };
        let mut configured = Vec::new();
        for service in SERVICES {
            if let Some(url) = url(format!("AWS_ENDPOINT_URL_{}", service.env_suffix))? {
                configured.push((service.name, url));
            }
        }
        Ok(Self {
            region: region.to_owned(),
            fips: flag("AWS_USE_FIPS_ENDPOINT")?,
            dualstack: flag("AWS_USE_DUALSTACK_ENDPOINT")?,
            configured,
            global: url("AWS_ENDPOINT_URL".to_owned())?,
        })
    }

    /// The region the endpoints are in.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// `service`'s endpoint.
    pub fn of(&self, service: Service) -> Endpoint {
        let configured = self
            .configured
            .iter()
            .find(|(name, _)| *name == service.name)
            .map(|(_, url)| url)
            .or(self.global.as_ref());
        if let Some(url) = configured {
            return Endpoint {
                base: url.clone(),
                configured: true,
            };
        }
        let fips = if self.fips { "-fips" } else { "" };
        let suffix = dns_suffix(&self.region);
        let region = &self.region;
        let name = service.name;
        let host = match (self.dualstack, service == S3) {
            (false, _) => format!("{name}{fips}.{region}.{suffix}"),
            (true, true) => format!("{name}{fips}.dualstack.{region}.{suffix}"),
            (true, false) => format!("{name}{fips}.{region}.{}", dualstack_suffix(region)),
        };
        Endpoint {
            base: format!("https://{host}"),
            configured: false,
        }
    }
}

/// The partition's DNS suffix of `region`.
fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

/// The partition's dual-stack DNS suffix of `region` (services other than S3).
fn dualstack_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "api.amazonwebservices.com.cn"
    } else {
        "api.aws"
    }
}

/// `url` without a trailing slash, when it is an `http://` or `https://` URL with a host.
fn checked_url(var: &str, url: &str) -> Result<String, AwsError> {
    let trimmed = url.trim_end_matches('/');
    let parsed: http::Uri = trimmed
        .parse()
        .map_err(|e| AwsError::Config(format!("{var}={url:?} is not a URL: {e}")))?;
    let scheme_ok = matches!(parsed.scheme_str(), Some("http" | "https"));
    if !scheme_ok || parsed.host().is_none() {
        return Err(AwsError::Config(format!(
            "{var}={url:?}: expected http://host[:port] or https://host[:port]"
        )));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(pairs: &[(&str, &str)], region: &str) -> Endpoints {
        Endpoints::from_env(&Env::from_pairs(pairs), region).expect("endpoints")
    }

    #[test]
    fn regional_endpoints_follow_the_partition() {
        let aws = endpoints(&[], "eu-west-1");
        assert_eq!(aws.of(S3).base, "https://s3.eu-west-1.amazonaws.com");
        assert_eq!(aws.of(SSM).base, "https://ssm.eu-west-1.amazonaws.com");
        assert!(!aws.of(S3).configured);
        let china = endpoints(&[], "cn-north-1");
        assert_eq!(
            china.of(SECRETS_MANAGER).base,
            "https://secretsmanager.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn fips_and_dualstack_hosts() {
        let fips = endpoints(&[("AWS_USE_FIPS_ENDPOINT", "true")], "us-gov-west-1");
        assert_eq!(
            fips.of(S3).base,
            "https://s3-fips.us-gov-west-1.amazonaws.com"
        );
        assert_eq!(
            fips.of(SSM).base,
            "https://ssm-fips.us-gov-west-1.amazonaws.com"
        );
        let dual = endpoints(&[("AWS_USE_DUALSTACK_ENDPOINT", "true")], "us-east-2");
        assert_eq!(
            dual.of(S3).base,
            "https://s3.dualstack.us-east-2.amazonaws.com"
        );
        assert_eq!(dual.of(SSM).base, "https://ssm.us-east-2.api.aws");
    }

    #[test]
    fn a_service_endpoint_wins_over_the_global_one_unless_ignored() {
        let pairs = [
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/"),
            ("AWS_ENDPOINT_URL_S3", "http://localhost:9000"),
        ];
        let e = endpoints(&pairs, "us-east-1");
        assert_eq!(e.of(S3).base, "http://localhost:9000");
        assert_eq!(e.of(SSM).base, "http://127.0.0.1:4566");
        assert!(e.of(SSM).configured);
        let mut ignored = pairs.to_vec();
        ignored.push(("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"));
        let e = endpoints(&ignored, "us-east-1");
        assert_eq!(e.of(S3).base, "https://s3.us-east-1.amazonaws.com");
    }

    #[test]
    fn a_configured_endpoint_must_be_an_http_url() {
        for bad in ["localhost:4566", "ftp://host", "http://"] {
            let error = Endpoints::from_env(
                &Env::from_pairs(&[("AWS_ENDPOINT_URL_SSM", bad)]),
                "us-east-1",
            )
            .expect_err(bad);
            assert!(
                error.to_string().contains("AWS_ENDPOINT_URL_SSM"),
                "{error}"
            );
        }
    }
}
