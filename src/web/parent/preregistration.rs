//! "Préinscription": a parent asks to register a child (one of theirs, or one the town
//! does not know yet) for a service or a whole school year, and follows the staff's answer.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::parent_page;
use crate::booking::model::ChildId;
use crate::service::preregistrations::{
    self, ForChild, MAX_COMMENT_CHARS, MAX_NAME_CHARS, PreregRefused, Request, school_years,
};
use crate::web::error::WebError;
use crate::web::extract::ParentSession;
use crate::web::layout::{ParentTab, csrf_field};
use crate::web::state::AppState;

/// The form's value for "the whole school year" instead of one service.
const WHOLE_YEAR: &str = "annee";
/// The form's value for a child not yet known to the town.
const NEW_CHILD: &str = "nouveau";

/// What a request asks for, in French.
pub(crate) fn what_fr(state: &AppState, service: Option<&str>) -> String {
    match service {
        None => "toute l'année scolaire".to_owned(),
        Some(code) => state
            .services()
            .into_iter()
            .find(|(c, _)| c.to_string() == code)
            .map(|(_, label)| label)
            .unwrap_or_else(|| code.to_owned()),
    }
}

/// GET /preinscription
pub async fn get(State(state): State<AppState>, s: ParentSession) -> Result<Response, WebError> {
    let children = state.service().children(s.payer).await?;
    let requests = state.store().preregistrations_of(s.payer).await?;
    let years = school_years(state.today());
    let tz = state.tz();
    let body = html! {
        h1 { "Préinscription" }
        p { "Demandez l'inscription d'un enfant à un service ou pour une année scolaire. La mairie étudie votre demande et vous répond ici." }
        form.card method="post" action="/preinscription" {
            (csrf_field(&s.data.csrf))
            label for="child" { "Enfant" }
            select id="child" name="child" {
                @for c in &children {
                    option value=(c.id.0) { (c.first_name) " " (c.last_name) }
                }
                option value=(NEW_CHILD) { "Un autre enfant (précisez son prénom et son nom)" }
            }
            label for="first_name" { "Prénom (nouvel enfant)" }
            input id="first_name" name="first_name" maxlength=(MAX_NAME_CHARS);
            label for="last_name" { "Nom (nouvel enfant)" }
            input id="last_name" name="last_name" maxlength=(MAX_NAME_CHARS);
            label for="service" { "Demande" }
            select id="service" name="service" {
                option value=(WHOLE_YEAR) { "Toute l'année scolaire" }
                @for (code, label) in state.services() {
                    option value=(code.to_string()) { (label) }
                }
            }
            label for="school_year" { "Année scolaire" }
            select id="school_year" name="school_year" {
                @for y in &years {
                    option value=(y) selected[y == &years[1]] { (y) }
                }
            }
            label for="comment" { "Commentaire (facultatif)" }
            textarea id="comment" name="comment" maxlength=(MAX_COMMENT_CHARS) {}
            button type="submit" { "Envoyer la demande" }
        }
        h2 { "Vos demandes" }
        @if requests.is_empty() { p { "Vous n'avez fait aucune demande." } }
        @else {
            table.list.stack.preregistrations {
                thead { tr { th scope="col" { "Enfant" } th scope="col" { "Demande" } th scope="col" { "Année" } th scope="col" { "Envoyée le" } th scope="col" { "État" } th scope="col" { "Réponse de la mairie" } } }
                tbody {
                    @for r in &requests {
                        tr {
                            td data-label="Enfant" { (r.first_name) " " (r.last_name) }
                            td data-label="Demande" { (what_fr(&state, r.service.as_deref())) }
                            td data-label="Année" { (r.school_year) }
                            td data-label="Envoyée le" { (r.created_at.with_timezone(&tz).format("%d/%m/%Y")) }
                            td data-label="État" { (r.status.label_fr()) }
                            td data-label="Réponse de la mairie" {
                                (r.staff_reason)
                                @if r.created_child.is_some() {
                                    @if !r.staff_reason.is_empty() { br; }
                                    "Enfant inscrit : son code enfant est affiché à la page "
                                    a href="/enfants" { "« Choisir un autre enfant »" } "."
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(parent_page(
        &state,
        &s,
        Some(ParentTab::Preregistration),
        "Préinscription",
        body,
    )
    .into_response())
}

/// The request form.
#[derive(Deserialize)]
pub struct PreregForm {
    csrf: String,
    child: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    service: String,
    school_year: String,
    #[serde(default)]
    comment: String,
}

/// POST /preinscription: checks everything, then stores one pending request.
pub async fn post(
    State(state): State<AppState>,
    s: ParentSession,
    Form(form): Form<PreregForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let child = if form.child.trim() == NEW_CHILD {
        ForChild::New {
            first_name: &form.first_name,
            last_name: &form.last_name,
        }
    } else {
        let id: i64 = form
            .child
            .trim()
            .parse()
            .map_err(|_| WebError::from(PreregRefused::NotYourChild))?;
        ForChild::Known(ChildId(id))
    };
    let request = Request {
        payer: s.payer,
        child,
        service: (form.service != WHOLE_YEAR).then_some(form.service.as_str()),
        school_year: &form.school_year,
        comment: &form.comment,
    };
    let id =
        preregistrations::request(state.service(), &request, state.today(), state.now()).await?;
    tracing::info!(payer = s.payer.0, id = id.0, "pre-registration requested");
    Ok(Redirect::to("/preinscription").into_response())
}

impl From<PreregRefused> for WebError {
    fn from(e: PreregRefused) -> Self {
        match e {
            PreregRefused::Store(e) => e.into(),
            PreregRefused::Booking(e) => e.into(),
            PreregRefused::NotYourChild => WebError::NotFound(e.to_string()),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}
