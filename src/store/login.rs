//! Failed-login counters, keyed by a keyed hash of the source, the child code, the staff
//! user name or a known device; and the known devices themselves.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{LoginCounter, Store, StoreError, StoreTx, on_pool, on_tx};
use crate::booking::model::{ChildCode, ChildId, PayerCode, PayerId};

/// What a failed-login counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoginKeyKind {
    /// A source: an IP address, a caller's number...
    Source,
    /// A typed child code.
    Child,
    /// A device known for a child (signed device cookie, or a caller number asserted by a
    /// trusted trunk): its own failures, counted apart from its network source.
    Device,
    /// The source of a staff login (the browser's address).
    StaffSource,
    /// A typed staff user name.
    StaffUser,
    /// A browser known for a staff account.
    StaffDevice,
}

impl LoginKeyKind {
    /// The value stored in `login_failures.kind` (also the hash's domain separator).
    pub fn as_str(self) -> &'static str {
        match self {
            LoginKeyKind::Source => "source",
            LoginKeyKind::Child => "child",
            LoginKeyKind::Device => "device",
            LoginKeyKind::StaffSource => "staff_source",
            LoginKeyKind::StaffUser => "staff_user",
            LoginKeyKind::StaffDevice => "staff_device",
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

/// Known devices, and the lookups the login transaction makes while it holds the counters.
impl StoreTx {
    /// The (payer, child) whose codes are this pair, as this transaction sees it (see
    /// [`Store::find_login`]).
    pub async fn find_login(
        &mut self,
        child: &ChildCode,
        payer: &PayerCode,
    ) -> Result<Option<(PayerId, ChildId)>, StoreError> {
        on_tx!(self, c => {
            let row = sqlx::query(
                "SELECT c.payer_id, c.id FROM children c JOIN payers p ON p.id = c.payer_id \
                 WHERE c.code = $1 AND p.code = $2",
            )
            .bind(child.expose())
            .bind(payer.expose())
            .fetch_optional(&mut **c)
            .await?;
            match row {
                Some(row) => Ok(Some((PayerId(row.try_get(0)?), ChildId(row.try_get(1)?)))),
                None => Ok(None),
            }
        })
    }

    /// Whether the device logged in successfully for the child with this code at or after
    /// `since`.
    pub async fn device_known_for_child(
        &mut self,
        device_hash: &str,
        child: &ChildCode,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_tx!(self, c => Ok(sqlx::query(
            "SELECT 1 FROM known_devices d JOIN children c ON c.id = d.child_id \
             WHERE d.device_hash = $1 AND c.code = $2 AND d.last_login_at >= $3",
        )
        .bind(device_hash)
        .bind(child.expose())
        .bind(since)
        .fetch_optional(&mut **c)
        .await?
        .is_some()))
    }

    /// Remembers (or refreshes) that the device logged in successfully for `child` at `now`.
    pub async fn remember_device(
        &mut self,
        device_hash: &str,
        child: ChildId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO known_devices (device_hash, child_id, last_login_at) VALUES ($1, $2, $3) \
             ON CONFLICT (device_hash, child_id) DO UPDATE SET last_login_at = excluded.last_login_at",
        )
        .bind(device_hash)
        .bind(child.0)
        .bind(now)
        .execute(&mut **c)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Whether the browser logged in successfully as staff user `user` at or after `since`.
    pub async fn device_known_for_staff(
        &mut self,
        device_hash: &str,
        user: &str,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_tx!(self, c => Ok(sqlx::query(
            "SELECT 1 FROM known_staff_devices d JOIN staff_accounts s ON s.id = d.staff_id \
             WHERE d.device_hash = $1 AND s.username = $2 AND d.last_login_at >= $3",
        )
        .bind(device_hash)
        .bind(user)
        .bind(since)
        .fetch_optional(&mut **c)
        .await?
        .is_some()))
    }

    /// Remembers (or refreshes) that the browser logged in successfully as `user` at `now`;
    /// nothing when the account does not exist.
    pub async fn remember_staff_device(
        &mut self,
        device_hash: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO known_staff_devices (device_hash, staff_id, last_login_at) \
             SELECT $1, id, $3 FROM staff_accounts WHERE username = $2 \
             ON CONFLICT (device_hash, staff_id) DO UPDATE SET last_login_at = excluded.last_login_at",
        )
        .bind(device_hash)
        .bind(user)
        .bind(now)
        .execute(&mut **c)
        .await
        .map(drop)?);
        Ok(())
    }
}

impl Store {
    /// Deletes what no longer matters: counters whose last failure is before `forgotten`
    /// and which lock nothing at `now`, and devices not seen since `devices_before`. Each
    /// statement runs on its own, outside any login transaction, so it never holds a
    /// counter that a login waits for.
    pub async fn purge_login_state(
        &self,
        now: DateTime<Utc>,
        forgotten: DateTime<Utc>,
        devices_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "DELETE FROM login_failures WHERE last_at < $1 \
                 AND (locked_until IS NULL OR locked_until <= $2)",
            )
            .bind(forgotten)
            .bind(now)
            .execute(p)
            .await?;
            sqlx::query("DELETE FROM known_devices WHERE last_login_at < $1")
                .bind(devices_before)
                .execute(p)
                .await?;
            sqlx::query("DELETE FROM known_staff_devices WHERE last_login_at < $1")
                .bind(devices_before)
                .execute(p)
                .await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(())
    }
}
