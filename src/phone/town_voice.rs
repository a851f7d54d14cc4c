//! The town's own voice on the line: the recordings staff stored in place of shipped
//! prompts ([`crate::service::voice`]) merged over the shipped library.
//!
//! Several nodes may share one PostgreSQL database, so the recordings live there and each
//! node finds a change by itself: at the start of each call it reads the one-row change
//! counter (no audio), and only when it moved reads and decodes the rows it has not seen,
//! once for every codec, then swaps a whole new library in. Calls in progress keep the
//! library they started with; the next call on every node hears the change. Nothing is
//! done per RTP packet.
//!
//! On PostgreSQL a change is also pushed ([`Store::change_generation`]): the counter is
//! read only after a notice, or while notices are not heard, so a call reads nothing when
//! nothing changed. On SQLite the counter is read at each call: `ivr web` may be another
//! process on the same file, and nothing pushes its changes here.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use thiserror::Error;
use tracing::{info, warn};

use crate::media::{MediaError, Prompt, PromptLibrary, SharedPrompts};
use crate::phone::announcement::ANNOUNCEMENT_PROMPT;
use crate::store::{Store, StoreError, Topic};

/// Why the town's recordings could not be read (the call goes on with the library it has).
#[derive(Debug, Error)]
pub enum TownVoiceError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored recording could not be decoded.
    #[error("message « {id} » de la mairie illisible : {source}")]
    Media {
        /// The prompt id.
        id: String,
        /// Why.
        source: MediaError,
    },
    /// The decoding task stopped (the server is stopping).
    #[error("décodage des messages de la mairie interrompu")]
    Interrupted,
}

/// No version seen yet: the first call reads the table.
const UNSEEN: i64 = -1;
/// No change generation checked yet (generations count up from 0 and never reach it).
const UNCHECKED: u64 = u64::MAX;

/// The shipped library, the town's decoded recordings and the library built from both.
pub struct TownVoice {
    store: Store,
    prompts: Arc<SharedPrompts>,
    /// The prompts of the files (and the beep), as last loaded or reloaded.
    shipped: ArcSwap<PromptLibrary>,
    /// The town's recordings decoded, by prompt id, with the version of their row.
    decoded: Mutex<HashMap<String, (i64, Arc<Prompt>)>>,
    /// The change counter the current library was built for.
    seen: AtomicI64,
    /// The change generation at which the counter was last read and the library was
    /// found up to date (PostgreSQL).
    checked: AtomicU64,
    /// How many times the counter was read.
    version_reads: AtomicU64,
    /// One rebuild at a time: calls starting together after a change decode it once.
    refreshing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for TownVoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TownVoice")
            .field("seen", &self.seen.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl TownVoice {
    /// The town's recordings of `store` over `prompts`, whose library now is the shipped one.
    pub fn new(store: Store, prompts: Arc<SharedPrompts>) -> Self {
        let shipped = ArcSwap::new(prompts.current());
        Self {
            store,
            prompts,
            shipped,
            decoded: Mutex::new(HashMap::new()),
            seen: AtomicI64::new(UNSEEN),
            checked: AtomicU64::new(UNCHECKED),
            version_reads: AtomicU64::new(0),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// How many times [`TownVoice::refresh`] read the change counter; for tests and logs.
    pub fn version_reads(&self) -> u64 {
        self.version_reads.load(Ordering::Relaxed)
    }

    /// Brings the shared library up to date with the database: nothing read when no change
    /// was pushed since the last check (PostgreSQL listening), one small read when nothing
    /// changed; otherwise the changed recordings are decoded and a new library swapped in.
    pub async fn refresh(&self) -> Result<(), TownVoiceError> {
        // Taken before the read: a change committed during it moves the generation.
        let generation = self.store.change_generation(Topic::Prompts);
        if generation.is_some_and(|g| g == self.checked.load(Ordering::Acquire)) {
            return Ok(());
        }
        self.version_reads.fetch_add(1, Ordering::Relaxed);
        let version = self.store.prompt_overrides_version().await?;
        if version == self.seen.load(Ordering::Acquire) {
            self.checked_at(generation);
            return Ok(());
        }
        let _one = self.refreshing.lock().await;
        if version == self.seen.load(Ordering::Acquire) {
            // Another call rebuilt it while this one waited.
            self.checked_at(generation);
            return Ok(());
        }
        let rows = self.store.prompt_overrides().await?;
        // Cloning the map copies `Arc`s, not audio; the lock is not held across a read.
        let old = self.decoded().clone();
        let mut next: HashMap<String, (i64, Arc<Prompt>)> = HashMap::with_capacity(rows.len());
        for row in rows {
            if let Some(kept) = old.get(&row.prompt_id).filter(|(v, _)| *v == row.version) {
                next.insert(row.prompt_id, kept.clone());
                continue;
            }
            // Removed between the two reads: the next call's read sees the removal.
            let Some(wav) = self.store.prompt_override_wav(&row.prompt_id).await? else {
                continue;
            };
            let id = row.prompt_id.clone();
            // Encoding for every codec (Opus included) is CPU work: off the call's task.
            let prompt = tokio::task::spawn_blocking(move || {
                Prompt::from_wav_reader(&id, std::io::Cursor::new(wav), Path::new("<mairie>"))
            })
            .await
            .map_err(|_| TownVoiceError::Interrupted)?
            .map_err(|source| TownVoiceError::Media {
                id: row.prompt_id.clone(),
                source,
            })?;
            next.insert(row.prompt_id, (row.version, Arc::new(prompt)));
        }
        let ids = {
            let mut ids: Vec<&str> = next.keys().map(String::as_str).collect();
            ids.sort_unstable();
            ids.join(", ")
        };
        info!(version, town_prompts = %ids, "the town's prompts in use");
        *self.decoded.lock().unwrap_or_else(|e| e.into_inner()) = next;
        self.apply();
        self.seen.store(version, Ordering::Release);
        self.checked_at(generation);
        Ok(())
    }

    /// Notes that the library was up to date at `generation`. Two refreshes crossing may
    /// leave the older of their generations: the next call then reads once more, never less.
    fn checked_at(&self, generation: Option<u64>) {
        if let Some(g) = generation {
            self.checked.store(g, Ordering::Release);
        }
    }

    /// Takes a newly loaded shipped library (a reload of the files) and puts the town's
    /// recordings back over it.
    pub fn shipped_reloaded(&self, library: PromptLibrary) {
        self.shipped.store(Arc::new(library));
        self.apply();
    }

    /// The shipped library, without the town's recordings.
    pub fn shipped(&self) -> Arc<PromptLibrary> {
        self.shipped.load_full()
    }

    fn decoded(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, Arc<Prompt>)>> {
        self.decoded.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Swaps in the shipped library with every decoded recording over it. The lock is held
    /// until the swap, so that a reload of the files and a refresh, crossing, cannot leave
    /// the older of the two in place.
    fn apply(&self) {
        let decoded = self.decoded();
        let mut library = PromptLibrary::clone(&self.shipped.load());
        for (_, prompt) in decoded.values() {
            library.insert(prompt.clone());
        }
        // The announcement is no file and no override: keep the one the line holds.
        if let Some(a) = self.prompts.get(ANNOUNCEMENT_PROMPT) {
            library.insert(a);
        }
        self.prompts.replace(library);
        drop(decoded);
    }

    /// Refreshes for a call starting now; on failure the call goes on with the library
    /// the line has (the shipped prompts or the town's last known ones), and says so.
    pub async fn refresh_or_warn(&self) {
        if let Err(e) = self.refresh().await {
            warn!(error = %e, "the town's prompts could not be read; the line's current ones play");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::upload::{sine_wav, to_phone};
    use crate::store::NewPromptOverride;
    use crate::store::testing::TestDb;

    async fn upload(store: &Store, id: &str, millis: u32) {
        let audio = to_phone(&sine_wav(8_000, 1, 16, 700.0, millis)).unwrap();
        store
            .upsert_prompt_override(&NewPromptOverride {
                prompt_id: id,
                wav: &audio.wav,
                duration_ms: i64::from(millis),
                by: "amelie",
                at: chrono::DateTime::UNIX_EPOCH,
            })
            .await
            .unwrap();
    }

    fn ms(prompts: &SharedPrompts, id: &str) -> Option<u128> {
        prompts.get(id).map(|p| p.duration().as_millis())
    }

    #[tokio::test]
    async fn recordings_go_over_the_shipped_prompts_and_only_changes_are_decoded_again() {
        let db = TestDb::sqlite().await.unwrap();
        let mut shipped = PromptLibrary::new();
        for id in ["bienvenue", "menu"] {
            shipped.insert(Arc::new(
                Prompt::from_pcm(id, &[500; 4_000], 8_000).unwrap(),
            ));
        }
        let prompts = Arc::new(SharedPrompts::new(shipped.clone()));
        let voice = TownVoice::new(db.store.clone(), prompts.clone());
        voice.refresh().await.unwrap();
        assert_eq!(ms(&prompts, "bienvenue"), Some(500), "nothing recorded yet");

        upload(&db.store, "bienvenue", 300).await;
        voice.refresh().await.unwrap();
        assert_eq!(ms(&prompts, "bienvenue"), Some(300));
        assert_eq!(ms(&prompts, "menu"), Some(500));
        let first = prompts.get("bienvenue").unwrap();

        // Another prompt changes: the welcome is not decoded again (the same `Arc`).
        upload(&db.store, "menu", 200).await;
        voice.refresh().await.unwrap();
        assert_eq!(ms(&prompts, "menu"), Some(200));
        assert!(Arc::ptr_eq(&first, &prompts.get("bienvenue").unwrap()));
        // Nothing changed: nothing is rebuilt.
        let library = prompts.current();
        voice.refresh().await.unwrap();
        assert!(Arc::ptr_eq(&library, &prompts.current()));

        // Files reloaded: the recordings stay over them.
        voice.shipped_reloaded(shipped);
        assert_eq!(ms(&prompts, "bienvenue"), Some(300));
        // Removed: the shipped prompt again.
        assert!(db.store.delete_prompt_override("bienvenue").await.unwrap());
        assert!(!db.store.delete_prompt_override("bienvenue").await.unwrap());
        voice.refresh().await.unwrap();
        assert_eq!(ms(&prompts, "bienvenue"), Some(500));
        assert_eq!(ms(&prompts, "menu"), Some(200));
        assert_eq!(db.store.prompt_overrides_version().await.unwrap(), 3);
    }
}
