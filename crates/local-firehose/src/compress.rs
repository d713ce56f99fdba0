//! The object compressions of an S3 destination (`CompressionFormat`), written the way the
//! Firehose service writes them.
//!
//! | `CompressionFormat` | extension | `Content-Encoding` | body |
//! |---|---|---|---|
//! | `UNCOMPRESSED` | none | none | the records as buffered |
//! | `GZIP` | `.gz` | `gzip` | one gzip member |
//! | `ZIP` | `.zip` | `zip` | a ZIP archive holding one deflated entry named with a random UUID |
//! | `Snappy` | `.snappy` | `snappy-java` | the snappy-java stream format (not Google's framing format) |
//! | `HADOOP_SNAPPY` | `.snappy` | `hadoop-snappy` | Hadoop's block framing (`BlockCompressorStream`) |
//!
//! Sources: the API reference (`CompressionFormat`: `UNCOMPRESSED | GZIP | ZIP | Snappy |
//! HADOOP_SNAPPY`), the object name format
//! (<https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html>:
//! `<stream>-<version>-<time>-<uuid><file extension>`), and objects delivered by the service as
//! recorded in floci-io/floci issue #2328 and pull request #2410: `Snappy` objects start with
//! snappy-java's magic `0x82 "SNAPPY" 0x00` and are reproduced byte for byte by snappy-java's
//! `SnappyOutputStream`; `HADOOP_SNAPPY` objects are reproduced byte for byte by
//! `SnappyHadoopCompatibleOutputStream`; both get `.snappy` (the object name page tables
//! `.hsnappy` for Hadoop Snappy, but the service was seen delivering `.snappy` on two dates);
//! ZIP archives hold a single deflated entry named with a UUID unrelated to the object key.
//! The layouts, from snappy-java (`SnappyOutputStream`, `SnappyCodec`,
//! `SnappyHadoopCompatibleOutputStream`, default block 32 KiB):
//!
//! - `Snappy`: the 16-byte header `82 53 4E 41 50 50 59 00` + version 1 + minimum compatible
//!   version 1 (big-endian `i32`s), then per block of at most 32 KiB of input: the big-endian
//!   `i32` length of the compressed block and the raw Snappy block;
//! - `HADOOP_SNAPPY`: no header; per block of at most 32 KiB of input: the big-endian `i32`
//!   uncompressed length, the big-endian `i32` compressed length and the raw Snappy block.
//!
//! The raw Snappy blocks are the `snap` crate's (any valid Snappy encoding decodes the same;
//! the bytes can differ from the C++ library's), deflate is `flate2`'s.

use std::io::Write as _;

use aws_sdk_firehose::types::CompressionFormat;

/// Input bytes per Snappy block (snappy-java's `DEFAULT_BLOCK_SIZE`).
pub const SNAPPY_BLOCK: usize = 32 * 1024;

/// snappy-java's stream header: magic, version 1, minimum compatible version 1.
pub const SNAPPY_JAVA_HEADER: [u8; 16] = [
    0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
];

/// How delivered objects are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// `UNCOMPRESSED`: no extension.
    None,
    /// `GZIP`: `.gz`.
    Gzip,
    /// `ZIP`: `.zip`, one deflated entry.
    Zip,
    /// `Snappy`: `.snappy`, snappy-java stream format.
    Snappy,
    /// `HADOOP_SNAPPY`: `.snappy`, Hadoop block framing.
    HadoopSnappy,
}

impl std::fmt::Display for Compression {
    /// The `CompressionFormat` name, as Firehose spells it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "UNCOMPRESSED",
            Self::Gzip => "GZIP",
            Self::Zip => "ZIP",
            Self::Snappy => "Snappy",
            Self::HadoopSnappy => "HADOOP_SNAPPY",
        })
    }
}

impl Compression {
    /// The compression a `CompressionFormat` names.
    ///
    /// # Errors
    /// A message naming the value for a format this version does not know.
    pub fn from_format(format: &CompressionFormat) -> Result<Self, String> {
        match format {
            CompressionFormat::Uncompressed => Ok(Self::None),
            CompressionFormat::Gzip => Ok(Self::Gzip),
            CompressionFormat::Zip => Ok(Self::Zip),
            CompressionFormat::Snappy => Ok(Self::Snappy),
            CompressionFormat::HadoopSnappy => Ok(Self::HadoopSnappy),
            other => Err(format!(
                "compression {} is not supported by kstream local (UNCOMPRESSED, GZIP, ZIP, Snappy and HADOOP_SNAPPY are)",
                other.as_str()
            )),
        }
    }

    /// The object name extension Firehose adds.
    pub fn extension(self) -> &'static str {
        match self {
            Self::None => "",
            Self::Gzip => ".gz",
            Self::Zip => ".zip",
            Self::Snappy | Self::HadoopSnappy => ".snappy",
        }
    }

    /// The `Content-Encoding` Firehose sets on the object.
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Gzip => Some("gzip"),
            Self::Zip => Some("zip"),
            Self::Snappy => Some("snappy-java"),
            Self::HadoopSnappy => Some("hadoop-snappy"),
        }
    }

    /// Compresses one object's body.
    ///
    /// # Errors
    /// A message when an encoder fails (it does not on in-memory buffers short of running out
    /// of memory, or for a Snappy block the encoder refuses).
    pub fn compress(self, body: Vec<u8>) -> Result<Vec<u8>, String> {
        match self {
            Self::None => Ok(body),
            Self::Gzip => gzip(&body),
            Self::Zip => zip(&body, &uuid::Uuid::new_v4().to_string()),
            Self::Snappy => snappy_java(&body),
            Self::HadoopSnappy => hadoop_snappy(&body),
        }
    }
}

/// One gzip member.
pub fn gzip(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body)
        .and_then(|()| gz.finish())
        .map_err(|e| format!("gzip failed: {e}"))
}

/// A ZIP archive of one deflated entry named `entry`.
pub fn zip(body: &[u8], entry: &str) -> Result<Vec<u8>, String> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(body.len() >= u32::MAX as usize);
    w.start_file(entry, options)
        .and_then(|()| w.write_all(body).map_err(Into::into))
        .and_then(|()| w.finish())
        .map(std::io::Cursor::into_inner)
        .map_err(|e| format!("zip failed: {e}"))
}

fn snappy_blocks(body: &[u8], mut out: Vec<u8>, hadoop: bool) -> Result<Vec<u8>, String> {
    let mut encoder = snap::raw::Encoder::new();
    let mut block = vec![0; snap::raw::max_compress_len(SNAPPY_BLOCK)];
    for chunk in body.chunks(SNAPPY_BLOCK) {
        let n = encoder
            .compress(chunk, &mut block)
            .map_err(|e| format!("snappy failed: {e}"))?;
        if hadoop {
            // Each chunk is at most 32 KiB: the lengths fit an i32.
            out.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
        }
        out.extend_from_slice(&(n as u32).to_be_bytes());
        out.extend_from_slice(&block[..n]);
    }
    Ok(out)
}

/// snappy-java's stream format (`SnappyOutputStream`): header, then length-prefixed blocks.
pub fn snappy_java(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(body.len() / 2 + 32);
    out.extend_from_slice(&SNAPPY_JAVA_HEADER);
    snappy_blocks(body, out, false)
}

/// Hadoop's block framing (`SnappyCodec` with `BlockCompressorStream`).
pub fn hadoop_snappy(body: &[u8]) -> Result<Vec<u8>, String> {
    snappy_blocks(body, Vec::with_capacity(body.len() / 2 + 16), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn be32(b: &[u8]) -> usize {
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
    }

    /// Compressible and incompressible data over several 32 KiB blocks, and a short text.
    fn samples() -> Vec<Vec<u8>> {
        let text: Vec<u8> = (0..5000)
            .flat_map(|i| format!("{{\"ticker\":\"AMZN\",\"price\":{i}.5}}\n").into_bytes())
            .collect();
        let mut noise = Vec::with_capacity(100_000);
        let mut x: u32 = 2_463_534_242;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            noise.push(x as u8);
        }
        vec![b"{\"a\":1}".to_vec(), text, noise, vec![7; SNAPPY_BLOCK]]
    }

    #[test]
    fn extensions_and_encodings_follow_the_service() {
        use Compression as C;
        let all = [C::None, C::Gzip, C::Zip, C::Snappy, C::HadoopSnappy];
        let ext: Vec<_> = all.iter().map(|c| c.extension()).collect();
        assert_eq!(ext, ["", ".gz", ".zip", ".snappy", ".snappy"]);
        let enc: Vec<_> = all.iter().map(|c| c.content_encoding()).collect();
        assert_eq!(
            enc,
            [
                None,
                Some("gzip"),
                Some("zip"),
                Some("snappy-java"),
                Some("hadoop-snappy")
            ]
        );
        for (format, c) in [
            (CompressionFormat::Uncompressed, C::None),
            (CompressionFormat::Gzip, C::Gzip),
            (CompressionFormat::Zip, C::Zip),
            (CompressionFormat::Snappy, C::Snappy),
            (CompressionFormat::HadoopSnappy, C::HadoopSnappy),
        ] {
            assert_eq!(Compression::from_format(&format), Ok(c));
            // Displayed as the service spells the format.
            assert_eq!(c.to_string(), format.as_str());
        }
        let err = Compression::from_format(&CompressionFormat::from("LZ4")).unwrap_err();
        assert!(err.contains("LZ4"), "{err}");
    }

    #[test]
    fn gzip_round_trips() {
        for body in samples() {
            let gz = Compression::Gzip.compress(body.clone()).unwrap();
            assert_eq!(&gz[..2], [0x1f, 0x8b]);
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, body);
        }
    }

    #[test]
    fn zip_holds_one_deflated_entry_named_by_a_uuid() {
        for body in samples() {
            let z = Compression::Zip.compress(body.clone()).unwrap();
            assert_eq!(&z[..4], b"PK\x03\x04", "a local file header first");
            let mut archive = zip::ZipArchive::new(std::io::Cursor::new(z)).unwrap();
            assert_eq!(archive.len(), 1);
            let mut entry = archive.by_index(0).unwrap();
            assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
            let name = entry.name().unwrap().into_owned();
            assert!(
                uuid::Uuid::parse_str(&name).is_ok(),
                "entry named by a UUID: {name}"
            );
            let mut back = Vec::new();
            entry.read_to_end(&mut back).unwrap();
            assert_eq!(back, body);
        }
        // Two archives of the same body get different entry names.
        let a = zip::ZipArchive::new(std::io::Cursor::new(
            Compression::Zip.compress(b"x".to_vec()).unwrap(),
        ))
        .unwrap()
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect::<Vec<_>>();
        let b = zip::ZipArchive::new(std::io::Cursor::new(
            Compression::Zip.compress(b"x".to_vec()).unwrap(),
        ))
        .unwrap()
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect::<Vec<_>>();
        assert_ne!(a, b);
    }

    /// Reads the snappy-java stream layout field by field.
    fn read_snappy_java(z: &[u8]) -> Vec<u8> {
        assert_eq!(
            z[..16],
            SNAPPY_JAVA_HEADER,
            "magic, version 1, compatible 1"
        );
        let mut pos = 16;
        let mut out = Vec::new();
        while pos < z.len() {
            let n = be32(&z[pos..]);
            pos += 4;
            let block = snap::raw::Decoder::new()
                .decompress_vec(&z[pos..pos + n])
                .unwrap();
            assert!(block.len() <= SNAPPY_BLOCK, "blocks of at most 32 KiB");
            out.extend_from_slice(&block);
            pos += n;
        }
        assert_eq!(pos, z.len(), "no trailing bytes");
        out
    }

    /// Reads Hadoop's block layout field by field.
    fn read_hadoop_snappy(z: &[u8]) -> Vec<u8> {
        let mut pos = 0;
        let mut out = Vec::new();
        while pos < z.len() {
            let raw_len = be32(&z[pos..]);
            let n = be32(&z[pos + 4..]);
            pos += 8;
            let block = snap::raw::Decoder::new()
                .decompress_vec(&z[pos..pos + n])
                .unwrap();
            assert_eq!(block.len(), raw_len, "the block's uncompressed length");
            assert!(raw_len <= SNAPPY_BLOCK);
            out.extend_from_slice(&block);
            pos += n;
        }
        assert_eq!(pos, z.len(), "no trailing bytes");
        out
    }

    #[test]
    fn snappy_is_the_snappy_java_stream_format() {
        for body in samples() {
            let z = Compression::Snappy.compress(body.clone()).unwrap();
            assert_eq!(read_snappy_java(&z), body);
        }
        // The layout byte for byte, for a body the encoder stores as one literal.
        let z = snappy_java(b"abc").unwrap();
        let mut expected = SNAPPY_JAVA_HEADER.to_vec();
        expected.extend_from_slice(&[0, 0, 0, 5, 3, 0x08, b'a', b'b', b'c']);
        assert_eq!(z, expected);
        // 70 000 bytes: blocks of 32 768, 32 768 and 4 464 input bytes.
        let z = snappy_java(&vec![b'x'; 70_000]).unwrap();
        let mut pos = 16;
        let mut sizes = Vec::new();
        while pos < z.len() {
            let n = be32(&z[pos..]);
            let block = snap::raw::Decoder::new()
                .decompress_vec(&z[pos + 4..pos + 4 + n])
                .unwrap();
            sizes.push(block.len());
            pos += 4 + n;
        }
        assert_eq!(sizes, [32_768, 32_768, 4_464]);
        // Not Google's framing format (stream identifier chunk 0xff 06 00 00 "sNaPpY").
        assert_ne!(z[0], 0xff);
    }

    #[test]
    fn hadoop_snappy_is_the_hadoop_block_format() {
        for body in samples() {
            let z = Compression::HadoopSnappy.compress(body.clone()).unwrap();
            assert_eq!(read_hadoop_snappy(&z), body);
        }
        let z = hadoop_snappy(b"abc").unwrap();
        assert_eq!(z, [0, 0, 0, 3, 0, 0, 0, 5, 3, 0x08, b'a', b'b', b'c']);
        let z = hadoop_snappy(&vec![b'x'; 70_000]).unwrap();
        let mut pos = 0;
        let mut sizes = Vec::new();
        while pos < z.len() {
            sizes.push(be32(&z[pos..]));
            pos += 8 + be32(&z[pos + 4..]);
        }
        assert_eq!(sizes, [32_768, 32_768, 4_464]);
        assert!(hadoop_snappy(b"").unwrap().is_empty());
        assert_eq!(snappy_java(b"").unwrap(), SNAPPY_JAVA_HEADER);
    }
}
