//! The storage layer's error.

use thiserror::Error;

/// What went wrong in the database. The `Display` text is a French sentence fit for a
/// user; the detail (SQL error) is in the source, for the logs.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database URL is neither `sqlite:` nor `postgres:`.
    #[error("adresse de base de données non reconnue (attendu sqlite:// ou postgres://)")]
    BadUrl,
    /// The SQLite file's folder could not be created.
    #[error("impossible de créer le dossier de la base de données {path}")]
    CreateDir {
        /// The folder.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A uniqueness constraint refused the write (e.g. a code already used).
    #[error("{what} existe déjà")]
    Duplicate {
        /// What was duplicated, in French ("le code enfant", "la fermeture du 01/05/2026"...).
        what: String,
    },
    /// A row the operation needs does not exist.
    #[error("{what} introuvable")]
    NotFound {
        /// What was missing, in French.
        what: String,
    },
    /// An invoice is already being paid by another request that has neither ended nor
    /// expired.
    #[error("un paiement de cette facture est déjà en cours")]
    PaymentInProgress,
    /// A stored value could not be read back (a bug or a hand-edited database).
    #[error("donnée enregistrée illisible : {0}")]
    Corrupt(String),
    /// The migrations could not be applied.
    #[error("la mise à jour du schéma de la base de données a échoué")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("erreur de la base de données")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

impl StoreError {
    /// True when running the whole transaction again may succeed: a PostgreSQL
    /// serialization failure (40001) or deadlock (40P01), or SQLite still busy after the
    /// busy timeout (SQLITE_BUSY = 5 and its extended codes such as 517).
    pub fn is_retryable(&self) -> bool {
        let StoreError::Database(sqlx::Error::Database(db)) = self else {
            return false;
        };
        match db.code().as_deref() {
            Some("40001") | Some("40P01") => true,
            Some(code) => code
                .parse::<i32>()
                .map(|n| n & 0xff == 5 || n & 0xff == 6)
                .unwrap_or(false),
            None => false,
        }
    }

    /// Maps a unique-constraint violation to [`StoreError::Duplicate`] naming `what`.
    pub(crate) fn duplicate_as(e: sqlx::Error, what: impl FnOnce() -> String) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Duplicate { what: what() }
            }
            _ => StoreError::Database(e),
        }
    }
}
