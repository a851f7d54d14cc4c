//! E-mail notices: "votre facture est en ligne", for payers who opted in, and the town's
//! answer to a pre-registration request.
//!
//! [`Mailer::send`] sends one [`Notice`] over SMTP (lettre) or, with no SMTP server
//! configured, writes it as an `.eml` file in a folder. The outbox (one row per notice,
//! retried by a background worker, never sent twice) lives in the store at integration: the
//! worker calls `send` and records the result. A notice's `key` (the outbox row) names the
//! Message-ID and the file, so a repeat is recognisable and the folder keeps one copy.

pub mod config;
pub mod error;
pub mod notice;
pub mod outbox;
pub mod prereg;
pub mod sender;
#[cfg(feature = "devtools")]
pub mod test_smtp;

pub use config::{MailConfig, SmtpSecurity};
pub use error::MailError;
pub use notice::{InvoiceNotice, Notice, NoticeAbout};
pub use prereg::{PreregAnswer, PreregNotice};
pub use sender::Mailer;
