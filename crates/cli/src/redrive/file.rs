//! `kstream redrive --to-file`: the records appended to a JSON-lines file, skipping the ones it
//! already holds.

use std::collections::HashSet;
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};

use kstream_local::lambda::mapping::event::StreamRecord;
use kstream_redrive::records::{RecordKey, line, user_records};
use kstream_redrive::{BatchInfo, Handled, Sink};

/// A JSON-lines file the records are appended to, with the keys it already holds.
pub(crate) struct FileSink {
    path: PathBuf,
    file: std::fs::File,
    written: HashSet<RecordKey>,
}

impl FileSink {
    /// Opens `path` for appending (creating it), reading the keys of the lines it holds.
    ///
    /// # Errors
    /// When it cannot be read or written, or holds a line that is not one of ours.
    pub(crate) fn open(path: &Path) -> miette::Result<Self> {
        let mut written = HashSet::new();
        match std::fs::File::open(path) {
            Ok(existing) => {
                for (n, text) in std::io::BufReader::new(existing).lines().enumerate() {
                    let text =
                        text.map_err(|e| miette::miette!("cannot read {}: {e}", path.display()))?;
                    if text.trim().is_empty() {
                        continue;
                    }
                    let Some(key) = RecordKey::of_line(&text) else {
                        return Err(miette::miette!(
                            help =
                                "choose another --to-file: redrive appends to its own output only",
                            "{} line {}: not a line written by kstream redrive",
                            path.display(),
                            n + 1
                        ));
                    };
                    written.insert(key);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(miette::miette!("cannot read {}: {e}", path.display())),
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            file,
            written,
        })
    }

    fn write(
        &mut self,
        info: &BatchInfo,
        records: &[StreamRecord],
    ) -> kstream_redrive::Result<Handled> {
        let mut handled = Handled::default();
        let mut text = String::new();
        let mut keys = Vec::new();
        for (record, sub) in user_records(records) {
            let (key, line) = line(info, record, &sub);
            handled.records += 1;
            if self.written.contains(&key) {
                handled.already += 1;
                continue;
            }
            text.push_str(&line);
            text.push('\n');
            keys.push(key);
        }
        self.file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| {
                kstream_redrive::Error::Sink(format!("cannot write {}: {e}", self.path.display()))
            })?;
        self.written.extend(keys);
        Ok(handled)
    }
}

impl Sink for FileSink {
    async fn handle(
        &mut self,
        info: &BatchInfo,
        records: &[StreamRecord],
    ) -> kstream_redrive::Result<Handled> {
        self.write(info, records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn info() -> BatchInfo {
        BatchInfo {
            shard_id: "shardId-000000000000".into(),
            start_sequence_number: "1".into(),
            end_sequence_number: "2".into(),
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            batch_size: Some(2),
        }
    }

    fn record(seq: &str, data: &'static str) -> StreamRecord {
        StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: seq.into(),
            partition_key: "pk".into(),
            data: Bytes::from_static(data.as_bytes()),
            arrival: 1_700_000_000.5,
        }
    }

    #[test]
    fn a_file_is_appended_to_without_duplicates_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let records = [record("1", "x"), record("2", "y")];
        let mut sink = FileSink::open(&path).unwrap();
        let first = sink.write(&info(), &records).unwrap();
        assert_eq!((first.records, first.already), (2, 0));
        // A second run (new process) over the same range writes nothing new.
        let mut sink = FileSink::open(&path).unwrap();
        let second = sink.write(&info(), &records).unwrap();
        assert_eq!((second.records, second.already), (2, 2));
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
        std::fs::write(dir.path().join("other"), "hello\n").unwrap();
        let err = FileSink::open(&dir.path().join("other")).err().unwrap();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
