//! PayFiP / TIPI, the DGFiP's payment service for public revenue.
//!
//! Two ways in (PAYMENTS.md):
//! - [`classic`]: the browser is redirected to `/tpa/paiement.web` with the debt in the query;
//!   the result comes back to `urlcl` **unsigned**, so it is trusted only where it matches the
//!   request we stored ([`classic::ClassicReturn::check_against`]).
//! - [`ws`]: the web service (SOAP, [`soap`] builds and reads the XML): `creerPaiementSecurise`
//!   returns an `idOp`, the browser goes to `/tpa/paiementws.web?idop=…`, PayFiP calls our
//!   `urlnotif` with the `idOp`, and `recupererDetailPaiementSecurise(idOp)` decides. Preferred.
//!
//! The `saisie` code differs between the two: test `T` and activation `X` in both, but
//! production is `A` for the classic redirect and `W` for the web service ([`Saisie`]).

pub mod classic;
pub mod soap;
pub mod ws;

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{PaymentError, PaymentOutcome};

/// `numcli`: the town's client number at the DGFiP, 6 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NumCli(String);

impl NumCli {
    /// Checks that `s` is 6 ASCII digits.
    pub fn parse(s: &str) -> Result<Self, PaymentError> {
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(PaymentError::bad("numcli", "6 chiffres attendus"))
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `exer`: the financial year of the debt (up to 4 digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Exer(u16);

impl Exer {
    /// A year from 1 to 9999.
    pub fn new(year: i32) -> Result<Self, PaymentError> {
        match u16::try_from(year) {
            Ok(y) if (1..=9999).contains(&y) => Ok(Self(y)),
            _ => Err(PaymentError::bad("exer", "année sur 4 chiffres attendue")),
        }
    }

    /// Reads the protocol's text.
    pub fn parse(s: &str) -> Result<Self, PaymentError> {
        if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PaymentError::bad("exer", "année sur 4 chiffres attendue"));
        }
        Self::new(s.parse::<i32>().unwrap_or(0))
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Exer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `refdet`: the debt's reference, 6 to 30 ASCII letters and digits (our invoice number
/// without its dashes, see `InvoiceNumber::refdet`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefDet(String);

impl RefDet {
    /// Checks the format.
    pub fn parse(s: &str) -> Result<Self, PaymentError> {
        if (6..=30).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(PaymentError::bad(
                "refdet",
                "6 à 30 lettres ou chiffres attendus",
            ))
        }
    }

    /// The reference.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `objet`: the label shown by PayFiP, letters, digits and spaces only, under 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Objet(String);

/// The longest `objet` accepted (the rule is "under 100 characters").
pub const OBJET_MAX: usize = 99;

impl Objet {
    /// Makes a valid label from any text: accents folded to ASCII (`é` → `e`, `œ` → `oe`),
    /// every other character (punctuation, symbols) turned into a space, spaces collapsed,
    /// cut to [`OBJET_MAX`] characters. Returns an error when nothing printable is left.
    pub fn sanitize(label: &str) -> Result<Self, PaymentError> {
        let mut out = String::with_capacity(label.len().min(OBJET_MAX));
        // Letters and digits are folded one by one (so `°` or `€` do not become words);
        // whatever is not a letter or digit after folding becomes a space.
        let folded = label.chars().flat_map(|c| {
            let ascii = if c.is_alphanumeric() {
                deunicode::deunicode_char(c).unwrap_or(" ")
            } else {
                " "
            };
            ascii.chars()
        });
        for c in folded {
            let c = if c.is_ascii_alphanumeric() { c } else { ' ' };
            if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
                continue;
            }
            if out.len() == OBJET_MAX {
                break;
            }
            out.push(c);
        }
        let trimmed = out.trim_end();
        if trimmed.is_empty() {
            return Err(PaymentError::bad("objet", "libellé vide"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// Accepts an already valid label as received (letters, digits, spaces, < 100).
    pub fn parse(s: &str) -> Result<Self, PaymentError> {
        if s.len() <= OBJET_MAX && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ') {
            Ok(Self(s.to_owned()))
        } else {
            Err(PaymentError::bad(
                "objet",
                "lettres, chiffres et espaces attendus",
            ))
        }
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `saisie`: the environment of the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Saisie {
    /// Test: no money moves (`T`).
    Test,
    /// Activation: the DGFiP's check before going live (`X`).
    Activation,
    /// Production: real payments (`A` classic, `W` web service).
    Production,
}

impl Saisie {
    /// The code for the classic redirect: `T`, `X` or `A`.
    pub fn classic_code(self) -> &'static str {
        match self {
            Saisie::Test => "T",
            Saisie::Activation => "X",
            Saisie::Production => "A",
        }
    }

    /// The code for the web service's `creerPaiementSecurise`: `T`, `X` or `W`.
    pub fn ws_code(self) -> &'static str {
        match self {
            Saisie::Test => "T",
            Saisie::Activation => "X",
            Saisie::Production => "W",
        }
    }

    /// Reads a code of either protocol (`A` and `W` both mean production).
    pub fn parse(code: &str) -> Result<Self, PaymentError> {
        match code {
            "T" | "t" => Ok(Saisie::Test),
            "X" | "x" => Ok(Saisie::Activation),
            "A" | "a" | "W" | "w" => Ok(Saisie::Production),
            _ => Err(PaymentError::bad("saisie", "T, X, A ou W attendu")),
        }
    }
}

/// What `resultrans` means: `P` (card) or `V` (direct debit) paid, `R`/`Z` refused,
/// `A` abandoned; anything else is not acted on.
pub fn outcome_of_resultrans(code: &str) -> PaymentOutcome {
    match code {
        "P" | "V" => PaymentOutcome::Paid,
        "R" | "Z" => PaymentOutcome::Refused,
        "A" => PaymentOutcome::Abandoned,
        _ => PaymentOutcome::Unknown,
    }
}

/// The `[payfip]` section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PayFipConfig {
    /// The town's client number at the DGFiP (6 digits).
    pub numcli: String,
    /// `test`, `activation` or `production`.
    pub saisie: Saisie,
    /// The classic redirect page (`…/tpa/paiement.web`), or the local stand-in's.
    pub classic_url: String,
    /// The SOAP endpoint of the web service (`…/tpa/services/securite`), or the stand-in's.
    pub ws_endpoint: String,
    /// The page the browser is sent to with `?idop=` (`…/tpa/paiementws.web`).
    pub ws_payment_url: String,
    /// Seconds to wait for the web service before giving up.
    pub ws_timeout_secs: u64,
}

impl Default for PayFipConfig {
    fn default() -> Self {
        // The defaults point at `ivr fake-provider` on its default address.
        Self {
            numcli: "123456".to_owned(),
            saisie: Saisie::Test,
            classic_url: "http://127.0.0.1:8089/tpa/paiement.web".to_owned(),
            ws_endpoint: "http://127.0.0.1:8089/tpa/services/securite".to_owned(),
            ws_payment_url: "http://127.0.0.1:8089/tpa/paiementws.web".to_owned(),
            ws_timeout_secs: 20,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objet_is_folded_to_letters_digits_and_spaces() {
        let o = Objet::sanitize(
            "Régie: restauration et garderie, CANTINE ET GARDERIE — Février 2014 (n° 162) 58,30 €",
        )
        .unwrap();
        assert_eq!(
            o.as_str(),
            "Regie restauration et garderie CANTINE ET GARDERIE Fevrier 2014 n 162 58 30"
        );
        assert!(Objet::parse(o.as_str()).is_ok());
        let long = Objet::sanitize(&"é".repeat(300)).unwrap();
        assert_eq!(long.as_str().len(), OBJET_MAX);
        assert!(long.as_str().bytes().all(|b| b == b'e'));
        assert!(Objet::sanitize(" ,;! ").is_err());
        assert_eq!(Objet::sanitize("  Cœur  ").unwrap().as_str(), "Coeur");
    }

    #[test]
    fn identifiers_are_checked() {
        assert!(NumCli::parse("123456").is_ok());
        for bad in ["12345", "1234567", "12345a"] {
            assert!(NumCli::parse(bad).is_err());
        }
        assert!(RefDet::parse("2014003000162").is_ok());
        for bad in ["12345", "2014-003-000162", &"1".repeat(31)] {
            assert!(RefDet::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Exer::parse("2014").unwrap().to_string(), "2014");
        assert!(Exer::parse("20145").is_err() && Exer::new(0).is_err());
    }

    #[test]
    fn saisie_codes_differ_in_production_only() {
        assert_eq!(Saisie::Test.classic_code(), Saisie::Test.ws_code());
        assert_eq!(Saisie::Activation.classic_code(), "X");
        assert_eq!(Saisie::Production.classic_code(), "A");
        assert_eq!(Saisie::Production.ws_code(), "W");
        assert_eq!(Saisie::parse("W").unwrap(), Saisie::Production);
        assert_eq!(Saisie::parse("A").unwrap(), Saisie::Production);
        assert!(Saisie::parse("Q").is_err());
    }

    #[test]
    fn resultrans_codes() {
        assert_eq!(outcome_of_resultrans("P"), PaymentOutcome::Paid);
        assert_eq!(outcome_of_resultrans("V"), PaymentOutcome::Paid);
        assert_eq!(outcome_of_resultrans("R"), PaymentOutcome::Refused);
        assert_eq!(outcome_of_resultrans("Z"), PaymentOutcome::Refused);
        assert_eq!(outcome_of_resultrans("A"), PaymentOutcome::Abandoned);
        assert_eq!(outcome_of_resultrans("p"), PaymentOutcome::Unknown);
    }
}
