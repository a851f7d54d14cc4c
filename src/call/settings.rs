//! What a call's driver needs to know of the line's settings, as the SIP edge gives it
//! (built from `[sip]` by [`crate::sip::SipConfig`]): the call reads no configuration.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The methods a call's dialog accepts, for Allow headers (RFC 3261 §20.5).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE";

/// The settings every call of the line shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSettings {
    /// The address put in our SDP and Contact.
    pub public_ip: IpAddr,
    /// Which sources a call accepts RTP from once its caller's is known.
    pub rtp_source: RtpSource,
    /// Whether calls take SRTP.
    pub srtp: super::sdp::SrtpPolicy,
    /// Whether dual tones in the received audio count as digits.
    pub inband_dtmf: bool,
    /// How long the line rings (180) before answering.
    pub ring: Duration,
    /// SIP's T1 (RFC 3261 §17.1.1.1), the unit of our own waits.
    pub t1: Duration,
    /// Silence from the caller's side after which the call ends, if enabled.
    pub media_timeout: Option<Duration>,
    /// The longest a call may last, if bounded.
    pub max_call_length: Option<Duration>,
    /// How long a call may go on once the line drains for shutdown.
    pub shutdown_grace: Duration,
}

impl CallSettings {
    /// How long we wait for the ACK of our 200 before hanging up: 8×T1 (4 s at T1 = 500 ms).
    ///
    /// RFC 3261 §13.3.1.4 lets the 200 be retransmitted for 64×T1 (32 s), but an INVITE
    /// whose source was forged is never acknowledged, and every retransmission goes to the
    /// forged source (issue 13, finding 5). A real caller's ACK comes within a round trip;
    /// if it is lost, the copies of the 200 sent at T1, 3×T1 and 7×T1 still get theirs in.
    pub fn ack_wait(&self) -> Duration {
        self.t1 * 8
    }
}

/// Which sources a call accepts RTP from (`[sip] rtp_source`).
///
/// A call learns where its caller really sends from with the first RTP packet (symmetric
/// RTP, RFC 4961, which is how callers behind NAT are reached). Whoever sends to the call's
/// port after that is someone else: with `strict` their packets are dropped and counted
/// (`ivr_rtp_foreign_dropped_total`), so that nobody who finds the port can type digits
/// (telephone-events) into another caller's call (issue 13, finding 4). A re-INVITE or
/// UPDATE naming a new address lets the call learn its caller's source again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RtpSource {
    /// Only the learnt source is heard (the default).
    #[default]
    Strict,
    /// Every source is heard, as before: for a trunk that spreads one call's RTP over
    /// several addresses. Anyone who finds the port can then type into the call.
    Any,
}
