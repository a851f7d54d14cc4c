//! The booking domain: identities, the town's rules, the deadline engine and the booking
//! service that every channel (phone, web, staff) goes through.

pub mod calendar;
pub mod deadline;
pub mod french;
pub mod holidays;
pub mod model;
pub mod rules;
pub mod school_calendar;
pub mod settings;
pub mod weekdays;
