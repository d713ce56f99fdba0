//! Shard checkpoints, one JSON file per event source mapping, written atomically.
//!
//! `<state dir>/checkpoints/<mapping uuid>.json` holds
//! `{"mapping": uuid, "streamArn": arn, "shards": {"shardId-…": "<last done sequence number>"},
//! "windows": {"shardId-…": {"start": …, "end": …, "state": {…}, "terminatedEarly": false}}}`.
//! A mapping resumes each shard after its checkpoint (`AFTER_SEQUENCE_NUMBER`). With a tumbling
//! window, the shard's entry in `windows` is the window open at that checkpoint and the state its
//! last successful invoke returned: the shard resumes in that window with that state, as Lambda
//! does. The checkpoint and the window are written together, after every invoke of the window
//! that counts, and the entry goes when the window closes. `windows` may be absent (files of
//! earlier versions). Files are written to a temporary name and renamed, so a crash leaves the old
//! or the new file, never half.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct File {
    mapping: String,
    stream_arn: String,
    shards: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    windows: BTreeMap<String, OpenWindow>,
}

/// A shard's open tumbling window, as of its checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OpenWindow {
    /// First second of the window (Unix epoch seconds).
    pub start: i64,
    /// First second after the window.
    pub end: i64,
    /// The state the window's last successful invoke returned (what the next invoke carries).
    pub state: Map<String, Value>,
    /// The next invoke terminates the window early (the state passed 1 MB).
    #[serde(default)]
    pub terminated_early: bool,
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
            file.windows.clear();
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

    /// The open window of a shard, as of its checkpoint.
    pub fn window(&self, shard_id: &str) -> Option<OpenWindow> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .windows
            .get(shard_id)
            .cloned()
    }

    /// Records and persists, in one write, a shard's checkpoint (when `sequence_number` is
    /// given) and its open window (`None`: no window is open, the entry goes).
    pub fn set_window(
        &self,
        shard_id: &str,
        sequence_number: Option<&str>,
        window: Option<OpenWindow>,
    ) -> Result<()> {
        let snapshot = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(seq) = sequence_number {
                state.shards.insert(shard_id.to_owned(), seq.to_owned());
            }
            match window {
                Some(window) => state.windows.insert(shard_id.to_owned(), window),
                None => state.windows.remove(shard_id),
            };
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
    fn an_open_window_is_persisted_with_its_checkpoint_and_removed_at_close() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path(), "m", "arn:s").unwrap();
        let mut state = Map::new();
        state.insert("count".into(), Value::from(3));
        let open = OpenWindow {
            start: 60,
            end: 120,
            state,
            terminated_early: true,
        };
        store
            .set_window("shardId-0", Some("7"), Some(open.clone()))
            .unwrap();
        store.set("shardId-1", "2").unwrap();
        let again = CheckpointStore::open(dir.path(), "m", "arn:s").unwrap();
        assert_eq!(again.get("shardId-0").as_deref(), Some("7"));
        assert_eq!(again.window("shardId-0"), Some(open.clone()));
        assert_eq!(again.window("shardId-1"), None);
        // A later invoke without records done keeps the checkpoint and updates the window.
        let mut later = open.clone();
        later.terminated_early = false;
        again
            .set_window("shardId-0", None, Some(later.clone()))
            .unwrap();
        let reopened = CheckpointStore::open(dir.path(), "m", "arn:s").unwrap();
        assert_eq!(reopened.get("shardId-0").as_deref(), Some("7"));
        assert_eq!(reopened.window("shardId-0"), Some(later));
        // The window closes: the entry goes, the checkpoint moves past it.
        reopened.set_window("shardId-0", Some("9"), None).unwrap();
        let closed = CheckpointStore::open(dir.path(), "m", "arn:s").unwrap();
        assert_eq!(closed.get("shardId-0").as_deref(), Some("9"));
        assert_eq!(closed.window("shardId-0"), None);
        let text = std::fs::read_to_string(closed.path()).unwrap();
        assert!(
            !text.contains("windows"),
            "no empty entry is written: {text}"
        );
        // Another stream drops the windows with the checkpoints.
        store.set_window("shardId-0", None, Some(open)).unwrap();
        let other = CheckpointStore::open(dir.path(), "m", "arn:t").unwrap();
        assert_eq!(other.window("shardId-0"), None);
    }

    #[test]
    fn files_without_windows_still_load() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("checkpoints")).unwrap();
        std::fs::write(
            dir.path().join("checkpoints/old.json"),
            r#"{"mapping": "old", "streamArn": "arn:s", "shards": {"shardId-0": "5"}}"#,
        )
        .unwrap();
        let store = CheckpointStore::open(dir.path(), "old", "arn:s").unwrap();
        assert_eq!(store.get("shardId-0").as_deref(), Some("5"));
        assert_eq!(store.window("shardId-0"), None);
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
