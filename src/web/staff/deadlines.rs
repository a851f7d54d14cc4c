//! Deadline overrides and closures ("ponts"), set by staff.
//!
//! The seed's example must be enterable as written: "les annulations pour le lundi 25 mai
//! NE SONT PLUS POSSIBLES depuis mercredi 20 mai à 10H15" is date 25 May, cancelling only,
//! deadline 20 May 10:15 (town time), and the sentence itself.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use chrono::{Days, NaiveDate, NaiveTime};
use maud::html;
use serde::Deserialize;

use super::announcement::opt_date;
use super::staff_page;
use crate::booking::calendar::{ActionScope, Override, ServiceScope};
use crate::booking::deadline::town_instant;
use crate::booking::french::date_fr_with_year;
use crate::booking::model::ServiceCode;
use crate::service::booking::BookingError;
use crate::service::usual_weeks::{self, RunTrigger, book_usual_weeks};
use crate::store::{OverrideId, StoreError};
use crate::web::error::WebError;
use crate::web::extract::StaffSession;
use crate::web::layout::{StaffTab, csrf_field};
use crate::web::session::Flash;
use crate::web::state::AppState;

/// The longest override sentence accepted.
const MAX_SENTENCE_CHARS: usize = 500;

fn scope_fr(s: ActionScope) -> &'static str {
    match s {
        ActionScope::Book => "inscriptions",
        ActionScope::Cancel => "annulations",
        ActionScope::Both => "inscriptions et annulations",
    }
}

/// Reads the form's "S'applique aux" radio.
fn parse_scope(s: &str) -> Option<ActionScope> {
    match s {
        "booking" => Some(ActionScope::Book),
        "cancelling" => Some(ActionScope::Cancel),
        "both" => Some(ActionScope::Both),
        _ => None,
    }
}

/// GET /mairie/delais
pub async fn get(State(state): State<AppState>, s: StaffSession) -> Result<Response, WebError> {
    let today = state.today();
    let from = today.checked_sub_days(Days::new(31)).unwrap_or(today);
    let to = today.checked_add_days(Days::new(400)).unwrap_or(today);
    let overrides = state.service().overrides(from, to).await?;
    let closures = state.service().closures(from, to).await?;
    let services = state.services();
    let tz = state.tz();
    let csrf = &s.data.csrf;
    let (patterns, last_run) = usual_weeks::staff_summary(state.service(), state.now()).await?;
    let label_of = |code: &ServiceCode| {
        services
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let body = html! {
        h1 { "Délais exceptionnels et fermetures" }
        section.card aria-labelledby="nouveau-delai" {
            h2 id="nouveau-delai" { "Nouveau délai exceptionnel" }
            p { "Avance (ou recule) la date limite d'inscription ou d'annulation pour un jour de service. "
                "La phrase est affichée aux familles et lue au téléphone en cas de refus." }
            form method="post" action="/mairie/delais/derogation" {
                (csrf_field(csrf))
                label for="o-date" { "Jour de service concerné" }
                input type="date" id="o-date" name="date" required;
                fieldset {
                    legend { "Prestations concernées" }
                    @for (code, label) in &services {
                        label { input type="checkbox" name="services" value=(code.as_str()) checked; " " (label) }
                    }
                }
                fieldset {
                    legend { "S'applique aux" }
                    label { input type="radio" name="applies_to" value="booking"; " inscriptions" }
                    label { input type="radio" name="applies_to" value="cancelling"; " annulations" }
                    label { input type="radio" name="applies_to" value="both" checked; " inscriptions et annulations" }
                }
                label for="o-dday" { "Nouvelle date limite : jour" }
                input type="date" id="o-dday" name="deadline_date" required;
                label for="o-dtime" { "heure (heure de la mairie)" }
                input type="time" id="o-dtime" name="deadline_time" required;
                label for="o-sentence" { "Phrase affichée aux familles" }
                textarea id="o-sentence" name="sentence" maxlength=(MAX_SENTENCE_CHARS) required
                    placeholder="ATTENTION! En raison du week-end de l'Ascension, les annulations pour le lundi 25 mai NE SONT PLUS POSSIBLES depuis mercredi 20 mai à 10H15." {}
                button type="submit" { "Enregistrer le délai" }
            }
        }
        section.card aria-labelledby="liste-delais" {
            h2 id="liste-delais" { "Délais exceptionnels enregistrés" }
            @if overrides.is_empty() { p { "Aucun." } }
            @else {
                table.list.stack {
                    thead { tr { th scope="col" { "Jour" } th scope="col" { "Prestations" } th scope="col" { "Pour les" }
                        th scope="col" { "Date limite" } th scope="col" { "Phrase" } th scope="col" { span.sr-only { "Action" } } } }
                    tbody {
                        @for o in &overrides {
                            tr {
                                td data-label="Jour" { (date_fr_with_year(o.rule.date)) }
                                td data-label="Prestations" { @match &o.rule.services {
                                    ServiceScope::All => "toutes",
                                    ServiceScope::Only(list) => (list.iter().map(&label_of).collect::<Vec<_>>().join(", ")),
                                } }
                                td data-label="Pour les" { (scope_fr(o.rule.actions)) }
                                td data-label="Date limite" { (o.rule.deadline.with_timezone(&tz).format("%d/%m/%Y à %Hh%M")) }
                                td data-label="Phrase" { (o.rule.message) }
                                td { form method="post" action=(format!("/mairie/delais/derogation/{}/supprimer", o.id.0)) {
                                    (csrf_field(csrf))
                                    button.secondary type="submit" { "Supprimer" }
                                } }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="nouvelle-fermeture" {
            h2 id="nouvelle-fermeture" { "Fermeture de la mairie (pont)" }
            p { "Un jour de fermeture n'est pas un jour ouvré : les délais « la veille » reculent au jour ouvré précédent, "
                "et aucun service n'a lieu ce jour-là." }
            form method="post" action="/mairie/delais/fermeture" {
                (csrf_field(csrf))
                label for="f-date" { "Jour fermé" }
                input type="date" id="f-date" name="date" required;
                label for="f-label" { "Motif" }
                input type="text" id="f-label" name="label" maxlength="200" required placeholder="Pont de l'Ascension";
                button type="submit" { "Enregistrer la fermeture" }
            }
            @if !closures.is_empty() {
                ul {
                    @for c in &closures {
                        li {
                            (date_fr_with_year(c.date)) " – " (c.label) " "
                            form.inline method="post" action=(format!("/mairie/delais/fermeture/{}/supprimer", c.date)) {
                                (csrf_field(csrf))
                                button.link type="submit" { "supprimer" }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="semaines-types" {
            h2 id="semaines-types" { "Semaines types des familles" }
            p { (patterns) " semaine(s) type(s) en cours. Le serveur en réserve les nouvelles semaines chaque nuit, "
                "et aussitôt après l'ajout ou la suppression d'une fermeture (jamais après un délai)." }
            @match &last_run {
                None => p { "Aucun passage enregistré pour l'instant." },
                Some(r) => p {
                    "Dernier passage le " (r.finished_at.with_timezone(&tz).format("%d/%m/%Y à %Hh%M"))
                    " (" (r.trigger) ") : " (r.patterns) " semaine(s) type(s), "
                    (r.booked) " inscription(s) faite(s), "
                    (r.skipped) " jour(s) sauté(s) (vacances, fermeture, délai passé), "
                    (r.kept_cancelled) " jour(s) annulé(s) par les familles laissé(s) tel(s) quel(s)"
                    @if r.failed > 0 { ", " (r.failed) " en échec (réessayé au prochain passage)" }
                    "."
                },
            }
        }
    };
    Ok(staff_page(
        &state,
        &s,
        StaffTab::Deadlines,
        "Délais et fermetures",
        body,
    )
    .await?
    .into_response())
}

/// The override form.
#[derive(Deserialize)]
pub struct OverrideForm {
    csrf: String,
    date: String,
    #[serde(default)]
    services: Vec<String>,
    applies_to: String,
    deadline_date: String,
    deadline_time: String,
    sentence: String,
}

/// POST /mairie/delais/derogation
pub async fn add_override(
    State(state): State<AppState>,
    s: StaffSession,
    Form(form): Form<OverrideForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let date = opt_date(&form.date, "jour concerné")?
        .ok_or_else(|| WebError::BadRequest("indiquez le jour concerné".to_owned()))?;
    let day = opt_date(&form.deadline_date, "date limite")?
        .ok_or_else(|| WebError::BadRequest("indiquez la date limite".to_owned()))?;
    let time = NaiveTime::parse_from_str(form.deadline_time.trim(), "%H:%M")
        .map_err(|_| WebError::BadRequest("heure limite invalide (attendu HH:MM)".to_owned()))?;
    let actions = parse_scope(&form.applies_to).ok_or_else(|| {
        WebError::BadRequest("choisissez inscriptions, annulations ou les deux".to_owned())
    })?;
    let known = state.services();
    let mut chosen = Vec::new();
    for code in &form.services {
        let c = ServiceCode::parse(code)
            .ok()
            .filter(|c| known.iter().any(|(k, _)| k == c))
            .ok_or_else(|| WebError::BadRequest(format!("prestation inconnue « {code} »")))?;
        if !chosen.contains(&c) {
            chosen.push(c);
        }
    }
    if chosen.is_empty() {
        return Err(WebError::BadRequest(
            "cochez au moins une prestation".to_owned(),
        ));
    }
    let services = if chosen.len() < known.len() {
        ServiceScope::Only(chosen)
    } else {
        ServiceScope::All
    };
    let sentence = form.sentence.replace("\r\n", "\n").trim().to_owned();
    if sentence.is_empty() || sentence.chars().count() > MAX_SENTENCE_CHARS {
        return Err(WebError::BadRequest(format!(
            "la phrase est obligatoire ({MAX_SENTENCE_CHARS} caractères au plus)"
        )));
    }
    let rule = Override {
        date,
        services,
        actions,
        deadline: town_instant(state.tz(), day, time),
        message: sentence,
    };
    let id = state.service().add_override(&rule).await?;
    tracing::info!(user = %s.user, id = id.0, %date, "deadline override added");
    state
        .sessions()
        .set_flash(
            &s.id,
            Flash::Notice(format!(
                "Délai exceptionnel enregistré pour le {}.",
                date_fr_with_year(date)
            )),
        )
        .await?;
    Ok(Redirect::to("/mairie/delais").into_response())
}

/// A form that only carries the CSRF token (deletions).
#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// POST /mairie/delais/derogation/{id}/supprimer
pub async fn remove_override(
    State(state): State<AppState>,
    s: StaffSession,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let removed = state.service().remove_override(OverrideId(id)).await?;
    if !removed {
        return Err(WebError::NotFound(
            "ce délai exceptionnel n'existe pas".to_owned(),
        ));
    }
    tracing::info!(user = %s.user, id, "deadline override removed");
    state
        .sessions()
        .set_flash(
            &s.id,
            Flash::Notice("Délai exceptionnel supprimé.".to_owned()),
        )
        .await?;
    Ok(Redirect::to("/mairie/delais").into_response())
}

/// The closure form.
#[derive(Deserialize)]
pub struct ClosureForm {
    csrf: String,
    date: String,
    label: String,
}

/// POST /mairie/delais/fermeture
pub async fn add_closure(
    State(state): State<AppState>,
    s: StaffSession,
    Form(form): Form<ClosureForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let date = opt_date(&form.date, "jour fermé")?
        .ok_or_else(|| WebError::BadRequest("indiquez le jour fermé".to_owned()))?;
    let label = form.label.trim();
    if label.is_empty() || label.chars().count() > 200 {
        return Err(WebError::BadRequest(
            "le motif est obligatoire (200 caractères au plus)".to_owned(),
        ));
    }
    match state.service().add_closure(date, label).await {
        Ok(()) => {
            tracing::info!(user = %s.user, %date, "closure added");
            let usual = book_usual_weeks_now(&state).await;
            state
                .sessions()
                .set_flash(
                    &s.id,
                    Flash::Notice(format!(
                        "Fermeture du {} enregistrée. {usual}",
                        date_fr_with_year(date)
                    )),
                )
                .await?;
        }
        Err(BookingError::Store(StoreError::Duplicate { what })) => {
            state
                .sessions()
                .set_flash(
                    &s.id,
                    Flash::Error(format!("Rien d'enregistré : {what} existe déjà.")),
                )
                .await?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to("/mairie/delais").into_response())
}

/// POST /mairie/delais/fermeture/{date}/supprimer
pub async fn remove_closure(
    State(state): State<AppState>,
    s: StaffSession,
    Path(date): Path<NaiveDate>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let removed = state.service().remove_closure(date).await?;
    if !removed {
        return Err(WebError::NotFound(
            "cette fermeture n'existe pas".to_owned(),
        ));
    }
    tracing::info!(user = %s.user, %date, "closure removed");
    let usual = book_usual_weeks_now(&state).await;
    state
        .sessions()
        .set_flash(
            &s.id,
            Flash::Notice(format!("Fermeture supprimée. {usual}")),
        )
        .await?;
    Ok(Redirect::to("/mairie/delais").into_response())
}

/// Runs the usual weeks' job right after a closure changed (the calendar its cells are
/// decided on), and says in a sentence what it did. A failure is logged and said: the
/// closure is recorded anyway, and the nightly pass tries again.
async fn book_usual_weeks_now(state: &AppState) -> String {
    match book_usual_weeks(state.service(), RunTrigger::Closure, state.now()).await {
        Ok(run) => format!(
            "Semaines types : {} inscription(s) ajoutée(s), {} jour(s) sauté(s).",
            run.booked, run.skipped
        ),
        Err(e) => {
            tracing::warn!(error = %e, "usual weeks not booked after a closure change");
            "Semaines types : passage en échec, il sera refait cette nuit.".to_owned()
        }
    }
}
