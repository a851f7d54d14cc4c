//! The invoice layer's one error type.

use thiserror::Error;

/// What can go wrong while numbering, computing or printing invoices.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvoiceError {
    /// Text that is not an invoice number `AAAA-RRR-SSSSSS`.
    #[error("numéro de facture invalide « {0} » (format AAAA-RRR-SSSSSS)")]
    BadNumber(String),
    /// A part of a number out of its range.
    #[error("numéro de facture hors limites : {0}")]
    NumberOutOfRange(&'static str),
    /// The tariffs in the configuration are inconsistent.
    #[error("tarif invalide pour {service} : {reason}")]
    BadTariff {
        /// The service code.
        service: String,
        /// What is wrong.
        reason: String,
    },
    /// A booked service has no tariff.
    #[error("aucun tarif pour la prestation {0}")]
    NoTariff(String),
    /// A booking outside the month being invoiced.
    #[error("réservation du {date} hors du mois facturé {month}")]
    OutsideMonth {
        /// The booking's date.
        date: String,
        /// The month invoiced.
        month: String,
    },
    /// The same (child, date, service) twice in the input.
    #[error("réservation en double : {0}")]
    DuplicateBooking(String),
    /// A booking for a payer that is not in the payer list.
    #[error("payeur inconnu pour une réservation (payeur n° {0})")]
    UnknownPayer(i64),
    /// An amount too large to be computed exactly.
    #[error("montant trop grand")]
    Overflow,
    /// The PDF could not be built.
    #[error("PDF impossible à produire : {0}")]
    Pdf(String),
}
