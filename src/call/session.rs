//! A call's offer/answer state, sans-IO (RFC 3264): what our 200 carries, what the ACK
//! must answer, and how a re-INVITE or UPDATE is answered. The driver hands it bodies and
//! sends the replies it returns; nothing here touches a socket, so each rule is unit-tested.

use super::sdp::{self, LocalSession, Negotiated, RemoteAudio, SdpError, UnusableAddress};

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
    /// 488: no common codec, or an address we do not send to; the call keeps its session.
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
}

impl SdpSession {
    /// The session of a call whose INVITE carried `offer` (none for a late offer).
    pub(crate) fn new(local: LocalSession, offer: Option<(RemoteAudio, Negotiated)>) -> Self {
        let (remote, negotiated) = offer.unzip();
        Self {
            local,
            last_answer: Vec::new(),
            remote,
            negotiated,
            awaiting_ack_answer: false,
        }
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
        SdpSession::new(local(), Some((remote, neg)))
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
        let mut s = SdpSession::new(local(), None);
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

        let mut s = SdpSession::new(local(), None);
        s.answer_invite();
        assert!(matches!(s.on_ack(b""), Err(AckProblem::NoAnswer(_))));
        let mut s = SdpSession::new(local(), None);
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
