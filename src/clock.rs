//! The server's clock, read at the edge only (DESIGN.md habit 2): one trait for the voice
//! line and the portal, so that both agree on "now" (`ivr demo --now`).
//!
//! The voice line reads the instant once per interpreter step and once per booking action;
//! the day of the call ("tomorrow", "next service day", DDMM) follows from it in the town's
//! zone. Tests set the server's clock with a [`ManualClock`] to check what a caller hears
//! before and after a deadline.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// A source of the current instant.
pub trait Clock: std::fmt::Debug + Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // The one place the voice line reads the wall clock.
        #[allow(clippy::disallowed_methods)]
        Utc::now()
    }
}

/// The machine's clock moved by a fixed offset (a rehearsal of tomorrow morning's peak).
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock(pub Duration);

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        SystemClock.now() + self.0
    }
}

/// A clock that says what it was last told (tests).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock stopped at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self(Mutex::new(now))
    }

    /// Sets the instant every later reading gives.
    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_gives_what_it_was_told() {
        let t = DateTime::parse_from_rfc3339("2025-05-02T08:00:00Z")
            .unwrap()
            .to_utc();
        let c = ManualClock::new(t);
        assert_eq!(c.now(), t);
        c.set(t + Duration::hours(3));
        assert_eq!(c.now(), t + Duration::hours(3));
    }

    #[test]
    fn offset_clock_is_ahead_of_the_system_clock() {
        let ahead = OffsetClock(Duration::days(1)).now();
        let sys = SystemClock.now();
        assert!(ahead - sys > Duration::hours(23));
    }
}
