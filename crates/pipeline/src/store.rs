//! Where a function's objects go: S3, or memory in tests (feature `s3`). Writes are whole
//! objects under keys the function derives from its input, so a retried invocation replaces
//! what an earlier attempt wrote instead of adding to it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use futures::future::BoxFuture;

use crate::aws::AwsClient;

pub use crate::error::StoreError;

/// Writes whole objects; a second write of a key replaces the first (what makes retried
/// invokes idempotent).
pub trait ObjectStore: Send + Sync {
    /// Puts `body` under `key`.
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// An S3 bucket (encryption is the bucket's default: the pattern's bucket enforces it),
/// written through the function's signing client ([`AwsClient`]).
#[derive(Debug, Clone)]
pub struct S3Store {
    client: AwsClient,
    bucket: String,
}

impl S3Store {
    /// Objects in `bucket` through `client`.
    pub fn new(client: AwsClient, bucket: String) -> Self {
        Self { client, bucket }
    }
}

impl ObjectStore for S3Store {
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.client
                .put_object(&self.bucket, key, content_type(key), body.into())
                .await
                .map_err(|e| StoreError {
                    key: key.to_owned(),
                    reason: e.to_string(),
                })
        })
    }
}

/// The object's `Content-Type`, from its key: `.json` (one document) or JSON lines.
fn content_type(key: &str) -> &'static str {
    if key.ends_with(".json") {
        "application/json"
    } else {
        "application/x-ndjson"
    }
}

/// Objects in memory, for tests and examples.
#[derive(Debug, Default)]
pub struct MemoryStore {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    puts: Mutex<u64>,
    fail: Mutex<Option<String>>,
}

impl MemoryStore {
    /// Every object, by key.
    pub fn objects(&self) -> BTreeMap<String, Vec<u8>> {
        self.objects.lock().expect("store lock").clone()
    }

    /// How many puts were made (a key written twice counts twice).
    pub fn puts(&self) -> u64 {
        *self.puts.lock().expect("store lock")
    }

    /// Makes every put of a key containing `part` fail (None: none fail).
    pub fn fail_keys_containing(&self, part: Option<&str>) {
        *self.fail.lock().expect("store lock") = part.map(str::to_owned);
    }
}

impl ObjectStore for MemoryStore {
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if let Some(part) = self.fail.lock().expect("store lock").as_deref()
                && key.contains(part)
            {
                return Err(StoreError {
                    key: key.to_owned(),
                    reason: "injected failure".to_owned(),
                });
            }
            *self.puts.lock().expect("store lock") += 1;
            self.objects
                .lock()
                .expect("store lock")
                .insert(key.to_owned(), body);
            Ok(())
        })
    }
}
