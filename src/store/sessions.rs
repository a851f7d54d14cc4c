//! Web sessions, kept in the database so that a restart logs nobody out and every node
//! of a PostgreSQL installation knows every session. Rows are keyed by a hash of the
//! cookie's id (the caller hashes it), never by the id itself.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, on_pool};
use crate::booking::model::{ChildId, PayerId};

/// Who a stored session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOwner {
    /// Nobody logged in yet.
    Anonymous,
    /// A parent, looking at one of their children.
    Parent {
        /// The family account.
        payer: PayerId,
        /// The child whose planning is shown.
        child: ChildId,
    },
    /// A town-hall staff member, by user name.
    Staff {
        /// The staff account's user name.
        user: String,
    },
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// Who is logged in.
    pub owner: SessionOwner,
    /// The session's CSRF token.
    pub csrf: String,
    /// The last request seen (to the refresh granularity).
    pub last_seen: DateTime<Utc>,
}

impl Store {
    /// Stores a new session.
    pub async fn insert_session(
        &self,
        id_hash: &str,
        owner: &SessionOwner,
        csrf: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (who, payer, child, user) = match owner {
            SessionOwner::Anonymous => ("anonymous", None, None, None),
            SessionOwner::Parent { payer, child } => ("parent", Some(payer.0), Some(child.0), None),
            SessionOwner::Staff { user } => ("staff", None, None, Some(user.as_str())),
        };
        on_pool!(self, p => sqlx::query(
            "INSERT INTO web_sessions \
             (id_hash, who, payer_id, child_id, staff_user, csrf, created_at, last_seen) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(id_hash)
        .bind(who)
        .bind(payer)
        .bind(child)
        .bind(user)
        .bind(csrf)
        .bind(now)
        .execute(p)
        .await
        .map(drop)?);
        Ok(())
    }

    /// The session with this key, whatever its age.
    pub async fn session(&self, id_hash: &str) -> Result<Option<StoredSession>, StoreError> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT who, payer_id, child_id, staff_user, csrf, last_seen FROM web_sessions \
                 WHERE id_hash = $1",
            )
            .bind(id_hash)
            .fetch_optional(p)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let who: String = row.try_get("who")?;
            let payer: Option<i64> = row.try_get("payer_id")?;
            let child: Option<i64> = row.try_get("child_id")?;
            let user: Option<String> = row.try_get("staff_user")?;
            let owner = match (who.as_str(), payer, child, user) {
                ("anonymous", _, _, _) => SessionOwner::Anonymous,
                ("parent", Some(payer), Some(child), _) => SessionOwner::Parent {
                    payer: PayerId(payer),
                    child: ChildId(child),
                },
                ("staff", _, _, Some(user)) => SessionOwner::Staff { user },
                _ => return Err(StoreError::Corrupt(format!("session « {who} »"))),
            };
            Ok(Some(StoredSession {
                owner,
                csrf: row.try_get("csrf")?,
                last_seen: row.try_get("last_seen")?,
            }))
        })
    }

    /// Restarts a session's idle timer.
    pub async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("UPDATE web_sessions SET last_seen = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(now)
            .execute(p)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Points a parent's session at another child.
    pub async fn set_session_child(&self, id_hash: &str, child: ChildId) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "UPDATE web_sessions SET child_id = $2 WHERE id_hash = $1 AND who = 'parent'",
        )
        .bind(id_hash)
        .bind(child.0)
        .execute(p)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Sets the session's one-shot message (serialized by the web layer), replacing any.
    pub async fn set_session_flash(&self, id_hash: &str, flash: &str) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO web_flashes (id_hash, flash) VALUES ($1, $2) \
             ON CONFLICT (id_hash) DO UPDATE SET flash = excluded.flash",
        )
        .bind(id_hash)
        .bind(flash)
        .execute(p)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Takes the session's one-shot message: it is gone once read. Most pages have none,
    /// so a read comes first and only a message found is deleted (SQLite takes its one
    /// write lock for any DELETE, even of nothing); the `DELETE … RETURNING` decides which
    /// of two nodes reading it at once shows it.
    pub async fn take_session_flash(&self, id_hash: &str) -> Result<Option<String>, StoreError> {
        let waiting: i64 = on_pool!(self, p => sqlx::query_scalar(
            "SELECT count(*) FROM web_flashes WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_one(p)
        .await?);
        if waiting == 0 {
            return Ok(None);
        }
        Ok(on_pool!(self, p => sqlx::query_scalar(
            "DELETE FROM web_flashes WHERE id_hash = $1 RETURNING flash",
        )
        .bind(id_hash)
        .fetch_optional(p)
        .await?))
    }

    /// Ends a session.
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(p)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Deletes the sessions idle since before `idle_before`, then, if more than
    /// `max_anonymous` anonymous sessions are left, the oldest of them (a flood of
    /// anonymous visits cannot fill the table; logged-in sessions are never dropped so).
    pub async fn purge_sessions(
        &self,
        idle_before: DateTime<Utc>,
        max_anonymous: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query("DELETE FROM web_sessions WHERE last_seen < $1")
                .bind(idle_before)
                .execute(p)
                .await?;
            let anonymous: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions WHERE who = 'anonymous'")
                    .fetch_one(p)
                    .await?;
            if anonymous > max_anonymous {
                sqlx::query(
                    "DELETE FROM web_sessions WHERE id_hash IN (SELECT id_hash FROM web_sessions \
                     WHERE who = 'anonymous' ORDER BY last_seen LIMIT $1)",
                )
                .bind(anonymous - max_anonymous)
                .execute(p)
                .await?;
            }
            Ok::<_, StoreError>(())
        })?;
        Ok(())
    }

    /// Number of stored sessions (tests, metrics).
    pub async fn session_count(&self) -> Result<i64, StoreError> {
        on_pool!(self, p => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions")
            .fetch_one(p)
            .await?))
    }
}
