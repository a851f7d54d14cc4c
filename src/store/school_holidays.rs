//! School holiday periods kept in the database (imported from the official export, or
//! seeded by the demo), on top of the ones in the configuration.

use chrono::NaiveDate;
use sqlx::Row;

use super::{Store, StoreError, StoreTx, on_pool, on_tx};
use crate::booking::calendar::SchoolHoliday;

/// Reads the periods that overlap `from..=to` with any executor of the current backend.
macro_rules! school_holidays_between {
    ($exec:expr, $from:expr, $to:expr) => {{
        let rows = sqlx::query(
            "SELECT name, first_day, last_day FROM school_holidays \
             WHERE last_day >= $1 AND first_day <= $2 ORDER BY first_day, last_day",
        )
        .bind($from)
        .bind($to)
        .fetch_all($exec)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(SchoolHoliday {
                name: row.try_get("name")?,
                first: row.try_get("first_day")?,
                last: row.try_get("last_day")?,
            });
        }
        Ok::<_, StoreError>(out)
    }};
}

impl Store {
    /// The school holiday periods that overlap `from..=to` (a period from 18 October to
    /// 2 November is returned for any range holding one of its days), by first day.
    pub async fn school_holidays_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SchoolHoliday>, StoreError> {
        on_pool!(self, p => school_holidays_between!(p, from, to))
    }
}

impl StoreTx {
    /// The school holiday periods that overlap `from..=to`, as this transaction sees them.
    pub async fn school_holidays_between(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SchoolHoliday>, StoreError> {
        on_tx!(self, c => school_holidays_between!(&mut **c, from, to))
    }

    /// Stores a school holiday period unless one with the same first and last days is
    /// there already (the unique constraint decides); true when this call stored it. An
    /// empty name or a period that ends before it starts is refused by the database's
    /// checks (the booking service checks them first to say so in French).
    pub async fn add_school_holiday(&mut self, period: &SchoolHoliday) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query(
            "INSERT INTO school_holidays (name, first_day, last_day) VALUES ($1, $2, $3) \
             ON CONFLICT (first_day, last_day) DO NOTHING",
        )
        .bind(&period.name)
        .bind(period.first)
        .bind(period.last)
        .execute(&mut **c)
        .await?
        .rows_affected());
        Ok(n == 1)
    }
}
