//! Rough per-packet costs of the media core, for docs/performance.md (not a pass/fail test).
//! Run in release: `cargo test --release --test media_microbench -- --ignored --nocapture`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ivr::core::dtmf::inband::InbandDetector;
use ivr::core::outbound::{MediaSender, OutboundConfig};
use ivr::media::PayloadType;
use ivr::media::g711::Law;
use ivr::media::{Codec, Prompt, Ptime};

#[allow(clippy::disallowed_methods)] // a benchmark reads the clock to measure itself
fn now() -> Instant {
    Instant::now()
}

#[test]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
fn per_packet_costs() {
    let prompt = Arc::new(Prompt::beep("beep", 800.0, Duration::from_secs(10)).unwrap());
    for codec in [Codec::Pcmu, Codec::Opus] {
        let pt = codec
            .static_payload_type()
            .unwrap_or(PayloadType::new(111).unwrap());
        let t0 = now();
        let mut tx =
            MediaSender::new(t0, OutboundConfig::random(codec, Ptime::DEFAULT, pt)).unwrap();
        let packets = 100_000u64;
        for _ in 0..(packets / 500 + 1) {
            tx.player().enqueue(prompt.clone()).unwrap();
        }
        let start = now();
        let mut bytes = 0usize;
        for slot in 0..packets {
            tx.handle_timeout(t0 + Duration::from_millis(20 * slot));
            while let Some(p) = tx.poll_transmit() {
                bytes += p.unwrap().len();
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / packets as f64;
        println!("send {codec:?}: {ns:.0} ns/packet ({bytes} bytes)");
    }
    let mut det = InbandDetector::new();
    let payload = Law::Alaw.encode(&[1000i16; 160]);
    let start = now();
    let packets = 100_000;
    for _ in 0..packets {
        det.handle_g711(Law::Alaw, &payload);
    }
    let ns = start.elapsed().as_nanos() as f64 / packets as f64;
    println!("in-band DTMF detection: {ns:.0} ns per 20 ms packet");
}
