//! The booking domain: identities, the town's rules, the deadline engine and the booking
//! service that every channel (phone, web, staff) goes through.

pub mod import;
pub mod model;
