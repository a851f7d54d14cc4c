//! What every handler shares: the booking service, the store, the settings, the sessions
//! and the clock (the one the voice line reads too; tests set it).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::config::WebConfig;
use super::session::SessionStore;
use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::booking::model::ServiceCode;
use crate::clock::Clock;
use crate::dialplan::PromptManifest;
use crate::service::booking::BookingService;
use crate::service::login::{LoginConfig, STAFF_FAILURES};
use crate::store::Store;

/// The shared state of the web server (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    service: BookingService,
    town_name: String,
    config: WebConfig,
    sessions: SessionStore,
    clock: Arc<dyn Clock>,
    invoicing: Invoicing,
    /// The voice line's prompts (ids, texts, shipped files), for the town's voice page.
    voice: Option<PromptManifest>,
}

/// What the invoice and payment pages need: the `[invoice]` settings (PDF header, régie)
/// and the SystemPay shop (None when its settings are unusable: paying by card is then
/// offered nowhere).
#[derive(Debug, Clone, Default)]
pub struct Invoicing {
    /// The `[invoice]` section.
    pub invoice: crate::invoice::InvoiceConfig,
    /// The SystemPay shop.
    pub systempay: Option<crate::payment::systempay::SystemPay>,
    /// PayFiP (classic redirect) settings; None: not offered.
    pub payfip: Option<crate::payment::payfip::PayFipConfig>,
}

impl AppState {
    /// Builds the state from the booking service, the town's name (`town.name`, shown in
    /// every page's header) and the `[web]` settings.
    pub fn new(
        service: BookingService,
        town_name: impl Into<String>,
        config: WebConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let idle = Duration::minutes(i64::from(config.session_idle_minutes.max(1)));
        let sessions = SessionStore::new(service.store().clone(), idle);
        Self {
            inner: Arc::new(Inner {
                service,
                town_name: town_name.into(),
                config,
                sessions,
                clock,
                invoicing: Invoicing::default(),
                voice: None,
            }),
        }
    }

    /// The same state with the invoice and payment settings; call it right after
    /// [`AppState::new`], before the state is cloned (a shared state is left unchanged and
    /// the refusal logged).
    pub fn with_invoicing(mut self, invoicing: Invoicing) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.invoicing = invoicing,
            None => tracing::error!("invoice settings set on a shared web state: ignored"),
        }
        self
    }

    /// The same state with the voice line's prompt manifest (its ids, texts and shipped
    /// WAV files), for the staff's page of the town's own voice; without it that page says
    /// the prompts are not loaded. Call it before the state is cloned, as
    /// [`AppState::with_invoicing`].
    pub fn with_voice(mut self, manifest: PromptManifest) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.voice = Some(manifest),
            None => tracing::error!("prompt manifest set on a shared web state: ignored"),
        }
        self
    }

    /// The voice line's prompt manifest, when the portal was given it.
    pub fn voice(&self) -> Option<&PromptManifest> {
        self.inner.voice.as_ref()
    }

    /// The invoice and payment settings.
    pub fn invoicing(&self) -> &Invoicing {
        &self.inner.invoicing
    }

    /// The booking service (same rules and history as the phone).
    pub fn service(&self) -> &BookingService {
        &self.inner.service
    }

    /// The database (the web's own tables: staff accounts, announcements).
    pub fn store(&self) -> &Store {
        self.inner.service.store()
    }

    /// The town's legal time (deadlines are shown in it).
    pub fn tz(&self) -> Tz {
        self.inner.service.rules().timezone()
    }

    /// Today's date in the town.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&self.tz()).date_naive()
    }

    /// The town's services, in order: (code, label).
    pub fn services(&self) -> Vec<(ServiceCode, String)> {
        self.inner
            .service
            .rules()
            .services()
            .iter()
            .map(|s| (s.code.clone(), s.label.clone()))
            .collect()
    }

    /// The town's name, for page headers.
    pub fn town_name(&self) -> &str {
        &self.inner.town_name
    }

    /// The `[web]` settings.
    pub fn config(&self) -> &WebConfig {
        &self.inner.config
    }

    /// The sessions.
    pub fn sessions(&self) -> &SessionStore {
        &self.inner.sessions
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The staff login's throttle ([`LoginConfig::staff`] with [`STAFF_FAILURES`]).
    pub fn staff_policy(&self) -> LoginConfig {
        self.inner
            .service
            .login_guard()
            .config()
            .staff(STAFF_FAILURES)
    }
}
