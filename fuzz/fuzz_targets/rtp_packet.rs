//! Fuzzes the incoming RTP path: any datagram a caller (or anyone) sends to a call's port
//! goes through the receiver's header parsing, payload-type dispatch, RFC 4733 and in-band
//! detection (in G.711, and in Opus decoded when no telephone-event was negotiated), and
//! must be classified or refused, never panic.
#![no_main]

use std::time::{Duration, Instant};

use ivr::core::inbound::{InboundConfig, MediaReceiver};
use ivr::media::Codec;
use ivr::media::PayloadType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let codec = match selector % 3 {
        0 => Codec::Pcmu,
        1 => Codec::Pcma,
        _ => Codec::Opus,
    };
    // Opus has no static payload type: the dynamic one callers usually offer.
    let audio = codec
        .static_payload_type()
        .or(PayloadType::new(111))
        .expect("payload type");
    let mut rx = MediaReceiver::new(InboundConfig {
        codec,
        audio_payload_type: audio,
        // Without telephone-events (bit 6), tones are read from the audio: Opus is decoded.
        telephone_event: (selector & 0x40 == 0)
            .then(|| PayloadType::new(101).map(|pt| (pt, codec.clock_rate())))
            .flatten(),
        inband_dtmf: selector & 0x80 != 0,
    });
    let start = Instant::now();
    // The input as datagrams: [length, bytes…], 20 ms apart.
    let mut rest = rest;
    let mut i = 0u64;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (datagram, tail) = tail.split_at(len);
        rest = tail;
        let now = start + Duration::from_millis(20 * i);
        let _ = rx.handle_rtp(now, datagram);
        rx.handle_timeout(now);
        while rx.poll_digit().is_some() {}
        i += 1;
    }
});
