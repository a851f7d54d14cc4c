//! The planning page (seed, part 2) and its validation.
//!
//! The form posts the desired state of every cell it shows (`shown` lists the cells,
//! `want` the ticked ones). The server compares with the bookings as they are now and
//! submits only the real changes to the booking service, which checks each against the
//! deadline engine and writes it in one transaction: a cell ticked by a hand-made POST
//! after its deadline is refused and reported, and nothing is written for it.

use std::collections::BTreeSet;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use chrono::{Datelike, Days, NaiveDate};
use maud::html;
use serde::Deserialize;

use super::grid::{self, parse_cell_key};
use super::parent_page;
use crate::booking::model::{Action, Channel, ServiceCode};
use crate::service::booking::{BookingOutcome, CellChange};
use crate::web::error::WebError;
use crate::web::extract::ParentSession;
use crate::web::layout::{ParentTab, csrf_field};
use crate::web::session::Flash;
use crate::web::state::AppState;

/// `?du=YYYY-MM-DD`: the first week shown (any day of it).
#[derive(Deserialize)]
pub struct PlanningQuery {
    #[serde(default)]
    du: String,
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_monday()))
}

fn first_monday(state: &AppState, du: &str) -> Result<NaiveDate, WebError> {
    if du.trim().is_empty() {
        return Ok(monday_of(state.today()));
    }
    crate::web::url_date::parse(du)
        .map(monday_of)
        .ok_or_else(|| WebError::BadRequest("date de début invalide".to_owned()))
}

/// "inscription, 01/05/2014, Cantine": a recap line as in the seed.
fn recap_line(action: Action, date: NaiveDate, label: &str) -> String {
    format!("{}, {}, {label}", action.as_str(), date.format("%d/%m/%Y"))
}

/// GET /planning
pub async fn get(
    State(state): State<AppState>,
    s: ParentSession,
    Query(q): Query<PlanningQuery>,
) -> Result<Response, WebError> {
    let monday = first_monday(&state, &q.du)?;
    let weeks_n = state.config().weeks_shown.clamp(1, 8);
    let child = state
        .service()
        .child(s.payer, s.child)
        .await?
        .ok_or_else(|| WebError::NotFound("enfant introuvable".to_owned()))?;
    let siblings = state.service().children(s.payer).await?.len();
    let weeks = super::weeks_view(&state, s.child, monday, weeks_n).await?;
    let flash = state.sessions().take_flash(&s.id).await?;
    let span = Days::new(7 * u64::from(weeks_n));
    let prev = monday - span;
    let next = monday + span;
    let tz = state.tz();
    let last_day = monday + Days::new(7 * u64::from(weeks_n) - 1);
    let body = html! {
        div.card.child {
            div {
                div.name { (child.first_name) " " (child.last_name) }
                div { (child.class_line()) }
                @if !child.school.is_empty() { div { (child.school) } }
            }
            div.links {
                @if siblings > 1 { a href="/enfants" { "Choisir un autre enfant" } }
                a href="/historique" { "Voir les dernières modifications" }
                a href="/semaine-type" { "Semaine type" }
            }
        }
        @if let Some(Flash::Recap { done, refused }) = &flash {
            section.card role="status" aria-labelledby="recap" {
                h2 id="recap" { "Modifications enregistrées" }
                @if done.is_empty() { p { "Aucune modification." } }
                @else { ul { @for l in done { li { (l) } } } }
                @if !refused.is_empty() {
                    h2 id="refus" { "Modifications refusées" }
                    ul.alert { @for l in refused { li { (l) } } }
                }
            }
        }
        form method="post" action="/planning" {
            (csrf_field(&s.data.csrf))
            input type="hidden" name="du" value=(monday.to_string());
            nav.pager aria-label="Semaines" {
                span.title { "Périscolaire – du " (monday.format("%d/%m/%Y")) " au " (last_day.format("%d/%m/%Y")) }
                a href=(format!("/planning?du={prev}")) rel="prev" { "Précédent" }
                a href="/planning" { "Aujourd'hui" }
                a href=(format!("/planning?du={next}")) rel="next" { "Suivant" }
            }
            p.legend {
                span.b { "inscrit" } span.l { "verrouillé (délai passé)" } span.c { "pas de service" }
            }
            button type="submit" { "Validez vos modifications" }
            (grid::weeks(&weeks, tz))
            button type="submit" { "Validez vos modifications" }
        }
    };
    Ok(parent_page(&state, &s, Some(ParentTab::Planning), "Planning", body).into_response())
}

/// The planning form: the first week, the cells shown, the cells ticked.
#[derive(Deserialize)]
pub struct PlanningForm {
    csrf: String,
    du: String,
    #[serde(default)]
    shown: Vec<String>,
    #[serde(default)]
    want: Vec<String>,
}

/// POST /planning: diff, submit the changes, keep the recap for the next page.
pub async fn post(
    State(state): State<AppState>,
    s: ParentSession,
    Form(form): Form<PlanningForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let monday = first_monday(&state, &form.du)?;
    let weeks_n = state.config().weeks_shown.clamp(1, 8);
    let end = monday + Days::new(7 * u64::from(weeks_n));
    let parse = |keys: &[String]| -> Result<BTreeSet<(NaiveDate, ServiceCode)>, WebError> {
        keys.iter()
            .map(|k| {
                parse_cell_key(k)
                    .filter(|(d, _)| *d >= monday && *d < end)
                    .ok_or_else(|| WebError::BadRequest("case du planning invalide".to_owned()))
            })
            .collect()
    };
    let shown = parse(&form.shown)?;
    let want = parse(&form.want)?;
    let now = state.now();
    let current = super::booked_cells(&state, s.child, monday, weeks_n).await?;
    // Every cell the form speaks of: those shown, and any ticked one (a hand-made POST may
    // tick a cell it was not shown; the service decides).
    let mut changes = Vec::new();
    for cell in shown.union(&want) {
        let wanted = want.contains(cell);
        let booked = current.contains(cell);
        if wanted != booked {
            let action = if wanted { Action::Book } else { Action::Cancel };
            changes.push(CellChange {
                date: cell.0,
                service: cell.1.clone(),
                action,
            });
        }
    }
    let labels = state.services();
    let label_of = |code: &ServiceCode| {
        labels
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| code.to_string())
    };
    // One transaction at one instant for the whole validation (the service's batch).
    let outcomes = state
        .service()
        .change_many(s.child, &changes, Channel::Web, "parent", now)
        .await?;
    let mut done = Vec::new();
    let mut refused = Vec::new();
    for (change, outcome) in changes.iter().zip(outcomes) {
        let label = label_of(&change.service);
        let line = recap_line(change.action, change.date, &label);
        match outcome {
            BookingOutcome::Booked | BookingOutcome::Cancelled => done.push(line),
            // Changed meanwhile (by phone, in another tab): already as wanted.
            BookingOutcome::AlreadyBooked | BookingOutcome::NotBooked => {}
            BookingOutcome::Refused(r) => {
                refused.push(format!("{line} : {}", r.sentence_fr(change.action)))
            }
        }
    }
    tracing::info!(
        child = s.child.0,
        done = done.len(),
        refused = refused.len(),
        "web planning validated"
    );
    state
        .sessions()
        .set_flash(&s.id, Flash::Recap { done, refused })
        .await?;
    Ok(Redirect::to(&format!("/planning?du={monday}")).into_response())
}
