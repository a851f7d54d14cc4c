//! Fuzzes the RFC 4733 telephone-event parser and the detector fed with arbitrary packets:
//! no input may panic, a parsed event must write back to the same 4 bytes (less the reserved
//! bit), and the detector only yields a digit for a packet strictly newer (RFC 3550 serial
//! arithmetic) than every packet it accepted before on that stream, so never twice for one
//! event.
#![no_main]

use std::collections::HashMap;

use ivr::core::dtmf::rfc4733::{Rfc4733Detector, TelephoneEvent};
use ivr::media::{ClockRate, RtpTimestamp, Ssrc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The whole input as one payload.
    if let Ok(ev) = TelephoneEvent::parse(data) {
        let expected = [data[0], data[1] & 0xBF, data[2], data[3]]; // the R bit is not kept
        assert_eq!(ev.to_bytes(), expected);
    } else {
        assert!(data.len() < 4);
    }

    // The input as a packet stream: [ssrc selector, ts (4 bytes), payload length, payload…].
    let clock = if data.first().is_some_and(|b| b & 1 == 1) {
        48_000
    } else {
        8_000
    };
    let mut det = Rfc4733Detector::new(ClockRate(clock));
    // Newest timestamp accepted, per stream.
    let mut newest: HashMap<u32, u32> = HashMap::new();
    let mut rest = data.get(1..).unwrap_or_default();
    while rest.len() >= 6 {
        let ssrc = Ssrc(u32::from(rest[0] % 4)); // within the detector's stream table
        let ts = RtpTimestamp(u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]));
        let len = usize::from(rest[5] % 8).min(rest.len() - 6);
        let payload = &rest[6..6 + len];
        rest = &rest[6 + len..];
        let newer = newest
            .get(&ssrc.0)
            .is_none_or(|&prev| (ts.0.wrapping_sub(prev) as i32) > 0);
        match det.handle_packet(ssrc, ts, payload) {
            Ok(digit) => {
                assert!(digit.is_none() || newer, "digit for an old event");
                if newer {
                    newest.insert(ssrc.0, ts.0);
                }
            }
            Err(_) => assert!(payload.len() < 4),
        }
    }
});
