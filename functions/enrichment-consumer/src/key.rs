//! The API key: read once at cold start from SSM or Secrets Manager, read again once when the
//! API answers 403 (the key was rotated).

use std::sync::{Arc, RwLock};

use futures::future::BoxFuture;
use kstream_pipeline::aws::AwsClient;

use crate::error::KeyError;

/// Where the key is read from.
pub trait KeySource: Send + Sync {
    /// Reads the current key.
    fn fetch(&self) -> BoxFuture<'_, Result<String, KeyError>>;
}

/// An SSM parameter (SecureString, read with decryption).
#[derive(Debug, Clone)]
pub struct SsmKey {
    client: AwsClient,
    name: String,
}

impl SsmKey {
    /// The parameter `name` read through `client`.
    pub fn new(client: AwsClient, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }
}

impl KeySource for SsmKey {
    fn fetch(&self) -> BoxFuture<'_, Result<String, KeyError>> {
        Box::pin(async move {
            let error = |reason: String| KeyError {
                source_name: format!("SSM parameter {}", self.name),
                reason,
            };
            self.client
                .get_parameter(&self.name)
                .await
                .map_err(|e| error(e.to_string()))?
                .filter(|v| !v.is_empty())
                .ok_or_else(|| error("the parameter has no value".to_owned()))
        })
    }
}

/// A Secrets Manager secret whose secret string is the key.
#[derive(Debug, Clone)]
pub struct SecretKey {
    client: AwsClient,
    id: String,
}

impl SecretKey {
    /// The secret `id` (name or ARN) read through `client`.
    pub fn new(client: AwsClient, id: impl Into<String>) -> Self {
        Self {
            client,
            id: id.into(),
        }
    }
}

impl KeySource for SecretKey {
    fn fetch(&self) -> BoxFuture<'_, Result<String, KeyError>> {
        Box::pin(async move {
            let error = |reason: String| KeyError {
                source_name: format!("secret {}", self.id),
                reason,
            };
            self.client
                .get_secret_string(&self.id)
                .await
                .map_err(|e| error(e.to_string()))?
                .filter(|v| !v.is_empty())
                .ok_or_else(|| error("the secret has no secret string".to_owned()))
        })
    }
}

/// The key in use, with a generation number so that concurrent 403s read it again once.
pub struct ApiKey {
    source: Arc<dyn KeySource>,
    current: RwLock<(u64, Arc<str>)>,
    refresh: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("generation", &self.get().0)
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// Reads the key from `source` (at cold start).
    ///
    /// # Errors
    /// The source's [`KeyError`]: the cold start fails.
    pub async fn load(source: Arc<dyn KeySource>) -> Result<Self, KeyError> {
        let key = source.fetch().await?;
        Ok(Self {
            source,
            current: RwLock::new((0, key.into())),
            refresh: tokio::sync::Mutex::new(()),
        })
    }

    /// The current key and its generation.
    pub fn get(&self) -> (u64, Arc<str>) {
        let guard = self.current.read().unwrap_or_else(|e| e.into_inner());
        (guard.0, guard.1.clone())
    }

    /// The key after the one of generation `seen` was refused: read again from the source
    /// unless another call already did since.
    ///
    /// # Errors
    /// The source's [`KeyError`].
    pub async fn refresh(&self, seen: u64) -> Result<(u64, Arc<str>), KeyError> {
        let _one_at_a_time = self.refresh.lock().await;
        let (generation, key) = self.get();
        if generation != seen {
            return Ok((generation, key));
        }
        let fresh: Arc<str> = self.source.fetch().await?.into();
        let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
        *guard = (generation + 1, fresh.clone());
        tracing::info!(
            generation = generation + 1,
            "API key read again after a 403"
        );
        Ok((generation + 1, fresh))
    }
}
