//! Media: codecs (G.711 µ-law/A-law by tables, Opus via audiopus), prompts loaded and encoded
//! once and shared by every call, RTP packetizing into reused buffers (rtp-rs), WAV output.
//!
//! Nothing here touches a socket or the clock; only the prompt loader reads files.

pub mod codec;
pub mod error;
pub mod g711;
pub mod library;
pub mod opus;
pub mod prompt;
pub mod resample;
pub mod rtp_packetizer;
pub mod rtp_types;
pub mod srtp;
pub mod testing;
pub mod upload;
pub mod wav;

pub use codec::{Codec, Ptime};
pub use error::MediaError;
pub use library::{PromptLibrary, SharedPrompts};
pub use prompt::Prompt;
pub use rtp_types::{ClockRate, PayloadType, RtpTimestamp, SeqNo, Ssrc};
