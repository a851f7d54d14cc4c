//! The services every channel (phone, web, staff, command line) goes through: each takes
//! parsed input, checks and writes in one store transaction, and answers in the domain's
//! terms. They stand above the store and the pure domain (`booking/`, `invoice/`,
//! `payment/`) and below the channels, which only parse, call one method and render.
//!
//! - [`announcements`]: which announcement plays today, storing one, its dates;
//! - [`booking`]: logins, bookings and cancellations against the deadline engine;
//! - [`dashboard`]: the staff dashboard's figures of a day (calls, changes, logins);
//! - [`login`]: the one login throttle (parents, staff, phone PINs);
//! - [`staff_accounts`]: staff accounts, their argon2 hashes and the gate that bounds them;
//! - [`payments`]: starting a card or PayFiP payment, applying the provider's word;
//! - [`preregistrations`]: a parent's request checked whole, staff's one decision;
//! - [`invoices`]: a month's invoices made and stored in one transaction;
//! - [`import`]: the families CSV checked whole, then written;
//! - [`usual_weeks`]: a child's usual week, booked when set and each night after;
//! - [`voice`]: the town's own recordings of the voice line's prompts;
//! - [`demo`]: the demo families and their bookings (`ivr demo`, tests).

pub mod announcements;
pub mod booking;
pub mod dashboard;
#[cfg(feature = "devtools")]
pub mod demo;
pub mod import;
pub mod invoices;
pub mod login;
pub mod payments;
pub mod preregistrations;
pub mod staff_accounts;
pub mod usual_weeks;
pub mod voice;
