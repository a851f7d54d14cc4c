//! What the interpreter is told: the caller's events and the booking service's answers.

use chrono::{DateTime, NaiveDate, Utc};

use crate::booking::model::{ChildId, ServiceCode};
use crate::core::Digit;
use crate::dialplan::output::{PlaybackId, TimerId};

/// An input to [`crate::dialplan::Interpreter::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The call is answered; whether the town has a recorded announcement active now.
    CallStarted {
        /// Whether `{ say = "announcement" }` plays the announcement.
        announcement_active: bool,
    },
    /// The prompts of this [`crate::dialplan::Output::Play`] were played to the end.
    /// Not sent for a play stopped by [`crate::dialplan::Output::StopPlayback`]; a stale id
    /// is ignored.
    PromptsFinished(PlaybackId),
    /// The caller pressed a key (RFC 4733 event or in-band DTMF), once per press.
    Key(Digit),
    /// The timer of this [`crate::dialplan::Output::StartTimer`] ran out; a stale id is
    /// ignored.
    Timeout(TimerId),
    /// The booking service answered the last [`crate::dialplan::Output::Action`].
    ActionResult(ActionResult),
    /// The caller hung up: the interpreter forgets the codes and ends.
    HungUp,
}

/// The booking service's answer to an [`crate::dialplan::ActionRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionResult {
    /// Login: the codes match. `children` are the payer's children in the order the caller
    /// picks them by number (1 is the first), the logged-in child among them.
    LoggedIn {
        /// The child whose codes were typed.
        child: ChildId,
        /// Every child of the payer, in a stable order.
        children: Vec<ChildId>,
    },
    /// Login: the pair does not match (which code was wrong is never told).
    WrongCodes,
    /// Login: too many failures, this source or child code is locked out for a while.
    Locked,
    /// The next service day after the date asked, if there is one in the coming weeks.
    NextServiceDay(Option<NaiveDate>),
    /// Book: booked now.
    Booked,
    /// Book: it was already booked; nothing changed.
    AlreadyBooked,
    /// Cancel: cancelled now.
    Cancelled,
    /// Cancel: it was not booked; nothing changed.
    NotBooked,
    /// Book or cancel: refused, with why and the deadline.
    Refused(SpokenRefusal),
    /// The bookings of the week asked, in any order.
    Week(Vec<WeekBooking>),
    /// Switch child: done.
    Switched,
    /// Same for the others: each other child's outcome, in the request's order.
    Others(Vec<OtherOutcome>),
    /// A technical failure (database unreachable...); the caller hears a polite message.
    Failed,
}

impl ActionResult {
    /// A short name for logs and errors (never any code).
    pub fn name(&self) -> &'static str {
        match self {
            ActionResult::LoggedIn { .. } => "logged_in",
            ActionResult::WrongCodes => "wrong_codes",
            ActionResult::Locked => "locked",
            ActionResult::NextServiceDay(_) => "next_service_day",
            ActionResult::Booked => "booked",
            ActionResult::AlreadyBooked => "already_booked",
            ActionResult::Cancelled => "cancelled",
            ActionResult::NotBooked => "not_booked",
            ActionResult::Refused(_) => "refused",
            ActionResult::Week(_) => "week",
            ActionResult::Switched => "switched",
            ActionResult::Others(_) => "others",
            ActionResult::Failed => "failed",
        }
    }
}

/// Why a booking or cancellation was refused, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpokenRefusal {
    /// Why.
    pub reason: SpokenReason,
    /// The deadline that passed, for [`SpokenReason::BookingClosed`] and
    /// [`SpokenReason::CancellationClosed`]; spoken in the dialplan's time zone.
    pub deadline: Option<DateTime<Utc>>,
}

/// The reasons a refusal is spoken with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpokenReason {
    /// The booking deadline has passed.
    BookingClosed,
    /// The cancellation deadline has passed.
    CancellationClosed,
    /// The service does not run that day (Wednesday, holidays, closure).
    NoService,
    /// The date is in the past.
    PastDate,
    /// Any other reason (the web shows the town's sentence; the phone says it is not
    /// possible).
    Other,
}

/// One booked service on one day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WeekBooking {
    /// The day.
    pub date: NaiveDate,
    /// The service booked.
    pub service: ServiceCode,
}

/// What a request made again for another child gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtherOutcome {
    /// Booked now.
    Booked,
    /// It was booked already.
    AlreadyBooked,
    /// Cancelled now.
    Cancelled,
    /// It was not booked.
    NotBooked,
    /// Refused by this child's own rules, with why and the deadline.
    Refused(SpokenRefusal),
    /// A technical failure for this child.
    Failed,
}
