//! SIP signalling: rsipstack wiring (UDP and TCP), trunk registration, and the calling side
//! our own callers use. SDP offer/answer is the call's ([`crate::call::sdp`]).

pub(crate) mod brake;
pub mod client;
pub mod config;
pub(crate) mod edge;
pub mod register;
pub mod screen;
pub mod server;
pub mod tls;

use std::net::SocketAddr;

use thiserror::Error;

pub use config::{RtpSource, SipConfig, SrtpPolicy, TrunkConfig, TrunkTransport};
pub use server::SipServer;

pub use crate::call::settings::ALLOW;

fn allowed_methods() -> Vec<rsipstack::sip::Method> {
    use rsipstack::sip::Method;
    vec![
        Method::Invite,
        Method::Ack,
        Method::Cancel,
        Method::Bye,
        Method::Options,
        Method::Info,
        Method::Update,
    ]
}

/// Errors of the SIP layer.
#[derive(Debug, Error)]
pub enum SipError {
    /// A socket could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, String),
    /// The SIP stack refused to start or failed.
    #[error("SIP stack error: {0}")]
    Stack(String),
    /// Registration to the trunk failed.
    #[error("registration failed: {0}")]
    Register(String),
    /// The settings do not fit together (e.g. a TLS trunk without `[sip.tls]`).
    #[error("{0}")]
    Config(String),
    /// A TLS file is missing or not what it should be.
    #[error("{setting} = « {} » : {reason}", path.display())]
    Tls {
        /// The setting naming the file.
        setting: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}
