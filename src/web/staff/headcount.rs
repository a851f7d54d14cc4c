//! Head-count per day, school and service, for the kitchens and the childcare teams, with
//! a CSV download.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{Days, NaiveDate};
use maud::html;
use serde::Deserialize;

use super::announcement::opt_date;
use super::staff_page;
use crate::booking::french::date_fr_with_year;
use crate::store::HeadCount;
use crate::web::error::WebError;
use crate::web::extract::StaffSession;
use crate::web::layout::StaffTab;
use crate::web::state::AppState;

/// `?date=YYYY-MM-DD` (default: tomorrow, the day whose meals close this morning).
#[derive(Deserialize)]
pub struct DateQuery {
    #[serde(default)]
    date: String,
}

fn day(state: &AppState, q: &DateQuery) -> Result<NaiveDate, WebError> {
    let today = state.today();
    Ok(opt_date(&q.date, "jour")?
        .unwrap_or_else(|| today.checked_add_days(Days::new(1)).unwrap_or(today)))
}

/// Counts arranged as a table: schools in rows, the town's services in columns (the
/// dashboard draws the same table).
pub(crate) fn table(
    counts: &[HeadCount],
    services: &[(crate::booking::model::ServiceCode, String)],
) -> Vec<(String, Vec<i64>)> {
    let mut schools: Vec<String> = counts.iter().map(|c| c.school.clone()).collect();
    schools.dedup();
    schools
        .into_iter()
        .map(|school| {
            let row = services
                .iter()
                .map(|(code, _)| {
                    counts
                        .iter()
                        .filter(|c| c.school == school && &c.service == code)
                        .map(|c| c.count)
                        .sum()
                })
                .collect();
            (school, row)
        })
        .collect()
}

/// GET /mairie/effectifs
pub async fn get(
    State(state): State<AppState>,
    s: StaffSession,
    Query(q): Query<DateQuery>,
) -> Result<Response, WebError> {
    let date = day(&state, &q)?;
    let counts = state.service().head_counts(date).await?;
    let services = state.services();
    let rows = table(&counts, &services);
    let totals: Vec<i64> = (0..services.len())
        .map(|i| rows.iter().map(|(_, r)| r[i]).sum())
        .collect();
    let prev = date.checked_sub_days(Days::new(1)).unwrap_or(date);
    let next = date.checked_add_days(Days::new(1)).unwrap_or(date);
    let body = html! {
        h1 { "Effectifs du " (date_fr_with_year(date)) }
        form.card method="get" action="/mairie/effectifs" {
            label for="date" { "Jour" }
            input type="date" id="date" name="date" value=(date.to_string());
            button type="submit" { "Afficher" }
        }
        nav.pager aria-label="Jours" {
            a href=(format!("/mairie/effectifs?date={prev}")) { "Jour précédent" }
            a href=(format!("/mairie/effectifs?date={next}")) { "Jour suivant" }
            a href=(format!("/mairie/effectifs.csv?date={date}")) download { "Télécharger (CSV)" }
        }
        @if rows.is_empty() { p { "Aucune inscription ce jour-là." } }
        @else {
            // A grid of numbers reads only as a grid: on a narrow screen it scrolls in its
            // own box, which takes the keyboard's focus so it can be scrolled without a
            // mouse (WCAG 2.1.1).
            div.table-wrap role="region" aria-labelledby="effectifs-titre" tabindex="0" { table.list {
                caption id="effectifs-titre" { "Nombre d'enfants inscrits par école et prestation" }
                thead { tr {
                    th scope="col" { "École" }
                    @for (_, label) in &services { th scope="col" { (label) } }
                } }
                tbody {
                    @for (school, r) in &rows {
                        tr { th scope="row" { @if school.is_empty() { "(école non renseignée)" } @else { (school) } }
                            @for n in r { td { (n) } } }
                    }
                    tr { th scope="row" { "Total" } @for n in &totals { td { strong { (n) } } } }
                }
            } }
        }
    };
    Ok(
        staff_page(&state, &s, StaffTab::HeadCount, "Effectifs", body)
            .await?
            .into_response(),
    )
}

/// GET /mairie/effectifs.csv: `date;ecole;prestation;libelle;nombre`, `;`-separated as
/// French spreadsheets expect.
pub async fn csv(
    State(state): State<AppState>,
    _s: StaffSession,
    Query(q): Query<DateQuery>,
) -> Result<Response, WebError> {
    let date = day(&state, &q)?;
    let counts = state.service().head_counts(date).await?;
    let services = state.services();
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    let io = |e: csv::Error| WebError::Internal(format!("csv: {e}"));
    w.write_record(["date", "ecole", "prestation", "libelle", "nombre"])
        .map_err(io)?;
    for c in &counts {
        let label = services
            .iter()
            .find(|(code, _)| code == &c.service)
            .map(|(_, l)| l.as_str())
            .unwrap_or("");
        w.write_record([
            date.to_string().as_str(),
            c.school.as_str(),
            c.service.as_str(),
            label,
            c.count.to_string().as_str(),
        ])
        .map_err(io)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| WebError::Internal(format!("csv: {e}")))?;
    let disposition = format!("attachment; filename=\"effectifs-{date}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
