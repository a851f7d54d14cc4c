//! Browser sessions, kept in memory: a random id in an HttpOnly cookie maps to who is
//! logged in (a parent on one child, or a staff member, or nobody yet) and the session's
//! CSRF token.
//!
//! Kept in memory because a session is short-lived and cheap to lose (a restart logs people
//! out); several nodes behind a load balancer need sticky sessions. The id is 256 random
//! bits from the OS generator, renewed at each login (no session fixation).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rand::rngs::OsRng;
use subtle::ConstantTimeEq;

use crate::booking::model::{ChildId, PayerId};

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "ivr_session";

/// The most sessions kept at once; past it the oldest idle ones are dropped first, so a
/// flood of anonymous visits cannot exhaust memory.
const MAX_SESSIONS: usize = 50_000;

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Nobody logged in yet (the login pages need a CSRF token too).
    Anonymous,
    /// A parent, looking at one of their children.
    Parent {
        /// The family account.
        payer: PayerId,
        /// The child whose planning is shown.
        child: ChildId,
    },
    /// A town-hall staff member.
    Staff {
        /// The staff account's user name.
        user: String,
    },
}

/// What a page shows once after a redirect (the recap of a validation, a confirmation).
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// A message for the next page shown.
    pub flash: Option<Flash>,
    last_seen: DateTime<Utc>,
}

impl SessionData {
    /// Checks a submitted CSRF token against the session's, in constant time.
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        self.csrf.as_bytes().ct_eq(submitted.as_bytes()).into()
    }
}

/// The sessions of this server.
#[derive(Debug)]
pub struct SessionStore {
    idle: Duration,
    map: Mutex<HashMap<String, SessionData>>,
}

/// 32 random bytes as 64 lower-case hex digits.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl SessionStore {
    /// An empty store whose sessions end after `idle` without a request.
    pub fn new(idle: Duration) -> Self {
        Self {
            idle,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionData>> {
        // A panic while holding the lock cannot leave a half-written entry (every update
        // is a single insert or field store), so the data is still sound.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a session for `who` and returns its id (the cookie value).
    pub fn create(&self, who: Who, now: DateTime<Utc>) -> (String, SessionData) {
        let id = random_token();
        let data = SessionData {
            who,
            csrf: random_token(),
            flash: None,
            last_seen: now,
        };
        let mut map = self.lock();
        if map.len() >= MAX_SESSIONS {
            let idle = self.idle;
            map.retain(|_, s| now - s.last_seen < idle);
            if map.len() >= MAX_SESSIONS {
                // Still full of live sessions: drop the anonymous ones, the cheapest to lose.
                map.retain(|_, s| s.who != Who::Anonymous);
            }
        }
        map.insert(id.clone(), data.clone());
        (id, data)
    }

    /// The live session with this id, its idle timer restarted; `None` if unknown or expired.
    pub fn get(&self, id: &str, now: DateTime<Utc>) -> Option<SessionData> {
        let mut map = self.lock();
        let live = map.get(id).is_some_and(|s| now - s.last_seen < self.idle);
        if !live {
            map.remove(id);
            return None;
        }
        let s = map.get_mut(id)?;
        s.last_seen = now;
        Some(s.clone())
    }

    /// Takes the session's flash message, if any.
    pub fn take_flash(&self, id: &str) -> Option<Flash> {
        self.lock().get_mut(id).and_then(|s| s.flash.take())
    }

    /// Sets the message the next page shows.
    pub fn set_flash(&self, id: &str, flash: Flash) {
        if let Some(s) = self.lock().get_mut(id) {
            s.flash = Some(flash);
        }
    }

    /// Points a parent's session at another child (already checked to be theirs).
    pub fn set_child(&self, id: &str, child: ChildId) {
        if let Some(s) = self.lock().get_mut(id)
            && let Who::Parent { child: c, .. } = &mut s.who
        {
            *c = child;
        }
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Number of sessions held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap() + Duration::minutes(min)
    }

    #[test]
    fn sessions_expire_when_idle_and_ids_differ() {
        let store = SessionStore::new(Duration::minutes(30));
        let (a, da) = store.create(Who::Anonymous, t(0));
        let (b, db) = store.create(Who::Anonymous, t(0));
        assert_ne!(a, b);
        assert_ne!(da.csrf, db.csrf);
        assert_eq!(a.len(), 64);
        assert!(store.get(&a, t(29)).is_some());
        // Idle timer restarted at 29.
        assert!(store.get(&a, t(58)).is_some());
        assert!(store.get(&a, t(89)).is_none());
        assert!(store.get(&b, t(31)).is_none());
        assert!(store.get("nope", t(0)).is_none());
    }

    #[test]
    fn csrf_compares_whole_token() {
        let store = SessionStore::new(Duration::minutes(30));
        let (_, d) = store.create(Who::Anonymous, t(0));
        assert!(d.csrf_ok(&d.csrf.clone()));
        assert!(!d.csrf_ok(&d.csrf[..63]));
        assert!(!d.csrf_ok(""));
        let mut forged = d.csrf.clone().into_bytes();
        forged[10] = if forged[10] == b'a' { b'b' } else { b'a' };
        assert!(!d.csrf_ok(std::str::from_utf8(&forged).unwrap()));
    }

    #[test]
    fn flash_is_shown_once() {
        let store = SessionStore::new(Duration::minutes(30));
        let (a, _) = store.create(Who::Anonymous, t(0));
        store.set_flash(&a, Flash::Notice("ok".into()));
        assert_eq!(store.take_flash(&a), Some(Flash::Notice("ok".into())));
        assert_eq!(store.take_flash(&a), None);
    }
}
