//! The town's recorded announcement as the voice line plays it.
//!
//! Storage and the choice of the active one are [`crate::service::announcements`], shared
//! with the web's staff page: the newest enabled one whose validity includes today, stored
//! as an 8 kHz mono 16-bit WAV. A recording made by phone is also written as
//! a file under the data directory (an archive staff can fetch). The decoded prompt is kept
//! by id and swapped into the shared prompt library under [`ANNOUNCEMENT_PROMPT`], so the
//! next call hears a new announcement with no restart, and a call does not decode it again.
//!
//! On PostgreSQL the answer "which one is active today" is kept too, keyed by the town's
//! date and the store's change generation ([`Store::change_generation`]): a change on any
//! node is pushed, so a call reads the validities only after a change, a new day, or while
//! notices are not heard. On SQLite every call reads them (see [`crate::store::Topic`]'s
//! module: no push between the processes sharing the file).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;

use chrono::{DateTime, NaiveDate, Utc};
use thiserror::Error;

use crate::media::resample::{f32_to_i16, i16_to_f32, resample};
use crate::media::wav::{normalize_rms, write_wav};
use crate::media::{MediaError, Prompt, SharedPrompts};
use crate::service::announcements::{self, AnnouncementRefused};
use crate::store::{AnnouncementId, NewAnnouncement, Store, StoreError, Topic, Validity};

/// The prompt id under which the active announcement sits in the prompt library.
pub const ANNOUNCEMENT_PROMPT: &str = "announcement";
/// Who the stored row says recorded it (the web stores the staff login there).
pub(crate) const RECORDED_BY: &str = "téléphone (code personnel)";
/// Sample rate of stored announcements.
const RATE: u32 = 8_000;
/// A sample this loud or more is speech, not line noise (about −40 dBFS).
const SILENCE_THRESHOLD: i16 = 330;
/// Silence kept before and after the speech when trimming.
const MARGIN_SAMPLES: usize = RATE as usize / 5;
/// Shortest speech kept as an announcement.
const MIN_SPEECH_SAMPLES: usize = RATE as usize / 2;

/// Errors of the announcement storage.
#[derive(Debug, Error)]
pub enum AnnouncementError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The announcement was refused (never for a phone recording, which has no dates).
    #[error(transparent)]
    Refused(#[from] AnnouncementRefused),
    /// The file could not be written.
    #[error("écriture de l'annonce {path} impossible : {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The audio could not be decoded or encoded.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The recording holds no speech.
    #[error("l'enregistrement ne contient que du silence")]
    Silent,
}

/// The active announcement, cached by database id.
pub struct Announcements {
    store: Store,
    dir: PathBuf,
    prompts: Arc<SharedPrompts>,
    cached: Mutex<Option<(i64, Arc<Prompt>)>>,
    /// What plays on a day, as found at a change generation (PostgreSQL only).
    active: ArcSwapOption<Active>,
    /// How many times the validities were read (the cache missed).
    validity_reads: AtomicU64,
}

/// The announcement found active on `day` when the change generation was `generation`.
struct Active {
    generation: u64,
    day: NaiveDate,
    playing: Option<Arc<Prompt>>,
}

impl std::fmt::Debug for Announcements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcements")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Announcements {
    /// Announcements in `store`, recordings archived under `data_dir/announcements/`.
    pub fn new(store: Store, data_dir: &Path, prompts: Arc<SharedPrompts>) -> Self {
        Self {
            store,
            dir: data_dir.join("announcements"),
            prompts,
            cached: Mutex::new(None),
            active: ArcSwapOption::empty(),
            validity_reads: AtomicU64::new(0),
        }
    }

    fn cached(&self) -> Option<(i64, Arc<Prompt>)> {
        self.cached
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn remember(&self, id: i64, prompt: Arc<Prompt>) {
        self.prompts.upsert(prompt.clone());
        *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = Some((id, prompt));
    }

    /// How many times [`Announcements::current`] read the validities from the database (its
    /// cache missed); for tests and the logs.
    pub fn validity_reads(&self) -> u64 {
        self.validity_reads.load(Ordering::Relaxed)
    }

    /// The prompt of the announcement active on `today` (the town's date), if any. The audio
    /// is read and decoded only when the active announcement changed; the validities are
    /// read only when a change was pushed since, the day is another, or changes are not
    /// pushed (SQLite, PostgreSQL's listener disconnected).
    pub async fn current(
        &self,
        today: NaiveDate,
    ) -> Result<Option<Arc<Prompt>>, AnnouncementError> {
        // Taken before the read: a change committed during it moves the generation, and the
        // next call reads again.
        let generation = self.store.change_generation(Topic::Announcements);
        if let Some(g) = generation
            && let Some(active) = self.active.load().as_deref()
            && active.generation == g
            && active.day == today
        {
            return Ok(active.playing.clone());
        }
        let playing = self.read_current(today).await?;
        if let Some(generation) = generation {
            self.active.store(Some(Arc::new(Active {
                generation,
                day: today,
                playing: playing.clone(),
            })));
        }
        Ok(playing)
    }

    /// [`Announcements::current`] from the database.
    async fn read_current(
        &self,
        today: NaiveDate,
    ) -> Result<Option<Arc<Prompt>>, AnnouncementError> {
        self.validity_reads.fetch_add(1, Ordering::Relaxed);
        let Some(AnnouncementId(id)) = announcements::active_id(&self.store, today).await? else {
            return Ok(None);
        };
        if let Some((cached, prompt)) = self.cached()
            && cached == id
        {
            return Ok(Some(prompt));
        }
        let Some(wav) = self.store.announcement_wav(AnnouncementId(id)).await? else {
            // Deleted since it was found active: as if none were.
            return Ok(None);
        };
        let prompt = Arc::new(Prompt::from_wav_reader(
            ANNOUNCEMENT_PROMPT,
            std::io::Cursor::new(wav),
            Path::new("<announcement>"),
        )?);
        self.remember(id, prompt.clone());
        Ok(Some(prompt))
    }

    /// Keeps a prepared recording made by phone at `now`: a WAV file under the data
    /// directory, the active row of the shared table, and the prompt library, so that the
    /// next call hears it.
    pub async fn save(
        &self,
        recorded: &PreparedRecording,
        now: DateTime<Utc>,
    ) -> Result<(), AnnouncementError> {
        let samples = &recorded.samples;
        let prompt = recorded.prompt.clone();
        let mut wav = std::io::Cursor::new(Vec::new());
        write_wav(&mut wav, samples, RATE)?;
        let wav = wav.into_inner();
        let file = self
            .dir
            .join(format!("annonce-{}.wav", now.format("%Y%m%dT%H%M%S%.3fZ")));
        let io = |source| AnnouncementError::Io {
            path: file.clone(),
            source,
        };
        tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
        tokio::fs::write(&file, &wav).await.map_err(io)?;
        let duration_ms = (samples.len() as u64 * 1000 / u64::from(RATE)) as i64;
        let label = format!("Enregistrée par téléphone ({})", file.display());
        let new = NewAnnouncement {
            wav: &wav,
            duration_ms,
            label: &label,
            by: RECORDED_BY,
            at: now,
            validity: Validity {
                from: None,
                until: None,
                enabled: true,
            },
        };
        let AnnouncementId(id) = announcements::add(&self.store, &new).await?;
        self.remember(id, prompt);
        Ok(())
    }
}

/// A recording made ready to play back and to keep.
#[derive(Debug, Clone)]
pub struct PreparedRecording {
    /// The normalised samples, 8 kHz mono.
    pub samples: Vec<i16>,
    /// The same, encoded for every codec.
    pub prompt: Arc<Prompt>,
}

impl PreparedRecording {
    /// Brings raw samples at `rate` to 8 kHz, normalises them ([`normalise`]) and encodes
    /// them once.
    pub fn prepare(raw: &[i16], rate: u32) -> Result<Self, AnnouncementError> {
        let at_8k;
        let raw = if rate == RATE {
            raw
        } else {
            let f: Vec<f32> = raw.iter().map(|&s| i16_to_f32(s)).collect();
            at_8k = resample(&f, rate, RATE)?
                .into_iter()
                .map(f32_to_i16)
                .collect::<Vec<i16>>();
            &at_8k
        };
        let samples = normalise(raw).ok_or(AnnouncementError::Silent)?;
        let prompt = Arc::new(Prompt::from_pcm(ANNOUNCEMENT_PROMPT, &samples, RATE)?);
        Ok(Self { samples, prompt })
    }
}

/// Trims the silence around the speech (keeping a short margin) and brings its level to
/// −20 dBFS RMS with peaks under −3 dBFS, so every announcement sounds as loud as the
/// prompts. `None` when there is not half a second of speech.
pub fn normalise(samples: &[i16]) -> Option<Vec<i16>> {
    let loud = |s: &i16| s.unsigned_abs() >= SILENCE_THRESHOLD.unsigned_abs();
    let first = samples.iter().position(loud)?;
    let last = samples.iter().rposition(loud)?;
    if last - first + 1 < MIN_SPEECH_SAMPLES {
        return None;
    }
    let start = first.saturating_sub(MARGIN_SAMPLES);
    let end = (last + 1 + MARGIN_SAMPLES).min(samples.len());
    // Remove any DC offset of the line before scaling, or the gain would amplify it.
    let slice = &samples[start..end];
    let mean = slice.iter().map(|&s| i64::from(s)).sum::<i64>() / slice.len() as i64;
    let mut out: Vec<i16> = slice
        .iter()
        .map(|&s| (i64::from(s) - mean).clamp(-32768, 32767) as i16)
        .collect();
    normalize_rms(&mut out, -20.0, -3.0);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize, amp: f32) -> Vec<i16> {
        (0..n)
            .map(|i| ((i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 8000.0).sin() * amp) as i16)
            .collect()
    }

    #[test]
    fn silence_around_is_trimmed_and_level_raised() {
        let mut s = vec![0i16; 8000];
        s.extend(tone(8000, 1000.0));
        s.extend(vec![5i16; 16000]);
        let out = normalise(&s).unwrap();
        // The tone starts and ends on quiet samples (its sine passes through zero).
        let want = 8000 + 2 * MARGIN_SAMPLES;
        assert!(out.len().abs_diff(want) <= 4, "{} samples", out.len());
        let peak = out.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(peak > 4000 && peak <= 23300, "peak {peak}");
    }

    #[test]
    fn too_short_or_silent_is_refused() {
        assert_eq!(normalise(&[0; 16000]), None);
        assert_eq!(normalise(&[]), None);
        let mut s = vec![0i16; 8000];
        s.extend(tone(1000, 8000.0));
        assert_eq!(normalise(&s), None);
    }
}
