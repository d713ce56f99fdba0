//! The SerDe step: JSON records → rows, with the OpenX or Hive JSON SerDe rules.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use kstream_pipeline::decode::json_type_name;
use serde_json::{Map, Value};

use super::schema::type_name;
use super::{Cell, ColumnType, Converter, Deserializer, Row};
use crate::error::{ConvertError, DecimalError, ValueError};

impl Converter {
    /// The rows of one record (one per JSON object in it).
    ///
    /// # Errors
    /// Why the record cannot be converted: not JSON, not an object, or a value that does not
    /// fit its column.
    pub fn rows(&self, record: &[u8]) -> Result<Vec<Row>, ConvertError> {
        let mut rows = Vec::new();
        for doc in serde_json::Deserializer::from_slice(record).into_iter::<Value>() {
            let doc = doc
                .map_err(|e| ConvertError::Record(format!("the record is not valid JSON: {e}")))?;
            let Value::Object(object) = doc else {
                return Err(ConvertError::Record(format!(
                    "expected a JSON object, found {} (an array of objects is not accepted)",
                    json_type_name(&doc)
                )));
            };
            rows.push(self.row(object)?);
        }
        if rows.is_empty() {
            return Err(ConvertError::Record(
                "the record holds no JSON object".to_owned(),
            ));
        }
        Ok(rows)
    }

    fn row(&self, object: Map<String, Value>) -> Result<Row, ConvertError> {
        let (case_insensitive, dots, mappings) = match &self.deserializer {
            Deserializer::OpenX {
                case_insensitive,
                dots_to_underscores,
                key_mappings,
            } => (*case_insensitive, *dots_to_underscores, Some(key_mappings)),
            Deserializer::Hive { .. } => (true, false, None),
        };
        let norm = |k: &str| {
            let k = if dots {
                k.replace('.', "_")
            } else {
                k.to_owned()
            };
            if case_insensitive {
                k.to_lowercase()
            } else {
                k
            }
        };
        let mut by_key: BTreeMap<String, Value> = BTreeMap::new();
        for (k, v) in object {
            by_key.insert(norm(&k), v);
        }
        let mut cells = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let key = mappings
                .and_then(|m| m.get(&c.name))
                .map_or_else(|| norm(&c.name), |k| norm(k));
            let cell = match by_key.get(&key) {
                None | Some(Value::Null) => None,
                Some(v) => Some(self.cell(c.kind, v).map_err(|source| ConvertError::Value {
                    column: c.name.clone(),
                    column_type: type_name(c.kind),
                    source,
                })?),
            };
            cells.push(cell);
        }
        Ok(Row(cells))
    }

    fn cell(&self, kind: ColumnType, v: &Value) -> Result<Cell, ValueError> {
        let text = || match v {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let bad = || ValueError::Mismatch {
            json_type: json_type_name(v),
            value: v.to_string(),
        };
        let int = |min: i64, max: i64| -> Result<i64, ValueError> {
            let n = match v {
                Value::Number(n) => n.as_i64().ok_or_else(bad)?,
                Value::String(s) => s.trim().parse::<i64>().map_err(|_| bad())?,
                _ => return Err(bad()),
            };
            if (min..=max).contains(&n) {
                Ok(n)
            } else {
                Err(ValueError::OutOfRange { value: n, min, max })
            }
        };
        Ok(match kind {
            ColumnType::String => Cell::Bytes(match v {
                Value::String(s) => s.clone().into_bytes(),
                other => other.to_string().into_bytes(),
            }),
            ColumnType::TinyInt => Cell::I32(int(i8::MIN.into(), i8::MAX.into())? as i32),
            ColumnType::SmallInt => Cell::I32(int(i16::MIN.into(), i16::MAX.into())? as i32),
            ColumnType::Int => Cell::I32(int(i32::MIN.into(), i32::MAX.into())? as i32),
            ColumnType::BigInt => Cell::I64(int(i64::MIN, i64::MAX)?),
            ColumnType::Float | ColumnType::Double => {
                let f = match v {
                    Value::Number(n) => n.as_f64().ok_or_else(bad)?,
                    Value::String(s) => s.trim().parse::<f64>().map_err(|_| bad())?,
                    _ => return Err(bad()),
                };
                if kind == ColumnType::Float {
                    Cell::F32(f as f32)
                } else {
                    Cell::F64(f)
                }
            }
            ColumnType::Boolean => Cell::Bool(match v {
                Value::Bool(b) => *b,
                Value::String(s) if s.trim().eq_ignore_ascii_case("true") => true,
                Value::String(s) if s.trim().eq_ignore_ascii_case("false") => false,
                _ => return Err(bad()),
            }),
            ColumnType::Timestamp => {
                let t = self.timestamp(v).ok_or_else(bad)?;
                Cell::Timestamp(
                    t.timestamp_nanos_opt()
                        .ok_or_else(|| ValueError::TimestampRange(v.to_string()))?,
                )
            }
            ColumnType::Date => {
                let s = text().ok_or_else(bad)?;
                let d = NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .ok()
                    .or_else(|| self.timestamp(v).map(|t| t.date_naive()))
                    .ok_or_else(bad)?;
                Cell::I32((d - NaiveDate::default()).num_days() as i32)
            }
            ColumnType::Decimal { precision, scale } => {
                let s = text().ok_or_else(bad)?;
                let unscaled = decimal(&s, precision, scale)?;
                let width = ColumnType::decimal_width(precision);
                Cell::Bytes(unscaled.to_be_bytes()[16 - width..].to_vec())
            }
        })
    }

    /// A timestamp by the deserializer's rules.
    fn timestamp(&self, v: &Value) -> Option<DateTime<Utc>> {
        match &self.deserializer {
            Deserializer::OpenX { .. } => match v {
                Value::Number(n) => epoch(n),
                Value::String(s) => {
                    let s = s.trim();
                    if let Ok(n) = s.parse::<serde_json::Number>() {
                        return epoch(&n);
                    }
                    DateTime::parse_from_rfc3339(s)
                        .ok()
                        .map(|t| t.with_timezone(&Utc))
                        .or_else(|| sql_timestamp(s))
                }
                _ => None,
            },
            Deserializer::Hive { timestamp_formats } => {
                let s = match v {
                    Value::String(s) => s.trim().to_owned(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                if timestamp_formats.is_empty() {
                    return sql_timestamp(&s);
                }
                timestamp_formats.iter().find_map(|f| {
                    if f == "millis" {
                        s.parse::<i64>()
                            .ok()
                            .and_then(DateTime::<Utc>::from_timestamp_millis)
                    } else {
                        let pattern = joda_to_chrono(f)?;
                        NaiveDateTime::parse_from_str(&s, &pattern)
                            .ok()
                            .map(|t| t.and_utc())
                            .or_else(|| {
                                NaiveDate::parse_from_str(&s, &pattern)
                                    .ok()
                                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                                    .map(|t| t.and_utc())
                            })
                    }
                })
            }
        }
    }
}

/// Epoch seconds, epoch milliseconds (13 digits and more) or fractional epoch seconds.
pub(super) fn epoch(n: &serde_json::Number) -> Option<DateTime<Utc>> {
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() >= 100_000_000_000 {
            DateTime::from_timestamp_millis(i)
        } else {
            DateTime::from_timestamp(i, 0)
        }
    } else {
        let f = n.as_f64()?;
        let secs = f.floor();
        DateTime::from_timestamp(secs as i64, ((f - secs) * 1e9).round() as u32)
    }
}

/// `java.sql.Timestamp::valueOf`: `yyyy-[m]m-[d]d hh:mm:ss[.f...]` (also with `T`).
pub(super) fn sql_timestamp(s: &str) -> Option<DateTime<Utc>> {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc())
}

/// The simple Joda patterns (`yyyy MM dd HH mm ss SSS`, quoted literals) as chrono formats.
pub(super) fn joda_to_chrono(joda: &str) -> Option<String> {
    let mut out = String::new();
    let chars: Vec<char> = joda.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        match c {
            '\'' => {
                let end = chars[i + 1..].iter().position(|&x| x == '\'')? + i + 1;
                out.extend(chars[i + 1..end].iter().map(|&x| {
                    if x == '%' {
                        "%%".to_owned()
                    } else {
                        x.to_string()
                    }
                }));
                i = end + 1;
                continue;
            }
            'y' => out.push_str(if run == 2 { "%y" } else { "%Y" }),
            'M' if run <= 2 => out.push_str("%m"),
            'd' if run <= 2 => out.push_str("%d"),
            'H' if run <= 2 => out.push_str("%H"),
            'm' if run <= 2 => out.push_str("%M"),
            's' if run <= 2 => out.push_str("%S"),
            'S' => out.push_str("%.f"),
            'Z' => out.push_str("%z"),
            c if c.is_ascii_alphabetic() => return None,
            '%' => out.push_str("%%"),
            c => out.extend(std::iter::repeat_n(c, run)),
        }
        i += run;
    }
    // "ss.SSS": chrono's %.f includes the point.
    Some(out.replace("%S.%.f", "%S%.f"))
}

/// The unscaled value of a decimal text at `scale` (half-up rounding of extra digits).
pub(super) fn decimal(text: &str, precision: u8, scale: u8) -> Result<i128, DecimalError> {
    let bad = || DecimalError::NotANumber(text.to_owned());
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (text, 0),
    };
    let (negative, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    // value = digits × 10^(point - len); unscaled = value × 10^scale = digits × 10^k.
    let all = format!("{int_part}{frac_part}");
    let k = int_part.len() as i64 + i64::from(exp) + i64::from(scale) - all.len() as i64;
    let (kept, round_up) = if k >= 0 {
        (all.as_str(), false)
    } else {
        let cut = all.len() as i64 + k;
        if cut < 0 {
            ("", false)
        } else {
            let cut = cut as usize;
            (&all[..cut], all.as_bytes()[cut] >= b'5')
        }
    };
    let mut unscaled: i128 = 0;
    for b in kept.trim_start_matches('0').bytes() {
        unscaled = unscaled
            .checked_mul(10)
            .and_then(|u| u.checked_add(i128::from(b - b'0')))
            .ok_or_else(bad)?;
    }
    if k > 0 {
        unscaled = u32::try_from(k)
            .ok()
            .and_then(|k| 10i128.checked_pow(k))
            .and_then(|m| unscaled.checked_mul(m))
            .ok_or_else(bad)?;
    }
    if round_up {
        unscaled += 1;
    }
    if unscaled >= 10i128.pow(u32::from(precision)) {
        return Err(DecimalError::TooLarge {
            text: text.to_owned(),
            precision,
            scale,
        });
    }
    Ok(if negative { -unscaled } else { unscaled })
}
