//! The town's settings (name, message...) and the installation's secrets.

use super::{Store, StoreError, on_pool};

impl Store {
    /// A town setting, e.g. [`Store::TOWN_MESSAGE`].
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let v: Option<String> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT value FROM town_settings WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(p)
        .await?);
        Ok(v)
    }

    /// Sets (or replaces) a town setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO town_settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(p)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Removes a town setting; false when it was not set.
    pub async fn remove_setting(&self, key: &str) -> Result<bool, StoreError> {
        let n = on_pool!(self, p => sqlx::query("DELETE FROM town_settings WHERE key = $1")
            .bind(key)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    /// The secret named `name`, stored as `fresh` on first use. Every node of a
    /// PostgreSQL installation thus shares the same value.
    pub async fn secret_or_insert(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>, StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(fresh)
            .execute(p)
            .await?;
            let v: Vec<u8> = sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1")
                .bind(name)
                .fetch_one(p)
                .await?;
            Ok(v)
        })
    }
}

impl Store {
    /// Setting key: the town's name ("Mezcalito").
    pub const TOWN_NAME: &'static str = "town_name";
    /// Setting key: the town's message shown on the portal's home page.
    pub const TOWN_MESSAGE: &'static str = "town_message";
}
