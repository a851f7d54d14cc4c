//! The deadline engine: one pure function that every channel (phone, web, staff, the
//! `ivr deadline` command) asks whether a cell (date, service) may be booked or cancelled.
//!
//! No I/O and no clock: `now` is passed in, read once at the edge (DESIGN.md, habit 2).
//!
//! DESIGN.md sketches a `child` parameter. It is left out: every rule the town has today is
//! the same for every child (one calendar, one set of services). When schools get calendars
//! of their own, the child's school is what the engine will need, and it will take that.

use chrono::{
    DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::booking::calendar::{Calendar, Override};
use crate::booking::french::{date_fr, time_fr};
use crate::booking::model::{Action, ServiceCode};
use crate::booking::rules::{DeadlineRule, Rules, Service};

/// The answer for one cell at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The action is allowed until `deadline` (excluded).
    Open {
        /// When it closes.
        deadline: DateTime<Utc>,
    },
    /// The action is refused, with why and since when.
    Refused(Refusal),
}

impl Decision {
    /// Whether the action is allowed.
    pub fn is_open(&self) -> bool {
        matches!(self, Decision::Open { .. })
    }

    /// The deadline of the cell, when the service runs that day.
    pub fn deadline(&self) -> Option<DateTime<Utc>> {
        match self {
            Decision::Open { deadline } => Some(*deadline),
            Decision::Refused(r) => r.deadline,
        }
    }
}

/// Why a cell cannot be booked or cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalReason {
    /// The service does not run on that weekday (e.g. Wednesday).
    NotServiceDay,
    /// The day is in a school holiday period.
    SchoolHoliday {
        /// The period's name, e.g. "Vacances de la Toussaint".
        name: String,
    },
    /// The day is a public holiday.
    PublicHoliday {
        /// Its French name, e.g. "Ascension".
        name: String,
    },
    /// The town declared the day closed (pont).
    TownClosed,
    /// The rule's deadline has passed.
    DeadlinePassed,
    /// A staff override's deadline has passed.
    Override {
        /// The staff's sentence.
        message: String,
    },
    /// The town has no service with this code.
    UnknownService,
    /// No working day of the office precedes the date within the search bound, so no
    /// deadline can be set (only a calendar closed for weeks on end can cause this).
    NoWorkingDay,
}

/// A refusal, with what a parent needs to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub reason: RefusalReason,
    /// The cell's deadline, when the service runs that day.
    pub deadline: Option<DateTime<Utc>>,
    /// The service day asked for.
    pub date: NaiveDate,
    /// The service's label ("Cantine"), or the code asked for when it is unknown.
    pub service_label: String,
    /// The town's legal time, in which the deadline is shown.
    pub timezone: Tz,
}

impl Refusal {
    /// The French sentence a parent reads or hears.
    pub fn sentence_fr(&self, action: Action) -> String {
        let day = date_fr(self.date);
        let service = service_phrase(&self.service_label);
        match &self.reason {
            RefusalReason::NotServiceDay => format!("Pas {service} le {day}."),
            RefusalReason::SchoolHoliday { name } => {
                format!("Pas {service} le {day} : {name}.")
            }
            RefusalReason::PublicHoliday { name } => {
                format!("Pas {service} le {day}, jour férié ({name}).")
            }
            RefusalReason::TownClosed => {
                format!("Pas {service} le {day} : la mairie est fermée ce jour-là.")
            }
            RefusalReason::DeadlinePassed => {
                let what = match action {
                    Action::Book => "Les inscriptions",
                    Action::Cancel => "Les annulations",
                };
                match self.deadline {
                    Some(deadline) => {
                        let local = deadline.with_timezone(&self.timezone);
                        format!(
                            "{what} pour le {day} sont closes depuis le {} à {}.",
                            date_fr(local.date_naive()),
                            time_fr(local.time())
                        )
                    }
                    None => format!("{what} pour le {day} sont closes."),
                }
            }
            RefusalReason::Override { message } => message.clone(),
            RefusalReason::UnknownService => {
                format!("La prestation « {} » n'existe pas.", self.service_label)
            }
            RefusalReason::NoWorkingDay => format!(
                "Aucun jour ouvré de la mairie ne précède le {day} : le délai ne peut être fixé."
            ),
        }
    }
}

/// "de cantine", "d'accueil matin": the label after "Pas", in lower case as in running
/// French text, with the elision French requires before a vowel or a mute h.
fn service_phrase(label: &str) -> String {
    let lowered = label.to_lowercase();
    let vowel = lowered
        .chars()
        .next()
        .is_some_and(|c| "aeiouyéèêàâîôûh".contains(c));
    if vowel {
        format!("d'{lowered}")
    } else {
        format!("de {lowered}")
    }
}

/// How many days back the engine looks for working days before giving up.
const SEARCH_DAYS: u32 = 400;

/// Decides whether `action` on (`date`, `service`) is allowed at `now`.
///
/// Checks, in order: the service exists; it runs on that weekday; the day is not a public
/// holiday, not in school holidays, not a closure; then the deadline (a staff override's
/// if one matches, else the rule's) against `now`: at the deadline instant exactly, the
/// cell is closed ("clôt à 10h").
pub fn decide(
    rules: &Rules,
    calendar: &Calendar,
    date: NaiveDate,
    service: &ServiceCode,
    action: Action,
    now: DateTime<Utc>,
) -> Decision {
    let refuse = |reason, deadline, label: &str| {
        Decision::Refused(Refusal {
            reason,
            deadline,
            date,
            service_label: label.to_owned(),
            timezone: rules.timezone(),
        })
    };
    let Some(svc) = rules.service(service) else {
        return refuse(RefusalReason::UnknownService, None, service.as_str());
    };
    match cell_deadline(rules, calendar, svc, date, action) {
        Err(reason) => refuse(reason, None, &svc.label),
        Ok((deadline, _)) if now < deadline => Decision::Open { deadline },
        Ok((deadline, Some(o))) => refuse(
            RefusalReason::Override {
                message: o.message.clone(),
            },
            Some(deadline),
            &svc.label,
        ),
        Ok((deadline, None)) => refuse(RefusalReason::DeadlinePassed, Some(deadline), &svc.label),
    }
}

/// The deadline of (`date`, `service`, `action`), overrides included, or `None` when the
/// service does not run that day (or is unknown): what the web planning shows in each cell.
pub fn deadline_for(
    rules: &Rules,
    calendar: &Calendar,
    date: NaiveDate,
    service: &ServiceCode,
    action: Action,
) -> Option<DateTime<Utc>> {
    let svc = rules.service(service)?;
    cell_deadline(rules, calendar, svc, date, action)
        .ok()
        .map(|(deadline, _)| deadline)
}

/// Whether `service` runs on `date`, and if not, why.
pub fn service_runs(
    calendar: &Calendar,
    service: &Service,
    date: NaiveDate,
) -> Result<(), RefusalReason> {
    use chrono::Datelike;
    if !service.days.contains(date.weekday()) {
        return Err(RefusalReason::NotServiceDay);
    }
    if let Some(name) = calendar.public_holiday(date) {
        return Err(RefusalReason::PublicHoliday {
            name: name.to_owned(),
        });
    }
    if let Some(h) = calendar.school_holiday(date) {
        return Err(RefusalReason::SchoolHoliday {
            name: h.name.clone(),
        });
    }
    if calendar.is_closed(date) {
        return Err(RefusalReason::TownClosed);
    }
    Ok(())
}

fn cell_deadline<'c>(
    rules: &Rules,
    calendar: &'c Calendar,
    service: &Service,
    date: NaiveDate,
    action: Action,
) -> Result<(DateTime<Utc>, Option<&'c Override>), RefusalReason> {
    service_runs(calendar, service, date)?;
    if let Some(o) = calendar.override_for(date, &service.code, action) {
        return Ok((o.deadline, Some(o)));
    }
    let day = deadline_day(calendar, service.deadline, date).ok_or(RefusalReason::NoWorkingDay)?;
    Ok((
        town_instant(rules.timezone(), day, service.deadline.at),
        None,
    ))
}

/// The office day on which the rule's deadline falls for service day `date`: the N-th
/// working day before it; for N = 0 the day itself, or the last working day before it when
/// the office does not work that day (so a deadline is always on a working day).
pub fn deadline_day(calendar: &Calendar, rule: DeadlineRule, date: NaiveDate) -> Option<NaiveDate> {
    let mut day = date;
    let mut left = rule.working_days_before;
    if left == 0 && calendar.is_working_day(day) {
        return Some(day);
    }
    for _ in 0..SEARCH_DAYS {
        day = day.checked_sub_days(Days::new(1))?;
        if calendar.is_working_day(day) {
            if left <= 1 {
                return Some(day);
            }
            left -= 1;
        }
    }
    None
}

/// The instant at which the town's clock reads `time` on `day`. On the autumn change the
/// hour happens twice: the first one counts. In the spring gap (02:00 to 03:00 does not
/// exist) the first instant at which the clock reads a later time counts, i.e. 03:00.
pub fn town_instant(tz: Tz, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let wall: NaiveDateTime = day.and_time(time);
    let mut local = wall;
    // A gap lasts an hour in the zones towns use; three hours bounds the walk.
    for _ in 0..180 {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
        local += TimeDelta::minutes(1);
    }
    // Past a longer gap: read the wall time with the offset in force a day before.
    let offset = tz
        .offset_from_utc_datetime(&(wall - TimeDelta::days(1)))
        .fix();
    Utc.from_utc_datetime(&(wall - offset))
}

/// The first day in `first..=last` on which some service of `rules` runs (whether or not
/// its deadline has passed at `now`): "the next service day" a caller hears. A day runs
/// when booking it is open, or refused only for its deadline (the rule's or a staff
/// override's); weekdays off, holidays and closures do not.
pub fn next_service_day(
    rules: &Rules,
    calendar: &Calendar,
    first: NaiveDate,
    last: NaiveDate,
    now: DateTime<Utc>,
) -> Option<NaiveDate> {
    first
        .iter_days()
        .take_while(|day| *day <= last)
        .find(|&day| {
            rules.services().iter().any(|s| {
                match decide(rules, calendar, day, &s.code, Action::Book, now) {
                    Decision::Open { .. } => true,
                    Decision::Refused(r) => matches!(
                        r.reason,
                        RefusalReason::DeadlinePassed | RefusalReason::Override { .. }
                    ),
                }
            })
        })
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod region_tests;
#[cfg(test)]
mod tests;
