//! The HTTPS connector every client of a function shares (feature `https`): hyper-util's
//! connector under hyper-rustls (rustls on ring), HTTP/1.1, trusting the system's root
//! certificates read once ([`Roots`]). The signing AWS client (`aws`) and enrichment-consumer's
//! fare API client are built on it, so a function reads and decodes the certificates once,
//! whatever it calls.
//!
//! HTTP/1.1 only: no operation the functions call needs HTTP/2 (Kinesis SubscribeToShard is the
//! one the SDK has), and h2 was a tenth of a function's binary when the functions used the SDK
//! (bench/cold-start).

use std::sync::Arc;
use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;

pub use crate::roots::Roots;

/// The TLS connector every client of a function is built on (`https://` and `http://`).
pub type HttpsConnector = hyper_rustls::HttpsConnector<TcpConnector>;

/// The TLS connector: rustls on ring with rustls's safe default protocol versions, trusting
/// `roots`, HTTP/1.1, `http://` allowed, connecting within `connect_timeout` when given.
///
/// # Errors
/// When ring supports none of rustls's default protocol versions (never with this build).
pub fn connector(
    roots: &Roots,
    connect_timeout: Option<Duration>,
) -> Result<HttpsConnector, rustls::Error> {
    let tls = rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots.store())
        .with_no_client_auth();
    let mut tcp = TcpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(connect_timeout);
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp))
}

/// The rustls crypto provider (ring) of every client.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
