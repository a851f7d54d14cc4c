//! [`DtmfMerger`]: one call's digits from all sources, each key press once, even when the
//! caller's equipment signals a press two ways (telephone-event and tone, or INFO and event).
//!
//! Rule: the sources are ranked RFC 4733 > SIP INFO > in-band. The best source heard so far
//! in the call is *established*; digits from worse sources are ignored from then on (a phone
//! that sends telephone-events sends them for every key; its tones are only an echo of the
//! same presses). Before a better source shows up, a digit from a worse source is held for
//! [`HOLD`] (a telephone-event usually arrives first, the tone detector needs 30–40 ms, and
//! an INFO may race the RTP): if the same key arrives from a better source meanwhile, it is
//! one press and counts once. A digit already released that the better source then reports
//! within [`LATE_DUPLICATE`] is also the same press. RFC 4733 digits are never held.
//!
//! The cost is [`HOLD`] of latency on INFO and in-band digits; nothing allocates.

use std::time::{Duration, Instant};

use super::DtmfSource;
use crate::core::digit::Digit;

/// How long a digit from a not-yet-best source waits for the same press from a better one.
pub const HOLD: Duration = Duration::from_millis(150);
/// A digit from a newly established better source equal to the last released digit from a
/// worse source within this time is the same press, reported late.
pub const LATE_DUPLICATE: Duration = Duration::from_millis(1000);

const fn rank(s: DtmfSource) -> u8 {
    match s {
        DtmfSource::Rfc4733 => 0,
        DtmfSource::SipInfo => 1,
        DtmfSource::InBand => 2,
    }
}

type Held = (Digit, DtmfSource, Instant);

/// Merges one call's digit sources.
#[derive(Debug, Clone, Default)]
pub struct DtmfMerger {
    established: Option<DtmfSource>,
    /// Held digits (release time = arrival + HOLD), oldest first.
    held: [Option<Held>; 4],
    /// Released digits not yet polled, oldest first.
    out: [Option<(Digit, DtmfSource)>; 8],
    /// The last released digit, its source and when it arrived.
    last: Option<Held>,
}

impl DtmfMerger {
    /// A merger that has heard nothing.
    pub fn new() -> DtmfMerger {
        DtmfMerger::default()
    }

    /// Whether in-band detection still matters for this call: once telephone-events or INFO
    /// digits are heard, the driver can stop running the tone detector (it saves CPU).
    pub fn inband_wanted(&self) -> bool {
        self.established.is_none_or(|s| s == DtmfSource::InBand)
    }

    /// The best source heard so far.
    pub fn established(&self) -> Option<DtmfSource> {
        self.established
    }

    /// A digit from a detector, received at `now`.
    pub fn handle_digit(&mut self, now: Instant, source: DtmfSource, digit: Digit) {
        self.handle_timeout(now);
        let better = self.established.is_none_or(|e| rank(source) < rank(e));
        if let Some(e) = self.established
            && rank(source) > rank(e)
        {
            return; // a worse source once a better one is heard: an echo of the same presses
        }
        if better && self.established.is_some() {
            // The first digit of a better source: drop held digits of the same press, release
            // the others (earlier presses); check the last released for a late duplicate.
            let mut held_same = false;
            for i in 0..self.held.len() {
                if let Some((d, s, t)) = self.held[i] {
                    self.held[i] = None;
                    if d == digit && !held_same {
                        held_same = true; // dropped: this digit reports the same press
                    } else {
                        self.release((d, s, t));
                    }
                }
            }
            self.established = Some(source);
            if !held_same
                && let Some((d, s, t)) = self.last
                && d == digit
                && rank(s) > rank(source)
                && now.saturating_duration_since(t) <= LATE_DUPLICATE
            {
                return; // already released from the worse source
            }
        }
        if better {
            self.established = Some(source);
        }
        if source == DtmfSource::Rfc4733 {
            self.release((digit, source, now));
        } else {
            self.hold((digit, source, now));
        }
    }

    fn hold(&mut self, h: Held) {
        if let Some(slot) = self.held.iter_mut().find(|s| s.is_none()) {
            *slot = Some(h);
        } else {
            // Four presses within 150 ms is not a human: release the oldest rather than lose one.
            if let Some(oldest) = self.held[0].take() {
                self.release(oldest);
            }
            self.held.rotate_left(1);
            self.held[3] = Some(h);
        }
    }

    fn release(&mut self, h: Held) {
        self.last = Some(h);
        if let Some(slot) = self.out.iter_mut().find(|s| s.is_none()) {
            *slot = Some((h.0, h.1));
        }
    }

    /// When a held digit is due for release.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.held.iter().flatten().map(|&(_, _, t)| t + HOLD).min()
    }

    /// Releases held digits whose hold has passed at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(i) =
            (0..self.held.len()).find(|&i| self.held[i].is_some_and(|(_, _, t)| t + HOLD <= now))
        {
            if let Some(h) = self.held[i].take() {
                self.release(h);
            }
            // Keep the held digits in arrival order.
            self.held[i..].rotate_left(1);
        }
    }

    /// The next digit, in press order, with the source it was taken from.
    pub fn poll_digit(&mut self) -> Option<(Digit, DtmfSource)> {
        let d = self.out[0].take();
        self.out.rotate_left(1);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DtmfSource::*;

    fn d(c: char) -> Digit {
        Digit::from_char(c).unwrap()
    }

    struct Run {
        m: DtmfMerger,
        t0: Instant,
        got: String,
    }

    impl Run {
        fn new() -> Run {
            Run {
                m: DtmfMerger::new(),
                t0: crate::core::test_epoch(),
                got: String::new(),
            }
        }
        fn at(&mut self, ms: u64, src: DtmfSource, c: char) {
            self.advance(ms);
            self.m
                .handle_digit(self.t0 + Duration::from_millis(ms), src, d(c));
            self.drain();
        }
        fn advance(&mut self, ms: u64) {
            let now = self.t0 + Duration::from_millis(ms);
            while let Some(t) = self.m.poll_timeout().filter(|&t| t <= now) {
                self.m.handle_timeout(t);
                self.drain();
            }
        }
        fn drain(&mut self) {
            while let Some((d, _)) = self.m.poll_digit() {
                self.got.push(d.to_char());
            }
        }
    }

    #[test]
    fn rfc4733_alone_is_immediate() {
        let mut r = Run::new();
        r.at(0, Rfc4733, '1');
        assert_eq!(r.got, "1");
        r.at(100, Rfc4733, '1');
        assert_eq!(r.got, "11");
        assert!(!r.m.inband_wanted());
    }

    #[test]
    fn inband_alone_is_released_after_the_hold() {
        let mut r = Run::new();
        r.at(0, InBand, '4');
        assert_eq!(r.got, "");
        r.advance(149);
        assert_eq!(r.got, "");
        r.advance(150);
        assert_eq!(r.got, "4");
        r.at(300, InBand, '4');
        r.advance(2000);
        assert_eq!(r.got, "44");
        assert!(r.m.inband_wanted());
    }

    #[test]
    fn event_and_tone_for_the_same_press_count_once_whichever_comes_first() {
        // Tone detected first, event 20 ms later.
        let mut r = Run::new();
        r.at(0, InBand, '7');
        r.at(20, Rfc4733, '7');
        r.at(40, InBand, '7'); // ignored from now on
        r.at(200, Rfc4733, '7');
        r.at(235, InBand, '7');
        r.advance(3000);
        assert_eq!(r.got, "77");
        // Event first.
        let mut r = Run::new();
        r.at(0, Rfc4733, '2');
        r.at(35, InBand, '2');
        r.advance(3000);
        assert_eq!(r.got, "2");
    }

    #[test]
    fn a_late_event_after_the_tone_was_released_counts_once() {
        let mut r = Run::new();
        r.at(0, InBand, '9');
        r.advance(400);
        assert_eq!(r.got, "9");
        r.at(450, Rfc4733, '9');
        assert_eq!(r.got, "9");
        r.at(700, Rfc4733, '9');
        assert_eq!(r.got, "99");
    }

    #[test]
    fn info_and_events_together() {
        let mut r = Run::new();
        r.at(0, SipInfo, '5');
        r.at(30, Rfc4733, '5');
        r.at(60, SipInfo, '6'); // ignored: events are established
        r.at(70, Rfc4733, '6');
        r.advance(1000);
        assert_eq!(r.got, "56");
        assert_eq!(r.m.established(), Some(Rfc4733));
    }

    #[test]
    fn an_earlier_different_press_is_kept_when_a_better_source_appears() {
        let mut r = Run::new();
        r.at(0, InBand, '1');
        r.at(100, Rfc4733, '2');
        assert_eq!(r.got, "12");
    }
}
