//! Configuration: `ivr.toml`, every key with a default, command-line flags on top.
//!
//! Every section denies unknown keys, and every error names the key at fault
//! (`server.web_listen`, `services[1].days`): a wrong setting stops start-up, nothing falls
//! back silently. `ivr.example.toml` documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};
use thiserror::Error;

use crate::booking::calendar::Calendar;
use crate::booking::rules::Rules;
use crate::booking::settings::{self, CalendarConfig, ServiceConfig, SettingsError};
use crate::dialplan::DialplanConfig;

/// The whole of `ivr.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the server listens and keeps its data.
    pub server: ServerConfig,
    /// The town: its name, its message to parents, its legal time.
    pub town: TownConfig,
    /// The services (prestations) and their deadline rules, in menu order.
    pub services: Vec<ServiceConfig>,
    /// Office days, school holidays, closures and overrides.
    pub calendar: CalendarConfig,
    /// Where the voice line's dialplans and prompts are.
    pub dialplan: DialplanConfig,
    /// Throttling of failed logins (slow-down, then lockout).
    pub login: crate::service::login::LoginConfig,
    /// Invoices: régie, label, due date, tariffs.
    pub invoice: crate::invoice::InvoiceConfig,
    /// SystemPay (card payment form) shop settings.
    pub systempay: crate::payment::systempay::SystemPayConfig,
    /// PayFiP / TIPI (DGFiP) settings.
    pub payfip: crate::payment::payfip::PayFipConfig,
    /// E-mail notices: SMTP server, or a folder when none is configured.
    pub mail: crate::mail::MailConfig,
    /// The local stand-ins of the payment providers (`ivr fake-provider`, `ivr demo`).
    pub fake_provider: crate::payment::standin_settings::FakeProviderConfig,
    /// The web portal: cookies, proxy, planning width, uploads.
    pub web: crate::web::WebConfig,
    /// The SIP/RTP engine (RTP ports, call limits, timeouts, trunk registration).
    pub sip: crate::sip::SipConfig,
    /// The voice line: staff line for the announcement, recordings, reloads.
    pub phone: crate::phone::PhoneConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server: ServerConfig::default(),
            town: TownConfig::default(),
            services: ServiceConfig::defaults(),
            calendar: CalendarConfig::default(),
            dialplan: DialplanConfig::default(),
            login: crate::service::login::LoginConfig::default(),
            invoice: Default::default(),
            systempay: Default::default(),
            payfip: Default::default(),
            mail: Default::default(),
            fake_provider: Default::default(),
            web: crate::web::WebConfig::default(),
            sip: crate::sip::SipConfig::default(),
            phone: crate::phone::PhoneConfig::default(),
        }
    }
}

impl Config {
    /// The booking service of this configuration's services, calendar and `[login]`
    /// section, over an opened (and migrated) store: the edge builds it, the booking module
    /// never reads the configuration.
    pub async fn booking_service(
        &self,
        store: crate::store::Store,
    ) -> Result<crate::service::booking::BookingService, crate::service::booking::BookingError>
    {
        use crate::service::booking::{BookingError, BookingService};
        let rules = self
            .rules()
            .map_err(|e| BookingError::Invalid(e.to_string()))?;
        let calendar = self
            .calendar(&rules)
            .map_err(|e| BookingError::Invalid(e.to_string()))?;
        Ok(BookingService::new(store, rules, calendar, self.login.clone()).await?)
    }
}

/// The `[server]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// `sqlite://data/ivr.sqlite` (the file and its folder are created on first start) or
    /// `postgres://user@host/base` for several nodes.
    pub database_url: String,
    /// Address and port of the web portal.
    pub web_listen: SocketAddr,
    /// Address and port of the SIP voice line (UDP and TCP).
    pub sip_listen: SocketAddr,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/ivr.sqlite".to_owned(),
            web_listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            sip_listen: SocketAddr::from(([0, 0, 0, 0], 5060)),
        }
    }
}

/// The message shown on the portal's home page by default: the seed's reminder of the
/// deadlines, true all year (the seed's dated notice about the Ascension bridge is a
/// dated override in the demo, `service::demo`, not a message that would stay up in
/// December).
pub const DEFAULT_TOWN_MESSAGE: &str = "RAPPEL des délais d'inscriptions
1 - REPAS clôt la veille 10h
2 - MATIN clôt la veille 16h
3 - SOIR clôt le jour même 16h

Vous pouvez également réserver sur le Serveur vocal restauration scolaire accessible 24/24H : \
04 76 54 99 85

Amélie
Service scolaire Mezcalito";

/// The `[town]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TownConfig {
    /// The town's name, shown in page titles and said on the phone.
    pub name: String,
    /// The town's message on the portal's home page, until staff publish another.
    pub message: String,
    /// The town's legal time (IANA name): deadlines are set and shown in it, whatever the
    /// server's own zone.
    #[serde(deserialize_with = "timezone_from_name")]
    pub timezone: Tz,
}

impl Default for TownConfig {
    fn default() -> Self {
        Self {
            name: "Mezcalito".to_owned(),
            message: DEFAULT_TOWN_MESSAGE.to_owned(),
            timezone: chrono_tz::Europe::Paris,
        }
    }
}

fn timezone_from_name<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
    let name = String::deserialize(d)?;
    name.parse::<Tz>().map_err(|_| {
        serde::de::Error::custom(format!(
            "fuseau horaire inconnu « {name} » (nom IANA attendu, par exemple Europe/Paris)"
        ))
    })
}

/// The `[server]` keys given on the command line, which win over the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerFlags {
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--web-listen`.
    pub web_listen: Option<SocketAddr>,
    /// `--sip-listen`.
    pub sip_listen: Option<SocketAddr>,
}

/// A configuration that cannot be used; each message names the file and the key.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("impossible de lire la configuration {path} : {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a key is unknown or has a value of the wrong kind.
    #[error("configuration {origin}, ligne {line}{} : {message}", key_label(.key))]
    Syntax {
        /// The file (or "texte" for a string).
        origin: String,
        /// The key at fault, dotted (`server.web_listen`); "." when the text is not TOML.
        key: String,
        /// The line, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Values that read well but do not make usable rules.
    #[error("configuration {origin}, {source}")]
    Invalid {
        /// The file.
        origin: String,
        /// What is wrong, with the key.
        source: SettingsError,
    },
}

/// ", clé `server.web_listen`", or nothing when the error is in the TOML syntax itself.
fn key_label(key: &str) -> String {
    if key.is_empty() || key == "." {
        String::new()
    } else {
        format!(", clé `{key}`")
    }
}

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Reads and checks a configuration text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let de = toml::Deserializer::new(text);
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let inner = e.into_inner();
            let line = inner
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1);
            ConfigError::Syntax {
                origin: origin.to_owned(),
                key,
                line,
                message: inner.message().trim().to_owned(),
            }
        })?;
        config.check().map_err(|source| ConfigError::Invalid {
            origin: origin.to_owned(),
            source,
        })?;
        Ok(config)
    }

    /// Applies the command-line flags over the file's `[server]` keys, then checks again.
    pub fn apply_flags(&mut self, flags: ServerFlags) -> Result<(), ConfigError> {
        if let Some(url) = flags.database_url {
            self.server.database_url = url;
        }
        if let Some(addr) = flags.web_listen {
            self.server.web_listen = addr;
        }
        if let Some(addr) = flags.sip_listen {
            self.server.sip_listen = addr;
        }
        self.check().map_err(|source| ConfigError::Invalid {
            origin: "(options de la ligne de commande)".to_owned(),
            source,
        })
    }

    /// Checks what serde cannot: services, calendar and the database URL's scheme.
    pub fn check(&self) -> Result<(), SettingsError> {
        let url = &self.server.database_url;
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|scheme| url.starts_with(scheme))
        {
            return Err(SettingsError::Value {
                key: "server.database_url".to_owned(),
                message: format!("« {url} » ne commence ni par sqlite: ni par postgres://"),
            });
        }
        let rules = self.rules()?;
        self.calendar(&rules)?;
        Ok(())
    }

    /// The town's services, checked.
    pub fn rules(&self) -> Result<Rules, SettingsError> {
        settings::rules_from(&self.services, self.town.timezone)
    }

    /// The town's calendar from the file, checked against `rules`; the store adds the
    /// closures and overrides that staff keep in the database.
    pub fn calendar(&self, rules: &Rules) -> Result<Calendar, SettingsError> {
        settings::calendar_from(&self.calendar, rules)
    }
}

#[cfg(test)]
mod tests;
