//! The fast path: a template made only of text and field substitutions is rendered
//! piece by piece, from a `Value` or straight from a record's JSON text
//! ([`RawRecord`]), without the Handlebars interpreter. JSON templates of this kind are
//! proven valid once, when added, and their text is compacted then, so their output needs
//! no per-record pass.

use handlebars::template::{Parameter, TemplateElement};
use handlebars::{Path, PathSeg};
use serde_json::Value;

use super::encoding::{Encoding, JsonState, encode, encode_raw};
use super::{JSON_STRING, JSON_VALUE, RAW};
use crate::error::{TemplateError, TransformError};
use crate::raw::RawRecord;

/// A template made only of text and field substitutions, rendered without the
/// Handlebars interpreter (same output, same errors; checked by the tests).
#[derive(Debug)]
pub(super) struct Plan {
    pieces: Vec<Piece>,
    /// Output is always valid compact JSON (see [`Templates::is_prevalidated`](super::Templates::is_prevalidated)).
    pub(super) prevalidated: bool,
}

#[derive(Debug)]
enum Piece {
    Text(String),
    Field {
        path: Vec<String>,
        raw: String,
        encoding: Encoding,
    },
}

impl Plan {
    /// The plan of a rewritten template, if it has only text, comments and wrapped
    /// plain field paths (no blocks, helpers, `this`, `..`, `@` variables).
    pub(super) fn build(elements: &[TemplateElement]) -> Option<Self> {
        let mut pieces = Vec::with_capacity(elements.len());
        for element in elements {
            match element {
                TemplateElement::RawString(text) => pieces.push(Piece::Text(text.clone())),
                TemplateElement::Comment(_) => {}
                TemplateElement::HtmlExpression(ht) => {
                    let encoding = match ht.name.as_name()? {
                        JSON_VALUE => Encoding::JsonValue,
                        JSON_STRING => Encoding::JsonString,
                        RAW => Encoding::Raw,
                        _ => return None,
                    };
                    let [Parameter::Path(Path::Relative((segs, raw)))] = ht.params.as_slice()
                    else {
                        return None;
                    };
                    let mut path = Vec::with_capacity(segs.len());
                    for seg in segs {
                        match seg {
                            PathSeg::Named(n) if n != "this" && !n.starts_with('@') => {
                                path.push(n.clone());
                            }
                            _ => return None,
                        }
                    }
                    if path.is_empty() {
                        return None;
                    }
                    pieces.push(Piece::Field {
                        path,
                        raw: raw.clone(),
                        encoding,
                    });
                }
                _ => return None,
            }
        }
        Some(Self {
            pieces,
            prevalidated: false,
        })
    }

    /// For a JSON template without triple-stash: proves every output valid by checking
    /// the skeleton (each bare value replaced by `null`, each in-string value by nothing:
    /// JSON has no token that `null` could merge with, and escaped content cannot end a
    /// string), then compacts the text pieces so outputs need no per-record pass.
    ///
    /// # Errors
    /// [`TemplateError::InvalidJson`] when the template can never render valid JSON.
    pub(super) fn prepare_json(&mut self, tname: &str) -> Result<(), TemplateError> {
        let raw_slot = self.pieces.iter().any(|p| {
            matches!(
                p,
                Piece::Field {
                    encoding: Encoding::Raw,
                    ..
                }
            )
        });
        if raw_slot {
            return Ok(());
        }
        let mut skeleton = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => skeleton.extend_from_slice(t.as_bytes()),
                Piece::Field {
                    encoding: Encoding::JsonValue,
                    ..
                } => skeleton.extend_from_slice(b"null"),
                Piece::Field { .. } => {}
            }
        }
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&skeleton) {
            return Err(TemplateError::InvalidJson {
                template: tname.to_owned(),
                message: e.to_string(),
            });
        }
        let mut state = JsonState::Outside;
        for piece in &mut self.pieces {
            if let Piece::Text(text) = piece {
                let mut compact = String::with_capacity(text.len());
                for ch in text.chars() {
                    let next = state.advance_char(ch);
                    if state == JsonState::Outside
                        && next == JsonState::Outside
                        && matches!(ch, ' ' | '\n' | '\r' | '\t')
                    {
                        continue;
                    }
                    compact.push(ch);
                    state = next;
                }
                *text = compact;
            }
        }
        self.pieces
            .retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
        self.prevalidated = true;
        Ok(())
    }

    pub(super) fn render_raw(
        &self,
        tname: &str,
        record: &RawRecord<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), TransformError> {
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.extend_from_slice(text.as_bytes()),
                Piece::Field {
                    path,
                    raw,
                    encoding,
                } => {
                    let value = record.get(path).ok_or_else(|| TransformError::Render {
                        template: tname.to_owned(),
                        message: format!("the record has no field `{raw}` (strict mode)"),
                    })?;
                    encode_raw(*encoding, value, out).map_err(|e| match e {
                        TransformError::Render { message, .. } => TransformError::Render {
                            template: tname.to_owned(),
                            message,
                        },
                        other => other,
                    })?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn render(
        &self,
        tname: &str,
        data: &Value,
        out: &mut Vec<u8>,
    ) -> Result<(), TransformError> {
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.extend_from_slice(text.as_bytes()),
                Piece::Field {
                    path,
                    raw,
                    encoding,
                } => {
                    let value = lookup(data, path).ok_or_else(|| TransformError::Render {
                        template: tname.to_owned(),
                        message: format!("the record has no field `{raw}` (strict mode)"),
                    })?;
                    encode(*encoding, value, out);
                }
            }
        }
        Ok(())
    }
}

/// Handlebars' path lookup: object members by name, array elements by index.
fn lookup<'a>(mut value: &'a Value, path: &[String]) -> Option<&'a Value> {
    for seg in path {
        value = match value {
            Value::Object(map) => map.get(seg)?,
            Value::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}
