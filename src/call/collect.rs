//! Digit collection (sans-IO): min/max digits, a terminator, first- and inter-digit timeouts.
//!
//! Time is passed in; the driver asks [`Collector::poll_timeout`] when to wake it.

use std::time::{Duration, Instant};

use super::digits::{Digit, Digits};

/// What to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectSpec {
    /// Fewest digits for a complete entry (fewer at the inter-digit timeout is a timeout).
    pub min: usize,
    /// Most digits; the entry completes as soon as this many are typed.
    pub max: usize,
    /// Key that ends the entry early (not included in the digits), usually `#`.
    pub terminator: Option<Digit>,
    /// How long to wait for the first digit.
    pub first_digit_timeout: Duration,
    /// How long to wait for each further digit.
    pub inter_digit_timeout: Duration,
}

impl CollectSpec {
    /// A menu choice: exactly one key, no terminator.
    pub fn one_key(timeout: Duration) -> Self {
        Self {
            min: 1,
            max: 1,
            terminator: None,
            first_digit_timeout: timeout,
            inter_digit_timeout: timeout,
        }
    }
}

/// How a collection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collected {
    /// Enough digits: `max` reached, the terminator pressed, or `min` reached at the
    /// inter-digit timeout.
    Digits {
        /// The digits (without the terminator).
        digits: Digits,
        /// Whether the terminator ended the entry.
        terminated: bool,
    },
    /// The caller typed nothing in time, or fewer than `min` digits (given back as they are).
    Timeout {
        /// The digits typed before the timeout, possibly none.
        digits: Digits,
    },
}

/// One collection in progress.
#[derive(Debug)]
pub struct Collector {
    spec: CollectSpec,
    digits: Digits,
    deadline: Instant,
}

impl Collector {
    /// Starts collecting at `now`.
    pub fn new(spec: CollectSpec, now: Instant) -> Self {
        let deadline = now + spec.first_digit_timeout;
        Self {
            spec,
            digits: Digits::new(),
            deadline,
        }
    }

    /// A digit arrived at `now`; returns the outcome when this digit completes the entry.
    pub fn handle_digit(&mut self, now: Instant, digit: Digit) -> Option<Collected> {
        if Some(digit) == self.spec.terminator {
            let digits = std::mem::take(&mut self.digits);
            return Some(Collected::Digits {
                digits,
                terminated: true,
            });
        }
        self.digits.push(digit);
        if self.digits.len() >= self.spec.max.max(1) {
            return Some(Collected::Digits {
                digits: std::mem::take(&mut self.digits),
                terminated: false,
            });
        }
        self.deadline = now + self.spec.inter_digit_timeout;
        None
    }

    /// When the driver must call [`Collector::handle_timeout`].
    pub fn poll_timeout(&self) -> Instant {
        self.deadline
    }

    /// Time passed; returns the outcome once the current timeout has expired.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Collected> {
        if now < self.deadline {
            return None;
        }
        let digits = std::mem::take(&mut self.digits);
        if !digits.is_empty() && digits.len() >= self.spec.min {
            Some(Collected::Digits {
                digits,
                terminated: false,
            })
        } else {
            Some(Collected::Timeout { digits })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::digits::pound;

    fn d(c: char) -> Digit {
        Digit::from_char(c).unwrap()
    }

    /// A base instant; every later instant in these tests is made up from it.
    #[allow(clippy::disallowed_methods)]
    fn start() -> Instant {
        Instant::now()
    }

    fn spec() -> CollectSpec {
        CollectSpec {
            min: 2,
            max: 4,
            terminator: Some(pound()),
            first_digit_timeout: Duration::from_secs(5),
            inter_digit_timeout: Duration::from_secs(3),
        }
    }

    #[test]
    fn terminator_ends_entry() {
        let t0 = start();
        let mut c = Collector::new(spec(), t0);
        assert_eq!(c.handle_digit(t0, d('1')), None);
        assert_eq!(c.handle_digit(t0, d('2')), None);
        match c.handle_digit(t0, pound()) {
            Some(Collected::Digits {
                digits,
                terminated: true,
            }) => assert_eq!(digits.expose(), "12"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn max_completes_and_timeouts_follow_the_clock() {
        let t0 = start();
        let mut c = Collector::new(spec(), t0);
        assert_eq!(c.poll_timeout(), t0 + Duration::from_secs(5));
        assert_eq!(c.handle_timeout(t0 + Duration::from_secs(4)), None);
        let t1 = t0 + Duration::from_secs(4);
        c.handle_digit(t1, d('1'));
        assert_eq!(c.poll_timeout(), t1 + Duration::from_secs(3));
        for k in ['2', '3'] {
            assert_eq!(c.handle_digit(t1, d(k)), None);
        }
        match c.handle_digit(t1, d('4')) {
            Some(Collected::Digits {
                digits,
                terminated: false,
            }) => assert_eq!(digits.expose(), "1234"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn inter_digit_timeout_with_min_is_complete_below_min_is_timeout() {
        let t0 = start();
        let mut c = Collector::new(spec(), t0);
        c.handle_digit(t0, d('7'));
        c.handle_digit(t0, d('8'));
        let out = c.handle_timeout(t0 + Duration::from_secs(3)).unwrap();
        assert!(
            matches!(out, Collected::Digits { ref digits, terminated: false } if digits.expose() == "78")
        );

        let mut c = Collector::new(spec(), t0);
        c.handle_digit(t0, d('7'));
        let out = c.handle_timeout(t0 + Duration::from_secs(3)).unwrap();
        assert!(matches!(out, Collected::Timeout { ref digits } if digits.expose() == "7"));

        let mut c = Collector::new(spec(), t0);
        let out = c.handle_timeout(t0 + Duration::from_secs(5)).unwrap();
        assert!(matches!(out, Collected::Timeout { ref digits } if digits.is_empty()));
    }
}
