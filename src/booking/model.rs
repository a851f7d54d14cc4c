//! Named types for the domain's identifiers and quantities (DESIGN.md, habit 5).
//!
//! Codes are secrets: their `Debug` output is redacted so that a stray `{:?}` in a log line
//! never prints them.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A code typed by a parent was not a valid code (empty, too long, or not only digits).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("un code se compose de 1 à {max} chiffres")]
pub struct BadCode {
    /// The longest code accepted.
    pub max: usize,
}

/// The longest child or payer code accepted, in digits.
pub const MAX_CODE_DIGITS: usize = 12;

macro_rules! secret_code {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks that `digits` is 1 to [`MAX_CODE_DIGITS`] ASCII digits.
            pub fn parse(digits: &str) -> Result<Self, BadCode> {
                let ok = !digits.is_empty()
                    && digits.len() <= MAX_CODE_DIGITS
                    && digits.bytes().all(|b| b.is_ascii_digit());
                if ok {
                    Ok(Self(digits.to_owned()))
                } else {
                    Err(BadCode { max: MAX_CODE_DIGITS })
                }
            }

            /// The digits, for storage and comparison only; never log them.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "(***)"))
            }
        }

        impl TryFrom<String> for $name {
            type Error = BadCode;
            fn try_from(s: String) -> Result<Self, BadCode> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(c: $name) -> String {
                c.0
            }
        }
    };
}

secret_code!(
    /// The numeric code of a child (e.g. `3011`); half of the login pair.
    ChildCode
);
secret_code!(
    /// The numeric code of a payer, the family account (e.g. `770021`); half of the login pair.
    PayerCode
);

/// Database identifier of a payer (family account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PayerId(pub i64);

/// Database identifier of a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChildId(pub i64);

/// The code of a service (prestation), e.g. `REPAS`, `MATIN`, `MIDI`, `SOIR`:
/// 1 to 16 upper-case ASCII letters, digits or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceCode(String);

/// A service code that is not 1 to 16 upper-case letters, digits or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("code de prestation invalide « {0} » (1 à 16 majuscules, chiffres ou _)")]
pub struct BadServiceCode(pub String);

impl ServiceCode {
    /// Checks and wraps a service code.
    pub fn parse(s: &str) -> Result<Self, BadServiceCode> {
        let ok = !s.is_empty()
            && s.len() <= 16
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(BadServiceCode(s.to_owned()))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ServiceCode {
    type Error = BadServiceCode;
    fn try_from(s: String) -> Result<Self, BadServiceCode> {
        Self::parse(&s)
    }
}

impl From<ServiceCode> for String {
    fn from(c: ServiceCode) -> String {
        c.0
    }
}

/// What a parent or staff member asks for on one cell (child, date, service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Inscription.
    Book,
    /// Annulation.
    Cancel,
}

impl Action {
    /// The word stored in the history and shown to parents.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Book => "inscription",
            Action::Cancel => "annulation",
        }
    }

    /// Reads the stored word back.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "inscription" => Some(Action::Book),
            "annulation" => Some(Action::Cancel),
            _ => None,
        }
    }
}

/// Where a change came from, recorded in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The web portal.
    Web,
    /// The voice line.
    Phone,
    /// Town-hall staff.
    Staff,
}

impl Channel {
    /// The word stored in the history.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Phone => "phone",
            Channel::Staff => "staff",
        }
    }

    /// Reads the stored word back.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "web" => Some(Channel::Web),
            "phone" => Some(Channel::Phone),
            "staff" => Some(Channel::Staff),
            _ => None,
        }
    }

    /// The French label shown to parents, written after "par" ("par internet", "par la
    /// mairie").
    pub fn label_fr(self) -> &'static str {
        match self {
            Channel::Web => "internet",
            Channel::Phone => "téléphone",
            Channel::Staff => "la mairie",
        }
    }
}

/// An amount of money in euro cents; money is never a float.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct Cents(pub i64);

impl fmt::Display for Cents {
    /// French format: `58,30 €`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{},{:02} €", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_accept_digits_only() {
        assert!(ChildCode::parse("3011").is_ok());
        assert!(PayerCode::parse("770021").is_ok());
        for bad in ["", "30a1", " 3011", "1234567890123", "３０"] {
            assert!(ChildCode::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn codes_never_show_in_debug() {
        let c = ChildCode::parse("3011").unwrap();
        assert_eq!(format!("{c:?}"), "ChildCode(***)");
        assert!(!format!("{:?}", PayerCode::parse("770021").unwrap()).contains("770021"));
    }

    #[test]
    fn service_codes_are_checked() {
        assert_eq!(ServiceCode::parse("REPAS").unwrap().as_str(), "REPAS");
        assert!(ServiceCode::parse("repas").is_err());
        assert!(ServiceCode::parse("").is_err());
    }

    #[test]
    fn stored_words_round_trip() {
        for a in [Action::Book, Action::Cancel] {
            assert_eq!(Action::from_stored(a.as_str()), Some(a));
        }
        for c in [Channel::Web, Channel::Phone, Channel::Staff] {
            assert_eq!(Channel::from_stored(c.as_str()), Some(c));
        }
    }

    #[test]
    fn cents_print_in_french() {
        assert_eq!(Cents(5830).to_string(), "58,30 €");
        assert_eq!(Cents(5).to_string(), "0,05 €");
        assert_eq!(Cents(-120).to_string(), "-1,20 €");
    }
}
