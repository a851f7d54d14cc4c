//! The booking side of a call: performs the dialplan's [`ActionRequest`]s on the
//! [`BookingService`] and maps its answers to the interpreter's [`ActionResult`]s.
//!
//! The session (payer and children) lives here, so a request for a child that is not the
//! caller's is refused whatever the dialplan asks. Codes are passed through, never logged.

use chrono::{DateTime, NaiveDate, Utc};
use tracing::{info, warn};

use crate::booking::deadline::RefusalReason as EngineReason;
use crate::booking::model::{Action, Channel, ChildId, PayerId};
use crate::dialplan::{
    ActionRequest, ActionResult, OtherOutcome, SpokenReason, SpokenRefusal, WeekBooking,
};
use crate::service::booking::{BookingOutcome, BookingService};
use crate::service::login::{LoginError, Origin};

/// Who the history names as the author of a change made by a parent (as the web does).
const ACTOR: &str = "parent";

/// One call's dealings with the booking service.
#[derive(Debug)]
pub struct CallSession {
    origin: Origin,
    payer: Option<PayerId>,
    children: Vec<ChildId>,
}

impl CallSession {
    /// A call whose logins come from `origin` (see [`crate::phone::bridge::login_origin`]).
    pub fn new(origin: Origin) -> Self {
        Self {
            origin,
            payer: None,
            children: Vec::new(),
        }
    }

    fn owns(&self, child: ChildId) -> bool {
        self.payer.is_some() && self.children.contains(&child)
    }

    /// Performs `request` at `now`; a technical failure is logged and answered `Failed`.
    pub async fn perform(
        &mut self,
        service: &BookingService,
        request: ActionRequest,
        now: DateTime<Utc>,
    ) -> ActionResult {
        match request {
            ActionRequest::Login {
                child_code,
                payer_code,
            } => match service
                .login_from(&self.origin, &child_code, &payer_code, now)
                .await
            {
                Ok(session) => match service.children(session.payer).await {
                    Ok(children) => {
                        self.payer = Some(session.payer);
                        self.children = children.iter().map(|c| c.id).collect();
                        if !self.children.contains(&session.child) {
                            self.children.insert(0, session.child);
                        }
                        info!("phone login");
                        ActionResult::LoggedIn {
                            child: session.child,
                            children: self.children.clone(),
                        }
                    }
                    Err(e) => failed("children", &e),
                },
                Err(LoginError::WrongCodes) => {
                    info!("phone login refused");
                    ActionResult::WrongCodes
                }
                Err(LoginError::TooManyAttempts { .. }) => {
                    info!("phone login locked out");
                    ActionResult::Locked
                }
                Err(e @ LoginError::Store(_)) => failed("login", &e),
            },
            ActionRequest::NextServiceDay { after } => {
                match service.next_service_day(after, now).await {
                    Ok(day) => ActionResult::NextServiceDay(day),
                    Err(e) => failed("next service day", &e),
                }
            }
            ActionRequest::Book {
                child,
                date,
                service: code,
            }
            | ActionRequest::Cancel {
                child,
                date,
                service: code,
            } if !self.owns(child) => {
                warn!(?code, %date, "phone change for a child not of this session");
                ActionResult::Failed
            }
            ActionRequest::Book {
                child,
                date,
                service: code,
            } => {
                self.change(service, child, date, &code, Action::Book, now)
                    .await
            }
            ActionRequest::Cancel {
                child,
                date,
                service: code,
            } => {
                self.change(service, child, date, &code, Action::Cancel, now)
                    .await
            }
            ActionRequest::HearWeek { child, monday } => {
                if !self.owns(child) {
                    return ActionResult::Failed;
                }
                match service.week(child, monday, 1, now).await {
                    Ok(planning) => ActionResult::Week(
                        planning
                            .weeks
                            .iter()
                            .flat_map(|w| &w.days)
                            .flat_map(|d| {
                                d.cells.iter().filter(|c| c.booked).map(|c| WeekBooking {
                                    date: d.date,
                                    service: c.service.clone(),
                                })
                            })
                            .collect(),
                    ),
                    Err(e) => failed("week", &e),
                }
            }
            ActionRequest::SwitchChild { child } => {
                if self.owns(child) {
                    ActionResult::Switched
                } else {
                    ActionResult::Failed
                }
            }
            ActionRequest::SameForOthers {
                children,
                action,
                date,
                service: code,
            } => {
                if !children.iter().all(|c| self.owns(*c)) {
                    warn!(?code, %date, "phone change for a child not of this session");
                    return ActionResult::Failed;
                }
                // Each child by its own rules and in its own transaction, as if the caller
                // had switched to it and asked again: one refused does not stop the others.
                let mut outcomes = Vec::with_capacity(children.len());
                for child in children {
                    outcomes.push(
                        match self.change(service, child, date, &code, action, now).await {
                            ActionResult::Booked => OtherOutcome::Booked,
                            ActionResult::AlreadyBooked => OtherOutcome::AlreadyBooked,
                            ActionResult::Cancelled => OtherOutcome::Cancelled,
                            ActionResult::NotBooked => OtherOutcome::NotBooked,
                            ActionResult::Refused(r) => OtherOutcome::Refused(r),
                            _ => OtherOutcome::Failed,
                        },
                    );
                }
                ActionResult::Others(outcomes)
            }
        }
    }

    async fn change(
        &self,
        service: &BookingService,
        child: ChildId,
        date: NaiveDate,
        code: &crate::booking::model::ServiceCode,
        action: Action,
        now: DateTime<Utc>,
    ) -> ActionResult {
        let today = now.with_timezone(&service.rules().timezone()).date_naive();
        let attempt = || service.change(child, date, code, action, Channel::Phone, ACTOR, now);
        // A change the database could not take (restarting, a connection cut) is tried once
        // more after a pause the caller hears as a short silence; a second failure is said
        // as such ("service momentanément indisponible"), never as a confirmation. The
        // change is one transaction, so a first try whose commit did land is found by the
        // second as already done.
        let result = match attempt().await {
            Err(e) => {
                warn!(error = %e, "booking service failed (change): trying once more");
                tokio::time::sleep(CHANGE_RETRY_AFTER).await;
                attempt().await
            }
            done => done,
        };
        match result {
            Ok(BookingOutcome::Booked) => ActionResult::Booked,
            Ok(BookingOutcome::AlreadyBooked) => ActionResult::AlreadyBooked,
            Ok(BookingOutcome::Cancelled) => ActionResult::Cancelled,
            Ok(BookingOutcome::NotBooked) => ActionResult::NotBooked,
            Ok(BookingOutcome::Refused(r)) => {
                ActionResult::Refused(refusal(&r.reason, r.deadline, action, date < today))
            }
            Err(e) => failed("change", &e),
        }
    }
}

/// The engine's refusal as the dialplan speaks it. A past date is said as such; a staff
/// override is spoken as the deadline it set (its sentence is for the web).
pub fn refusal(
    reason: &EngineReason,
    deadline: Option<DateTime<Utc>>,
    action: Action,
    past: bool,
) -> SpokenRefusal {
    let closed = match action {
        Action::Book => SpokenReason::BookingClosed,
        Action::Cancel => SpokenReason::CancellationClosed,
    };
    let reason = match reason {
        _ if past => SpokenReason::PastDate,
        EngineReason::DeadlinePassed | EngineReason::Override { .. } => closed,
        EngineReason::NotServiceDay
        | EngineReason::SchoolHoliday { .. }
        | EngineReason::PublicHoliday { .. }
        | EngineReason::TownClosed => SpokenReason::NoService,
        EngineReason::UnknownService | EngineReason::NoWorkingDay => SpokenReason::Other,
    };
    let deadline = match reason {
        SpokenReason::BookingClosed | SpokenReason::CancellationClosed => deadline,
        _ => None,
    };
    SpokenRefusal { reason, deadline }
}

/// The pause before a failed booking or cancellation is tried again: about what a
/// restarted PostgreSQL takes to accept connections, short enough for a caller on the line.
const CHANGE_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

fn failed(what: &str, error: &dyn std::fmt::Display) -> ActionResult {
    warn!(%error, "booking service failed ({what})");
    ActionResult::Failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_spoken_by_kind() {
        let t = DateTime::parse_from_rfc3339("2025-05-02T08:00:00Z")
            .unwrap()
            .to_utc();
        let r = refusal(&EngineReason::DeadlinePassed, Some(t), Action::Book, false);
        assert_eq!(r.reason, SpokenReason::BookingClosed);
        assert_eq!(r.deadline, Some(t));
        let r = refusal(
            &EngineReason::Override {
                message: "x".into(),
            },
            Some(t),
            Action::Cancel,
            false,
        );
        assert_eq!(r.reason, SpokenReason::CancellationClosed);
        let r = refusal(&EngineReason::NotServiceDay, None, Action::Book, false);
        assert_eq!((r.reason, r.deadline), (SpokenReason::NoService, None));
        let r = refusal(&EngineReason::DeadlinePassed, Some(t), Action::Book, true);
        assert_eq!((r.reason, r.deadline), (SpokenReason::PastDate, None));
        let r = refusal(&EngineReason::UnknownService, None, Action::Book, false);
        assert_eq!(r.reason, SpokenReason::Other);
    }
}
