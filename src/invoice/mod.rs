//! Invoices: their numbers, the pure computation of a month's invoice lines from bookings and
//! tariffs, and the PDF each parent can download.
//!
//! Allocating sequence numbers (atomically, without gaps) and storing invoices is the store's
//! job at integration; everything here is pure except [`pdf::render`], which only builds bytes.

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
