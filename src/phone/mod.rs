//! The voice line: dialplans run over live calls, the booking service behind them, and the
//! staff line that records the town's announcement.
//!
//! - [`PhoneLine`]: what calls share, loaded and checked once, reloaded without dropping
//!   calls; chooses the flow by dialled number;
//! - [`bridge`]: runs the pure dialplan interpreter over a [`crate::call::Call`];
//! - [`actions`]: the dialplan's booking actions on the [`crate::service::booking::BookingService`];
//! - [`announcement`]: the active announcement, shared with the web's uploads;
//! - [`flows`]: the flow for a dialled number (staff line or dialplan);
//! - [`record`]: each call's record for the staff dashboard (never a digit or code);
//! - [`staff`]: recording the announcement by phone behind a PIN;
//! - [`town_voice`]: the town's recordings of prompts, merged over the shipped ones;
//! - [`VoiceLine`]: SIP plus all of the above, as `ivr serve` and `ivr demo` run it.

pub mod actions;
pub mod announcement;
pub mod bridge;
pub mod config;
pub mod events;
pub mod flows;
pub mod line;
pub mod prompt_ids;
pub mod record;
pub mod reload;
pub mod server;
pub mod staff;
pub mod town_voice;

pub use config::PhoneConfig;
pub use events::{EventSink, PhoneEvent};
pub use line::{PhoneError, PhoneLine};
pub use server::VoiceLine;
