//! DTMF digits as typed by a caller. Digits are secrets (codes, PINs): their `Debug` is
//! redacted and they are never logged.

use std::fmt;

pub use crate::core::Digit;

/// The `#` key, the usual terminator.
pub fn pound() -> Digit {
    Digit::from_char('#').expect("# is a DTMF key")
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
    fn debug_is_redacted() {
        let d: Digits = "1234".chars().filter_map(Digit::from_char).collect();
        assert_eq!(format!("{d:?}"), "Digits(4 digits)");
        assert_eq!(d.expose(), "1234");
        assert_eq!(pound().to_char(), '#');
    }
}
