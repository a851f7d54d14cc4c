//! Town closures (ponts) and per-date deadline overrides, set by staff.

use chrono::NaiveDate;
use sqlx::Row;

use super::tx::service_code;
use super::{Closure, OverrideId, Store, StoreError, StoreTx, StoredOverride, on_pool, on_tx};
use crate::booking::calendar::{ActionScope, Override, ServiceScope};

/// The stored word for an action scope.
fn scope_word(scope: ActionScope) -> &'static str {
    match scope {
        ActionScope::Book => "booking",
        ActionScope::Cancel => "cancelling",
        ActionScope::Both => "both",
    }
}

/// Reads a stored action scope back.
fn scope_from_word(word: &str) -> Result<ActionScope, StoreError> {
    match word {
        "booking" => Ok(ActionScope::Book),
        "cancelling" => Ok(ActionScope::Cancel),
        "both" => Ok(ActionScope::Both),
        other => Err(StoreError::Corrupt(format!("portée « {other} »"))),
    }
}

/// Reads the closures between two dates with any executor of the current backend.
macro_rules! closures_between {
    ($exec:expr, $from:expr, $to:expr) => {{
        let rows = sqlx::query(
            "SELECT date, label FROM closures WHERE date >= $1 AND date <= $2 ORDER BY date",
        )
        .bind($from)
        .bind($to)
        .fetch_all($exec)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(Closure {
                date: row.try_get("date")?,
                label: row.try_get("label")?,
            });
        }
        Ok::<_, StoreError>(out)
    }};
}

/// Reads the overrides of the dates between two dates with any executor.
macro_rules! overrides_between {
    ($exec:expr, $from:expr, $to:expr) => {{
        let rows = sqlx::query(
            "SELECT id, date, services, applies_to, deadline, sentence FROM overrides \
             WHERE date >= $1 AND date <= $2 ORDER BY date, id",
        )
        .bind($from)
        .bind($to)
        .fetch_all($exec)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let services: Option<String> = row.try_get("services")?;
            let services = match services {
                None => ServiceScope::All,
                Some(list) => ServiceScope::Only(
                    list.split(',')
                        .map(|s| service_code(s.to_owned()))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
            };
            let scope: String = row.try_get("applies_to")?;
            out.push(StoredOverride {
                id: OverrideId(row.try_get("id")?),
                rule: Override {
                    date: row.try_get("date")?,
                    services,
                    actions: scope_from_word(&scope)?,
                    deadline: row.try_get("deadline")?,
                    message: row.try_get("sentence")?,
                },
            });
        }
        Ok::<_, StoreError>(out)
    }};
}

impl Store {
    /// The closures between `from` and `to` inclusive.
    pub async fn closures_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Closure>, StoreError> {
        on_pool!(self, p => closures_between!(p, from, to))
    }

    /// The overrides of the dates between `from` and `to` inclusive.
    pub async fn overrides_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<StoredOverride>, StoreError> {
        on_pool!(self, p => overrides_between!(p, from, to))
    }
}

impl StoreTx {
    /// The closures between `from` and `to`, as this transaction sees them.
    pub async fn closures_between(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Closure>, StoreError> {
        on_tx!(self, c => closures_between!(&mut **c, from, to))
    }

    /// The overrides between `from` and `to`, as this transaction sees them.
    pub async fn overrides_between(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<StoredOverride>, StoreError> {
        on_tx!(self, c => overrides_between!(&mut **c, from, to))
    }

    /// Declares a closure; one per date ([`StoreError::Duplicate`] otherwise).
    pub async fn add_closure(&mut self, closure: &Closure) -> Result<(), StoreError> {
        let date = closure.date;
        on_tx!(self, c => sqlx::query("INSERT INTO closures (date, label) VALUES ($1, $2)")
            .bind(closure.date)
            .bind(&closure.label)
            .execute(&mut **c)
            .await
            .map_err(|e| StoreError::duplicate_as(e, || {
                format!("la fermeture du {}", date.format("%d/%m/%Y"))
            }))
            .map(drop)?);
        Ok(())
    }

    /// Removes the closure of `date`; false when there was none.
    pub async fn remove_closure(&mut self, date: NaiveDate) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query("DELETE FROM closures WHERE date = $1")
            .bind(date)
            .execute(&mut **c)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    /// Adds an override.
    pub async fn add_override(&mut self, rule: &Override) -> Result<OverrideId, StoreError> {
        let services = match &rule.services {
            ServiceScope::All => None,
            ServiceScope::Only(list) => Some(
                list.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        };
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO overrides (date, services, applies_to, deadline, sentence) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(rule.date)
        .bind(services)
        .bind(scope_word(rule.actions))
        .bind(rule.deadline)
        .bind(&rule.message)
        .fetch_one(&mut **c)
        .await?);
        Ok(OverrideId(id))
    }

    /// Removes an override; false when there was none.
    pub async fn remove_override(&mut self, id: OverrideId) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query("DELETE FROM overrides WHERE id = $1")
            .bind(id.0)
            .execute(&mut **c)
            .await?
            .rows_affected());
        Ok(n == 1)
    }
}
