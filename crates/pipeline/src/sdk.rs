//! The AWS SDK configuration of a function that uses the SDK (feature `sdk`; none does now:
//! every function signs its calls with [`crate::aws::AwsClient`] instead),
//! and the TLS they use: one HTTPS client, rustls on ring.
//!
//! The SDK's `default-https-client` is rustls on aws-lc, a C library that took 0.63 MB of each
//! function's arm64 Lambda zip (1.4 MB of its binary). The functions therefore link the SDK
//! without it and build their configuration here ([`load`]), with their own HTTP client
//! ([`SdkHttpClient`], `sdk_http.rs`: hyper + rustls on ring, HTTP/1.1, the system's root
//! certificates); plain `http://` endpoints (`AWS_ENDPOINT_URL`: the emulator, kstream local)
//! work as before. Every other HTTPS client of a function uses the same connector
//! ([`crate::https::connector`]), so no function links aws-lc (`cargo tree -e normal -i
//! aws-lc-sys -p <function>` finds no such package), and a function with two clients reads the
//! root certificates once for both ([`Roots`], [`load_with_roots`]).
//!
//! A function that loaded its configuration with `aws_config::load_from_env()` instead would
//! compile but have no HTTP client in its Lambda build (its tests link the default client
//! through the test kit): every function that uses the SDK calls [`load`].

use aws_config::{BehaviorVersion, SdkConfig};

pub use crate::roots::Roots;
pub use crate::sdk_http::SdkHttpClient;

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL*`), as
/// `aws_config::load_from_env()` reads it, with one HTTP client that the function's SDK
/// clients share ([`SdkHttpClient`]); it reads the system's root certificates at its first
/// request.
pub async fn load() -> SdkConfig {
    load_with(SdkHttpClient::new()).await
}

/// [`load`], with the root certificates the function has read already ([`Roots`]) for a
/// function with an HTTPS client of its own ([`crate::https::connector`]): the certificates
/// are read once, not once per client.
pub async fn load_with_roots(roots: &Roots) -> SdkConfig {
    load_with(SdkHttpClient::with_roots(roots.clone())).await
}

async fn load_with(http: SdkHttpClient) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}
