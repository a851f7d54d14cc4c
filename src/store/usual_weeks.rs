//! The usual weeks (semaines types) kept per child, and the passes of the job that books
//! their new weeks: rows, no rules (which cells a pattern asks for is
//! [`crate::booking::usual_week`], whether one may be booked the booking service's).

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc, Weekday};
use sqlx::Row;

use super::tx::service_code;
use super::{Store, StoreError, StoreTx, on_pool, on_tx};
use crate::booking::model::{Action, ChildId, ServiceCode};
use crate::booking::usual_week::{Day, Rhythm, UsualWeek};

/// A child's usual week as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUsualWeek {
    /// The child.
    pub child: ChildId,
    /// What it asks for.
    pub pattern: UsualWeek,
    /// Who set it last (the history's actor words: "parent").
    pub set_by: String,
    /// When it was first set.
    pub created_at: DateTime<Utc>,
    /// When it was last set (replaced).
    pub updated_at: DateTime<Utc>,
    /// When it was stopped; `None` while it runs.
    pub stopped_at: Option<DateTime<Utc>>,
}

/// One pass of the job that books the usual weeks' new weeks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsualWeekRun {
    /// What started it: "nuit", "démarrage", "fermeture", "vacances"...
    pub trigger: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// Active patterns it went through.
    pub patterns: i64,
    /// Cells it booked.
    pub booked: i64,
    /// Cells a pattern asks for that could not be booked (holiday, closure, deadline).
    pub skipped: i64,
    /// Cells left alone because the family cancelled them after setting the pattern.
    pub kept_cancelled: i64,
    /// Patterns whose booking failed (database error), tried again at the next pass.
    pub failed: i64,
}

fn weekday_number(d: Weekday) -> i32 {
    i32::try_from(d.number_from_monday()).expect("1 to 7")
}

fn weekday_from(n: i32) -> Result<Weekday, StoreError> {
    Ok(match n {
        1 => Weekday::Mon,
        2 => Weekday::Tue,
        3 => Weekday::Wed,
        4 => Weekday::Thu,
        5 => Weekday::Fri,
        6 => Weekday::Sat,
        7 => Weekday::Sun,
        other => return Err(StoreError::Corrupt(format!("jour de semaine {other}"))),
    })
}

/// Reads the patterns chosen by `$where` (a SQL condition on `w`, binding `$1`) with their
/// cells, with any executor of the current backend.
macro_rules! usual_weeks_where {
    ($exec:expr, $cond:expr, $bind:expr) => {{
        let sql = format!(
            "SELECT w.child_id, w.first_day, w.last_day, w.every_other_week, w.set_by, \
             w.created_at, w.updated_at, w.stopped_at, c.service, c.weekday \
             FROM usual_weeks w LEFT JOIN usual_week_cells c ON c.child_id = w.child_id \
             WHERE {} ORDER BY w.child_id, c.service, c.weekday",
            $cond
        );
        let rows = sqlx::query(&sql).bind($bind).fetch_all($exec).await?;
        let mut out: Vec<StoredUsualWeek> = Vec::new();
        for row in rows {
            let child = ChildId(row.try_get("child_id")?);
            if out.last().is_none_or(|w| w.child != child) {
                let other: bool = row.try_get("every_other_week")?;
                out.push(StoredUsualWeek {
                    child,
                    pattern: UsualWeek {
                        cells: BTreeSet::new(),
                        first_day: row.try_get("first_day")?,
                        last_day: row.try_get("last_day")?,
                        rhythm: if other {
                            Rhythm::EveryOtherWeek
                        } else {
                            Rhythm::EveryWeek
                        },
                    },
                    set_by: row.try_get("set_by")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                    stopped_at: row.try_get("stopped_at")?,
                });
            }
            let service: Option<String> = row.try_get("service")?;
            let weekday: Option<i32> = row.try_get("weekday")?;
            if let (Some(s), Some(n), Some(w)) = (service, weekday, out.last_mut()) {
                w.pattern
                    .cells
                    .insert((service_code(s)?, Day(weekday_from(n)?)));
            }
        }
        Ok::<_, StoreError>(out)
    }};
}

/// Reads the cells cancelled at or after an instant, with any executor.
macro_rules! cancelled_since {
    ($exec:expr, $child:expr, $from:expr, $to:expr, $since:expr) => {{
        let rows = sqlx::query(
            "SELECT date, service, at FROM history \
             WHERE child_id = $1 AND action = $2 AND date >= $3 AND date <= $4",
        )
        .bind($child.0)
        .bind(Action::Cancel.as_str())
        .bind($from)
        .bind($to)
        .fetch_all($exec)
        .await?;
        let mut out = BTreeSet::new();
        for row in rows {
            // Compared here, not in SQL: SQLite keeps instants as text.
            let at: DateTime<Utc> = row.try_get("at")?;
            if at >= $since {
                out.insert((row.try_get("date")?, service_code(row.try_get("service")?)?));
            }
        }
        Ok::<_, StoreError>(out)
    }};
}

/// Reads the cells whose last history row is a booking by one actor, with any executor.
macro_rules! last_booked_by {
    ($exec:expr, $child:expr, $from:expr, $to:expr, $actor:expr) => {{
        let rows = sqlx::query(
            "SELECT h.date, h.service FROM history h \
             WHERE h.child_id = $1 AND h.date >= $2 AND h.date <= $3 \
             AND h.action = $4 AND h.actor = $5 \
             AND h.id = (SELECT MAX(l.id) FROM history l WHERE l.child_id = h.child_id \
                         AND l.date = h.date AND l.service = h.service) \
             ORDER BY h.date, h.service",
        )
        .bind($child.0)
        .bind($from)
        .bind($to)
        .bind(Action::Book.as_str())
        .bind($actor)
        .fetch_all($exec)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push((row.try_get("date")?, service_code(row.try_get("service")?)?));
        }
        Ok::<_, StoreError>(out)
    }};
}

impl Store {
    /// The child's usual week, running or stopped, if one was ever set.
    pub async fn usual_week(&self, child: ChildId) -> Result<Option<StoredUsualWeek>, StoreError> {
        let mut found = on_pool!(self, p => usual_weeks_where!(p, "w.child_id = $1", child.0))?;
        Ok(found.pop())
    }

    /// The usual weeks running on `today`: not stopped, and not ended before it.
    pub async fn active_usual_weeks(
        &self,
        today: NaiveDate,
    ) -> Result<Vec<StoredUsualWeek>, StoreError> {
        on_pool!(self, p => usual_weeks_where!(
            p,
            "w.stopped_at IS NULL AND (w.last_day IS NULL OR w.last_day >= $1)",
            today
        ))
    }

    /// The (date, service) cells of `child` between `from` and `to` cancelled at or after
    /// `since` (by any channel): a usual week does not book them again.
    pub async fn cancelled_since(
        &self,
        child: ChildId,
        from: NaiveDate,
        to: NaiveDate,
        since: DateTime<Utc>,
    ) -> Result<BTreeSet<(NaiveDate, ServiceCode)>, StoreError> {
        on_pool!(self, p => cancelled_since!(p, child, from, to, since))
    }

    /// The cells of `child` between `from` and `to` whose last change is a booking made
    /// by `actor`: what a usual week booked and nobody changed since.
    pub async fn last_booked_by(
        &self,
        child: ChildId,
        from: NaiveDate,
        to: NaiveDate,
        actor: &str,
    ) -> Result<Vec<(NaiveDate, ServiceCode)>, StoreError> {
        on_pool!(self, p => last_booked_by!(p, child, from, to, actor))
    }

    /// The last pass of the usual weeks' job, if any.
    pub async fn last_usual_week_run(&self) -> Result<Option<UsualWeekRun>, StoreError> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT trigger, started_at, finished_at, patterns, booked, skipped, \
                 kept_cancelled, failed FROM usual_week_runs ORDER BY id DESC LIMIT 1",
            )
            .fetch_optional(p)
            .await?;
            match row {
                None => Ok(None),
                Some(row) => Ok(Some(UsualWeekRun {
                    trigger: row.try_get("trigger")?,
                    started_at: row.try_get("started_at")?,
                    finished_at: row.try_get("finished_at")?,
                    patterns: row.try_get("patterns")?,
                    booked: row.try_get("booked")?,
                    skipped: row.try_get("skipped")?,
                    kept_cancelled: row.try_get("kept_cancelled")?,
                    failed: row.try_get("failed")?,
                })),
            }
        })
    }

    /// Records a pass of the usual weeks' job.
    pub async fn record_usual_week_run(&self, run: &UsualWeekRun) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO usual_week_runs (trigger, started_at, finished_at, patterns, booked, \
             skipped, kept_cancelled, failed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&run.trigger)
        .bind(run.started_at)
        .bind(run.finished_at)
        .bind(run.patterns)
        .bind(run.booked)
        .bind(run.skipped)
        .bind(run.kept_cancelled)
        .bind(run.failed)
        .execute(p)
        .await
        .map(drop)?);
        Ok(())
    }
}

impl StoreTx {
    /// Sets the child's usual week, replacing the one it had (running or stopped): its
    /// cells are replaced, it runs again, `updated_at` is `now`, `created_at` is kept.
    pub async fn set_usual_week(
        &mut self,
        child: ChildId,
        pattern: &UsualWeek,
        set_by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let other = pattern.rhythm == Rhythm::EveryOtherWeek;
        on_tx!(self, c => {
            sqlx::query(
                "INSERT INTO usual_weeks (child_id, first_day, last_day, every_other_week, \
                 set_by, created_at, updated_at, stopped_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL) \
                 ON CONFLICT (child_id) DO UPDATE SET first_day = excluded.first_day, \
                 last_day = excluded.last_day, every_other_week = excluded.every_other_week, \
                 set_by = excluded.set_by, updated_at = excluded.updated_at, stopped_at = NULL",
            )
            .bind(child.0)
            .bind(pattern.first_day)
            .bind(pattern.last_day)
            .bind(other)
            .bind(set_by)
            .bind(now)
            .bind(now)
            .execute(&mut **c)
            .await?;
            sqlx::query("DELETE FROM usual_week_cells WHERE child_id = $1")
                .bind(child.0)
                .execute(&mut **c)
                .await?;
            for (service, day) in &pattern.cells {
                sqlx::query(
                    "INSERT INTO usual_week_cells (child_id, service, weekday) VALUES ($1, $2, $3)",
                )
                .bind(child.0)
                .bind(service.as_str())
                .bind(weekday_number(day.0))
                .execute(&mut **c)
                .await?;
            }
        });
        Ok(())
    }

    /// Stops the child's usual week at `now`; false when none was running.
    pub async fn stop_usual_week(
        &mut self,
        child: ChildId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE usual_weeks SET stopped_at = $1 WHERE child_id = $2 AND stopped_at IS NULL",
        )
        .bind(now)
        .bind(child.0)
        .execute(&mut **c)
        .await?
        .rows_affected());
        Ok(n == 1)
    }

    /// [`Store::cancelled_since`], as this transaction sees the history.
    pub async fn cancelled_since(
        &mut self,
        child: ChildId,
        from: NaiveDate,
        to: NaiveDate,
        since: DateTime<Utc>,
    ) -> Result<BTreeSet<(NaiveDate, ServiceCode)>, StoreError> {
        on_tx!(self, c => cancelled_since!(&mut **c, child, from, to, since))
    }

    /// [`Store::last_booked_by`], as this transaction sees the history.
    pub async fn last_booked_by(
        &mut self,
        child: ChildId,
        from: NaiveDate,
        to: NaiveDate,
        actor: &str,
    ) -> Result<Vec<(NaiveDate, ServiceCode)>, StoreError> {
        on_tx!(self, c => last_booked_by!(&mut **c, child, from, to, actor))
    }

    /// Whether the child's usual week still runs as it was set at `updated_at` (neither
    /// stopped nor replaced since), as this transaction sees it.
    pub async fn usual_week_unchanged(
        &mut self,
        child: ChildId,
        updated_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let at: Option<DateTime<Utc>> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT updated_at FROM usual_weeks WHERE child_id = $1 AND stopped_at IS NULL",
        )
        .bind(child.0)
        .fetch_optional(&mut **c)
        .await?);
        Ok(at == Some(updated_at))
    }
}
