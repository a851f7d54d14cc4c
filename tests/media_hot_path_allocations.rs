//! The per-packet paths of the media core allocate nothing (issue 7: thousands of calls per
//! core need no allocation per packet). A counting global allocator counts the allocations
//! made by this thread while packets are sent and received in steady state.
//!
//! `unsafe` is needed here only to implement `GlobalAlloc` around the system allocator; the
//! library itself stays `#![forbid(unsafe_code)]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ivr::core::Digit;
use ivr::core::dtmf::rfc4733::TelephoneEvent;
use ivr::core::inbound::{InboundConfig, MediaReceiver};
use ivr::core::outbound::{MediaSender, OutboundConfig};
use ivr::media::g711::Law;
use ivr::media::rtp_packetizer::RtpPacketizer;
use ivr::media::{ClockRate, PayloadType, RtpTimestamp, SeqNo, Ssrc};
use ivr::media::{Codec, Prompt, Ptime};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread while `f` runs.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

#[allow(clippy::disallowed_methods)] // a base instant; the test only adds offsets to it
fn epoch() -> Instant {
    Instant::now()
}

#[test]
fn sending_allocates_nothing_per_packet() {
    for codec in [Codec::Pcmu, Codec::Pcma, Codec::Opus] {
        let prompt = Arc::new(Prompt::beep("beep", 800.0, Duration::from_millis(700)).unwrap());
        let t0 = epoch();
        let pt = codec
            .static_payload_type()
            .unwrap_or(PayloadType::new(111).unwrap());
        let mut tx =
            MediaSender::new(t0, OutboundConfig::random(codec, Ptime::DEFAULT, pt)).unwrap();
        for _ in 0..3 {
            tx.player().enqueue(prompt.clone()).unwrap();
        }
        let mut bytes = 0usize;
        let n = allocations_in(|| {
            // 4 s: three prompts back to back, then silence, with a barge-in in the middle of
            // the second and events read as they come.
            for slot in 0..200u64 {
                let now = t0 + Duration::from_millis(20 * slot + 3);
                tx.handle_timeout(now);
                while let Some(p) = tx.poll_transmit() {
                    bytes += p.unwrap().len();
                }
                if slot == 50 {
                    tx.player().stop();
                }
                while tx.player().poll_event().is_some() {}
            }
        });
        assert_eq!(n, 0, "{codec:?}: {n} allocations for 200 packets");
        assert_eq!(tx.stats().packets_sent, 200);
        assert!(bytes > 200 * 12);
    }
}

#[test]
fn receiving_and_detecting_allocates_nothing_per_packet() {
    let t0 = epoch();
    let mut rx = MediaReceiver::new(InboundConfig {
        codec: Codec::Pcma,
        audio_payload_type: PayloadType::PCMA,
        telephone_event: Some((PayloadType::new(101).unwrap(), ClockRate(8000))),
        inband_dtmf: true,
    });
    rx.start_recording(Duration::from_secs(10));
    // Prepare the datagrams beforehand: a tone press in the audio, then events.
    let (row, col) = Digit::from_char('6').unwrap().frequencies();
    let mut audio = RtpPacketizer::new(Ssrc(5), PayloadType::PCMA);
    let mut events = RtpPacketizer::new(Ssrc(5), PayloadType::new(101).unwrap());
    let mut datagrams = Vec::new();
    for i in 0..150u32 {
        let pcm: Vec<i16> = (0..160)
            .map(|n| {
                let t = (i * 160 + n) as f32 / 8000.0;
                let on = (10..16).contains(&i);
                let tone = (2.0 * std::f32::consts::PI * row * t).sin()
                    + (2.0 * std::f32::consts::PI * col * t).sin();
                if on { (6000.0 * tone) as i16 } else { 0 }
            })
            .collect();
        let payload = Law::Alaw.encode(&pcm);
        datagrams.push(
            audio
                .build(SeqNo(i as u16), RtpTimestamp(160 * i), false, &payload)
                .unwrap()
                .to_vec(),
        );
        if (60..66).contains(&i) {
            let ev = TelephoneEvent {
                event: 9,
                end: i >= 63,
                volume: 10,
                duration: (i as u16 - 59) * 160,
            };
            datagrams.push(
                events
                    .build(
                        SeqNo(i as u16),
                        RtpTimestamp(60 * 160),
                        i == 60,
                        &ev.to_bytes(),
                    )
                    .unwrap()
                    .to_vec(),
            );
        }
    }
    let mut digits = Vec::with_capacity(8);
    let n = allocations_in(|| {
        for (i, d) in datagrams.iter().enumerate() {
            let now = t0 + Duration::from_millis(20 * i as u64);
            rx.handle_rtp(now, d).unwrap();
            rx.handle_timeout(now);
            while let Some((d, _)) = rx.poll_digit() {
                // Pushing into a Vec with spare capacity does not allocate.
                if digits.len() < digits.capacity() {
                    digits.push(d.to_char());
                }
            }
        }
    });
    assert_eq!(n, 0, "{n} allocations for {} datagrams", datagrams.len());
    assert_eq!(digits, ['6', '9'], "the tone press, then the event press");
    let rec = rx.stop_recording().unwrap().unwrap();
    assert_eq!(rec.samples.len(), 150 * 160);
}

#[test]
fn the_counter_sees_allocations() {
    let n = allocations_in(|| {
        let v: Vec<u8> = std::hint::black_box(vec![1; 64]);
        std::hint::black_box(&v);
    });
    assert!(
        n >= 1,
        "the counting allocator must count, or the tests above prove nothing"
    );
}
