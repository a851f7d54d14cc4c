//! [`Pacer`]: when each RTP packet of a stream is due, computed from the stream's start
//! instant (send time of slot n = start + n × ptime), never by adding intervals, so that timer
//! lateness never accumulates into drift.
//!
//! Late ticks: when a tick comes after several slots are due, up to [`MAX_BURST`] packets are
//! released at once (a jitter buffer absorbs that much). When more are due (the task was
//! stalled), sending them all would flood the receiver with audio it will discard as late,
//! so the pacer skips ahead: it releases only the newest slot and reports the skipped ones;
//! the stream's timestamps follow the slot numbers, so the receiver sees a gap in time (like
//! silence suppression), not a burst.

use std::time::{Duration, Instant};

/// The most packets released by one tick (3 × 20 ms = 60 ms of audio at the default ptime).
pub const MAX_BURST: u32 = 3;

/// What a tick released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The first slot to send now (slot n is due at start + n × ptime).
    pub first_slot: u64,
    /// How many consecutive slots to send now, from `first_slot` (0 to [`MAX_BURST`]).
    pub count: u32,
    /// Slots before `first_slot` that were skipped because the tick was too late.
    pub skipped: u64,
}

/// Send-time schedule of one outbound stream.
#[derive(Debug, Clone)]
pub struct Pacer {
    start: Instant,
    ptime_nanos: u64,
    next_slot: u64,
}

impl Pacer {
    /// A schedule whose slot 0 is due at `start`, then one slot per `ptime`.
    pub fn new(start: Instant, ptime: Duration) -> Pacer {
        Pacer {
            start,
            ptime_nanos: ptime.as_nanos().max(1) as u64,
            next_slot: 0,
        }
    }

    /// When slot `slot` is due.
    #[inline]
    pub fn slot_time(&self, slot: u64) -> Instant {
        self.start + Duration::from_nanos(self.ptime_nanos.saturating_mul(slot))
    }

    /// The next slot not yet released.
    #[inline]
    pub fn next_slot(&self) -> u64 {
        self.next_slot
    }

    /// When to call [`Pacer::handle_timeout`] next: the due time of the next slot.
    #[inline]
    pub fn poll_timeout(&self) -> Instant {
        self.slot_time(self.next_slot)
    }

    /// Releases the slots due at `now` (see the module doc for the late-tick rule).
    #[inline]
    pub fn handle_timeout(&mut self, now: Instant) -> Due {
        let Some(elapsed) = now.checked_duration_since(self.start) else {
            return Due {
                first_slot: self.next_slot,
                count: 0,
                skipped: 0,
            };
        };
        let last_due = (elapsed.as_nanos() / self.ptime_nanos as u128) as u64;
        if last_due < self.next_slot {
            return Due {
                first_slot: self.next_slot,
                count: 0,
                skipped: 0,
            };
        }
        let behind = last_due - self.next_slot + 1;
        let due = if behind <= MAX_BURST as u64 {
            Due {
                first_slot: self.next_slot,
                count: behind as u32,
                skipped: 0,
            }
        } else {
            Due {
                first_slot: last_due,
                count: 1,
                skipped: behind - 1,
            }
        };
        self.next_slot = last_due + 1;
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Duration = Duration::from_millis(20);

    /// A small deterministic generator for jitter (no clock, no global state).
    fn lcg(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *state >> 33
    }

    #[test]
    fn jittered_ticks_end_exactly_on_schedule() {
        let start = crate::core::test_epoch();
        let mut pacer = Pacer::new(start, P);
        let mut rng = 7;
        let mut sent = Vec::new();
        while sent.len() < 1000 {
            // Wake up 0–9 ms after the deadline asked for, as a loaded runtime does.
            let now = pacer.poll_timeout() + Duration::from_micros(lcg(&mut rng) % 9_000);
            let due = pacer.handle_timeout(now);
            assert!(due.count >= 1 && due.count <= MAX_BURST);
            assert_eq!(due.skipped, 0);
            for s in due.first_slot..due.first_slot + due.count as u64 {
                assert!(pacer.slot_time(s) <= now);
                sent.push(s);
            }
        }
        assert_eq!(sent, (0..1000).collect::<Vec<u64>>());
        // No drift: slot 999 is due exactly 999 × 20 ms after the start.
        assert_eq!(pacer.slot_time(999) - start, Duration::from_millis(19_980));
        assert_eq!(pacer.poll_timeout() - start, Duration::from_secs(20));
    }

    #[test]
    fn early_tick_releases_nothing() {
        let start = crate::core::test_epoch();
        let mut pacer = Pacer::new(start, P);
        assert_eq!(pacer.handle_timeout(start).count, 1);
        assert_eq!(
            pacer
                .handle_timeout(start + Duration::from_millis(19))
                .count,
            0
        );
        assert_eq!(pacer.handle_timeout(start + P).count, 1);
        assert_eq!(pacer.poll_timeout(), start + 2 * P);
    }

    #[test]
    fn a_slightly_late_tick_bursts_within_the_bound() {
        let start = crate::core::test_epoch();
        let mut pacer = Pacer::new(start, P);
        pacer.handle_timeout(start);
        let due = pacer.handle_timeout(start + Duration::from_millis(61));
        assert_eq!(
            due,
            Due {
                first_slot: 1,
                count: 3,
                skipped: 0
            }
        );
    }

    #[test]
    fn a_200ms_stall_skips_ahead_instead_of_bursting() {
        let start = crate::core::test_epoch();
        let mut pacer = Pacer::new(start, P);
        for i in 0..10 {
            pacer.handle_timeout(start + P * i);
        }
        // Stalled from 180 ms to 390 ms: slots 10–19 are all overdue.
        let due = pacer.handle_timeout(start + Duration::from_millis(390));
        assert!(due.count <= MAX_BURST);
        assert_eq!(
            due,
            Due {
                first_slot: 19,
                count: 1,
                skipped: 9
            }
        );
        // Back on the original schedule at once.
        assert_eq!(pacer.poll_timeout(), start + Duration::from_millis(400));
        assert_eq!(
            pacer
                .handle_timeout(start + Duration::from_millis(401))
                .count,
            1
        );
    }
}
