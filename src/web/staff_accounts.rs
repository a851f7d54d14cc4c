//! Town-hall staff accounts: a user name and an argon2id password hash (PHC string).
//!
//! Hashing is deliberately slow (that is its point), so callers on the async runtime go
//! through `spawn_blocking`.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::store::{Store, StoreError, on_pool};

/// Shortest password accepted for a staff account.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Errors of staff account management, in French for the operator.
#[derive(Debug, Error)]
pub enum StaffError {
    /// User name empty, too long or with odd characters.
    #[error("nom d'utilisateur invalide (1 à 64 lettres, chiffres, . _ -)")]
    BadUser,
    /// Password too short.
    #[error("mot de passe trop court ({MIN_PASSWORD_CHARS} caractères au moins)")]
    WeakPassword,
    /// The name is taken.
    #[error("le compte « {0} » existe déjà")]
    Exists(String),
    /// The hash could not be computed or read.
    #[error("calcul du hachage du mot de passe impossible")]
    Hash(String),
    /// Database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a staff user name: 1 to 64 ASCII letters, digits, `.`, `_` or `-`.
pub fn valid_user(user: &str) -> bool {
    (1..=64).contains(&user.len())
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Hashes a password with argon2id and a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, StaffError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StaffError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC hash `phc` (constant-time inside argon2).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a password nobody knows, verified when the user does not exist so that an
/// unknown name takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never valid").unwrap_or_default())
}

/// Creates a staff account (the password is hashed here).
pub async fn add(
    store: &Store,
    user: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<(), StaffError> {
    if !valid_user(user) {
        return Err(StaffError::BadUser);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StaffError::WeakPassword);
    }
    let pw = password.to_owned();
    let phc = tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(|e| StaffError::Hash(e.to_string()))??;
    let res = on_pool!(store, p => sqlx::query(
        "INSERT INTO staff_accounts (username, password_hash, created_at) VALUES ($1, $2, $3)",
    )
    .bind(user)
    .bind(&phc)
    .bind(now)
    .execute(p)
    .await
    .map(|_| ()));
    match res {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Err(StaffError::Exists(user.to_owned()))
        }
        Err(e) => Err(StaffError::Store(e.into())),
    }
}

/// Whether `user` exists and `password` is theirs.
pub async fn check(store: &Store, user: &str, password: &str) -> Result<bool, StaffError> {
    let phc: Option<String> = if valid_user(user) {
        on_pool!(store, p => sqlx::query_scalar(
            "SELECT password_hash FROM staff_accounts WHERE username = $1",
        )
        .bind(user)
        .fetch_optional(p)
        .await
        .map_err(StoreError::from)?)
    } else {
        None
    };
    let known = phc.is_some();
    let phc = phc.unwrap_or_else(|| decoy_hash().to_owned());
    let pw = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &phc))
        .await
        .map_err(|e| StaffError::Hash(e.to_string()))?;
    Ok(known && ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert_ne!(a, b, "fresh salt each time");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn user_names_are_checked() {
        assert!(valid_user("amelie.dupont"));
        assert!(!valid_user(""));
        assert!(!valid_user("a b"));
        assert!(!valid_user("<script>"));
    }
}
