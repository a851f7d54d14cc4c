//! Fuzzes SDP offer/answer: any body a caller sends must parse or fail cleanly, never panic;
//! an offer that negotiates must give an answer that parses back and negotiates the same
//! codec, payload type, telephone-event and SRTP suite (our answer is always readable by us).
#![no_main]

use ivr::call::sdp::{self, LocalSession};
use ivr::media::srtp::SrtpKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(remote) = sdp::parse(data) else {
        return;
    };
    let Ok(neg) = remote.negotiate() else {
        return;
    };
    let local = LocalSession {
        ip: [192, 0, 2, 1].into(),
        rtp_port: 10_000,
        session_id: 1,
        version: 1,
        srtp: neg.srtp.map(|c| SrtpKey::generate(c.key.suite)),
    };
    let answer = remote.answer(&local, &neg);
    let back = sdp::parse(&answer)
        .expect("our answer parses")
        .negotiate()
        .expect("our answer negotiates");
    assert_eq!(back.codec, neg.codec);
    assert_eq!(back.payload_type, neg.payload_type);
    assert_eq!(back.telephone_event, neg.telephone_event);
    assert_eq!(back.ptime, neg.ptime);
    // An SRTP offer is answered with SRTP, under the offer's tag and in its suite.
    assert_eq!(
        back.srtp.map(|c| (c.tag, c.key.suite)),
        neg.srtp.map(|c| (c.tag, c.key.suite))
    );
});
