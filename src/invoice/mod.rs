//! Invoices: their numbers, the pure computation of a month's invoice lines from bookings and
//! tariffs, and the PDF each parent can download.
//!
//! Everything here is pure ([`pdf::render`] only builds bytes). Making and storing a month's
//! invoices in one transaction is [`crate::service::invoices::generate_month`] (numbers
//! allocated from the `invoice_sequences` row, without gaps; see `src/store/invoices.rs`).

pub mod config;
pub mod error;
pub mod generate;
pub mod number;
pub mod pdf;
pub mod tariff;

pub use config::InvoiceConfig;
pub use error::InvoiceError;
pub use number::InvoiceNumber;
