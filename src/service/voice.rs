//! The town's own voice: staff replace any prompt of the voice line's manifest by a
//! recording of their own, listen to what callers hear now, and go back to the shipped
//! prompt. One service for the web's staff page, the voice line and `ivr check`.
//!
//! An upload is checked and converted once ([`crate::media::upload`], the announcement's
//! checks) and stored in the database, not on one node's disk, so that every node of a
//! PostgreSQL installation plays it; the voice line merges the stored recordings over the
//! shipped prompts at the start of its next call (`crate::phone::town_voice`).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::dialplan::PromptManifest;
use crate::media::upload::{self, WavError};
use crate::store::{NewPromptOverride, PromptOverride, Store, StoreError};

/// Why a prompt could not be replaced, restored or played.
#[derive(Debug, Error)]
pub enum VoiceRefused {
    /// The id is no prompt of the manifest: nothing of the voice line would say it.
    #[error("« {0} » n'est pas un message du serveur vocal")]
    UnknownPrompt(String),
    /// The file is no WAV the line can use (the announcement's checks).
    #[error(transparent)]
    Wav(#[from] WavError),
    /// The prompt already is the shipped one.
    #[error("le message « {0} » est déjà celui d'origine")]
    NotReplaced(String),
    /// The shipped WAV file could not be read.
    #[error("lecture du message d'origine {path} impossible : {source}")]
    Shipped {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The conversion task stopped (the server is stopping).
    #[error("la conversion de l'enregistrement a été interrompue")]
    Interrupted,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One prompt of the voice line as the staff page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptEntry {
    /// Its number, what staff type on the staff line ([`by_number`]).
    pub number: usize,
    /// Its id (the manifest's, also the shipped file's stem).
    pub id: String,
    /// The French text the shipped prompt says.
    pub text: String,
    /// The town's recording in use instead, if any.
    pub town: Option<PromptOverride>,
}

/// What callers hear now for one prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    /// The WAV file (8 kHz mono 16-bit).
    pub wav: Vec<u8>,
    /// Whether it is the town's recording (else the shipped one).
    pub town: bool,
}

/// Refuses an id the manifest does not list.
fn known<'a>(manifest: &PromptManifest, id: &'a str) -> Result<&'a str, VoiceRefused> {
    if manifest.contains(id) {
        Ok(id)
    } else {
        Err(VoiceRefused::UnknownPrompt(id.to_owned()))
    }
}

/// Every prompt of the manifest, in id order, with the town's recording where there is one.
pub async fn list(
    store: &Store,
    manifest: &PromptManifest,
) -> Result<Vec<PromptEntry>, StoreError> {
    let mut town: std::collections::HashMap<String, PromptOverride> = store
        .prompt_overrides()
        .await?
        .into_iter()
        .map(|o| (o.prompt_id.clone(), o))
        .collect();
    Ok(manifest
        .ids()
        .enumerate()
        .map(|(i, id)| PromptEntry {
            number: i + 1,
            id: id.to_owned(),
            text: manifest.text(id).unwrap_or_default().to_owned(),
            town: town.remove(id),
        })
        .collect())
}

/// The prompt numbered `number` (from 1, in the manifest's id order, as the staff page
/// shows them): the staff line is a keypad, and a number is what it can be told.
pub fn by_number(manifest: &PromptManifest, number: usize) -> Option<&str> {
    manifest.ids().nth(number.checked_sub(1)?)
}

/// Checks the prompt id, then checks and converts `file` (any common WAV, as for the
/// announcement) and stores it as the town's recording of that prompt, sent by `by` at
/// `at`. Returns its length in milliseconds. Nothing is stored when anything is refused.
pub async fn replace(
    store: &Store,
    manifest: &PromptManifest,
    id: &str,
    file: Vec<u8>,
    by: &str,
    at: DateTime<Utc>,
) -> Result<u64, VoiceRefused> {
    let id = known(manifest, id)?;
    // Resampling a long recording is CPU work: off the async workers.
    let audio = tokio::task::spawn_blocking(move || upload::to_phone(&file))
        .await
        .map_err(|_| VoiceRefused::Interrupted)??;
    let duration_ms = audio.duration_ms();
    keep(store, manifest, id, &audio.wav, duration_ms, by, at).await?;
    Ok(duration_ms)
}

/// Stores `wav`, already in the line's format (8 kHz mono 16-bit: a recording made on the
/// staff line, or a converted upload), as the town's recording of prompt `id`.
pub async fn keep(
    store: &Store,
    manifest: &PromptManifest,
    id: &str,
    wav: &[u8],
    duration_ms: u64,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), VoiceRefused> {
    let id = known(manifest, id)?;
    store
        .upsert_prompt_override(&NewPromptOverride {
            prompt_id: id,
            wav,
            duration_ms: i64::try_from(duration_ms).unwrap_or(i64::MAX),
            by,
            at,
        })
        .await?;
    Ok(())
}

/// Goes back to the shipped prompt `id`: the town's recording is removed.
pub async fn restore(
    store: &Store,
    manifest: &PromptManifest,
    id: &str,
) -> Result<(), VoiceRefused> {
    let id = known(manifest, id)?;
    if store.delete_prompt_override(id).await? {
        Ok(())
    } else {
        Err(VoiceRefused::NotReplaced(id.to_owned()))
    }
}

/// What callers hear now for `id`: the town's recording, else the shipped file.
pub async fn heard(
    store: &Store,
    manifest: &PromptManifest,
    id: &str,
) -> Result<Heard, VoiceRefused> {
    let id = known(manifest, id)?;
    if let Some(wav) = store.prompt_override_wav(id).await? {
        return Ok(Heard { wav, town: true });
    }
    let path = manifest.wav_path(id);
    match tokio::fs::read(&path).await {
        Ok(wav) => Ok(Heard { wav, town: false }),
        Err(source) => Err(VoiceRefused::Shipped { path, source }),
    }
}

/// The prompts the town replaced, by id (for `ivr check` and the voice line).
pub async fn town_prompts(store: &Store) -> Result<Vec<PromptOverride>, StoreError> {
    store.prompt_overrides().await
}
