//! What is deployed: delivery streams, read from the emulator's Firehose API (and, for record
//! format conversion, the Glue table each one names).
//!
//! This module follows the convention every service crate of the local data plane shares:
//! `kstream_local_lambda`'s crate docs, "How a service crate reads what Terraform deployed".
//! `ListDeliveryStreams` has no SDK paginator (it pages by `ExclusiveStartDeliveryStreamName`
//! and `HasMoreDeliveryStreams`), so this module keeps that one loop.

use std::sync::Arc;

use crate::config::DeliveryConfig;
use crate::error::{Error, Result};
use crate::glue;

/// The delivery streams as deployed.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Deployed {
    /// Those kstream local can deliver (Kinesis source, extended S3 destination), with their
    /// Parquet converter when they convert records.
    pub streams: Vec<DeliveryConfig>,
    /// Those it cannot, by name, with the reason.
    pub skipped: Vec<(String, Error)>,
}

/// Reads every deployed delivery stream (see the module docs).
///
/// # Errors
/// [`Error::Aws`] when the Firehose API cannot be read.
pub async fn load(sdk: &aws_config::SdkConfig) -> Result<Deployed> {
    load_matching(sdk, |_| true).await
}

/// [`load`] for the delivery streams whose name `keep` accepts; the others are not described
/// (nor their Glue tables read).
///
/// # Errors
/// [`Error::Aws`] when the Firehose API cannot be read.
pub async fn load_matching(
    sdk: &aws_config::SdkConfig,
    keep: impl Fn(&str) -> bool,
) -> Result<Deployed> {
    let firehose = aws_sdk_firehose::Client::new(sdk);
    let mut names = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let out = firehose
            .list_delivery_streams()
            .set_exclusive_start_delivery_stream_name(start.clone())
            .send()
            .await
            .map_err(|e| Error::aws("Firehose.ListDeliveryStreams", e))?;
        names.extend(out.delivery_stream_names().iter().cloned());
        if !out.has_more_delivery_streams() || names.is_empty() {
            break;
        }
        start = names.last().cloned();
    }
    let mut deployed = Deployed::default();
    for name in names {
        if !keep(&name) {
            continue;
        }
        let out = firehose
            .describe_delivery_stream()
            .delivery_stream_name(&name)
            .send()
            .await
            .map_err(|e| Error::aws("Firehose.DescribeDeliveryStream", e))?;
        tracing::debug!(delivery_stream = %name, "found a deployed delivery stream");
        match out
            .delivery_stream_description()
            .map(DeliveryConfig::from_description)
        {
            Some(Ok(mut c)) => match &c.conversion {
                Some(conversion) => match glue::converter(sdk, conversion).await {
                    Ok(converter) => {
                        c.converter = Some(Arc::new(converter));
                        deployed.streams.push(c);
                    }
                    Err(e) => deployed.skipped.push((
                        name.clone(),
                        Error::Config(format!(
                            "delivery stream {name}: record format conversion: {e}"
                        )),
                    )),
                },
                None => deployed.streams.push(c),
            },
            Some(Err(e)) => deployed.skipped.push((name, e)),
            None => deployed.skipped.push((
                name.clone(),
                Error::Config(format!("delivery stream {name}: no description")),
            )),
        }
    }
    Ok(deployed)
}
