//! What the voice line did, for tests and supervision: prompts played, booking actions and
//! their results, hang-ups. Never a typed digit or code.

use tokio::sync::mpsc;

/// One thing a call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneEvent {
    /// Prompts were queued for playing, by id (`announcement` for the town's recording).
    Played {
        /// SIP Call-ID.
        call_id: String,
        /// The prompt ids, in order.
        prompts: Vec<String>,
    },
    /// The booking service answered an action of the dialplan.
    Action {
        /// SIP Call-ID.
        call_id: String,
        /// The action's result name (`logged_in`, `booked`, `refused`...).
        result: &'static str,
    },
    /// The staff line started recording (after the beep).
    RecordingStarted {
        /// SIP Call-ID.
        call_id: String,
    },
    /// A new announcement was recorded by phone and is now active.
    AnnouncementSaved {
        /// SIP Call-ID.
        call_id: String,
    },
    /// The dialplans and prompts were reloaded (`ok`), or the new files were refused and
    /// the previous ones stay.
    Reloaded {
        /// Whether the new files are in use.
        ok: bool,
    },
    /// The call's flow ended (hang-up by us or by the caller).
    Ended {
        /// SIP Call-ID.
        call_id: String,
    },
    /// The call's record was written to the database (after [`PhoneEvent::Ended`]).
    Recorded {
        /// SIP Call-ID.
        call_id: String,
    },
}

/// Where a line reports its [`PhoneEvent`]s (nowhere by default).
#[derive(Debug, Clone, Default)]
pub struct EventSink(Option<mpsc::UnboundedSender<PhoneEvent>>);

impl EventSink {
    /// A sink and the receiver of what is sent to it.
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<PhoneEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(Some(tx)), rx)
    }

    /// Reports `event` if anyone listens.
    pub fn emit(&self, event: impl FnOnce() -> PhoneEvent) {
        if let Some(tx) = &self.0 {
            tx.send(event()).ok();
        }
    }
}
