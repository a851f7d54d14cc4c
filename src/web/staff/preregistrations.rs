//! "Préinscriptions" for staff: the families' requests, pending ones first, each accepted
//! or refused once (a refusal needs a reason the family will read); a decided request says
//! what its acceptance did ("enfant créé", "inscription enregistrée").

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::staff_page;
use crate::service::preregistrations::{self, MAX_REASON_CHARS};
use crate::store::{PreregDecision, PreregStatus, Preregistration, PreregistrationId};
use crate::web::error::WebError;
use crate::web::extract::StaffSession;
use crate::web::layout::{StaffTab, csrf_field};
use crate::web::parent::preregistration::what_fr;
use crate::web::session::Flash;
use crate::web::state::AppState;

fn request_cells(state: &AppState, r: &Preregistration) -> Markup {
    let tz = state.tz();
    html! {
        td data-label="Enfant" { (r.first_name) " " (r.last_name) @if r.child.is_none() { " (nouvel enfant)" } }
        td data-label="Demande" { (what_fr(state, r.service.as_deref())) }
        td data-label="Année" { (r.school_year) }
        td data-label="Reçue le" { (r.created_at.with_timezone(&tz).format("%d/%m/%Y %H:%M")) }
        td data-label="Commentaire" { (r.comment) }
    }
}

/// GET /mairie/preinscriptions
pub async fn get(State(state): State<AppState>, s: StaffSession) -> Result<Response, WebError> {
    let all = state.store().preregistrations_for_staff().await?;
    let (pending, decided): (Vec<_>, Vec<_>) =
        all.iter().partition(|r| r.status == PreregStatus::Pending);
    let tz = state.tz();
    let body = html! {
        h1 { "Préinscriptions" }
        h2 { "Demandes à traiter" }
        @if pending.is_empty() { p { "Aucune demande en attente." } }
        @else {
            table.list.stack.preregistrations {
                thead { tr { th scope="col" { "Enfant" } th scope="col" { "Demande" } th scope="col" { "Année" } th scope="col" { "Reçue le" } th scope="col" { "Commentaire" } th scope="col" { "Décision" } } }
                tbody {
                    @for r in &pending {
                        tr {
                            (request_cells(&state, r))
                            td data-label="Décision" {
                                form method="post" action=(format!("/mairie/preinscriptions/{}", r.id.0)) {
                                    (csrf_field(&s.data.csrf))
                                    label for=(format!("reason-{}", r.id.0)) { "Motif (obligatoire pour un refus)" }
                                    input id=(format!("reason-{}", r.id.0)) name="reason" maxlength=(MAX_REASON_CHARS);
                                    button type="submit" name="decision" value="accepter" { "Accepter" }
                                    " "
                                    button.secondary type="submit" name="decision" value="refuser" { "Refuser" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Demandes traitées" }
        @if decided.is_empty() { p { "Aucune demande traitée." } }
        @else {
            table.list.stack.preregistrations {
                thead { tr { th scope="col" { "Enfant" } th scope="col" { "Demande" } th scope="col" { "Année" } th scope="col" { "Reçue le" } th scope="col" { "Commentaire" } th scope="col" { "Décision" } th scope="col" { "Motif" } } }
                tbody {
                    @for r in &decided {
                        tr {
                            (request_cells(&state, r))
                            td data-label="Décision" {
                                (r.status.label_fr())
                                @if let Some(at) = r.decided_at { " le " (at.with_timezone(&tz).format("%d/%m/%Y")) }
                                @if let Some(by) = &r.decided_by { " par " (by) }
                                @if let Some(done) = r.outcome() { " : " strong { (done.label_fr()) } }
                            }
                            td data-label="Motif" { (r.staff_reason) }
                        }
                    }
                }
            }
        }
    };
    Ok(staff_page(
        &state,
        &s,
        StaffTab::Preregistrations,
        "Préinscriptions",
        body,
    )
    .await?
    .into_response())
}

/// The decision form.
#[derive(Deserialize)]
pub struct DecisionForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

/// POST /mairie/preinscriptions/{id}: accepts or refuses a pending request, once.
pub async fn decide(
    State(state): State<AppState>,
    s: StaffSession,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let decision = match form.decision.as_str() {
        "accepter" => PreregDecision::Accept,
        "refuser" => PreregDecision::Refuse,
        _ => {
            return Err(WebError::BadRequest(
                "choisissez accepter ou refuser".to_owned(),
            ));
        }
    };
    let done = preregistrations::decide(
        state.store(),
        PreregistrationId(id),
        decision,
        &form.reason,
        &s.user,
        state.now(),
    )
    .await?;
    let flash = if done {
        tracing::info!(user = %s.user, id, decision = decision.status().as_str(), "pre-registration decided");
        Flash::Notice(format!("Demande {}.", decision.status().label_fr()))
    } else {
        Flash::Error(
            "Cette demande a déjà été traitée ou n'existe pas : rien n'a changé.".to_owned(),
        )
    };
    state.sessions().set_flash(&s.id, flash).await?;
    Ok(Redirect::to("/mairie/preinscriptions").into_response())
}
