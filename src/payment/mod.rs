//! Online payment of invoices: SystemPay (hosted form, HMAC-SHA-256 signatures) and PayFiP/TIPI
//! (the DGFiP's service for public revenue), plus local stand-ins of both for tests and demos.
//!
//! The protocol code here is pure (building fields, signing, verifying, parsing); the only I/O
//! is the PayFiP web-service client and the stand-ins' HTTP servers. Storing the requests,
//! marking invoices paid once, and the per-day transaction counter are the store's job.
//!
//! # How the portal uses it
//! Implemented in `src/web/parent/pay.rs` (forms and redirects), `src/web/payment_ipn.rs`
//! (IPN and PayFiP return) and `src/store/payments.rs` (requests, counter, settlement);
//! the PayFiP web service is not wired into the portal yet.
//! - **SystemPay**: in one transaction, increment the (site, UTC day) counter row, turn the
//!   value into a [`systempay::TransId`] with `TransId::from_daily_counter`, and insert the
//!   payment request (invoices, amount, trans id, day, `order_id`); then render
//!   [`systempay::SystemPay::form`]'s fields as hidden inputs posted to its `action`. The IPN
//!   handler (no CSRF: it is server to server) calls [`systempay::SystemPay::verify`], keeps
//!   only `is_server_notification()`, finds the request by `order_id`, checks the amount with
//!   [`settle::check_amount`], and applies [`settle::settle`] to the row of UNIQUE
//!   (provider, transaction) in one transaction; it answers 200 with a short text. The
//!   browser's return is verified the same way and only displayed.
//! - **PayFiP web service** (preferred): [`payfip::ws::PayFipWsClient::create_payment`], store
//!   the `idOp` with the request, redirect to `payment_page(idOp)`; on the notification take
//!   [`payfip::ws::notified_id_op_from`] and always confirm with `payment_detail(idOp)`
//!   (`Pending` = ask again later), then `check_against` the stored request and settle.
//! - **PayFiP classic**: store the [`payfip::classic::ClassicRequest`], redirect to
//!   `redirect_url(..)`; on the return parse [`payfip::classic::ClassicReturn`] and settle only
//!   after `check_against` the stored request (nothing is signed).
//!
//! Tables this needs (both backends): `invoices` (UNIQUE number), `invoice_lines`,
//! `payment_requests` (provider, invoices, amount, trans id/day or idOp or refdet),
//! `payments` (UNIQUE (provider, transaction), outcome, raw status, received at),
//! `systempay_trans_counters` (PRIMARY KEY (site_id, day), next value), and the e-mail
//! outbox of [`crate::mail`].

pub mod error;
pub mod outcome;
pub mod payfip;
pub mod settle;
#[cfg(feature = "devtools")]
pub mod standin;
pub mod standin_settings;
pub mod systempay;

pub use error::PaymentError;
pub use outcome::PaymentOutcome;
