//! Turning a prompt list (fixed ids and spoken values) into what to play.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::dialplan::event::{OtherOutcome, SpokenReason, SpokenRefusal};
use crate::dialplan::format::{PlayItem, SayKind, Var};
use crate::dialplan::output::{PromptId, PromptRef};
use crate::dialplan::vars::Vars;
use crate::say;

/// "depuis", between a refusal's reason and its deadline.
const SINCE: &str = "depuis";
/// Said for a week with no booking.
const WEEK_EMPTY: &str = "semaine_vide";
const REASON_BOOKING_CLOSED: &str = "refus_inscriptions_closes";
const REASON_CANCELLATION_CLOSED: &str = "refus_annulations_closes";
const REASON_NO_SERVICE: &str = "refus_pas_de_service";
const REASON_PAST_DATE: &str = "refus_date_passee";
const REASON_OTHER: &str = "refus_autre";
/// "Enfant numéro", before each other child's outcome.
const CHILD_NUMBER: &str = "enfant_numero";
const OUTCOME_BOOKED: &str = "inscription_enregistree";
const OUTCOME_ALREADY_BOOKED: &str = "deja_inscrit";
const OUTCOME_CANCELLED: &str = "annulation_enregistree";
const OUTCOME_NOT_BOOKED: &str = "pas_inscrit";
/// A technical failure for one child of several: the others' outcomes stand.
const OUTCOME_FAILED: &str = "enfant_non_modifie";

/// The prompt ids a spoken value of this kind may use besides the say module's words
/// (which `ivr check` verifies separately): the checker makes sure the manifest has them.
pub fn fixed_prompts(kind: SayKind) -> impl Iterator<Item = &'static str> {
    const REFUSAL: &[&str] = &[
        REASON_BOOKING_CLOSED,
        REASON_CANCELLATION_CLOSED,
        REASON_NO_SERVICE,
        REASON_PAST_DATE,
        REASON_OTHER,
        SINCE,
    ];
    // Each other child's outcome is one of these, or a refusal.
    const OTHERS: &[&str] = &[
        CHILD_NUMBER,
        OUTCOME_BOOKED,
        OUTCOME_ALREADY_BOOKED,
        OUTCOME_CANCELLED,
        OUTCOME_NOT_BOOKED,
        OUTCOME_FAILED,
    ];
    let (own, refusals): (&[&str], bool) = match kind {
        SayKind::Refusal => (&[], true),
        SayKind::Week => (&[WEEK_EMPTY], false),
        SayKind::Others => (OTHERS, true),
        SayKind::Number | SayKind::Date | SayKind::Service | SayKind::Announcement => (&[], false),
    };
    let refusals: &[&str] = if refusals { REFUSAL } else { &[] };
    own.iter().chain(refusals).copied()
}

/// Where a render stopped: a variable the flow has not set yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unset(pub &'static str);

/// What the renderer reads.
pub(crate) struct Context<'a> {
    pub vars: &'a Vars,
    pub announcement_active: bool,
    pub timezone: Tz,
}

fn push_words(words: &[&'static str], out: &mut Vec<PromptRef>) {
    out.extend(words.iter().map(|w| PromptRef::Prompt(PromptId::new(*w))));
}

/// Appends the prompts of `items` to `out`.
pub(crate) fn render(
    items: &[PlayItem],
    ctx: &Context<'_>,
    out: &mut Vec<PromptRef>,
) -> Result<(), Unset> {
    let mut words: Vec<&'static str> = Vec::new();
    for item in items {
        words.clear();
        match item {
            PlayItem::Prompt(id) => out.push(PromptRef::Prompt(PromptId::new(id.as_str()))),
            PlayItem::Say(s) => match (s.say, s.value) {
                (SayKind::Number, Some(var)) => {
                    let n = match var {
                        Var::ChildNumber => ctx.vars.child_number,
                        Var::ChildrenCount => ctx.vars.children_count(),
                        _ => None,
                    }
                    .ok_or(Unset(var.name()))?;
                    // Counts of children and child numbers are far below 9999.
                    say::number(n.min(say::MAX_NUMBER), &mut words)
                        .expect("number clamped to range");
                    push_words(&words, out);
                }
                (SayKind::Date, _) => {
                    let date = ctx.vars.date.ok_or(Unset(Var::Date.name()))?;
                    say::date(date, &mut words);
                    push_words(&words, out);
                }
                (SayKind::Service, _) => {
                    let service = ctx
                        .vars
                        .service
                        .as_ref()
                        .ok_or(Unset(Var::Service.name()))?;
                    out.push(PromptRef::Prompt(PromptId::new(say::service(service))));
                }
                (SayKind::Refusal, _) => {
                    let refusal = ctx.vars.refusal.as_ref().ok_or(Unset("refusal"))?;
                    refusal_words(refusal, ctx.timezone, &mut words);
                    push_words(&words, out);
                }
                (SayKind::Week, _) => {
                    let week = ctx.vars.week.as_ref().ok_or(Unset("week"))?;
                    if week.is_empty() {
                        words.push(WEEK_EMPTY);
                        push_words(&words, out);
                    } else {
                        let mut by_day: BTreeMap<_, Vec<_>> = BTreeMap::new();
                        for b in week {
                            by_day.entry(b.date).or_default().push(&b.service);
                        }
                        for (date, mut services) in by_day {
                            services.sort();
                            services.dedup();
                            words.clear();
                            say::date(date, &mut words);
                            push_words(&words, out);
                            for s in services {
                                out.push(PromptRef::Prompt(PromptId::new(say::service(s))));
                            }
                        }
                    }
                }
                (SayKind::Announcement, _) => {
                    if ctx.announcement_active {
                        out.push(PromptRef::Announcement);
                    }
                }
                (SayKind::Others, _) => {
                    let others = ctx.vars.others.as_ref().ok_or(Unset("others"))?;
                    for (number, outcome) in others {
                        words.clear();
                        words.push(CHILD_NUMBER);
                        say::number((*number).min(say::MAX_NUMBER), &mut words)
                            .expect("number clamped to range");
                        match outcome {
                            OtherOutcome::Booked => words.push(OUTCOME_BOOKED),
                            OtherOutcome::AlreadyBooked => words.push(OUTCOME_ALREADY_BOOKED),
                            OtherOutcome::Cancelled => words.push(OUTCOME_CANCELLED),
                            OtherOutcome::NotBooked => words.push(OUTCOME_NOT_BOOKED),
                            OtherOutcome::Refused(r) => refusal_words(r, ctx.timezone, &mut words),
                            OtherOutcome::Failed => words.push(OUTCOME_FAILED),
                        }
                        push_words(&words, out);
                    }
                }
                // The checker refuses a number without a value.
                (SayKind::Number, None) => return Err(Unset("value")),
            },
        }
    }
    Ok(())
}

/// "les inscriptions pour cette date sont closes depuis vendredi deux mai à dix heures".
fn refusal_words(refusal: &SpokenRefusal, tz: Tz, out: &mut Vec<&'static str>) {
    let (reason, says_deadline) = match refusal.reason {
        SpokenReason::BookingClosed => (REASON_BOOKING_CLOSED, true),
        SpokenReason::CancellationClosed => (REASON_CANCELLATION_CLOSED, true),
        SpokenReason::NoService => (REASON_NO_SERVICE, false),
        SpokenReason::PastDate => (REASON_PAST_DATE, false),
        SpokenReason::Other => (REASON_OTHER, false),
    };
    out.push(reason);
    if let (true, Some(deadline)) = (says_deadline, refusal.deadline) {
        out.push(SINCE);
        say::date_time(deadline.with_timezone(&tz).naive_local(), out);
    }
}
