//! The staff's pages, behind a staff login: the town's message, the recorded
//! announcement, the town's own voice, deadline overrides and closures, the head-count.

pub mod announcement;
pub mod dashboard;
pub mod deadlines;
pub mod headcount;
pub mod invoices;
pub mod login;
pub mod message;
pub mod preregistrations;
pub mod voice;

use maud::Markup;

use super::error::WebError;
use super::extract::StaffSession;
use super::layout::{Area, Shell, StaffTab, flash, page};
use super::state::AppState;

/// A staff page: the shell with the staff tabs, the flash message, then `body`.
pub(crate) async fn staff_page(
    state: &AppState,
    s: &StaffSession,
    tab: StaffTab,
    title: &str,
    body: Markup,
) -> Result<Markup, WebError> {
    let f = state.sessions().take_flash(&s.id).await?;
    let shell = Shell {
        title,
        town: state.town_name(),
        area: Area::Staff(tab),
        csrf: Some(&s.data.csrf),
    };
    Ok(page(&shell, maud::html! { (flash(&f)) (body) }))
}
