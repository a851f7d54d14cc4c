//! What a verified provider result does to a payment: the "paid once, whatever the provider
//! repeats" rule, as a pure decision the store applies in one transaction.
//!
//! The store keeps one row per provider transaction (UNIQUE (provider, transaction)); on each
//! verified notification it reads the row's outcome, calls [`settle`], and writes what it
//! says, in the same transaction.

use super::{PaymentError, PaymentOutcome};
use crate::booking::model::Cents;

/// Which provider (and way in) a payment went through; stored as [`Provider::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// SystemPay form; transaction = `Notification::transaction_key` (UTC day + trans id).
    SystemPay,
    /// PayFiP classic redirect; transaction = the `refdet` and our request id.
    PayFipClassic,
    /// PayFiP web service; transaction = the `idOp`.
    PayFipWs,
}

impl Provider {
    /// The word stored in the payments table.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::SystemPay => "systempay",
            Provider::PayFipClassic => "payfip",
            Provider::PayFipWs => "payfip-ws",
        }
    }

    /// Reads the stored word back.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "systempay" => Some(Provider::SystemPay),
            "payfip" => Some(Provider::PayFipClassic),
            "payfip-ws" => Some(Provider::PayFipWs),
            _ => None,
        }
    }
}

/// What to do with a verified result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// Record the payment and mark its invoices paid.
    MarkPaid,
    /// Record the failure (the invoices stay to pay).
    RecordFailure,
    /// Nothing changes: a repeat of what is already recorded.
    AlreadyDone,
    /// The result is not final (pending, unknown status): record nothing, wait for another.
    Wait,
    /// A paid transaction reported as failed: never unpay automatically; log for staff.
    Conflict,
    /// Money taken for invoices another payment had already settled: recorded as paid and
    /// listed for staff to refund (never applied twice). The store decides this one, not
    /// [`settle`].
    Duplicate,
}

impl Settlement {
    /// Whether the decision wrote something the caller must commit.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Settlement::MarkPaid | Settlement::RecordFailure | Settlement::Duplicate
        )
    }
}

/// How long a payment request holds its invoices: another request for them is refused
/// meanwhile (a PayFiP `idOp` lives 15 minutes; SystemPay's page about as long).
pub const HOLD: chrono::Duration = chrono::Duration::minutes(20);

/// Decides from the outcome already stored for this transaction (if any) and the new one.
pub fn settle(stored: Option<PaymentOutcome>, incoming: PaymentOutcome) -> Settlement {
    use PaymentOutcome::*;
    match (stored, incoming) {
        (_, Unknown) => Settlement::Wait,
        (Some(Paid), Paid) => Settlement::AlreadyDone,
        (Some(Paid), Refused | Abandoned) => Settlement::Conflict,
        // Money taken after an earlier failure report (e.g. a Back Office capture): pay.
        (None | Some(Refused | Abandoned | Unknown), Paid) => Settlement::MarkPaid,
        (Some(Refused | Abandoned), Refused | Abandoned) => Settlement::AlreadyDone,
        (None | Some(Unknown), Refused | Abandoned) => Settlement::RecordFailure,
    }
}

/// Checks the amount a provider reports against the amount we asked for.
pub fn check_amount(expected: Cents, reported: Cents) -> Result<(), PaymentError> {
    if expected == reported {
        Ok(())
    } else {
        Err(PaymentError::Mismatch("montant"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentOutcome::*;

    #[test]
    fn repeats_change_nothing_and_paid_stays_paid() {
        assert_eq!(settle(None, Paid), Settlement::MarkPaid);
        assert_eq!(settle(Some(Paid), Paid), Settlement::AlreadyDone);
        assert_eq!(settle(Some(Paid), Refused), Settlement::Conflict);
        assert_eq!(settle(Some(Paid), Abandoned), Settlement::Conflict);
        assert_eq!(settle(Some(Paid), Unknown), Settlement::Wait);
        assert_eq!(settle(None, Refused), Settlement::RecordFailure);
        assert_eq!(settle(Some(Refused), Refused), Settlement::AlreadyDone);
        assert_eq!(settle(Some(Abandoned), Paid), Settlement::MarkPaid);
        assert_eq!(settle(None, Unknown), Settlement::Wait);
    }

    #[test]
    fn providers_round_trip_and_amounts_match() {
        for p in [
            Provider::SystemPay,
            Provider::PayFipClassic,
            Provider::PayFipWs,
        ] {
            assert_eq!(Provider::from_stored(p.as_str()), Some(p));
        }
        assert!(check_amount(Cents(5830), Cents(5830)).is_ok());
        assert_eq!(
            check_amount(Cents(5830), Cents(583)),
            Err(PaymentError::Mismatch("montant"))
        );
    }
}
