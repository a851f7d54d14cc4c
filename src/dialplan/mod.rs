//! Dialplans: the call flow as data (TOML under `dialplans/`), checked once at load, run by
//! a pure interpreter (DESIGN.md, habit 7).
//!
//! - [`format`]: the file format, documented for towns in `dialplans/README.md`;
//! - [`Dialplan`]: a checked dialplan, [`DialplanSet`]: all of a server's, chosen by the
//!   dialled number;
//! - [`PromptManifest`]: the prompt ids and their French texts (`prompts/fr/manifest.toml`);
//! - [`Interpreter`]: one call's run, `handle(now, Event)` then `poll() -> Output`.
//!
//! A call's driver, in short (the edge plays, times, asks the booking service, hangs up):
//!
//! ```
//! use std::path::Path;
//! use std::sync::Arc;
//! use chrono::{TimeZone, Utc};
//! use ivr::core::Digit;
//! use ivr::dialplan::{Dialplan, Event, Interpreter, Output, PromptManifest};
//!
//! let manifest = PromptManifest::parse(
//!     Path::new("prompts/fr"),
//!     Path::new("prompts/fr/manifest.toml"),
//!     "[prompts]\nmenu_principal = \"Tapez 1.\"\nau_revoir_sans_reponse = \"Au revoir.\"\n",
//! )?;
//! let plan = Dialplan::parse(
//!     Path::new("dialplans/mini.toml"),
//!     r#"
//!     [dialplan]
//!     start = "menu"
//!     [nodes.menu]
//!     kind = "menu"
//!     prompts = ["menu_principal"]
//!     keys = { "1" = "bye" }
//!     on_max_attempts = "bye"
//!     [nodes.bye]
//!     kind = "play"
//!     prompts = ["au_revoir_sans_reponse"]
//!     barge_in = false
//!     next = "end"
//!     [nodes.end]
//!     kind = "hangup"
//!     "#,
//!     &manifest,
//! )?;
//! let mut call = Interpreter::new(Arc::new(plan));
//! let now = Utc.with_ymd_and_hms(2025, 5, 4, 9, 0, 0).unwrap(); // the edge's clock
//! call.handle(now, Event::CallStarted { announcement_active: false })?;
//! let Some(Output::Play { id, .. }) = call.poll() else { unreachable!() };
//! call.handle(now, Event::PromptsFinished(id))?; // the edge played it to the end
//! assert!(matches!(call.poll(), Some(Output::StartTimer { .. })));
//! call.handle(now, Event::Key(Digit::from_char('1').unwrap()))?;
//! let Some(Output::Play { id, barge_in: false, .. }) = call.poll() else { unreachable!() };
//! call.handle(now, Event::PromptsFinished(id))?;
//! assert_eq!(call.poll(), Some(Output::Hangup));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod builtin;
pub mod config;
pub mod error;
pub mod event;
pub mod format;
pub mod interpreter;
pub mod load;
pub mod manifest;
pub mod number;
pub mod output;
pub mod set;
mod speak;
mod vars;

pub use config::DialplanConfig;
pub use error::{DialplanError, Problem};
pub use event::{ActionResult, Event, OtherOutcome, SpokenReason, SpokenRefusal, WeekBooking};
pub use interpreter::{Interpreter, StepError};
pub use load::Dialplan;
pub use manifest::{PromptManifest, PromptProblem, PromptProblemKind};
pub use number::normalize_number;
pub use output::{ActionRequest, Output, PlaybackId, PromptId, PromptRef, TimerId};
pub use set::{DEFAULT_DIALPLAN, DialplanSet};
pub use speak::fixed_prompts;
pub use vars::{date_from_ddmm, week_monday};
