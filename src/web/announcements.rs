//! The town's recorded announcements, played on the voice line after the welcome.
//!
//! Staff upload a WAV on the web; it is checked and converted once ([`super::wav`]) and
//! stored with its validity dates and an on/off switch. The voice line asks for
//! [`current`] at each call, so a new recording is used by the next call without restart.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::wav::PhoneAudio;
use crate::store::{Store, StoreError, on_pool};

/// Database id of an announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AnnouncementId(pub i64);

/// When and whether an announcement plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// First day it plays (none: already).
    pub from: Option<NaiveDate>,
    /// Last day it plays (none: until replaced).
    pub until: Option<NaiveDate>,
    /// The on/off switch.
    pub enabled: bool,
}

impl Validity {
    /// Whether an announcement with this validity plays on `today`.
    pub fn plays_on(&self, today: NaiveDate) -> bool {
        self.enabled
            && self.from.is_none_or(|f| f <= today)
            && self.until.is_none_or(|u| today <= u)
    }
}

/// A stored announcement, without its audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Its id.
    pub id: AnnouncementId,
    /// A label given by staff (or the uploaded file's name).
    pub label: String,
    /// Length of the converted audio.
    pub duration_ms: i64,
    /// The staff member who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: DateTime<Utc>,
    /// Dates and switch.
    pub validity: Validity,
}

/// Stores a converted announcement and returns its id.
pub async fn add(
    store: &Store,
    label: &str,
    audio: &PhoneAudio,
    by: &str,
    now: DateTime<Utc>,
    validity: Validity,
) -> Result<AnnouncementId, StoreError> {
    let id: i64 = on_pool!(store, p => sqlx::query_scalar(
        "INSERT INTO announcements \
         (wav, duration_ms, label, uploaded_by, uploaded_at, valid_from, valid_until, enabled) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(&audio.wav)
    .bind(audio.duration_ms() as i64)
    .bind(label)
    .bind(by)
    .bind(now)
    .bind(validity.from)
    .bind(validity.until)
    .bind(validity.enabled)
    .fetch_one(p)
    .await?);
    Ok(AnnouncementId(id))
}

/// Every announcement, newest first.
pub async fn list(store: &Store) -> Result<Vec<Announcement>, StoreError> {
    on_pool!(store, p => {
        let rows = sqlx::query(
            "SELECT id, label, duration_ms, uploaded_by, uploaded_at, valid_from, valid_until, \
             enabled FROM announcements ORDER BY id DESC",
        )
        .fetch_all(p)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(Announcement {
                id: AnnouncementId(row.try_get("id")?),
                label: row.try_get("label")?,
                duration_ms: row.try_get("duration_ms")?,
                uploaded_by: row.try_get("uploaded_by")?,
                uploaded_at: row.try_get("uploaded_at")?,
                validity: Validity {
                    from: row.try_get("valid_from")?,
                    until: row.try_get("valid_until")?,
                    enabled: row.try_get("enabled")?,
                },
            });
        }
        Ok(out)
    })
}

/// Changes an announcement's dates and switch; false if there is no such announcement.
pub async fn set_validity(
    store: &Store,
    id: AnnouncementId,
    validity: Validity,
) -> Result<bool, StoreError> {
    let n = on_pool!(store, p => sqlx::query(
        "UPDATE announcements SET valid_from = $1, valid_until = $2, enabled = $3 WHERE id = $4",
    )
    .bind(validity.from)
    .bind(validity.until)
    .bind(validity.enabled)
    .bind(id.0)
    .execute(p)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// The stored (converted) WAV of an announcement.
pub async fn wav(store: &Store, id: AnnouncementId) -> Result<Option<Vec<u8>>, StoreError> {
    let v: Option<Vec<u8>> = on_pool!(store, p => sqlx::query_scalar(
        "SELECT wav FROM announcements WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(p)
    .await?);
    Ok(v)
}

/// The announcement the voice line plays on `today` (the town's local date): the newest
/// enabled one whose validity includes that day; `None` when none is active. The one
/// statement of that rule, used by the staff pages and by the voice line.
pub async fn active_id(
    store: &Store,
    today: NaiveDate,
) -> Result<Option<AnnouncementId>, StoreError> {
    let id: Option<i64> = on_pool!(store, p => sqlx::query_scalar(
        "SELECT id FROM announcements WHERE enabled = $1 \
         AND (valid_from IS NULL OR valid_from <= $2) \
         AND (valid_until IS NULL OR valid_until >= $2) \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(true)
    .bind(today)
    .fetch_optional(p)
    .await?);
    Ok(id.map(AnnouncementId))
}

/// The announcement active on `today` ([`active_id`]) with its 8 kHz mono 16-bit WAV.
pub async fn current(
    store: &Store,
    today: NaiveDate,
) -> Result<Option<(AnnouncementId, Vec<u8>)>, StoreError> {
    let Some(id) = active_id(store, today).await? else {
        return Ok(None);
    };
    // Deleted between the two reads: as if none were active.
    Ok(wav(store, id).await?.map(|wav| (id, wav)))
}
