//! The booking domain: identities, the town's rules, the deadline engine and the booking
//! service that every channel (phone, web, staff) goes through.

pub mod calendar;
pub mod deadline;
pub mod demo;
pub mod french;
pub mod holidays;
pub mod import;
pub mod login;
pub mod model;
pub mod rules;
pub mod school_calendar;
pub mod service;
pub mod settings;
pub mod toml_dates;
pub mod weekdays;
