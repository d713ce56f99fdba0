//! Firehose S3 prefix expressions and object names.
//!
//! A prefix is text with `!{namespace:value}` expressions, evaluated per object:
//! - `!{timestamp:<pattern>}`: the arrival time of the oldest record in the object, in the
//!   destination's time zone (`CustomTimeZone`, UTC by default; see [`Prefix::in_time_zone`]),
//!   formatted with a subset of Java's `DateTimeFormatter` patterns (see [`format_timestamp`]);
//! - `!{firehose:random-string}`: 11 random alphanumeric characters;
//! - `!{firehose:error-output-type}`: the kind of failure (`processing-failed`, ...), error
//!   prefixes only;
//! - `!{partitionKeyFromLambda:<key>}` and `!{partitionKeyFromQuery:<key>}`: dynamic partition
//!   keys from the transform's `metadata.partitionKeys` or the JQ `MetadataExtraction` query.
//!
//! A (non-partitioned) data prefix with no timestamp expression gets `yyyy/MM/dd/HH/` appended,
//! as Firehose does; an empty error prefix is `<data prefix><error-output-type>/yyyy/MM/dd/HH/`
//! when the data prefix has no expressions ([`Prefix::default_error_under`]).
//! Objects are named `<prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>`
//! ([`object_key`]), the time in the same zone as the prefix: the Firehose guide says "the time
//! zone used for time prefix and suffix is in UTC, but you can change it"
//! (<https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html>), and the custom
//! prefixes page says the same of `!{timestamp:…}`
//! (<https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html>).
//!
//! Time zones come from `chrono-tz`, which compiles the IANA tz database (2025b in 0.10.4) into
//! the binary: it plugs into the `chrono` types used here (a `DateTime<Tz>` formats like a
//! `DateTime<Utc>`), adds about 4 s to a clean build (no build script, only `phf` besides), and
//! gives the same answer on every machine, including those without `/usr/share/zoneinfo`
//! (`jiff` reads the system database, which slim containers leave out, and would be a second
//! date-time library next to `chrono`).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use rand::Rng as _;

use crate::error::{Error, Result};

/// One piece of a parsed prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Timestamp(Vec<Token>),
    RandomString,
    ErrorOutputType,
    LambdaKey(String),
    QueryKey(String),
}

/// A parsed prefix, ready to evaluate, with the time zone of its timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    parts: Vec<Part>,
    zone: Tz,
}

/// The values an evaluation needs besides the time.
#[derive(Debug, Clone, Default)]
pub struct PrefixValues<'a> {
    /// `!{firehose:error-output-type}`.
    pub error_output_type: Option<&'a str>,
    /// `!{partitionKeyFromLambda:…}` values.
    pub lambda_keys: Option<&'a BTreeMap<String, String>>,
    /// `!{partitionKeyFromQuery:…}` values.
    pub query_keys: Option<&'a BTreeMap<String, String>>,
}

/// Why a prefix could not be evaluated for a record (the record goes to the error output).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// A partition key named in the prefix has no value for the record.
    #[error("partition key {0:?} is missing for this record")]
    MissingKey(String),
}

impl Prefix {
    /// Parses `text`. `default_time_suffix` appends `yyyy/MM/dd/HH/` when the prefix has no
    /// timestamp expression (Firehose does so for data prefixes without dynamic partitioning).
    ///
    /// # Errors
    /// [`Error::Config`] for an unknown namespace, an unterminated expression or an unsupported
    /// timestamp pattern.
    pub fn parse(text: &str, default_time_suffix: bool) -> Result<Self> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("!{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| {
                Error::Config(format!("prefix {text:?}: unterminated !{{ expression"))
            })?;
            let expr = &after[..end];
            let (ns, value) = expr.split_once(':').ok_or_else(|| {
                Error::Config(format!(
                    "prefix {text:?}: expression !{{{expr}}} has no namespace:value"
                ))
            })?;
            parts.push(match (ns, value) {
                ("timestamp", pattern) => Part::Timestamp(parse_pattern(pattern)?),
                ("firehose", "random-string") => Part::RandomString,
                ("firehose", "error-output-type") => Part::ErrorOutputType,
                ("partitionKeyFromLambda", key) if !key.is_empty() => {
                    Part::LambdaKey(key.to_owned())
                }
                ("partitionKeyFromQuery", key) if !key.is_empty() => Part::QueryKey(key.to_owned()),
                _ => {
                    return Err(Error::Config(format!(
                        "prefix {text:?}: unknown expression !{{{expr}}}"
                    )));
                }
            });
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        if default_time_suffix && !parts.iter().any(|p| matches!(p, Part::Timestamp(_))) {
            parts.push(Part::Timestamp(parse_pattern("yyyy/MM/dd/HH/")?));
        }
        Ok(Self {
            parts,
            zone: Tz::UTC,
        })
    }

    /// The same prefix with its timestamps (`!{timestamp:…}` and the default `yyyy/MM/dd/HH/`)
    /// in `zone` instead of UTC (the destination's `CustomTimeZone`).
    #[must_use]
    pub fn in_time_zone(mut self, zone: Tz) -> Self {
        self.zone = zone;
        self
    }

    /// The time zone of the prefix's timestamps (UTC unless [`in_time_zone`](Self::in_time_zone)).
    pub fn time_zone(&self) -> Tz {
        self.zone
    }

    /// The error prefix Firehose uses when none is configured:
    /// `!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH/}`.
    pub fn default_error() -> Self {
        Self::default_error_under("")
    }

    /// The error prefix Firehose uses when none is configured and the data prefix is
    /// `data_prefix`: "`ErrorOutputPrefix` can be null only if `Prefix` contains no expressions.
    /// In this case, [...] `ErrorOutputPrefix` evaluates to
    /// `<specified-prefix><error-output-type>YYYY/MM/DD/HH/`" (custom prefixes guide, semantic
    /// rules), with the `/` after the type its example shows
    /// (`myFirehosePrefix/processing-failed/2018/08/27/`). A data prefix with expressions is
    /// left out (Firehose refuses that configuration; kstream local uses
    /// [`default_error`](Self::default_error)).
    pub fn default_error_under(data_prefix: &str) -> Self {
        let mut parts = Vec::new();
        if !data_prefix.is_empty() && !data_prefix.contains("!{") {
            parts.push(Part::Text(data_prefix.to_owned()));
        }
        parts.extend([
            Part::ErrorOutputType,
            Part::Text("/".to_owned()),
            Part::Timestamp(parse_pattern("yyyy/MM/dd/HH/").unwrap_or_default()),
        ]);
        Self {
            parts,
            zone: Tz::UTC,
        }
    }

    /// Whether the prefix names partition keys (from the transform or the query).
    pub fn uses_partition_keys(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::LambdaKey(_) | Part::QueryKey(_)))
    }

    /// The prefix for an object whose oldest record arrived at `time` (timestamps shown in the
    /// prefix's time zone).
    ///
    /// # Errors
    /// [`PrefixError::MissingKey`] when a partition key has no value.
    pub fn evaluate(
        &self,
        time: DateTime<Utc>,
        values: &PrefixValues<'_>,
    ) -> Result<String, PrefixError> {
        let local = time.with_timezone(&self.zone);
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Timestamp(tokens) => out.push_str(&format_tokens(tokens, &local)),
                Part::RandomString => out.push_str(&random_string(11)),
                Part::ErrorOutputType => out.push_str(values.error_output_type.unwrap_or("")),
                Part::LambdaKey(k) => out.push_str(
                    values
                        .lambda_keys
                        .and_then(|m| m.get(k))
                        .ok_or_else(|| PrefixError::MissingKey(k.clone()))?,
                ),
                Part::QueryKey(k) => out.push_str(
                    values
                        .query_keys
                        .and_then(|m| m.get(k))
                        .ok_or_else(|| PrefixError::MissingKey(k.clone()))?,
                ),
            }
        }
        Ok(out)
    }

    /// The prefix with every expression but the partition keys evaluated as a grouping key:
    /// records with the same key go to the same object. Random strings are left out (they are
    /// drawn once per object).
    pub fn group_key(
        &self,
        time: DateTime<Utc>,
        values: &PrefixValues<'_>,
    ) -> Result<String, PrefixError> {
        let without_random = Self {
            parts: self
                .parts
                .iter()
                .filter(|p| !matches!(p, Part::RandomString))
                .cloned()
                .collect(),
            zone: self.zone,
        };
        without_random.evaluate(time, values)
    }
}

/// The S3 key of a delivered object: `<prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><ext>`,
/// the time (the oldest record's arrival) shown in `zone`.
pub fn object_key(
    prefix: &str,
    stream: &str,
    version: &str,
    time: DateTime<Utc>,
    zone: Tz,
    extension: &str,
) -> String {
    format!(
        "{prefix}{stream}-{version}-{}-{}{extension}",
        time.with_timezone(&zone).format("%Y-%m-%d-%H-%M-%S"),
        uuid::Uuid::new_v4()
    )
}

fn random_string(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// One element of a `DateTimeFormatter` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    /// A pattern letter and how many times it repeats.
    Field(char, usize),
}

/// Parses the supported subset of Java `DateTimeFormatter` patterns: `y`/`u` (year; `yy` two
/// digits), `M` (month; `MMM` short and `MMMM` full English name), `d`, `D` (day of year), `H`,
/// `h`, `m`, `s`, `S` (fraction), `a` (AM/PM), `E` (day name), `'quoted text'`, `''`, and any
/// other non-letter character as itself.
///
/// # Errors
/// [`Error::Config`] for other pattern letters or an unterminated quote.
fn parse_pattern(pattern: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                tokens.push(Token::Literal("'".to_owned()));
                i += 2;
                continue;
            }
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(Error::Config(format!(
                            "timestamp pattern {pattern:?}: unterminated quote"
                        )));
                    }
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        text.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        text.push(ch);
                        i += 1;
                    }
                }
            }
            tokens.push(Token::Literal(text));
        } else if c.is_ascii_alphabetic() {
            if !"yuMdDHhmsSaE".contains(c) {
                return Err(Error::Config(format!(
                    "timestamp pattern {pattern:?}: pattern letter {c:?} is not supported by kstream local (supported: y u M d D H h m s S a E)"
                )));
            }
            let mut n = 1;
            while chars.get(i + n) == Some(&c) {
                n += 1;
            }
            tokens.push(Token::Field(c, n));
            i += n;
        } else {
            tokens.push(Token::Literal(c.to_string()));
            i += 1;
        }
    }
    Ok(tokens)
}

/// Formats `time` with a `DateTimeFormatter` pattern (the subset `parse_pattern` accepts), in
/// UTC or any other zone (`DateTime<Utc>`, `DateTime<chrono_tz::Tz>`, ...).
///
/// # Errors
/// [`Error::Config`] for an unsupported pattern.
pub fn format_timestamp<T: Datelike + Timelike>(pattern: &str, time: &T) -> Result<String> {
    Ok(format_tokens(&parse_pattern(pattern)?, time))
}

fn format_tokens<T: Datelike + Timelike>(tokens: &[Token], t: &T) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let mut out = String::new();
    for token in tokens {
        match token {
            Token::Literal(s) => out.push_str(s),
            Token::Field(c, n) => {
                let n = *n;
                let num = |v: u32, out: &mut String| out.push_str(&format!("{v:0n$}"));
                match c {
                    'y' | 'u' if n == 2 => {
                        out.push_str(&format!("{:02}", t.year().rem_euclid(100)))
                    }
                    'y' | 'u' => out.push_str(&format!("{:0n$}", t.year())),
                    'M' if n >= 4 => out.push_str(MONTHS[t.month0() as usize]),
                    'M' if n == 3 => out.push_str(&MONTHS[t.month0() as usize][..3]),
                    'M' => num(t.month(), &mut out),
                    'd' => num(t.day(), &mut out),
                    'D' => num(t.ordinal(), &mut out),
                    'H' => num(t.hour(), &mut out),
                    'h' => num(t.hour12().1, &mut out),
                    'm' => num(t.minute(), &mut out),
                    's' => num(t.second(), &mut out),
                    'S' => {
                        let nanos = format!("{:09}", t.nanosecond() % 1_000_000_000);
                        let digits = n.min(9);
                        out.push_str(&nanos[..digits]);
                        for _ in digits..n {
                            out.push('0');
                        }
                    }
                    'a' => out.push_str(if t.hour12().0 { "PM" } else { "AM" }),
                    'E' => {
                        let day = DAYS[t.weekday().num_days_from_monday() as usize];
                        out.push_str(if n >= 4 { day } else { &day[..3] });
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn t() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 7, 9, 5, 4).unwrap() + chrono::Duration::milliseconds(123)
    }

    #[test]
    fn reference_hive_prefix() {
        let p = Prefix::parse(
            "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
            true,
        )
        .unwrap();
        assert_eq!(
            p.evaluate(t(), &PrefixValues::default()).unwrap(),
            "data/year=2026/month=03/day=07/hour=09/"
        );
    }

    #[test]
    fn reference_error_prefix() {
        let p = Prefix::parse(
            "errors/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}",
            false,
        )
        .unwrap();
        let v = PrefixValues {
            error_output_type: Some("processing-failed"),
            ..Default::default()
        };
        assert_eq!(
            p.evaluate(t(), &v).unwrap(),
            "errors/year=2026/month=03/day=07/hour=09/processing-failed"
        );
    }

    #[test]
    fn date_time_formatter_subset() {
        let f = |p: &str| format_timestamp(p, &t()).unwrap();
        assert_eq!(f("yyyy-MM-dd'T'HH:mm:ss.SSS"), "2026-03-07T09:05:04.123");
        assert_eq!(f("yy/M/d/H"), "26/3/7/9");
        assert_eq!(f("MMM MMMM"), "Mar March");
        assert_eq!(f("E EEEE"), "Sat Saturday");
        assert_eq!(f("D"), "66");
        assert_eq!(f("hh a"), "09 AM");
        assert_eq!(f("'it''s' yyyy"), "it's 2026");
        assert_eq!(f("yyyy/MM/dd/HH/"), "2026/03/07/09/");
    }

    #[test]
    fn unsupported_patterns_and_expressions_are_config_errors() {
        assert!(
            format_timestamp("yyyy Q", &t())
                .unwrap_err()
                .to_string()
                .contains("'Q'")
        );
        assert!(format_timestamp("'open", &t()).is_err());
        assert!(Prefix::parse("a/!{timestamp:yyyy", true).is_err());
        assert!(Prefix::parse("a/!{unknown:x}/", true).is_err());
        assert!(Prefix::parse("a/!{partitionKeyFromLambda:}/", true).is_err());
    }

    #[test]
    fn default_time_suffix_only_without_timestamp() {
        let p = Prefix::parse("out/", true).unwrap();
        assert_eq!(
            p.evaluate(t(), &PrefixValues::default()).unwrap(),
            "out/2026/03/07/09/"
        );
        let p = Prefix::parse("", true).unwrap();
        assert_eq!(
            p.evaluate(t(), &PrefixValues::default()).unwrap(),
            "2026/03/07/09/"
        );
        let p = Prefix::parse("out/", false).unwrap();
        assert_eq!(p.evaluate(t(), &PrefixValues::default()).unwrap(), "out/");
        let p = Prefix::default_error();
        let v = PrefixValues {
            error_output_type: Some("processing-failed"),
            ..Default::default()
        };
        assert_eq!(
            p.evaluate(t(), &v).unwrap(),
            "processing-failed/2026/03/07/09/"
        );
        let p = Prefix::default_error_under("myFirehosePrefix/");
        assert_eq!(
            p.evaluate(t(), &v).unwrap(),
            "myFirehosePrefix/processing-failed/2026/03/07/09/"
        );
        let p = Prefix::default_error_under("data/!{timestamp:yyyy}/");
        assert_eq!(
            p.evaluate(t(), &v).unwrap(),
            "processing-failed/2026/03/07/09/"
        );
    }

    #[test]
    fn partition_keys_from_lambda_and_query() {
        let p = Prefix::parse(
            "t/ticker=!{partitionKeyFromLambda:ticker}/src=!{partitionKeyFromQuery:src}/!{timestamp:yyyy}/",
            false,
        )
        .unwrap();
        assert!(p.uses_partition_keys());
        let lambda = BTreeMap::from([("ticker".to_owned(), "AMZN".to_owned())]);
        let query = BTreeMap::from([("src".to_owned(), "web".to_owned())]);
        let v = PrefixValues {
            lambda_keys: Some(&lambda),
            query_keys: Some(&query),
            ..Default::default()
        };
        assert_eq!(p.evaluate(t(), &v).unwrap(), "t/ticker=AMZN/src=web/2026/");
        let missing = PrefixValues {
            lambda_keys: Some(&lambda),
            ..Default::default()
        };
        assert_eq!(
            p.evaluate(t(), &missing),
            Err(PrefixError::MissingKey("src".to_owned()))
        );
    }

    #[test]
    fn random_string_is_drawn_per_evaluation_and_left_out_of_the_group_key() {
        let p = Prefix::parse("r/!{firehose:random-string}/", false).unwrap();
        let a = p.evaluate(t(), &PrefixValues::default()).unwrap();
        let b = p.evaluate(t(), &PrefixValues::default()).unwrap();
        assert_eq!(a.len(), "r//".len() + 11);
        assert!(a[2..13].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert_eq!(p.group_key(t(), &PrefixValues::default()).unwrap(), "r//");
    }

    #[test]
    fn object_names_follow_firehose() {
        let key = object_key(
            "data/2026/",
            "kstream-p3-delivery",
            "1",
            t(),
            Tz::UTC,
            ".gz",
        );
        let re = regex::Regex::new(
            r"^data/2026/kstream-p3-delivery-1-2026-03-07-09-05-04-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\.gz$",
        )
        .unwrap();
        assert!(re.is_match(&key), "{key}");
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    const HIVE: &str = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/";

    #[test]
    fn timestamps_in_a_custom_time_zone() {
        let p = Prefix::parse(HIVE, true)
            .unwrap()
            .in_time_zone(Tz::Asia__Tokyo);
        assert_eq!(p.time_zone(), Tz::Asia__Tokyo);
        // 2026-03-07 20:30 UTC is 2026-03-08 05:30 in Tokyo (UTC+9, no DST): day and hour move.
        assert_eq!(
            p.evaluate(utc(2026, 3, 7, 20, 30, 0), &PrefixValues::default())
                .unwrap(),
            "data/year=2026/month=03/day=08/hour=05/"
        );
        // New year in Tokyo while UTC is still in the old one.
        assert_eq!(
            p.evaluate(utc(2025, 12, 31, 15, 0, 0), &PrefixValues::default())
                .unwrap(),
            "data/year=2026/month=01/day=01/hour=00/"
        );
        // The same prefix in UTC (the default) is unchanged.
        let p = Prefix::parse(HIVE, true).unwrap();
        assert_eq!(p.time_zone(), Tz::UTC);
        assert_eq!(
            p.evaluate(utc(2026, 3, 7, 20, 30, 0), &PrefixValues::default())
                .unwrap(),
            "data/year=2026/month=03/day=07/hour=20/"
        );
    }

    #[test]
    fn new_york_across_both_dst_boundaries() {
        let p = Prefix::parse("t/!{timestamp:yyyy-MM-dd HH:mm}/", false)
            .unwrap()
            .in_time_zone(Tz::America__New_York);
        let at = |t| p.evaluate(t, &PrefixValues::default()).unwrap();
        // Spring forward, 2026-03-08: 01:59 EST (UTC-5) is followed by 03:00 EDT (UTC-4).
        assert_eq!(at(utc(2026, 3, 8, 6, 59, 0)), "t/2026-03-08 01:59/");
        assert_eq!(at(utc(2026, 3, 8, 7, 0, 0)), "t/2026-03-08 03:00/");
        // Fall back, 2026-11-01: 01:30 happens twice, at 05:30 UTC (EDT) and 06:30 UTC (EST).
        assert_eq!(at(utc(2026, 11, 1, 5, 30, 0)), "t/2026-11-01 01:30/");
        assert_eq!(at(utc(2026, 11, 1, 6, 30, 0)), "t/2026-11-01 01:30/");
        assert_eq!(at(utc(2026, 11, 1, 7, 30, 0)), "t/2026-11-01 02:30/");
        // Evening in New York is the next day in UTC: the local date is used.
        assert_eq!(at(utc(2026, 7, 1, 2, 15, 0)), "t/2026-06-30 22:15/");
    }

    #[test]
    fn default_prefixes_use_the_time_zone() {
        // The yyyy/MM/dd/HH/ Firehose appends to a prefix without a timestamp.
        let p = Prefix::parse("out/", true)
            .unwrap()
            .in_time_zone(Tz::America__New_York);
        assert_eq!(
            p.evaluate(utc(2026, 3, 8, 6, 59, 0), &PrefixValues::default())
                .unwrap(),
            "out/2026/03/08/01/"
        );
        assert_eq!(
            p.evaluate(utc(2026, 3, 8, 7, 0, 0), &PrefixValues::default())
                .unwrap(),
            "out/2026/03/08/03/",
            "02 never happens on the day clocks spring forward"
        );
        // The default error prefix, and the grouping key that decides which object a record
        // joins, agree with the evaluated prefix.
        let e = Prefix::default_error().in_time_zone(Tz::America__New_York);
        let v = PrefixValues {
            error_output_type: Some("processing-failed"),
            ..Default::default()
        };
        assert_eq!(
            e.evaluate(utc(2026, 1, 1, 3, 0, 0), &v).unwrap(),
            "processing-failed/2025/12/31/22/"
        );
        assert_eq!(
            e.group_key(utc(2026, 1, 1, 3, 0, 0), &v).unwrap(),
            "processing-failed/2025/12/31/22/"
        );
    }

    #[test]
    fn object_names_use_the_time_zone_and_the_extension_given() {
        let key = object_key(
            "data/",
            "kstream-p3-delivery",
            "2",
            utc(2026, 11, 1, 6, 30, 5),
            Tz::America__New_York,
            ".json.gz",
        );
        let re = regex::Regex::new(
            r"^data/kstream-p3-delivery-2-2026-11-01-01-30-05-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\.json\.gz$",
        )
        .unwrap();
        assert!(re.is_match(&key), "{key}");
    }

    #[test]
    fn format_timestamp_in_a_zone() {
        let tokyo = t().with_timezone(&Tz::Asia__Tokyo);
        assert_eq!(
            format_timestamp("yyyy-MM-dd HH:mm:ss.SSS E a", &tokyo).unwrap(),
            "2026-03-07 18:05:04.123 Sat PM"
        );
    }
}
