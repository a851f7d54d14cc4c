//! The parents' pages (seed, parts 1 and 2).

pub mod children;
pub mod grid;
pub mod help;
pub mod history;
pub mod invoices;
pub mod login;
pub mod pay;
pub mod planning;
pub mod preregistration;
pub mod usual_week;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use maud::Markup;

use self::grid::{Cell, CellState, Row, Week};
use super::error::WebError;
use super::extract::ParentSession;
use super::layout::{Area, ParentTab, Shell, page};
use super::state::AppState;
use crate::booking::deadline::{Decision, RefusalReason};
use crate::booking::model::{ChildId, ServiceCode};

/// A parent's page: the shell with the parents' tabs around `body`, `tab` marked as the
/// page shown (`None` for a sub-page that no tab leads to).
pub(crate) fn parent_page(
    state: &AppState,
    s: &ParentSession,
    tab: Option<ParentTab>,
    title: &str,
    body: Markup,
) -> Markup {
    let shell = Shell {
        title,
        town: state.town_name(),
        area: Area::Parent(tab),
        csrf: Some(&s.data.csrf),
    };
    page(&shell, body)
}

/// The short text of a greyed cell.
fn no_service_short(reason: &RefusalReason) -> Option<&'static str> {
    Some(match reason {
        RefusalReason::NotServiceDay => "pas de service",
        RefusalReason::SchoolHoliday { .. } => "vacances",
        RefusalReason::PublicHoliday { .. } => "férié",
        RefusalReason::TownClosed => "fermé",
        _ => return None,
    })
}

/// The planning's weeks as the grid draws them, from the booking service's planning
/// (the same engine decisions as the phone).
pub(crate) async fn weeks_view(
    state: &AppState,
    child: ChildId,
    monday: NaiveDate,
    weeks: u32,
) -> Result<Vec<Week>, WebError> {
    let planning = state
        .service()
        .week(child, monday, weeks, state.now())
        .await?;
    let services = state.services();
    let mut out = Vec::with_capacity(planning.weeks.len());
    for w in &planning.weeks {
        let rows = services
            .iter()
            .enumerate()
            .map(|(i, (code, label))| Row {
                label: label.clone(),
                cells: w
                    .days
                    .iter()
                    .map(|day| {
                        let pc = day.cells.get(i).filter(|c| &c.service == code);
                        let (booked, state) = match pc {
                            None => (
                                false,
                                CellState::NoService {
                                    short: "pas de service".to_owned(),
                                    sentence: String::new(),
                                },
                            ),
                            Some(pc) => {
                                let action = pc.toggle_action();
                                let st = match &pc.decision {
                                    Decision::Open { deadline } => CellState::Open {
                                        deadline: *deadline,
                                    },
                                    Decision::Refused(r) => match no_service_short(&r.reason) {
                                        Some(short) => CellState::NoService {
                                            short: short.to_owned(),
                                            sentence: r.sentence_fr(action),
                                        },
                                        None => CellState::Locked {
                                            deadline: r.deadline,
                                            sentence: r.sentence_fr(action),
                                            note: match &r.reason {
                                                RefusalReason::Override { message } => {
                                                    Some(message.clone())
                                                }
                                                _ => None,
                                            },
                                        },
                                    },
                                };
                                (pc.booked, st)
                            }
                        };
                        Cell {
                            date: day.date,
                            service: code.clone(),
                            booked,
                            state,
                        }
                    })
                    .collect(),
            })
            .collect();
        out.push(Week {
            monday: w.monday,
            days: w.days.iter().map(|d| d.date).collect(),
            rows,
        });
    }
    Ok(out)
}

/// The booked cells of the weeks shown, as they are now.
pub(crate) async fn booked_cells(
    state: &AppState,
    child: ChildId,
    monday: NaiveDate,
    weeks: u32,
) -> Result<BTreeSet<(NaiveDate, ServiceCode)>, WebError> {
    let last = monday + chrono::Days::new(7 * u64::from(weeks) - 1);
    Ok(state
        .store()
        .bookings_between(child, monday, last)
        .await?
        .into_iter()
        .collect())
}
