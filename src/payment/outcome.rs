//! The outcome of a payment, whichever provider reported it.

use serde::{Deserialize, Serialize};

/// What a provider says happened to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentOutcome {
    /// The money is taken (or authorised and will be taken): the invoice is paid.
    Paid,
    /// The bank or the provider refused the payment (or it expired, or capture failed).
    Refused,
    /// The payer gave up or cancelled on the provider's page.
    Abandoned,
    /// The provider's status is one we do not act on (still pending, under verification...).
    Unknown,
}

impl PaymentOutcome {
    /// True when the invoice must be marked paid.
    pub fn is_paid(self) -> bool {
        self == PaymentOutcome::Paid
    }

    /// True when the payment is over without money taken.
    pub fn is_failed(self) -> bool {
        matches!(self, PaymentOutcome::Refused | PaymentOutcome::Abandoned)
    }

    /// The word stored in the payments table.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentOutcome::Paid => "paid",
            PaymentOutcome::Refused => "refused",
            PaymentOutcome::Abandoned => "abandoned",
            PaymentOutcome::Unknown => "unknown",
        }
    }

    /// Reads the stored word back.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "paid" => Some(PaymentOutcome::Paid),
            "refused" => Some(PaymentOutcome::Refused),
            "abandoned" => Some(PaymentOutcome::Abandoned),
            "unknown" => Some(PaymentOutcome::Unknown),
            _ => None,
        }
    }

    /// The sentence shown to the parent after the payment page.
    pub fn label_fr(self) -> &'static str {
        match self {
            PaymentOutcome::Paid => "Paiement accepté.",
            PaymentOutcome::Refused => "Paiement refusé.",
            PaymentOutcome::Abandoned => "Paiement abandonné.",
            PaymentOutcome::Unknown => "Paiement en cours de vérification.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_words_round_trip() {
        for o in [
            PaymentOutcome::Paid,
            PaymentOutcome::Refused,
            PaymentOutcome::Abandoned,
            PaymentOutcome::Unknown,
        ] {
            assert_eq!(PaymentOutcome::from_stored(o.as_str()), Some(o));
        }
        assert!(PaymentOutcome::Paid.is_paid() && !PaymentOutcome::Paid.is_failed());
        assert!(PaymentOutcome::Abandoned.is_failed() && !PaymentOutcome::Unknown.is_failed());
    }
}
