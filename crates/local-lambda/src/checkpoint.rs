//! Shard checkpoints, one JSON file per event source mapping, written atomically.
//!
//! `<state dir>/checkpoints/<mapping uuid>.json` holds
//! `{"mapping": uuid, "streamArn": arn, "shards": {"shardId-…": "<last done sequence number>"}}`.
//! A mapping resumes each shard after its checkpoint (`AFTER_SEQUENCE_NUMBER`). Files are
//! written to a temporary name and renamed, so a crash leaves the old or the new file, never half.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct File {
    mapping: String,
    stream_arn: String,
    shards: BTreeMap<String, String>,
}

/// The checkpoints of one mapping.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    path: PathBuf,
    state: Arc<Mutex<File>>,
}

impl CheckpointStore {
    /// Opens (or starts) the checkpoints of `mapping` under `state_dir`.
    pub fn open(state_dir: &Path, mapping: &str, stream_arn: &str) -> Result<Self> {
        let dir = state_dir.join("checkpoints");
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            what: "creating the checkpoint directory",
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(format!("{mapping}.json"));
        let mut file = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice::<File>(&bytes).map_err(|source| Error::Corrupt {
                    what: "checkpoint",
                    path: path.clone(),
                    source,
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => File::default(),
            Err(source) => {
                return Err(Error::Io {
                    what: "reading checkpoints",
                    path,
                    source,
                });
            }
        };
        if file.stream_arn != stream_arn {
            // A mapping re-pointed at another stream starts afresh there.
            file.shards.clear();
        }
        file.mapping = mapping.to_owned();
        file.stream_arn = stream_arn.to_owned();
        Ok(Self {
            path,
            state: Arc::new(Mutex::new(file)),
        })
    }

    /// The checkpoint of a shard: the last sequence number done.
    pub fn get(&self, shard_id: &str) -> Option<String> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .shards
            .get(shard_id)
            .cloned()
    }

    /// All checkpoints, by shard.
    pub fn all(&self) -> BTreeMap<String, String> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .shards
            .clone()
    }

    /// Records and persists a shard's checkpoint.
    pub fn set(&self, shard_id: &str, sequence_number: &str) -> Result<()> {
        let snapshot = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state
                .shards
                .insert(shard_id.to_owned(), sequence_number.to_owned());
            state.clone()
        };
        write_atomic(&self.path, &snapshot, "writing checkpoints")
    }

    /// The file the checkpoints live in.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Writes `value` as JSON to `path` through a temporary file and a rename (the state files of
/// `kstream local`: checkpoints and the status file).
///
/// # Errors
/// [`Error::Io`] when the file cannot be written; `what` says what was being written.
pub fn write_atomic<T: Serialize>(path: &Path, value: &T, what: &'static str) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|source| Error::Corrupt {
        what: "state",
        path: path.to_path_buf(),
        source,
    })?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| Error::Io {
            what,
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path(), "m-1", "arn:s").unwrap();
        assert_eq!(store.get("shardId-0"), None);
        store.set("shardId-0", "17").unwrap();
        store.set("shardId-1", "4").unwrap();
        let again = CheckpointStore::open(dir.path(), "m-1", "arn:s").unwrap();
        assert_eq!(again.get("shardId-0").as_deref(), Some("17"));
        assert_eq!(again.all().len(), 2);
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("m-1.json")]);
    }

    #[test]
    fn another_stream_starts_afresh_and_corrupt_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        CheckpointStore::open(dir.path(), "m", "arn:a")
            .unwrap()
            .set("s", "1")
            .unwrap();
        assert_eq!(
            CheckpointStore::open(dir.path(), "m", "arn:b")
                .unwrap()
                .get("s"),
            None
        );
        std::fs::write(dir.path().join("checkpoints/bad.json"), "{").unwrap();
        let err = CheckpointStore::open(dir.path(), "bad", "arn:a").unwrap_err();
        assert!(
            err.to_string().contains("not a valid checkpoint file"),
            "{err}"
        );
    }
}
