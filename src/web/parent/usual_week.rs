//! "Semaine type": the child's usual week (issue 18, point 1). The form ticks services ×
//! weekdays, a first day, a last day (empty: the end of the school year) and every week or
//! every other week; posting it sets the pattern and books it through the booking service
//! (one transaction), and the next page lists exactly what was booked and what was skipped
//! and why. A second form stops it, cancelling the future bookings it made only when the
//! parent ticks that box.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use chrono::{NaiveDate, Weekday};
use maud::html;
use serde::Deserialize;

use super::parent_page;
use crate::booking::french::weekday_fr;
use crate::booking::model::{Action, ServiceCode};
use crate::booking::usual_week::{Day, Rhythm, UsualWeek};
use crate::service::usual_weeks::{self, CellResult, UsualWeekError, days_fr, days_of};
use crate::web::error::WebError;
use crate::web::extract::ParentSession;
use crate::web::layout::{ParentTab, csrf_field, flash};
use crate::web::session::Flash;
use crate::web::state::AppState;
// Monday to Sunday, as the form numbers them (ISO: 1 = Monday), and the planning's short
// day names for the columns.
use crate::booking::weekdays::ALL as WEEK;
use crate::web::parent::grid::DAY_SHORT;

/// The form's value of a (service, weekday) box: "REPAS.1".
fn cell_value(code: &ServiceCode, day: Weekday) -> String {
    format!("{}.{}", code.as_str(), day.number_from_monday())
}

/// Reads a box's value back; `None` for anything our form does not send.
fn parse_cell_value(v: &str) -> Option<(ServiceCode, Weekday)> {
    let (code, n) = v.split_once('.')?;
    let code = ServiceCode::parse(code).ok()?;
    let n: usize = n.parse().ok()?;
    let day = *WEEK.get(n.checked_sub(1)?)?;
    Some((code, day))
}

fn label_of(state: &AppState, code: &ServiceCode) -> String {
    state
        .services()
        .into_iter()
        .find(|(c, _)| c == code)
        .map(|(_, l)| l)
        .unwrap_or_else(|| code.to_string())
}

/// "Cantine lundi, mardi et jeudi ; Accueil Soir mardi".
fn summary(state: &AppState, pattern: &UsualWeek) -> String {
    state
        .services()
        .iter()
        .filter_map(|(code, label)| {
            let days = days_of(pattern, code);
            (!days.is_empty()).then(|| format!("{label} {}", days_fr(&days)))
        })
        .collect::<Vec<_>>()
        .join(" ; ")
}

/// GET /semaine-type
pub async fn get(State(state): State<AppState>, s: ParentSession) -> Result<Response, WebError> {
    let child = state
        .service()
        .child(s.payer, s.child)
        .await?
        .ok_or_else(|| WebError::NotFound("enfant introuvable".to_owned()))?;
    let current = usual_weeks::current(state.service(), s.child).await?;
    let page_flash = state.sessions().take_flash(&s.id).await?;
    let today = state.today();
    let rules = state.service().rules();
    // The weekdays on which some service runs: the form's columns.
    let days: Vec<Weekday> = WEEK
        .into_iter()
        .filter(|d| rules.services().iter().any(|svc| svc.days.contains(*d)))
        .collect();
    let pattern = current.as_ref().map(|w| &w.pattern);
    let first = pattern.map_or(today, |p| p.first_day.max(today));
    let last = pattern.and_then(|p| p.last_day);
    let every_other = pattern.is_some_and(|p| p.rhythm == Rhythm::EveryOtherWeek);
    let csrf = &s.data.csrf;
    let body = html! {
        h1 { "Semaine type – " (child.first_name) " " (child.last_name) }
        p { a href="/planning" { "← Retour au planning" } }
        (flash(&page_flash))
        @if let Some(Flash::UsualWeek { booked, already, skipped, note }) = &page_flash {
            section.card role="status" aria-labelledby="recap" {
                h2 id="recap" { "Semaine type appliquée" }
                p { (note) }
                h3 { "Inscriptions enregistrées (" (booked.len()) ")" }
                @if booked.is_empty() { p { "Aucune nouvelle inscription." } }
                @else { ul { @for l in booked { li { (l) } } } }
                @if *already > 0 { p { (already) " jour(s) déjà inscrit(s) : rien n'a changé." } }
                @if !skipped.is_empty() {
                    h3 { "Jours non réservés (" (skipped.len()) ")" }
                    ul.alert { @for l in skipped { li { (l) } } }
                }
            }
        }
        @if let Some(w) = &current {
            section.card aria-labelledby="en-cours" {
                h2 id="en-cours" { "Semaine type en cours" }
                p { (summary(&state, &w.pattern)) }
                p {
                    "Du " (w.pattern.first_day.format("%d/%m/%Y"))
                    @match w.pattern.last_day {
                        Some(l) => { " au " (l.format("%d/%m/%Y")) }
                        None => { " à la fin de l'année scolaire" }
                    }
                    @match w.pattern.rhythm {
                        Rhythm::EveryWeek => { ", chaque semaine." }
                        Rhythm::EveryOtherWeek => { ", une semaine sur deux." }
                    }
                }
                p { "Les semaines à venir sont réservées au fur et à mesure, chaque nuit. "
                    "Annuler un jour sur le planning garde la semaine type : ce jour n'est pas réservé à nouveau." }
                form method="post" action="/semaine-type/arreter" {
                    (csrf_field(csrf))
                    label { input type="checkbox" name="annuler" value="oui"; " Annuler aussi les inscriptions à venir faites par la semaine type" }
                    button.secondary type="submit" { "Arrêter la semaine type" }
                }
            }
        }
        section.card aria-labelledby="regler" {
            h2 id="regler" { @if current.is_some() { "Modifier la semaine type" } @else { "Définir une semaine type" } }
            p { "Cochez les prestations voulues chaque jour. À l'enregistrement, tous les jours correspondants encore "
                "ouverts sont réservés jusqu'à la fin du mois prochain ; les vacances, jours fériés, fermetures "
                "et délais passés sont sautés." }
            form method="post" action="/semaine-type" {
                (csrf_field(csrf))
                table.list.usual {
                    caption.sr-only { "Prestations par jour de la semaine" }
                    thead { tr {
                        th scope="col" { "Prestation" }
                        @for d in &days {
                            th.day scope="col" { abbr title=(weekday_fr(*d)) { (DAY_SHORT[d.num_days_from_monday() as usize]) } }
                        }
                    } }
                    tbody {
                        @for svc in rules.services() {
                            tr {
                                th scope="row" { (svc.label) }
                                @for d in &days {
                                    @let id = format!("st-{}-{}", svc.code.as_str(), d.number_from_monday());
                                    @if svc.days.contains(*d) {
                                        td.day {
                                            input type="checkbox" id=(id) name="cell" value=(cell_value(&svc.code, *d))
                                                checked[pattern.is_some_and(|p| p.cells.contains(&(svc.code.clone(), Day(*d))))];
                                            label.sr-only for=(id) { (svc.label) " le " (weekday_fr(*d)) }
                                        }
                                    } @else {
                                        td.day {
                                            span aria-hidden="true" { "–" }
                                            span.sr-only { "pas de " (svc.label.to_lowercase()) " le " (weekday_fr(*d)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                label for="st-du" { "À partir du" }
                input type="date" id="st-du" name="du" value=(first.to_string()) required;
                label for="st-au" { "Jusqu'au (vide : fin de l'année scolaire)" }
                input type="date" id="st-au" name="au" value=(last.map(|d| d.to_string()).unwrap_or_default());
                fieldset {
                    legend { "Rythme" }
                    label { input type="radio" name="rythme" value="chaque" checked[!every_other]; " chaque semaine" }
                    label { input type="radio" name="rythme" value="quinzaine" checked[every_other]; " une semaine sur deux" }
                }
                button type="submit" { "Enregistrer et réserver" }
            }
        }
    };
    Ok(parent_page(&state, &s, Some(ParentTab::Planning), "Semaine type", body).into_response())
}

/// The usual week's form.
#[derive(Deserialize)]
pub struct UsualWeekForm {
    csrf: String,
    #[serde(default)]
    cell: Vec<String>,
    #[serde(default)]
    du: String,
    #[serde(default)]
    au: String,
    #[serde(default)]
    rythme: String,
}

fn form_date(s: &str, what: &str) -> Result<Option<NaiveDate>, WebError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    crate::web::url_date::parse(s).map(Some).ok_or_else(|| {
        WebError::BadRequest(format!("date « {what} » invalide (attendu AAAA-MM-JJ)"))
    })
}

impl From<UsualWeekError> for WebError {
    fn from(e: UsualWeekError) -> Self {
        match e {
            UsualWeekError::Store(e) => e.into(),
            UsualWeekError::Booking(e) => e.into(),
            refused => WebError::BadRequest(format!("Semaine type non enregistrée : {refused}.")),
        }
    }
}

/// POST /semaine-type: checks the whole form (a box our form never shows, such as a
/// service on a day it does not run, refuses it all and writes nothing), sets the
/// pattern, books it and keeps the recap for the next page.
pub async fn post(
    State(state): State<AppState>,
    s: ParentSession,
    Form(form): Form<UsualWeekForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let mut cells = std::collections::BTreeSet::new();
    for v in &form.cell {
        let cell = parse_cell_value(v).ok_or_else(|| {
            WebError::BadRequest("Semaine type non enregistrée : case invalide.".to_owned())
        })?;
        cells.insert((cell.0, Day(cell.1)));
    }
    let first_day = form_date(&form.du, "à partir du")?.unwrap_or_else(|| state.today());
    let last_day = form_date(&form.au, "jusqu'au")?;
    let rhythm = match form.rythme.as_str() {
        "" | "chaque" => Rhythm::EveryWeek,
        "quinzaine" => Rhythm::EveryOtherWeek,
        _ => {
            return Err(WebError::BadRequest(
                "Semaine type non enregistrée : rythme invalide.".to_owned(),
            ));
        }
    };
    let pattern = UsualWeek {
        cells,
        first_day,
        last_day,
        rhythm,
    };
    let now = state.now();
    let applied = usual_weeks::set(state.service(), s.child, &pattern, "parent", now).await?;
    let mut booked = Vec::new();
    let mut skipped = Vec::new();
    let mut already = 0;
    for c in &applied.cells {
        let label = label_of(&state, &c.service);
        let day = c.date.format("%d/%m/%Y");
        match &c.result {
            CellResult::Booked => booked.push(format!("inscription, {day}, {label}")),
            CellResult::AlreadyBooked => already += 1,
            CellResult::Skipped(r) => {
                skipped.push(format!("{day}, {label} : {}", r.sentence_fr(Action::Book)))
            }
        }
    }
    let span = format!(
        "du {} au {}",
        applied.from.format("%d/%m/%Y"),
        applied.until.format("%d/%m/%Y")
    );
    let note = if applied.from > applied.until {
        format!(
            "Semaine type enregistrée. Ses jours seront réservés au fur et à mesure, à partir du {}, chaque nuit.",
            applied.from.format("%d/%m/%Y")
        )
    } else if applied.until < applied.last_day {
        format!(
            "Semaine type enregistrée. Jours réservés {span} ; les semaines suivantes, jusqu'au {}, \
             seront réservées au fur et à mesure, chaque nuit.",
            applied.last_day.format("%d/%m/%Y")
        )
    } else {
        format!("Semaine type enregistrée. Jours réservés {span}.")
    };
    tracing::info!(
        child = s.child.0,
        booked = booked.len(),
        skipped = skipped.len(),
        "usual week set on the web"
    );
    state
        .sessions()
        .set_flash(
            &s.id,
            Flash::UsualWeek {
                booked,
                already,
                skipped,
                note,
            },
        )
        .await?;
    Ok(Redirect::to("/semaine-type").into_response())
}

/// The stop form.
#[derive(Deserialize)]
pub struct StopForm {
    csrf: String,
    #[serde(default)]
    annuler: String,
}

/// POST /semaine-type/arreter: stops the pattern; cancels its future bookings only when
/// the box was ticked.
pub async fn stop(
    State(state): State<AppState>,
    s: ParentSession,
    Form(form): Form<StopForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let cancel = match form.annuler.as_str() {
        "" => false,
        "oui" => true,
        _ => {
            return Err(WebError::BadRequest(
                "choix d'annulation invalide".to_owned(),
            ));
        }
    };
    let stopped = usual_weeks::stop(state.service(), s.child, cancel, state.now()).await?;
    let message = if !stopped.was_running {
        "Aucune semaine type n'était en cours.".to_owned()
    } else if !cancel {
        "Semaine type arrêtée. Les inscriptions déjà faites sont gardées.".to_owned()
    } else {
        let mut m = format!(
            "Semaine type arrêtée. {} inscription(s) à venir annulée(s)",
            stopped.cancelled.len()
        );
        if !stopped.kept.is_empty() {
            m.push_str(&format!(
                " ; {} gardée(s), le délai d'annulation étant passé",
                stopped.kept.len()
            ));
        }
        m.push('.');
        m
    };
    state
        .sessions()
        .set_flash(&s.id, Flash::Notice(message))
        .await?;
    Ok(Redirect::to("/semaine-type").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_values_round_trip_and_others_are_refused() {
        let repas = ServiceCode::parse("REPAS").unwrap();
        assert_eq!(cell_value(&repas, Weekday::Thu), "REPAS.4");
        assert_eq!(parse_cell_value("REPAS.4"), Some((repas, Weekday::Thu)));
        for bad in [
            "REPAS.0",
            "REPAS.8",
            "REPAS",
            "repas.1",
            "REPAS.-1",
            ".1",
            "REPAS.1.2",
        ] {
            assert_eq!(parse_cell_value(bad), None, "{bad}");
        }
    }
}
