//! A call's record for the staff dashboard, kept as the call runs and written when it
//! ends: how far it got (login failed, locked, booked N, cancelled N…), where it stopped,
//! who hung up. It sees only the booking service's answers and the dialplan's node names,
//! never a typed digit or code.

use chrono::{DateTime, Utc};

use crate::call::CallInfo;
use crate::dialplan::{ActionResult, OtherOutcome};
use crate::store::{CallOutcome, CallRecord, EndedBy};

/// The record of one call in progress.
#[derive(Debug, Clone)]
pub struct CallRecorder {
    started_at: DateTime<Utc>,
    line: String,
    caller: String,
    dialplan: String,
    logged_in: bool,
    locked: bool,
    logins_failed: u32,
    booked: u32,
    cancelled: u32,
    refused: u32,
    failed: u32,
    last_step: String,
    ended_by: EndedBy,
}

/// How the record names the caller: the number the trunk asserted, else the From number;
/// kept (`n:`) when the town keeps numbers, else as `pseudonym` of it (`h:`).
pub fn caller_label(
    info: &CallInfo,
    keep_numbers: bool,
    pseudonym: impl FnOnce(&str) -> String,
) -> String {
    let number = info
        .asserted_caller
        .as_deref()
        .or(info.caller.as_deref())
        .filter(|n| !n.is_empty());
    match number {
        None => String::new(),
        Some(n) if keep_numbers => format!("n:{n}"),
        Some(n) => format!("h:{}", pseudonym(n)),
    }
}

impl CallRecorder {
    /// A call on `line` from `caller` (see [`caller_label`]) that started running
    /// `dialplan` at `started_at`. Until told otherwise, the caller ends it.
    pub fn new(started_at: DateTime<Utc>, line: &str, caller: String, dialplan: &str) -> Self {
        Self {
            started_at,
            line: line.to_owned(),
            caller,
            dialplan: dialplan.to_owned(),
            logged_in: false,
            locked: false,
            logins_failed: 0,
            booked: 0,
            cancelled: 0,
            refused: 0,
            failed: 0,
            last_step: String::new(),
            ended_by: EndedBy::Caller,
        }
    }

    /// The booking service answered an action.
    pub fn action(&mut self, result: &ActionResult) {
        match result {
            ActionResult::LoggedIn { .. } => self.logged_in = true,
            ActionResult::WrongCodes => self.logins_failed += 1,
            ActionResult::Locked => self.locked = true,
            ActionResult::Booked => self.booked += 1,
            ActionResult::Cancelled => self.cancelled += 1,
            ActionResult::Refused(_) => self.refused += 1,
            ActionResult::Failed => self.failed += 1,
            // The call's record counts the other children's changes as its own: the
            // pg fault test checks that its confirmations are the bookings written.
            ActionResult::Others(outcomes) => {
                for o in outcomes {
                    match o {
                        OtherOutcome::Booked => self.booked += 1,
                        OtherOutcome::Cancelled => self.cancelled += 1,
                        OtherOutcome::Refused(_) => self.refused += 1,
                        OtherOutcome::Failed => self.failed += 1,
                        OtherOutcome::AlreadyBooked | OtherOutcome::NotBooked => {}
                    }
                }
            }
            ActionResult::NextServiceDay(_)
            | ActionResult::AlreadyBooked
            | ActionResult::NotBooked
            | ActionResult::Week(_)
            | ActionResult::Switched => {}
        }
    }

    /// The dialplan is at `node` (none once it has ended: the last one is kept).
    pub fn at(&mut self, node: Option<&str>) {
        if let Some(node) = node
            && node != self.last_step
        {
            node.clone_into(&mut self.last_step);
        }
    }

    /// The line hung up (the flow ended, or it gave up on the caller).
    pub fn line_hung_up(&mut self) {
        self.ended_by = EndedBy::Line;
    }

    /// How far the call got, so far.
    pub fn outcome(&self) -> CallOutcome {
        if self.logged_in && self.booked + self.cancelled > 0 {
            CallOutcome::Changed
        } else if self.logged_in {
            CallOutcome::Consulted
        } else if self.locked {
            CallOutcome::Locked
        } else if self.logins_failed > 0 {
            CallOutcome::LoginFailed
        } else {
            CallOutcome::NoLogin
        }
    }

    /// The record of the call, ended at `ended_at`.
    pub fn finish(&self, ended_at: DateTime<Utc>) -> CallRecord {
        CallRecord {
            started_at: self.started_at,
            ended_at,
            line: self.line.clone(),
            caller: self.caller.clone(),
            dialplan: self.dialplan.clone(),
            outcome: self.outcome(),
            logins_failed: self.logins_failed,
            booked: self.booked,
            cancelled: self.cancelled,
            refused: self.refused,
            failed: self.failed,
            last_step: self.last_step.clone(),
            ended_by: self.ended_by,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::model::ChildId;
    use crate::media::Codec;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn info(caller: Option<&str>, asserted: Option<&str>) -> CallInfo {
        CallInfo {
            call_id: "c@h".into(),
            dialled: "0476549985".into(),
            caller: caller.map(Into::into),
            source_ip: None,
            asserted_caller: asserted.map(Into::into),
            codec: Codec::Pcmu,
        }
    }

    #[test]
    fn the_caller_is_hashed_unless_the_town_keeps_numbers_and_the_trunk_is_believed_first() {
        let hash = |n: &str| format!("#{}", n.len());
        assert_eq!(caller_label(&info(Some("0612"), None), false, hash), "h:#4");
        assert_eq!(
            caller_label(&info(Some("0612"), None), true, hash),
            "n:0612"
        );
        assert_eq!(
            caller_label(&info(Some("0612"), Some("+33476")), true, hash),
            "n:+33476"
        );
        assert_eq!(caller_label(&info(None, None), false, hash), "");
        assert_eq!(caller_label(&info(Some(""), None), true, hash), "");
    }

    #[test]
    fn outcomes_follow_how_far_the_call_got() {
        let mut r = CallRecorder::new(
            at("2026-03-09T08:59:00Z"),
            "0476549985",
            String::new(),
            "default",
        );
        assert_eq!(r.outcome(), CallOutcome::NoLogin);
        r.action(&ActionResult::WrongCodes);
        r.action(&ActionResult::WrongCodes);
        assert_eq!(r.outcome(), CallOutcome::LoginFailed);
        r.action(&ActionResult::Locked);
        assert_eq!(r.outcome(), CallOutcome::Locked);
        r.action(&ActionResult::LoggedIn {
            child: ChildId(1),
            children: vec![ChildId(1)],
        });
        assert_eq!(r.outcome(), CallOutcome::Consulted);
        r.action(&ActionResult::Booked);
        r.action(&ActionResult::Cancelled);
        r.action(&ActionResult::Failed);
        assert_eq!(r.outcome(), CallOutcome::Changed);
        let rec = r.finish(at("2026-03-09T09:01:00Z"));
        assert_eq!(
            (
                rec.logins_failed,
                rec.booked,
                rec.cancelled,
                rec.failed,
                rec.refused
            ),
            (2, 1, 1, 1, 0)
        );
        assert_eq!(
            rec.ended_by,
            EndedBy::Caller,
            "a call is the caller's to end until we hang up"
        );
    }

    #[test]
    fn the_last_step_is_the_last_node_seen_and_the_line_may_end_the_call() {
        let mut r = CallRecorder::new(at("2026-03-09T08:59:00Z"), "1", String::new(), "default");
        r.at(Some("welcome"));
        r.at(Some("child_code"));
        r.at(None);
        r.line_hung_up();
        let rec = r.finish(at("2026-03-09T09:00:00Z"));
        assert_eq!(rec.last_step, "child_code");
        assert_eq!(rec.ended_by, EndedBy::Line);
    }
}
