//! [`CoreError`]: the one error type of the sans-IO core. Bad input from the network becomes
//! one of these, never a panic.

use thiserror::Error;

/// Input the core could not make sense of.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CoreError {
    /// An RFC 4733 telephone-event payload shorter than its 4 bytes.
    #[error("telephone-event payload of {0} bytes, at least 4 expected (RFC 4733 §2.3)")]
    ShortTelephoneEvent(usize),
    /// A datagram that is not an RTP packet we can read (RFC 3550 §5.1).
    #[error("not a valid RTP packet: {0}")]
    BadRtp(&'static str),
    /// A SIP INFO body that carries no DTMF digit we can read.
    #[error("SIP INFO DTMF body not understood: {0}")]
    BadInfoBody(&'static str),
    /// A SIP INFO Content-Type that is not one of the DTMF ones.
    #[error("SIP INFO content type is not a DTMF one")]
    NotDtmfInfo,
}
