//! Write transactions, and the booking rows (bookings and their history).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, Row, Sqlite, Transaction};

use super::{HistoryEntry, Store, StoreError, on_pool, on_tx};
use crate::booking::model::{Action, Channel, ChildId, ServiceCode};

/// The open transaction of one backend.
#[derive(Debug)]
pub(crate) enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A write transaction: every write of one operation goes through it, then [`commit`].
/// Dropped without commit, it rolls back.
///
/// [`commit`]: StoreTx::commit
#[derive(Debug)]
pub struct StoreTx {
    pub(crate) inner: TxInner,
}

pub(crate) fn service_code(s: String) -> Result<ServiceCode, StoreError> {
    ServiceCode::parse(&s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl StoreTx {
    /// Makes every write of the transaction durable.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Undoes every write of the transaction.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await?,
            TxInner::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }

    /// Whether the cell is booked, as this transaction sees it.
    pub async fn is_booked(
        &mut self,
        child: ChildId,
        date: NaiveDate,
        service: &ServiceCode,
    ) -> Result<bool, StoreError> {
        let row = on_tx!(self, c => sqlx::query(
            "SELECT 1 FROM bookings WHERE child_id = $1 AND date = $2 AND service = $3",
        )
        .bind(child.0)
        .bind(date)
        .bind(service.as_str())
        .fetch_optional(&mut **c)
        .await?
        .is_some());
        Ok(row)
    }

    /// Inserts the booking unless it exists; true when this call inserted it. The unique
    /// constraint decides, so two concurrent callers cannot both insert.
    pub async fn insert_booking(
        &mut self,
        child: ChildId,
        date: NaiveDate,
        service: &ServiceCode,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_tx!(self, c => sqlx::query(
            "INSERT INTO bookings (child_id, date, service, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (child_id, date, service) DO NOTHING",
        )
        .bind(child.0)
        .bind(date)
        .bind(service.as_str())
        .bind(now)
        .execute(&mut **c)
        .await?
        .rows_affected());
        Ok(done == 1)
    }

    /// Deletes the booking if it exists; true when this call deleted it.
    pub async fn delete_booking(
        &mut self,
        child: ChildId,
        date: NaiveDate,
        service: &ServiceCode,
    ) -> Result<bool, StoreError> {
        let done = on_tx!(self, c => sqlx::query(
            "DELETE FROM bookings WHERE child_id = $1 AND date = $2 AND service = $3",
        )
        .bind(child.0)
        .bind(date)
        .bind(service.as_str())
        .execute(&mut **c)
        .await?
        .rows_affected());
        Ok(done == 1)
    }

    /// Records one change in the history.
    pub async fn push_history(
        &mut self,
        child: ChildId,
        entry: &HistoryEntry,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO history (child_id, action, date, service, channel, actor, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(child.0)
        .bind(entry.action.as_str())
        .bind(entry.date)
        .bind(entry.service.as_str())
        .bind(entry.channel.as_str())
        .bind(&entry.actor)
        .bind(entry.at)
        .execute(&mut **c)
        .await
        .map(drop)?);
        Ok(())
    }
}

macro_rules! history_from_row {
    ($row:expr) => {{
        let row = $row;
        let action: String = row.try_get("action")?;
        let channel: String = row.try_get("channel")?;
        HistoryEntry {
            action: Action::from_stored(&action)
                .ok_or_else(|| StoreError::Corrupt(format!("action « {action} »")))?,
            date: row.try_get("date")?,
            service: service_code(row.try_get("service")?)?,
            channel: Channel::from_stored(&channel)
                .ok_or_else(|| StoreError::Corrupt(format!("canal « {channel} »")))?,
            actor: row.try_get("actor")?,
            at: row.try_get("at")?,
        }
    }};
}

impl Store {
    /// The booked (date, service) pairs of a child between `from` and `to` inclusive.
    pub async fn bookings_between(
        &self,
        child: ChildId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, ServiceCode)>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT date, service FROM bookings \
                 WHERE child_id = $1 AND date >= $2 AND date <= $3 ORDER BY date, service",
            )
            .bind(child.0)
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((row.try_get("date")?, service_code(row.try_get("service")?)?));
            }
            Ok(out)
        })
    }

    /// Whether the cell is booked.
    pub async fn is_booked(
        &self,
        child: ChildId,
        date: NaiveDate,
        service: &ServiceCode,
    ) -> Result<bool, StoreError> {
        Ok(self
            .bookings_between(child, date, date)
            .await?
            .iter()
            .any(|(_, s)| s == service))
    }

    /// The last `limit` changes of a child, newest first.
    pub async fn history(
        &self,
        child: ChildId,
        limit: u32,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT action, date, service, channel, actor, at FROM history \
                 WHERE child_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(child.0)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(history_from_row!(&row));
            }
            Ok(out)
        })
    }
}

impl Store {
    /// Head-count per school and service on `date` (for kitchens and childcare teams).
    pub async fn head_counts(&self, date: NaiveDate) -> Result<Vec<super::HeadCount>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT c.school AS school, b.service AS service, COUNT(*) AS n \
                 FROM bookings b JOIN children c ON c.id = b.child_id \
                 WHERE b.date = $1 GROUP BY c.school, b.service ORDER BY c.school, b.service",
            )
            .bind(date)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(super::HeadCount {
                    school: row.try_get("school")?,
                    service: service_code(row.try_get("service")?)?,
                    count: row.try_get("n")?,
                });
            }
            Ok(out)
        })
    }
}
