//! Login by (child code, payer code), with failed attempts counted per source and per child
//! code: a slow-down after a few failures, then a lockout for a while.
//!
//! The counters live in the database (`login_failures`), so every node of a PostgreSQL
//! installation shares them, and they are keyed by an HMAC-SHA-256 of the source or code
//! under a key generated once per installation: the table never holds a child code nor a
//! caller's number.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

use crate::booking::model::{ChildCode, ChildId, PayerCode, PayerId};
use crate::store::{LoginCounter, LoginKeyKind, Store, StoreError};

/// The name of the installation's login hash key in the `secrets` table.
const HASH_KEY_NAME: &str = "login_hash_key";

/// Throttling of failed logins (config section `[login]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginConfig {
    /// Failures of one source or child code before the slow-down starts.
    pub free_failures: u32,
    /// The first wait imposed, in seconds; it doubles with each further failure.
    pub slowdown_seconds: u32,
    /// The longest slow-down wait, in seconds.
    pub max_slowdown_seconds: u32,
    /// Failures after which the source or child code is locked out.
    pub lockout_after: u32,
    /// How long a lockout lasts, in minutes.
    pub lockout_minutes: u32,
    /// After this many minutes without a failure, the count starts again from zero.
    pub forget_after_minutes: u32,
}

impl Default for LoginConfig {
    fn default() -> Self {
        Self {
            free_failures: 3,
            slowdown_seconds: 2,
            max_slowdown_seconds: 60,
            lockout_after: 10,
            lockout_minutes: 15,
            forget_after_minutes: 60,
        }
    }
}

impl LoginConfig {
    /// Until when a key with `failures` failures (the last one at `now`) is refused.
    pub fn locked_until(&self, failures: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if failures >= i64::from(self.lockout_after) {
            return Some(now + Duration::minutes(i64::from(self.lockout_minutes)));
        }
        let over = failures - i64::from(self.free_failures);
        if over < 0 {
            return None;
        }
        // 2 s, 4 s, 8 s… capped; the shift is bounded so it cannot overflow.
        let wait = i64::from(self.slowdown_seconds)
            .saturating_mul(1i64 << over.min(30))
            .min(i64::from(self.max_slowdown_seconds));
        Some(now + Duration::seconds(wait))
    }
}

/// Who is logged in: a payer and the child whose planning is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Session {
    /// The family account.
    pub payer: PayerId,
    /// The child whose planning is shown.
    pub child: ChildId,
}

/// Why a login was refused. The sentences never tell which code was wrong.
#[derive(Debug, Error)]
pub enum LoginError {
    /// No child with this code belongs to a payer with this code.
    #[error("Code enfant ou code payeur incorrect.")]
    WrongCodes,
    /// Too many failures from this source or for this child code.
    #[error("Trop d'essais infructueux. Veuillez réessayer dans quelques minutes.")]
    TooManyAttempts {
        /// When a new attempt will be considered.
        retry_after: DateTime<Utc>,
    },
    /// The database failed.
    #[error("Le service est momentanément indisponible. Veuillez réessayer plus tard.")]
    Store(#[from] StoreError),
}

/// Checks login pairs and keeps the failure counters.
#[derive(Clone)]
pub struct LoginGuard {
    config: LoginConfig,
    key: Vec<u8>,
}

impl std::fmt::Debug for LoginGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginGuard")
            .field("config", &self.config)
            .field("key", &"***")
            .finish()
    }
}

impl LoginGuard {
    /// Loads the installation's hash key (creating it on first use).
    pub async fn new(store: &Store, config: LoginConfig) -> Result<Self, StoreError> {
        let fresh: [u8; 32] = rand::random();
        let key = store.secret_or_insert(HASH_KEY_NAME, &fresh).await?;
        Ok(Self { config, key })
    }

    /// The throttling settings.
    pub fn config(&self) -> &LoginConfig {
        &self.config
    }

    fn hash(&self, kind: LoginKeyKind, value: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        mac.update(match kind {
            LoginKeyKind::Source => b"source\0",
            LoginKeyKind::Child => b"child\0",
        });
        mac.update(value.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Checks the pair typed from `source` (e.g. `ip:127.0.0.1`, `phone:<caller>`) at `now`.
    ///
    /// A locked source or child code is refused before the codes are looked at. An unknown
    /// child code and a wrong payer code take the same path (one query for the pair, the
    /// same counters updated) and give the same error.
    pub async fn login(
        &self,
        store: &Store,
        source: &str,
        child: &ChildCode,
        payer: &PayerCode,
        now: DateTime<Utc>,
    ) -> Result<Session, LoginError> {
        let keys = [
            (
                LoginKeyKind::Source,
                self.hash(LoginKeyKind::Source, source),
            ),
            (
                LoginKeyKind::Child,
                self.hash(LoginKeyKind::Child, child.expose()),
            ),
        ];
        let mut retry_after: Option<DateTime<Utc>> = None;
        for (kind, key) in &keys {
            if let Some(LoginCounter {
                locked_until: Some(until),
                ..
            }) = store.login_counter(*kind, key).await?
                && until > now
            {
                retry_after = retry_after.max(Some(until));
            }
        }
        if let Some(retry_after) = retry_after {
            return Err(LoginError::TooManyAttempts { retry_after });
        }

        let found = store.find_login(child, payer).await?;
        let mut tx = store.begin().await?;
        match found {
            Some((payer, child)) => {
                for (kind, key) in &keys {
                    tx.clear_login_counter(*kind, key).await?;
                }
                tx.commit().await?;
                Ok(Session { payer, child })
            }
            None => {
                let forget = Duration::minutes(i64::from(self.config.forget_after_minutes));
                for (kind, key) in &keys {
                    let mut counter = tx.lock_login_counter(*kind, key, now).await?;
                    if now - counter.last_at > forget {
                        counter.failures = 0;
                    }
                    counter.failures += 1;
                    counter.last_at = now;
                    counter.locked_until = self.config.locked_until(counter.failures, now);
                    tx.set_login_counter(*kind, key, &counter).await?;
                }
                tx.commit().await?;
                Err(LoginError::WrongCodes)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn waits_grow_then_lock() {
        let c = LoginConfig::default();
        let now = Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap();
        let wait = |n| c.locked_until(n, now).map(|t| (t - now).num_seconds());
        assert_eq!(wait(1), None);
        assert_eq!(wait(2), None);
        assert_eq!(wait(3), Some(2));
        assert_eq!(wait(4), Some(4));
        assert_eq!(wait(7), Some(32));
        assert_eq!(wait(8), Some(60));
        assert_eq!(wait(9), Some(60));
        assert_eq!(wait(10), Some(15 * 60));
        assert_eq!(wait(500), Some(15 * 60));
    }

    #[test]
    fn config_section_reads_from_toml_and_refuses_unknown_keys() {
        let c: LoginConfig = toml::from_str("free_failures = 5\nlockout_minutes = 30").unwrap();
        assert_eq!(c.free_failures, 5);
        assert_eq!(c.lockout_minutes, 30);
        assert_eq!(c.lockout_after, LoginConfig::default().lockout_after);
        let err = toml::from_str::<LoginConfig>("lockout_mins = 30").unwrap_err();
        assert!(err.to_string().contains("lockout_mins"), "{err}");
        let cfg = crate::config::Config::from_toml("[login]\nlockout_after = 6\n", "test").unwrap();
        assert_eq!(cfg.login.lockout_after, 6);
    }
}
