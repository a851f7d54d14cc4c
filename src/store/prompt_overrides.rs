//! The town's own recordings of the voice line's prompts (`prompt_overrides`): rows in, rows
//! out. Which ids may be replaced (those of the prompt manifest) is
//! `crate::service::voice`'s rule.
//!
//! Every change bumps the one row of `prompt_overrides_version` in the same transaction, and
//! each row keeps the version it was written at: a node of the voice line reads that one
//! value at each call and reads (and decodes) only the rows it has not seen, so several
//! nodes on one PostgreSQL database hear the same prompts from their next call on.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, Topic, on_pool, on_tx};

/// A prompt replaced by the town, without its audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptOverride {
    /// The prompt id (of the manifest).
    pub prompt_id: String,
    /// Length of the converted audio.
    pub duration_ms: i64,
    /// The staff member who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: DateTime<Utc>,
    /// The change counter's value when this row was written.
    pub version: i64,
}

/// A prompt's replacement to store: its 8 kHz mono 16-bit WAV and who sent it when.
#[derive(Debug, Clone, Copy)]
pub struct NewPromptOverride<'a> {
    /// The prompt id (checked against the manifest by the service).
    pub prompt_id: &'a str,
    /// The WAV file.
    pub wav: &'a [u8],
    /// Its length.
    pub duration_ms: i64,
    /// Who sent it (a staff login).
    pub by: &'a str,
    /// When.
    pub at: DateTime<Utc>,
}

/// The SQL that bumps the change counter and gives its new value.
const BUMP: &str = "UPDATE prompt_overrides_version SET version = version + 1 WHERE id = 1 \
                    RETURNING version";

impl Store {
    /// Stores (or replaces) the town's recording of a prompt; returns the new version.
    pub async fn upsert_prompt_override(
        &self,
        new: &NewPromptOverride<'_>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let version = on_tx!(tx, c => {
            // The counter's row first: on PostgreSQL it is the lock writers queue on, so
            // versions follow the order changes commit in.
            let version: i64 = sqlx::query_scalar(BUMP).fetch_one(&mut **c).await?;
            sqlx::query(
                "INSERT INTO prompt_overrides \
                 (prompt_id, wav, duration_ms, uploaded_by, uploaded_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (prompt_id) DO UPDATE SET wav = excluded.wav, \
                 duration_ms = excluded.duration_ms, uploaded_by = excluded.uploaded_by, \
                 uploaded_at = excluded.uploaded_at, version = excluded.version",
            )
            .bind(new.prompt_id)
            .bind(new.wav)
            .bind(new.duration_ms)
            .bind(new.by)
            .bind(new.at)
            .bind(version)
            .execute(&mut **c)
            .await?;
            version
        });
        tx.commit().await?;
        self.changed_here(Topic::Prompts);
        Ok(version)
    }

    /// Removes the town's recording of `prompt_id` (the shipped one plays again); false
    /// when there was none, and then nothing changes.
    pub async fn delete_prompt_override(&self, prompt_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let removed = on_tx!(tx, c => {
            let n = sqlx::query("DELETE FROM prompt_overrides WHERE prompt_id = $1")
                .bind(prompt_id)
                .execute(&mut **c)
                .await?
                .rows_affected();
            if n > 0 {
                let _: i64 = sqlx::query_scalar(BUMP).fetch_one(&mut **c).await?;
            }
            n > 0
        });
        tx.commit().await?;
        self.changed_here(Topic::Prompts);
        Ok(removed)
    }

    /// Every prompt the town replaced, by id, without audio.
    pub async fn prompt_overrides(&self) -> Result<Vec<PromptOverride>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT prompt_id, duration_ms, uploaded_by, uploaded_at, version \
                 FROM prompt_overrides ORDER BY prompt_id",
            )
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(PromptOverride {
                    prompt_id: row.try_get("prompt_id")?,
                    duration_ms: row.try_get("duration_ms")?,
                    uploaded_by: row.try_get("uploaded_by")?,
                    uploaded_at: row.try_get("uploaded_at")?,
                    version: row.try_get("version")?,
                });
            }
            Ok(out)
        })
    }

    /// The stored (converted) WAV of the town's recording of `prompt_id`.
    pub async fn prompt_override_wav(
        &self,
        prompt_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let v: Option<Vec<u8>> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT wav FROM prompt_overrides WHERE prompt_id = $1",
        )
        .bind(prompt_id)
        .fetch_optional(p)
        .await?);
        Ok(v)
    }

    /// The change counter of the town's recordings: what the voice line compares at each
    /// call (one small row, no audio).
    pub async fn prompt_overrides_version(&self) -> Result<i64, StoreError> {
        let v: i64 = on_pool!(self, p => sqlx::query_scalar(
            "SELECT version FROM prompt_overrides_version WHERE id = 1",
        )
        .fetch_one(p)
        .await?);
        Ok(v)
    }
}
