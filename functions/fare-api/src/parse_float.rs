//! JavaScript's `parseFloat`, as the reference's fare function applies it to `ride_request_id`.
//!
//! ECMAScript (`parseFloat`, §21.1.2.12): skip leading white space (`WhiteSpace` and
//! `LineTerminator`), then take the longest prefix that is a `StrDecimalLiteral` — an optional
//! sign followed by `Infinity`, or by digits with an optional fraction and exponent — and return
//! its value, or `NaN` when there is none. So `"123abc"` is 123, `"1e3"` 1000, `" 12.5"` 12.5,
//! `"1e"` 1, `"-0"` −0, `"0x10"` 0, and `"abc"`, `""` and `"."` are `NaN`. There is no hex, octal,
//! binary or `_` separator form, and `infinity` must be spelled exactly.

/// Parses the longest numeric prefix of `input` as JavaScript's `parseFloat` does.
pub fn parse_float(input: &str) -> f64 {
    let s = input.trim_start_matches(is_js_whitespace);
    let bytes = s.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = if negative { -1.0 } else { 1.0 };
    if s[i..].starts_with("Infinity") {
        return sign * f64::INFINITY;
    }
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let int_digits = digits(i);
    let mut end = i + int_digits;
    let mut frac_digits = 0;
    if bytes.get(end) == Some(&b'.') {
        frac_digits = digits(end + 1);
        // "1." is 1; "." alone is not a number.
        if int_digits > 0 || frac_digits > 0 {
            end += 1 + frac_digits;
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return f64::NAN;
    }
    // An exponent counts only with at least one digit: "1e" and "1e+" are 1.
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_digits = digits(j);
        if exp_digits > 0 {
            end = j + exp_digits;
        }
    }
    // The prefix is now ASCII digits, at most one '.', and an exponent: a form Rust's float
    // parser accepts and rounds correctly, as JavaScript engines do.
    s[i..end]
        .parse::<f64>()
        .map_or(f64::NAN, |magnitude| sign * magnitude)
}

/// ECMAScript `WhiteSpace` (TAB, VT, FF, ZWNBSP and every `Zs` character) and `LineTerminator`
/// (LF, CR, LS, PS). Unlike `char::is_whitespace`, NEL (U+0085) is not included and U+FEFF is.
fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::parse_float;

    #[track_caller]
    fn same(input: &str, expected: f64) {
        let got = parse_float(input);
        assert!(
            got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan()),
            "parseFloat({input:?}) = {got:?}, expected {expected:?}"
        );
    }

    #[test]
    fn lenient_prefixes() {
        same("123", 123.0);
        same("123abc", 123.0);
        same("1e3", 1000.0);
        same("1E3x", 1000.0);
        same("12.5", 12.5);
        same("12.5.6", 12.5);
        same("1.", 1.0);
        same(".5", 0.5);
        same("-.5e1", -5.0);
        same("+7", 7.0);
        same("1e", 1.0);
        same("1e+", 1.0);
        same("1e-2", 0.01);
        same("0x10", 0.0);
        same("1_000", 1.0);
        same("00012", 12.0);
    }

    #[test]
    fn whitespace_as_ecmascript() {
        same("  \t\n\r\u{0B}\u{0C}42", 42.0);
        same("\u{A0}\u{FEFF}\u{2028}\u{3000}7", 7.0);
        // NEL is white space for Rust, not for JavaScript.
        same("\u{85}7", f64::NAN);
        // Trailing white space is just an ignored suffix.
        same("7 ", 7.0);
    }

    #[test]
    fn not_numbers() {
        for s in [
            "", " ", ".", "-", "+", "abc", "e5", ".e5", "-.", "infinity", "NaN", "--1",
        ] {
            same(s, f64::NAN);
        }
    }

    #[test]
    fn infinities_and_signed_zero() {
        same("Infinity", f64::INFINITY);
        same("-Infinityx", f64::NEG_INFINITY);
        same("+Infinity", f64::INFINITY);
        same("1e400", f64::INFINITY);
        same("-1e400", f64::NEG_INFINITY);
        same("-0", -0.0);
        same("1e-400", 0.0);
    }

    #[test]
    fn correctly_rounded() {
        same("0.1", 0.1);
        same("9007199254740993", 9_007_199_254_740_992.0);
        same("2.2250738585072011e-308", 2.225_073_858_507_201e-308);
        same("123456789012345678901234567890", 1.234_567_890_123_456_8e29);
    }
}
