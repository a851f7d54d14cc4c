//! The booking service: what every channel (phone, web, staff pages) calls to log in, read
//! a planning, and book or cancel.
//!
//! One rule for every write: the deadline check (the engine's [`decide`], over the base
//! calendar plus the closures, overrides and school holidays kept in the database) and the write are
//! one transaction at one instant `now`. Outcomes are idempotent (booking what is booked
//! says so and changes nothing) and each real change, and only a real change, adds a
//! history row in the same transaction.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};

use crate::booking::calendar::{Calendar, CalendarError, Override, SchoolHoliday};
use crate::booking::deadline::{self, Decision, Refusal, decide};
use crate::booking::model::{Action, Channel, ChildCode, ChildId, PayerCode, PayerId, ServiceCode};
use crate::booking::rules::Rules;
use crate::metrics::Metrics;
use crate::service::login::{LoginConfig, LoginError, LoginGuard, Origin, Session};
use crate::store::{
    Child, Closure, HeadCount, HistoryEntry, OverrideId, Store, StoreError, StoreTx, StoredOverride,
};

/// How far back the deadline engine may look for working days: closures that far before
/// a date can move its deadline (the engine's own search bound).
const CLOSURE_LOOKBACK_DAYS: u64 = 400;

/// How far "the next service day" is looked for.
pub const NEXT_SERVICE_DAY_HORIZON: u64 = 60;

/// How many times a transaction that lost a race (PostgreSQL serialization failure or
/// deadlock, SQLite still busy) is run again before giving up.
pub(crate) const MAX_ATTEMPTS: u32 = 5;

/// The most weeks one planning request covers (a bound on the work per request).
pub const MAX_PLANNING_WEEKS: u32 = 12;

/// Errors of the booking service. Sentences are French; details are in the source.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// The database failed or refused (a duplicate, a missing row...).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A staff override or closure is not valid for the town's services.
    #[error("{0}")]
    Invalid(String),
}

impl From<CalendarError> for BookingError {
    fn from(e: CalendarError) -> Self {
        BookingError::Invalid(e.to_string())
    }
}

/// What a booking or cancellation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookingOutcome {
    /// The cell is now booked (a history row was written).
    Booked,
    /// It was already booked; nothing changed.
    AlreadyBooked,
    /// The booking was cancelled (a history row was written).
    Cancelled,
    /// It was not booked; nothing changed.
    NotBooked,
    /// The deadline engine refused; nothing changed.
    Refused(Refusal),
}

impl BookingOutcome {
    /// Whether the booking changed (and the history got a row).
    pub fn changed(&self) -> bool {
        matches!(self, BookingOutcome::Booked | BookingOutcome::Cancelled)
    }

    /// The French sentence for the parent, `action` being what was asked.
    pub fn sentence_fr(&self, action: Action) -> String {
        match self {
            BookingOutcome::Booked => "Inscription enregistrée.".into(),
            BookingOutcome::AlreadyBooked => "Déjà inscrit : rien n'a changé.".into(),
            BookingOutcome::Cancelled => "Annulation enregistrée.".into(),
            BookingOutcome::NotBooked => "Pas d'inscription à annuler : rien n'a changé.".into(),
            BookingOutcome::Refused(r) => r.sentence_fr(action),
        }
    }
}

/// One cell to change: the web's "Validez vos modifications" sends several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellChange {
    /// The service day.
    pub date: NaiveDate,
    /// The service.
    pub service: ServiceCode,
    /// Book or cancel.
    pub action: Action,
}

/// One cell of a planning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanningCell {
    /// The service.
    pub service: ServiceCode,
    /// Whether the child is booked.
    pub booked: bool,
    /// The engine's answer for the action that would toggle the cell (cancel when booked,
    /// book otherwise): open until its deadline, or refused with the reason.
    pub decision: Decision,
}

impl PlanningCell {
    /// The action a tick or untick of this cell would ask for.
    pub fn toggle_action(&self) -> Action {
        if self.booked {
            Action::Cancel
        } else {
            Action::Book
        }
    }
}

/// One day of a planning: a cell per service of the town, in the town's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanningDay {
    /// The day.
    pub date: NaiveDate,
    /// The cells.
    pub cells: Vec<PlanningCell>,
}

/// One week of a planning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanningWeek {
    /// Its Monday.
    pub monday: NaiveDate,
    /// ISO week number ("Semaine N° 18").
    pub iso_week: u32,
    /// Monday to Friday, plus Saturday and Sunday when a service runs on them.
    pub days: Vec<PlanningDay>,
}

/// The planning of a child over some weeks, at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planning {
    /// The weeks, in order.
    pub weeks: Vec<PlanningWeek>,
}

/// The booking service; cheap to clone, shared by every channel.
#[derive(Clone, Debug)]
pub struct BookingService {
    store: Store,
    rules: Arc<Rules>,
    calendar: Arc<Calendar>,
    login: LoginGuard,
    /// The server's counters, when it keeps them ([`BookingService::with_metrics`]).
    metrics: Option<Arc<Metrics>>,
}

impl BookingService {
    /// A service over `store` with the town's `rules` and base `calendar` (from the
    /// configuration; the database's closures, overrides and school holidays are added at
    /// each decision).
    pub async fn new(
        store: Store,
        rules: Rules,
        calendar: Calendar,
        login: LoginConfig,
    ) -> Result<Self, StoreError> {
        let login = LoginGuard::new(&store, login).await?;
        Ok(Self {
            store,
            rules: Arc::new(rules),
            calendar: Arc::new(calendar),
            login,
            metrics: None,
        })
    }

    /// The same service, counting bookings, cancellations and refused logins by channel in
    /// `metrics` (`ivr serve` gives the one set its `/metrics` serves).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Counts a refused login in the metrics and in the day's figures of the dashboard;
    /// `sources` tell the channel (the voice line's start with `phone:`). A failure to
    /// count is logged: the login's answer does not depend on it.
    async fn count_login<'a, T>(
        &self,
        mut sources: impl Iterator<Item = &'a str>,
        result: &Result<T, LoginError>,
        now: DateTime<Utc>,
    ) {
        let Err(e) = result else {
            return;
        };
        let channel = if sources.any(|s| s.starts_with("phone:")) {
            "phone"
        } else {
            "web"
        };
        let reason = match e {
            LoginError::WrongCodes => "wrong_codes",
            LoginError::TooManyAttempts { .. } => "locked",
            LoginError::Store(_) => return,
        };
        if let Some(m) = &self.metrics {
            m.logins_refused
                .get_or_create(&[("channel", channel), ("reason", reason)])
                .inc();
        }
        let day = now.with_timezone(&self.rules.timezone()).date_naive();
        if let Err(e) = self.store.count_login_refusal(day, channel, reason).await {
            tracing::warn!(error = %e, "refused login not counted for the dashboard");
        }
    }

    /// The store (for channels' own reads, e.g. invoices).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The town's services.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The configured calendar, without the database's closures, overrides and school
    /// holidays.
    pub fn base_calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// A caller's number as the call records keep it when numbers are not kept; see
    /// [`LoginGuard::caller_pseudonym`].
    pub fn caller_pseudonym(&self, number: &str) -> String {
        self.login.caller_pseudonym(number)
    }

    /// Checks a (child code, payer code) pair typed from `source` (e.g. `ip:127.0.0.1`,
    /// `phone:+33476549985`), counting failures; see [`LoginGuard::login`].
    pub async fn login(
        &self,
        source: &str,
        child: &ChildCode,
        payer: &PayerCode,
        now: DateTime<Utc>,
    ) -> Result<Session, LoginError> {
        let result = self
            .login
            .login(&self.store, source, child, payer, now)
            .await;
        self.count_login(std::iter::once(source), &result, now)
            .await;
        result
    }

    /// Checks a pair typed from `origin` (its sources, and a device that may be known for
    /// the child), counting failures; see [`LoginGuard::login_from`].
    pub async fn login_from(
        &self,
        origin: &Origin,
        child: &ChildCode,
        payer: &PayerCode,
        now: DateTime<Utc>,
    ) -> Result<Session, LoginError> {
        let result = self
            .login
            .login_from(&self.store, origin, child, payer, now)
            .await;
        self.count_login(origin.sources.iter().map(String::as_str), &result, now)
            .await;
        result
    }

    /// The login throttle (the web's staff login and device cookies use its key).
    pub fn login_guard(&self) -> &LoginGuard {
        &self.login
    }

    /// The payer's children ("choisir un autre enfant").
    pub async fn children(&self, payer: PayerId) -> Result<Vec<Child>, BookingError> {
        Ok(self.store.children_of(payer).await?)
    }

    /// The child, if it belongs to `payer` (never another family's).
    pub async fn child(
        &self,
        payer: PayerId,
        child: ChildId,
    ) -> Result<Option<Child>, BookingError> {
        Ok(self.store.child(child).await?.filter(|c| c.payer == payer))
    }

    /// The first day after `after` on which some service runs (whether or not its deadline
    /// has passed at `now`), with the database's calendar, within
    /// [`NEXT_SERVICE_DAY_HORIZON`] days.
    pub async fn next_service_day(
        &self,
        after: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Option<NaiveDate>, BookingError> {
        let first = after + Days::new(1);
        let last = after + Days::new(NEXT_SERVICE_DAY_HORIZON);
        let calendar = self.calendar(first, last).await?;
        Ok(deadline::next_service_day(
            &self.rules,
            &calendar,
            first,
            last,
            now,
        ))
    }

    /// The calendar for decisions on dates between `from` and `to`: the base calendar plus
    /// the database's closures (far enough back to move deadlines), overrides and school
    /// holidays (those overlapping the dates: a school holiday closes the service of its
    /// days but never moves a deadline, the office works then).
    pub async fn calendar(&self, from: NaiveDate, to: NaiveDate) -> Result<Calendar, BookingError> {
        let back = from
            .checked_sub_days(Days::new(CLOSURE_LOOKBACK_DAYS))
            .unwrap_or(NaiveDate::MIN);
        let closures = self.store.closures_between(back, to).await?;
        let overrides = self.store.overrides_between(from, to).await?;
        let holidays = self.store.school_holidays_between(from, to).await?;
        Ok(self.with_db_rows(closures, overrides, holidays))
    }

    fn with_db_rows(
        &self,
        closures: Vec<Closure>,
        overrides: Vec<StoredOverride>,
        holidays: Vec<SchoolHoliday>,
    ) -> Calendar {
        Calendar::clone(&self.calendar)
            .with_closures(closures.into_iter().map(|c| c.date))
            .with_overrides(overrides.into_iter().map(|o| o.rule))
            .with_school_holidays(holidays)
    }

    /// [`BookingService::calendar`] as the transaction `tx` sees the database (the demo
    /// seeding reads it after its own writes).
    pub(crate) async fn calendar_in_tx(
        &self,
        tx: &mut StoreTx,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Calendar, StoreError> {
        let back = from
            .checked_sub_days(Days::new(CLOSURE_LOOKBACK_DAYS))
            .unwrap_or(NaiveDate::MIN);
        let closures = tx.closures_between(back, to).await?;
        let overrides = tx.overrides_between(from, to).await?;
        let holidays = tx.school_holidays_between(from, to).await?;
        Ok(self.with_db_rows(closures, overrides, holidays))
    }

    /// Books or cancels one cell for `child` at the instant `now`, recording `channel`
    /// and `actor` in the history.
    #[allow(clippy::too_many_arguments)]
    pub async fn change(
        &self,
        child: ChildId,
        date: NaiveDate,
        service: &ServiceCode,
        action: Action,
        channel: Channel,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<BookingOutcome, BookingError> {
        let change = CellChange {
            date,
            service: service.clone(),
            action,
        };
        let mut outcomes = self
            .change_many(child, std::slice::from_ref(&change), channel, actor, now)
            .await?;
        Ok(outcomes.pop().expect("one outcome per change"))
    }

    /// Applies several changes (the web's "Validez vos modifications") and gives one
    /// outcome per change, in order.
    ///
    /// They run in ONE transaction at ONE instant: the recap ("Modifications
    /// enregistrées") lists exactly what was written, a database failure writes none of
    /// them, and a refused cell does not stop the others (a refusal is an outcome, not an
    /// error). A transaction that lost a race is run again, whole, a few times.
    pub async fn change_many(
        &self,
        child: ChildId,
        changes: &[CellChange],
        channel: Channel,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<BookingOutcome>, BookingError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let mut attempt = 1;
        loop {
            match self
                .try_change_many(child, changes, channel, actor, now)
                .await
            {
                Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(attempt, "booking transaction lost a race; retrying");
                    attempt += 1;
                }
                result => return Ok(result?),
            }
        }
    }

    async fn try_change_many(
        &self,
        child: ChildId,
        changes: &[CellChange],
        channel: Channel,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<BookingOutcome>, StoreError> {
        let mut tx = self.store.begin().await?;
        let outcomes = self
            .change_many_in_tx(&mut tx, child, changes, channel, actor, now)
            .await?;
        tx.commit().await?;
        self.count_changes(channel, &outcomes);
        Ok(outcomes)
    }

    /// [`BookingService::change_many`]'s checks and writes inside the caller's transaction
    /// `tx` (not committed, not retried), so that a feature that writes rows of its own
    /// with the bookings (the usual week and the cells it books) keeps them all in one
    /// transaction. The caller commits, then calls [`BookingService::count_changes`].
    pub(crate) async fn change_many_in_tx(
        &self,
        tx: &mut StoreTx,
        child: ChildId,
        changes: &[CellChange],
        channel: Channel,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<BookingOutcome>, StoreError> {
        let (Some(from), Some(to)) = (
            changes.iter().map(|c| c.date).min(),
            changes.iter().map(|c| c.date).max(),
        ) else {
            return Ok(Vec::new());
        };
        let calendar = self.calendar_in_tx(tx, from, to).await?;
        let mut outcomes = Vec::with_capacity(changes.len());
        for change in changes {
            let outcome = self
                .apply(tx, &calendar, child, change, channel, actor, now)
                .await?;
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Counts committed changes in the metrics, by channel.
    pub(crate) fn count_changes(&self, channel: Channel, outcomes: &[BookingOutcome]) {
        if let Some(m) = &self.metrics {
            for o in outcomes {
                let action = match o {
                    BookingOutcome::Booked => "booked",
                    BookingOutcome::Cancelled => "cancelled",
                    _ => continue,
                };
                m.booking_changes
                    .get_or_create(&[("channel", channel.as_str()), ("action", action)])
                    .inc();
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        tx: &mut StoreTx,
        calendar: &Calendar,
        child: ChildId,
        change: &CellChange,
        channel: Channel,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<BookingOutcome, StoreError> {
        let CellChange {
            date,
            service,
            action,
        } = change;
        let (date, action) = (*date, *action);
        let booked = tx.is_booked(child, date, service).await?;
        // Asking for the state the cell is already in changes nothing, whatever the deadline.
        match (action, booked) {
            (Action::Book, true) => return Ok(BookingOutcome::AlreadyBooked),
            (Action::Cancel, false) => return Ok(BookingOutcome::NotBooked),
            _ => {}
        }
        if let Decision::Refused(refusal) =
            decide(&self.rules, calendar, date, service, action, now)
        {
            return Ok(BookingOutcome::Refused(refusal));
        }
        // The write decides: on PostgreSQL a concurrent writer may have changed the cell
        // since the read above; the unique index and the row lock make exactly one win.
        let changed = match action {
            Action::Book => tx.insert_booking(child, date, service, now).await?,
            Action::Cancel => tx.delete_booking(child, date, service).await?,
        };
        if !changed {
            return Ok(match action {
                Action::Book => BookingOutcome::AlreadyBooked,
                Action::Cancel => BookingOutcome::NotBooked,
            });
        }
        tx.push_history(
            child,
            &HistoryEntry {
                action,
                date,
                service: service.clone(),
                channel,
                actor: actor.to_owned(),
                at: now,
            },
        )
        .await?;
        Ok(match action {
            Action::Book => BookingOutcome::Booked,
            Action::Cancel => BookingOutcome::Cancelled,
        })
    }

    /// The planning of `child` for `weeks` weeks (1 to [`MAX_PLANNING_WEEKS`]; other values
    /// are brought into that range) from the week of `monday` (any day of the week may be
    /// given), with each cell's state and the engine's answer at `now`.
    pub async fn week(
        &self,
        child: ChildId,
        monday: NaiveDate,
        weeks: u32,
        now: DateTime<Utc>,
    ) -> Result<Planning, BookingError> {
        let monday = monday - Days::new(u64::from(monday.weekday().num_days_from_monday()));
        let weeks = weeks.clamp(1, MAX_PLANNING_WEEKS);
        let last = monday + Days::new(u64::from(weeks) * 7 - 1);
        let calendar = self.calendar(monday, last).await?;
        let booked = self.store.bookings_between(child, monday, last).await?;
        let weekend: Vec<Weekday> = [Weekday::Sat, Weekday::Sun]
            .into_iter()
            .filter(|d| self.rules.services().iter().any(|s| s.days.contains(*d)))
            .collect();
        let mut out = Vec::with_capacity(weeks as usize);
        for w in 0..weeks {
            let start = monday + Days::new(u64::from(w) * 7);
            let mut days = Vec::with_capacity(7);
            for offset in 0..7 {
                let date = start + Days::new(offset);
                let wd = date.weekday();
                if matches!(wd, Weekday::Sat | Weekday::Sun) && !weekend.contains(&wd) {
                    continue;
                }
                let cells = self
                    .rules
                    .services()
                    .iter()
                    .map(|s| {
                        let is_booked = booked.iter().any(|(d, c)| *d == date && *c == s.code);
                        let action = if is_booked {
                            Action::Cancel
                        } else {
                            Action::Book
                        };
                        PlanningCell {
                            service: s.code.clone(),
                            booked: is_booked,
                            decision: decide(&self.rules, &calendar, date, &s.code, action, now),
                        }
                    })
                    .collect();
                days.push(PlanningDay { date, cells });
            }
            out.push(PlanningWeek {
                monday: start,
                iso_week: start.iso_week().week(),
                days,
            });
        }
        Ok(Planning { weeks: out })
    }

    /// The last `limit` changes of `child`, newest first (the web shows 40).
    pub async fn history(
        &self,
        child: ChildId,
        limit: u32,
    ) -> Result<Vec<HistoryEntry>, BookingError> {
        Ok(self.store.history(child, limit).await?)
    }

    // ----- Staff -----

    /// Declares the town hall closed on `date` (a pont); `label` says why.
    pub async fn add_closure(&self, date: NaiveDate, label: &str) -> Result<(), BookingError> {
        let label = label.trim();
        if label.is_empty() {
            return Err(BookingError::Invalid(format!(
                "fermeture du {} : le libellé est vide",
                date.format("%d/%m/%Y")
            )));
        }
        let mut tx = self.store.begin().await?;
        tx.add_closure(&Closure {
            date,
            label: label.to_owned(),
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes the closure of `date`; false when there was none.
    pub async fn remove_closure(&self, date: NaiveDate) -> Result<bool, BookingError> {
        let mut tx = self.store.begin().await?;
        let removed = tx.remove_closure(date).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// The closures between two dates.
    pub async fn closures(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Closure>, BookingError> {
        Ok(self.store.closures_between(from, to).await?)
    }

    /// Adds a deadline override, checked against the town's services first.
    pub async fn add_override(&self, rule: &Override) -> Result<OverrideId, BookingError> {
        Calendar::default()
            .with_overrides([rule.clone()])
            .check(&self.rules)?;
        let mut tx = self.store.begin().await?;
        let id = tx.add_override(rule).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Removes an override; false when there was none.
    pub async fn remove_override(&self, id: OverrideId) -> Result<bool, BookingError> {
        let mut tx = self.store.begin().await?;
        let removed = tx.remove_override(id).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// The overrides of the dates between two dates.
    pub async fn overrides(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<StoredOverride>, BookingError> {
        Ok(self.store.overrides_between(from, to).await?)
    }

    /// Stores school holiday periods (e.g. from the official export) in ONE transaction,
    /// all checked first: a period without a name or ending before it starts writes
    /// nothing. A period whose days are already stored is skipped, so importing the same
    /// file twice adds nothing. Returns how many periods were added.
    pub async fn add_school_holidays(
        &self,
        periods: &[SchoolHoliday],
    ) -> Result<usize, BookingError> {
        Calendar::default()
            .with_school_holidays(periods.iter().cloned())
            .check(&self.rules)?;
        let mut tx = self.store.begin().await?;
        let mut added = 0;
        for period in periods {
            if tx.add_school_holiday(period).await? {
                added += 1;
            }
        }
        tx.commit().await?;
        Ok(added)
    }

    /// The school holiday periods stored in the database that overlap `from..=to` (the
    /// configured ones are in [`BookingService::base_calendar`]).
    pub async fn school_holidays(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SchoolHoliday>, BookingError> {
        Ok(self.store.school_holidays_between(from, to).await?)
    }

    /// The town's message shown on the portal, if any.
    pub async fn town_message(&self) -> Result<Option<String>, BookingError> {
        Ok(self.store.setting(Store::TOWN_MESSAGE).await?)
    }

    /// Sets the town's message (`None` or blank removes it).
    pub async fn set_town_message(&self, message: Option<&str>) -> Result<(), BookingError> {
        match message.map(str::trim).filter(|m| !m.is_empty()) {
            Some(m) => self.store.set_setting(Store::TOWN_MESSAGE, m).await?,
            None => {
                self.store.remove_setting(Store::TOWN_MESSAGE).await?;
            }
        }
        Ok(())
    }

    /// The town's name, if set (the demo sets "Mezcalito").
    pub async fn town_name(&self) -> Result<Option<String>, BookingError> {
        Ok(self.store.setting(Store::TOWN_NAME).await?)
    }

    /// Head-count per school and service on `date` (for kitchens and childcare teams).
    pub async fn head_counts(&self, date: NaiveDate) -> Result<Vec<HeadCount>, BookingError> {
        Ok(self.store.head_counts(date).await?)
    }
}
