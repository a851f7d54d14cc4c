//! [`PhoneLine`]: everything the voice line's calls share (booking service, dialplans,
//! prompts, the announcement, the clock) and the choice of a flow by dialled number.
//!
//! Dialplans and prompts are swapped whole (`arc-swap`): a reload builds and checks a new
//! set first and keeps the old one on any error; calls in progress keep what they started
//! with.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use argon2::PasswordHash;
use thiserror::Error;
use tracing::info;

use crate::booking::service::BookingService;
use crate::call::{Call, CallFlow, FlowSelector};
use crate::dialplan::{
    DialplanConfig, DialplanError, DialplanSet, PromptManifest, normalize_number,
};
use crate::media::{MediaError, Prompt, PromptLibrary, SharedPrompts};
use crate::phone::announcement::{ANNOUNCEMENT_PROMPT, Announcements};
use crate::phone::clock::Clock;
use crate::phone::config::PhoneConfig;
use crate::phone::events::EventSink;
use crate::phone::{bridge, staff};

/// The prompt id of the beep before a recording.
pub const BEEP_PROMPT: &str = "bip";

/// Errors loading or reloading the voice line.
#[derive(Debug, Error)]
pub enum PhoneError {
    /// A dialplan or the prompt manifest failed its checks.
    #[error(transparent)]
    Dialplan(#[from] DialplanError),
    /// A prompt file could not be loaded.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The `[phone]` section is inconsistent.
    #[error("configuration [phone] : {0}")]
    Config(String),
}

/// Staff access to the announcement recorder.
struct StaffAccess {
    number: String,
    pin_hash: String,
}

/// Wrong staff PINs in a row from one caller before that caller is locked out.
const STAFF_PIN_FAILURES: u32 = 5;
/// How long a lock lasts (a caller's, or the whole line's), and how long a caller's
/// failures are remembered without a new one.
const STAFF_LOCK_MINUTES: i64 = 15;
/// Wrong PINs from all callers together within one [`STAFF_LOCK_MINUTES`] window that lock
/// the staff line for everybody. A last resort against guessing spread over many caller
/// numbers (the number in From is the caller's to choose): far above what staff mistype,
/// so one caller alone can never lock the others out (they are locked out themselves after
/// [`STAFF_PIN_FAILURES`]), while a distributed guess still meets a bound of this many
/// tries per window.
const STAFF_GLOBAL_FAILURES: u32 = 100;
/// Callers remembered at most; beyond that, new callers count only towards the global
/// ceiling (which bounds guessing anyway), so memory stays bounded.
const STAFF_CALLERS_MAX: usize = 10_000;

/// One caller's wrong PINs in a row, when the last came, and the end of their lock.
#[derive(Debug, Clone, Copy)]
struct CallerGuard {
    failures: u32,
    last: chrono::DateTime<chrono::Utc>,
    locked_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Guessing the staff PIN: per caller (keyed by a hash of the caller's number, never the
/// number itself) and for the whole line.
#[derive(Debug, Default)]
struct StaffGuard {
    /// Random per-process key for hashing caller numbers: the map holds no number in clear
    /// and its keys cannot be reversed by trying numbers offline.
    hasher: std::collections::hash_map::RandomState,
    callers: std::collections::HashMap<u64, CallerGuard>,
    /// Start of the current global counting window and the failures in it.
    window_start: Option<chrono::DateTime<chrono::Utc>>,
    window_failures: u32,
    locked_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl StaffGuard {
    /// The key of a caller; callers without a number share one key (so hiding one's number
    /// buys nothing).
    fn key(&self, caller: Option<&str>) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(caller.unwrap_or(""))
    }

    fn locked(&self, caller: Option<&str>, now: chrono::DateTime<chrono::Utc>) -> bool {
        let global = self.locked_until.is_some_and(|until| now < until);
        global
            || self
                .callers
                .get(&self.key(caller))
                .and_then(|c| c.locked_until)
                .is_some_and(|until| now < until)
    }

    fn record(&mut self, caller: Option<&str>, ok: bool, now: chrono::DateTime<chrono::Utc>) {
        let lock = chrono::Duration::minutes(STAFF_LOCK_MINUTES);
        let key = self.key(caller);
        if ok {
            self.callers.remove(&key);
            return;
        }
        // Global window.
        if self.window_start.is_none_or(|start| now - start >= lock) {
            self.window_start = Some(now);
            self.window_failures = 0;
        }
        self.window_failures += 1;
        if self.window_failures >= STAFF_GLOBAL_FAILURES {
            self.window_failures = 0;
            self.locked_until = Some(now + lock);
            tracing::warn!(
                "wrong staff PINs from many callers: staff line locked for everybody for a while"
            );
        }
        // Per caller: forget callers idle (and unlocked) for a whole lock period.
        if self.callers.len() >= STAFF_CALLERS_MAX {
            self.callers.retain(|_, c| {
                now - c.last < lock || c.locked_until.is_some_and(|until| now < until)
            });
        }
        if !self.callers.contains_key(&key) && self.callers.len() >= STAFF_CALLERS_MAX {
            return;
        }
        let entry = self.callers.entry(key).or_insert(CallerGuard {
            failures: 0,
            last: now,
            locked_until: None,
        });
        if now - entry.last >= lock {
            entry.failures = 0;
        }
        entry.last = now;
        entry.failures += 1;
        if entry.failures >= STAFF_PIN_FAILURES {
            entry.failures = 0;
            entry.locked_until = Some(now + lock);
            tracing::warn!(
                caller = key,
                "too many wrong staff PINs from one caller: that caller is locked out for a while"
            );
        }
    }
}

/// What every call of the voice line shares.
pub struct PhoneLine {
    service: BookingService,
    dialplan_config: DialplanConfig,
    config: PhoneConfig,
    dialplans: ArcSwap<DialplanSet>,
    prompts: Arc<SharedPrompts>,
    announcements: Announcements,
    clock: Arc<dyn Clock>,
    events: EventSink,
    staff: Option<StaffAccess>,
    staff_guard: std::sync::Mutex<StaffGuard>,
}

impl std::fmt::Debug for PhoneLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneLine")
            .field("dialplan_config", &self.dialplan_config)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PhoneLine {
    /// Loads and checks the dialplans and prompts; fails on any problem (start-up).
    pub fn load(
        service: BookingService,
        dialplan_config: DialplanConfig,
        config: PhoneConfig,
        clock: Arc<dyn Clock>,
        events: EventSink,
    ) -> Result<Arc<Self>, PhoneError> {
        let staff = match (&config.staff_number, &config.staff_pin_hash) {
            (None, None) => None,
            (Some(number), Some(hash)) => {
                let number = normalize_number(number).ok_or_else(|| {
                    PhoneError::Config(format!("staff_number « {number} » n'est pas un numéro"))
                })?;
                PasswordHash::new(hash).map_err(|e| {
                    PhoneError::Config(format!(
                        "staff_pin_hash n'est pas une empreinte argon2 ({e}) ; \
                         utilisez « ivr phone hash-pin »"
                    ))
                })?;
                Some(StaffAccess {
                    number,
                    pin_hash: hash.clone(),
                })
            }
            _ => {
                return Err(PhoneError::Config(
                    "staff_number et staff_pin_hash vont ensemble (l'un manque)".into(),
                ));
            }
        };
        let (manifest, set) = dialplan_config.load()?;
        let library = load_library(&dialplan_config, &config, &manifest)?;
        let prompts = Arc::new(SharedPrompts::new(library));
        let announcements =
            Announcements::new(service.store().clone(), &config.data_dir, prompts.clone());
        info!(
            dialplans = set.plans().len(),
            prompts = prompts.current().len(),
            staff_line = staff.is_some(),
            "voice line loaded"
        );
        Ok(Arc::new(Self {
            service,
            dialplan_config,
            config,
            dialplans: ArcSwap::from_pointee(set),
            prompts,
            announcements,
            clock,
            events,
            staff,
            staff_guard: std::sync::Mutex::new(StaffGuard::default()),
        }))
    }

    /// Loads the dialplans and prompts again; on any error the running ones stay and the
    /// error is returned (for the log). Calls in progress are not touched.
    pub fn reload(&self) -> Result<(), PhoneError> {
        let (manifest, set) = self.dialplan_config.load()?;
        let mut library = load_library(&self.dialplan_config, &self.config, &manifest)?;
        // The announcement is not a file of the prompt directory: carry it over.
        if let Some(a) = self.prompts.get(ANNOUNCEMENT_PROMPT) {
            library.insert(a);
        }
        self.prompts.replace(library);
        self.dialplans.store(Arc::new(set));
        info!("voice line reloaded");
        Ok(())
    }

    /// Loads the dialplans again against the prompts already loaded (a dialplan edit does
    /// not need the audio re-encoded); on any error the running set stays.
    pub fn reload_dialplans(&self) -> Result<(), PhoneError> {
        let (manifest, set) = self.dialplan_config.load()?;
        self.prompts.current().require(manifest.ids())?;
        self.dialplans.store(Arc::new(set));
        info!("dialplans reloaded");
        Ok(())
    }

    /// A flow selector for the SIP server: the staff number runs the announcement recorder,
    /// every other number the dialplan it chooses (the default one for unknown numbers).
    pub fn flows(self: &Arc<Self>) -> Arc<dyn FlowSelector> {
        Arc::new(Flows {
            dialplan: Arc::new(DialplanFlow(self.clone())),
            staff: Arc::new(StaffFlow(self.clone())),
            line: self.clone(),
        })
    }

    /// The booking service.
    pub fn service(&self) -> &BookingService {
        &self.service
    }

    /// The dialplans now.
    pub fn dialplans(&self) -> Arc<DialplanSet> {
        self.dialplans.load_full()
    }

    /// The prompt library, swapped on reload and on a new announcement.
    pub fn prompts(&self) -> &Arc<SharedPrompts> {
        &self.prompts
    }

    /// The announcement store.
    pub fn announcements(&self) -> &Announcements {
        &self.announcements
    }

    /// The server's clock.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// Where calls report what they do.
    pub fn events(&self) -> &EventSink {
        &self.events
    }

    /// The `[phone]` settings.
    pub fn config(&self) -> &PhoneConfig {
        &self.config
    }

    /// The `[dialplan]` settings.
    pub fn dialplan_config(&self) -> &DialplanConfig {
        &self.dialplan_config
    }

    /// Whether `pin` is the staff PIN (argon2 verification, slow on purpose: call it off
    /// the call's task; the PIN is never logged).
    pub fn staff_pin_matches(&self, pin: &str) -> bool {
        self.staff_pin_checker()(pin)
    }

    /// Whether the staff line is locked now for `caller` (who the call is counted against:
    /// the staff flow passes the asserted number, else the INVITE's address; `None` when
    /// unknown): after too many wrong PINs from that caller, or from everybody at once.
    /// A locked line checks no PIN at all, so the PIN cannot be guessed call after call.
    pub fn staff_locked(&self, caller: Option<&str>) -> bool {
        let now = self.clock.now();
        let guard = self.staff_guard.lock().unwrap_or_else(|e| e.into_inner());
        guard.locked(caller, now)
    }

    /// Counts a staff PIN check by `caller`: a success forgets that caller's failures; their
    /// [`STAFF_PIN_FAILURES`]th failure in a row locks them out for [`STAFF_LOCK_MINUTES`];
    /// [`STAFF_GLOBAL_FAILURES`] failures from all callers within that time lock everybody
    /// out for as long.
    pub fn staff_pin_result(&self, caller: Option<&str>, ok: bool) {
        let now = self.clock.now();
        let mut guard = self.staff_guard.lock().unwrap_or_else(|e| e.into_inner());
        guard.record(caller, ok, now);
    }

    /// [`PhoneLine::staff_pin_matches`] as an owned function, to run on a blocking thread.
    pub fn staff_pin_checker(&self) -> impl Fn(&str) -> bool + Send + 'static {
        let hash = self.staff.as_ref().map(|s| s.pin_hash.clone());
        move |pin: &str| {
            // The web's verification: its argon2 memory is reused on the gate's threads.
            hash.as_deref()
                .is_some_and(|hash| crate::web::staff_accounts::verify_password(pin, hash))
        }
    }

    fn is_staff_number(&self, dialled: &str) -> bool {
        self.staff
            .as_ref()
            .is_some_and(|s| normalize_number(dialled).as_deref() == Some(s.number.as_str()))
    }
}

/// The prompts of the manifest's directory, the staff prompts and the beep, all checked:
/// every id of the manifest must have its file.
fn load_library(
    dialplan_config: &DialplanConfig,
    config: &PhoneConfig,
    manifest: &PromptManifest,
) -> Result<PromptLibrary, PhoneError> {
    let mut library = PromptLibrary::load_dir(&dialplan_config.prompts_dir)?;
    library.require(manifest.ids())?;
    if config.staff_prompts_dir.is_dir() {
        let staff = PromptLibrary::load_dir(&config.staff_prompts_dir)?;
        staff.require(staff::PROMPTS.iter().copied())?;
        for id in staff.ids() {
            if let Some(p) = staff.get(id) {
                library.insert(p.clone());
            }
        }
    }
    library.insert(Arc::new(Prompt::beep(
        BEEP_PROMPT,
        1_000.0,
        std::time::Duration::from_millis(400),
    )?));
    Ok(library)
}

/// Checks that `dir` holds what [`PhoneLine::load`] needs (for `ivr check`-like uses).
pub fn staff_prompts_present(dir: &Path) -> bool {
    staff::PROMPTS
        .iter()
        .all(|id| dir.join(format!("{id}.wav")).is_file())
}

struct Flows {
    dialplan: Arc<dyn CallFlow>,
    staff: Arc<dyn CallFlow>,
    line: Arc<PhoneLine>,
}

impl FlowSelector for Flows {
    fn select(&self, dialled: &str) -> Option<Arc<dyn CallFlow>> {
        Some(if self.line.is_staff_number(dialled) {
            self.staff.clone()
        } else {
            self.dialplan.clone()
        })
    }
}

struct DialplanFlow(Arc<PhoneLine>);

impl CallFlow for DialplanFlow {
    fn run(&self, call: Call) -> crate::call::api::FlowFuture {
        Box::pin(bridge::run(self.0.clone(), call))
    }
}

struct StaffFlow(Arc<PhoneLine>);

impl CallFlow for StaffFlow {
    fn run(&self, call: Call) -> crate::call::api::FlowFuture {
        Box::pin(staff::run(self.0.clone(), call))
    }
}
