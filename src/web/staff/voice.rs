//! The town's own voice: every prompt of the voice line with its text and a player of what
//! callers hear now, an upload that replaces a prompt by the town's recording (any common
//! WAV, checked and converted like the announcement) and a button back to the shipped
//! prompt. The voice line reads the change at its next call, on every node
//! ([`crate::service::voice`]).

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::staff_page;
use crate::dialplan::PromptManifest;
use crate::service::voice::{self, VoiceRefused};
use crate::web::error::WebError;
use crate::web::extract::StaffSession;
use crate::web::layout::{StaffTab, csrf_field};
use crate::web::session::Flash;
use crate::web::state::AppState;

/// Where the page is.
const PAGE: &str = "/mairie/voix";

/// The longest text shown in the upload form's list (the full text is in the prompt's card).
const CHOICE_CHARS: usize = 60;

impl From<VoiceRefused> for WebError {
    fn from(e: VoiceRefused) -> Self {
        match e {
            VoiceRefused::UnknownPrompt(_) | VoiceRefused::NotReplaced(_) => {
                WebError::BadRequest(e.to_string())
            }
            VoiceRefused::Wav(_) => WebError::BadRequest(format!("Enregistrement refusé : {e}.")),
            VoiceRefused::Store(e) => e.into(),
            VoiceRefused::Shipped { .. } | VoiceRefused::Interrupted => {
                WebError::Internal(e.to_string())
            }
        }
    }
}

/// The prompts this portal knows, or a clear refusal when it was started without them.
fn manifest(state: &AppState) -> Result<&PromptManifest, WebError> {
    state.voice().ok_or_else(|| {
        WebError::NotFound(
            "les messages du serveur vocal ne sont pas chargés sur ce serveur".into(),
        )
    })
}

/// `?message=`: the prompt the upload form offers first (a card's "Remplacer" link).
#[derive(Debug, Deserialize)]
pub struct Chosen {
    #[serde(default)]
    message: Option<String>,
}

/// The `id` of a prompt card, for the "Remplacer" link's way back.
fn anchor(id: &str) -> String {
    format!("message-{id}")
}

/// The first `n` characters of `text`, with an ellipsis when cut.
fn shortened(text: &str, n: usize) -> String {
    let mut out: String = text.chars().take(n).collect();
    if text.chars().count() > n {
        out.push('…');
    }
    out
}

/// GET /mairie/voix
pub async fn get(
    State(state): State<AppState>,
    s: StaffSession,
    Query(q): Query<Chosen>,
) -> Result<Response, WebError> {
    let title = "Voix du serveur vocal";
    let Some(manifest) = state.voice() else {
        let body = html! {
            h1 { (title) }
            p { "Les messages du serveur vocal ne sont pas chargés sur ce serveur : "
                "vérifiez le réglage « [dialplan] prompts_dir »." }
        };
        return Ok(staff_page(&state, &s, StaffTab::Voice, title, body)
            .await?
            .into_response());
    };
    let entries = voice::list(state.store(), manifest).await?;
    let town = entries.iter().filter(|e| e.town.is_some()).count();
    let chosen = q.message.as_deref().filter(|id| manifest.contains(id));
    let csrf = &s.data.csrf;
    let body = html! {
        h1 { (title) }
        p { "Chaque message du serveur vocal peut être dit par la voix de la mairie : envoyez un "
            "enregistrement WAV (toute fréquence courante, mono ou stéréo), il est converti au "
            "format téléphonique (8 kHz, mono) et joué dès l'appel suivant, sur tous les serveurs. "
            "Le message d'origine reste disponible. Sur la ligne de la mairie, après le code "
            "personnel, la touche 2 enregistre un message par téléphone : tapez son numéro." }
        p { (summary(town, entries.len())) }
        form.card #envoi method="post" action=(PAGE) enctype="multipart/form-data" {
            h2 { "Remplacer un message" }
            (csrf_field(csrf))
            label for="prompt" { "Message" }
            select #prompt name="prompt" required {
                @for e in &entries {
                    option value=(e.id) selected[chosen == Some(e.id.as_str())] {
                        (e.id) " – " (shortened(&e.text, CHOICE_CHARS))
                    }
                }
            }
            label for="file" { "Enregistrement (fichier WAV)" }
            input type="file" id="file" name="file" accept=".wav,audio/wav,audio/x-wav" required;
            button type="submit" { "Envoyer l'enregistrement" }
        }
        // The town's recordings first: what staff come back to check or undo.
        @if town > 0 {
            h2 { "Dits par la mairie" }
            div.prompts {
                @for e in entries.iter().filter(|e| e.town.is_some()) { (card(&state, csrf, e)) }
            }
        }
        h2 { "Voix d'origine" }
        div.prompts {
            @for e in entries.iter().filter(|e| e.town.is_none()) { (card(&state, csrf, e)) }
        }
    };
    Ok(staff_page(&state, &s, StaffTab::Voice, title, body)
        .await?
        .into_response())
}

/// "3 messages sur 95 sont dits par la mairie."
fn summary(town: usize, all: usize) -> String {
    match town {
        0 => format!("Les {all} messages sont ceux d'origine."),
        1 => format!("1 message sur {all} est dit par la mairie."),
        n => format!("{n} messages sur {all} sont dits par la mairie."),
    }
}

/// One prompt: its text, whose voice it is, a player, and the way back to the shipped one.
fn card(state: &AppState, csrf: &str, e: &voice::PromptEntry) -> Markup {
    let listen = format!("{PAGE}/{}/ecouter.wav", e.id);
    html! {
        section.card id=(anchor(&e.id)) aria-labelledby=(format!("titre-{}", e.id)) {
            // Ids are long words of `_`: let them break on a phone.
            h3.prompt-id id=(format!("titre-{}", e.id)) {
                "n° " (e.number) " · " (e.id) " – "
                @if e.town.is_some() { strong { "voix de la mairie" } } @else { "voix d'origine" }
            }
            p { "« " (e.text) " »" }
            @if let Some(t) = &e.town {
                p.muted {
                    (format!("{},{} s", t.duration_ms / 1000, (t.duration_ms % 1000) / 100))
                    " · envoyé par " (t.uploaded_by) " le "
                    (t.uploaded_at.with_timezone(&state.tz()).format("%d/%m/%Y à %Hh%M"))
                }
            }
            audio controls preload="none" src=(listen)
                aria-label=(format!("Écouter le message {} tel que les appelants l'entendent", e.id)) {}
            p {
                a href=(listen) { "Écouter (fichier WAV)" }
                " · "
                a href=(format!("{PAGE}?message={}#envoi", e.id)) { "Remplacer ce message" }
            }
            @if e.town.is_some() {
                form method="post" action=(format!("{PAGE}/{}/origine", e.id)) {
                    (csrf_field(csrf))
                    button.secondary type="submit" { "Revenir au message d'origine" }
                }
            }
        }
    }
}

/// POST /mairie/voix (multipart): the prompt id and the recording that replaces it.
pub async fn upload(
    State(state): State<AppState>,
    s: StaffSession,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let manifest = manifest(&state)?;
    let (mut csrf, mut prompt, mut file) = (String::new(), String::new(), Vec::new());
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            WebError::TooLarge
        } else {
            WebError::BadRequest("formulaire d'envoi illisible".to_owned())
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or("") {
            "file" => file = field.bytes().await.map_err(bad)?.to_vec(),
            "csrf" => csrf = field.text().await.map_err(bad)?,
            "prompt" => prompt = field.text().await.map_err(bad)?,
            _ => {}
        }
    }
    s.check_csrf(&csrf)?;
    let prompt = prompt.trim().to_owned();
    if !manifest.contains(&prompt) {
        return Err(VoiceRefused::UnknownPrompt(prompt).into());
    }
    let back = format!("{PAGE}#{}", anchor(&prompt));
    if file.is_empty() {
        state
            .sessions()
            .set_flash(
                &s.id,
                Flash::Error("Aucun fichier envoyé : choisissez un enregistrement WAV.".into()),
            )
            .await?;
        return Ok(Redirect::to(&back).into_response());
    }
    match voice::replace(state.store(), manifest, &prompt, file, &s.user, state.now()).await {
        Ok(ms) => {
            tracing::info!(user = %s.user, prompt = %prompt, ms, "prompt replaced by the town's recording");
            state.sessions().set_flash(
                &s.id,
                Flash::Notice(format!(
                    "Message « {prompt} » remplacé par votre enregistrement ({},{} s, converti en \
                     8 kHz mono) : les appels suivants l'entendent.",
                    ms / 1000,
                    (ms % 1000) / 100
                )),
            ).await?;
        }
        Err(e @ VoiceRefused::Wav(_)) => {
            // A file staff can fix: said on the page, as for the announcement.
            state
                .sessions()
                .set_flash(&s.id, Flash::Error(format!("Enregistrement refusé : {e}.")))
                .await?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&back).into_response())
}

/// The "back to the shipped prompt" form.
#[derive(Deserialize)]
pub struct RestoreForm {
    csrf: String,
}

/// POST /mairie/voix/{id}/origine: the shipped prompt plays again.
pub async fn restore(
    State(state): State<AppState>,
    s: StaffSession,
    Path(id): Path<String>,
    Form(form): Form<RestoreForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let manifest = manifest(&state)?;
    voice::restore(state.store(), manifest, &id).await?;
    tracing::info!(user = %s.user, prompt = %id, "prompt back to the shipped one");
    state
        .sessions()
        .set_flash(
            &s.id,
            Flash::Notice(format!(
                "Message « {id} » : la voix d'origine est de retour dès l'appel suivant."
            )),
        )
        .await?;
    Ok(Redirect::to(&format!("{PAGE}#{}", anchor(&id))).into_response())
}

/// GET /mairie/voix/{id}/ecouter.wav: what callers hear now for that prompt.
pub async fn listen(
    State(state): State<AppState>,
    _s: StaffSession,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let manifest = manifest(&state)?;
    let heard = voice::heard(state.store(), manifest, &id)
        .await
        .map_err(|e| match e {
            VoiceRefused::UnknownPrompt(_) => WebError::NotFound(e.to_string()),
            other => other.into(),
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        heard.wav,
    )
        .into_response())
}
