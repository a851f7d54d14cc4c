//! The town's calendar: the office's working days, public holidays (computed for the
//! town's region), school holidays, town closures ("ponts") and staff overrides of one
//! date's deadline.
//!
//! Fields are public so that the storage layer can add the closures and overrides that staff
//! keep in the database (`with_closures`, `with_overrides`) on top of the configured ones.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use thiserror::Error;

use crate::booking::holidays;
use crate::booking::model::{Action, ServiceCode};
use crate::booking::region::Region;
use crate::booking::rules::Rules;
use crate::booking::weekdays::Weekdays;

/// A school holiday period, both ends included (the last day is the eve of the day classes
/// resume: the official dataset's "Date de fin" is that resumption day, see `school_calendar`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchoolHoliday {
    /// Its name as parents know it, e.g. "Vacances de la Toussaint".
    pub name: String,
    /// The first day without school.
    pub first: NaiveDate,
    /// The last day without school.
    pub last: NaiveDate,
}

impl SchoolHoliday {
    /// Whether `date` falls in the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }
}

/// Which services an override applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceScope {
    /// Every service.
    All,
    /// Only these.
    Only(Vec<ServiceCode>),
}

impl ServiceScope {
    /// Whether `service` is covered.
    pub fn covers(&self, service: &ServiceCode) -> bool {
        match self {
            ServiceScope::All => true,
            ServiceScope::Only(list) => list.contains(service),
        }
    }
}

/// Which actions an override applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionScope {
    /// Booking only.
    Book,
    /// Cancelling only.
    Cancel,
    /// Both.
    Both,
}

impl ActionScope {
    /// Whether `action` is covered.
    pub fn covers(self, action: Action) -> bool {
        matches!(
            (self, action),
            (ActionScope::Both, _)
                | (ActionScope::Book, Action::Book)
                | (ActionScope::Cancel, Action::Cancel)
        )
    }
}

/// A new deadline set by staff for one service day, with the sentence that explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The service day whose deadline changes.
    pub date: NaiveDate,
    /// The services concerned.
    pub services: ServiceScope,
    /// The actions concerned.
    pub actions: ActionScope,
    /// The new deadline, earlier or later than the rule's.
    pub deadline: DateTime<Utc>,
    /// The sentence read to parents once the deadline has passed.
    pub message: String,
}

/// A calendar that cannot be used; each message names the entry at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    /// The office never works.
    #[error("`office_days` ne contient aucun jour")]
    NoOfficeDay,
    /// A school holiday period without a name.
    #[error("vacances scolaires du {0} : `name` est vide")]
    HolidayWithoutName(NaiveDate),
    /// A school holiday period that ends before it starts.
    #[error("vacances « {name} » : `last` ({last}) est avant `first` ({first})")]
    HolidayBackwards {
        /// The period's name.
        name: String,
        /// Its first day.
        first: NaiveDate,
        /// Its last day.
        last: NaiveDate,
    },
    /// An override without its sentence.
    #[error("dérogation du {0} : `message` est vide")]
    OverrideWithoutMessage(NaiveDate),
    /// An override naming no service.
    #[error("dérogation du {0} : `services` est une liste vide (omettre la clé = toutes)")]
    OverrideWithoutService(NaiveDate),
    /// An override naming a service the town does not have.
    #[error("dérogation du {date} : prestation inconnue {service} dans `services`")]
    OverrideUnknownService {
        /// The override's date.
        date: NaiveDate,
        /// The unknown code.
        service: ServiceCode,
    },
}

/// The town's calendar. Lookups are linear over short lists (a year has about six school
/// holiday periods and a handful of closures and overrides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// The weekdays on which the town hall's office works.
    pub office_days: Weekdays,
    /// The region whose public holidays the town keeps beside the national ones.
    pub region: Region,
    /// School holiday periods.
    pub school_holidays: Vec<SchoolHoliday>,
    /// Days the town has declared closed (ponts): no service, and not a working day.
    pub closures: BTreeSet<NaiveDate>,
    /// Staff overrides; when several match, the last one in the list wins (the store adds
    /// them in creation order, so the newest decision counts).
    pub overrides: Vec<Override>,
}

impl Default for Calendar {
    /// The office works Monday to Friday; metropolitan holidays; no school holiday, closure
    /// or override.
    fn default() -> Self {
        Self {
            office_days: Weekdays::MON_TO_FRI,
            region: Region::Metropole,
            school_holidays: Vec::new(),
            closures: BTreeSet::new(),
            overrides: Vec::new(),
        }
    }
}

impl Calendar {
    /// The same calendar with the public holidays of `region`.
    pub fn in_region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// Adds school holiday periods.
    pub fn with_school_holidays(
        mut self,
        periods: impl IntoIterator<Item = SchoolHoliday>,
    ) -> Self {
        self.school_holidays.extend(periods);
        self
    }

    /// Adds closure days.
    pub fn with_closures(mut self, days: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.closures.extend(days);
        self
    }

    /// Adds overrides after the existing ones (so they win over them).
    pub fn with_overrides(mut self, overrides: impl IntoIterator<Item = Override>) -> Self {
        self.overrides.extend(overrides);
        self
    }

    /// Checks the calendar against the town's services.
    pub fn check(&self, rules: &Rules) -> Result<(), CalendarError> {
        if self.office_days.is_empty() {
            return Err(CalendarError::NoOfficeDay);
        }
        for h in &self.school_holidays {
            if h.name.trim().is_empty() {
                return Err(CalendarError::HolidayWithoutName(h.first));
            }
            if h.last < h.first {
                return Err(CalendarError::HolidayBackwards {
                    name: h.name.clone(),
                    first: h.first,
                    last: h.last,
                });
            }
        }
        for o in &self.overrides {
            if o.message.trim().is_empty() {
                return Err(CalendarError::OverrideWithoutMessage(o.date));
            }
            if let ServiceScope::Only(list) = &o.services {
                if list.is_empty() {
                    return Err(CalendarError::OverrideWithoutService(o.date));
                }
                if let Some(unknown) = list.iter().find(|c| rules.service(c).is_none()) {
                    return Err(CalendarError::OverrideUnknownService {
                        date: o.date,
                        service: unknown.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The name of the public holiday on `date` in the town's region, if any: the one
    /// question every user of the calendar asks, so that none forgets the region.
    pub fn public_holiday(&self, date: NaiveDate) -> Option<&'static str> {
        holidays::public_holiday(date, self.region)
    }

    /// The school holiday period that holds `date`, if any.
    pub fn school_holiday(&self, date: NaiveDate) -> Option<&SchoolHoliday> {
        self.school_holidays.iter().find(|h| h.contains(date))
    }

    /// Whether the town declared `date` closed.
    pub fn is_closed(&self, date: NaiveDate) -> bool {
        self.closures.contains(&date)
    }

    /// Whether the town hall's office works on `date`: one of its weekdays, not a public
    /// holiday, not a closure. School holidays do not matter: the office works then.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.office_days.contains(date.weekday())
            && !self.is_closed(date)
            && self.public_holiday(date).is_none()
    }

    /// The override that sets the deadline of (`date`, `service`, `action`), if any.
    pub fn override_for(
        &self,
        date: NaiveDate,
        service: &ServiceCode,
        action: Action,
    ) -> Option<&Override> {
        self.overrides
            .iter()
            .rev()
            .find(|o| o.date == date && o.actions.covers(action) && o.services.covers(service))
    }
}
