//! The invoke sink: the function invoked with Kinesis events built from a range's records, as
//! a mapping builds them.

use std::future::Future;

use kstream_local_lambda::mapping::batch::{Attempt, classify};
use kstream_local_lambda::mapping::event::{
    EVENT_ENVELOPE_BYTES, EventContext, StreamRecord, kinesis_event, record_event_bytes,
};
use kstream_local_lambda::runtime::{FunctionError, InvokeResult};

use crate::aws::Functions;
use crate::error::{Error, Result};
use crate::message::BatchInfo;
use crate::sink::{Handled, Sink};

/// The largest payload of a synchronous invocation (Lambda quotas: "Invocation payload
/// (request and response): 6 MB each for synchronous"), which bounds a redriven event as it
/// bounds a mapping's batch.
pub const INVOKE_PAYLOAD_MAX_BYTES: usize = 6 * 1024 * 1024;

/// A way to invoke the function: Lambda's API ([`LambdaInvoker`]), or the CLI's local Runtime
/// API host (`kstream redrive --invoke FN --local`).
pub trait Invoke {
    /// The function's name, for messages.
    fn function(&self) -> &str;
    /// The region and execution role the events name (`awsRegion`, `invokeIdentityArn`).
    fn context(&self, info: &BatchInfo) -> EventContext;
    /// Invokes the function synchronously with `payload`.
    ///
    /// # Errors
    /// [`Error::Invoke`] when the function could not be invoked at all; a function error is an
    /// `Ok(InvokeResult::Error)`.
    fn invoke(&self, payload: Vec<u8>) -> impl Future<Output = Result<InvokeResult>> + Send;
}

/// Lambda's `Invoke` API (synchronous, `RequestResponse`).
#[derive(Debug, Clone)]
pub struct LambdaInvoker<L> {
    client: L,
    function: String,
    region: String,
    role_arn: String,
}

impl<L: Functions> LambdaInvoker<L> {
    /// An invoker of `function`, with the region and execution role its events name read from
    /// its configuration (`GetFunctionConfiguration`).
    ///
    /// # Errors
    /// When the configuration cannot be read (no such function, no permission).
    pub async fn connect(client: L, function: String) -> Result<Self> {
        let role = client
            .role(&function)
            .await
            .map_err(|e| Error::aws(format!("cannot read the configuration of {function}"), &e))?;
        let region = client.region();
        Ok(Self {
            role_arn: role.unwrap_or_default(),
            client,
            function,
            region,
        })
    }
}

impl<L: Functions> Invoke for LambdaInvoker<L> {
    fn function(&self) -> &str {
        &self.function
    }

    fn context(&self, info: &BatchInfo) -> EventContext {
        EventContext {
            stream_arn: info.stream_arn.clone(),
            region: self.region.clone(),
            role_arn: self.role_arn.clone(),
        }
    }

    async fn invoke(&self, payload: Vec<u8>) -> Result<InvokeResult> {
        let out = self
            .client
            .invoke(&self.function, payload)
            .await
            .map_err(|e| Error::Invoke {
                function: self.function.clone(),
                message: e.message,
            })?;
        Ok(match out.function_error {
            Some(kind) => InvokeResult::Error(FunctionError::new(
                &kind,
                String::from_utf8_lossy(&out.payload),
            )),
            None => InvokeResult::Ok(out.payload),
        })
    }
}

/// Invokes the function with each range's records in events of at most the message's batch
/// size and [`INVOKE_PAYLOAD_MAX_BYTES`], in order (aggregates as they are in the stream, as a
/// mapping sends them); stops at the first event not handled. An error or a
/// `batchItemFailures` answer leaves the range unhandled.
#[derive(Debug, Clone)]
pub struct InvokeSink<I> {
    invoker: I,
}

impl<I: Invoke> InvokeSink<I> {
    /// A sink invoking through `invoker`.
    pub fn new(invoker: I) -> Self {
        Self { invoker }
    }

    /// The invoker.
    pub fn invoker(&self) -> &I {
        &self.invoker
    }
}

impl<I: Invoke + Send + Sync> Sink for InvokeSink<I> {
    async fn handle(&mut self, info: &BatchInfo, records: &[StreamRecord]) -> Result<Handled> {
        let ctx = self.invoker.context(info);
        for batch in batches(records, &ctx, max_records(info, records)) {
            let event = kinesis_event(batch, &ctx).to_string();
            let result = self.invoker.invoke(event.into_bytes()).await?;
            match classify(&result, batch, true) {
                Attempt::Success => {}
                Attempt::Failed { .. } | Attempt::NotInvoked => {
                    let why = match &result {
                        InvokeResult::Error(e) => format!("{}: {}", e.error_type, e.error_message),
                        InvokeResult::Ok(body) => format!(
                            "its answer is not a valid batchItemFailures list: {}",
                            String::from_utf8_lossy(body)
                        ),
                    };
                    return Err(Error::FunctionFailed {
                        range: info.to_string(),
                        count: batch.len(),
                        why,
                    });
                }
                Attempt::Partial(first) => {
                    return Err(Error::BatchItemFailures {
                        range: info.to_string(),
                        sequence: batch[first].sequence_number.clone(),
                    });
                }
            }
        }
        Ok(Handled {
            records: records.len() as u64,
            already: 0,
        })
    }
}

/// Records per event: the batch size the message names (the mapping's batch), else all.
fn max_records(info: &BatchInfo, records: &[StreamRecord]) -> usize {
    info.batch_size
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0)
        .unwrap_or(records.len())
        .max(1)
}

/// The records cut into events of at most `max_records` records and
/// [`INVOKE_PAYLOAD_MAX_BYTES`] (a record alone is always one event).
fn batches<'a>(
    records: &'a [StreamRecord],
    ctx: &EventContext,
    max_records: usize,
) -> Vec<&'a [StreamRecord]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, EVENT_ENVELOPE_BYTES);
    for (i, record) in records.iter().enumerate() {
        let size = record_event_bytes(record, ctx) + usize::from(i > start);
        if i > start && (i - start == max_records || bytes + size > INVOKE_PAYLOAD_MAX_BYTES) {
            out.push(&records[start..i]);
            start = i;
            bytes = EVENT_ENVELOPE_BYTES + record_event_bytes(record, ctx);
        } else {
            bytes += size;
        }
    }
    if start < records.len() {
        out.push(&records[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::tests::{info, record};

    fn ctx() -> EventContext {
        EventContext {
            stream_arn: info().stream_arn,
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
        }
    }

    #[test]
    fn events_are_cut_by_record_count_and_payload_size() {
        let small: Vec<StreamRecord> = (1..=5).map(|i| record(&i.to_string(), "x")).collect();
        let cut: Vec<usize> = batches(&small, &ctx(), 2).iter().map(|b| b.len()).collect();
        assert_eq!(cut, [2, 2, 1]);
        // 1 MiB records: 4 fit in 6 MB as base64 (1.33 MiB each), not 5.
        let big: Vec<StreamRecord> = (1..=9)
            .map(|i| record(&i.to_string(), vec![b'x'; 1024 * 1024]))
            .collect();
        let cut = batches(&big, &ctx(), 10_000);
        assert_eq!(cut.iter().map(|b| b.len()).collect::<Vec<_>>(), [4, 4, 1]);
        for batch in cut {
            assert!(kinesis_event(batch, &ctx()).to_string().len() <= INVOKE_PAYLOAD_MAX_BYTES);
        }
    }
}
