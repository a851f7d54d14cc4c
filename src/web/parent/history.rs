//! "Voir les dernières modifications": the last 40 changes of the child, bookings green,
//! cancellations orange, with their channel.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::parent_page;
use crate::booking::model::Action;
use crate::service::usual_weeks::USUAL_WEEK_ACTOR;
use crate::web::error::WebError;
use crate::web::extract::ParentSession;
use crate::web::state::AppState;

/// How many changes the page lists (the seed's "40 dernières actions").
pub const HISTORY_LEN: u32 = 40;

/// GET /historique
pub async fn get(State(state): State<AppState>, s: ParentSession) -> Result<Response, WebError> {
    let child = state
        .service()
        .child(s.payer, s.child)
        .await?
        .ok_or_else(|| WebError::NotFound("enfant introuvable".to_owned()))?;
    let entries = state.service().history(s.child, HISTORY_LEN).await?;
    let services = state.services();
    let tz = state.tz();
    let body = html! {
        h1 { "Dernières modifications – " (child.first_name) " " (child.last_name) }
        p { a href="/planning" { "← Retour au planning" } }
        @if entries.is_empty() { p { "Aucune modification enregistrée." } }
        @else {
            ul.history {
                @for e in &entries {
                    @let (class, arrow) = match e.action { Action::Book => ("book", "➜"), Action::Cancel => ("cancel", "⬅") };
                    @let label = services.iter().find(|(c, _)| c == &e.service).map(|(_, l)| l.clone()).unwrap_or_else(|| e.service.to_string());
                    li class=(class) {
                        span.arrow aria-hidden="true" { (arrow) " " }
                        strong { (e.action.as_str()) } ", " (e.date.format("%d/%m/%Y")) ", " (label)
                        " – par " (e.channel.label_fr())
                        @if e.actor == USUAL_WEEK_ACTOR { " (semaine type)" }
                        ", le " (e.at.with_timezone(&tz).format("%d/%m/%Y à %Hh%M"))
                    }
                }
            }
        }
    };
    Ok(parent_page(&state, &s, None, "Dernières modifications", body).into_response())
}
