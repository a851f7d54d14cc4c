//! The booking domain, pure: identities, the town's rules, the calendar and the deadline
//! engine. The service that applies them over the store is [`crate::service::booking`].

pub mod calendar;
pub mod deadline;
pub mod french;
pub mod holidays;
pub mod model;
pub mod region;
pub mod rules;
pub mod school_calendar;
pub mod settings;
pub mod toml_dates;
pub mod usual_week;
pub mod weekdays;
