//! The fast path of the consumer's one-walk check (`top_level::check_document`) for the records
//! a stream usually carries: a JSON object of plain keys, strings, numbers and literals, read in
//! one pass over the bytes, without serde's visitor machinery. On a batch of 100 KPL aggregates
//! (1,000 user records of ~90 bytes) that walk was a third of the consumer's CPU time
//! (bench/kds-consumer, perf).
//!
//! It answers only for texts it can vouch for, and then exactly as the serde walk does; for
//! anything else it answers `None` and the caller runs the serde walk, which gives the verdict or
//! the error (so every error, and its text, is still serde_json's). It vouches for a top-level
//! object, with keys without escapes (the serde walk compares decoded keys), that
//! `json_scan::Reader` reads through (what serde_json surely accepts), with only JSON whitespace
//! around it. The text is UTF-8 already (checked before: `decode_utf8`). The verdict follows
//! `TopLevel::visit_map`: the last value of a key given twice counts; `poison` is the literal
//! `true`; a required field is present when its value is not the literal `null`.

use crate::json_scan::Reader;
use crate::top_level::{INLINE_FIELDS, Key, Kind, Verdict, presence};

/// The verdict of the serde walk on `text` with these required fields, when the text is of the
/// kind this path reads (see the module docs); `None` otherwise.
pub(crate) fn check(text: &str, required: &[String]) -> Option<Verdict> {
    let (mut inline, mut heap) = ([false; INLINE_FIELDS], Vec::new());
    let present = presence(&mut inline, &mut heap, required.len());
    let mut poison = false;
    let mut r = Reader::new(text);
    r.skip_ws();
    if r.next()? != b'{' {
        return None;
    }
    r.object_with(1, |r, key| {
        let key = Key::of(key, required);
        let kind = r.value(1)?;
        if key.watched {
            poison = kind == Kind::True;
        }
        if let Some(index) = key.required {
            present[index] = kind != Kind::Null;
        }
        Some(())
    })?;
    r.skip_ws();
    r.at_end().then(|| Verdict::of(poison, present))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::top_level::scan;

    /// A small deterministic generator (xorshift64*), so a failure names a reproducible text.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32;
            usize::try_from(x).unwrap() % n
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    const KEYS: &[&str] = &[
        "id",
        "ticker",
        "price",
        "poison",
        "qty",
        "",
        "i\\u0064",
        "tick",
        "pricey",
        "\u{e9}t\u{e9}",
    ];
    const STRINGS: &[&str] = &[
        "",
        "MSFT",
        "a b",
        "\\n\\t\\\"\\\\\\/",
        "\\u00e9",
        "\\ud800",
        "\\ud83d\\ude00",
        "\\uDFFF",
        "\\x",
        "\\u12",
        "\u{e9}\u{1F600}",
        "\t",
        "\\u0000",
    ];
    const NUMBERS: &[&str] = &[
        "0",
        "-0",
        "12",
        "-7",
        "420.92",
        "1e5",
        "1E+05",
        "2e-3",
        "1e999",
        "1e100",
        "-1.5e3",
        "01",
        "1.",
        ".5",
        "-",
        "1.2.3",
        "1e",
        "18446744073709551616",
        "123456789012345678901234567890",
    ];

    fn value(rng: &mut Rng, depth: usize, out: &mut String) {
        match rng.below(if depth > 3 { 6 } else { 8 }) {
            0 | 1 => {
                out.push('"');
                out.push_str(rng.pick(STRINGS));
                out.push('"');
            }
            2 | 3 => out.push_str(rng.pick(NUMBERS)),
            4 => out.push_str(rng.pick(&["true", "false", "null"])),
            5 => out.push_str(rng.pick(&["tru", "nul", "falsey", "NaN", "[", "]}"])),
            6 => {
                out.push('[');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    value(rng, depth + 1, out);
                }
                out.push(']');
            }
            _ => object(rng, depth + 1, out),
        }
    }

    fn object(rng: &mut Rng, depth: usize, out: &mut String) {
        out.push('{');
        for i in 0..rng.below(7) {
            if i > 0 {
                out.push_str(rng.pick(&[",", ",", ", ", " ,\n", ";"]));
            }
            out.push('"');
            out.push_str(rng.pick(KEYS));
            out.push('"');
            out.push_str(rng.pick(&[":", ":", " : ", "", "::"]));
            value(rng, depth, out);
        }
        out.push('}');
    }

    /// On texts made to be near the edges of what the fast path reads, whenever it answers, the
    /// serde walk answers the same; and it does answer for most well-formed records.
    #[test]
    fn the_fast_path_answers_as_the_serde_walk() {
        let required_sets: [&[String]; 3] = [
            &["id".into(), "ticker".into(), "price".into()],
            &[],
            &["\u{e9}t\u{e9}".into(), "id".into()],
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut answered, mut valid_by_serde) = (0, 0);
        for _ in 0..200_000 {
            let mut text = String::from(rng.pick(&["", "", " ", "\n\t"]));
            if rng.below(20) == 0 {
                value(&mut rng, 0, &mut text);
            } else {
                object(&mut rng, 1, &mut text);
            }
            text.push_str(rng.pick(&["", "", "", " ", "\r\n", "x", "{}", ","]));
            let required = required_sets[rng.below(required_sets.len())];
            let fast = check(&text, required);
            let serde = scan(&text, required, true).ok();
            if serde.is_some() {
                valid_by_serde += 1;
            }
            if let Some(fast) = fast {
                answered += 1;
                assert_eq!(Some(fast), serde, "{text:?} with {required:?}");
            }
        }
        // The generator's plain records are common enough that the fast path answers often.
        assert!(
            answered > valid_by_serde / 4,
            "{answered} of {valid_by_serde}"
        );
    }

    /// The bench's records, and records made deep or wide, go through the fast path.
    #[test]
    fn plain_records_take_the_fast_path() {
        let required = ["id".to_owned(), "ticker".into(), "price".into()];
        let deep = format!("{{\"id\":{}1{}}}", "[".repeat(63), "]".repeat(63));
        let too_deep = format!("{{\"id\":{}1{}}}", "[".repeat(64), "]".repeat(64));
        let cases: [(&str, Option<Verdict>); 8] = [
            (
                r#"{"id":0,"event_time":"2026-11-22 05:00:00.000","ticker":"MSFT","price":420.92,"qty":799}"#,
                Some(Verdict::Valid),
            ),
            (
                r#"{"id":1,"ticker":"A","price":1,"poison":true}"#,
                Some(Verdict::Poison),
            ),
            (
                r#"{"id":1,"ticker":null,"price":1}"#,
                Some(Verdict::Missing(1)),
            ),
            (
                r#" {"price":1e-7,"ticker":"\"q\"","id":{"a":[]}} "#,
                Some(Verdict::Valid),
            ),
            (&deep, Some(Verdict::Missing(1))),
            (&too_deep, None),
            (r#"{"i\u0064":1,"ticker":"A","price":1}"#, None),
            ("[1]", None),
        ];
        for (text, expected) in cases {
            assert_eq!(check(text, &required), expected, "{text}");
            if let Some(expected) = expected {
                assert_eq!(scan(text, &required, true).ok(), Some(expected), "{text}");
            }
        }
    }
}
