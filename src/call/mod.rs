//! Calls: one driver task per call, the RTP threads that carry every call's packets, and the API
//! the flows drive calls with.

pub mod api;
pub(crate) mod driver;
pub(crate) mod handoff;
pub mod media;
pub(crate) mod reply;
pub(crate) mod rtp_thread;
pub mod sdp;
pub(crate) mod session;
pub mod settings;
pub(crate) mod state;
pub(crate) mod waits;

pub use crate::core::{CollectSpec, Collected, Digit, Digits};
pub use api::{
    Call, CallError, CallFlow, CallInfo, FlowSelector, Played, RecordSpec, Recorded, Recording,
    SingleFlow,
};
