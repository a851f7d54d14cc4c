//! SRTP (RFC 3711) keyed by SDES (RFC 4568): the `a=crypto` attribute read and written, and
//! one call's pair of SRTP contexts, ours to protect what we send and the caller's to check
//! and decrypt what it sends.
//!
//! The cipher work is webrtc-rs's `rtc-srtp` over ring. What is ours is the choice of what to
//! accept: the two AES_CM_128_HMAC_SHA1 suites every SIP phone and carrier offers, a key given
//! inline with neither MKI nor session parameters (a line carrying what we cannot honour is
//! skipped, as RFC 4568 §7.1.1 asks, rather than half-followed), and a replay window on what
//! the caller sends.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::BytesMut;
use rand::RngCore;
use rand::rngs::OsRng;
use rtc_srtp::context::Context;
use rtc_srtp::option::srtp_replay_protection;
use rtc_srtp::protection_profile::ProtectionProfile;
use thiserror::Error;

/// The master key and salt of the AES_CM_128 suites: 16 + 14 bytes.
pub const KEY_MATERIAL_LEN: usize = 30;
const MASTER_KEY_LEN: usize = 16;

/// How many of the caller's most recent packets the replay window remembers. RFC 3711 §3.3.2
/// asks for at least 64; a network that reorders more than that is rare on a voice call.
const REPLAY_WINDOW: usize = 128;

/// The crypto suites we accept and offer (RFC 4568 §6.2), ours first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrtpSuite {
    /// AES-128 counter mode, 80-bit HMAC-SHA1 tag: the one every implementation has.
    AesCm128HmacSha1_80,
    /// The same with a 32-bit tag (6 bytes less per packet).
    AesCm128HmacSha1_32,
}

impl SrtpSuite {
    /// Both suites, in our order of preference.
    pub const ALL: [SrtpSuite; 2] = [
        SrtpSuite::AesCm128HmacSha1_80,
        SrtpSuite::AesCm128HmacSha1_32,
    ];

    /// The suite's name in `a=crypto`.
    pub fn sdp_name(self) -> &'static str {
        match self {
            SrtpSuite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            SrtpSuite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    fn from_sdp_name(name: &str) -> Option<SrtpSuite> {
        SrtpSuite::ALL
            .into_iter()
            .find(|s| s.sdp_name().eq_ignore_ascii_case(name))
    }

    /// The authentication tag's length in bytes, added to each packet.
    pub fn tag_len(self) -> usize {
        match self {
            SrtpSuite::AesCm128HmacSha1_80 => 10,
            SrtpSuite::AesCm128HmacSha1_32 => 4,
        }
    }

    fn profile(self) -> ProtectionProfile {
        match self {
            SrtpSuite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
            SrtpSuite::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
        }
    }
}

/// One side's keying: its suite and its master key and salt.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SrtpKey {
    /// The suite the key is for.
    pub suite: SrtpSuite,
    material: [u8; KEY_MATERIAL_LEN],
}

// The key stays out of logs and panics (a `Debug` derive would print it).
impl fmt::Debug for SrtpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpKey")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

impl SrtpKey {
    /// A fresh key from the system's random source, for our side of one call.
    pub fn generate(suite: SrtpSuite) -> SrtpKey {
        let mut material = [0; KEY_MATERIAL_LEN];
        OsRng.fill_bytes(&mut material);
        SrtpKey { suite, material }
    }

    /// The key and salt as `inline:` writes them (base64, RFC 4568 §6.1).
    fn inline(&self) -> String {
        STANDARD.encode(self.material)
    }
}

/// One `a=crypto` line: its tag (which the answer repeats) and the key it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CryptoAttribute {
    /// The tag the offerer numbered the line with.
    pub tag: u32,
    /// The suite and key.
    pub key: SrtpKey,
}

/// Why an `a=crypto` line is not one we can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CryptoError {
    /// Not `tag suite key-params [session-params]`.
    #[error("not an a=crypto line")]
    Malformed,
    /// A suite we do not have (AES-256, AEAD, F8, NULL…).
    #[error("crypto suite not supported")]
    UnknownSuite,
    /// A key method other than `inline`, or a key that is not 30 bytes of base64.
    #[error("key not usable")]
    BadKey,
    /// A master key identifier (MKI) or several keys: we key a stream with one key.
    #[error("MKI or several keys")]
    Mki,
    /// Session parameters (UNENCRYPTED_SRTP, KDR, WSH…): RFC 4568 §6.3 says a line whose
    /// parameters are not all understood must not be used.
    #[error("session parameters")]
    SessionParameters,
}

impl CryptoAttribute {
    /// Reads the value of an `a=crypto:` attribute (what follows the colon).
    pub fn parse(value: &str) -> Result<CryptoAttribute, CryptoError> {
        let mut fields = value.split_ascii_whitespace();
        let tag = fields
            .next()
            .filter(|t| t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<u32>().ok())
            .ok_or(CryptoError::Malformed)?;
        let suite = fields.next().ok_or(CryptoError::Malformed)?;
        let suite = SrtpSuite::from_sdp_name(suite).ok_or(CryptoError::UnknownSuite)?;
        let params = fields.next().ok_or(CryptoError::Malformed)?;
        if fields.next().is_some() {
            return Err(CryptoError::SessionParameters);
        }
        if params.contains(';') {
            return Err(CryptoError::Mki);
        }
        let inline = params.strip_prefix("inline:").ok_or(CryptoError::BadKey)?;
        // key||salt, then an optional lifetime, then an optional MKI:length.
        let mut parts = inline.split('|');
        let encoded = parts.next().ok_or(CryptoError::BadKey)?;
        let lifetime = parts.next();
        if parts.next().is_some() {
            return Err(CryptoError::Mki);
        }
        if let Some(lifetime) = lifetime {
            // One field after the key is a lifetime or an MKI (RFC 4568 §9.2: "n:len").
            if lifetime.contains(':') {
                return Err(CryptoError::Mki);
            }
            valid_lifetime(lifetime).ok_or(CryptoError::BadKey)?;
        }
        let decoded = STANDARD.decode(encoded).map_err(|_| CryptoError::BadKey)?;
        let material: [u8; KEY_MATERIAL_LEN] =
            decoded.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(CryptoAttribute {
            tag,
            key: SrtpKey { suite, material },
        })
    }

    /// The value of the `a=crypto:` attribute that carries `key` under `tag`.
    pub fn format(tag: u32, key: &SrtpKey) -> String {
        format!("{tag} {} inline:{}", key.suite.sdp_name(), key.inline())
    }
}

/// A key lifetime, `2^n` or a number of packets (RFC 4568 §6.1); we rekey by re-INVITE, never
/// within a call, and a call sends far fewer packets than any sane lifetime, so it is only
/// checked to be one.
fn valid_lifetime(field: &str) -> Option<u64> {
    match field.strip_prefix("2^") {
        Some(exp) => exp.parse::<u32>().ok().filter(|&e| e <= 48).map(|e| 1 << e),
        None => field.parse::<u64>().ok().filter(|&n| n > 0),
    }
}

/// Why a packet the caller sent was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Unprotect {
    /// Its sequence number was already seen or is too old for the window (a replay).
    #[error("replayed")]
    Replayed,
    /// Too short, not RTP, or its authentication tag is wrong: not from the caller.
    #[error("authentication failed")]
    Failed,
}

/// One call's SRTP: what we send is protected with our key, what the caller sends is checked
/// and decrypted with its key.
pub struct SrtpSession {
    outbound: Context,
    inbound: Context,
    local: SrtpKey,
    remote: SrtpKey,
}

impl fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpSession")
            .field("local", &self.local)
            .field("remote", &self.remote)
            .finish_non_exhaustive()
    }
}

/// The SRTP contexts could not be made (a key the library refused).
#[derive(Debug, Error)]
#[error("SRTP context: {0}")]
pub struct SrtpSetupError(String);

fn context(key: &SrtpKey, replay: bool) -> Result<Context, SrtpSetupError> {
    let crypto = rtc_srtp::crypto::default_provider().map_err(|e| SrtpSetupError(e.to_string()))?;
    let (master_key, master_salt) = key.material.split_at(MASTER_KEY_LEN);
    Context::new(
        master_key,
        master_salt,
        key.suite.profile(),
        replay.then(|| srtp_replay_protection(REPLAY_WINDOW)),
        None,
        crypto.crypto(),
    )
    .map_err(|e| SrtpSetupError(e.to_string()))
}

impl SrtpSession {
    /// The session of a call where we send with `local` and the caller with `remote`.
    pub fn new(local: SrtpKey, remote: SrtpKey) -> Result<SrtpSession, SrtpSetupError> {
        Ok(SrtpSession {
            outbound: context(&local, false)?,
            inbound: context(&remote, true)?,
            local,
            remote,
        })
    }

    /// Our key.
    pub fn local(&self) -> &SrtpKey {
        &self.local
    }

    /// The caller's key.
    pub fn remote(&self) -> &SrtpKey {
        &self.remote
    }

    /// Takes the caller's new key (a re-INVITE that rekeys): its packets are checked with it
    /// from now on, with a fresh replay window.
    pub fn rekey_remote(&mut self, remote: SrtpKey) -> Result<(), SrtpSetupError> {
        if remote != self.remote {
            self.inbound = context(&remote, true)?;
            self.remote = remote;
        }
        Ok(())
    }

    /// Our RTP packet, encrypted and tagged; `None` if it is refused (not a 12-byte RTP
    /// header of ours, or 2^48 packets sent under one key), and then not sent.
    ///
    /// Our packets carry no CSRC and no header extension, and only those are taken: the
    /// library's encryption trusts the header's own length, and a header whose extension
    /// says more than the packet holds made it panic (found by the `srtp_input` fuzz target).
    pub fn protect(&mut self, packet: &[u8]) -> Option<BytesMut> {
        const CSRC_COUNT_AND_EXTENSION: u8 = 0x1F;
        if packet.len() < 12 || packet[0] & CSRC_COUNT_AND_EXTENSION != 0 {
            return None;
        }
        self.outbound.encrypt_rtp(packet).ok()
    }

    /// The caller's packet, checked and decrypted.
    pub fn unprotect(&mut self, packet: &[u8]) -> Result<BytesMut, Unprotect> {
        self.inbound.decrypt_rtp(packet).map_err(|e| match e {
            rtc_shared::error::Error::SrtpSsrcDuplicated(..) => Unprotect::Replayed,
            _ => Unprotect::Failed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4568 §10's example key.
    const EXAMPLE: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

    fn rtp(seq: u16) -> Vec<u8> {
        let mut p = vec![0x80, 0, 0, 0, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78];
        p[2..4].copy_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&[0xFF; 160]);
        p
    }

    #[test]
    fn the_rfc_example_line_is_read_and_written_back() {
        let line = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{EXAMPLE}|2^20");
        let attr = CryptoAttribute::parse(&line).unwrap();
        assert_eq!(attr.tag, 1);
        assert_eq!(attr.key.suite, SrtpSuite::AesCm128HmacSha1_80);
        assert_eq!(
            CryptoAttribute::format(1, &attr.key),
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{EXAMPLE}")
        );
        let short = CryptoAttribute::parse(&format!("7 aes_cm_128_hmac_sha1_32 inline:{EXAMPLE}"));
        assert_eq!(short.unwrap().key.suite, SrtpSuite::AesCm128HmacSha1_32);
    }

    #[test]
    fn lines_we_cannot_honour_are_refused_with_their_reason() {
        let cases = [
            ("", CryptoError::Malformed),
            ("x AES_CM_128_HMAC_SHA1_80 inline:k", CryptoError::Malformed),
            ("1 AES_CM_128_HMAC_SHA1_80", CryptoError::Malformed),
            (
                "1 AES_256_CM_HMAC_SHA1_80 inline:k",
                CryptoError::UnknownSuite,
            ),
            ("1 F8_128_HMAC_SHA1_80 inline:k", CryptoError::UnknownSuite),
            ("1 AES_CM_128_HMAC_SHA1_80 uri:k", CryptoError::BadKey),
            (
                "1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=",
                CryptoError::BadKey,
            ),
            ("1 AES_CM_128_HMAC_SHA1_80 inline:!!!", CryptoError::BadKey),
        ];
        for (line, why) in cases {
            assert_eq!(CryptoAttribute::parse(line), Err(why), "{line:?}");
        }
        let with =
            |rest: &str| CryptoAttribute::parse(&format!("1 AES_CM_128_HMAC_SHA1_80 {rest}"));
        assert_eq!(
            with(&format!("inline:{EXAMPLE}|2^20|1:4")),
            Err(CryptoError::Mki)
        );
        assert_eq!(
            with(&format!("inline:{EXAMPLE}|1:4")),
            Err(CryptoError::Mki)
        );
        assert_eq!(
            with(&format!("inline:{EXAMPLE};inline:{EXAMPLE}")),
            Err(CryptoError::Mki)
        );
        assert_eq!(
            with(&format!("inline:{EXAMPLE}|2^99")),
            Err(CryptoError::BadKey)
        );
        assert_eq!(
            with(&format!("inline:{EXAMPLE} UNENCRYPTED_SRTP")),
            Err(CryptoError::SessionParameters)
        );
        assert!(with(&format!("inline:{EXAMPLE}|1048576")).is_ok());
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let attr =
            CryptoAttribute::parse(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{EXAMPLE}")).unwrap();
        let shown = format!("{attr:?}");
        assert!(
            !shown.contains(EXAMPLE) && !shown.contains("material"),
            "{shown}"
        );
    }

    fn pair(suite: SrtpSuite) -> (SrtpSession, SrtpSession) {
        let (a, b) = (SrtpKey::generate(suite), SrtpKey::generate(suite));
        (
            SrtpSession::new(a, b).unwrap(),
            SrtpSession::new(b, a).unwrap(),
        )
    }

    #[test]
    fn what_one_side_protects_the_other_reads_once() {
        for suite in SrtpSuite::ALL {
            let (mut us, mut them) = pair(suite);
            let plain = rtp(65_535);
            let sent = us.protect(&plain).unwrap();
            assert_eq!(sent.len(), plain.len() + suite.tag_len());
            assert_eq!(&sent[..12], &plain[..12], "the header stays in clear");
            assert_ne!(
                &sent[12..plain.len()],
                &plain[12..],
                "the payload is encrypted"
            );
            assert_eq!(&them.unprotect(&sent).unwrap()[..], &plain[..]);
            assert_eq!(them.unprotect(&sent), Err(Unprotect::Replayed));
            // Across the sequence number's wrap (the rollover counter moves on).
            let next = us.protect(&rtp(0)).unwrap();
            assert_eq!(&them.unprotect(&next).unwrap()[..], &rtp(0)[..]);
        }
    }

    #[test]
    fn a_forged_or_altered_packet_is_refused() {
        let (mut us, mut them) = pair(SrtpSuite::AesCm128HmacSha1_80);
        let mut sent = us.protect(&rtp(10)).unwrap();
        sent[20] ^= 1;
        assert_eq!(them.unprotect(&sent), Err(Unprotect::Failed));
        // The genuine one still passes: a forgery does not poison the window.
        sent[20] ^= 1;
        assert!(them.unprotect(&sent).is_ok());
        assert_eq!(
            them.unprotect(&rtp(11)),
            Err(Unprotect::Failed),
            "clear RTP"
        );
        assert_eq!(them.unprotect(b"short"), Err(Unprotect::Failed));
        // Another key's packet.
        let (mut other, _) = pair(SrtpSuite::AesCm128HmacSha1_80);
        let foreign = other.protect(&rtp(12)).unwrap();
        assert_eq!(them.unprotect(&foreign), Err(Unprotect::Failed));
    }

    #[test]
    fn only_headers_of_ours_are_protected() {
        let (mut us, _) = pair(SrtpSuite::AesCm128HmacSha1_80);
        // The fuzzer's packet: an extension header longer than the packet.
        let mut extended = rtp(1);
        extended[0] |= 0x10;
        extended.truncate(14);
        assert!(us.protect(&extended).is_none());
        let mut with_csrc = rtp(2);
        with_csrc[0] |= 0x01;
        assert!(us.protect(&with_csrc).is_none());
        assert!(us.protect(&rtp(3)[..11]).is_none());
        assert!(us.protect(&rtp(4)).is_some());
    }

    #[test]
    fn a_new_remote_key_is_followed() {
        let (mut us, mut them) = pair(SrtpSuite::AesCm128HmacSha1_80);
        let fresh = SrtpKey::generate(SrtpSuite::AesCm128HmacSha1_32);
        let mut rekeyed = SrtpSession::new(fresh, *us.local()).unwrap();
        us.rekey_remote(fresh).unwrap();
        let p = rekeyed.protect(&rtp(5)).unwrap();
        assert!(us.unprotect(&p).is_ok());
        assert_eq!(them.unprotect(&p), Err(Unprotect::Failed));
    }
}
