//! The load caller (`ivr load`): places many calls at once against a running server, each
//! typing its own codes by RFC 4733 as a phone does, and tallies answers, call lengths and
//! what the calls heard. It carries the capacity benchmark's highest steps (`bench/run.sh`
//! with `CALLER=ivr`), where SIPp replaying keys costs more than the server it loads; SIPp
//! stays the independent check on the lower steps and the operators' scenarios.
//!
//! Only for loopback or a test bench: it places exactly the calls asked, bounded in count.

pub mod caller;
pub mod config;
pub mod pacing;
pub mod report;
pub mod rtp;
pub mod script;

pub use caller::run;
pub use config::LoadConfig;
pub use report::Report;
pub use script::{CallCodes, Script, read_codes};

/// The load caller is an edge: it reads the clock here, and only here.
#[allow(clippy::disallowed_methods)]
fn now() -> std::time::Instant {
    std::time::Instant::now()
}
