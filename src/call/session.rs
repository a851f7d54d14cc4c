//! A call's offer/answer state, sans-IO (RFC 3264): what our 200 carries, what the ACK
//! must answer, and how a re-INVITE or UPDATE is answered. The driver hands it bodies and
//! sends the replies it returns; nothing here touches a socket, so each rule is unit-tested.

use super::sdp::{
    self, LocalSession, Negotiated, RemoteAudio, SdpError, SrtpPolicy, UnusableAddress,
};
use crate::media::srtp::{SrtpKey, SrtpSuite};

/// A negotiation the media must now follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    /// The new codecs, address and direction.
    pub(crate) negotiated: Negotiated,
    /// Whether the caller's address changed (the media drops the address it latched on).
    pub(crate) remote_moved: bool,
}

/// The reply to a re-INVITE or an UPDATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UpdateReply {
    /// 200 without a body: an UPDATE that offers nothing (a session refresh).
    Refreshed,
    /// 200 with this SDP: our answer (with the change to apply), or our offer to a
    /// re-INVITE without one (its answer comes in the ACK).
    Sdp {
        /// The body of the 200.
        body: Vec<u8>,
        /// What the media must now follow, when the offer was answered.
        change: Option<Change>,
    },
    /// 488: no common codec, an address we do not send to, or SRTP against the line's
    /// setting; the call keeps its session.
    NotAcceptable(Option<UnusableAddress>),
    /// 400: the body is no SDP.
    BadRequest,
}

/// Why the ACK's answer to our offer ends the call.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AckProblem {
    /// The answer names an address we do not send to.
    #[error("the answer in the ACK names a {0} address")]
    Unusable(UnusableAddress),
    /// No answer, or none we can use.
    #[error("no usable answer in the ACK: {0}")]
    NoAnswer(SdpError),
    /// The answer's SRTP does not match our offer (clear for SRTP, another suite) or the
    /// line's setting.
    #[error("the answer in the ACK does not take the SRTP we offered")]
    Srtp,
}

/// Our session and the caller's, from the INVITE to the end of the call.
#[derive(Debug)]
pub(crate) struct SdpSession {
    local: LocalSession,
    /// The body of our last answer: our `o=` version moves only when it changes.
    last_answer: Vec<u8>,
    remote: Option<RemoteAudio>,
    negotiated: Option<Negotiated>,
    /// Our offer is in the 200 (late offer, or a re-INVITE without SDP): the answer is in
    /// the ACK.
    awaiting_ack_answer: bool,
    srtp: SrtpPolicy,
}

impl SdpSession {
    /// The session of a call whose INVITE carried `offer` (none for a late offer), already
    /// checked against the line's `srtp` setting.
    pub(crate) fn new(
        local: LocalSession,
        offer: Option<(RemoteAudio, Negotiated)>,
        srtp: SrtpPolicy,
    ) -> Self {
        let (remote, negotiated) = offer.unzip();
        let mut session = Self {
            local,
            last_answer: Vec::new(),
            remote,
            negotiated,
            awaiting_ack_answer: false,
            srtp,
        };
        match session.negotiated.clone() {
            Some(neg) => session.key_for(&neg),
            // Our own offer carries SRTP only where the line requires it.
            None if srtp == SrtpPolicy::Require => {
                session.local.srtp = Some(SrtpKey::generate(SrtpSuite::AesCm128HmacSha1_80));
            }
            None => session.local.srtp = None,
        }
        session
    }

    /// Our SRTP key, when the call's media is SRTP (or our offer is).
    pub(crate) fn local_srtp(&self) -> Option<SrtpKey> {
        self.local.srtp
    }

    /// Makes our key follow the caller's offer: kept while the suite stays (the sending
    /// context, and its packet index, go on), a fresh one for a new suite, none in clear.
    /// A key is never reused under a new context, which would repeat its key stream.
    fn key_for(&mut self, neg: &Negotiated) {
        self.local.srtp = match (neg.srtp, self.local.srtp) {
            (None, _) => None,
            (Some(theirs), Some(ours)) if ours.suite == theirs.key.suite => Some(ours),
            (Some(theirs), _) => Some(SrtpKey::generate(theirs.key.suite)),
        };
    }

    /// What the media follows, once known.
    pub(crate) fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// The body of our 200 to the INVITE: our answer, or our offer for a late offer.
    pub(crate) fn answer_invite(&mut self) -> Vec<u8> {
        let body = match (&self.remote, &self.negotiated) {
            (Some(remote), Some(neg)) => remote.answer(&self.local, neg),
            _ => {
                self.awaiting_ack_answer = true;
                sdp::offer(&self.local)
            }
        };
        self.last_answer.clone_from(&body);
        body
    }

    /// Whether the ACK must carry the answer to our offer.
    pub(crate) fn awaits_ack_answer(&self) -> bool {
        self.awaiting_ack_answer
    }

    /// The ACK's body, when it must answer our offer (RFC 3264 §5): the change to apply.
    pub(crate) fn on_ack(&mut self, body: &[u8]) -> Result<Option<Change>, AckProblem> {
        if !std::mem::take(&mut self.awaiting_ack_answer) {
            return Ok(None);
        }
        let neg = sdp::parse(body)
            .and_then(|r| r.negotiate())
            .map_err(AckProblem::NoAnswer)?;
        if let Some(why) = neg.unusable_address(true) {
            return Err(AckProblem::Unusable(why));
        }
        let offered = self.local.srtp.map(|k| k.suite);
        if neg.srtp.map(|c| c.key.suite) != offered || !self.srtp.admits(&neg) {
            return Err(AckProblem::Srtp);
        }
        Ok(Some(self.adopt(neg)))
    }

    /// A re-INVITE (`update` false) or an UPDATE with `body`: hold, resume, refresh or a
    /// new offer (RFC 3264 §8).
    pub(crate) fn on_update(&mut self, update: bool, body: &[u8]) -> UpdateReply {
        if body.is_empty() {
            if update {
                return UpdateReply::Refreshed;
            }
            // A re-INVITE without an offer: we offer again, the answer comes in the ACK.
            self.awaiting_ack_answer = true;
            return UpdateReply::Sdp {
                body: sdp::offer(&self.local),
                change: None,
            };
        }
        let (remote, neg) = match sdp::parse(body).and_then(|r| r.negotiate().map(|n| (r, n))) {
            Ok(parsed) => parsed,
            Err(SdpError::Malformed(_)) => return UpdateReply::BadRequest,
            // The call goes on with the previous session (RFC 3264 §8 end).
            Err(SdpError::NotAcceptable) => return UpdateReply::NotAcceptable(None),
        };
        if let Some(why) = neg.unusable_address(false) {
            // As for no common codec, the call goes on with the previous session.
            return UpdateReply::NotAcceptable(Some(why));
        }
        if !self.srtp.admits(&neg) {
            return UpdateReply::NotAcceptable(None);
        }
        self.key_for(&neg);
        let mut answer = remote.answer(&self.local, &neg);
        // The version moves only when our description changes (RFC 3264 §8).
        if answer != self.last_answer {
            self.local.version += 1;
            answer = remote.answer(&self.local, &neg);
        }
        self.last_answer.clone_from(&answer);
        self.remote = Some(remote);
        UpdateReply::Sdp {
            body: answer,
            change: Some(self.adopt(neg)),
        }
    }

    fn adopt(&mut self, negotiated: Negotiated) -> Change {
        let remote_moved = self.negotiated.as_ref().map(|n| n.remote) != Some(negotiated.remote);
        self.negotiated = Some(negotiated.clone());
        Change {
            negotiated,
            remote_moved,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::sdp::MediaDirection as Direction;
    use crate::media::Codec;

    fn local() -> LocalSession {
        LocalSession {
            ip: [198, 51, 100, 7].into(),
            rtp_port: 12000,
            session_id: 42,
            version: 1,
            srtp: None,
        }
    }

    fn sdp(addr: &str, port: u16, pts: &str, attrs: &str) -> Vec<u8> {
        format!(
            "v=0\r\no=- 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP {pts}\r\n{attrs}"
        )
        .into_bytes()
    }

    fn offered(body: &[u8]) -> SdpSession {
        let remote = sdp::parse(body).unwrap();
        let neg = remote.negotiate().unwrap();
        SdpSession::new(local(), Some((remote, neg)), SrtpPolicy::Offer)
    }

    const KEY_A: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
    const KEY_B: &str = "d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj";

    fn savp(port: u16, crypto: &str) -> Vec<u8> {
        String::from_utf8(sdp("192.0.2.1", port, "0", crypto))
            .unwrap()
            .replace("RTP/AVP", "RTP/SAVP")
            .into_bytes()
    }

    /// The `a=crypto` value of an answer or offer of ours.
    fn crypto_of(body: &[u8]) -> Option<String> {
        let text = String::from_utf8_lossy(body).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("a=crypto:"))
            .map(str::to_owned)
    }

    #[test]
    fn an_srtp_offer_is_answered_with_our_key_under_its_tag_and_kept_on_refresh() {
        let offer = savp(
            4000,
            &format!(
                "a=crypto:3 AES_256_CM_HMAC_SHA1_80 inline:{KEY_A}\r\n\
                 a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}\r\n"
            ),
        );
        let remote = sdp::parse(&offer).unwrap();
        let neg = remote.negotiate().unwrap();
        assert_eq!(
            neg.srtp.map(|c| c.tag),
            Some(5),
            "the first line we can honour"
        );
        let mut s = SdpSession::new(local(), Some((remote, neg)), SrtpPolicy::Offer);
        let answer = s.answer_invite();
        let text = String::from_utf8_lossy(&answer);
        assert!(text.contains("m=audio 12000 RTP/SAVP 0"), "{text}");
        let ours = crypto_of(&answer).expect("our key");
        assert!(
            ours.starts_with("5 AES_CM_128_HMAC_SHA1_80 inline:"),
            "{ours}"
        );
        assert!(!ours.contains(KEY_A), "our key is our own");
        // A refresh keeps our key (and so our sending context); another suite gets a new one.
        let (again, _) = answered(s.on_update(false, &offer));
        assert_eq!(crypto_of(&again).as_deref(), Some(ours.as_str()));
        let short = savp(
            4000,
            &format!("a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:{KEY_B}\r\n"),
        );
        let (rekeyed, change) = answered(s.on_update(false, &short));
        let new = crypto_of(&rekeyed).unwrap();
        assert!(
            new.starts_with("1 AES_CM_128_HMAC_SHA1_32 inline:"),
            "{new}"
        );
        assert_ne!(new[2..], ours[2..]);
        assert_eq!(
            s.local_srtp().map(|k| k.suite),
            Some(SrtpSuite::AesCm128HmacSha1_32)
        );
        assert!(change.negotiated.srtp.is_some());
        // Back to clear, which the default setting allows: no key of ours any more.
        let (clear, change) = answered(s.on_update(false, &sdp("192.0.2.1", 4000, "0", "")));
        assert_eq!(crypto_of(&clear), None);
        assert!(change.negotiated.srtp.is_none() && s.local_srtp().is_none());
    }

    #[test]
    fn srtp_without_a_key_we_can_use_is_not_acceptable() {
        for crypto in [
            String::new(),
            format!("a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:{KEY_A}\r\n"),
            format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}|2^20|1:4\r\n"),
        ] {
            let neg = sdp::parse(&savp(4000, &crypto)).unwrap().negotiate();
            assert_eq!(neg.err(), Some(SdpError::NotAcceptable), "{crypto}");
        }
    }

    #[test]
    fn the_lines_setting_is_held_on_every_offer_and_answer() {
        let srtp = savp(
            4000,
            &format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}\r\n"),
        );
        let clear = sdp("192.0.2.1", 4000, "0", "");
        let neg = |b: &[u8]| sdp::parse(b).unwrap().negotiate().unwrap();
        assert!(
            SrtpPolicy::Require.admits(&neg(&srtp)) && !SrtpPolicy::Require.admits(&neg(&clear))
        );
        assert!(!SrtpPolicy::Refuse.admits(&neg(&srtp)) && SrtpPolicy::Refuse.admits(&neg(&clear)));
        assert!(SrtpPolicy::Offer.admits(&neg(&srtp)) && SrtpPolicy::Offer.admits(&neg(&clear)));

        // Required: a re-INVITE in clear is refused and the call keeps its SRTP.
        let remote = sdp::parse(&srtp).unwrap();
        let n = remote.negotiate().unwrap();
        let mut s = SdpSession::new(local(), Some((remote, n)), SrtpPolicy::Require);
        s.answer_invite();
        assert_eq!(s.on_update(false, &clear), UpdateReply::NotAcceptable(None));
        assert!(s.negotiated().unwrap().srtp.is_some());

        // Required, late offer: we offer SRTP, and an answer in clear ends the call.
        let mut late = SdpSession::new(local(), None, SrtpPolicy::Require);
        let offer = late.answer_invite();
        assert!(String::from_utf8_lossy(&offer).contains("RTP/SAVP"));
        let ours = crypto_of(&offer).unwrap();
        assert!(
            ours.starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:"),
            "{ours}"
        );
        assert_eq!(late.on_ack(&clear), Err(AckProblem::Srtp));
        let mut late = SdpSession::new(local(), None, SrtpPolicy::Require);
        late.answer_invite();
        let wrong_suite = savp(
            4000,
            &format!("a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:{KEY_A}\r\n"),
        );
        assert_eq!(late.on_ack(&wrong_suite), Err(AckProblem::Srtp));
        let mut late = SdpSession::new(local(), None, SrtpPolicy::Require);
        late.answer_invite();
        let change = late.on_ack(&srtp).unwrap().unwrap();
        assert!(change.negotiated.srtp.is_some());

        // Offered (the default), late offer: ours is in clear, as is the answer.
        let mut late = SdpSession::new(local(), None, SrtpPolicy::Offer);
        let offer = late.answer_invite();
        assert!(crypto_of(&offer).is_none() && String::from_utf8_lossy(&offer).contains("RTP/AVP"));
        assert!(late.on_ack(&clear).unwrap().is_some());
    }

    fn version(body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body);
        let o = text.lines().find(|l| l.starts_with("o=")).unwrap();
        o.split(' ').nth(2).unwrap().to_owned()
    }

    fn answered(reply: UpdateReply) -> (Vec<u8>, Change) {
        match reply {
            UpdateReply::Sdp {
                body,
                change: Some(change),
            } => (body, change),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_version_moves_only_when_our_answer_changes() {
        let first = sdp("192.0.2.1", 4000, "0", "");
        let mut s = offered(&first);
        let ours = s.answer_invite();
        assert_eq!(version(&ours), "1");
        assert!(!s.awaits_ack_answer());
        // The same offer again (a session refresh by re-INVITE): the same answer.
        let (again, change) = answered(s.on_update(false, &first));
        assert_eq!(again, ours);
        assert!(!change.remote_moved);
        // Hold: our answer says recvonly, so it is a new version.
        let hold = sdp("192.0.2.1", 4000, "0", "a=sendonly\r\n");
        let (held, change) = answered(s.on_update(false, &hold));
        assert_eq!(version(&held), "2");
        assert_eq!(change.negotiated.direction, Direction::RecvOnly);
        assert!(!change.negotiated.sending());
        // Resume at another address: the media must forget the address it latched on.
        let moved = sdp("192.0.2.9", 5000, "8 0", "");
        let (resumed, change) = answered(s.on_update(true, &moved));
        assert_eq!(version(&resumed), "3");
        assert!(change.remote_moved);
        assert_eq!(change.negotiated.codec, Codec::Pcma);
        assert_eq!(
            s.negotiated().map(|n| n.remote),
            Some("192.0.2.9:5000".parse().unwrap())
        );
    }

    #[test]
    fn a_refused_update_keeps_the_session() {
        let mut s = offered(&sdp("192.0.2.1", 4000, "0", ""));
        s.answer_invite();
        assert_eq!(s.on_update(false, b"not sdp"), UpdateReply::BadRequest);
        assert_eq!(
            s.on_update(false, &sdp("192.0.2.1", 4000, "18", "")),
            UpdateReply::NotAcceptable(None)
        );
        assert_eq!(
            s.on_update(false, &sdp("224.0.0.1", 4000, "0", "")),
            UpdateReply::NotAcceptable(Some(UnusableAddress::Multicast))
        );
        // Hold the old way (0.0.0.0) is allowed in a re-INVITE.
        assert!(matches!(
            s.on_update(false, &sdp("0.0.0.0", 4000, "0", "")),
            UpdateReply::Sdp {
                change: Some(_),
                ..
            }
        ));
        assert_eq!(s.on_update(true, b""), UpdateReply::Refreshed);
    }

    #[test]
    fn a_late_offer_is_answered_in_the_ack() {
        let mut s = SdpSession::new(local(), None, SrtpPolicy::Offer);
        assert!(s.negotiated().is_none());
        let offer = s.answer_invite();
        assert!(String::from_utf8_lossy(&offer).contains("m=audio 12000"));
        assert!(s.awaits_ack_answer());
        let change = s
            .on_ack(&sdp("192.0.2.1", 4000, "0", ""))
            .unwrap()
            .expect("the ACK answers");
        assert!(change.remote_moved, "first address");
        assert!(!s.awaits_ack_answer());
        assert_eq!(s.on_ack(b""), Ok(None), "a later ACK answers nothing");

        let mut s = SdpSession::new(local(), None, SrtpPolicy::Offer);
        s.answer_invite();
        assert!(matches!(s.on_ack(b""), Err(AckProblem::NoAnswer(_))));
        let mut s = SdpSession::new(local(), None, SrtpPolicy::Offer);
        s.answer_invite();
        assert_eq!(
            s.on_ack(&sdp("0.0.0.0", 4000, "0", "")),
            Err(AckProblem::Unusable(UnusableAddress::Unspecified))
        );
    }

    #[test]
    fn a_reinvite_without_offer_gets_ours_and_the_ack_answers() {
        let mut s = offered(&sdp("192.0.2.1", 4000, "0", ""));
        s.answer_invite();
        let UpdateReply::Sdp { body, change: None } = s.on_update(false, b"") else {
            panic!("our offer");
        };
        assert!(String::from_utf8_lossy(&body).contains("m=audio 12000"));
        assert!(s.awaits_ack_answer());
        let change = s.on_ack(&sdp("192.0.2.1", 4000, "0", "")).unwrap().unwrap();
        assert!(!change.remote_moved, "same address as before");
    }
}
