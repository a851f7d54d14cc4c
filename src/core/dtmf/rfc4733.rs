//! RFC 4733 telephone-events: the 4-byte payload ([`TelephoneEvent`]) and a detector that
//! turns a stream of event packets into key presses, each exactly once ([`Rfc4733Detector`]).
//!
//! One key press is one event, identified by (SSRC, RTP timestamp): every packet of an event
//! (start, duration updates, the end packet sent three times, §2.5.1.4) carries the timestamp
//! of the event's start (§2.5.1.1). So:
//! - the digit is emitted at the **first packet seen** of an event, whichever it is (a lost
//!   start packet still yields the digit from an update or an end packet). Emitting at the
//!   start rather than at the end lets a prompt stop as soon as the caller presses (barge-in)
//!   and does not depend on the end packets arriving; the price is that a press too short to
//!   count for a tone detector still counts here, which is what the sender asked for;
//! - later packets with the same timestamp only update the event (duration, end bit);
//! - a packet whose timestamp is older than the latest event of its stream is stale
//!   (reordering, late retransmission of an end packet) and ignored: emitting it would put
//!   digits out of order;
//! - a long press whose duration overflows 16 bits is split by the sender into segments
//!   (§2.5.1.3): a new timestamp = old timestamp + the old segment's duration (0xFFFF), same
//!   event, no end bit before. Such a continuation counts as the same press;
//! - the same key pressed twice in a row is two events with two timestamps: two digits.
//!
//! Per stream state is a few bytes in a fixed array: nothing allocates per packet.

use super::super::digit::Digit;
use super::super::error::CoreError;
use crate::media::rtp_types::{ClockRate, RtpTimestamp, Ssrc};

/// The payload of one telephone-event packet (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (§3.2: 0–9, 10 = `*`, 11 = `#`, 12–15 = A–D, 16 = flash, …).
    pub event: u8,
    /// E bit: this packet reports the end of the event.
    pub end: bool,
    /// Power level in −dBm0 (0–63).
    pub volume: u8,
    /// Duration so far, in RTP clock ticks since the event's timestamp.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Reads the first 4 bytes of a payload. Extra bytes (a second event of §2.5.1.5 sent in
    /// the same packet) are ignored: the detector sees that event in its own packets too.
    #[inline]
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, CoreError> {
        let [event, flags, d0, d1, ..] = *payload else {
            return Err(CoreError::ShortTelephoneEvent(payload.len()));
        };
        Ok(TelephoneEvent {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    /// The 4 payload bytes (the reserved R bit is 0), for test callers and tools.
    pub fn to_bytes(self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3F),
            d0,
            d1,
        ]
    }

    /// The digit, if the event is a DTMF key.
    pub fn digit(self) -> Option<Digit> {
        Digit::from_event_code(self.event)
    }
}

#[derive(Debug, Clone, Copy)]
struct LastEvent {
    timestamp: RtpTimestamp,
    event: u8,
    ended: bool,
}

#[derive(Debug, Clone, Copy)]
struct StreamState {
    ssrc: Ssrc,
    last: LastEvent,
    /// Recency, to replace the least recently used stream when the table is full.
    used: u64,
}

/// Streams tracked at once per call (a call has one, two around a re-INVITE or a transfer).
const STREAMS: usize = 4;

/// Turns telephone-event packets of one call into digits, each key press once.
#[derive(Debug, Clone)]
pub struct Rfc4733Detector {
    clock_rate: ClockRate,
    streams: [Option<StreamState>; STREAMS],
    tick: u64,
}

impl Rfc4733Detector {
    /// A detector for telephone-events at `clock_rate` (8000, or 48000 next to Opus).
    pub fn new(clock_rate: ClockRate) -> Rfc4733Detector {
        Rfc4733Detector {
            clock_rate,
            streams: [None; STREAMS],
            tick: 0,
        }
    }

    /// Whether `timestamp` continues the unfinished long event `last` (§2.5.1.3): a segment
    /// starts where the previous one reached the maximum duration 0xFFFF. A tolerance of a
    /// quarter of a second covers senders that cut the segment a packet early or late.
    fn continues(&self, last: &LastEvent, event: u8, timestamp: RtpTimestamp) -> bool {
        if last.ended || last.event != event {
            return false;
        }
        let gap = timestamp.distance_from(last.timestamp) as i64;
        let tolerance = (self.clock_rate.0 / 4) as i64;
        (gap - 0xFFFF).abs() <= tolerance
    }

    /// Handles one telephone-event packet of stream `ssrc` with RTP timestamp `timestamp`;
    /// returns the digit if this packet is the first seen of a new key press.
    #[inline]
    pub fn handle_packet(
        &mut self,
        ssrc: Ssrc,
        timestamp: RtpTimestamp,
        payload: &[u8],
    ) -> Result<Option<Digit>, CoreError> {
        let ev = TelephoneEvent::parse(payload)?;
        self.tick += 1;
        let tick = self.tick;
        let fresh = LastEvent {
            timestamp,
            event: ev.event,
            ended: ev.end,
        };
        let index = match self
            .streams
            .iter()
            .position(|s| s.is_some_and(|s| s.ssrc == ssrc))
        {
            Some(i) => i,
            None => {
                // New stream: take a free slot or the least recently used one.
                let i = (0..STREAMS)
                    .min_by_key(|&i| self.streams[i].map_or(0, |s| s.used))
                    .unwrap_or(0);
                self.streams[i] = Some(StreamState {
                    ssrc,
                    last: fresh,
                    used: tick,
                });
                return Ok(ev.digit());
            }
        };
        let Some(mut state) = self.streams[index] else {
            return Ok(None);
        };
        state.used = tick;
        let gap = timestamp.distance_from(state.last.timestamp);
        let out = if gap == 0 {
            // Another packet of the current event (update, end, retransmitted end).
            state.last.ended |= ev.end;
            None
        } else if gap < 0 {
            None // stale: older than the latest event of this stream
        } else if self.continues(&state.last, ev.event, timestamp) {
            state.last = fresh;
            None
        } else {
            state.last = fresh;
            ev.digit()
        };
        self.streams[index] = Some(state);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> Option<Digit> {
        Digit::from_char(c)
    }

    fn pkt(c: char, end: bool, duration: u16) -> [u8; 4] {
        let event = d(c).map_or(16, Digit::event_code);
        TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
        .to_bytes()
    }

    /// Packets of one press as a sender emits them: start, updates every 20 ms, 3 × end.
    fn press(c: char, ticks_per_20ms: u16, updates: u16) -> Vec<[u8; 4]> {
        let mut v = vec![pkt(c, false, ticks_per_20ms)];
        for i in 2..=updates {
            v.push(pkt(c, false, ticks_per_20ms * i));
        }
        for _ in 0..3 {
            v.push(pkt(c, true, ticks_per_20ms * updates));
        }
        v
    }

    fn feed(det: &mut Rfc4733Detector, ssrc: u32, ts: u32, packets: &[[u8; 4]]) -> Vec<char> {
        packets
            .iter()
            .filter_map(|p| det.handle_packet(Ssrc(ssrc), RtpTimestamp(ts), p).unwrap())
            .map(Digit::to_char)
            .collect()
    }

    #[test]
    fn parses_the_payload() {
        let e = TelephoneEvent::parse(&[11, 0x8A, 0x03, 0x20]).unwrap();
        assert_eq!(
            e,
            TelephoneEvent {
                event: 11,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(e.digit().unwrap().to_char(), '#');
        assert_eq!(e.to_bytes(), [11, 0x8A, 0x03, 0x20]);
        // The reserved bit is ignored; extra bytes too.
        let e = TelephoneEvent::parse(&[5, 0x40 | 7, 0, 160, 9, 9]).unwrap();
        assert_eq!((e.event, e.end, e.volume, e.duration), (5, false, 7, 160));
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(CoreError::ShortTelephoneEvent(3))
        );
        assert!(
            TelephoneEvent {
                event: 16,
                end: false,
                volume: 0,
                duration: 0
            }
            .digit()
            .is_none()
        );
    }

    #[test]
    fn one_digit_per_press_with_the_end_sent_three_times() {
        let mut det = Rfc4733Detector::new(ClockRate(8000));
        assert_eq!(feed(&mut det, 1, 1000, &press('5', 160, 5)), ['5']);
    }

    #[test]
    fn a_lost_start_packet_still_yields_the_digit() {
        let mut det = Rfc4733Detector::new(ClockRate(8000));
        let p = press('7', 160, 4);
        assert_eq!(feed(&mut det, 1, 1000, &p[1..]), ['7']);
        // Only the end packets arrived for the next press.
        let p = press('8', 160, 4);
        assert_eq!(feed(&mut det, 1, 3000, &p[4..]), ['8']);
    }

    #[test]
    fn the_same_key_twice_counts_twice() {
        let mut det = Rfc4733Detector::new(ClockRate(8000));
        assert_eq!(feed(&mut det, 1, 1000, &press('1', 160, 5)), ['1']);
        assert_eq!(feed(&mut det, 1, 2600, &press('1', 160, 5)), ['1']);
        assert_eq!(feed(&mut det, 1, 4200, &press('#', 160, 5)), ['#']);
    }

    #[test]
    fn reordered_packets_count_once_and_stale_ones_are_ignored() {
        let mut det = Rfc4733Detector::new(ClockRate(8000));
        let mut p = press('3', 160, 5);
        p.reverse(); // end packets first, start last
        assert_eq!(feed(&mut det, 1, 1000, &p), ['3']);
        assert_eq!(feed(&mut det, 1, 2600, &press('4', 160, 2)), ['4']);
        // A late end packet of the previous press arrives after the next press began.
        assert_eq!(
            feed(&mut det, 1, 1000, &[pkt('3', true, 800)]),
            Vec::<char>::new()
        );
    }

    #[test]
    fn long_press_with_duration_updates_counts_once() {
        let mut det = Rfc4733Detector::new(ClockRate(8000));
        // 5 s held: 250 updates.
        assert_eq!(feed(&mut det, 1, 1000, &press('0', 160, 250)), ['0']);
    }

    #[test]
    fn long_event_segments_count_once_at_48khz() {
        // At 48 kHz the duration field overflows after 1.37 s: the sender starts a new
        // segment at timestamp + 0xFFFF (§2.5.1.3).
        let mut det = Rfc4733Detector::new(ClockRate(48_000));
        let ts0 = u32::MAX - 30_000; // the segments straddle the timestamp wrap too
        let mut got = Vec::new();
        let mut dur: u32 = 960;
        while dur < 0xFFFF {
            got.extend(feed(&mut det, 9, ts0, &[pkt('9', false, dur as u16)]));
            dur += 960;
        }
        got.extend(feed(&mut det, 9, ts0, &[pkt('9', false, 0xFFFF)]));
        let ts1 = ts0.wrapping_add(0xFFFF);
        got.extend(feed(
            &mut det,
            9,
            ts1,
            &[pkt('9', false, 960), pkt('9', false, 1920)],
        ));
        got.extend(feed(
            &mut det,
            9,
            ts1,
            &[pkt('9', true, 2880), pkt('9', true, 2880)],
        ));
        assert_eq!(got, ['9']);
        // A new press of the same key afterwards counts.
        assert_eq!(
            feed(&mut det, 9, ts1.wrapping_add(10_000), &press('9', 960, 3)),
            ['9']
        );
    }

    #[test]
    fn streams_are_told_apart_by_ssrc() {
        let mut det = Rfc4733Detector::new(ClockRate(8000));
        assert_eq!(feed(&mut det, 1, 1000, &press('2', 160, 3)), ['2']);
        // After a re-INVITE the new stream may reuse the same timestamp: a new press.
        assert_eq!(feed(&mut det, 2, 1000, &press('2', 160, 3)), ['2']);
        assert_eq!(
            feed(&mut det, 1, 1000, &press('2', 160, 3)),
            Vec::<char>::new()
        );
    }

    #[test]
    fn non_dtmf_events_and_short_payloads() {
        let mut det = Rfc4733Detector::new(ClockRate(8000));
        assert_eq!(
            feed(&mut det, 1, 1000, &press('F', 160, 3)),
            Vec::<char>::new()
        ); // flash
        assert!(det.handle_packet(Ssrc(1), RtpTimestamp(5), &[]).is_err());
        assert_eq!(feed(&mut det, 1, 3000, &press('A', 160, 3)), ['A']);
    }
}
