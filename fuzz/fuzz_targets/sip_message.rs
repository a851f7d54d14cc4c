//! Fuzzes SIP messages as the server's transport sees them: rsipstack's parser reads every
//! datagram and TCP frame before our code does, so any bytes must parse or fail, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsipstack::sip::SipMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = SipMessage::try_from(data) {
        // What the server reads of every request: its headers, typed.
        if let SipMessage::Request(req) = &msg {
            let _ = rsipstack::sip::prelude::HeadersExt::call_id_header(req);
            let _ = rsipstack::sip::prelude::HeadersExt::cseq_header(req);
            let _ = rsipstack::sip::prelude::HeadersExt::via_header(req);
        }
        let _ = msg.to_string();
    }
});
