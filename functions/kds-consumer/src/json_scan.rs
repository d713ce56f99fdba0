//! A strict reader of JSON text for the consumer's fast paths (`plain_object`, `event_text`):
//! it reads only what serde_json surely accepts, and gives up (`None`) on anything else, so a
//! fast path that answers agrees with serde_json and one that gives up leaves the text to it.
//! What it reads: JSON's grammar; strings without control characters and with only JSON's
//! escapes, `\u` ones outside the surrogate range (serde_json refuses a lone surrogate; a pair
//! is left to it); numbers with at most [`MAX_DIGITS`] mantissa digits and an exponent of at
//! most two digits, always finite as an `f64` (serde_json refuses an infinite one, `1e999`);
//! nesting within [`MAX_DEPTH`] (serde_json refuses past 128). The text is UTF-8 already, so
//! bytes from 0x80 on inside strings are whole characters.

use crate::top_level::Kind;

/// The most digits (integer and fraction) a number may have.
const MAX_DIGITS: usize = 100;

/// The bytes of a string tested at once.
const CHUNK: usize = 16;

/// The bytes of a string tested a word at a time before it is tested [`CHUNK`] bytes at a time.
const SHORT: usize = 32;

/// The deepest nesting (a top-level container is 1) read.
const MAX_DEPTH: usize = 64;

/// The text and the position read up to (every method reads from there).
pub(crate) struct Reader<'t> {
    str: &'t str,
    text: &'t [u8],
    at: usize,
}

impl<'t> Reader<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        Self {
            str: text,
            text: text.as_bytes(),
            at: 0,
        }
    }

    /// An object after its `{`, at `depth`, whose keys have no escapes: `member` reads each
    /// value, given the reader and the key.
    pub(crate) fn object_with(
        &mut self,
        depth: usize,
        member: impl FnMut(&mut Self, &'t [u8]) -> Option<()>,
    ) -> Option<()> {
        self.members(depth, Self::plain_key, member)
    }

    /// An object after its `{`, at `depth`, each key read by `key` (after its opening quote),
    /// each value by `member`.
    fn members(
        &mut self,
        depth: usize,
        key: impl Fn(&mut Self) -> Option<&'t [u8]>,
        mut member: impl FnMut(&mut Self, &'t [u8]) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            if self.next()? != b'"' {
                return None;
            }
            let key = key(self)?;
            self.skip_ws();
            if self.next()? != b':' {
                return None;
            }
            self.skip_ws();
            member(self, key)?;
            self.skip_ws();
            match self.next()? {
                b',' => self.skip_ws(),
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// An array after its `[`, at `depth`: `element` reads each element.
    pub(crate) fn array_with(
        &mut self,
        depth: usize,
        mut element: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        if self.eat(b']') {
            return Some(());
        }
        loop {
            element(self)?;
            self.skip_ws();
            match self.next()? {
                b',' => self.skip_ws(),
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    /// A string without escapes, from its opening quote: its text.
    pub(crate) fn plain_string(&mut self) -> Option<&'t str> {
        if self.next()? != b'"' {
            return None;
        }
        let start = self.at;
        self.skip_plain();
        if self.next()? != b'"' {
            return None;
        }
        // Both ends are next to a quote: character boundaries.
        self.str.get(start..self.at - 1)
    }

    /// A number, from its first byte: its text.
    pub(crate) fn number_text(&mut self) -> Option<&'t str> {
        let start = self.at;
        self.number()?;
        self.str.get(start..self.at)
    }

    /// Skips a string's bytes up to the first quote, backslash or control character. Words of
    /// 8 bytes are tested at once (no branch per byte; the string's end, usually within a few
    /// words, costs one mispredicted branch, not one a byte); past [`SHORT`] bytes, 16 at a
    /// time (vectorized); the last bytes of the text one by one.
    fn skip_plain(&mut self) {
        let short = self.at + SHORT;
        while let Some(word) = self.word() {
            if let Some(offset) = special_in(word) {
                self.at += offset;
                return;
            }
            self.at += 8;
            if self.at >= short {
                while let Some(chunk) = self.text.get(self.at..self.at + CHUNK) {
                    if chunk.iter().fold(false, |any, &byte| any | special(byte)) {
                        break;
                    }
                    self.at += CHUNK;
                }
            }
        }
        while self.peek().is_some_and(|byte| !special(byte)) {
            self.at += 1;
        }
    }

    /// The next 8 bytes, as a little-endian word.
    fn word(&self) -> Option<u64> {
        let bytes = self.text.get(self.at..self.at + 8)?;
        <[u8; 8]>::try_from(bytes).ok().map(u64::from_le_bytes)
    }

    /// Whether everything was read.
    pub(crate) fn at_end(&self) -> bool {
        self.at == self.text.len()
    }

    /// Reads `byte` if it comes next.
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.at += usize::from(next);
        next
    }

    /// The next byte, not read.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// Reads the next byte.
    pub(crate) fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    /// Skips JSON whitespace.
    pub(crate) fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    /// A key after its opening quote, without escapes: its bytes (the closing quote read).
    pub(crate) fn plain_key(&mut self) -> Option<&'t [u8]> {
        let start = self.at;
        self.skip_plain();
        if self.next()? != b'"' {
            return None;
        }
        Some(&self.text[start..self.at - 1])
    }

    /// A string after its opening quote (the closing quote read).
    pub(crate) fn string(&mut self) -> Option<()> {
        loop {
            self.skip_plain();
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
    pub(crate) fn number(&mut self) -> Option<()> {
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
    pub(crate) fn value(&mut self, depth: usize) -> Option<Kind> {
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

    fn array(&mut self, depth: usize) -> Option<()> {
        self.array_with(depth, |r| r.value(depth).map(|_| ()))
    }

    /// An object after its `{`, at `depth` (keys may have escapes: nothing compares them).
    fn object(&mut self, depth: usize) -> Option<()> {
        self.members(
            depth,
            |r| r.string().map(|()| &[][..]),
            |r, _| r.value(depth).map(|_| ()),
        )
    }
}

/// A quote, a backslash or a control character (`|`, not `||`, and `& 0xE0` for "below 0x20":
/// compares a vector unit does at once).
fn special(byte: u8) -> bool {
    (byte == b'"') | (byte == b'\\') | (byte & 0xE0 == 0)
}

/// The offset of the first [`special`] byte of a little-endian word, if any: each byte is
/// compared in the word at once (the high bit of a byte that is 0 after `^` or below 0x20 after
/// the subtraction; bytes after the first such one may be marked wrongly, never before it).
fn special_in(word: u64) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let found = (quote.wrapping_sub(ONES) & !quote
        | backslash.wrapping_sub(ONES) & !backslash
        | word.wrapping_sub(ONES * 0x20) & !word)
        & HIGHS;
    (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word test finds the first special byte wherever it is, whatever surrounds it.
    #[test]
    fn the_word_test_finds_the_first_special_byte() {
        let fillers = [b'a', b' ', 0x7f, 0x80, 0xa2, 0xdc, 0xff, 0x21, 0x5b, 0x5d];
        let specials = [b'"', b'\\', 0x00, 0x1f, b'\n', 0x01];
        for filler in fillers {
            assert_eq!(special_in(u64::from_le_bytes([filler; 8])), None);
            for special_byte in specials {
                for at in 0..8 {
                    let mut word = [filler; 8];
                    word[at] = special_byte;
                    // Bytes after it: special or not, the first one counts.
                    for (after, byte) in word.iter_mut().enumerate().skip(at + 1) {
                        *byte = if after % 2 == 0 { 0 } else { filler };
                    }
                    let found = special_in(u64::from_le_bytes(word));
                    let expected = word.iter().position(|&byte| special(byte));
                    assert_eq!(found, expected, "{word:?}");
                }
            }
        }
    }
}
