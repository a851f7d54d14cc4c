//! The recorded announcement: upload (any common WAV, checked and converted to the phone's
//! 8 kHz mono 16-bit once), listen, validity dates and on/off switch. The voice line reads
//! [`crate::service::announcements::active_id`] at each call, so the change needs no restart.

use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use maud::html;
use serde::Deserialize;

use super::staff_page;
use crate::media::upload;
use crate::service::announcements::{self, AnnouncementRefused};
use crate::store::{AnnouncementId, NewAnnouncement, Validity};
use crate::web::error::WebError;
use crate::web::extract::StaffSession;
use crate::web::layout::{StaffTab, csrf_field};
use crate::web::session::Flash;
use crate::web::state::AppState;

/// GET /mairie/annonce
pub async fn get(State(state): State<AppState>, s: StaffSession) -> Result<Response, WebError> {
    let list = state.store().announcements().await?;
    let current = announcements::active_id(state.store(), state.today()).await?;
    let csrf = &s.data.csrf;
    let body = html! {
        h1 { "Annonce vocale" }
        p { "L'annonce enregistrée est jouée sur le serveur vocal après le message d'accueil, dès l'appel suivant. "
            "Envoyez un fichier WAV (toute fréquence courante, mono ou stéréo) : il est converti au format téléphonique (8 kHz, mono)." }
        form.card method="post" action="/mairie/annonce" enctype="multipart/form-data" {
            (csrf_field(csrf))
            label for="label" { "Titre de l'annonce" }
            input type="text" id="label" name="label" maxlength="200" placeholder="Ex. : pont de l'Ascension";
            label for="file" { "Fichier WAV" }
            input type="file" id="file" name="file" accept=".wav,audio/wav,audio/x-wav" required;
            label for="valid_from" { "Diffusée à partir du (facultatif)" }
            input type="date" id="valid_from" name="valid_from";
            label for="valid_until" { "Jusqu'au (inclus, facultatif)" }
            input type="date" id="valid_until" name="valid_until";
            fieldset {
                legend { "Diffusion" }
                label { input type="checkbox" name="enabled" value="1" checked; " Activer cette annonce" }
            }
            button type="submit" { "Envoyer l'annonce" }
        }
        h2 { "Annonces enregistrées" }
        @if list.is_empty() { p { "Aucune annonce enregistrée : le serveur vocal passe directement à la saisie des codes." } }
        @for a in &list {
            section.card aria-label=(format!("Annonce {}", a.label)) {
                h3 {
                    (a.label)
                    @if Some(a.id) == current { " – " strong { "en service aujourd'hui" } }
                }
                p {
                    (format!("{},{} s", a.duration_ms / 1000, (a.duration_ms % 1000) / 100))
                    " · envoyée par " (a.uploaded_by) " le "
                    (a.uploaded_at.with_timezone(&state.tz()).format("%d/%m/%Y à %Hh%M"))
                }
                audio controls preload="none" src=(format!("/mairie/annonce/{}/ecouter.wav", a.id.0)) {}
                p { a href=(format!("/mairie/annonce/{}/ecouter.wav", a.id.0)) { "Écouter (fichier WAV)" } }
                form method="post" action=(format!("/mairie/annonce/{}", a.id.0)) {
                    (csrf_field(csrf))
                    label for=(format!("from-{}", a.id.0)) { "Du" }
                    input type="date" id=(format!("from-{}", a.id.0)) name="valid_from"
                        value=(a.validity.from.map(|d| d.to_string()).unwrap_or_default());
                    label for=(format!("until-{}", a.id.0)) { "Au" }
                    input type="date" id=(format!("until-{}", a.id.0)) name="valid_until"
                        value=(a.validity.until.map(|d| d.to_string()).unwrap_or_default());
                    fieldset {
                        legend { "Diffusion" }
                        label { input type="checkbox" name="enabled" value="1" checked[a.validity.enabled]; " Activée" }
                    }
                    button.secondary type="submit" { "Mettre à jour" }
                }
            }
        }
    };
    Ok(
        staff_page(&state, &s, StaffTab::Announcement, "Annonce vocale", body)
            .await?
            .into_response(),
    )
}

/// Reads an optional `<input type=date>` value.
pub(crate) fn opt_date(s: &str, what: &str) -> Result<Option<NaiveDate>, WebError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    crate::web::url_date::parse(s).map(Some).ok_or_else(|| {
        WebError::BadRequest(format!("date « {what} » invalide (attendu AAAA-MM-JJ)"))
    })
}

impl From<AnnouncementRefused> for WebError {
    fn from(e: AnnouncementRefused) -> Self {
        match e {
            AnnouncementRefused::EndBeforeStart => WebError::BadRequest(e.to_string()),
            AnnouncementRefused::Unknown => WebError::NotFound(e.to_string()),
            AnnouncementRefused::Store(e) => e.into(),
        }
    }
}

/// POST /mairie/annonce (multipart): checks, converts and stores a new announcement.
pub async fn upload(
    State(state): State<AppState>,
    s: StaffSession,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let (mut csrf, mut label, mut file, mut from, mut until, mut enabled) = (
        String::new(),
        String::new(),
        None::<(String, Vec<u8>)>,
        String::new(),
        String::new(),
        false,
    );
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            WebError::TooLarge
        } else {
            WebError::BadRequest("formulaire d'envoi illisible".to_owned())
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                let fname = field.file_name().unwrap_or("annonce.wav").to_owned();
                file = Some((fname, field.bytes().await.map_err(bad)?.to_vec()));
            }
            "csrf" => csrf = field.text().await.map_err(bad)?,
            "label" => label = field.text().await.map_err(bad)?,
            "valid_from" => from = field.text().await.map_err(bad)?,
            "valid_until" => until = field.text().await.map_err(bad)?,
            "enabled" => enabled = !field.text().await.map_err(bad)?.is_empty(),
            _ => {}
        }
    }
    s.check_csrf(&csrf)?;
    let validity = Validity {
        from: opt_date(&from, "du")?,
        until: opt_date(&until, "au")?,
        enabled,
    };
    let Some((fname, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(WebError::BadRequest("aucun fichier envoyé".to_owned()));
    };
    let audio = match tokio::task::spawn_blocking(move || upload::to_phone(&bytes))
        .await
        .map_err(|e| WebError::Internal(format!("wav task: {e}")))?
    {
        Ok(a) => a,
        Err(e) => {
            state
                .sessions()
                .set_flash(&s.id, Flash::Error(format!("Annonce refusée : {e}.")))
                .await?;
            return Ok(Redirect::to("/mairie/annonce").into_response());
        }
    };
    let label = if label.trim().is_empty() {
        fname
    } else {
        label.trim().to_owned()
    };
    let label: String = label.chars().take(200).collect();
    let new = NewAnnouncement {
        wav: &audio.wav,
        duration_ms: audio.duration_ms() as i64,
        label: &label,
        by: &s.user,
        at: state.now(),
        validity,
    };
    let id = announcements::add(state.store(), &new).await?;
    tracing::info!(user = %s.user, id = id.0, ms = audio.duration_ms(), "announcement uploaded");
    state
        .sessions()
        .set_flash(
            &s.id,
            Flash::Notice(format!(
                "Annonce « {label} » enregistrée ({} s, convertie en 8 kHz mono).",
                audio.duration_ms() / 1000
            )),
        )
        .await?;
    Ok(Redirect::to("/mairie/annonce").into_response())
}

/// The validity form of one announcement.
#[derive(Deserialize)]
pub struct ValidityForm {
    csrf: String,
    #[serde(default)]
    valid_from: String,
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    enabled: String,
}

/// POST /mairie/annonce/{id}: dates and switch.
pub async fn set_validity(
    State(state): State<AppState>,
    s: StaffSession,
    Path(id): Path<i64>,
    Form(form): Form<ValidityForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let validity = Validity {
        from: opt_date(&form.valid_from, "du")?,
        until: opt_date(&form.valid_until, "au")?,
        enabled: !form.enabled.is_empty(),
    };
    announcements::set_validity(state.store(), AnnouncementId(id), validity).await?;
    tracing::info!(user = %s.user, id, enabled = validity.enabled, "announcement validity changed");
    state
        .sessions()
        .set_flash(&s.id, Flash::Notice("Annonce mise à jour.".to_owned()))
        .await?;
    Ok(Redirect::to("/mairie/annonce").into_response())
}

/// GET /mairie/annonce/{id}/ecouter.wav: the stored (converted) recording.
pub async fn listen(
    State(state): State<AppState>,
    _s: StaffSession,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    match state.store().announcement_wav(AnnouncementId(id)).await? {
        Some(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "audio/wav"),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            bytes,
        )
            .into_response()),
        None => Err(WebError::NotFound("cette annonce n'existe pas".to_owned())),
    }
}
