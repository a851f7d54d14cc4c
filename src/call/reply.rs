//! Answers whose failure we cannot act on but must not hide.
//!
//! When a response to an in-dialog request (INFO, OPTIONS, UPDATE, re-INVITE) or a
//! rejection cannot be sent, the transaction layer retransmits or times out on its own;
//! the call goes on. The failure still says something about the transport, so it is
//! logged rather than discarded.

use std::fmt::Display;

/// Logs the error of a SIP answer that could not be sent, naming what it was.
pub(crate) trait LogFailed {
    /// Warns with `what` when `self` is an error; nothing otherwise.
    fn log_failed(self, what: &'static str);
}

impl<T, E: Display> LogFailed for Result<T, E> {
    fn log_failed(self, what: &'static str) {
        if let Err(e) = self {
            tracing::warn!(error = %e, "{what} could not be sent");
        }
    }
}
