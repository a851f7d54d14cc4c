//! The sans-IO core of the voice path: RTP pacing and playout, DTMF detectors, digit
//! collection, recording.
//!
//! Every unit here takes its inputs (packets, audio, instants) as arguments and returns its
//! outputs; none touches a socket, a file or the clock (DESIGN.md habits 1–2). The per-call
//! driver task owns the sockets and timers and feeds these units.

pub mod collect;
pub mod digit;
pub mod dtmf;
pub mod error;
pub mod inbound;
pub mod outbound;
pub mod pacer;
pub mod player;
pub mod recorder;

pub use collect::{CollectSpec, Collected, Collector, Entry};
pub use digit::{Digit, Digits};

/// A base instant for tests: the tests only use offsets from it, never the clock itself.
#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the one place tests get an `Instant` to offset from
pub(crate) fn test_epoch() -> std::time::Instant {
    std::time::Instant::now()
}
