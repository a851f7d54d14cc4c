//! Fuzzes SIP messages as the server's transport sees them: rsipstack's parser reads every
//! datagram and TCP frame before our code does, so any bytes must parse or fail, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsipstack::sip::SipMessage;
use rsipstack::sip::prelude::HeadersExt;

fuzz_target!(|data: &[u8]| {
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
