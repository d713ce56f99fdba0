//! The invocation's event as the bytes Lambda sent, for [`handle_text`](crate::handle_text).
//!
//! `lambda_runtime` deserializes every event into the handler's payload type through
//! `serde_path_to_error` (a path kept for every field of every record) before the handler runs.
//! For a Kinesis batch (up to 6 MB) that walk is the largest single cost of an invocation, and
//! even a `RawValue` payload is one more pass over the whole text (bench/kds-consumer: the
//! event's base64 scanned twice). [`EventBodyLayer`] takes the body out of each invocation
//! before that step and leaves `null` in its place: the runtime deserializes `()`, and the
//! handler reads the body from the [`EventBody`] it shares with the layer, once, borrowing
//! its strings (`kstream_pipeline::kinesis::KinesisEventRef`).
//!
//! The runtime still does everything else: the Runtime API, the context, the tracing span,
//! error and panic reporting. It runs one invocation at a time (`Runtime::run`), so the layer
//! puts a body and the handler of the same invocation takes it before the next one is fetched.

use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use lambda_runtime::LambdaInvocation;
use lambda_runtime::tower::{Layer, Service};

/// The body of the invocation being handled, shared by [`EventBodyLayer`] and the handler.
#[derive(Debug, Clone, Default)]
pub struct EventBody(Arc<Mutex<Option<Bytes>>>);

impl EventBody {
    /// The current invocation's body; `None` once taken (or outside an invocation).
    pub fn take(&self) -> Option<Bytes> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn put(&self, body: Bytes) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(body);
    }
}

/// The layer that moves each invocation's body into an [`EventBody`] (see the module docs).
#[derive(Debug, Clone)]
pub struct EventBodyLayer(EventBody);

impl EventBodyLayer {
    /// A layer putting every body into `body`.
    pub fn new(body: EventBody) -> Self {
        Self(body)
    }
}

impl<S> Layer<S> for EventBodyLayer {
    type Service = EventBodyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EventBodyService {
            body: self.0.clone(),
            inner,
        }
    }
}

/// The service [`EventBodyLayer`] wraps the runtime's with.
#[derive(Debug, Clone)]
pub struct EventBodyService<S> {
    body: EventBody,
    inner: S,
}

/// What the runtime deserializes in place of the event: the handler's payload is `()`.
const EMPTY: &[u8] = b"null";

impl<S: Service<LambdaInvocation>> Service<LambdaInvocation> for EventBodyService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> Self::Future {
        self.body.put(std::mem::replace(
            &mut invocation.body,
            Bytes::from_static(EMPTY),
        ));
        self.inner.call(invocation)
    }
}

#[cfg(test)]
mod tests {
    use tower::{ServiceExt as _, service_fn};

    use super::*;

    #[tokio::test]
    async fn the_body_goes_to_the_handler_and_the_runtime_sees_null() {
        let body = EventBody::default();
        let taken = body.clone();
        let service =
            EventBodyLayer::new(body).layer(service_fn(move |invocation: LambdaInvocation| {
                let taken = taken.take();
                async move { Ok::<_, std::convert::Infallible>((invocation.body, taken)) }
            }));
        let (parts, ()) = http::Response::new(()).into_parts();
        let invocation = LambdaInvocation {
            parts,
            body: Bytes::from_static(br#"{"Records":[]}"#),
            context: lambda_runtime::Context::default(),
        };
        let (seen_by_runtime, taken) = service.oneshot(invocation).await.unwrap();
        assert_eq!(seen_by_runtime, EMPTY);
        assert_eq!(taken.as_deref(), Some(&br#"{"Records":[]}"#[..]));
    }
}
