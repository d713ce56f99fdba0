//! `kstream replay s3://bucket/prefix/`: the objects under an S3 prefix, read as the reference
//! replay reads them. Objects come in listing order (ListObjectsV2, lexicographic by key, every
//! page); each is decompressed by its detected format (gzip, LZ4 frame or plain, by magic bytes
//! as for files) and its lines follow in order. Keys ending in `/` (folder markers) and in
//! `README.md` are skipped, as the reference skips its README objects.
//!
//! Unlike the reference, which logs and skips an object it cannot open, any S3 error ends the
//! input with an error naming the object (the replay then exits non-zero): nothing is lost
//! silently. An empty prefix is an error too.
//!
//! Objects are streamed, not downloaded whole: a blocking thread reads each body through
//! [`BlockingBody`], so a slow stream slows the download (the line channel is bounded).

use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::input::{self, LineReceiver, LineSender};

/// An S3 location: a bucket and a key prefix (shared with `kstream redrive --to-s3`).
pub(crate) use kstream_redrive::S3Prefix;

/// Whether a listed key is skipped rather than read.
pub(crate) fn skipped_key(key: &str) -> bool {
    key.ends_with('/') || key.ends_with("README.md")
}

/// An S3 client for `sdk`, in `region` when given. Path-style addressing when an endpoint is
/// configured (the emulator serves no virtual-host buckets).
pub(crate) fn client(sdk: &aws_config::SdkConfig, region: Option<&str>) -> aws_sdk_s3::Client {
    let mut config = aws_sdk_s3::config::Builder::from(sdk);
    if let Some(region) = region {
        config = config.region(aws_sdk_s3::config::Region::new(region.to_owned()));
    }
    let endpoint_set = sdk.endpoint_url().is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
    aws_sdk_s3::Client::from_conf(config.force_path_style(endpoint_set).build())
}

/// Reads the lines of every object under `location`, in listing order, on a blocking thread.
/// The first page is listed before returning, so a bad bucket or an empty prefix fails at once.
///
/// # Errors
/// The listing failed, or there is nothing to read under the prefix.
pub(crate) async fn lines(
    client: aws_sdk_s3::Client,
    location: S3Prefix,
) -> miette::Result<LineReceiver> {
    let mut pages = client
        .list_objects_v2()
        .bucket(&location.bucket)
        .prefix(&location.prefix)
        .into_paginator()
        .send();
    // Up to the first page with something to read (README.md and folder markers are skipped).
    let first = loop {
        let Some(page) = pages.next().await else {
            return Err(miette::miette!(
                help = "check the prefix: keys are case-sensitive, and folder markers and README.md objects are skipped",
                "no objects to replay under {location}"
            ));
        };
        let page = listed(page, &location)?;
        if page
            .iter()
            .any(|o| o.key().is_some_and(|key| !skipped_key(key)))
        {
            break page;
        }
    };
    let (tx, rx) = mpsc::channel(4096);
    let handle = Handle::current();
    std::thread::spawn(move || {
        let mut page = first;
        loop {
            match read_page(&handle, &client, &location, &page, &tx) {
                Ok(true) => {}
                Ok(false) => return,
                Err(report) => {
                    let _ = tx.blocking_send(Err(report));
                    return;
                }
            }
            match handle.block_on(pages.next()) {
                None => return,
                Some(next) => match listed(next, &location) {
                    Ok(next) => page = next,
                    Err(report) => {
                        let _ = tx.blocking_send(Err(report));
                        return;
                    }
                },
            }
        }
    });
    Ok(rx)
}

/// The objects of a listing page.
fn listed<E, R>(
    page: Result<
        aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output,
        aws_sdk_s3::error::SdkError<E, R>,
    >,
    location: &S3Prefix,
) -> miette::Result<Vec<aws_sdk_s3::types::Object>>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match page {
        Ok(page) => Ok(page.contents.unwrap_or_default()),
        Err(e) => Err(miette::miette!(
            help = "check the bucket, its region (--bucket-region) and the endpoint",
            "cannot list {location}: {}",
            aws_sdk_s3::error::DisplayErrorContext(&e)
        )),
    }
}

/// Sends the lines of the objects of one listing page, in order: `Ok(false)` when nothing more
/// should be read (the receiver is gone, or a read error was sent), `Err` when an object cannot
/// be opened.
fn read_page(
    handle: &Handle,
    client: &aws_sdk_s3::Client,
    location: &S3Prefix,
    page: &[aws_sdk_s3::types::Object],
    tx: &LineSender,
) -> miette::Result<bool> {
    for object in page {
        let Some(key) = object.key() else { continue };
        if skipped_key(key) {
            tracing::info!(key, "skipping object");
            continue;
        }
        let name = format!("s3://{}/{key}", location.bucket);
        tracing::info!(object = %name, "reading object");
        let body = handle
            .block_on(client.get_object().bucket(&location.bucket).key(key).send())
            .map_err(|e| {
                miette::miette!(
                    "cannot read {name}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(&e)
                )
            })?
            .body;
        let reader = BufReader::with_capacity(
            256 * 1024,
            BlockingBody {
                handle: handle.clone(),
                body,
                chunk: Default::default(),
            },
        );
        let reader = input::decoder(reader, &name, Some(Path::new(key)))?;
        let origin: Arc<str> = name.clone().into();
        if !input::read_lines(reader, &name, Some(origin), tx) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// An S3 object body read synchronously, one chunk at a time, from a blocking thread.
struct BlockingBody {
    handle: Handle,
    body: ByteStream,
    chunk: bytes::Bytes,
}

impl Read for BlockingBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.handle.block_on(self.body.next()) {
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk = self.chunk.slice(n..);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_parse() {
        assert_eq!(
            S3Prefix::parse("s3://aws-bigdata-blog/artifacts/taxi/dropoff_year=2018/").unwrap(),
            S3Prefix {
                bucket: "aws-bigdata-blog".into(),
                prefix: "artifacts/taxi/dropoff_year=2018/".into()
            }
        );
        for (text, prefix) in [("s3://my.bucket", ""), ("s3://my.bucket/", "")] {
            let parsed = S3Prefix::parse(text).unwrap();
            assert_eq!(
                (parsed.bucket.as_str(), parsed.prefix.as_str()),
                ("my.bucket", prefix)
            );
        }
        assert_eq!(
            S3Prefix::parse("s3://b-1/x/").unwrap().to_string(),
            "s3://b-1/x/"
        );
        for bad in [
            "s3://",
            "s3:///key",
            "s3://Upper/x",
            "s3://ab/x",
            "http://b/x",
        ] {
            assert!(S3Prefix::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn folder_markers_and_readmes_are_skipped() {
        assert!(skipped_key("prefix/"));
        assert!(skipped_key("prefix/README.md"));
        assert!(!skipped_key("prefix/part-00000.json.lz4"));
    }
}
