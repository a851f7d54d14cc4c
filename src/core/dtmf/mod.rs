//! DTMF in, each key press exactly once, from three sources: RFC 4733 telephone-events
//! ([`rfc4733`]), SIP INFO bodies ([`sip_info`]) and in-band tones in the audio (G.711, or Opus
//! decoded at 8 kHz: [`inband`]); [`merge`] makes a press sent by two sources count once.

pub mod inband;
pub mod merge;
pub mod rfc4733;
pub mod sip_info;
pub mod tone;

/// Where a digit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtmfSource {
    /// An RFC 4733 telephone-event in the RTP stream.
    Rfc4733,
    /// A SIP INFO request (`application/dtmf-relay` or `application/dtmf`).
    SipInfo,
    /// Dual tones detected in the received audio.
    InBand,
}
