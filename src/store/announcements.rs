//! The town's recorded announcements (`announcements` table): rows in, rows out. Which one
//! plays is [`Validity::plays_on`], applied by `crate::service::announcements`.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::{Store, StoreError, Topic, on_pool};

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

/// An announcement to store: its 8 kHz mono 16-bit WAV and what the staff page shows.
#[derive(Debug, Clone, Copy)]
pub struct NewAnnouncement<'a> {
    /// The WAV file.
    pub wav: &'a [u8],
    /// Its length.
    pub duration_ms: i64,
    /// Its label.
    pub label: &'a str,
    /// Who made it (a staff login, or the phone's recorder).
    pub by: &'a str,
    /// When.
    pub at: DateTime<Utc>,
    /// Dates and switch.
    pub validity: Validity,
}

impl Store {
    /// Stores an announcement and returns its id.
    pub async fn insert_announcement(
        &self,
        new: &NewAnnouncement<'_>,
    ) -> Result<AnnouncementId, StoreError> {
        let id: i64 = on_pool!(self, p => sqlx::query_scalar(
            "INSERT INTO announcements \
             (wav, duration_ms, label, uploaded_by, uploaded_at, valid_from, valid_until, enabled) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(new.wav)
        .bind(new.duration_ms)
        .bind(new.label)
        .bind(new.by)
        .bind(new.at)
        .bind(new.validity.from)
        .bind(new.validity.until)
        .bind(new.validity.enabled)
        .fetch_one(p)
        .await?);
        self.changed_here(Topic::Announcements);
        Ok(AnnouncementId(id))
    }

    /// Every announcement, newest first, without audio.
    pub async fn announcements(&self) -> Result<Vec<Announcement>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT id, label, duration_ms, uploaded_by, uploaded_at, valid_from, \
                 valid_until, enabled FROM announcements ORDER BY id DESC",
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

    /// The validity of every enabled announcement, newest first: what the voice line reads
    /// at each call, a few small columns (the audio is read only when the choice changed).
    pub async fn enabled_announcement_validities(
        &self,
    ) -> Result<Vec<(AnnouncementId, Validity)>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT id, valid_from, valid_until FROM announcements \
                 WHERE enabled = $1 ORDER BY id DESC",
            )
            .bind(true)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((
                    AnnouncementId(row.try_get("id")?),
                    Validity {
                        from: row.try_get("valid_from")?,
                        until: row.try_get("valid_until")?,
                        enabled: true,
                    },
                ));
            }
            Ok(out)
        })
    }

    /// Changes an announcement's dates and switch; false if there is no such announcement.
    pub async fn set_announcement_validity(
        &self,
        id: AnnouncementId,
        validity: Validity,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, p => sqlx::query(
            "UPDATE announcements SET valid_from = $1, valid_until = $2, enabled = $3 \
             WHERE id = $4",
        )
        .bind(validity.from)
        .bind(validity.until)
        .bind(validity.enabled)
        .bind(id.0)
        .execute(p)
        .await?
        .rows_affected());
        self.changed_here(Topic::Announcements);
        Ok(n == 1)
    }

    /// The stored (converted) WAV of an announcement.
    pub async fn announcement_wav(
        &self,
        id: AnnouncementId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let v: Option<Vec<u8>> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT wav FROM announcements WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(p)
        .await?);
        Ok(v)
    }
}
