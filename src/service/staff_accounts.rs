//! Town-hall staff accounts: a user name and an argon2id password hash (PHC string).
//!
//! Hashing is deliberately slow and memory-hungry (that is its point: 19 MiB per
//! verification with the default argon2id parameters), so every verification goes through
//! [`PasswordGate`]: a few at once on threads of its own, the others wait their turn, and
//! past a wait they are refused. Unauthenticated staff logins thus cannot grow the
//! server's memory without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::store::{Store, StoreError};

/// Shortest password accepted for a staff account.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Errors of staff account management, in French for the operator.
#[derive(Debug, Error)]
pub enum StaffError {
    /// User name empty, too long or with odd characters.
    #[error("nom d'utilisateur invalide (1 à 64 lettres, chiffres, . _ -)")]
    BadUser,
    /// Password too short.
    #[error("mot de passe trop court ({MIN_PASSWORD_CHARS} caractères au moins)")]
    WeakPassword,
    /// The name is taken.
    #[error("le compte « {0} » existe déjà")]
    Exists(String),
    /// The hash could not be computed or read.
    #[error("calcul du hachage du mot de passe impossible")]
    Hash(String),
    /// Too many password checks are waiting already.
    #[error("trop de connexions en cours, veuillez réessayer dans un instant")]
    Busy,
    /// Database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a staff user name: 1 to 64 ASCII letters, digits, `.`, `_` or `-`.
pub fn valid_user(user: &str) -> bool {
    (1..=64).contains(&user.len())
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Hashes a password with argon2id and a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, StaffError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StaffError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC hash `phc` (the outputs compared in constant time).
///
/// argon2's working memory (19 MiB with the default parameters) is this thread's own,
/// allocated once and reused: freed and allocated again at each check, the allocator
/// would keep a copy in each arena the check happened to run on.
pub fn verify_password(password: &str, phc: &str) -> bool {
    thread_local! {
        static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    MEMORY.with(|memory| verify_in(password, phc, &mut memory.borrow_mut()))
}

/// [`verify_password`] with `memory` as argon2's working memory (grown as needed).
fn verify_in(password: &str, phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let Ok(version) = hash.version.map(Version::try_from).transpose() else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params);
    argon2
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..blocks])
        .is_ok()
        && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// A hash of a password nobody knows, verified when the user does not exist so that an
/// unknown name takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never valid").unwrap_or_default())
}

/// Password verifications allowed at once in the process (each holds 19 MiB of argon2
/// memory while it runs).
pub const PASSWORD_CHECKS_AT_ONCE: usize = 2;

/// How long a password check waits for its turn before it is refused.
const PASSWORD_CHECK_WAIT: Duration = Duration::from_secs(10);

/// A job for the gate's threads.
type Job = Box<dyn FnOnce() + Send>;

/// Runs argon2 work a few at a time on threads of its own, and counts how many run.
///
/// Own threads rather than tokio's blocking pool: the allocator keeps the 19 MiB a thread
/// used for argon2 in that thread's arena after it is freed, so verifications spread over
/// the blocking pool's many threads grew the memory as much as parallel ones did
/// (measured: 32 staff logins, 2 at a time on the blocking pool, still took the server to
/// over 600 MB). With `permits` threads, the memory argon2 holds is `permits` × 19 MiB.
#[derive(Debug, Clone)]
pub struct PasswordGate {
    permits: Arc<Semaphore>,
    wait: Duration,
    jobs: std::sync::mpsc::Sender<Job>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

impl PasswordGate {
    /// A gate running at most `permits` jobs at once, on as many threads; a job waits at
    /// most `wait` for its turn. The threads end when the last clone of the gate is dropped.
    pub fn new(permits: usize, wait: Duration) -> Self {
        let permits = permits.max(1);
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..permits {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok(job) = next else { return };
                        // A panicking job must not take the thread (and a permit) with it.
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).ok();
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-check thread");
            }
        }
        Self {
            permits: Arc::new(Semaphore::new(permits)),
            wait,
            jobs,
            in_flight: Arc::new(AtomicUsize::new(0)),
            max_in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The process's gate, shared by every password and PIN verification.
    pub fn global() -> &'static PasswordGate {
        static GATE: std::sync::OnceLock<PasswordGate> = std::sync::OnceLock::new();
        GATE.get_or_init(|| PasswordGate::new(PASSWORD_CHECKS_AT_ONCE, PASSWORD_CHECK_WAIT))
    }

    /// Jobs running now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// The most jobs that ever ran at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Runs `job` on one of the gate's threads once a permit is free; [`StaffError::Busy`]
    /// when none frees up in time. The permit moves into the job, so a request dropped
    /// while argon2 runs still holds its permit until argon2 ends.
    pub async fn run<T, F>(&self, job: F) -> Result<T, StaffError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| StaffError::Busy)?
            .map_err(|_| StaffError::Busy)?;
        let in_flight = self.in_flight.clone();
        let max = self.max_in_flight.clone();
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _permit = permit;
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(now, Ordering::SeqCst);
            let out = job();
            in_flight.fetch_sub(1, Ordering::SeqCst);
            done.send(out).ok();
        });
        self.jobs
            .send(job)
            .map_err(|_| StaffError::Hash("password-check threads gone".into()))?;
        result
            .await
            .map_err(|_| StaffError::Hash("password check failed".into()))
    }
}

/// Creates a staff account (the password is hashed here).
pub async fn add(
    store: &Store,
    user: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<(), StaffError> {
    if !valid_user(user) {
        return Err(StaffError::BadUser);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StaffError::WeakPassword);
    }
    let pw = password.to_owned();
    let phc = PasswordGate::global()
        .run(move || hash_password(&pw))
        .await??;
    match store.insert_staff_account(user, &phc, now).await {
        Ok(()) => Ok(()),
        Err(StoreError::Duplicate { .. }) => Err(StaffError::Exists(user.to_owned())),
        Err(e) => Err(StaffError::Store(e)),
    }
}

/// Whether `user` exists and `password` is theirs; argon2 runs behind
/// [`PasswordGate::global`]. Callers facing the network check their throttle first.
pub async fn check(store: &Store, user: &str, password: &str) -> Result<bool, StaffError> {
    let phc: Option<String> = if valid_user(user) {
        store.staff_password_hash(user).await?
    } else {
        None
    };
    let known = phc.is_some();
    let pw = password.to_owned();
    // The decoy is made (once) inside the gate too: it is an argon2 hash as well.
    let ok = PasswordGate::global()
        .run(move || match &phc {
            Some(phc) => verify_password(&pw, phc),
            None => verify_password(&pw, decoy_hash()),
        })
        .await?;
    Ok(known && ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert_ne!(a, b, "fresh salt each time");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn verification_with_reused_memory_agrees_with_argon2_for_any_parameters() {
        use argon2::password_hash::PasswordVerifier;
        let salt = SaltString::generate(&mut OsRng);
        for (m, t, p, algorithm) in [
            (64, 1, 1, Algorithm::Argon2id),
            (256, 2, 2, Algorithm::Argon2i),
            (19 * 1024, 2, 1, Algorithm::Argon2id),
        ] {
            let params = Params::new(m, t, p, None).unwrap();
            let phc = Argon2::new(algorithm, Version::V0x13, params)
                .hash_password(b"mot de passe solide", &salt)
                .unwrap()
                .to_string();
            let parsed = PasswordHash::new(&phc).unwrap();
            assert!(
                Argon2::default()
                    .verify_password(b"mot de passe solide", &parsed)
                    .is_ok()
            );
            // The same thread, so the same memory, grown then reused.
            assert!(verify_password("mot de passe solide", &phc), "{phc}");
            assert!(!verify_password("mot de passe solidE", &phc), "{phc}");
        }
        // A smaller hash after a bigger one uses the front of the memory.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        )
        .hash_password(b"x", &salt)
        .unwrap()
        .to_string();
        assert!(verify_password("x", &small));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_gate_runs_no_more_than_its_permits_at_once() {
        let gate = PasswordGate::new(2, Duration::from_secs(30));
        let jobs: Vec<_> = (0..12)
            .map(|_| {
                let gate = gate.clone();
                tokio::spawn(async move {
                    gate.run(|| {
                        // Long enough for the twelve to overlap if nothing held them back.
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    })
                    .await
                })
            })
            .collect();
        for j in jobs {
            j.await.unwrap().unwrap();
        }
        assert_eq!(gate.max_in_flight(), 2);
        assert_eq!(gate.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_full_gate_refuses_after_its_wait() {
        let gate = PasswordGate::new(1, Duration::from_millis(10));
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let g = gate.clone();
        let first = tokio::spawn(async move {
            g.run(move || {
                started_tx.send(()).ok();
                hold_rx.recv().ok();
            })
            .await
        });
        started_rx.await.unwrap();
        assert!(matches!(gate.run(|| ()).await, Err(StaffError::Busy)));
        hold_tx.send(()).unwrap();
        first.await.unwrap().unwrap();
        gate.run(|| ()).await.unwrap();
    }

    #[test]
    fn user_names_are_checked() {
        assert!(valid_user("amelie.dupont"));
        assert!(!valid_user(""));
        assert!(!valid_user("a b"));
        assert!(!valid_user("<script>"));
    }
}
