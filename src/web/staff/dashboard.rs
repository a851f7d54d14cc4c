//! The staff dashboard: for a chosen day, the voice line's calls per quarter-hour (the
//! 10:00 peak), how far they got and where callers hung up, bookings and cancellations by
//! channel over the week, logins refused and lockouts, and the day's head-counts as a
//! chart beside the CSV. Charts are SVG drawn here; every figure is in a table too.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{Days, NaiveDate};
use maud::{Markup, html};
use serde::Deserialize;

use super::announcement::opt_date;
use super::staff_page;
use crate::booking::french::{date_fr, date_fr_with_year, weekday_fr};
use crate::service::dashboard::{CHANNELS, DayReport, QUARTERS, day_report};
use crate::store::CallOutcome;
use crate::web::chart::{Caption, Series, bars};
use crate::web::error::WebError;
use crate::web::extract::StaffSession;
use crate::web::layout::StaffTab;
use crate::web::state::AppState;

/// `?date=YYYY-MM-DD` (default: today, the day whose morning peak staff watch).
#[derive(Deserialize)]
pub struct DateQuery {
    #[serde(default)]
    date: String,
}

/// What staff read for an outcome.
fn outcome_fr(o: CallOutcome) -> &'static str {
    match o {
        CallOutcome::Changed => "inscription ou annulation faite",
        CallOutcome::Consulted => "connecté, rien changé",
        CallOutcome::Locked => "bloqué (trop d'essais)",
        CallOutcome::LoginFailed => "codes erronés",
        CallOutcome::NoLogin => "raccroché avant de se connecter",
    }
}

/// What staff read for a channel of the history.
fn channel_fr(c: &str) -> &'static str {
    match c {
        "web" => "portail",
        "phone" => "téléphone",
        _ => "mairie",
    }
}

/// GET /mairie/tableau-de-bord
pub async fn get(
    State(state): State<AppState>,
    s: StaffSession,
    Query(q): Query<DateQuery>,
) -> Result<Response, WebError> {
    let date = opt_date(&q.date, "jour")?.unwrap_or_else(|| state.today());
    let report = day_report(state.service(), date, state.now()).await?;
    let services = state.services();
    let body = html! {
        h1 { "Tableau de bord du " (date_fr_with_year(date)) }
        form.card method="get" action="/mairie/tableau-de-bord" {
            label for="date" { "Jour" }
            input type="date" id="date" name="date" value=(date.to_string());
            button type="submit" { "Afficher" }
        }
        (pager(date))
        (calls(&report))
        (changes(&report))
        (logins(&report))
        (head_counts(&report, &services))
    };
    Ok(
        staff_page(&state, &s, StaffTab::Dashboard, "Tableau de bord", body)
            .await?
            .into_response(),
    )
}

fn pager(date: NaiveDate) -> Markup {
    let prev = date.checked_sub_days(Days::new(1)).unwrap_or(date);
    let next = date.checked_add_days(Days::new(1)).unwrap_or(date);
    html! {
        nav.pager aria-label="Jours" {
            a href=(format!("/mairie/tableau-de-bord?date={prev}")) { "Jour précédent" }
            a href=(format!("/mairie/tableau-de-bord?date={next}")) { "Jour suivant" }
        }
    }
}

fn quarter_label(q: usize) -> String {
    format!("{:02}h{:02}", q / 4, (q % 4) * 15)
}

fn calls(r: &DayReport) -> Markup {
    let total = r.calls();
    let labels: Vec<String> = (0..QUARTERS).map(|q| format!("{:02}h", q / 4)).collect();
    let peak = (0..QUARTERS).max_by_key(|q| (r.calls_per_quarter[*q], std::cmp::Reverse(*q)));
    let description = match peak {
        Some(q) if total > 0 => format!(
            "{total} appels ; le quart d'heure le plus chargé, {} à {}, en compte {}.",
            quarter_label(q),
            quarter_label(q + 1).replace("24h00", "minuit"),
            r.calls_per_quarter[q]
        ),
        _ => "Aucun appel ce jour-là.".to_owned(),
    };
    let busy: Vec<usize> = (0..QUARTERS)
        .filter(|q| r.calls_per_quarter[*q] > 0)
        .collect();
    html! {
        section.card aria-labelledby="calls-h" {
            h2 id="calls-h" { "Appels au serveur vocal : " (total) }
            (bars(
                Caption { id: "calls-chart", title: "Appels par quart d'heure", description: &description },
                &labels,
                8,
                &[Series { name: "appels", class: "chart-a", values: &r.calls_per_quarter }],
            ))
            p { (description) }
            @if !busy.is_empty() {
                details {
                    summary { "Appels par quart d'heure (tableau)" }
                    div.table-wrap { table.list {
                        thead { tr { th scope="col" { "Quart d'heure" } th scope="col" { "Appels" } } }
                        tbody { @for q in &busy {
                            tr { th scope="row" { (quarter_label(*q)) } td { (r.calls_per_quarter[*q]) } }
                        } }
                    } }
                }
            }
            div.table-wrap { table.list {
                caption { "Jusqu'où les appels sont allés" }
                thead { tr { th scope="col" { "Issue" } th scope="col" { "Appels" } } }
                tbody { @for (o, n) in &r.outcomes {
                    tr { th scope="row" { (outcome_fr(*o)) } td { (n) } }
                } }
            } }
            p { "Par téléphone : inscriptions " (r.phone_booked) ", annulations " (r.phone_cancelled) "." }
            @if !r.hung_up_at.is_empty() {
                div.table-wrap { table.list {
                    caption { "Où les appelants ont raccroché (étape du plan d'appel)" }
                    thead { tr { th scope="col" { "Étape" } th scope="col" { "Appels" } } }
                    tbody { @for (step, n) in r.hung_up_at.iter().take(10) {
                        tr { th scope="row" { code { (step) } } td { (n) } }
                    } }
                } }
            }
        }
    }
}

fn changes(r: &DayReport) -> Markup {
    let labels: Vec<String> = r
        .changes
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                &weekday_fr(chrono::Datelike::weekday(&d.date))[..3],
                chrono::Datelike::day(&d.date)
            )
        })
        .collect();
    let per_channel: Vec<Vec<u32>> = (0..CHANNELS.len())
        .map(|c| {
            r.changes
                .iter()
                .map(|d| d.booked[c] + d.cancelled[c])
                .collect()
        })
        .collect();
    let classes = ["chart-a", "chart-b", "chart-c"];
    let series: Vec<Series<'_>> = CHANNELS
        .iter()
        .enumerate()
        .map(|(i, c)| Series {
            name: channel_fr(c),
            class: classes[i],
            values: &per_channel[i],
        })
        .collect();
    let total: u32 = per_channel.iter().flatten().sum();
    let first = r.changes.first().map(|d| d.date).unwrap_or(r.date);
    let description = format!(
        "{total} inscriptions et annulations du {} au {}, par canal.",
        date_fr(first),
        date_fr(r.date)
    );
    html! {
        section.card aria-labelledby="changes-h" {
            h2 id="changes-h" { "Inscriptions et annulations par canal" }
            (bars(Caption { id: "changes-chart", title: "Changements par jour et par canal", description: &description }, &labels, 1, &series))
            // Seven days by three channels may be wider than a phone: the table scrolls in
            // its own box, which the keyboard can reach.
            div.table-wrap role="region" aria-labelledby="changes-caption" tabindex="0" { table.list {
                caption id="changes-caption" { (description) " Inscriptions / annulations." }
                thead { tr {
                    th scope="col" { "Jour" }
                    @for c in CHANNELS { th scope="col" { (channel_fr(c)) } }
                } }
                tbody { @for d in &r.changes {
                    tr {
                        th scope="row" { (date_fr(d.date)) }
                        @for c in 0..CHANNELS.len() { td { (d.booked[c]) " / " (d.cancelled[c]) } }
                    }
                } }
            } }
        }
    }
}

fn logins(r: &DayReport) -> Markup {
    html! {
        section.card aria-labelledby="logins-h" {
            h2 id="logins-h" { "Connexions refusées et blocages" }
            ul {
                li { "Codes erronés au téléphone ce jour-là : " strong { (r.logins_failed) } }
                li { "Appels arrêtés par le blocage : " strong { (r.locked_calls) } }
                li { "Compteurs bloqués en ce moment (portail, téléphone, mairie) : " strong { (r.locked_now) } }
            }
            // Three columns may not fit a 320 px phone: the table scrolls in its own box,
            // which the keyboard can reach.
            div.table-wrap role="region" aria-labelledby="refusals-caption" tabindex="0" { table.list {
                caption id="refusals-caption" { "Connexions des parents refusées ce jour-là" }
                thead { tr { th scope="col" { "Canal" } th scope="col" { "Codes erronés" } th scope="col" { "Bloquées" } } }
                tbody { @for channel in ["web", "phone"] {
                    tr {
                        th scope="row" { (channel_fr(channel)) }
                        @for reason in ["wrong_codes", "locked"] {
                            td { (r.login_refusals.iter().filter(|(c, why, _)| c == channel && why == reason).map(|(_, _, n)| n).sum::<i64>()) }
                        }
                    }
                } }
            } }
        }
    }
}

fn head_counts(r: &DayReport, services: &[(crate::booking::model::ServiceCode, String)]) -> Markup {
    let rows = super::headcount::table(&r.head_counts, services);
    let labels: Vec<String> = rows
        .iter()
        .map(|(s, _)| {
            if s.is_empty() {
                "(sans école)".to_owned()
            } else {
                s.clone()
            }
        })
        .collect();
    let per_service: Vec<Vec<u32>> = (0..services.len())
        .map(|i| {
            rows.iter()
                .map(|(_, n)| u32::try_from(n[i]).unwrap_or(0))
                .collect()
        })
        .collect();
    let classes = ["chart-a", "chart-b", "chart-c", "chart-d"];
    let series: Vec<Series<'_>> = services
        .iter()
        .enumerate()
        .map(|(i, (_, label))| Series {
            name: label,
            class: classes[i % classes.len()],
            values: &per_service[i],
        })
        .collect();
    let total: u32 = per_service.iter().flatten().sum();
    let description = format!(
        "{total} inscriptions le {}, par école et prestation.",
        date_fr(r.date)
    );
    html! {
        section.card aria-labelledby="heads-h" {
            h2 id="heads-h" { "Effectifs du jour" }
            @if rows.is_empty() { p { "Aucune inscription ce jour-là." } }
            @else {
                (bars(Caption { id: "heads-chart", title: "Effectifs par école et prestation", description: &description }, &labels, 1, &series))
                p { (description) " " a href=(format!("/mairie/effectifs?date={}", r.date)) { "Le tableau" } " · "
                    a href=(format!("/mairie/effectifs.csv?date={}", r.date)) download { "Télécharger (CSV)" } }
            }
        }
    }
}
