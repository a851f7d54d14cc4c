//! The brake on new calls per source address, in the spirit of Kamailio's pike module:
//! INVITEs per second and calls in progress, per source IP.
//!
//! Why: the line answered every INVITE, 500 a second from one address (issue 13,
//! finding 5), so one machine could take every line and use each call's answer against
//! whoever it named. The global `max_calls` still protects the server; this keeps one
//! source from taking all of it.
//!
//! The rate is a GCRA (the virtual-scheduling form of a token bucket): each source has a
//! theoretical arrival time `tat`, pushed one interval (1 s / rate) later by every admitted
//! INVITE; an INVITE is admitted while `tat` stays within one second of now, so a source may
//! send a second's worth at once and then one per interval. One instant per source, no
//! floating point, and a source whose `tat` has passed is the same as one never seen, so
//! the table can forget it.
//!
//! Sans-IO: the router passes the instant in. The check and the counting happen in the one
//! `admit` call, on the router's single task, so two INVITEs can never both pass a limit
//! that has room for one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use thiserror::Error;

/// The burst a source may send at once: one second's worth of its rate.
const WINDOW: Duration = Duration::from_secs(1);

/// Above this many sources the table is swept (at most once a second) of those with no call
/// and no recent INVITE: a flood from many forged addresses cannot grow it for ever.
const SWEEP_ABOVE: usize = 256;

/// Why an INVITE was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub(crate) enum Throttled {
    /// The source sent more INVITEs than its rate allows.
    #[error("too many INVITEs per second")]
    Rate,
    /// The source already has its share of calls in progress.
    #[error("too many calls in progress")]
    Calls,
}

#[derive(Debug)]
struct Source {
    /// The GCRA's theoretical arrival time.
    tat: Instant,
    /// Calls admitted and not yet released.
    calls: usize,
}

/// Per-source limits on INVITEs (see the module doc).
#[derive(Debug)]
pub(crate) struct SourceBrake {
    /// 1 s / INVITEs per second; `None` when the rate is not limited.
    interval: Option<Duration>,
    /// Calls in progress per source; 0 when not limited.
    calls_per_source: usize,
    sources: HashMap<IpAddr, Source>,
    next_sweep: Option<Instant>,
}

impl SourceBrake {
    /// A brake admitting `invites_per_second` INVITEs a second (a second's worth at once)
    /// and `calls_per_source` calls at once from each source; 0 lifts either limit.
    pub(crate) fn new(invites_per_second: u32, calls_per_source: usize) -> Self {
        Self {
            interval: (invites_per_second > 0).then(|| WINDOW / invites_per_second),
            calls_per_source,
            sources: HashMap::new(),
            next_sweep: None,
        }
    }

    /// Checks an INVITE from `ip` at `now` and, when it is admitted, counts it: its place in
    /// the rate and a call in progress, which [`SourceBrake::release`] gives back.
    pub(crate) fn admit(&mut self, now: Instant, ip: IpAddr) -> Result<(), Throttled> {
        self.sweep(now);
        let source = self
            .sources
            .entry(ip)
            .or_insert(Source { tat: now, calls: 0 });
        let tat = match self.interval {
            Some(interval) => {
                let tat = source.tat.max(now) + interval;
                if tat > now + WINDOW {
                    return Err(Throttled::Rate);
                }
                tat
            }
            None => now,
        };
        if self.calls_per_source > 0 && source.calls >= self.calls_per_source {
            return Err(Throttled::Calls);
        }
        source.tat = tat;
        source.calls += 1;
        Ok(())
    }

    /// The call admitted for `ip` did not start, or has ended.
    pub(crate) fn release(&mut self, ip: IpAddr) {
        if let Some(source) = self.sources.get_mut(&ip) {
            source.calls = source.calls.saturating_sub(1);
        }
    }

    fn sweep(&mut self, now: Instant) {
        if self.sources.len() <= SWEEP_ABOVE || self.next_sweep.is_some_and(|t| now < t) {
            return;
        }
        self.sources.retain(|_, s| s.calls > 0 || s.tat > now);
        self.next_sweep = Some(now + WINDOW);
    }

    /// Sources the brake remembers (for tests).
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.sources.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    /// Any instant will do: the brake only compares the ones it is given.
    #[allow(clippy::disallowed_methods)]
    fn start() -> Instant {
        Instant::now()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_seconds_worth_at_once_then_one_per_interval() {
        let mut brake = SourceBrake::new(10, 0);
        let t0 = start();
        for i in 0..10 {
            assert_eq!(brake.admit(t0, A), Ok(()), "INVITE {i}");
        }
        assert_eq!(brake.admit(t0, A), Err(Throttled::Rate));
        assert_eq!(brake.admit(t0 + ms(99), A), Err(Throttled::Rate));
        assert_eq!(brake.admit(t0 + ms(100), A), Ok(()));
        assert_eq!(brake.admit(t0 + ms(100), A), Err(Throttled::Rate));
        // Another source has its own allowance.
        assert_eq!(brake.admit(t0, B), Ok(()));
        // After a quiet second the whole burst is back.
        let later = t0 + ms(2_100);
        for _ in 0..10 {
            assert_eq!(brake.admit(later, A), Ok(()));
        }
        assert_eq!(brake.admit(later, A), Err(Throttled::Rate));
    }

    #[test]
    fn calls_in_progress_are_limited_until_released() {
        let mut brake = SourceBrake::new(0, 2);
        let t0 = start();
        assert_eq!(brake.admit(t0, A), Ok(()));
        assert_eq!(brake.admit(t0, A), Ok(()));
        assert_eq!(brake.admit(t0, A), Err(Throttled::Calls));
        assert_eq!(brake.admit(t0, B), Ok(()));
        brake.release(A);
        assert_eq!(brake.admit(t0, A), Ok(()));
        assert_eq!(brake.admit(t0, A), Err(Throttled::Calls));
    }

    #[test]
    fn a_refused_invite_takes_no_place_in_the_rate() {
        let mut brake = SourceBrake::new(2, 1);
        let t0 = start();
        assert_eq!(brake.admit(t0, A), Ok(()));
        // Refused for its calls: the rate keeps its second place free.
        assert_eq!(brake.admit(t0, A), Err(Throttled::Calls));
        brake.release(A);
        assert_eq!(brake.admit(t0, A), Ok(()));
    }

    #[test]
    fn no_limits_admit_everything() {
        let mut brake = SourceBrake::new(0, 0);
        let t0 = start();
        for _ in 0..10_000 {
            assert_eq!(brake.admit(t0, A), Ok(()));
        }
    }

    #[test]
    fn idle_sources_are_forgotten() {
        let mut brake = SourceBrake::new(10, 0);
        let t0 = start();
        for i in 0..1_000u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            brake.admit(t0, ip).unwrap();
            brake.release(ip);
        }
        let kept = IpAddr::V4(std::net::Ipv4Addr::new(10, 9, 9, 9));
        brake.admit(t0, kept).unwrap();
        // A second later every source but the one with a call is idle and swept.
        let later = t0 + ms(1_001);
        brake.admit(later, B).unwrap();
        assert_eq!(
            brake.remembered(),
            2,
            "the source with a call and the new one"
        );
        brake.release(kept);
    }
}
