//! DTMF digits as typed by a caller. Digits are secrets (codes, PINs): their `Debug` is
//! redacted and they are never logged.

use std::fmt;

/// One DTMF key: `0`–`9`, `*`, `#`, `A`–`D` (RFC 4733 events 0–15).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digit(u8);

impl Digit {
    /// The `#` key, the usual terminator.
    pub const POUND: Digit = Digit(b'#');
    /// The `*` key.
    pub const STAR: Digit = Digit(b'*');

    /// The digit for a key character (case-insensitive for A–D).
    pub fn from_char(c: char) -> Option<Self> {
        let c = c.to_ascii_uppercase();
        matches!(c, '0'..='9' | '*' | '#' | 'A'..='D').then_some(Digit(c as u8))
    }

    /// The digit for an RFC 4733 event code (§3.2: 0–9, 10 = `*`, 11 = `#`, 12–15 = A–D).
    pub fn from_event(code: u8) -> Option<Self> {
        const KEYS: &[u8; 16] = b"0123456789*#ABCD";
        KEYS.get(usize::from(code)).map(|&k| Digit(k))
    }

    /// The RFC 4733 event code of this digit.
    pub fn event(self) -> u8 {
        match self.0 {
            b'0'..=b'9' => self.0 - b'0',
            b'*' => 10,
            b'#' => 11,
            other => other - b'A' + 12,
        }
    }

    /// The key character.
    pub fn as_char(self) -> char {
        char::from(self.0)
    }
}

impl fmt::Debug for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digit(*)")
    }
}

/// Digits typed in one collection. `Debug` is redacted; read them with [`Digits::expose`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Digits(String);

impl Digits {
    /// No digits.
    pub fn new() -> Self {
        Self(String::new())
    }

    /// Appends a digit.
    pub fn push(&mut self, d: Digit) {
        self.0.push(d.as_char());
    }

    /// Number of digits.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no digit was typed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The digits as text, to check a code; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digits({} digits)", self.0.len())
    }
}

impl FromIterator<Digit> for Digits {
    fn from_iter<T: IntoIterator<Item = Digit>>(iter: T) -> Self {
        Self(iter.into_iter().map(Digit::as_char).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_round_trip() {
        for code in 0..16 {
            assert_eq!(Digit::from_event(code).unwrap().event(), code);
        }
        assert_eq!(Digit::from_event(11), Some(Digit::POUND));
        assert_eq!(Digit::from_event(16), None);
        assert_eq!(Digit::from_char('a').unwrap().event(), 12);
        assert_eq!(Digit::from_char('x'), None);
    }

    #[test]
    fn debug_is_redacted() {
        let d: Digits = "1234".chars().filter_map(Digit::from_char).collect();
        assert_eq!(format!("{d:?}"), "Digits(4 digits)");
        assert_eq!(format!("{:?}", Digit::POUND), "Digit(*)");
        assert_eq!(d.expose(), "1234");
    }
}
