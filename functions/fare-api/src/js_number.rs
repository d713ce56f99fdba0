//! Numbers printed as JavaScript prints them (`Number.prototype.toString()`, which
//! `JSON.stringify` uses), so the fare API's bodies are byte-identical to the reference's.
//!
//! ECMAScript `Number::toString` (§6.1.6.1.20): take the shortest decimal digits `s` (`k` of
//! them) that round-trip, with the value `s × 10^(n−k)`; then
//! - `k ≤ n ≤ 21`: the digits and `n−k` zeros (`123`, `1e20` → `100000000000000000000`);
//! - `0 < n ≤ 21`: a point after `n` digits (`12.5`);
//! - `−6 < n ≤ 0`: `0.`, `−n` zeros, the digits (`0.000001`);
//! - otherwise exponent form, `d[.ddd]e±x` (`1e+21`, `1.5e-7`).
//!
//! `-0` prints as `0`. JSON has no `NaN` or infinities: `JSON.stringify` writes `null`.
//!
//! Rust's `{:e}` formatting already yields the shortest round-trip digits (closest to the value
//! on a tie, as ECMAScript requires), so only the layout is done here. `serde_json` differs:
//! it prints `123.0`, `1e21` and `1e-7`.

use std::fmt::Write as _;

/// `String(x)` in JavaScript.
pub fn to_js_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    // "d.ddde±x": the shortest round-trip digits and the exponent of the first one.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci
        .split_once('e')
        .expect("`{:e}` of a finite f64 has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = i32::try_from(digits.len()).expect("at most 17 digits");
    let n = exp + 1;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        let _ = write!(out, "{int}.{frac}");
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let _ = write!(
            out,
            "e{}{}",
            if n - 1 < 0 { '-' } else { '+' },
            (n - 1).abs()
        );
    }
    out
}

/// A number as `JSON.stringify` writes it: `null` for `NaN` and the infinities.
pub fn to_json_number(x: f64) -> String {
    if x.is_finite() {
        to_js_string(x)
    } else {
        "null".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::{to_js_string, to_json_number};

    #[test]
    fn layouts_as_ecmascript() {
        for (x, js) in [
            (123.0, "123"),
            (-20.0, "-20"),
            (12.5, "12.5"),
            (0.1, "0.1"),
            (38.518104367585856, "38.518104367585856"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (123456789012345680000.0, "123456789012345680000"),
            (0.000001, "0.000001"),
            (1.5e-6, "0.0000015"),
            (1e-7, "1e-7"),
            (-1.25e-7, "-1.25e-7"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (9007199254740993.0, "9007199254740992"),
            (-0.0, "0"),
            (0.0, "0"),
        ] {
            assert_eq!(to_js_string(x), js, "{x:?}");
        }
    }

    proptest::proptest! {
        /// Any finite number prints in a form that reads back as the same number (the exact
        /// digits are node's: tests/parity), integers below 1e21 without point or exponent.
        #[test]
        fn prints_round_trip(bits in proptest::num::u64::ANY) {
            let x = f64::from_bits(bits);
            proptest::prop_assume!(x.is_finite());
            let s = to_js_string(x);
            let back: f64 = s.parse().unwrap();
            proptest::prop_assert_eq!(back, if x == 0.0 { 0.0 } else { x }, "{}", s);
            if x.fract() == 0.0 && x.abs() < 1e21 {
                proptest::prop_assert!(!s.contains(['.', 'e']), "{}", s);
            }
        }

        /// `parseFloat` of what is printed gives the number back, as in JavaScript.
        #[test]
        fn parse_float_reads_what_is_printed(bits in proptest::num::u64::ANY) {
            let x = f64::from_bits(bits);
            proptest::prop_assume!(x.is_finite() && x != 0.0);
            let back = crate::parse_float::parse_float(&to_js_string(x));
            proptest::prop_assert_eq!(back.to_bits(), x.to_bits());
        }
    }

    #[test]
    fn non_finite() {
        assert_eq!(to_js_string(f64::NAN), "NaN");
        assert_eq!(to_js_string(f64::INFINITY), "Infinity");
        assert_eq!(to_js_string(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(to_json_number(f64::NAN), "null");
        assert_eq!(to_json_number(f64::NEG_INFINITY), "null");
        assert_eq!(to_json_number(-0.0), "0");
    }
}
