//! `ivr`: the voice line and web portal that French towns use for school services.
//!
//! Parents phone the line or open the portal to book and cancel meals and childcare;
//! town-hall staff publish messages and set deadlines. The layout follows DESIGN.md:
//! the network edge turns packets into typed events, pure cores decide, the edge acts.
#![forbid(unsafe_code)]

pub mod booking;
pub mod call;
pub mod clock;
pub mod config;
pub mod core;
pub mod dialplan;
pub mod invoice;
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
