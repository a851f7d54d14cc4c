//! A key of the telephone keypad, as the caller presses it (DTMF, RFC 4733 events 0-11).

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A keypad key: a digit, `*` or `#`. Typed digits may be secret codes: never log them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Key {
    /// `0` to `9`; the value is always below 10.
    Digit(u8),
    /// `*` (RFC 4733 event 10).
    Star,
    /// `#` (RFC 4733 event 11).
    Pound,
}

/// Text that is not one keypad key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("« {0} » n'est pas une touche du clavier (0 à 9, * ou #)")]
pub struct BadKey(pub String);

impl Key {
    /// The key for a character `0`-`9`, `*` or `#`.
    pub fn from_char(c: char) -> Option<Key> {
        match c {
            '0'..='9' => Some(Key::Digit(c as u8 - b'0')),
            '*' => Some(Key::Star),
            '#' => Some(Key::Pound),
            _ => None,
        }
    }

    /// The key for an RFC 4733 telephone-event code (0-9 digits, 10 `*`, 11 `#`; §3.2).
    pub fn from_event(code: u8) -> Option<Key> {
        match code {
            0..=9 => Some(Key::Digit(code)),
            10 => Some(Key::Star),
            11 => Some(Key::Pound),
            _ => None,
        }
    }

    /// The character printed on the key.
    pub fn as_char(self) -> char {
        match self {
            Key::Digit(d) => (b'0' + d) as char,
            Key::Star => '*',
            Key::Pound => '#',
        }
    }

    /// Whether the key is a digit.
    pub fn is_digit(self) -> bool {
        matches!(self, Key::Digit(_))
    }
}

impl fmt::Debug for Key {
    /// Redacted: a key may be part of a child or payer code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(*)")
    }
}

impl TryFrom<String> for Key {
    type Error = BadKey;
    fn try_from(s: String) -> Result<Key, BadKey> {
        let mut chars = s.chars();
        match (chars.next().and_then(Key::from_char), chars.next()) {
            (Some(k), None) => Ok(k),
            _ => Err(BadKey(s)),
        }
    }
}

impl From<Key> for String {
    fn from(k: Key) -> String {
        k.as_char().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_text_and_events() {
        for c in "0123456789*#".chars() {
            let k = Key::from_char(c).unwrap();
            assert_eq!(k.as_char(), c);
            assert_eq!(Key::try_from(c.to_string()), Ok(k));
        }
        assert_eq!(Key::from_event(10), Some(Key::Star));
        assert_eq!(Key::from_event(11), Some(Key::Pound));
        assert_eq!(Key::from_event(12), None);
        assert!(Key::try_from("12".to_owned()).is_err());
        assert!(Key::try_from(String::new()).is_err());
        assert_eq!(format!("{:?}", Key::Digit(7)), "Key(*)");
    }
}
