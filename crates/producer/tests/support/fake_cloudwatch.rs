//! A local CloudWatch endpoint speaking the protocol `aws-sdk-cloudwatch` uses today
//! (Smithy rpc-v2-cbor: `POST /service/GraniteServiceVersion20100801/operation/<Operation>`,
//! CBOR bodies), which moto 5.2.5 does not serve (it answers 404 on that path). It answers
//! every operation with an empty CBOR map and keeps each request body, decoded, so tests can
//! check the PutMetricData calls that arrive: namespace, metric names, values and dimensions.
//!
//! Shared by the producer's tests and the CLI's (`crates/cli/tests`, through `#[path]`).

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::Path;
use axum::routing::post;
use serde_json::{Map, Value};

/// One request, decoded.
#[derive(Debug, Clone)]
pub struct Request {
    /// The operation name from the path, e.g. `PutMetricData`.
    pub operation: String,
    /// The CBOR body as JSON (byte strings become arrays of numbers, tags are dropped).
    pub body: Value,
}

/// One datum of a PutMetricData request.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub namespace: String,
    pub name: String,
    pub value: f64,
    pub unit: Option<String>,
    pub dimensions: BTreeMap<String, String>,
}

/// The running endpoint; it stops with the runtime.
pub struct FakeCloudWatch {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeCloudWatch {
    /// Listens on an ephemeral port of 127.0.0.1.
    pub async fn start() -> Self {
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let seen = requests.clone();
        let app = axum::Router::new().route(
            "/service/GraniteServiceVersion20100801/operation/{op}",
            post(move |Path(op): Path<String>, body: Bytes| {
                let seen = seen.clone();
                async move {
                    let body =
                        decode(&body).unwrap_or_else(|e| panic!("{op}: the body is not CBOR: {e}"));
                    seen.lock().unwrap().push(Request {
                        operation: op,
                        body,
                    });
                    (
                        [
                            ("content-type", "application/cbor"),
                            ("smithy-protocol", "rpc-v2-cbor"),
                        ],
                        vec![0xa0u8], // an empty CBOR map
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, requests }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Every datum of every PutMetricData request so far, in order.
    pub fn data(&self) -> Vec<Datum> {
        let mut data = Vec::new();
        for request in self.requests() {
            assert_eq!(request.operation, "PutMetricData");
            let namespace = request.body["Namespace"].as_str().unwrap_or_default();
            for datum in request.body["MetricData"].as_array().into_iter().flatten() {
                let dimensions = datum["Dimensions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| {
                        (
                            d["Name"].as_str().unwrap_or_default().to_owned(),
                            d["Value"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect();
                data.push(Datum {
                    namespace: namespace.to_owned(),
                    name: datum["MetricName"].as_str().unwrap_or_default().to_owned(),
                    value: datum["Value"].as_f64().unwrap_or(f64::NAN),
                    unit: datum["Unit"].as_str().map(str::to_owned),
                    dimensions,
                });
            }
        }
        data
    }

    /// The sum of the values of metric `name` over every upload.
    pub fn sum(&self, name: &str) -> f64 {
        self.data()
            .iter()
            .filter(|d| d.name == name)
            .map(|d| d.value)
            .sum()
    }
}

/// Decodes one CBOR item (RFC 8949) into JSON: maps, arrays, text and byte strings (definite
/// or indefinite), integers, floats (half, single, double), booleans, null; tags are dropped.
pub fn decode(bytes: &[u8]) -> Result<Value, String> {
    let mut reader = Reader { bytes, pos: 0 };
    let value = reader.item()?.ok_or("a break where an item was expected")?;
    if reader.pos != bytes.len() {
        return Err(format!("{} bytes after the item", bytes.len() - reader.pos));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.pos + n;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| format!("truncated at byte {}", self.pos))?;
        self.pos = end;
        Ok(slice)
    }

    fn uint(&mut self, n: usize) -> Result<u64, String> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// The argument of an initial byte: `None` for an indefinite length.
    fn argument(&mut self, info: u8) -> Result<Option<u64>, String> {
        match info {
            0..=23 => Ok(Some(u64::from(info))),
            24 => self.uint(1).map(Some),
            25 => self.uint(2).map(Some),
            26 => self.uint(4).map(Some),
            27 => self.uint(8).map(Some),
            31 => Ok(None),
            _ => Err(format!("reserved additional info {info}")),
        }
    }

    /// One item, or `None` for a break (the end of an indefinite item).
    fn item(&mut self) -> Result<Option<Value>, String> {
        let initial = self.take(1)?[0];
        let (major, info) = (initial >> 5, initial & 0x1f);
        let value = match major {
            0 => Value::from(self.argument(info)?.ok_or("indefinite integer")?),
            1 => Value::from(
                -1 - i64::try_from(self.argument(info)?.ok_or("indefinite integer")?)
                    .map_err(|e| e.to_string())?,
            ),
            2 | 3 => {
                let mut data = Vec::new();
                match self.argument(info)? {
                    Some(len) => data.extend_from_slice(self.take(len as usize)?),
                    None => {
                        while let Some(chunk) = self.item()? {
                            match chunk {
                                Value::String(s) => data.extend_from_slice(s.as_bytes()),
                                Value::Array(b) => {
                                    data.extend(b.iter().filter_map(Value::as_u64).map(|b| b as u8))
                                }
                                other => return Err(format!("bad string chunk {other}")),
                            }
                        }
                    }
                }
                if major == 3 {
                    Value::String(String::from_utf8(data).map_err(|e| e.to_string())?)
                } else {
                    Value::from(data)
                }
            }
            4 => {
                let len = self.argument(info)?;
                let mut items = Vec::new();
                while len.is_none_or(|len| (items.len() as u64) < len) {
                    match self.item()? {
                        Some(item) => items.push(item),
                        None if len.is_none() => break,
                        None => return Err("a break inside a definite array".into()),
                    }
                }
                Value::Array(items)
            }
            5 => {
                let len = self.argument(info)?;
                let mut object = Map::new();
                while len.is_none_or(|len| (object.len() as u64) < len) {
                    let key = match self.item()? {
                        Some(Value::String(key)) => key,
                        Some(other) => other.to_string(),
                        None if len.is_none() => break,
                        None => return Err("a break inside a definite map".into()),
                    };
                    let value = self.item()?.ok_or("a break instead of a map value")?;
                    object.insert(key, value);
                }
                Value::Object(object)
            }
            6 => {
                self.argument(info)?;
                self.item()?.ok_or("a break after a tag")?
            }
            _ => match info {
                20 => Value::Bool(false),
                21 => Value::Bool(true),
                22 | 23 => Value::Null,
                25 => Value::from(f16(self.uint(2)? as u16)),
                26 => Value::from(f64::from(f32::from_bits(self.uint(4)? as u32))),
                27 => Value::from(f64::from_bits(self.uint(8)?)),
                31 => return Ok(None),
                _ => return Err(format!("unexpected simple value {info}")),
            },
        };
        Ok(Some(value))
    }
}

/// A half-precision float (RFC 8949 appendix D).
fn f16(half: u16) -> f64 {
    let exp = (half >> 10) & 0x1f;
    let mant = f64::from(half & 0x3ff);
    let value = match exp {
        0 => mant * 2f64.powi(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (mant + 1024.0) * 2f64.powi(i32::from(exp) - 25),
    };
    if half & 0x8000 != 0 { -value } else { value }
}

#[test]
fn cbor_decodes() {
    // {"a": [1, -2, 1.5], "b": "x", "c": true} with an indefinite array and a double.
    let bytes = [
        0xa3, 0x61, b'a', 0x9f, 0x01, 0x21, 0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xff, 0x61, b'b',
        0x61, b'x', 0x61, b'c', 0xf5,
    ];
    assert_eq!(
        decode(&bytes).unwrap(),
        serde_json::json!({"a": [1, -2, 1.5], "b": "x", "c": true})
    );
    assert_eq!(decode(&[0xf9, 0x3c, 0x00]).unwrap(), serde_json::json!(1.0));
    assert!(decode(&[0xa1, 0x61]).is_err(), "truncated");
}
