//! The fast path of the consumer's one-walk check (`top_level::check_document`) for the records
//! a stream usually carries: a JSON object of plain keys, strings, numbers and literals, read in
//! one pass over the bytes, without serde's visitor machinery. On a batch of 100 KPL aggregates
//! (1,000 user records of ~90 bytes) that walk was a third of the consumer's CPU time
//! (bench/kds-consumer, perf).
//!
//! It answers only for texts it can vouch for, and then exactly as the serde walk does; for
//! anything else it answers `None` and the caller runs the serde walk, which gives the verdict or
//! the error (so every error, and its text, is still serde_json's). It vouches for a text when:
//! - the top level is an object (a record that is not one fails, rarely: the serde walk says so);
//! - every key is a string without escapes (the serde walk compares decoded keys);
//! - every string has no control character and only the escapes JSON defines, `\u` ones outside
//!   the surrogate range (serde_json refuses a lone surrogate; a pair is left to it);
//! - every number is JSON's grammar with at most [`MAX_DIGITS`] mantissa digits and an exponent
//!   of at most two digits: always finite as an `f64`, where serde_json refuses an infinite one
//!   (`1e999`);
//! - nesting stays within [`MAX_DEPTH`] (serde_json refuses past 128);
//! - only JSON whitespace surrounds the object, and nothing follows it.
//!
//! The text is UTF-8 already (checked before: `decode_utf8`), so bytes from 0x80 on inside
//! strings are whole characters. The verdict follows `TopLevel::visit_map`: the last value of a
//! key given twice counts; `poison` is the literal `true`; a required field is present when its
//! value is not the literal `null`.

use crate::top_level::{Kind, Verdict};

/// The most digits (integer and fraction) a number may have on this path.
const MAX_DIGITS: usize = 100;

/// The deepest nesting (the top-level object is 1) this path reads.
const MAX_DEPTH: usize = 64;

/// The verdict of the serde walk on `text` with these required fields, when the text is of the
/// kind this path reads (see the module docs); `None` otherwise.
pub(crate) fn check(text: &[u8], required: &[String], poison_field: &str) -> Option<Verdict> {
    let count = required.len();
    let mut inline = [false; crate::top_level::INLINE_FIELDS];
    let mut heap = Vec::new();
    let present: &mut [bool] = if count <= inline.len() {
        &mut inline[..count]
    } else {
        heap.resize(count, false);
        &mut heap
    };
    let mut poison = false;

    let mut r = Reader { text, at: 0 };
    r.skip_ws();
    if r.next()? != b'{' {
        return None;
    }
    r.skip_ws();
    if r.peek() == Some(b'}') {
        r.at += 1;
    } else {
        loop {
            if r.next()? != b'"' {
                return None;
            }
            let key = r.plain_key()?;
            r.skip_ws();
            if r.next()? != b':' {
                return None;
            }
            r.skip_ws();
            let watched = key == poison_field.as_bytes();
            let index = required.iter().position(|field| field.as_bytes() == key);
            let kind = r.value(1)?;
            if watched {
                poison = kind == Kind::True;
            }
            if let Some(index) = index {
                present[index] = kind != Kind::Null;
            }
            r.skip_ws();
            match r.next()? {
                b',' => r.skip_ws(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    r.skip_ws();
    if r.at != text.len() {
        return None;
    }
    Some(if poison {
        Verdict::Poison
    } else {
        present
            .iter()
            .position(|&p| !p)
            .map_or(Verdict::Valid, Verdict::Missing)
    })
}

struct Reader<'t> {
    text: &'t [u8],
    at: usize,
}

impl<'t> Reader<'t> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    /// A key after its opening quote, without escapes: its bytes (the closing quote read).
    fn plain_key(&mut self) -> Option<&'t [u8]> {
        let start = self.at;
        loop {
            match self.next()? {
                b'"' => return Some(&self.text[start..self.at - 1]),
                b'\\' => return None,
                byte if byte < 0x20 => return None,
                _ => {}
            }
        }
    }

    /// A string after its opening quote (the closing quote read).
    fn string(&mut self) -> Option<()> {
        loop {
            match self.next()? {
                b'"' => return Some(()),
                b'\\' => match self.next()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        let mut code = 0u32;
                        for _ in 0..4 {
                            code = code * 16 + char::from(self.next()?).to_digit(16)?;
                        }
                        if (0xD800..=0xDFFF).contains(&code) {
                            return None;
                        }
                    }
                    _ => return None,
                },
                byte if byte < 0x20 => return None,
                _ => {}
            }
        }
    }

    /// A number from its first byte (`-` or a digit), to the byte after it.
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let digits = match self.next()? {
            b'0' => 1,
            b'1'..=b'9' => 1 + self.digits(),
            _ => return None,
        };
        let digits = if self.peek() == Some(b'.') {
            self.at += 1;
            match self.digits() {
                0 => return None,
                fraction => digits + fraction,
            }
        } else {
            digits
        };
        if digits > MAX_DIGITS {
            return None;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if !(1..=2).contains(&self.digits()) {
                return None;
            }
        }
        Some(())
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    fn literal(&mut self, rest: &[u8]) -> Option<()> {
        let end = self.at + rest.len();
        (self.text.get(self.at..end)? == rest).then(|| self.at = end)
    }

    /// A value at `depth` (its container's depth), what it is to the check.
    fn value(&mut self, depth: usize) -> Option<Kind> {
        match self.next()? {
            b'"' => self.string()?,
            b't' => {
                self.literal(b"rue")?;
                return Some(Kind::True);
            }
            b'n' => {
                self.literal(b"ull")?;
                return Some(Kind::Null);
            }
            b'f' => self.literal(b"alse")?,
            b'-' | b'0'..=b'9' => {
                self.at -= 1;
                self.number()?;
            }
            b'[' => self.array(depth + 1)?,
            b'{' => self.object(depth + 1)?,
            _ => return None,
        }
        Some(Kind::Other)
    }

    /// An array after its `[`, at `depth`.
    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Some(());
        }
        loop {
            self.value(depth)?;
            self.skip_ws();
            match self.next()? {
                b',' => self.skip_ws(),
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    /// An object after its `{`, at `depth` (keys may have escapes: nothing compares them).
    fn object(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Some(());
        }
        loop {
            if self.next()? != b'"' {
                return None;
            }
            self.string()?;
            self.skip_ws();
            if self.next()? != b':' {
                return None;
            }
            self.skip_ws();
            self.value(depth)?;
            self.skip_ws();
            match self.next()? {
                b',' => self.skip_ws(),
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processor::POISON_FIELD;
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
            let fast = check(text.as_bytes(), required, POISON_FIELD);
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
            assert_eq!(
                check(text.as_bytes(), &required, POISON_FIELD),
                expected,
                "{text}"
            );
            if let Some(expected) = expected {
                assert_eq!(scan(text, &required, true).ok(), Some(expected), "{text}");
            }
        }
    }
}
