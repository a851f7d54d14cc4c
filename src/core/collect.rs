//! Digit collection, the one for every part (the dialplan interpreter and the call's own
//! flows): min/max digits, a terminator, first- and inter-digit timeouts.
//!
//! [`Entry`] holds the rules and the keys: it says when an entry ends and how long the next
//! silence may last, and leaves the timer to its owner (the interpreter asks its driver for
//! one). [`Collector`] is an entry with its deadline, for a driver that keeps instants.

use std::time::{Duration, Instant};

use super::digit::{Digit, Digits};

/// What to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectSpec {
    /// Fewest digits for a complete entry.
    pub min: usize,
    /// Most digits; the entry completes as soon as this many are typed (at least one).
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

/// How an entry ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collected {
    /// A complete entry of `min` to `max` digits: `max` reached, the terminator pressed, or
    /// silence after `min`.
    Digits {
        /// The digits (without the terminator).
        digits: Digits,
        /// Whether the terminator ended the entry.
        terminated: bool,
    },
    /// Silence: the caller typed nothing in time, or fewer than `min` digits before it
    /// (given back as they are).
    Timeout {
        /// The digits typed before the silence, possibly none.
        digits: Digits,
    },
    /// No valid entry: the terminator before `min` digits, or a key that is no digit (`*`
    /// when it does not end the entry). The digits typed so far are dropped.
    Invalid,
}

/// One entry in progress: the rules and the digits typed so far. Time is its owner's.
#[derive(Debug, Clone)]
pub struct Entry {
    spec: CollectSpec,
    typed: Digits,
}

impl Entry {
    /// An empty entry by `spec`.
    pub fn new(spec: CollectSpec) -> Self {
        Self {
            spec,
            typed: Digits::new(),
        }
    }

    /// The caller typed `key`; returns how the entry ended when this key ends it.
    pub fn key(&mut self, key: Digit) -> Option<Collected> {
        if Some(key) == self.spec.terminator {
            let digits = std::mem::take(&mut self.typed);
            return Some(if digits.len() >= self.spec.min {
                Collected::Digits {
                    digits,
                    terminated: true,
                }
            } else {
                Collected::Invalid
            });
        }
        if !key.is_digit() {
            self.typed = Digits::new();
            return Some(Collected::Invalid);
        }
        self.typed.push(key);
        if self.typed.len() >= self.spec.max.max(1) {
            return Some(Collected::Digits {
                digits: std::mem::take(&mut self.typed),
                terminated: false,
            });
        }
        None
    }

    /// The silence allowed from now: first-digit while nothing is typed, inter-digit after.
    pub fn wait(&self) -> Duration {
        if self.typed.is_empty() {
            self.spec.first_digit_timeout
        } else {
            self.spec.inter_digit_timeout
        }
    }

    /// The silence ran out: how the entry ends.
    pub fn silence(&mut self) -> Collected {
        let digits = std::mem::take(&mut self.typed);
        if !digits.is_empty() && digits.len() >= self.spec.min {
            Collected::Digits {
                digits,
                terminated: false,
            }
        } else {
            Collected::Timeout { digits }
        }
    }
}

/// An [`Entry`] with its deadline; time is passed in, and the driver asks
/// [`Collector::poll_timeout`] when to wake it.
#[derive(Debug)]
pub struct Collector {
    entry: Entry,
    deadline: Instant,
}

impl Collector {
    /// Starts collecting at `now`.
    pub fn new(spec: CollectSpec, now: Instant) -> Self {
        let entry = Entry::new(spec);
        let deadline = now + entry.wait();
        Self { entry, deadline }
    }

    /// A digit arrived at `now`; returns the outcome when this digit ends the entry.
    pub fn handle_digit(&mut self, now: Instant, digit: Digit) -> Option<Collected> {
        let done = self.entry.key(digit);
        self.deadline = now + self.entry.wait();
        done
    }

    /// When the driver must call [`Collector::handle_timeout`].
    pub fn poll_timeout(&self) -> Instant {
        self.deadline
    }

    /// Time passed; returns the outcome once the current timeout has expired.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Collected> {
        (now >= self.deadline).then(|| self.entry.silence())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> Digit {
        Digit::from_char(c).unwrap()
    }

    fn spec() -> CollectSpec {
        CollectSpec {
            min: 2,
            max: 4,
            terminator: Some(Digit::POUND),
            first_digit_timeout: Duration::from_secs(5),
            inter_digit_timeout: Duration::from_secs(3),
        }
    }

    fn typed(entry: &mut Entry, keys: &str) -> Option<Collected> {
        keys.chars().map(d).fold(None, |_, k| entry.key(k))
    }

    fn digits(out: Option<Collected>) -> String {
        match out {
            Some(Collected::Digits { digits, terminated }) => {
                format!("{}{}", digits.expose(), if terminated { "#" } else { "" })
            }
            Some(Collected::Timeout { digits }) => format!("timeout:{}", digits.expose()),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn an_entry_ends_at_max_at_the_terminator_or_at_a_silence_after_min() {
        assert_eq!(digits(typed(&mut Entry::new(spec()), "1234")), "1234");
        assert_eq!(digits(typed(&mut Entry::new(spec()), "12#")), "12#");
        let mut e = Entry::new(spec());
        assert_eq!(typed(&mut e, "78"), None);
        assert_eq!(digits(Some(e.silence())), "78");
    }

    #[test]
    fn too_few_digits_a_star_or_nothing_is_no_entry() {
        let mut e = Entry::new(spec());
        assert_eq!(typed(&mut e, "7"), None);
        assert_eq!(digits(Some(e.silence())), "timeout:7");
        assert_eq!(digits(Some(Entry::new(spec()).silence())), "timeout:");
        assert_eq!(
            typed(&mut Entry::new(spec()), "7#"),
            Some(Collected::Invalid)
        );
        assert_eq!(
            typed(&mut Entry::new(spec()), "7*"),
            Some(Collected::Invalid)
        );
        // An entry that ended starts again empty.
        let mut e = Entry::new(spec());
        assert_eq!(typed(&mut e, "1*"), Some(Collected::Invalid));
        assert_eq!(digits(typed(&mut e, "56#")), "56#");
    }

    #[test]
    fn the_wait_is_first_digit_then_inter_digit_and_follows_the_clock() {
        let t0 = crate::core::test_epoch();
        let mut c = Collector::new(spec(), t0);
        assert_eq!(c.poll_timeout(), t0 + Duration::from_secs(5));
        assert_eq!(c.handle_timeout(t0 + Duration::from_secs(4)), None);
        let t1 = t0 + Duration::from_secs(4);
        assert_eq!(c.handle_digit(t1, d('1')), None);
        assert_eq!(c.poll_timeout(), t1 + Duration::from_secs(3));
        assert_eq!(c.handle_timeout(t1 + Duration::from_secs(2)), None);
        assert_eq!(
            digits(c.handle_timeout(t1 + Duration::from_secs(3))),
            "timeout:1"
        );
        // A max of zero still ends at the first digit.
        let mut e = Entry::new(CollectSpec { max: 0, ..spec() });
        assert_eq!(digits(e.key(d('9'))), "9");
    }
}
