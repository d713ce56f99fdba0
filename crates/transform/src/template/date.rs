//! The `format_date` helper: a timestamp (RFC 3339, `YYYY-MM-DD[ HH:MM:SS]`, epoch
//! seconds or milliseconds, or any layout given as `input="<strftime format>"`) formatted
//! in UTC with a strftime format. Its formats are checked when a template is added.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use handlebars::template::{HelperTemplate, Parameter};
use handlebars::{
    Context, Handlebars, Helper, HelperDef, RenderContext, RenderError, RenderErrorReason,
    ScopedJson,
};
use serde_json::Value;

use crate::error::TemplateError;

/// The helper's name.
pub(super) const FORMAT_DATE: &str = "format_date";

/// Checks the literal formats of a `format_date` call (`"format"` and `input=`), so a
/// bad one fails when the template is added rather than on every record.
pub(super) fn check_formats(tname: &str, ht: &HelperTemplate) -> Result<(), TemplateError> {
    let formats = ht.params.get(1).into_iter().chain(ht.hash.get("input"));
    for format in formats {
        if let Parameter::Literal(Value::String(format)) = format
            && StrftimeItems::new(format).any(|i| matches!(i, Item::Error))
        {
            return Err(TemplateError::DateFormat {
                template: tname.to_owned(),
                format: format.clone(),
            });
        }
    }
    Ok(())
}

/// `format_date value "format" [input="format"]`.
pub(super) struct FormatDate;

impl HelperDef for FormatDate {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let value = h
            .param(0)
            .ok_or(RenderErrorReason::ParamNotFoundForIndex(FORMAT_DATE, 0))?;
        if value.is_value_missing() {
            return Err(RenderErrorReason::MissingVariable(value.relative_path().cloned()).into());
        }
        let format = h
            .param(1)
            .and_then(|p| p.value().as_str())
            .ok_or(RenderErrorReason::ParamNotFoundForIndex(FORMAT_DATE, 1))?;
        let input = h.hash_get("input").and_then(|p| p.value().as_str());
        let instant = parse_instant(value.value(), input).map_err(|why| {
            RenderErrorReason::Other(format!(
                "format_date: cannot read {} as a timestamp: {why}",
                value.value()
            ))
        })?;
        let mut text = String::new();
        write!(text, "{}", instant.format(format)).map_err(|_| {
            RenderErrorReason::Other(format!("format_date: invalid format {format:?}"))
        })?;
        Ok(ScopedJson::Derived(Value::String(text)))
    }
}

/// Seconds-or-milliseconds threshold: numbers at or above it are milliseconds.
const MILLIS_THRESHOLD: f64 = 100_000_000_000.0;

fn parse_instant(value: &Value, input: Option<&str>) -> Result<DateTime<Utc>, String> {
    match value {
        Value::Number(n) => {
            let n = n.as_f64().ok_or("not a finite number")?;
            let millis = if n.abs() >= MILLIS_THRESHOLD {
                n
            } else {
                n * 1000.0
            };
            Utc.timestamp_millis_opt(millis.round() as i64)
                .single()
                .ok_or_else(|| "out of range".to_owned())
        }
        Value::String(s) => {
            let s = s.trim();
            if let Some(format) = input {
                return NaiveDateTime::parse_from_str(s, format)
                    .or_else(|_| {
                        NaiveDate::parse_from_str(s, format).map(|d| d.and_time(Default::default()))
                    })
                    .map(|t| t.and_utc())
                    .map_err(|e| format!("{e} (input format {format:?})"));
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Ok(t.with_timezone(&Utc));
            }
            for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
                if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
                    return Ok(t.and_utc());
                }
            }
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                return Ok(d.and_time(Default::default()).and_utc());
            }
            if let Ok(n) = s.parse::<f64>() {
                return parse_instant(&serde_json::json!(n), None);
            }
            Err(
                "expected RFC 3339, YYYY-MM-DD[ HH:MM:SS] or epoch seconds/milliseconds; \
                 give input=\"<strftime format>\" for other layouts"
                    .to_owned(),
            )
        }
        other => Err(format!(
            "a {} is not a timestamp",
            kstream_pipeline::decode::json_type_name(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{OutputFormat, Templates};

    fn one(source: &str, format: OutputFormat) -> Templates {
        let mut t = Templates::new();
        t.add("T", source, format).unwrap();
        t
    }

    #[test]
    fn format_date_inputs() {
        let t = one(r#"{{format_date ts "%Y-%m-%d/%H"}}"#, OutputFormat::Text);
        for (ts, expected) in [
            (json!("2026-11-22T04:05:06Z"), "2026-11-22/04"),
            (json!("2026-11-22T04:05:06+02:00"), "2026-11-22/02"),
            (json!("2026-11-22 04:05:06"), "2026-11-22/04"),
            (json!("2026-11-22"), "2026-11-22/00"),
            (json!(1_795_320_306), "2026-11-22/04"),
            (json!(1_795_320_306_000_u64), "2026-11-22/04"),
            (json!("1795320306"), "2026-11-22/04"),
        ] {
            assert_eq!(
                t.render("T", &json!({ "ts": ts })).unwrap(),
                expected,
                "{ts}"
            );
        }
        let err = t.render("T", &json!({"ts": "yesterday"})).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
        let err = t.render("T", &json!({"ts": true})).unwrap_err();
        assert!(err.to_string().contains("boolean"), "{err}");

        let t = one(
            r#"{{format_date 'reading date' "%Y-%m" input="%m/%d/%y"}}"#,
            OutputFormat::Text,
        );
        // a quoted literal as an argument is a string, not a lookup
        assert!(t.render("T", &json!({"reading date": "1/4/22"})).is_err());
        let t = one(
            r#"{{format_date [reading date] "%Y-%m" input="%m/%d/%y"}}"#,
            OutputFormat::Text,
        );
        assert_eq!(
            t.render("T", &json!({"reading date": "1/4/22"})).unwrap(),
            "2022-01"
        );
    }
}
