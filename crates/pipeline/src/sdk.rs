//! The AWS SDK configuration of every function that calls AWS (feature `sdk`), and the TLS
//! they use: one HTTPS client, rustls on ring.
//!
//! The SDK's `default-https-client` is rustls on aws-lc, a C library that took 0.63 MB of each
//! function's arm64 Lambda zip (1.4 MB of its binary). The functions therefore link
//! the SDK without it and build their configuration here, with smithy's own hyper client on
//! rustls + ring ([`load`]): the same client, the same cipher suites, the same native
//! root certificates, and plain `http://` endpoints (`AWS_ENDPOINT_URL`: the emulator, kstream
//! local) work as before. A function's own HTTPS calls (enrichment-consumer's fare API) take
//! their TLS from [`crypto_provider`], so no function links aws-lc
//! (`cargo tree -e normal -i aws-lc-sys -p <function>` finds no such package), and such a
//! function reads the root certificates once for both clients ([`Roots`], [`load_with_roots`]).
//!
//! A function that loaded its configuration with `aws_config::load_from_env()` instead would
//! compile but have no HTTP client in its Lambda build (its tests link the default client
//! through the test kit): every function calls [`load`].

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::HttpClientError;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

pub use crate::roots::Roots;

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL*`), as
/// `aws_config::load_from_env()` reads it, with one HTTPS client (hyper 1 + rustls on ring)
/// that the function's SDK clients share; the client reads the system's root certificates
/// (at its first request).
pub async fn load() -> SdkConfig {
    load_with(None).await
}

/// [`load`], with the root certificates the function has read already ([`Roots`]), for a
/// function with an HTTPS client of its own: the certificates are read once, not once per
/// client.
///
/// # Errors
/// When the SDK's TLS context cannot be built from `roots`.
pub async fn load_with_roots(roots: &Roots) -> Result<SdkConfig, HttpClientError> {
    let trust = tls::TrustStore::empty().with_pem_certificate(roots.pem());
    let context = tls::TlsContext::builder().with_trust_store(trust).build()?;
    Ok(load_with(Some(context)).await)
}

async fn load_with(context: Option<tls::TlsContext>) -> SdkConfig {
    let mut https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
    if let Some(context) = context {
        https = https.tls_context(context);
    }
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https.build_https())
        .load()
        .await
}

/// The rustls crypto provider (ring) for a function's own HTTPS client.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
