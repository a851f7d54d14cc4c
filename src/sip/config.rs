//! The `[sip]` section of `ivr.toml`: where the voice line listens and how it treats calls.

use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::call::sdp::SrtpPolicy;
use crate::call::settings::CallSettings;
pub use crate::call::settings::RtpSource;

/// Settings of the SIP/RTP engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SipConfig {
    /// Address SIP listens on, for both UDP and TCP (port 0 picks a free port, as tests do).
    /// Not read from the `[sip]` section: `ivr serve` sets it from `server.sip_listen`.
    #[serde(skip)]
    pub listen: SocketAddr,
    /// Address written in `c=`/`o=` of our SDP and in our Contact, for a server behind NAT.
    /// When unset, the listen address is used (or 127.0.0.1 when listening on 0.0.0.0).
    pub advertised_address: Option<IpAddr>,
    /// First UDP port of the range used for RTP (one port per call; RTCP is not used).
    pub rtp_port_min: u16,
    /// Last UDP port of the RTP range (inclusive).
    pub rtp_port_max: u16,
    /// Calls carried at once; a new INVITE beyond this gets 503 with Retry-After.
    pub max_calls: usize,
    /// Seconds a caller is told to wait (Retry-After) when the line is full or shutting down.
    pub retry_after_secs: u32,
    /// Seconds without anything from the caller (RTP, INFO, re-INVITE, UPDATE, OPTIONS) after
    /// which we hang up (0 disables).
    pub media_timeout_secs: u64,
    /// Longest call in seconds; past it we hang up (0 disables).
    pub max_call_secs: u64,
    /// On shutdown, seconds the current calls may go on before we hang them up.
    pub shutdown_grace_secs: u64,
    /// Milliseconds of ringing (180) before we answer; 0 answers at once.
    pub ring_ms: u64,
    /// Also look for DTMF tones in G.711 audio when telephone-events were negotiated (for
    /// trunks that offer them but send tones). Without telephone-events tones are always
    /// looked for, in G.711 and in Opus.
    pub inband_dtmf: bool,
    /// SIP timer T1 in milliseconds (RFC 3261 §17.1.1.1: 500 on the Internet; lower only on
    /// a known fast network). Retransmissions and the 64×T1 transaction timeouts follow it,
    /// and so does the wait for the ACK of our 200 ([`CallSettings::ack_wait`], 8×T1).
    pub t1_ms: u64,
    /// INVITEs admitted per second from one source address (a second's worth may come at
    /// once); beyond, 503 with Retry-After, counted in `ivr_sip_invites_throttled_total`.
    /// 0 lifts the limit. A trunk delivers every call from its own address: size it for
    /// the trunk's busiest second.
    pub invites_per_second_per_source: u32,
    /// Calls in progress from one source address; beyond, 503 as above. 0 lifts the limit.
    /// `max_calls` still bounds the whole line.
    pub calls_per_source: usize,
    /// Which sources may send RTP into a call once the caller's own source is known.
    pub rtp_source: RtpSource,
    /// Whether calls take SRTP (`RTP/SAVP` keyed by SDES): offered, required or refused.
    pub srtp: SrtpPolicy,
    /// Optional registration to an upstream SIP trunk, so a carrier can deliver calls here.
    pub trunk: Option<TrunkConfig>,
    /// Addresses of the trunks whose P-Asserted-Identity (RFC 3325 §9.1) is believed: only
    /// an INVITE from one of them gives a call its asserted caller, which the login
    /// throttle may treat as a known device.
    pub trusted_trunks: Vec<IpAddr>,
    /// SIP over TLS, when set (`[sip.tls]`).
    pub tls: Option<super::tls::TlsSettings>,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 5060)),
            advertised_address: None,
            rtp_port_min: 10_000,
            rtp_port_max: 20_000,
            max_calls: 2_000,
            retry_after_secs: 5,
            media_timeout_secs: 30,
            max_call_secs: 1_800,
            shutdown_grace_secs: 60,
            ring_ms: 0,
            inband_dtmf: true,
            t1_ms: 500,
            invites_per_second_per_source: 30,
            calls_per_source: 200,
            rtp_source: RtpSource::Strict,
            srtp: SrtpPolicy::Offer,
            trunk: None,
            trusted_trunks: Vec::new(),
            tls: None,
        }
    }
}

impl SipConfig {
    /// The RTP port range as a range.
    pub fn rtp_ports(&self) -> RangeInclusive<u16> {
        self.rtp_port_min..=self.rtp_port_max
    }

    /// The media inactivity timeout, if enabled.
    pub fn media_timeout(&self) -> Option<Duration> {
        (self.media_timeout_secs > 0).then(|| Duration::from_secs(self.media_timeout_secs))
    }

    /// The maximum call length, if enabled.
    pub fn max_call_length(&self) -> Option<Duration> {
        (self.max_call_secs > 0).then(|| Duration::from_secs(self.max_call_secs))
    }

    /// The address put in our SDP and Contact.
    pub fn public_ip(&self) -> IpAddr {
        match self.advertised_address {
            Some(ip) => ip,
            None if self.listen.ip().is_unspecified() => IpAddr::from([127, 0, 0, 1]),
            None => self.listen.ip(),
        }
    }
}

/// Registration to an upstream SIP trunk (RFC 3261 §10) with digest authentication.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrunkConfig {
    /// Registrar address, `host:port` (an IP address; no DNS lookup is made).
    pub registrar: SocketAddr,
    /// Account user name.
    pub user: String,
    /// Account password (never logged).
    pub password: String,
    /// Registration lifetime asked for, in seconds; refreshed before it ends.
    pub expires_secs: u32,
    /// How the registration reaches the registrar; over TLS the registrar's certificate
    /// is checked against `[sip.tls] ca` and [`TrunkConfig::server_name`].
    pub transport: TrunkTransport,
    /// The name the registrar's certificate must carry over TLS (e.g. `sip.operateur.fr`);
    /// unset, its IP address must be in the certificate.
    pub server_name: Option<String>,
}

/// The transport of the trunk's registration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrunkTransport {
    /// SIP over UDP (the default).
    #[default]
    Udp,
    /// SIP over TCP.
    Tcp,
    /// SIP over TLS (RFC 3261 §26.2): needs `[sip.tls]`, whose listener the Contact names
    /// so that the carrier's calls come back over TLS too.
    Tls,
}

impl TrunkTransport {
    /// The `transport=` parameter of a SIP URI.
    pub fn uri_param(self) -> &'static str {
        match self {
            TrunkTransport::Udp => "udp",
            TrunkTransport::Tcp => "tcp",
            TrunkTransport::Tls => "tls",
        }
    }
}

impl Default for TrunkConfig {
    fn default() -> Self {
        Self {
            registrar: SocketAddr::from(([127, 0, 0, 1], 5060)),
            user: String::new(),
            password: String::new(),
            expires_secs: 3_600,
            transport: TrunkTransport::Udp,
            server_name: None,
        }
    }
}

impl std::fmt::Debug for TrunkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrunkConfig")
            .field("registrar", &self.registrar)
            .field("user", &self.user)
            .field("password", &"***")
            .field("expires_secs", &self.expires_secs)
            .field("transport", &self.transport)
            .field("server_name", &self.server_name)
            .finish()
    }
}

impl From<&SipConfig> for CallSettings {
    fn from(c: &SipConfig) -> Self {
        CallSettings {
            public_ip: c.public_ip(),
            rtp_source: c.rtp_source,
            srtp: c.srtp,
            inband_dtmf: c.inband_dtmf,
            ring: Duration::from_millis(c.ring_ms),
            t1: Duration::from_millis(c.t1_ms.max(1)),
            media_timeout: c.media_timeout(),
            max_call_length: c.max_call_length(),
            shutdown_grace: Duration::from_secs(c.shutdown_grace_secs),
        }
    }
}
