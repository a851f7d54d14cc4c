//! Online payment of invoices: SystemPay (hosted form, HMAC-SHA-256 signatures) and PayFiP/TIPI
//! (the DGFiP's service for public revenue), plus local stand-ins of both for tests and demos.
//!
//! The protocol code here is pure (building fields, signing, verifying, parsing); the only I/O
//! is the PayFiP web-service client and the stand-ins' HTTP servers. Storing the requests,
//! marking invoices paid once, and the per-day transaction counter are the store's job; see
//! the integration notes on [`systempay::TransIdCounter`].

pub mod error;
pub mod outcome;
pub mod payfip;
pub mod settle;
pub mod standin;
pub mod systempay;

pub use error::PaymentError;
pub use outcome::Outcome;
