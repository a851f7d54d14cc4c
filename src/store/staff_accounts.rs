//! Town-hall staff accounts: a user name and its password hash (the service hashes and
//! verifies; the store only keeps the PHC string).

use chrono::{DateTime, Utc};

use super::{Store, StoreError, on_pool};

impl Store {
    /// Stores a new staff account; [`StoreError::Duplicate`] when the user name is taken
    /// (the primary key decides, so two parallel creations cannot both succeed).
    pub async fn insert_staff_account(
        &self,
        user: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO staff_accounts (username, password_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user)
        .bind(password_hash)
        .bind(now)
        .execute(p)
        .await
        .map(drop)
        .map_err(|e| StoreError::duplicate_as(e, || format!("le compte « {user} »"))))
    }

    /// The password hash of `user`, if the account exists.
    pub async fn staff_password_hash(&self, user: &str) -> Result<Option<String>, StoreError> {
        let phc: Option<String> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT password_hash FROM staff_accounts WHERE username = $1",
        )
        .bind(user)
        .fetch_optional(p)
        .await?);
        Ok(phc)
    }

    /// How many staff accounts there are.
    pub async fn staff_account_count(&self) -> Result<i64, StoreError> {
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM staff_accounts",
        )
        .fetch_one(p)
        .await?);
        Ok(n)
    }
}
