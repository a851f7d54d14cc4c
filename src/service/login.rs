//! Login by (child code, payer code), with failed attempts counted per source and per child
//! code: a slow-down after a few failures, then a lockout for a while. The staff login of
//! the web portal uses the same counters ([`LoginGuard::staff_begin`]).
//!
//! The counters live in the database (`login_failures`), so every node of a PostgreSQL
//! installation shares them and a restart forgets none, and they are keyed by an
//! HMAC-SHA-256 of the source or code under a key generated once per installation: the
//! table never holds a child code nor a caller's number.
//!
//! Three rules close the holes of a check made apart from the count:
//! - the limit is checked and the failure counted in one transaction that holds the
//!   counter rows (`INSERT … ON CONFLICT DO UPDATE … RETURNING` locks them on PostgreSQL;
//!   SQLite's `BEGIN IMMEDIATE` takes the write lock), so N parallel wrong guesses get
//!   exactly the policy's number of checks;
//! - a success never erases failures (wrong ×3, right, wrong ×3… cannot go on forever);
//! - a device that logged in successfully for this child before (a signed cookie, or a
//!   caller number asserted by a trusted trunk) answers only for its own failures, so
//!   failures from elsewhere cannot lock the family out, while unknown sources still are.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

use crate::booking::model::{ChildCode, ChildId, PayerCode, PayerId};
use crate::store::{LoginCounter, LoginKeyKind, Store, StoreError, StoreTx};

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
    /// Days a device stays known after its last successful login.
    pub known_device_days: u32,
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
            known_device_days: 180,
        }
    }
}

/// Wrong staff passwords (web) or PINs (phone) from one source, or at one staff account
/// from anywhere but a device known for it, before it is locked out.
pub const STAFF_FAILURES: u32 = 5;
/// How long a staff lock lasts, and how long staff failures are remembered without a new one.
pub const STAFF_LOCK_MINUTES: u32 = 15;
/// Wrong PINs from all callers together that lock the staff line for everybody. A last
/// resort against guessing spread over many callers: far above what staff mistype, so one
/// caller alone can never lock the others out (they are locked out themselves after
/// [`STAFF_FAILURES`]), while a distributed guess still meets a bound of this many tries.
pub const STAFF_LINE_FAILURES: u32 = 100;

impl LoginConfig {
    /// The staff policy beside these parents' settings: `failures` free tries, then locked
    /// for [`STAFF_LOCK_MINUTES`] (no slow-down), forgotten as long after the last failure;
    /// known devices last as long as the parents'. One throttle thus serves parents, staff
    /// on the web and the staff line on the phone, each with its own numbers.
    pub fn staff(&self, failures: u32) -> LoginConfig {
        LoginConfig {
            free_failures: failures,
            slowdown_seconds: 0,
            max_slowdown_seconds: 0,
            lockout_after: failures,
            lockout_minutes: STAFF_LOCK_MINUTES,
            forget_after_minutes: STAFF_LOCK_MINUTES,
            known_device_days: self.known_device_days,
        }
    }

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

/// Where a login attempt comes from.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The sources the attempt is counted against, each locked by its own failures: the
    /// browser's address (`ip:192.0.2.7`), a call's network address and caller
    /// (`phone:ip:192.0.2.7`, `phone:0612345678`).
    pub sources: Vec<String>,
    /// A device that may be known: `web:<id>` from a valid device cookie, or
    /// `phone:<number>` asserted by a trusted trunk. When it logged in successfully for this
    /// account before, only its own failures can refuse it; a success remembers it.
    pub device: Option<String>,
}

/// Shows how many sources there are and whether a device is given, never their values
/// (addresses, caller numbers and device ids stay out of the logs).
impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origin")
            .field("sources", &self.sources.len())
            .field("device", &self.device.is_some())
            .finish()
    }
}

impl Origin {
    /// One source, no device.
    pub fn source(source: impl Into<String>) -> Self {
        Self {
            sources: vec![source.into()],
            device: None,
        }
    }
}

/// A staff login attempt already counted as a failure (before the slow password check):
/// give it back to [`LoginGuard::staff_finish`] with the check's result.
#[derive(Debug)]
pub struct StaffAttempt {
    counted: Vec<CounterKey>,
    device: Option<String>,
    user: String,
}

/// One counter the attempt touches, the policy it counts under, and whether its lock
/// refuses the attempt.
#[derive(Debug)]
struct CounterKey {
    kind: LoginKeyKind,
    hash: String,
    checked: bool,
    policy: LoginConfig,
}

/// Checks login pairs and keeps the failure counters.
#[derive(Clone)]
pub struct LoginGuard {
    config: LoginConfig,
    key: Vec<u8>,
    /// Logins since the last purge of forgotten counters (shared by the clones).
    since_purge: Arc<AtomicU32>,
}

/// A purge of forgotten counters and devices runs once every this many logins.
const PURGE_EVERY: u32 = 64;

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
        Ok(Self {
            config,
            key,
            since_purge: Arc::new(AtomicU32::new(0)),
        })
    }

    /// The throttling settings.
    pub fn config(&self) -> &LoginConfig {
        &self.config
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length")
    }

    fn hash(&self, kind: LoginKeyKind, value: &str) -> String {
        let mut mac = self.mac();
        mac.update(kind.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The signature of a device cookie's id (hex), under a key of its own derived from the
    /// installation's key (the domain `device-cookie` is no counter kind).
    pub fn sign_device(&self, id: &str) -> String {
        let mut mac = self.mac();
        mac.update(b"device-cookie\0");
        mac.update(id.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A caller's number as the call records keep it when the town does not keep numbers:
    /// a keyed hash (domain `caller-number`, 16 hex digits), the same for every call from
    /// that number on this installation, and no way back to the number without the key.
    pub fn caller_pseudonym(&self, number: &str) -> String {
        let mut mac = self.mac();
        mac.update(b"caller-number\0");
        mac.update(number.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..8])
    }

    /// Whether `signature` is [`LoginGuard::sign_device`] of `id`, in constant time.
    pub fn device_signature_ok(&self, id: &str, signature: &str) -> bool {
        let Ok(bytes) = hex::decode(signature) else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(b"device-cookie\0");
        mac.update(id.as_bytes());
        mac.verify_slice(&bytes).is_ok()
    }

    /// Checks the pair typed from `source` (e.g. `ip:127.0.0.1`, `phone:<caller>`) at `now`;
    /// see [`LoginGuard::login_from`].
    pub async fn login(
        &self,
        store: &Store,
        source: &str,
        child: &ChildCode,
        payer: &PayerCode,
        now: DateTime<Utc>,
    ) -> Result<Session, LoginError> {
        self.login_from(store, &Origin::source(source), child, payer, now)
            .await
    }

    /// Checks the pair typed from `origin` at `now`.
    ///
    /// One transaction: it locks the counters of the sources and of the child code (or,
    /// for a device known for this child, of the device), refuses while one of them is
    /// locked, then looks the pair up and counts the failure before letting go of them.
    /// An unknown child code and a wrong payer code take the same path (one query for the
    /// pair, the same counters updated) and give the same error. A success keeps the
    /// failures counted and remembers the device.
    pub async fn login_from(
        &self,
        store: &Store,
        origin: &Origin,
        child: &ChildCode,
        payer: &PayerCode,
        now: DateTime<Utc>,
    ) -> Result<Session, LoginError> {
        let device = origin
            .device
            .as_deref()
            .map(|d| self.hash(LoginKeyKind::Device, d));
        self.maybe_purge(store, now).await;
        let mut tx = store.begin().await?;
        let known = match &device {
            Some(h) => {
                tx.device_known_for_child(h, child, now - self.device_lifetime())
                    .await?
            }
            None => false,
        };
        let keys = self.keys(
            origin,
            LoginKeyKind::Source,
            (LoginKeyKind::Child, child.expose()),
            device
                .as_ref()
                .filter(|_| known)
                .map(|h| (LoginKeyKind::Device, h)),
            (&self.config, &self.config),
        );
        let counters = match lock_and_check(&mut tx, &keys, now).await? {
            Ok(counters) => counters,
            Err(retry_after) => {
                tx.rollback().await?;
                return Err(LoginError::TooManyAttempts { retry_after });
            }
        };
        match tx.find_login(child, payer).await? {
            Some((payer, child)) => {
                if let Some(h) = &device {
                    tx.remember_device(h, child, now).await?;
                }
                tx.commit().await?;
                Ok(Session { payer, child })
            }
            None => {
                count_failures(&mut tx, &keys, counters, now).await?;
                tx.commit().await?;
                Err(LoginError::WrongCodes)
            }
        }
    }

    /// Starts a staff login for `user` from `origin` under `policy`: in one transaction,
    /// refuses while a counter is locked, else counts the attempt as a failure before the
    /// (slow) password check runs, so parallel attempts cannot pass the limit. Report the
    /// check's result with [`LoginGuard::staff_finish`]; an attempt never finished (the
    /// browser went away) stays counted as a failure.
    pub async fn staff_begin(
        &self,
        store: &Store,
        policy: &LoginConfig,
        origin: &Origin,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<StaffAttempt, LoginError> {
        self.staff_begin_with(store, policy, policy, origin, user, now)
            .await
    }

    /// [`LoginGuard::staff_begin`] with a policy of its own for the account's counter
    /// (e.g. a ceiling far above one source's, against a guess spread over many sources).
    pub async fn staff_begin_with(
        &self,
        store: &Store,
        policy: &LoginConfig,
        account_policy: &LoginConfig,
        origin: &Origin,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<StaffAttempt, LoginError> {
        let device = origin
            .device
            .as_deref()
            .map(|d| self.hash(LoginKeyKind::StaffDevice, d));
        let mut tx = store.begin().await?;
        let known = match &device {
            Some(h) => {
                tx.device_known_for_staff(h, user, now - self.device_lifetime())
                    .await?
            }
            None => false,
        };
        let keys = self.keys(
            origin,
            LoginKeyKind::StaffSource,
            (LoginKeyKind::StaffUser, user),
            device
                .as_ref()
                .filter(|_| known)
                .map(|h| (LoginKeyKind::StaffDevice, h)),
            (policy, account_policy),
        );
        let counters = match lock_and_check(&mut tx, &keys, now).await? {
            Ok(counters) => counters,
            Err(retry_after) => {
                tx.rollback().await?;
                return Err(LoginError::TooManyAttempts { retry_after });
            }
        };
        count_failures(&mut tx, &keys, counters, now).await?;
        tx.commit().await?;
        Ok(StaffAttempt {
            counted: keys,
            device,
            user: user.to_owned(),
        })
    }

    /// Ends a staff login: a wrong password stays counted; a right one gives back the
    /// failure counted in advance (only that one: earlier failures stay) and remembers the
    /// browser.
    pub async fn staff_finish(
        &self,
        store: &Store,
        attempt: StaffAttempt,
        ok: bool,
        now: DateTime<Utc>,
    ) -> Result<(), LoginError> {
        if ok {
            self.give_back(store, &attempt, true, now).await?;
        }
        Ok(())
    }

    /// Gives back the failure counted in advance for an attempt whose password was never
    /// checked (the server was too busy), without remembering the browser.
    pub async fn staff_unchecked(
        &self,
        store: &Store,
        attempt: StaffAttempt,
        now: DateTime<Utc>,
    ) -> Result<(), LoginError> {
        self.give_back(store, &attempt, false, now).await
    }

    async fn give_back(
        &self,
        store: &Store,
        attempt: &StaffAttempt,
        remember: bool,
        now: DateTime<Utc>,
    ) -> Result<(), LoginError> {
        let mut tx = store.begin().await?;
        for k in &attempt.counted {
            let mut counter = tx.lock_login_counter(k.kind, &k.hash, now).await?;
            counter.failures = (counter.failures - 1).max(0);
            // Lift the lock only when the remaining failures would not lock at all: a
            // lock earned by other attempts stays.
            if k.policy.locked_until(counter.failures, now).is_none() {
                counter.locked_until = None;
            }
            tx.set_login_counter(k.kind, &k.hash, &counter).await?;
        }
        if remember && let Some(h) = &attempt.device {
            tx.remember_staff_device(h, &attempt.user, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    fn device_lifetime(&self) -> Duration {
        Duration::days(i64::from(self.config.known_device_days))
    }

    /// The counters an attempt touches, in one order (kind, then hash) so that concurrent
    /// transactions lock them in the same order and never deadlock. A known device is
    /// checked alone; otherwise the sources and the account are.
    fn keys(
        &self,
        origin: &Origin,
        source_kind: LoginKeyKind,
        (account_kind, account): (LoginKeyKind, &str),
        known_device: Option<(LoginKeyKind, &String)>,
        (policy, account_policy): (&LoginConfig, &LoginConfig),
    ) -> Vec<CounterKey> {
        let others_checked = known_device.is_none();
        let mut keys: Vec<CounterKey> = origin
            .sources
            .iter()
            .map(|s| CounterKey {
                kind: source_kind,
                hash: self.hash(source_kind, s),
                checked: others_checked,
                policy: policy.clone(),
            })
            .collect();
        keys.push(CounterKey {
            kind: account_kind,
            hash: self.hash(account_kind, account),
            checked: others_checked,
            policy: account_policy.clone(),
        });
        if let Some((kind, hash)) = known_device {
            keys.push(CounterKey {
                kind,
                hash: hash.clone(),
                checked: true,
                policy: policy.clone(),
            });
        }
        keys.sort_by(|a, b| (a.kind.as_str(), &a.hash).cmp(&(b.kind.as_str(), &b.hash)));
        keys.dedup_by(|a, b| a.kind == b.kind && a.hash == b.hash);
        keys
    }

    /// Now and then, deletes the counters and devices that no longer matter, so the
    /// tables stay as small as the recent failures. A failed purge is only logged: the
    /// next one does the work.
    async fn maybe_purge(&self, store: &Store, now: DateTime<Utc>) {
        if !self
            .since_purge
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PURGE_EVERY)
        {
            return;
        }
        // The staff counters forget after their own (shorter) window, so the longest one
        // decides; a counter still locking is kept whatever its age.
        let forget = Duration::minutes(i64::from(self.config.forget_after_minutes.max(60)));
        if let Err(e) = store
            .purge_login_state(now, now - forget, now - self.device_lifetime())
            .await
        {
            tracing::warn!(error = %e, "purge of old login counters failed");
        }
    }
}

/// Locks the counters of `keys` (creating them), restarts those whose last failure is
/// forgotten, and says until when the attempt is refused if a checked one is locked.
async fn lock_and_check(
    tx: &mut StoreTx,
    keys: &[CounterKey],
    now: DateTime<Utc>,
) -> Result<Result<Vec<LoginCounter>, DateTime<Utc>>, StoreError> {
    let mut counters = Vec::with_capacity(keys.len());
    let mut retry_after: Option<DateTime<Utc>> = None;
    for k in keys {
        let forget = Duration::minutes(i64::from(k.policy.forget_after_minutes));
        let mut counter = tx.lock_login_counter(k.kind, &k.hash, now).await?;
        let lock_over = counter.locked_until.is_none_or(|u| u <= now);
        if now - counter.last_at > forget && lock_over {
            counter.failures = 0;
            counter.locked_until = None;
        }
        if k.checked
            && let Some(until) = counter.locked_until
            && until > now
        {
            retry_after = retry_after.max(Some(until));
        }
        counters.push(counter);
    }
    Ok(match retry_after {
        Some(until) => Err(until),
        None => Ok(counters),
    })
}

/// Counts one failure on each counter (locked by [`lock_and_check`]).
async fn count_failures(
    tx: &mut StoreTx,
    keys: &[CounterKey],
    counters: Vec<LoginCounter>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for (k, mut counter) in keys.iter().zip(counters) {
        counter.failures += 1;
        counter.last_at = now;
        counter.locked_until = k.policy.locked_until(counter.failures, now);
        tx.set_login_counter(k.kind, &k.hash, &counter).await?;
    }
    Ok(())
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
    }
}
