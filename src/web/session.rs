//! Browser sessions: a random id in an HttpOnly cookie maps to who is logged in (a parent
//! on one child, or a staff member, or nobody yet) and the session's CSRF token.
//!
//! Sessions live in the database (`web_sessions`), so a restart logs nobody out and every
//! node of a PostgreSQL installation serves every session; the row is keyed by a SHA-256
//! of the id, so the table cannot be replayed as cookies. The id is 256 random bits from
//! the OS generator, renewed at each login (no session fixation). The one-shot message
//! shown after a redirect ([`Flash`]) lives there too (`web_flashes`), so the node that
//! shows the page after a form need not be the one that took the form.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::booking::model::ChildId;
use crate::store::{Store, StoreError};

pub use crate::store::SessionOwner as Who;

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "ivr_session";

/// The most anonymous sessions kept at once; past it the oldest are dropped first, so a
/// flood of anonymous visits cannot fill the database. Logged-in sessions only end idle.
const MAX_ANONYMOUS_SESSIONS: i64 = 50_000;

/// Idle sessions are purged once every this many new sessions (the first one included).
const PURGE_EVERY: u32 = 32;

/// A session's idle timer is written back at most this often (a page load need not
/// always be a database write).
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// What a page shows once after a redirect (the recap of a validation, a confirmation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flash {
    /// The planning's recap: lines of changes made, and lines refused with their reason.
    Recap {
        /// "inscription, 01/05/2014, Cantine" lines.
        done: Vec<String>,
        /// "29/04/2014, Cantine : <reason>" lines.
        refused: Vec<String>,
    },
    /// A short confirmation sentence (staff pages).
    Notice(String),
    /// What setting a usual week did: cells booked, how many were booked already, cells
    /// skipped with their reason, and a sentence on the period.
    UsualWeek {
        /// "inscription, 03/12/2026, Cantine" lines.
        booked: Vec<String>,
        /// How many cells were booked already.
        already: usize,
        /// "07/12/2026, Cantine : <reason>" lines.
        skipped: Vec<String>,
        /// The period booked now and what comes next.
        note: String,
    },
    /// A short error sentence (staff pages).
    Error(String),
}

/// One session's data.
#[derive(Debug, Clone)]
pub struct SessionData {
    /// Who is logged in.
    pub who: Who,
    /// The CSRF token every form of this session carries (64 hex digits).
    pub csrf: String,
}

impl SessionData {
    /// Checks a submitted CSRF token against the session's, in constant time.
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        self.csrf.as_bytes().ct_eq(submitted.as_bytes()).into()
    }
}

/// The sessions, over the database.
#[derive(Debug)]
pub struct SessionStore {
    store: Store,
    idle: Duration,
    created: AtomicU32,
}

/// 32 random bytes as 64 lower-case hex digits.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The database key of a session id.
fn key(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

impl SessionStore {
    /// The sessions of `store`, ending after `idle` without a request.
    pub fn new(store: Store, idle: Duration) -> Self {
        Self {
            store,
            idle,
            created: AtomicU32::new(0),
        }
    }

    /// Creates a session for `who` and returns its id (the cookie value). Now and then
    /// purges the idle sessions first.
    pub async fn create(
        &self,
        who: Who,
        now: DateTime<Utc>,
    ) -> Result<(String, SessionData), StoreError> {
        if self
            .created
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PURGE_EVERY)
        {
            self.store
                .purge_sessions(now - self.idle, MAX_ANONYMOUS_SESSIONS)
                .await?;
        }
        let id = random_token();
        let data = SessionData {
            who,
            csrf: random_token(),
        };
        self.store
            .insert_session(&key(&id), &data.who, &data.csrf, now)
            .await?;
        Ok((id, data))
    }

    /// The live session with this id, its idle timer restarted; `None` if unknown or
    /// expired (an expired one is deleted).
    pub async fn get(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionData>, StoreError> {
        // Only our own ids are worth a query.
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let k = key(id);
        let Some(stored) = self.store.session(&k).await? else {
            return Ok(None);
        };
        let idle_for = now - stored.last_seen;
        if idle_for >= self.idle {
            // Its flash goes with it (ON DELETE CASCADE).
            self.store.delete_session(&k).await?;
            return Ok(None);
        }
        if idle_for >= TOUCH_EVERY {
            self.store.touch_session(&k, now).await?;
        }
        Ok(Some(SessionData {
            who: stored.owner,
            csrf: stored.csrf,
        }))
    }

    /// Takes the session's flash message, if any (shown once, by whichever node).
    pub async fn take_flash(&self, id: &str) -> Result<Option<Flash>, StoreError> {
        let Some(text) = self.store.take_session_flash(&key(id)).await? else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("message de session illisible : {e}")))
    }

    /// Sets the message the next page shows.
    pub async fn set_flash(&self, id: &str, flash: Flash) -> Result<(), StoreError> {
        let text = serde_json::to_string(&flash)
            .map_err(|e| StoreError::Corrupt(format!("message de session : {e}")))?;
        self.store.set_session_flash(&key(id), &text).await
    }

    /// Points a parent's session at another child (already checked to be theirs).
    pub async fn set_child(&self, id: &str, child: ChildId) -> Result<(), StoreError> {
        self.store.set_session_child(&key(id), child).await
    }

    /// Ends a session.
    pub async fn remove(&self, id: &str) -> Result<(), StoreError> {
        self.store.delete_session(&key(id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::TestDb;
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap() + Duration::minutes(min)
    }

    #[tokio::test]
    async fn sessions_expire_when_idle_and_ids_differ() {
        let db = TestDb::sqlite().await.unwrap();
        let store = SessionStore::new(db.store.clone(), Duration::minutes(30));
        let (a, da) = store.create(Who::Anonymous, t(0)).await.unwrap();
        let (b, db_) = store.create(Who::Anonymous, t(0)).await.unwrap();
        assert_ne!(a, b);
        assert_ne!(da.csrf, db_.csrf);
        assert_eq!(a.len(), 64);
        assert!(store.get(&a, t(29)).await.unwrap().is_some());
        // Idle timer restarted at 29.
        assert!(store.get(&a, t(58)).await.unwrap().is_some());
        assert!(store.get(&a, t(89)).await.unwrap().is_none());
        assert!(store.get(&b, t(31)).await.unwrap().is_none());
        assert!(store.get("nope", t(0)).await.unwrap().is_none());
        // The table holds hashes, not the ids.
        let keys = db
            .query_texts("SELECT id_hash FROM web_sessions")
            .await
            .unwrap();
        assert!(keys.iter().all(|k| *k != a && *k != b));
    }

    #[tokio::test]
    async fn idle_sessions_are_purged_when_sessions_are_made() {
        let db = TestDb::sqlite().await.unwrap();
        let store = SessionStore::new(db.store.clone(), Duration::minutes(30));
        for _ in 0..PURGE_EVERY {
            store.create(Who::Anonymous, t(0)).await.unwrap();
        }
        assert_eq!(
            db.store.session_count().await.unwrap(),
            i64::from(PURGE_EVERY)
        );
        // The next one purges the idle ones before it is stored.
        store.create(Who::Anonymous, t(31)).await.unwrap();
        assert_eq!(db.store.session_count().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn csrf_compares_whole_token() {
        let db = TestDb::sqlite().await.unwrap();
        let store = SessionStore::new(db.store.clone(), Duration::minutes(30));
        let (_, d) = store.create(Who::Anonymous, t(0)).await.unwrap();
        assert!(d.csrf_ok(&d.csrf.clone()));
        assert!(!d.csrf_ok(&d.csrf[..63]));
        assert!(!d.csrf_ok(""));
        let mut forged = d.csrf.clone().into_bytes();
        forged[10] = if forged[10] == b'a' { b'b' } else { b'a' };
        assert!(!d.csrf_ok(std::str::from_utf8(&forged).unwrap()));
    }

    /// Two nodes over one database: the flash one node sets after a form is shown by the
    /// other, once; a session's end takes its flash with it.
    async fn flash_is_shown_once_by_any_node(db: &TestDb) -> anyhow::Result<()> {
        let node_a = SessionStore::new(db.store.clone(), Duration::minutes(30));
        let node_b = SessionStore::new(db.store.clone(), Duration::minutes(30));
        let (a, _) = node_a.create(Who::Anonymous, t(0)).await?;
        let recap = Flash::Recap {
            done: vec!["inscription, 01/05/2014, Cantine".into()],
            refused: vec!["29/04/2014, Cantine : trop tard".into()],
        };
        node_a
            .set_flash(&a, Flash::Notice("remplacé".into()))
            .await?;
        node_a.set_flash(&a, recap.clone()).await?;
        assert_eq!(node_b.take_flash(&a).await?, Some(recap));
        assert_eq!(node_a.take_flash(&a).await?, None);
        assert_eq!(node_b.take_flash(&a).await?, None);
        node_b.set_flash(&a, Flash::Error("non".into())).await?;
        node_a.remove(&a).await?;
        assert_eq!(node_b.take_flash(&a).await?, None, "ended with its session");
        Ok(())
    }

    crate::both_backends!(flash_is_shown_once_by_any_node);
}
