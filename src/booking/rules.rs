//! The town's services and their deadline rules, checked once when loaded (DESIGN.md,
//! habit 4): a bad rule stops start-up with a message naming it, never a silent default.

use chrono::NaiveTime;
use chrono_tz::Tz;
use thiserror::Error;

use crate::booking::model::ServiceCode;
use crate::booking::weekdays::Weekdays;

/// The phone key (1 to 9) that picks a service in the voice line's menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneKey(u8);

impl PhoneKey {
    /// A key from 1 to 9; `0`, `*` and `#` are kept for navigation.
    pub fn new(key: u8) -> Option<Self> {
        (1..=9).contains(&key).then_some(Self(key))
    }

    /// The key's digit.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// The longest "N working days before" a rule may ask for; more is a typo, and the
/// bound keeps the engine's search for working days short.
pub const MAX_WORKING_DAYS_BEFORE: u32 = 20;

/// "N working days before, at HH:MM" in the town's legal time. N = 0 means the same day
/// (or, should the office be closed that day, the last working day before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineRule {
    /// How many of the office's working days before the service day the deadline falls.
    pub working_days_before: u32,
    /// The time of day, town time, at which booking and cancelling close.
    pub at: NaiveTime,
}

impl DeadlineRule {
    /// "la veille (jour ouvré) à 10h00", "le jour même à 16h00", "3 jours ouvrés avant à 10h00".
    pub fn describe_fr(&self) -> String {
        let at = crate::booking::french::time_fr(self.at);
        match self.working_days_before {
            0 => format!("le jour même à {at}"),
            1 => format!("la veille (jour ouvré) à {at}"),
            n => format!("{n} jours ouvrés avant à {at}"),
        }
    }
}

/// One service (prestation) the town offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Its code, e.g. `REPAS`.
    pub code: ServiceCode,
    /// Its label shown to parents, e.g. "Cantine".
    pub label: String,
    /// The weekdays on which it runs (school days only; holidays are in the calendar).
    pub days: Weekdays,
    /// The key that picks it on the phone.
    pub phone_key: PhoneKey,
    /// When booking and cancelling close.
    pub deadline: DeadlineRule,
}

/// A service list that cannot be used; each names the service and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RulesError {
    /// No service at all.
    #[error("aucune prestation n'est définie (`services` est vide)")]
    NoService,
    /// Two services share a code.
    #[error("prestation {0} : `code` défini deux fois")]
    DuplicateCode(ServiceCode),
    /// Two services share a phone key.
    #[error("prestation {second} : `phone_key` {key} déjà utilisée par {first}")]
    DuplicatePhoneKey {
        /// The key.
        key: u8,
        /// The service that has it first.
        first: ServiceCode,
        /// The service that has it again.
        second: ServiceCode,
    },
    /// A service has no label.
    #[error("prestation {0} : `label` est vide")]
    EmptyLabel(ServiceCode),
    /// A service runs on no day.
    #[error("prestation {0} : `days` ne contient aucun jour")]
    NoDays(ServiceCode),
    /// A deadline too far ahead.
    #[error(
        "prestation {code} : `deadline_days_before` = {days}, au plus {MAX_WORKING_DAYS_BEFORE}"
    )]
    TooManyDaysBefore {
        /// The service.
        code: ServiceCode,
        /// The number asked for.
        days: u32,
    },
}

/// The town's services, checked: codes and phone keys unique, every rule usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    services: Vec<Service>,
    timezone: Tz,
}

impl Rules {
    /// Checks `services` and keeps them in the given order (the order of menus and grids).
    /// `timezone` is the town's legal time, in which deadlines are written.
    pub fn new(services: Vec<Service>, timezone: Tz) -> Result<Self, RulesError> {
        if services.is_empty() {
            return Err(RulesError::NoService);
        }
        for (i, s) in services.iter().enumerate() {
            if s.label.trim().is_empty() {
                return Err(RulesError::EmptyLabel(s.code.clone()));
            }
            if s.days.is_empty() {
                return Err(RulesError::NoDays(s.code.clone()));
            }
            if s.deadline.working_days_before > MAX_WORKING_DAYS_BEFORE {
                return Err(RulesError::TooManyDaysBefore {
                    code: s.code.clone(),
                    days: s.deadline.working_days_before,
                });
            }
            for earlier in &services[..i] {
                if earlier.code == s.code {
                    return Err(RulesError::DuplicateCode(s.code.clone()));
                }
                if earlier.phone_key == s.phone_key {
                    return Err(RulesError::DuplicatePhoneKey {
                        key: s.phone_key.get(),
                        first: earlier.code.clone(),
                        second: s.code.clone(),
                    });
                }
            }
        }
        Ok(Self { services, timezone })
    }

    /// The services, in the town's order.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The service with this code.
    pub fn service(&self, code: &ServiceCode) -> Option<&Service> {
        self.services.iter().find(|s| &s.code == code)
    }

    /// The service picked by this phone key.
    pub fn by_phone_key(&self, key: PhoneKey) -> Option<&Service> {
        self.services.iter().find(|s| s.phone_key == key)
    }

    /// The town's legal time, in which deadlines are set and shown.
    pub fn timezone(&self) -> Tz {
        self.timezone
    }
}

/// The town's default services, from the seed's "RAPPEL des délais d'inscriptions" and
/// DOMAIN.md's table: (code, label, phone key, working days before, hour).
pub const DEFAULT_SERVICES: [(&str, &str, u8, u32, u32); 4] = [
    ("REPAS", "Cantine", 1, 1, 10),
    ("MATIN", "Accueil Matin", 2, 1, 16),
    ("MIDI", "Accueil 12h15", 3, 1, 10),
    ("SOIR", "Accueil Soir", 4, 0, 16),
];

impl Default for Rules {
    /// DOMAIN.md's table, on Monday, Tuesday, Thursday and Friday, in Europe/Paris.
    fn default() -> Self {
        let services = DEFAULT_SERVICES
            .iter()
            .map(|(code, label, key, before, hour)| Service {
                code: ServiceCode::parse(code).expect("default codes are valid"),
                label: (*label).to_owned(),
                days: Weekdays::SCHOOL_WEEK,
                phone_key: PhoneKey::new(*key).expect("default keys are 1 to 4"),
                deadline: DeadlineRule {
                    working_days_before: *before,
                    at: NaiveTime::from_hms_opt(*hour, 0, 0).expect("valid hour"),
                },
            })
            .collect();
        Self::new(services, chrono_tz::Europe::Paris).expect("the default rules are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_domain_table() {
        let rules = Rules::default();
        let codes: Vec<_> = rules.services().iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["REPAS", "MATIN", "MIDI", "SOIR"]);
        let soir = rules.by_phone_key(PhoneKey::new(4).unwrap()).unwrap();
        assert_eq!(soir.code.as_str(), "SOIR");
        assert_eq!(soir.deadline.describe_fr(), "le jour même à 16h00");
        assert_eq!(
            rules.services()[0].deadline.describe_fr(),
            "la veille (jour ouvré) à 10h00"
        );
        assert_eq!(rules.timezone(), chrono_tz::Europe::Paris);
    }

    #[test]
    fn bad_rules_name_the_service() {
        let mut services = Rules::default().services().to_vec();
        services[3].phone_key = PhoneKey::new(1).unwrap();
        let err = Rules::new(services, chrono_tz::Europe::Paris).unwrap_err();
        assert_eq!(
            err.to_string(),
            "prestation SOIR : `phone_key` 1 déjà utilisée par REPAS"
        );

        let mut services = Rules::default().services().to_vec();
        services[1].days = Weekdays::NONE;
        let err = Rules::new(services, chrono_tz::Europe::Paris).unwrap_err();
        assert_eq!(
            err,
            RulesError::NoDays(ServiceCode::parse("MATIN").unwrap())
        );

        let mut services = Rules::default().services().to_vec();
        services[2].code = services[0].code.clone();
        assert!(matches!(
            Rules::new(services, chrono_tz::Europe::Paris),
            Err(RulesError::DuplicateCode(_))
        ));

        let mut services = Rules::default().services().to_vec();
        services[0].deadline.working_days_before = 99;
        assert!(
            Rules::new(services, chrono_tz::Europe::Paris)
                .unwrap_err()
                .to_string()
                .contains("REPAS")
        );
        assert_eq!(
            Rules::new(vec![], chrono_tz::Europe::Paris),
            Err(RulesError::NoService)
        );
        assert!(PhoneKey::new(0).is_none() && PhoneKey::new(10).is_none());
    }
}
