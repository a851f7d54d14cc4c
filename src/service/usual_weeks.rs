//! The usual week (semaine type, issue 18 point 1): a parent sets, per child, the services
//! and weekdays wanted; setting it books every open cell that matches up to the end of
//! next month ([`horizon_end`]), and the job [`book_usual_weeks`] books the later weeks as
//! they come (each night, and when staff change closures or holidays).
//!
//! Every booking goes through the booking service's one path (the deadline engine and
//! the write in one transaction, refusals as outcomes): a pattern never books past a
//! deadline, on a holiday or on a closed day, because the booking service refuses those.
//!
//! What the parent does by hand wins: a day cancelled after the pattern was set (by any
//! channel) is not booked again by the job, and stopping the pattern cancels nothing
//! unless the parent asks, and then only the cells whose last change is the pattern's.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, NaiveDate, Utc, Weekday};

use crate::booking::deadline::{Decision, Refusal, decide, town_instant};
use crate::booking::french::weekday_fr;
use crate::booking::model::{Action, Channel, ChildId, ServiceCode};
use crate::booking::usual_week::{UsualWeek, horizon_end, rentree_year, school_year_end};
use crate::service::booking::{
    BookingError, BookingOutcome, BookingService, CellChange, MAX_ATTEMPTS,
};
use crate::store::{StoreError, StoreTx, StoredUsualWeek, UsualWeekRun};

/// The history's actor for the cells a usual week books: the parent who set it, through
/// the pattern (so that stopping it can find what it booked).
pub const USUAL_WEEK_ACTOR: &str = "parent (semaine type)";

/// How far ahead stopping a pattern looks for the bookings it made.
const STOP_LOOKAHEAD_DAYS: u64 = 400;

/// A usual week that cannot be set; the sentence is for the parent, nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum UsualWeekError {
    /// No (service, day) was ticked.
    #[error("cochez au moins une prestation un jour de la semaine")]
    NoCell,
    /// A service the town does not have.
    #[error("la prestation « {0} » n'existe pas")]
    UnknownService(String),
    /// A service ticked on a weekday it never runs.
    #[error("pas de {service} le {day} : cette prestation n'a pas lieu ce jour-là")]
    NotServiceDay {
        /// The service's label.
        service: String,
        /// The weekday, in French.
        day: &'static str,
    },
    /// The last day is before the first.
    #[error("la date de fin est avant la date de début")]
    EndBeforeStart,
    /// The whole period is over.
    #[error("la période choisie est déjà passée")]
    Over,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The booking service failed.
    #[error(transparent)]
    Booking(#[from] BookingError),
}

/// What happened to one cell a pattern asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellResult {
    /// Booked now.
    Booked,
    /// It was booked already; nothing changed.
    AlreadyBooked,
    /// Not booked, with the booking service's reason (holiday, closure, deadline...).
    Skipped(Refusal),
}

/// One cell of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedCell {
    /// The day.
    pub date: NaiveDate,
    /// The service.
    pub service: ServiceCode,
    /// What happened.
    pub result: CellResult,
}

/// What setting a usual week did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Every cell asked for from `from` to `until`, by date, in the town's service order.
    pub cells: Vec<AppliedCell>,
    /// The first day looked at (the pattern's first day, or today when it is past).
    pub from: NaiveDate,
    /// The last day booked now; later weeks are booked as they come.
    pub until: NaiveDate,
    /// The pattern's last day (its own, or the end of the school year).
    pub last_day: NaiveDate,
}

/// What stopping a usual week did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stopped {
    /// Whether a pattern was running.
    pub was_running: bool,
    /// Cells cancelled (when asked), by date.
    pub cancelled: Vec<(NaiveDate, ServiceCode)>,
    /// Cells that could not be cancelled (deadline passed), with the reason.
    pub kept: Vec<(NaiveDate, ServiceCode, Refusal)>,
}

/// What started a pass of [`book_usual_weeks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunTrigger {
    /// The nightly pass.
    Night,
    /// The server started.
    Startup,
    /// Staff added or removed a closure.
    Closure,
    /// School holidays were added.
    Holidays,
}

impl RunTrigger {
    /// The word stored with the run and shown to staff.
    pub fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Night => "nuit",
            RunTrigger::Startup => "démarrage",
            RunTrigger::Closure => "fermeture",
            RunTrigger::Holidays => "vacances",
        }
    }
}

fn town_today(service: &BookingService, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&service.rules().timezone()).date_naive()
}

fn service_codes(service: &BookingService) -> Vec<ServiceCode> {
    service
        .rules()
        .services()
        .iter()
        .map(|s| s.code.clone())
        .collect()
}

/// Checks the pattern against the town's services: every ticked service exists and runs
/// on the ticked weekday, something is ticked, the period is in order.
pub fn check(service: &BookingService, pattern: &UsualWeek) -> Result<(), UsualWeekError> {
    if pattern.cells.is_empty() {
        return Err(UsualWeekError::NoCell);
    }
    for (code, day) in &pattern.cells {
        let svc = service
            .rules()
            .service(code)
            .ok_or_else(|| UsualWeekError::UnknownService(code.to_string()))?;
        if !svc.days.contains(day.0) {
            return Err(UsualWeekError::NotServiceDay {
                service: svc.label.to_lowercase(),
                day: weekday_fr(day.0),
            });
        }
    }
    if pattern.last_day.is_some_and(|l| l < pattern.first_day) {
        return Err(UsualWeekError::EndBeforeStart);
    }
    Ok(())
}

/// The pattern's last day: its own, or the end of the school year of its first day.
async fn last_day_of(
    service: &BookingService,
    pattern: &UsualWeek,
    ends: &mut BTreeMap<i32, NaiveDate>,
) -> Result<NaiveDate, BookingError> {
    if let Some(last) = pattern.last_day {
        return Ok(last);
    }
    let rentree = rentree_year(pattern.first_day);
    if let Some(end) = ends.get(&rentree) {
        return Ok(*end);
    }
    let june = NaiveDate::from_ymd_opt(rentree + 1, 6, 1).expect("1 June exists");
    let august = NaiveDate::from_ymd_opt(rentree + 1, 8, 31).expect("31 August exists");
    let calendar = service.calendar(june, august).await?;
    let end = school_year_end(&calendar, rentree);
    ends.insert(rentree, end);
    Ok(end)
}

/// Sets (replaces) the usual week of `child`, checked first, and books every cell it asks
/// for from its first day (or today) to the end of next month, at `now`, on the web as
/// `set_by`'s pattern ([`USUAL_WEEK_ACTOR`] in the history). The pattern and the bookings
/// are written in one transaction: a database failure leaves neither.
pub async fn set(
    service: &BookingService,
    child: ChildId,
    pattern: &UsualWeek,
    set_by: &str,
    now: DateTime<Utc>,
) -> Result<Applied, UsualWeekError> {
    check(service, pattern)?;
    let today = town_today(service, now);
    let last_day = last_day_of(service, pattern, &mut BTreeMap::new()).await?;
    if last_day < today {
        return Err(UsualWeekError::Over);
    }
    let from = pattern.first_day.max(today);
    let until = last_day.min(horizon_end(today));
    let wanted = pattern.cells_between(from, until, last_day, &service_codes(service));
    let changes: Vec<CellChange> = wanted
        .iter()
        .map(|(date, s)| CellChange {
            date: *date,
            service: s.clone(),
            action: Action::Book,
        })
        .collect();
    let mut attempt = 1;
    let outcomes = loop {
        match try_set(service, child, pattern, set_by, &changes, now).await {
            Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => attempt += 1,
            result => break result?,
        }
    };
    service.count_changes(Channel::Web, &outcomes);
    let cells = changes
        .into_iter()
        .zip(outcomes)
        .map(|(c, o)| AppliedCell {
            date: c.date,
            service: c.service,
            result: match o {
                BookingOutcome::Booked => CellResult::Booked,
                BookingOutcome::Refused(r) => CellResult::Skipped(r),
                _ => CellResult::AlreadyBooked,
            },
        })
        .collect();
    tracing::info!(child = child.0, "usual week set");
    Ok(Applied {
        cells,
        from,
        until,
        last_day,
    })
}

async fn try_set(
    service: &BookingService,
    child: ChildId,
    pattern: &UsualWeek,
    set_by: &str,
    changes: &[CellChange],
    now: DateTime<Utc>,
) -> Result<Vec<BookingOutcome>, StoreError> {
    let mut tx = service.store().begin().await?;
    tx.set_usual_week(child, pattern, set_by, now).await?;
    let outcomes = service
        .change_many_in_tx(&mut tx, child, changes, Channel::Web, USUAL_WEEK_ACTOR, now)
        .await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// Stops the usual week of `child` at `now`. Nothing already booked is cancelled unless
/// `cancel_future`: then every cell from today on whose last change is the pattern's
/// booking is cancelled, each against its deadline (a closed one is kept and said so), in
/// the same transaction as the stop.
pub async fn stop(
    service: &BookingService,
    child: ChildId,
    cancel_future: bool,
    now: DateTime<Utc>,
) -> Result<Stopped, UsualWeekError> {
    let today = town_today(service, now);
    let mut attempt = 1;
    let (was_running, changes, outcomes) = loop {
        match try_stop(service, child, cancel_future, today, now).await {
            Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => attempt += 1,
            result => break result?,
        }
    };
    service.count_changes(Channel::Web, &outcomes);
    let mut out = Stopped {
        was_running,
        ..Stopped::default()
    };
    for (c, o) in changes.into_iter().zip(outcomes) {
        match o {
            BookingOutcome::Cancelled => out.cancelled.push((c.date, c.service)),
            BookingOutcome::Refused(r) => out.kept.push((c.date, c.service, r)),
            _ => {}
        }
    }
    tracing::info!(
        child = child.0,
        cancelled = out.cancelled.len(),
        "usual week stopped"
    );
    Ok(out)
}

async fn try_stop(
    service: &BookingService,
    child: ChildId,
    cancel_future: bool,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(bool, Vec<CellChange>, Vec<BookingOutcome>), StoreError> {
    let mut tx = service.store().begin().await?;
    let was_running = tx.stop_usual_week(child, now).await?;
    let mut changes = Vec::new();
    if cancel_future {
        let last = today + Days::new(STOP_LOOKAHEAD_DAYS);
        changes = tx
            .last_booked_by(child, today, last, USUAL_WEEK_ACTOR)
            .await?
            .into_iter()
            .map(|(date, service)| CellChange {
                date,
                service,
                action: Action::Cancel,
            })
            .collect();
    }
    let outcomes = service
        .change_many_in_tx(&mut tx, child, &changes, Channel::Web, "parent", now)
        .await?;
    tx.commit().await?;
    Ok((was_running, changes, outcomes))
}

/// Books, at `now`, the cells every running usual week asks for from today to the end of
/// next month that are open and not booked, except those the family cancelled after
/// setting the pattern; records the pass (for staff) and returns it. A pattern whose
/// booking fails is counted in `failed` and tried again at the next pass; the others go
/// on. Passes on several nodes at once are harmless: the booking service books a cell
/// once.
pub async fn book_usual_weeks(
    service: &BookingService,
    trigger: RunTrigger,
    now: DateTime<Utc>,
) -> Result<UsualWeekRun, StoreError> {
    let today = town_today(service, now);
    let horizon = horizon_end(today);
    let patterns = service.store().active_usual_weeks(today).await?;
    let calendar = service
        .calendar(today, horizon)
        .await
        .map_err(|e| match e {
            BookingError::Store(e) => e,
            other => StoreError::Corrupt(other.to_string()),
        })?;
    let codes = service_codes(service);
    let mut ends = BTreeMap::new();
    let mut run = UsualWeekRun {
        trigger: trigger.as_str().to_owned(),
        started_at: now,
        finished_at: now,
        patterns: i64::try_from(patterns.len()).unwrap_or(i64::MAX),
        booked: 0,
        skipped: 0,
        kept_cancelled: 0,
        failed: 0,
    };
    for p in &patterns {
        let result = async {
            let last = last_day_of(service, &p.pattern, &mut ends).await?;
            let from = p.pattern.first_day.max(today);
            let until = last.min(horizon);
            let wanted = p.pattern.cells_between(from, until, last, &codes);
            if wanted.is_empty() {
                return Ok::<_, BookingError>(Counts::default());
            }
            // Read first, outside any write transaction: most nights there is nothing to
            // book, and a pattern with nothing to do takes no write lock.
            let booked: BTreeSet<(NaiveDate, ServiceCode)> = service
                .store()
                .bookings_between(p.child, from, until)
                .await?
                .into_iter()
                .collect();
            let mut counts = Counts::default();
            let mut candidates = Vec::new();
            for (date, code) in wanted {
                if booked.contains(&(date, code.clone())) {
                    continue;
                }
                let open = decide(service.rules(), &calendar, date, &code, Action::Book, now);
                if let Decision::Refused(_) = open {
                    counts.skipped += 1;
                    continue;
                }
                candidates.push((date, code));
            }
            if candidates.is_empty() {
                return Ok(counts);
            }
            let mut attempt = 1;
            let batch = loop {
                match try_book(service, p, &candidates, from, until, now).await {
                    Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => attempt += 1,
                    result => break result?,
                }
            };
            counts.add(batch);
            Ok(counts)
        }
        .await;
        match result {
            Ok(c) => {
                run.booked += c.booked;
                run.skipped += c.skipped;
                run.kept_cancelled += c.kept_cancelled;
            }
            Err(e) => {
                tracing::warn!(child = p.child.0, error = %e, "usual week not booked this pass");
                run.failed += 1;
            }
        }
    }
    run.finished_at = now;
    service.store().record_usual_week_run(&run).await?;
    tracing::info!(
        trigger = trigger.as_str(),
        patterns = run.patterns,
        booked = run.booked,
        skipped = run.skipped,
        failed = run.failed,
        "usual weeks booked"
    );
    Ok(run)
}

/// What one pattern's pass did.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    booked: i64,
    skipped: i64,
    kept_cancelled: i64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.booked += other.booked;
        self.skipped += other.skipped;
        self.kept_cancelled += other.kept_cancelled;
    }
}

/// Books `candidates` for the pattern `p` in one transaction, after checking there that
/// the pattern still runs as read and leaving out what the family cancelled since it was
/// set (a cancellation made while the job ran is seen here, not re-booked).
async fn try_book(
    service: &BookingService,
    p: &StoredUsualWeek,
    candidates: &[(NaiveDate, ServiceCode)],
    from: NaiveDate,
    until: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Counts, StoreError> {
    let mut tx: StoreTx = service.store().begin().await?;
    let mut counts = Counts::default();
    if !tx.usual_week_unchanged(p.child, p.updated_at).await? {
        tx.rollback().await?;
        return Ok(counts);
    }
    let cancelled = tx
        .cancelled_since(p.child, from, until, p.updated_at)
        .await?;
    let changes: Vec<CellChange> = candidates
        .iter()
        .filter(|c| {
            let keep = !cancelled.contains(*c);
            if !keep {
                counts.kept_cancelled += 1;
            }
            keep
        })
        .map(|(date, s)| CellChange {
            date: *date,
            service: s.clone(),
            action: Action::Book,
        })
        .collect();
    let outcomes = service
        .change_many_in_tx(
            &mut tx,
            p.child,
            &changes,
            Channel::Web,
            USUAL_WEEK_ACTOR,
            now,
        )
        .await?;
    tx.commit().await?;
    service.count_changes(Channel::Web, &outcomes);
    for o in &outcomes {
        match o {
            BookingOutcome::Booked => counts.booked += 1,
            BookingOutcome::Refused(_) => counts.skipped += 1,
            _ => {}
        }
    }
    Ok(counts)
}

/// The child's running usual week, if any (a stopped one is not shown as running).
pub async fn current(
    service: &BookingService,
    child: ChildId,
) -> Result<Option<StoredUsualWeek>, StoreError> {
    Ok(service
        .store()
        .usual_week(child)
        .await?
        .filter(|w| w.stopped_at.is_none()))
}

/// What staff see of the usual weeks at `now`: how many run (neither stopped nor past
/// their last day, the end of the school year for those without one) and the job's last
/// pass.
pub async fn staff_summary(
    service: &BookingService,
    now: DateTime<Utc>,
) -> Result<(usize, Option<UsualWeekRun>), BookingError> {
    let today = town_today(service, now);
    let mut ends = BTreeMap::new();
    let mut running = 0;
    for w in service.store().active_usual_weeks(today).await? {
        if last_day_of(service, &w.pattern, &mut ends).await? >= today {
            running += 1;
        }
    }
    Ok((running, service.store().last_usual_week_run().await?))
}

/// When the town's clock reads the nightly pass's time: 01:00, after midnight so that
/// "today" has moved on and the new last day of next month comes into reach, long
/// before any 10:00 deadline.
pub const NIGHT_RUN_AT: (u32, u32) = (1, 0);

/// The next nightly pass strictly after `now`, in `tz`'s legal time.
pub fn next_night_run(tz: chrono_tz::Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let time =
        chrono::NaiveTime::from_hms_opt(NIGHT_RUN_AT.0, NIGHT_RUN_AT.1, 0).expect("a valid time");
    let today = now.with_timezone(&tz).date_naive();
    let tonight = town_instant(tz, today, time);
    if tonight > now {
        tonight
    } else {
        town_instant(tz, today + Days::new(1), time)
    }
}

/// The French sentence of a weekday list ("lundi, mardi et jeudi").
pub fn days_fr(days: &[Weekday]) -> String {
    let names: Vec<&str> = days.iter().map(|d| weekday_fr(*d)).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} et {last}", rest.join(", ")),
    }
}

/// The weekdays the pattern ticks for `code`, Monday first (pages list a pattern by service).
pub fn days_of(pattern: &UsualWeek, code: &ServiceCode) -> Vec<Weekday> {
    let mut days: Vec<Weekday> = pattern
        .cells
        .iter()
        .filter(|(s, _)| s == code)
        .map(|(_, d)| d.0)
        .collect();
    days.sort_by_key(|d| d.num_days_from_monday());
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_night_pass_is_at_one_in_the_morning_town_time() {
        use chrono::TimeZone;
        let tz = chrono_tz::Europe::Paris;
        // 19:00 in Paris (18:00 UTC in winter): tonight at 01:00 Paris, 00:00 UTC.
        let evening = Utc.with_ymd_and_hms(2026, 12, 4, 18, 0, 0).unwrap();
        assert_eq!(
            next_night_run(tz, evening),
            Utc.with_ymd_and_hms(2026, 12, 5, 0, 0, 0).unwrap()
        );
        // At 01:00 exactly, the next one is the night after.
        let at_one = Utc.with_ymd_and_hms(2026, 12, 5, 0, 0, 0).unwrap();
        assert_eq!(
            next_night_run(tz, at_one),
            Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn weekday_lists_read_as_french() {
        assert_eq!(days_fr(&[Weekday::Mon]), "lundi");
        assert_eq!(
            days_fr(&[Weekday::Mon, Weekday::Tue, Weekday::Thu]),
            "lundi, mardi et jeudi"
        );
        assert_eq!(days_fr(&[]), "");
    }
}
