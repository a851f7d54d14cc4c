//! The `[[services]]` and `[calendar]` sections of `ivr.toml`, and their checking into
//! [`Rules`] and [`Calendar`]. Every error names the key at fault.

use chrono::{NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::Deserialize;
use thiserror::Error;

use crate::booking::calendar::{
    ActionScope, Calendar, CalendarError, Override, SchoolHoliday, ServiceScope,
};
use crate::booking::model::ServiceCode;
use crate::booking::region::Region;
use crate::booking::rules::{DEFAULT_SERVICES, DeadlineRule, PhoneKey, Rules, RulesError, Service};
use crate::booking::toml_dates::{ConfigDate, ConfigDateTime};
use crate::booking::weekdays::Weekdays;

/// One `[[services]]` entry: a service (prestation) and its deadline rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Code, 1 to 16 upper-case letters, digits or `_` (e.g. `REPAS`).
    pub code: ServiceCode,
    /// Label shown to parents (e.g. "Cantine").
    pub label: String,
    /// Weekdays it runs, French or English names (`["lundi", "mardi", "jeudi", "vendredi"]`).
    pub days: Vec<String>,
    /// Phone menu key, 1 to 9, unique.
    pub phone_key: u8,
    /// Deadline: this many working days of the office before the service day (0 = same day).
    pub deadline_days_before: u32,
    /// Deadline: at this time of day, town time, `HH:MM`.
    pub deadline_time: String,
}

impl ServiceConfig {
    /// DOMAIN.md's table: REPAS, MATIN, MIDI, SOIR.
    pub fn defaults() -> Vec<ServiceConfig> {
        DEFAULT_SERVICES
            .iter()
            .map(|(code, label, key, before, hour)| ServiceConfig {
                code: ServiceCode::parse(code).expect("default codes are valid"),
                label: (*label).to_owned(),
                days: ["lundi", "mardi", "jeudi", "vendredi"]
                    .map(str::to_owned)
                    .to_vec(),
                phone_key: *key,
                deadline_days_before: *before,
                deadline_time: format!("{hour:02}:00"),
            })
            .collect()
    }
}

/// One `[[calendar.school_holidays]]` entry, both days included.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolHolidayConfig {
    /// Name, e.g. "Vacances de la Toussaint".
    pub name: String,
    /// First day without school.
    pub first: ConfigDate,
    /// Last day without school (the eve of the day classes resume).
    pub last: ConfigDate,
}

/// Which actions an override changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverrideActions {
    /// Booking only (`"book"`, or `"inscription"`).
    #[serde(alias = "inscription")]
    Book,
    /// Cancelling only (`"cancel"`, or `"annulation"`).
    #[serde(alias = "annulation")]
    Cancel,
    /// Both (`"both"`).
    Both,
}

/// One `[[calendar.overrides]]` entry: a new deadline for one service day.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideConfig {
    /// The service day concerned.
    pub date: ConfigDate,
    /// The services concerned; omitted = all.
    #[serde(default)]
    pub services: Option<Vec<ServiceCode>>,
    /// `"book"`, `"cancel"` or `"both"`.
    pub actions: OverrideActions,
    /// The new deadline, town time (`2020-05-20T10:15:00`).
    pub deadline: ConfigDateTime,
    /// The sentence parents read once it has passed.
    pub message: String,
}

/// The `[calendar]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarConfig {
    /// Weekdays the town hall's office works (deadlines fall on these days only).
    pub office_days: Vec<String>,
    /// Whose public holidays the town keeps beside the national ones (`metropole`,
    /// `alsace-moselle`, `guadeloupe`, `martinique`, `guyane`, `la-reunion`, `mayotte`).
    pub region: Region,
    /// Days the town is closed (ponts): no service, and not a working day.
    pub closures: Vec<ConfigDate>,
    /// School holiday periods.
    pub school_holidays: Vec<SchoolHolidayConfig>,
    /// Deadline overrides set by staff.
    pub overrides: Vec<OverrideConfig>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        Self {
            office_days: ["lundi", "mardi", "mercredi", "jeudi", "vendredi"]
                .map(str::to_owned)
                .to_vec(),
            region: Region::Metropole,
            closures: Vec::new(),
            school_holidays: Vec::new(),
            overrides: Vec::new(),
        }
    }
}

/// A service or calendar setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettingsError {
    /// A value that does not mean anything.
    #[error("clé `{key}` : {message}")]
    Value {
        /// The key, e.g. `services[0].days`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The services, read, do not make a usable set.
    #[error("clé `services` : {0}")]
    Rules(#[from] RulesError),
    /// The calendar, read, is not usable.
    #[error("clé `calendar` : {0}")]
    Calendar(#[from] CalendarError),
}

fn value_error(key: String, message: String) -> SettingsError {
    SettingsError::Value { key, message }
}

fn parse_days(key: String, names: &[String], context: &str) -> Result<Weekdays, SettingsError> {
    let mut days = Weekdays::NONE;
    for name in names {
        let day = Weekdays::parse_day(name)
            .ok_or_else(|| value_error(key.clone(), format!("jour inconnu « {name} »{context}")))?;
        days = days.with(day);
    }
    Ok(days)
}

/// Checks the `[[services]]` entries into [`Rules`] in the town's zone.
pub fn rules_from(services: &[ServiceConfig], timezone: Tz) -> Result<Rules, SettingsError> {
    let mut checked = Vec::with_capacity(services.len());
    for (i, s) in services.iter().enumerate() {
        let context = format!(" (prestation {})", s.code);
        let days = parse_days(format!("services[{i}].days"), &s.days, &context)?;
        let phone_key = PhoneKey::new(s.phone_key).ok_or_else(|| {
            value_error(
                format!("services[{i}].phone_key"),
                format!("{} n'est pas une touche de 1 à 9{context}", s.phone_key),
            )
        })?;
        let at = NaiveTime::parse_from_str(s.deadline_time.trim(), "%H:%M").map_err(|_| {
            value_error(
                format!("services[{i}].deadline_time"),
                format!("heure HH:MM attendue, lu « {} »{context}", s.deadline_time),
            )
        })?;
        checked.push(Service {
            code: s.code.clone(),
            label: s.label.trim().to_owned(),
            days,
            phone_key,
            deadline: DeadlineRule {
                working_days_before: s.deadline_days_before,
                at,
            },
        });
    }
    Ok(Rules::new(checked, timezone)?)
}

/// Checks the `[calendar]` section into a [`Calendar`] for `rules`.
pub fn calendar_from(cfg: &CalendarConfig, rules: &Rules) -> Result<Calendar, SettingsError> {
    let office_days = parse_days("calendar.office_days".to_owned(), &cfg.office_days, "")?;
    let mut overrides = Vec::with_capacity(cfg.overrides.len());
    for (i, o) in cfg.overrides.iter().enumerate() {
        let local = o.deadline.0;
        let deadline = rules
            .timezone()
            .from_local_datetime(&local)
            .earliest()
            .ok_or_else(|| {
                value_error(
                    format!("calendar.overrides[{i}].deadline"),
                    format!("{local} n'existe pas à l'heure de la commune (changement d'heure)"),
                )
            })?
            .to_utc();
        overrides.push(Override {
            date: o.date.0,
            services: match &o.services {
                None => ServiceScope::All,
                Some(list) => ServiceScope::Only(list.clone()),
            },
            actions: match o.actions {
                OverrideActions::Book => ActionScope::Book,
                OverrideActions::Cancel => ActionScope::Cancel,
                OverrideActions::Both => ActionScope::Both,
            },
            deadline,
            message: o.message.trim().to_owned(),
        });
    }
    let calendar = Calendar {
        office_days,
        region: cfg.region,
        school_holidays: cfg
            .school_holidays
            .iter()
            .map(|h| SchoolHoliday {
                name: h.name.trim().to_owned(),
                first: h.first.0,
                last: h.last.0,
            })
            .collect(),
        closures: cfg.closures.iter().map(|d| d.0).collect(),
        overrides,
    };
    calendar.check(rules)?;
    Ok(calendar)
}
