//! [`PhoneLine`]: everything the voice line's calls share (booking service, dialplans,
//! prompts, the announcement, the clock) and whether a dialled number is the staff line.
//!
//! Dialplans and prompts are swapped whole (`arc-swap`): a reload builds and checks a new
//! set first and keeps the old one on any error; calls in progress keep what they started
//! with.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use argon2::PasswordHash;
use thiserror::Error;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::dialplan::{
    DialplanConfig, DialplanError, DialplanSet, PromptManifest, normalize_number,
};
use crate::media::{MediaError, Prompt, PromptLibrary, SharedPrompts};
use crate::metrics::Metrics;
use crate::phone::announcement::Announcements;
use crate::phone::config::PhoneConfig;
use crate::phone::events::{EventSink, PhoneEvent};
use crate::phone::prompt_ids::{BEEP_PROMPT, STAFF_PROMPTS};
use crate::phone::town_voice::TownVoice;
use crate::service::booking::BookingService;
use crate::service::login::{
    LoginError, Origin, STAFF_FAILURES, STAFF_LINE_FAILURES, StaffAttempt,
};
use crate::store::CallRecord;

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

/// The account the staff line's counters are kept under, next to the web's staff users
/// (`:` is no character of a web user name, so the two never meet).
const STAFF_LINE_ACCOUNT: &str = "phone:staff-line";

/// What every call of the voice line shares.
pub struct PhoneLine {
    service: BookingService,
    dialplan_config: DialplanConfig,
    config: PhoneConfig,
    dialplans: ArcSwap<DialplanSet>,
    /// The prompt manifest the dialplans were checked against (ids the town may replace).
    manifest: ArcSwap<PromptManifest>,
    prompts: Arc<SharedPrompts>,
    announcements: Announcements,
    /// The town's recordings of prompts, merged over the shipped ones.
    town_voice: TownVoice,
    clock: Arc<dyn Clock>,
    events: EventSink,
    staff: Option<StaffAccess>,
    /// The server's counters, once the SIP side has started ([`PhoneLine::attach_metrics`]).
    metrics: OnceLock<Arc<Metrics>>,
    /// Calls recorded since start, to purge old records every [`PURGE_RECORDS_EVERY`].
    recorded: AtomicU32,
}

/// Old call records are purged once every this many calls (the first call included).
const PURGE_RECORDS_EVERY: u32 = 256;

/// The pauses before each new try of a call record's write that failed (about 15 s in all,
/// what a database restart takes).
const RECORD_RETRY_PAUSES: [std::time::Duration; 4] = [
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(2),
    std::time::Duration::from_secs(4),
    std::time::Duration::from_secs(8),
];

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
        let town_voice = TownVoice::new(service.store().clone(), prompts.clone());
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
            manifest: ArcSwap::from_pointee(manifest),
            prompts,
            announcements,
            town_voice,
            clock,
            events,
            staff,
            metrics: OnceLock::new(),
            recorded: AtomicU32::new(0),
        }))
    }

    /// Counts the calls' outcomes in `metrics` from now on (the first set attached stays).
    pub fn attach_metrics(&self, metrics: Arc<Metrics>) {
        self.metrics.set(metrics).ok();
    }

    /// Counts a finished call and writes its record in the background: the call is over,
    /// and nothing it did waits on this row. A write that fails is tried again after each
    /// of [`RECORD_RETRY_PAUSES`], then logged.
    pub(crate) fn record_call(&self, call_id: &str, record: CallRecord) {
        if let Some(m) = self.metrics.get() {
            m.call_ended(record.outcome.as_str());
        }
        let store = self.service.store().clone();
        let events = self.events.clone();
        let call_id = call_id.to_owned();
        // Every so many calls, the records past the town's retention go.
        let purge = (self.config.call_records_days > 0
            && self
                .recorded
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(PURGE_RECORDS_EVERY))
        .then(|| {
            let days = chrono::Duration::days(i64::from(self.config.call_records_days));
            let before = record.ended_at - days;
            let tz = self.service.rules().timezone();
            (before, before.with_timezone(&tz).date_naive())
        });
        let write = async move {
            // A database restarting when the call ends: try again a few times (the call is
            // over, nothing waits on this), so the day's records still say what callers
            // heard. A first try whose commit landed unseen would make a second row; a
            // record lost is the worse of the two for the staff's counts.
            let mut written = store.insert_call_record(&record).await;
            for pause in RECORD_RETRY_PAUSES {
                if written.is_ok() {
                    break;
                }
                tokio::time::sleep(pause).await;
                written = store.insert_call_record(&record).await;
            }
            if let Some((before, day)) = purge {
                match store.purge_call_records(before, day).await {
                    Ok(n) if n > 0 => info!(deleted = n, "call records past retention deleted"),
                    Ok(_) => {}
                    Err(e) => warn!(error = %e, "old call records not deleted"),
                }
            }
            match written {
                Ok(()) => events.emit(|| PhoneEvent::Recorded { call_id }),
                Err(e) => warn!(error = %e, "call record not written"),
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(write)),
            Err(_) => warn!("call record not written: the server is stopping"),
        }
    }

    /// Loads the dialplans and prompts again; on any error the running ones stay and the
    /// error is returned (for the log). Calls in progress are not touched.
    pub fn reload(&self) -> Result<(), PhoneError> {
        let (manifest, set) = self.dialplan_config.load()?;
        let library = load_library(&self.dialplan_config, &self.config, &manifest)?;
        // The town's recordings and the announcement are no files of the prompt
        // directory: they go back over the new files.
        self.town_voice.shipped_reloaded(library);
        self.dialplans.store(Arc::new(set));
        self.manifest.store(Arc::new(manifest));
        info!("voice line reloaded");
        Ok(())
    }

    /// Loads the dialplans again against the prompts already loaded (a dialplan edit does
    /// not need the audio re-encoded); on any error the running set stays.
    pub fn reload_dialplans(&self) -> Result<(), PhoneError> {
        let (manifest, set) = self.dialplan_config.load()?;
        self.prompts.current().require(manifest.ids())?;
        self.dialplans.store(Arc::new(set));
        self.manifest.store(Arc::new(manifest));
        info!("dialplans reloaded");
        Ok(())
    }

    /// The booking service.
    pub fn service(&self) -> &BookingService {
        &self.service
    }

    /// The dialplans now.
    pub fn dialplans(&self) -> Arc<DialplanSet> {
        self.dialplans.load_full()
    }

    /// The prompt manifest now (its ids are the prompts the town may replace).
    pub fn manifest(&self) -> Arc<PromptManifest> {
        self.manifest.load_full()
    }

    /// The prompt library, swapped on reload and on a new announcement.
    pub fn prompts(&self) -> &Arc<SharedPrompts> {
        &self.prompts
    }

    /// The announcement store.
    pub fn announcements(&self) -> &Announcements {
        &self.announcements
    }

    /// The town's recordings of prompts: [`TownVoice::refresh`] at each call's start.
    pub fn town_voice(&self) -> &TownVoice {
        &self.town_voice
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

    /// Starts a staff PIN check by a call from `origin` (see
    /// [`crate::phone::bridge::login_origin`]): refused while that caller is locked out
    /// (after [`STAFF_FAILURES`] wrong PINs) or the whole line is (after
    /// [`STAFF_LINE_FAILURES`] from everybody), for [`crate::service::login::STAFF_LOCK_MINUTES`]; otherwise the
    /// attempt is counted before the PIN is checked, in the database like every lockout,
    /// so parallel calls cannot pass the limit and a restart forgets nothing. A locked line
    /// checks no PIN at all. Report the check with [`PhoneLine::staff_pin_finish`].
    pub async fn staff_pin_begin(&self, origin: &Origin) -> Result<StaffAttempt, LoginError> {
        let parents = self.service.login_guard().config();
        self.service
            .login_guard()
            .staff_begin_with(
                self.service.store(),
                &parents.staff(STAFF_FAILURES),
                &parents.staff(STAFF_LINE_FAILURES),
                origin,
                STAFF_LINE_ACCOUNT,
                self.clock.now(),
            )
            .await
    }

    /// Ends a staff PIN check: a wrong PIN stays counted, a right one gives back the
    /// failure counted in advance (earlier failures stay).
    pub async fn staff_pin_finish(
        &self,
        attempt: StaffAttempt,
        ok: bool,
    ) -> Result<(), LoginError> {
        self.service
            .login_guard()
            .staff_finish(self.service.store(), attempt, ok, self.clock.now())
            .await
    }

    /// [`PhoneLine::staff_pin_matches`] as an owned function, to run on a blocking thread.
    pub fn staff_pin_checker(&self) -> impl Fn(&str) -> bool + Send + 'static {
        let hash = self.staff.as_ref().map(|s| s.pin_hash.clone());
        move |pin: &str| {
            // The web's verification: its argon2 memory is reused on the gate's threads.
            hash.as_deref()
                .is_some_and(|hash| crate::service::staff_accounts::verify_password(pin, hash))
        }
    }

    /// Whether `dialled` is the staff line's number (the announcement recorder).
    pub fn is_staff_number(&self, dialled: &str) -> bool {
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
        staff.require(STAFF_PROMPTS.iter().copied())?;
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

/// Loads the staff line's prompts of `dir` as [`PhoneLine::load`] does, every one it needs
/// present and readable (for `ivr check`); the error names each file at fault.
pub fn check_staff_prompts(dir: &Path) -> Result<(), MediaError> {
    PromptLibrary::load_dir(dir)?.require(STAFF_PROMPTS.iter().copied())
}
