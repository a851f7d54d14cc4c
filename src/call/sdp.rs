//! SDP offer/answer (RFC 3264) over the `sdp-types` parser and writer.
//!
//! We carry one audio stream: PCMU, PCMA or Opus, plus RFC 4733 telephone-events at the
//! payload type and clock rate the caller offers. The answer lists the codecs we share in the
//! caller's order of preference (RFC 3264 §6.1) and we send with the first of them.
//!
//! An `RTP/SAVP` stream (SRTP keyed by SDES, RFC 4568) is answered with the first of the
//! caller's `a=crypto` lines we can honour, under its tag, with a key of ours for the same
//! suite; whether the line takes it, requires it or refuses it is [`SrtpPolicy`]'s to say.

use std::net::{IpAddr, SocketAddr};

use sdp_types::{Attribute, Connection, Direction, Media, Origin, Session};

use crate::media::PayloadType;
use crate::media::srtp::{CryptoAttribute, SrtpKey};
use crate::media::{Codec, Ptime};

pub use sdp_types::Direction as MediaDirection;
use thiserror::Error;

/// The payload type we use for a codec when we make the offer (late offer).
fn our_payload_type(codec: Codec) -> PayloadType {
    codec
        .static_payload_type()
        .unwrap_or(PayloadType::new(111).expect("111 is a valid dynamic payload type"))
}

/// Our codecs in our own order of preference, used when we make the offer.
const OUR_CODECS: [Codec; 3] = [Codec::Pcmu, Codec::Pcma, Codec::Opus];

/// Telephone-event (RFC 4733) as negotiated: its payload type and clock rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEventFormat {
    /// The dynamic payload type the caller chose.
    pub payload_type: PayloadType,
    /// 8000 or 48000, matching the audio clock.
    pub clock_rate: u32,
}

/// What offer/answer settled for the call's audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The codec we send with (the caller's preferred one among ours).
    pub codec: Codec,
    /// Its payload type, as the caller numbered it.
    pub payload_type: PayloadType,
    /// Every codec we share, in the caller's order (the caller may send any of them).
    pub codecs: Vec<(Codec, PayloadType)>,
    /// Telephone-events, when the caller offered them.
    pub telephone_event: Option<TelephoneEventFormat>,
    /// Packet duration (the caller's `a=ptime` when our codec can carry it, else 20 ms).
    pub ptime: Ptime,
    /// Where the caller said to send RTP (until symmetric RTP latches on its source).
    pub remote: SocketAddr,
    /// Our direction, from our point of view: whether we send and/or receive.
    pub direction: Direction,
    /// The caller's SRTP key and the tag of its line, when the stream is `RTP/SAVP`.
    pub srtp: Option<CryptoAttribute>,
}

impl Negotiated {
    /// Whether we should be sending audio (not on hold, not inactive, address not 0.0.0.0).
    pub fn sending(&self) -> bool {
        self.direction.has_send() && !self.remote.ip().is_unspecified() && self.remote.port() != 0
    }

    /// Why the caller's connection address must not be taken, if it must not.
    ///
    /// Our RTP goes to the address an SDP names, and whoever sends an INVITE chooses it: a
    /// multicast or broadcast address would make the line a 50-packet-a-second source
    /// towards a whole network (issue 13, finding 5). An unspecified address (0.0.0.0) is
    /// the old way to put a call on hold (RFC 3264 §8.4), which a re-INVITE may do
    /// (`initial` false), but it names no one to answer at the start of a call.
    pub fn unusable_address(&self, initial: bool) -> Option<UnusableAddress> {
        let ip = self.remote.ip();
        let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
        if ip.is_multicast() {
            Some(UnusableAddress::Multicast)
        } else if broadcast {
            Some(UnusableAddress::Broadcast)
        } else if initial && ip.is_unspecified() {
            Some(UnusableAddress::Unspecified)
        } else {
            None
        }
    }
}

/// A connection address we refuse to send RTP to (answered with 488).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum UnusableAddress {
    /// A multicast group (224.0.0.0/4, ff00::/8).
    #[error("multicast")]
    Multicast,
    /// The limited broadcast address 255.255.255.255.
    #[error("broadcast")]
    Broadcast,
    /// 0.0.0.0 or :: in an initial offer.
    #[error("unspecified")]
    Unspecified,
}

/// Whether a line takes SRTP (`[sip] srtp`).
///
/// The keys of SDES travel in the SDP, so they are as safe as the signalling: over TLS
/// (`docs/tls.md`) nobody on the path reads them; over UDP or TCP whoever reads the INVITE
/// can decrypt the call, and SRTP then only keeps the media from being altered or injected
/// by someone who does not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SrtpPolicy {
    /// `RTP/SAVP` offers are answered with SRTP, `RTP/AVP` ones in clear; our own offer
    /// (to an INVITE without SDP) is in clear (the default).
    #[default]
    Offer,
    /// Only `RTP/SAVP` is accepted (488 otherwise), and our own offer is `RTP/SAVP`.
    Require,
    /// Only `RTP/AVP` is accepted (488 to `RTP/SAVP`): for a line whose carrier does not
    /// want it.
    Refuse,
}

impl SrtpPolicy {
    /// Whether a negotiation follows the policy.
    pub fn admits(self, neg: &Negotiated) -> bool {
        match self {
            SrtpPolicy::Offer => true,
            SrtpPolicy::Require => neg.srtp.is_some(),
            SrtpPolicy::Refuse => neg.srtp.is_none(),
        }
    }
}

/// Errors of SDP handling; each maps to a SIP response.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SdpError {
    /// The body is not a valid SDP (answered with 400).
    #[error("malformed SDP: {0}")]
    Malformed(String),
    /// No usable audio stream, or no codec in common (answered with 488, RFC 3261 §21.4.26).
    #[error("no acceptable audio codec")]
    NotAcceptable,
}

/// Our side of the session: the address and port we receive RTP on, and the `o=` line state.
#[derive(Debug, Clone)]
pub struct LocalSession {
    /// Address written in `o=` and `c=` (the advertised address behind NAT).
    pub ip: IpAddr,
    /// Our RTP port.
    pub rtp_port: u16,
    /// `o=` session id, fixed for the call.
    pub session_id: u64,
    /// `o=` version, incremented each time our description changes (RFC 3264 §8).
    pub version: u64,
    /// Our SRTP key, written in our answer when the caller's stream is `RTP/SAVP` and in our
    /// offer when we make one with it; `None` for RTP in clear.
    pub srtp: Option<SrtpKey>,
}

/// The caller's description of its audio stream, as parsed.
#[derive(Debug, Clone)]
pub struct RemoteAudio {
    session: Session,
    audio_index: usize,
}

/// Parses an offer (or an answer to our late offer) and finds its first usable audio stream.
pub fn parse(body: &[u8]) -> Result<RemoteAudio, SdpError> {
    let session = Session::parse(body).map_err(|e| SdpError::Malformed(e.to_string()))?;
    let audio_index = session
        .medias
        .iter()
        .position(|m| {
            m.media.eq_ignore_ascii_case("audio")
                && m.port != 0
                && (m.proto.eq_ignore_ascii_case("RTP/AVP")
                    || m.proto.eq_ignore_ascii_case("RTP/SAVP"))
        })
        .ok_or(SdpError::NotAcceptable)?;
    Ok(RemoteAudio {
        session,
        audio_index,
    })
}

/// One format of the offered audio stream.
struct Format {
    pt: PayloadType,
    name: String,
    clock_rate: u32,
}

impl RemoteAudio {
    fn media(&self) -> &Media {
        &self.session.medias[self.audio_index]
    }

    fn formats(&self) -> Vec<Format> {
        let media = self.media();
        let maps: Vec<sdp_types::RtpMap> = media
            .attributes_typed::<sdp_types::RtpMap>()
            .filter_map(Result::ok)
            .collect();
        media
            .fmt
            .split_ascii_whitespace()
            .filter_map(|f| f.parse::<u8>().ok())
            .filter_map(|pt| {
                if let Some(map) = maps.iter().find(|m| m.payload_type == pt) {
                    return Some(Format {
                        pt: PayloadType::new(pt)?,
                        name: map.encoding_name.clone(),
                        clock_rate: map.clock_rate,
                    });
                }
                // Static payload types need no rtpmap (RFC 3551 §6).
                let (name, clock_rate) = match pt {
                    0 => ("PCMU", 8_000),
                    8 => ("PCMA", 8_000),
                    _ => return None,
                };
                Some(Format {
                    pt: PayloadType::new(pt)?,
                    name: name.to_owned(),
                    clock_rate,
                })
            })
            .collect()
    }

    fn remote_addr(&self) -> Result<SocketAddr, SdpError> {
        let media = self.media();
        let conn = media
            .connections
            .first()
            .or(self.session.connection.as_ref())
            .ok_or_else(|| SdpError::Malformed("no c= line".into()))?;
        let ip = conn
            .try_address()
            .map_err(|e| SdpError::Malformed(e.to_string()))?
            .ip;
        Ok(SocketAddr::new(ip, media.port))
    }

    fn direction(&self) -> Direction {
        let from = |attrs: &[Attribute]| {
            attrs
                .iter()
                .find_map(|a| a.attribute.parse::<Direction>().ok())
        };
        from(&self.media().attributes)
            .or_else(|| from(&self.session.attributes))
            .unwrap_or_default()
    }

    /// The first of the caller's `a=crypto` lines we can honour, for an `RTP/SAVP` stream;
    /// `Ok(None)` for RTP in clear (whose `a=crypto` lines, if any, mean nothing).
    fn crypto(&self) -> Result<Option<CryptoAttribute>, SdpError> {
        let media = self.media();
        if !media.proto.eq_ignore_ascii_case("RTP/SAVP") {
            return Ok(None);
        }
        media
            .attributes
            .iter()
            .filter(|a| a.attribute.eq_ignore_ascii_case("crypto"))
            .find_map(|a| {
                a.value
                    .as_deref()
                    .and_then(|v| CryptoAttribute::parse(v).ok())
            })
            .map(Some)
            // SRTP offered with no key we can use: nothing to answer with (RFC 4568 §7.1.1).
            .ok_or(SdpError::NotAcceptable)
    }

    fn ptime(&self) -> Option<u32> {
        self.media()
            .get_first_attribute_value("ptime")
            .flatten()
            .and_then(|v| v.trim().parse::<u32>().ok())
    }

    /// Negotiates the caller's offer against our codecs (RFC 3264 §6).
    pub fn negotiate(&self) -> Result<Negotiated, SdpError> {
        let formats = self.formats();
        let codecs: Vec<(Codec, PayloadType)> = formats
            .iter()
            .filter_map(|f| Codec::from_rtpmap(&f.name, f.clock_rate).map(|c| (c, f.pt)))
            .collect();
        let &(codec, payload_type) = codecs.first().ok_or(SdpError::NotAcceptable)?;
        let events: Vec<TelephoneEventFormat> = formats
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case("telephone-event"))
            .filter(|f| matches!(f.clock_rate, 8_000 | 48_000))
            .map(|f| TelephoneEventFormat {
                payload_type: f.pt,
                clock_rate: f.clock_rate,
            })
            .collect();
        // RFC 4733 §2.1: events use the clock of the audio they accompany when possible.
        let telephone_event = events
            .iter()
            .find(|e| e.clock_rate == codec.clock_rate().0)
            .or(events.first())
            .copied();
        let ptime = self
            .ptime()
            .map_or(Ptime::DEFAULT, |ms| Ptime::negotiate(ms, codec));
        Ok(Negotiated {
            codec,
            payload_type,
            codecs,
            telephone_event,
            ptime,
            remote: self.remote_addr()?,
            direction: self.direction().reverse(),
            srtp: self.crypto()?,
        })
    }

    /// Writes our answer: the same m= lines as the offer, the others refused with port 0.
    pub fn answer(&self, local: &LocalSession, neg: &Negotiated) -> Vec<u8> {
        let mut session = base_session(local);
        for (i, offered) in self.session.medias.iter().enumerate() {
            if i == self.audio_index {
                let crypto = neg
                    .srtp
                    .and_then(|theirs| local.srtp.map(|ours| (theirs.tag, ours)));
                session.medias.push(audio_media(
                    local.rtp_port,
                    &neg.codecs,
                    neg.telephone_event,
                    Some(neg.ptime.as_millis()),
                    neg.direction,
                    crypto,
                ));
            } else {
                // RFC 3264 §6: a refused stream keeps its place with port 0.
                session.medias.push(Media::new(
                    offered.media.parse().unwrap_or(sdp_types::MediaType::Audio),
                    0,
                    offered
                        .proto
                        .parse()
                        .unwrap_or(sdp_types::TransportProto::RtpAvp),
                    offered.fmt.clone(),
                ));
            }
        }
        write(&session)
    }
}

/// Writes our offer, for an INVITE that came without one (late offer, RFC 3261 §13.2.1).
pub fn offer(local: &LocalSession) -> Vec<u8> {
    let mut session = base_session(local);
    let codecs: Vec<(Codec, PayloadType)> = OUR_CODECS
        .iter()
        .map(|&c| (c, our_payload_type(c)))
        .collect();
    session.medias.push(audio_media(
        local.rtp_port,
        &codecs,
        Some(TelephoneEventFormat {
            payload_type: PayloadType::new(101).expect("valid payload type"),
            clock_rate: 8_000,
        }),
        Some(20),
        Direction::SendRecv,
        local.srtp.map(|key| (1, key)),
    ));
    write(&session)
}

fn base_session(local: &LocalSession) -> Session {
    let mut origin = Origin::with_ip_addr(local.session_id, local.version, local.ip);
    origin.set_username("ivr");
    let mut session = Session::new(origin, "ivr");
    session.connection = Some(Connection::from_ip_addr(local.ip));
    session.times.push(sdp_types::Time::new(0, 0));
    session
}

fn audio_media(
    port: u16,
    codecs: &[(Codec, PayloadType)],
    event: Option<TelephoneEventFormat>,
    ptime: Option<u32>,
    direction: Direction,
    crypto: Option<(u32, SrtpKey)>,
) -> Media {
    let mut fmt: Vec<String> = codecs.iter().map(|(_, pt)| pt.get().to_string()).collect();
    if let Some(ev) = event {
        fmt.push(ev.payload_type.get().to_string());
    }
    let mut media = Media::new(
        sdp_types::MediaType::Audio,
        port,
        if crypto.is_some() {
            sdp_types::TransportProto::RtpSavp
        } else {
            sdp_types::TransportProto::RtpAvp
        },
        fmt.join(" "),
    );
    for (codec, pt) in codecs {
        let value = match codec {
            Codec::Opus => format!("{} opus/48000/2", pt.get()),
            c => format!("{} {}/{}", pt.get(), c.encoding_name(), c.clock_rate().0),
        };
        media.add_attribute_with_value("rtpmap", value);
    }
    if let Some(ev) = event {
        let pt = ev.payload_type.get();
        media.add_attribute_with_value("rtpmap", format!("{pt} telephone-event/{}", ev.clock_rate));
        media.add_attribute_with_value("fmtp", format!("{pt} 0-16"));
    }
    if let Some(p) = ptime {
        media.add_attribute_with_value("ptime", p);
    }
    media.add_attribute(Attribute::new(direction.as_str()));
    if let Some((tag, key)) = crypto {
        media.add_attribute_with_value("crypto", CryptoAttribute::format(tag, &key));
    }
    media
}

fn write(session: &Session) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    // Writing into a Vec cannot fail.
    session.write(&mut out).expect("writing SDP into memory");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer_with(m: &str, attrs: &str) -> String {
        format!(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n{m}\r\n{attrs}"
        )
    }

    #[test]
    fn answers_in_callers_order_with_its_event_type_and_ptime() {
        let sdp = offer_with(
            "m=audio 4000 RTP/AVP 8 0 96 9",
            "a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15\r\na=ptime:30\r\n",
        );
        let remote = parse(sdp.as_bytes()).unwrap();
        let neg = remote.negotiate().unwrap();
        assert_eq!(neg.codec, Codec::Pcma);
        assert_eq!(neg.payload_type, PayloadType::new(8).unwrap());
        assert_eq!(
            neg.codecs,
            vec![
                (Codec::Pcma, PayloadType::new(8).unwrap()),
                (Codec::Pcmu, PayloadType::new(0).unwrap())
            ]
        );
        assert_eq!(
            neg.telephone_event,
            Some(TelephoneEventFormat {
                payload_type: PayloadType::new(96).unwrap(),
                clock_rate: 8000
            })
        );
        assert_eq!(neg.ptime, Ptime::from_millis(30).unwrap());
        assert_eq!(neg.remote, "192.0.2.1:4000".parse().unwrap());
        assert_eq!(neg.direction, Direction::SendRecv);
        let local = LocalSession {
            ip: [198, 51, 100, 7].into(),
            rtp_port: 12000,
            session_id: 42,
            version: 1,
            srtp: None,
        };
        let answer = String::from_utf8(remote.answer(&local, &neg)).unwrap();
        assert!(
            answer.contains("m=audio 12000 RTP/AVP 8 0 96\r\n"),
            "{answer}"
        );
        assert!(answer.contains("c=IN IP4 198.51.100.7\r\n"), "{answer}");
        assert!(
            answer.contains("a=rtpmap:96 telephone-event/8000\r\n"),
            "{answer}"
        );
        assert!(answer.contains("a=ptime:30\r\n"), "{answer}");
        assert!(answer.contains("a=sendrecv\r\n"), "{answer}");
        // The answer parses back and negotiates the same codec.
        let back = parse(answer.as_bytes()).unwrap().negotiate().unwrap();
        assert_eq!(back.codec, Codec::Pcma);
    }

    #[test]
    fn opus_prefers_telephone_event_at_48k() {
        let sdp = offer_with(
            "m=audio 4000 RTP/AVP 111 101 102",
            "a=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\na=rtpmap:102 telephone-event/48000\r\n",
        );
        let neg = parse(sdp.as_bytes()).unwrap().negotiate().unwrap();
        assert_eq!(neg.codec, Codec::Opus);
        assert_eq!(neg.payload_type, PayloadType::new(111).unwrap());
        assert_eq!(
            neg.telephone_event,
            Some(TelephoneEventFormat {
                payload_type: PayloadType::new(102).unwrap(),
                clock_rate: 48000
            })
        );
        assert_eq!(neg.ptime, Ptime::DEFAULT);
    }

    #[test]
    fn no_common_codec_is_not_acceptable() {
        let sdp = offer_with("m=audio 4000 RTP/AVP 9 18", "a=rtpmap:18 G729/8000\r\n");
        assert_eq!(
            parse(sdp.as_bytes()).unwrap().negotiate(),
            Err(SdpError::NotAcceptable)
        );
        let video = offer_with("m=video 4000 RTP/AVP 96", "a=rtpmap:96 H264/90000\r\n");
        assert_eq!(
            parse(video.as_bytes()).unwrap_err(),
            SdpError::NotAcceptable
        );
        assert!(matches!(parse(b"garbage"), Err(SdpError::Malformed(_))));
    }

    #[test]
    fn hold_and_resume_directions() {
        for (attr, ours, sending) in [
            ("a=sendonly\r\n", Direction::RecvOnly, false),
            ("a=inactive\r\n", Direction::Inactive, false),
            ("a=recvonly\r\n", Direction::SendOnly, true),
            ("", Direction::SendRecv, true),
        ] {
            let sdp = offer_with("m=audio 4000 RTP/AVP 0", attr);
            let neg = parse(sdp.as_bytes()).unwrap().negotiate().unwrap();
            assert_eq!(neg.direction, ours, "{attr}");
            assert_eq!(neg.sending(), sending, "{attr}");
        }
        // RFC 2543 hold: c=0.0.0.0.
        let sdp = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
        assert!(
            !parse(sdp.as_bytes())
                .unwrap()
                .negotiate()
                .unwrap()
                .sending()
        );
    }

    #[test]
    fn refused_streams_keep_their_place() {
        let sdp = offer_with("m=video 5000 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 0", "");
        let remote = parse(sdp.as_bytes()).unwrap();
        let neg = remote.negotiate().unwrap();
        let local = LocalSession {
            ip: [127, 0, 0, 1].into(),
            rtp_port: 10002,
            session_id: 1,
            version: 3,
            srtp: None,
        };
        let answer = String::from_utf8(remote.answer(&local, &neg)).unwrap();
        let v = answer.find("m=video 0 RTP/AVP 96").expect(&answer);
        let a = answer.find("m=audio 10002 RTP/AVP 0").expect(&answer);
        assert!(v < a);
        assert!(answer.contains("o=ivr 1 3 IN IP4 127.0.0.1"), "{answer}");
    }

    #[test]
    fn our_offer_negotiates_back() {
        let local = LocalSession {
            ip: [127, 0, 0, 1].into(),
            rtp_port: 10000,
            session_id: 1,
            version: 1,
            srtp: None,
        };
        let sdp = offer(&local);
        let neg = parse(&sdp).unwrap().negotiate().unwrap();
        assert_eq!(neg.codec, Codec::Pcmu);
        assert_eq!(neg.codecs.len(), 3);
        assert_eq!(
            neg.telephone_event.unwrap().payload_type,
            PayloadType::new(101).unwrap()
        );
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn rtpmap(pt: u8, kind: u8) -> String {
        match kind % 5 {
            0 => format!("a=rtpmap:{pt} PCMU/8000\r\n"),
            1 => format!("a=rtpmap:{pt} PCMA/8000\r\n"),
            2 => format!("a=rtpmap:{pt} opus/48000/2\r\n"),
            3 => format!(
                "a=rtpmap:{pt} telephone-event/{}\r\n",
                if pt.is_multiple_of(2) { 8000 } else { 48000 }
            ),
            _ => format!("a=rtpmap:{pt} G729/8000\r\n"),
        }
    }

    proptest! {
        /// Whatever the caller offers, parsing never panics, and an offer that negotiates
        /// gives an answer that parses back to the same choice (the fuzz target's property).
        #[test]
        fn answers_round_trip(
            formats in proptest::collection::vec((96u8..128, 0u8..5), 1..6),
            ptime in 0u32..100,
            dir in 0usize..5,
        ) {
            let pts: Vec<String> = formats.iter().map(|(pt, _)| pt.to_string()).collect();
            let maps: String = formats.iter().map(|&(pt, k)| rtpmap(pt, k)).collect();
            let dirs = ["", "a=sendonly\r\n", "a=recvonly\r\n", "a=inactive\r\n", "a=sendrecv\r\n"];
            let sdp = format!(
                "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP {}\r\n{maps}a=ptime:{ptime}\r\n{}",
                pts.join(" "),
                dirs[dir],
            );
            let remote = parse(sdp.as_bytes()).unwrap();
            if let Ok(neg) = remote.negotiate() {
                let local = LocalSession { ip: [192, 0, 2, 9].into(), rtp_port: 10_000, session_id: 5, version: 1, srtp: None };
                let answer = remote.answer(&local, &neg);
                let back = parse(&answer).unwrap().negotiate().unwrap();
                prop_assert_eq!(back.codec, neg.codec);
                prop_assert_eq!(back.payload_type, neg.payload_type);
                prop_assert_eq!(back.telephone_event, neg.telephone_event);
                prop_assert_eq!(back.ptime, neg.ptime);
                prop_assert_eq!(back.direction, neg.direction.reverse());
            }
        }

        /// Arbitrary bytes never panic the parser or the negotiation.
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(remote) = parse(&data) {
                let _ = remote.negotiate();
            }
        }
    }

    #[test]
    fn multicast_broadcast_and_unspecified_addresses_are_refused() {
        let neg = |c: &str| {
            let sdp = format!(
                "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc={c}\r\nt=0 0\r\n\
                 m=audio 4000 RTP/AVP 0\r\n"
            );
            parse(sdp.as_bytes()).unwrap().negotiate().unwrap()
        };
        for (c, initial, refused) in [
            ("IN IP4 239.1.2.3", true, Some(UnusableAddress::Multicast)),
            ("IN IP4 224.0.0.1", false, Some(UnusableAddress::Multicast)),
            ("IN IP6 ff02::1", true, Some(UnusableAddress::Multicast)),
            (
                "IN IP4 255.255.255.255",
                true,
                Some(UnusableAddress::Broadcast),
            ),
            ("IN IP4 0.0.0.0", true, Some(UnusableAddress::Unspecified)),
            ("IN IP6 ::", true, Some(UnusableAddress::Unspecified)),
            // Hold the RFC 2543 way, in a re-INVITE.
            ("IN IP4 0.0.0.0", false, None),
            ("IN IP4 192.0.2.1", true, None),
            ("IN IP6 2001:db8::1", true, None),
        ] {
            assert_eq!(neg(c).unusable_address(initial), refused, "{c} {initial}");
        }
    }
}
