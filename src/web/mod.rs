//! The web portal: the parents' pages of the seed (login, planning, recap, last changes,
//! other child, help) and the staff's essentials (town message, recorded announcement,
//! deadline overrides and closures, head-count), served by axum with maud templates.

pub mod config;
pub mod layout;
pub mod session;
pub mod wav;

pub use config::WebConfig;
pub mod announcements;
pub mod staff_accounts;
