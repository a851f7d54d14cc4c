//! Fuzzes the SIP INFO DTMF body parsers: any body gives a digit or an error, never a panic.
#![no_main]

use ivr::core::dtmf::sip_info::{parse_dtmf, parse_dtmf_relay, parse_info};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_dtmf_relay(data);
    let _ = parse_dtmf(data);
    let _ = parse_info("application/dtmf-relay", data);
    if let Some((ct, body)) = data.split_first() {
        let ct = if ct & 1 == 0 {
            "Application/DTMF"
        } else {
            "text/plain"
        };
        let _ = parse_info(ct, body);
    }
});
