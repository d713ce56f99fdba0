//! The socket floor of the kds-consumer benchmark (bench/kds-consumer, side `socket-floor`):
//! the least a process can spend per invocation on the Runtime API, in any language or runtime.
//! One blocking keep-alive TCP connection from the standard library, no async runtime, no HTTP
//! library, no allocator of its own, no logs: it asks for the next event, reads its bytes and
//! answers `{"batchItemFailures":[]}` without reading them, then reads the answer's `202`.
//!
//! What it costs per batch is the kernel's part (the loopback TCP, copying the event, sleeping
//! until the Runtime API answers) and little else. Python's CPU per batch over it bounds the
//! ratio to Python that any consumer could reach on that workload, whatever its runtime; the
//! side `floor` (`runtime_floor.rs`) gives the same bound for `lambda_runtime`.
//!
//! A measuring tool, not a runtime: it speaks only the HTTP/1.1 the Runtime API answers with
//! (`Content-Length` bodies), reports no errors to `/error` and stops at the first I/O error.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// The answer to every event.
const ANSWER: &[u8] = br#"{"batchItemFailures":[]}"#;

fn main() -> io::Result<()> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API")
        .map_err(|_| io::Error::other("AWS_LAMBDA_RUNTIME_API is not set"))?;
    let stream = TcpStream::connect(&api)?;
    stream.set_nodelay(true)?;
    // Lambda's largest event (6 MB) fits the buffer: one read where the kernel has it all.
    let mut reader = BufReader::with_capacity(8 << 20, stream.try_clone()?);
    let mut writer = stream;
    let next = format!("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\n\r\n");
    let mut event = Vec::new();
    let mut request = Vec::new();
    loop {
        writer.write_all(next.as_bytes())?;
        let Some(head) = read_head(&mut reader)? else {
            return Ok(()); // the Runtime API closed the connection: the run is over
        };
        let id = head
            .request_id
            .ok_or_else(|| io::Error::other("an event without Lambda-Runtime-Aws-Request-Id"))?;
        event.resize(head.content_length, 0);
        reader.read_exact(&mut event)?;
        request.clear();
        write!(
            request,
            "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: {api}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            ANSWER.len()
        )?;
        request.extend_from_slice(ANSWER);
        writer.write_all(&request)?;
        let Some(accepted) = read_head(&mut reader)? else {
            return Ok(());
        };
        io::copy(
            &mut (&mut reader).take(accepted.content_length as u64),
            &mut io::sink(),
        )?;
    }
}

/// What the floor reads of an answer's head.
struct Head {
    content_length: usize,
    request_id: Option<String>,
}

/// An answer's status line and headers; `None` when the connection closed before one.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    if !line.starts_with("HTTP/1.1 2") {
        let status = line.trim_end();
        return Err(io::Error::other(format!(
            "the Runtime API answered {status:?}"
        )));
    }
    let mut head = Head {
        content_length: 0,
        request_id: None,
    };
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "a head cut short",
            ));
        }
        let text = line.trim_end();
        if text.is_empty() {
            return Ok(Some(head));
        }
        let Some((name, value)) = text.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            head.content_length = value.parse().map_err(io::Error::other)?;
        } else if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
            head.request_id = Some(value.to_owned());
        }
    }
}
