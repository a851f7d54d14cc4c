//! The town's message shown on the parents' login page.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::staff_page;
use crate::web::error::WebError;
use crate::web::extract::StaffSession;
use crate::web::layout::{StaffTab, csrf_field};
use crate::web::session::Flash;
use crate::web::state::AppState;

/// The longest message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// GET /mairie/message
pub async fn get(State(state): State<AppState>, s: StaffSession) -> Result<Response, WebError> {
    let message = state.service().town_message().await?.unwrap_or_default();
    let body = html! {
        h1 { "Message de la mairie" }
        p { "Ce message s'affiche sur la page de connexion des familles (texte simple ; les retours à la ligne sont conservés)." }
        form.card method="post" action="/mairie/message" {
            (csrf_field(&s.data.csrf))
            label for="message" { "Message" }
            textarea id="message" name="message" maxlength=(MAX_MESSAGE_CHARS) { (message) }
            button type="submit" { "Enregistrer le message" }
        }
        @if !message.trim().is_empty() {
            h2 { "Aperçu" }
            div.message { (message) }
        }
    };
    Ok(
        staff_page(&state, &s, StaffTab::Message, "Message de la mairie", body)
            .await?
            .into_response(),
    )
}

/// The message form.
#[derive(Deserialize)]
pub struct MessageForm {
    csrf: String,
    message: String,
}

/// POST /mairie/message
pub async fn post(
    State(state): State<AppState>,
    s: StaffSession,
    Form(form): Form<MessageForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    // Browsers send CR LF in text areas; store plain LF.
    let text = form.message.replace("\r\n", "\n");
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(WebError::BadRequest(format!(
            "le message dépasse {MAX_MESSAGE_CHARS} caractères"
        )));
    }
    state.service().set_town_message(Some(&text)).await?;
    tracing::info!(user = %s.user, "town message changed");
    state
        .sessions()
        .set_flash(&s.id, Flash::Notice("Message enregistré.".to_owned()))
        .await?;
    Ok(Redirect::to("/mairie/message").into_response())
}
