//! Failed-login counters, keyed by a keyed hash of the source or of the child code.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{LoginCounter, Store, StoreError, StoreTx, on_pool, on_tx};

/// What a failed-login counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoginKeyKind {
    /// A source: an IP address, a caller's number...
    Source,
    /// A typed child code.
    Child,
}

impl LoginKeyKind {
    fn as_str(self) -> &'static str {
        match self {
            LoginKeyKind::Source => "source",
            LoginKeyKind::Child => "child",
        }
    }
}

macro_rules! counter_from_row {
    ($row:expr) => {{
        let row = $row;
        LoginCounter {
            failures: row.try_get("failures")?,
            last_at: row.try_get("last_at")?,
            locked_until: row.try_get("locked_until")?,
        }
    }};
}

impl Store {
    /// The counter of a key, if any failure was recorded.
    pub async fn login_counter(
        &self,
        kind: LoginKeyKind,
        key_hash: &str,
    ) -> Result<Option<LoginCounter>, StoreError> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT failures, last_at, locked_until FROM login_failures \
                 WHERE kind = $1 AND key_hash = $2",
            )
            .bind(kind.as_str())
            .bind(key_hash)
            .fetch_optional(p)
            .await?;
            match row {
                Some(row) => Ok(Some(counter_from_row!(&row))),
                None => Ok(None),
            }
        })
    }
}

impl StoreTx {
    /// Reads the counter of a key and locks its row until the end of the transaction,
    /// creating it with no failure (`last_at = now`) if needed. Concurrent failures of one
    /// key are thus counted one after the other, never lost.
    pub async fn lock_login_counter(
        &mut self,
        kind: LoginKeyKind,
        key_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<LoginCounter, StoreError> {
        on_tx!(self, c => {
            let row = sqlx::query(
                "INSERT INTO login_failures (kind, key_hash, failures, last_at, locked_until) \
                 VALUES ($1, $2, 0, $3, NULL) \
                 ON CONFLICT (kind, key_hash) DO UPDATE SET failures = login_failures.failures \
                 RETURNING failures, last_at, locked_until",
            )
            .bind(kind.as_str())
            .bind(key_hash)
            .bind(now)
            .fetch_one(&mut **c)
            .await?;
            Ok(counter_from_row!(&row))
        })
    }

    /// Writes the counter of a key.
    pub async fn set_login_counter(
        &mut self,
        kind: LoginKeyKind,
        key_hash: &str,
        counter: &LoginCounter,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO login_failures (kind, key_hash, failures, last_at, locked_until) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (kind, key_hash) DO UPDATE SET failures = excluded.failures, \
             last_at = excluded.last_at, locked_until = excluded.locked_until",
        )
        .bind(kind.as_str())
        .bind(key_hash)
        .bind(counter.failures)
        .bind(counter.last_at)
        .bind(counter.locked_until)
        .execute(&mut **c)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Forgets the failures of a key (after a successful login).
    pub async fn clear_login_counter(
        &mut self,
        kind: LoginKeyKind,
        key_hash: &str,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "DELETE FROM login_failures WHERE kind = $1 AND key_hash = $2",
        )
        .bind(kind.as_str())
        .bind(key_hash)
        .execute(&mut **c)
        .await
        .map(drop)?);
        Ok(())
    }
}
