//! What the load caller is asked to run: read by `ivr load`'s edge, used by the caller and
//! echoed in its report.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::script::{CallCodes, Script};
use crate::media::Codec;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// The server's SIP address (UDP).
    pub server: SocketAddr,
    /// The address the caller's SIP and RTP sockets bind to.
    pub bind: IpAddr,
    /// The caller's SIP port (0: any free port).
    pub sip_port: u16,
    /// The caller's RTP port, shared by every call (0: any free port).
    pub rtp_port: u16,
    /// The number dialled.
    pub number: String,
    /// The one codec offered (with telephone-event at its clock rate).
    pub codec: Codec,
    /// Whether the calls offer SRTP (`RTP/SAVP`, AES_CM_128_HMAC_SHA1_80 keyed by SDES).
    pub srtp: bool,
    /// What every call does.
    pub script: Script,
    /// Per-call codes for the parent call, used in turn (call i types codes[i % len]).
    pub codes: Vec<CallCodes>,
    /// Calls to place in all.
    pub count: usize,
    /// New calls per second.
    pub rate: f64,
    /// At most this many calls up at once (a new call waits for a free place).
    pub max_at_once: usize,
    /// How long to wait for the final answer to an INVITE.
    pub answer_timeout: Duration,
}
