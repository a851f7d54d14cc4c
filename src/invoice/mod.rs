//! Invoices: their numbers, the pure computation of a month's invoice lines from bookings and
//! tariffs, and the PDF each parent can download.
//!
//! Everything here is pure except [`pdf::render`], which only builds bytes, and
//! [`issue::generate_month`], which makes and stores a month's invoices in one transaction
//! (numbers allocated from the `invoice_sequences` row, without gaps; see `src/store/invoices.rs`).

pub mod config;
pub mod error;
pub mod generate;
pub mod issue;
pub mod number;
pub mod pdf;
pub mod tariff;

pub use config::InvoiceConfig;
pub use error::InvoiceError;
pub use number::InvoiceNumber;
