//! Fuzzes SIP messages as the server's transport sees them: our edge's screen reads every
//! datagram and TCP frame first, then rsipstack's parser, so any bytes must pass, be dropped
//! or be answered, never panic, and every answer must be a SIP response.
#![no_main]

use ivr::sip::screen::{MAX_MESSAGE, Screened, screen};
use libfuzzer_sys::fuzz_target;
use rsipstack::sip::SipMessage;
use rsipstack::sip::prelude::HeadersExt;

fuzz_target!(|data: &[u8]| {
    if let Screened::Answer { response, .. } = screen(data, MAX_MESSAGE) {
        assert!(
            matches!(
                SipMessage::try_from(response.as_slice()),
                Ok(SipMessage::Response(_))
            ),
            "the edge's answer is not a SIP response"
        );
    }
    if let Ok(msg) = SipMessage::try_from(data) {
        // What the server reads of every request: its headers, typed.
        if let SipMessage::Request(req) = &msg {
            let _ = req.call_id_header();
            let _ = req.cseq_header();
            let _ = req.via_header();
        }
        let _ = msg.to_string();
    }
});
