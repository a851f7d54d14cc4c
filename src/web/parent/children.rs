//! "Choisir un autre enfant": the payer's children; picking one shows their planning
//! without logging in again. A child created by an accepted pre-registration shows its
//! code here (the e-mail never carries it; the page is not cached, see `web::mod`).

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::parent_page;
use crate::booking::model::ChildId;
use crate::service::preregistrations::created_child_codes;
use crate::web::error::WebError;
use crate::web::extract::ParentSession;
use crate::web::layout::csrf_field;
use crate::web::state::AppState;

/// GET /enfants
pub async fn get(State(state): State<AppState>, s: ParentSession) -> Result<Response, WebError> {
    let children = state.service().children(s.payer).await?;
    let new_codes = created_child_codes(state.store(), s.payer).await?;
    let body = html! {
        h1 { "Choisir un autre enfant" }
        p { "Sélectionnez le nom et le prénom de l'enfant dont vous voulez voir le planning." }
        ul.children {
            @for c in &children {
                li {
                    form method="post" action="/enfants" {
                        (csrf_field(&s.data.csrf))
                        input type="hidden" name="child" value=(c.id.0);
                        button type="submit" class=(if c.id == s.child { "secondary" } else { "" }) {
                            (c.first_name) " " (c.last_name)
                        }
                        " " (c.class_line())
                        @if c.id == s.child { " (affiché actuellement)" }
                    }
                    @if let Some((_, code)) = new_codes.iter().find(|(id, _)| *id == c.id) {
                        p.child-code {
                            "Nouvel enfant inscrit : son code enfant est "
                            strong { (code.expose()) }
                            ". Avec votre code payeur, il permet de réserver sur le portail et par téléphone."
                        }
                    }
                }
            }
        }
        p { a href="/planning" { "← Retour au planning" } }
    };
    Ok(parent_page(&state, &s, None, "Choisir un autre enfant", body).into_response())
}

/// The choice.
#[derive(Deserialize)]
pub struct ChildForm {
    csrf: String,
    child: String,
}

/// POST /enfants: switch to a child of the same payer (any other id is refused).
pub async fn post(
    State(state): State<AppState>,
    s: ParentSession,
    Form(form): Form<ChildForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let unknown = || WebError::NotFound("cet enfant n'est pas rattaché à votre compte".to_owned());
    let id: i64 = form.child.trim().parse().map_err(|_| unknown())?;
    let child = state
        .service()
        .child(s.payer, ChildId(id))
        .await?
        .ok_or_else(unknown)?;
    state.sessions().set_child(&s.id, child.id).await?;
    Ok(Redirect::to("/planning").into_response())
}
