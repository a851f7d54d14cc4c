//! The voice line's call records, one row per call written when it ends, and the
//! aggregates the staff dashboard draws: calls over a day, changes by channel, logins.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::{Store, StoreError, on_pool};

/// How far a call got, the most telling first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallOutcome {
    /// Logged in and booked or cancelled at least once.
    Changed,
    /// Logged in, changed nothing (heard the week, or hung up at the menu).
    Consulted,
    /// Refused by the login lockout.
    Locked,
    /// Typed wrong codes and never logged in.
    LoginFailed,
    /// Hung up before any login was tried.
    NoLogin,
}

impl CallOutcome {
    /// Every outcome, in the dashboard's order.
    pub const ALL: [CallOutcome; 5] = [
        CallOutcome::Changed,
        CallOutcome::Consulted,
        CallOutcome::Locked,
        CallOutcome::LoginFailed,
        CallOutcome::NoLogin,
    ];

    /// The value stored in `call_records.outcome` (and the metrics' label).
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Changed => "changed",
            CallOutcome::Consulted => "consulted",
            CallOutcome::Locked => "locked",
            CallOutcome::LoginFailed => "login_failed",
            CallOutcome::NoLogin => "no_login",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| StoreError::Corrupt(format!("call outcome {s:?}")))
    }
}

/// Who ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// The caller hung up.
    Caller,
    /// The line hung up (end of the flow, timeouts, shutdown).
    Line,
}

impl EndedBy {
    /// The value stored in `call_records.ended_by`.
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::Caller => "caller",
            EndedBy::Line => "line",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        [EndedBy::Caller, EndedBy::Line]
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| StoreError::Corrupt(format!("call ended_by {s:?}")))
    }
}

/// One call, as recorded when it ends. Never a code or a typed digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// When the flow started (the call was answered).
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: DateTime<Utc>,
    /// The number dialled.
    pub line: String,
    /// The caller: `h:` and a keyed hash of the number, `n:` and the number when the town
    /// keeps them, or empty when the caller gave none.
    pub caller: String,
    /// The dialplan it ran.
    pub dialplan: String,
    /// How far it got.
    pub outcome: CallOutcome,
    /// Logins refused for wrong codes.
    pub logins_failed: u32,
    /// Bookings made.
    pub booked: u32,
    /// Cancellations made.
    pub cancelled: u32,
    /// Changes the deadline engine refused.
    pub refused: u32,
    /// Actions that failed on a technical error.
    pub failed: u32,
    /// The dialplan node it was at when it ended (empty before the first).
    pub last_step: String,
    /// Who ended it.
    pub ended_by: EndedBy,
}

/// Changes to bookings made on one day through one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelChanges {
    /// The channel (`web`, `phone`, `staff`).
    pub channel: String,
    /// `inscription` or `annulation`.
    pub action: String,
    /// When each change was made (the caller buckets them by the town's days).
    pub at: DateTime<Utc>,
}

impl Store {
    /// Records a finished call.
    pub async fn insert_call_record(&self, r: &CallRecord) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO call_records (started_at, ended_at, line, caller, dialplan, outcome, \
             logins_failed, booked, cancelled, refused, failed, last_step, ended_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(r.started_at)
        .bind(r.ended_at)
        .bind(&r.line)
        .bind(&r.caller)
        .bind(&r.dialplan)
        .bind(r.outcome.as_str())
        .bind(i64::from(r.logins_failed))
        .bind(i64::from(r.booked))
        .bind(i64::from(r.cancelled))
        .bind(i64::from(r.refused))
        .bind(i64::from(r.failed))
        .bind(&r.last_step)
        .bind(r.ended_by.as_str())
        .execute(p)
        .await
        .map(drop)?);
        Ok(())
    }

    /// The calls that started in `[from, to)`, oldest first.
    pub async fn call_records_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CallRecord>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT started_at, ended_at, line, caller, dialplan, outcome, logins_failed, \
                 booked, cancelled, refused, failed, last_step, ended_by FROM call_records \
                 WHERE started_at >= $1 AND started_at < $2 ORDER BY started_at, id",
            )
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let count = |name: &str| -> Result<u32, StoreError> {
                    let n: i64 = row.try_get(name)?;
                    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{name} = {n}")))
                };
                out.push(CallRecord {
                    started_at: row.try_get("started_at")?,
                    ended_at: row.try_get("ended_at")?,
                    line: row.try_get("line")?,
                    caller: row.try_get("caller")?,
                    dialplan: row.try_get("dialplan")?,
                    outcome: CallOutcome::parse(row.try_get("outcome")?)?,
                    logins_failed: count("logins_failed")?,
                    booked: count("booked")?,
                    cancelled: count("cancelled")?,
                    refused: count("refused")?,
                    failed: count("failed")?,
                    last_step: row.try_get("last_step")?,
                    ended_by: EndedBy::parse(row.try_get("ended_by")?)?,
                });
            }
            Ok(out)
        })
    }

    /// Every booking change made in `[from, to)`, with its channel and action.
    pub async fn changes_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ChannelChanges>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT channel, action, at FROM history WHERE at >= $1 AND at < $2 ORDER BY id",
            )
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(ChannelChanges {
                    channel: row.try_get("channel")?,
                    action: row.try_get("action")?,
                    at: row.try_get("at")?,
                });
            }
            Ok(out)
        })
    }

    /// Counts one refused parent login on the town's `day`, through `channel` (`web`,
    /// `phone`), for `reason` (`wrong_codes`, `locked`): one upsert, atomic on both backends.
    pub async fn count_login_refusal(
        &self,
        day: NaiveDate,
        channel: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO login_refusals (day, channel, reason, refusals) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (day, channel, reason) DO UPDATE SET refusals = login_refusals.refusals + 1",
        )
        .bind(day)
        .bind(channel)
        .bind(reason)
        .execute(p)
        .await
        .map(drop)?);
        Ok(())
    }

    /// The refused logins of `day`: (channel, reason, count).
    pub async fn login_refusals(
        &self,
        day: NaiveDate,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT channel, reason, refusals FROM login_refusals WHERE day = $1 \
                 ORDER BY channel, reason",
            )
            .bind(day)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((row.try_get("channel")?, row.try_get("reason")?, row.try_get("refusals")?));
            }
            Ok(out)
        })
    }

    /// Deletes the call records that started before `before` and the daily login figures of
    /// days before `before_day`; returns how many call records went.
    pub async fn purge_call_records(
        &self,
        before: DateTime<Utc>,
        before_day: NaiveDate,
    ) -> Result<u64, StoreError> {
        on_pool!(self, p => {
            let calls = sqlx::query("DELETE FROM call_records WHERE started_at < $1")
                .bind(before)
                .execute(p)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM login_refusals WHERE day < $1")
                .bind(before_day)
                .execute(p)
                .await?;
            Ok(calls)
        })
    }

    /// Login counters (parents' and staff's) locked at `now`.
    pub async fn locked_login_counters(&self, now: DateTime<Utc>) -> Result<i64, StoreError> {
        on_pool!(self, p => {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM login_failures WHERE locked_until IS NOT NULL AND locked_until > $1",
            )
            .bind(now)
            .fetch_one(p)
            .await?;
            Ok(n)
        })
    }
}

/// The town's day `date` as an instant range `[start, next start)` in `tz`.
pub fn day_range(date: NaiveDate, tz: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_local_timezone(tz)
            .earliest()
            .expect("a day has a first instant")
            .with_timezone(&Utc)
    };
    (start(date), start(date.succ_opt().unwrap_or(date)))
}
