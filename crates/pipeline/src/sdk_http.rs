//! The AWS SDK's [`HttpClient`] for the functions that use the SDK (feature `sdk`):
//! [`SdkHttpClient`], hyper-util's pooled client over the function's HTTPS connector
//! ([`crate::https::connector`]).
//!
//! Why not the SDK's own client (aws-smithy-http-client): it is the same hyper + rustls stack
//! with HTTP/2 (h2), a connection pool of its own and its own copy of the root certificates. A
//! function with an HTTPS client of its own (enrichment-consumer's fare API) then read and
//! decoded the system's certificates twice per cold start (rustls-native-certs, most of a TLS
//! client's start-up; the SDK's trust store takes them only as PEM, decoded again), and h2 and
//! the smithy client made about a tenth of each SDK function's binary (bench/cold-start). The
//! functions call no HTTP/2-only operation (Kinesis SubscribeToShard is the one the SDK has),
//! so HTTP/1.1 is what every call of theirs uses either way.
//!
//! What [`SdkHttpClient`] keeps of the SDK client's behaviour: the connect and read timeouts of
//! the SDK's configuration (`HttpConnectorSettings`; the SDK's defaults give 3.1 s to connect),
//! plain `http://` endpoints (`AWS_ENDPOINT_URL`: the emulator, kstream local), and the same
//! classification of failures for the SDK's retries ([`classify`]: timeouts, I/O and
//! connection failures retried, the rest not). An attempt the SDK abandons (its timeout)
//! drops its connection instead of returning it to the pool.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::https::{HttpsConnector, connector};
use crate::roots::Roots;

/// How long an idle pooled connection is kept (the SDK client's default).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The AWS SDK's HTTP client over [`connector`]: one connection pool per distinct pair of
/// timeouts the SDK asks for (in practice one per function), the root certificates read at
/// its first request unless given.
#[derive(Debug, Clone, Default)]
pub struct SdkHttpClient {
    roots: Arc<OnceLock<Roots>>,
    pools: Arc<Mutex<HashMap<Timeouts, SharedHttpConnector>>>,
}

/// The settings a pool is built for: connect and read timeouts.
type Timeouts = (Option<Duration>, Option<Duration>);

impl SdkHttpClient {
    /// A client that reads the system's root certificates at its first request.
    pub fn new() -> Self {
        Self::default()
    }

    /// A client trusting `roots` (read already, for another client of the function too).
    pub fn with_roots(roots: Roots) -> Self {
        let client = Self::default();
        let _ = client.roots.set(roots);
        client
    }

    fn pool(&self, timeouts: Timeouts) -> Result<Pool, ConnectorError> {
        let roots = match self.roots.get() {
            Some(roots) => roots,
            None => {
                let roots = Roots::load().map_err(|e| ConnectorError::other(e.into(), None))?;
                self.roots.get_or_init(|| roots)
            }
        };
        let connector =
            connector(roots, timeouts.0).map_err(|e| ConnectorError::other(e.into(), None))?;
        Ok(Pool {
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                .build(connector),
            read_timeout: timeouts.1,
        })
    }
}

impl HttpClient for SdkHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let timeouts = (settings.connect_timeout(), settings.read_timeout());
        let mut pools = self.pools.lock().expect("pool map lock");
        if let Some(pool) = pools.get(&timeouts) {
            return pool.clone();
        }
        let pool = match self.pool(timeouts) {
            Ok(pool) => SharedHttpConnector::new(pool),
            // No pool (no root certificates): every request says why.
            Err(error) => SharedHttpConnector::new(Unusable(Arc::new(error.to_string()))),
        };
        pools.insert(timeouts, pool.clone());
        pool
    }
}

/// One pool of connections, with the read timeout it was built for.
#[derive(Debug, Clone)]
struct Pool {
    client: Client<HttpsConnector, SdkBody>,
    read_timeout: Option<Duration>,
}

impl HttpConnector for Pool {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(e) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into())));
            }
        };
        let response = self.client.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let response = match read_timeout {
                None => response.await,
                Some(limit) => tokio::time::timeout(limit, response).await.map_err(|_| {
                    ConnectorError::timeout(
                        format!("no response within the read timeout ({limit:?})").into(),
                    )
                })?,
            }
            .map_err(classify)?;
            Response::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// A pool that could not be built: its error, for every request.
#[derive(Debug)]
struct Unusable(Arc<String>);

impl HttpConnector for Unusable {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        HttpConnectorFuture::ready(Err(ConnectorError::other(
            self.0.as_str().to_owned().into(),
            None,
        )))
    }
}

/// A failed request as the SDK's retries see it, as the SDK's own client classifies it:
/// timeouts; connection failures, closed or reset connections and other I/O errors (retried);
/// a response cut short (S3 sends some; retried as transient); requests the client refused
/// (not retried); anything else unknown (not retried).
fn classify(error: hyper_util::client::legacy::Error) -> ConnectorError {
    let hyper = find_source::<hyper::Error>(&error);
    if hyper.is_some_and(hyper::Error::is_timeout) {
        return ConnectorError::timeout(error.into());
    }
    if error.is_connect() || find_source::<std::io::Error>(&error).is_some() {
        return ConnectorError::io(error.into());
    }
    match hyper {
        Some(e) if e.is_user() => ConnectorError::user(error.into()),
        Some(e) if e.is_closed() || e.is_canceled() => ConnectorError::io(error.into()),
        Some(e) if e.is_incomplete_message() => {
            ConnectorError::other(error.into(), Some(ErrorKind::TransientError))
        }
        _ => ConnectorError::other(error.into(), None),
    }
}

/// The first error of type `E` in `error`'s chain of sources.
fn find_source<'a, E: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;

    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
    use http_body_util::BodyExt as _;

    use super::*;

    fn client() -> SdkHttpClient {
        SdkHttpClient::with_roots(Roots::load().expect("the system's root certificates"))
    }

    fn get(url: &str) -> HttpRequest {
        HttpRequest::try_from(
            http::Request::get(url)
                .body(SdkBody::empty())
                .expect("request"),
        )
        .expect("smithy request")
    }

    /// A server on a free local port that answers one request with `reply` (None: reads the
    /// request and never answers).
    fn server(reply: Option<&'static [u8]>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            match reply {
                Some(reply) => stream.write_all(reply).expect("reply"),
                None => std::thread::sleep(Duration::from_secs(5)),
            }
        });
        format!("http://{address}/path")
    }

    #[tokio::test]
    async fn a_plain_http_endpoint_answers_through_the_pool() {
        let url = server(Some(
            b"HTTP/1.1 202 Accepted\r\ncontent-length: 5\r\n\r\nhello",
        ));
        let pool = client().pool((None, None)).expect("pool");
        let response = pool.call(get(&url)).await.expect("response");
        assert_eq!(response.status().as_u16(), 202);
        assert_eq!(response.body().bytes(), None, "streamed, not buffered");
        let body = response.into_body().collect().await.expect("body");
        assert_eq!(body.to_bytes().as_ref(), b"hello");
    }

    #[tokio::test]
    async fn no_answer_within_the_read_timeout_is_a_timeout() {
        let url = server(None);
        let pool = client()
            .pool((None, Some(Duration::from_millis(200))))
            .expect("pool");
        let error = pool.call(get(&url)).await.expect_err("times out");
        assert!(error.is_timeout(), "{error:?}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_io_error_the_sdk_retries() {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let pool = client().pool((None, None)).expect("pool");
        let error = pool
            .call(get(&format!("http://127.0.0.1:{port}/")))
            .await
            .expect_err("refused");
        assert!(error.is_io(), "{error:?}");
    }

    #[tokio::test]
    async fn a_connection_closed_before_the_answer_is_retried_as_transient() {
        let url = server(Some(b""));
        let pool = client().pool((None, None)).expect("pool");
        let error = pool.call(get(&url)).await.expect_err("closed");
        assert!(
            matches!(error.as_other(), Some(ErrorKind::TransientError)),
            "{error:?}"
        );
    }

    #[test]
    fn the_pool_is_built_once_per_pair_of_timeouts() {
        let client = client();
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(Duration::from_secs(3))
            .build();
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let _guard = runtime.enter();
        let components = RuntimeComponentsBuilder::for_tests()
            .build()
            .expect("components");
        let _ = client.http_connector(&settings, &components);
        let _ = client.http_connector(&settings, &components);
        let other = HttpConnectorSettings::builder()
            .connect_timeout(Duration::from_secs(1))
            .build();
        let _ = client.http_connector(&other, &components);
        assert_eq!(client.pools.lock().expect("lock").len(), 2);
    }
}
