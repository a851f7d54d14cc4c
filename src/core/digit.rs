//! [`Digit`]: one key of a telephone keypad (DTMF), the unit every detector produces and
//! the key a dialplan names; [`Digits`]: the keys of one entry.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One DTMF key: `0`–`9`, `*`, `#` and the rarely seen `A`–`D` column.
///
/// Digits typed by callers are codes, and codes are secrets (BRIEF: never log them), so
/// `Debug` is redacted; use [`Digit::to_char`] where the key really must be shown (tests).
///
/// Ordered by RFC 4733 event code (`0`–`9`, `*`, `#`, `A`–`D`); written as its character in
/// a dialplan (`"#"`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digit(u8);

/// Text that is not one keypad key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("« {0} » n'est pas une touche du clavier (0 à 9, *, # ou A à D)")]
pub struct BadKey(pub String);

/// The keys in RFC 4733 §3.2 event-code order (0–9, `*` = 10, `#` = 11, A–D = 12–15).
const KEYS: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

impl Digit {
    /// Every digit, in event-code order.
    pub const ALL: [Digit; 16] = {
        let mut all = [Digit(0); 16];
        let mut i = 0;
        while i < 16 {
            all[i] = Digit(i as u8);
            i += 1;
        }
        all
    };

    /// The `*` key.
    pub const STAR: Digit = Digit(10);

    /// The `#` key, the usual terminator.
    pub const POUND: Digit = Digit(11);

    /// Whether the key is on a telephone's keypad (`0`–`9`, `*`, `#`): `A`–`D` are not.
    #[inline]
    pub fn on_phone_keypad(self) -> bool {
        self.0 < 12
    }

    /// Whether the key is one of `0`–`9`.
    #[inline]
    pub fn is_digit(self) -> bool {
        self.0 < 10
    }

    /// The digit for a keypad character (`a`–`d` accepted in lower case too).
    #[inline]
    pub fn from_char(c: char) -> Option<Digit> {
        let code = match c {
            '0'..='9' => c as u8 - b'0',
            '*' => 10,
            '#' => 11,
            'A'..='D' => c as u8 - b'A' + 12,
            'a'..='d' => c as u8 - b'a' + 12,
            _ => return None,
        };
        Some(Digit(code))
    }

    /// The keypad character (`A`–`D` in upper case).
    #[inline]
    pub fn to_char(self) -> char {
        KEYS[self.0 as usize]
    }

    /// The digit for an RFC 4733 §3.2 event code; codes above 15 (flash, tones) are not digits.
    #[inline]
    pub fn from_event_code(code: u8) -> Option<Digit> {
        (code < 16).then_some(Digit(code))
    }

    /// The RFC 4733 §3.2 event code of this digit.
    #[inline]
    pub fn event_code(self) -> u8 {
        self.0
    }

    /// The (row, column) frequencies in Hz of this key's dual tone (ITU-T Q.23).
    pub fn frequencies(self) -> (f32, f32) {
        let (row, col) = match self.to_char() {
            '1' => (0, 0),
            '2' => (0, 1),
            '3' => (0, 2),
            'A' => (0, 3),
            '4' => (1, 0),
            '5' => (1, 1),
            '6' => (1, 2),
            'B' => (1, 3),
            '7' => (2, 0),
            '8' => (2, 1),
            '9' => (2, 2),
            'C' => (2, 3),
            '*' => (3, 0),
            '0' => (3, 1),
            '#' => (3, 2),
            _ => (3, 3), // 'D'
        };
        (ROW_HZ[row], COL_HZ[col])
    }

    /// The key at a (row, column) position of the keypad (indices into [`ROW_HZ`], [`COL_HZ`]).
    pub fn from_position(row: usize, col: usize) -> Option<Digit> {
        const GRID: [[char; 4]; 4] = [
            ['1', '2', '3', 'A'],
            ['4', '5', '6', 'B'],
            ['7', '8', '9', 'C'],
            ['*', '0', '#', 'D'],
        ];
        GRID.get(row)?.get(col).and_then(|&c| Digit::from_char(c))
    }
}

/// Low-group (row) DTMF frequencies, Hz (ITU-T Q.23).
pub const ROW_HZ: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// High-group (column) DTMF frequencies, Hz (ITU-T Q.23).
pub const COL_HZ: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

impl fmt::Debug for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Redacted: a digit is part of a secret code (BRIEF "Codes are secrets").
        f.write_str("Digit(*)")
    }
}

impl TryFrom<String> for Digit {
    type Error = BadKey;
    fn try_from(s: String) -> Result<Digit, BadKey> {
        let mut chars = s.chars();
        match (chars.next().and_then(Digit::from_char), chars.next()) {
            (Some(k), None) => Ok(k),
            _ => Err(BadKey(s)),
        }
    }
}

impl From<Digit> for String {
    fn from(k: Digit) -> String {
        k.to_char().to_string()
    }
}

/// Digits typed in one entry. `Debug` is redacted; read them with [`Digits::expose`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Digits(String);

impl Digits {
    /// No digits.
    pub fn new() -> Self {
        Self(String::new())
    }

    /// Appends a digit.
    pub fn push(&mut self, d: Digit) {
        self.0.push(d.to_char());
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
        Self(iter.into_iter().map(Digit::to_char).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chars_and_event_codes_round_trip() {
        for (code, c) in KEYS.iter().enumerate() {
            let d = Digit::from_char(*c).unwrap();
            assert_eq!(d.event_code() as usize, code);
            assert_eq!(d.to_char(), *c);
            assert_eq!(Digit::from_event_code(code as u8), Some(d));
        }
        assert_eq!(Digit::from_char('b').unwrap().to_char(), 'B');
        assert_eq!(Digit::from_char('x'), None);
        assert_eq!(Digit::from_event_code(16), None);
        assert_eq!(Digit::from_event_code(255), None);
    }

    #[test]
    fn keypad_positions_match_frequencies() {
        for d in Digit::ALL {
            let (r, c) = d.frequencies();
            let row = ROW_HZ.iter().position(|&f| f == r).unwrap();
            let col = COL_HZ.iter().position(|&f| f == c).unwrap();
            assert_eq!(Digit::from_position(row, col), Some(d));
        }
        assert_eq!(
            Digit::from_char('5').unwrap().frequencies(),
            (770.0, 1336.0)
        );
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", Digit::from_char('7').unwrap()), "Digit(*)");
        let d: Digits = "1234".chars().filter_map(Digit::from_char).collect();
        assert_eq!(format!("{d:?}"), "Digits(4 digits)");
        assert_eq!(d.expose(), "1234");
    }

    #[test]
    fn a_dialplan_names_one_key_by_its_character() {
        for c in KEYS {
            let k = Digit::try_from(c.to_string()).unwrap();
            assert_eq!(String::from(k), c.to_string());
        }
        assert_eq!(Digit::POUND.to_char(), '#');
        assert_eq!(Digit::STAR.to_char(), '*');
        assert!(Digit::from_char('9').unwrap().is_digit());
        assert!(!Digit::STAR.is_digit() && !Digit::from_char('A').unwrap().is_digit());
        assert!(Digit::try_from("12".to_owned()).is_err());
        assert!(Digit::try_from(String::new()).is_err());
        assert!(Digit::try_from("x".to_owned()).is_err());
        assert!(Digit::from_char('9') < Some(Digit::STAR));
        assert!(
            Digit::POUND.on_phone_keypad() && !Digit::from_char('D').unwrap().on_phone_keypad()
        );
    }
}
