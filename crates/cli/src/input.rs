//! Line input for `put` and `replay`: a file or stdin, plain, gzip or LZ4 (frame format),
//! detected by magic bytes (the extension is only a fallback for empty input), read on a
//! blocking thread and handed over through a bounded channel (so reading waits for sending).
//! `replay` also reads the objects under an S3 prefix ([`crate::s3_input`]) the same way.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{IntoDiagnostic, WrapErr};
use tokio::sync::mpsc;

/// gzip magic.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// LZ4 frame magic (little-endian 0x184D2204).
const LZ4_MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];

/// The compression of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    /// Plain text.
    None,
    /// gzip (RFC 1952), possibly multi-member.
    Gzip,
    /// LZ4 frame format.
    Lz4,
}

/// Detects the compression from the first bytes, else from the file name.
pub(crate) fn detect(head: &[u8], path: Option<&Path>) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&LZ4_MAGIC) {
        Compression::Lz4
    } else if head.is_empty() {
        match path.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
            Some("gz") => Compression::Gzip,
            Some("lz4") => Compression::Lz4,
            _ => Compression::None,
        }
    } else {
        Compression::None
    }
}

/// One input line: its 1-based number (in its object, for S3 input), its bytes without the line
/// ending, and for S3 input the object it comes from (`s3://bucket/key`).
#[derive(Debug)]
pub(crate) struct Line {
    pub(crate) number: u64,
    pub(crate) bytes: Vec<u8>,
    pub(crate) origin: Option<Arc<str>>,
}

impl Line {
    /// How reports name the line: `line 12`, or `s3://bucket/key line 12`.
    pub(crate) fn label(&self) -> String {
        match &self.origin {
            Some(origin) => format!("{origin} line {}", self.number),
            None => format!("line {}", self.number),
        }
    }
}

/// The sending half of a line channel.
pub(crate) type LineSender = mpsc::Sender<Result<Line, miette::Report>>;

/// The receiving half of a line channel.
pub(crate) type LineReceiver = mpsc::Receiver<Result<Line, miette::Report>>;

/// Wraps `buffered` in the decoder its first bytes call for (`path` names it when it is empty).
pub(crate) fn decoder<R: BufRead + Send + 'static>(
    mut buffered: R,
    name: &str,
    path: Option<&Path>,
) -> miette::Result<Box<dyn BufRead + Send>> {
    let head = buffered
        .fill_buf()
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read {name}"))?
        .to_vec();
    let compression = detect(&head, path);
    tracing::debug!(input = %name, ?compression, "reading");
    Ok(match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(buffered),
        )),
        Compression::Lz4 => Box::new(BufReader::with_capacity(
            256 * 1024,
            lz4_flex::frame::FrameDecoder::new(buffered),
        )),
    })
}

/// Opens the input and reads it line by line on a blocking thread. Read errors arrive in the
/// channel with the line number reached.
pub(crate) fn lines(path: Option<PathBuf>) -> miette::Result<LineReceiver> {
    let name = path
        .as_ref()
        .map_or_else(|| "stdin".to_owned(), |p| p.display().to_string());
    let raw: Box<dyn Read + Send> = match &path {
        Some(p) if p.as_os_str() != "-" => Box::new(
            File::open(p)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot open {name}"))?,
        ),
        _ => Box::new(std::io::stdin()),
    };
    let buffered = BufReader::with_capacity(256 * 1024, raw);
    let reader = decoder(buffered, &name, path.as_deref())?;
    let (tx, rx) = mpsc::channel(4096);
    std::thread::spawn(move || read_lines(reader, &name, None, &tx));
    Ok(rx)
}

/// Sends the lines of `reader` (line endings stripped) until its end; `false` when the receiver
/// is gone or a read error was sent (then nothing more should be read).
pub(crate) fn read_lines(
    mut reader: Box<dyn BufRead + Send>,
    name: &str,
    origin: Option<Arc<str>>,
    tx: &LineSender,
) -> bool {
    let mut number = 0;
    loop {
        let mut bytes = Vec::new();
        match reader.read_until(b'\n', &mut bytes) {
            Ok(0) => return true,
            Ok(_) => {
                number += 1;
                while matches!(bytes.last(), Some(b'\n' | b'\r')) {
                    bytes.pop();
                }
                let line = Line {
                    number,
                    bytes,
                    origin: origin.clone(),
                };
                if tx.blocking_send(Ok(line)).is_err() {
                    return false;
                }
            }
            Err(e) => {
                let report = miette::miette!("cannot read {name} after line {number}: {e}");
                let _ = tx.blocking_send(Err(report));
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    async fn read_all(path: PathBuf) -> Vec<String> {
        let mut rx = lines(Some(path)).unwrap();
        let mut out = Vec::new();
        while let Some(line) = rx.recv().await {
            let line = line.unwrap();
            out.push(format!(
                "{}:{}",
                line.number,
                String::from_utf8(line.bytes).unwrap()
            ));
        }
        out
    }

    const TEXT: &str = "{\"a\":1}\r\n{\"b\":2}\n\n{\"c\":3}";

    #[tokio::test]
    async fn plain_gzip_and_lz4_read_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("in.json");
        std::fs::write(&plain, TEXT).unwrap();
        let gz = dir.path().join("in.json.gz");
        let mut enc = flate2::write::GzEncoder::new(
            File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        enc.write_all(TEXT.as_bytes()).unwrap();
        enc.finish().unwrap();
        // No extension: detected by magic.
        let lz4 = dir.path().join("in-lz4");
        let mut enc = lz4_flex::frame::FrameEncoder::new(File::create(&lz4).unwrap());
        enc.write_all(TEXT.as_bytes()).unwrap();
        enc.finish().unwrap();
        let expected = vec!["1:{\"a\":1}", "2:{\"b\":2}", "3:", "4:{\"c\":3}"];
        assert_eq!(read_all(plain).await, expected);
        assert_eq!(read_all(gz).await, expected);
        assert_eq!(read_all(lz4).await, expected);
    }

    #[test]
    fn detection_prefers_magic() {
        assert_eq!(detect(&[0x1f, 0x8b, 8], None), Compression::Gzip);
        assert_eq!(
            detect(&LZ4_MAGIC, Some(Path::new("x.json"))),
            Compression::Lz4
        );
        assert_eq!(detect(b"{}", Some(Path::new("x.gz"))), Compression::None);
        assert_eq!(detect(b"", Some(Path::new("x.lz4"))), Compression::Lz4);
    }

    #[test]
    fn lines_are_named_with_their_object() {
        let line = |origin: Option<&str>| Line {
            number: 12,
            bytes: Vec::new(),
            origin: origin.map(Arc::from),
        };
        assert_eq!(line(None).label(), "line 12");
        assert_eq!(
            line(Some("s3://trips/2018/part-0.json.lz4")).label(),
            "s3://trips/2018/part-0.json.lz4 line 12"
        );
    }

    #[test]
    fn a_missing_file_is_a_clear_error() {
        let err = lines(Some(PathBuf::from("/no/such/file.json"))).unwrap_err();
        assert!(format!("{err:?}").contains("/no/such/file.json"));
    }
}
