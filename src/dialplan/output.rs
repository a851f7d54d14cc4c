//! What the interpreter asks the call to do: play, stop, time, ask the booking service,
//! hang up.

use std::fmt;
use std::time::Duration;

use chrono::NaiveDate;

use crate::booking::model::{Action, ChildCode, ChildId, PayerCode, ServiceCode};

/// An output of [`crate::dialplan::Interpreter::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Play these prompts in order, then send [`crate::dialplan::Event::PromptsFinished`]
    /// with `id`. With `barge_in`, a key press may be followed by [`Output::StopPlayback`].
    Play {
        /// Names this playback in its `PromptsFinished`.
        id: PlaybackId,
        /// What to play.
        prompts: Vec<PromptRef>,
        /// Whether a key interrupts it.
        barge_in: bool,
    },
    /// Stop the current playback now (the caller pressed a key); no `PromptsFinished` for it.
    StopPlayback,
    /// Send [`crate::dialplan::Event::Timeout`] with `id` after `after`. A new timer
    /// replaces the previous one, which may be dropped.
    StartTimer {
        /// Names this timer in its `Timeout`.
        id: TimerId,
        /// How long from now.
        after: Duration,
    },
    /// Ask the booking service, then send [`crate::dialplan::Event::ActionResult`].
    Action(ActionRequest),
    /// Hang up the call (after the last playback finished: the interpreter only asks for it
    /// once the goodbye was played).
    Hangup,
}

/// Names one playback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlaybackId(pub u64);

/// Names one timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerId(pub u64);

/// A prompt id of the manifest (`bienvenue`, `n_5`, `svc_repas`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PromptId(String);

impl PromptId {
    /// Wraps an id (the checker has made sure dialplan ids are in the manifest).
    pub fn new(id: impl Into<String>) -> Self {
        PromptId(id.into())
    }

    /// The id, which is also the WAV file's stem.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PromptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for PromptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One thing to play.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PromptRef {
    /// A prompt of the manifest.
    Prompt(PromptId),
    /// The town's current recorded announcement (kept outside the manifest, replaced by
    /// staff at any time).
    Announcement,
}

impl PromptRef {
    /// The prompt id, or `announcement`.
    pub fn name(&self) -> &str {
        match self {
            PromptRef::Prompt(id) => id.as_str(),
            PromptRef::Announcement => "announcement",
        }
    }
}

/// A request to the booking service. Its `Debug` never shows the codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionRequest {
    /// Check the pair of codes (and count failures for the lockout).
    Login {
        /// The child code typed.
        child_code: ChildCode,
        /// The payer code typed.
        payer_code: PayerCode,
    },
    /// Find the first service day strictly after `after`.
    NextServiceDay {
        /// Usually today in the town's zone.
        after: NaiveDate,
    },
    /// Book `service` on `date` for `child`, channel phone.
    Book {
        /// The child logged in or switched to.
        child: ChildId,
        /// The day.
        date: NaiveDate,
        /// The service.
        service: ServiceCode,
    },
    /// Cancel `service` on `date` for `child`, channel phone.
    Cancel {
        /// The child logged in or switched to.
        child: ChildId,
        /// The day.
        date: NaiveDate,
        /// The service.
        service: ServiceCode,
    },
    /// The child's bookings from `monday` to the Sunday after.
    HearWeek {
        /// The child.
        child: ChildId,
        /// The Monday of the week.
        monday: NaiveDate,
    },
    /// Switch to another child of the same payer (the id comes from the login's list).
    SwitchChild {
        /// The child chosen.
        child: ChildId,
    },
    /// Book (or cancel) `service` on `date` for each of `children`, channel phone, each
    /// checked on its own: the payer's other children after a change for one.
    SameForOthers {
        /// The other children, in the login's order.
        children: Vec<ChildId>,
        /// Book or cancel.
        action: Action,
        /// The day.
        date: NaiveDate,
        /// The service.
        service: ServiceCode,
    },
}
