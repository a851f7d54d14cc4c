//! The outcome of a payment, whichever provider reported it.

use serde::{Deserialize, Serialize};

/// What a provider says happened to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The money is taken (or authorised and will be taken): the invoice is paid.
    Paid,
    /// The bank or the provider refused the payment (or it expired, or capture failed).
    Refused,
    /// The payer gave up or cancelled on the provider's page.
    Abandoned,
    /// The provider's status is one we do not act on (still pending, under verification...).
    Unknown,
}

impl Outcome {
    /// True when the invoice must be marked paid.
    pub fn is_paid(self) -> bool {
        self == Outcome::Paid
    }

    /// True when the payment is over without money taken.
    pub fn is_failed(self) -> bool {
        matches!(self, Outcome::Refused | Outcome::Abandoned)
    }

    /// The word stored in the payments table.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Paid => "paid",
            Outcome::Refused => "refused",
            Outcome::Abandoned => "abandoned",
            Outcome::Unknown => "unknown",
        }
    }

    /// Reads the stored word back.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "paid" => Some(Outcome::Paid),
            "refused" => Some(Outcome::Refused),
            "abandoned" => Some(Outcome::Abandoned),
            "unknown" => Some(Outcome::Unknown),
            _ => None,
        }
    }

    /// The sentence shown to the parent after the payment page.
    pub fn label_fr(self) -> &'static str {
        match self {
            Outcome::Paid => "Paiement accepté.",
            Outcome::Refused => "Paiement refusé.",
            Outcome::Abandoned => "Paiement abandonné.",
            Outcome::Unknown => "Paiement en cours de vérification.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_words_round_trip() {
        for o in [
            Outcome::Paid,
            Outcome::Refused,
            Outcome::Abandoned,
            Outcome::Unknown,
        ] {
            assert_eq!(Outcome::from_stored(o.as_str()), Some(o));
        }
        assert!(Outcome::Paid.is_paid() && !Outcome::Paid.is_failed());
        assert!(Outcome::Abandoned.is_failed() && !Outcome::Unknown.is_failed());
    }
}
