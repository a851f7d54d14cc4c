//! `ivr`: the voice line and web portal that French towns use for school services.
//!
//! Parents phone the line or open the portal to book and cancel meals and childcare;
//! town-hall staff publish messages and set deadlines. The layout follows DESIGN.md:
//! the network edge turns packets into typed events, pure cores decide, the edge acts.
#![forbid(unsafe_code)]
// Every public item of the library says what it is, and `pub` means reachable from outside
// (crate-internal items say `pub(crate)`). Here rather than in Cargo.toml's [lints], which
// would hold the binary's and the tests' private helpers to the same rule.
#![warn(missing_docs, unreachable_pub)]

pub mod booking;
pub mod call;
pub mod clock;
pub mod config;
pub mod core;
pub mod dialplan;
pub mod invoice;
#[cfg(feature = "devtools")]
pub mod load;
pub mod mail;
pub mod media;
pub mod metrics;
pub mod payment;
pub mod phone;
pub mod say;
pub mod service;
pub mod sip;
pub mod store;
pub mod web;
