//! Dialplans: the call flow as data (TOML under `dialplans/`), checked once at load, run by
//! a pure interpreter (DESIGN.md, habit 7).
//!
//! - [`format`]: the file format, documented for towns in `dialplans/README.md`;
//! - [`Dialplan`]: a checked dialplan, [`DialplanSet`]: all of a server's, chosen by the
//!   dialled number;
//! - [`PromptManifest`]: the prompt ids and their French texts (`prompts/fr/manifest.toml`);
//! - [`Interpreter`]: one call's run, `handle(now, Event)` then `poll() -> Output`.

pub mod config;
pub mod error;
pub mod event;
pub mod format;
pub mod interpreter;
pub mod key;
pub mod load;
pub mod manifest;
pub mod number;
pub mod output;
pub mod set;
mod speak;
mod vars;

pub use config::DialplanConfig;
pub use error::{DialplanError, Problem};
pub use event::{ActionResult, Event, Refusal, RefusalReason, WeekBooking};
pub use interpreter::{Interpreter, StepError};
pub use key::Key;
pub use load::Dialplan;
pub use manifest::{PromptManifest, PromptProblem, PromptProblemKind};
pub use number::normalize_number;
pub use output::{ActionRequest, Output, PlayId, PromptId, PromptRef, TimerId};
pub use set::{DEFAULT_DIALPLAN, DialplanSet};
pub use speak::fixed_prompts;
pub use vars::{date_from_ddmm, week_monday};
