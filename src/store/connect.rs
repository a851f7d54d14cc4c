//! Opening the database and applying the migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use super::{Pool, Store, StoreError};

/// How long a SQLite writer waits for the write lock before giving up (then the booking
/// service retries the whole transaction).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// SQLite allows one writer at a time; a few connections serve concurrent readers (WAL).
const SQLITE_MAX_CONNECTIONS: u32 = 8;

/// PostgreSQL connections per node.
const POSTGRES_MAX_CONNECTIONS: u32 = 16;
/// How long a request waits for a PostgreSQL connection.
const POSTGRES_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl Store {
    /// Connects to `url` without migrating: `sqlite://path` (the file and its folder are
    /// created on first start; WAL journal; busy timeout) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            if let Some(dir) = opts.get_filename().parent()
                && !memory
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
            // An in-memory database lives in one connection: never open a second one.
            let max = if memory { 1 } else { SQLITE_MAX_CONNECTIONS };
            let pool = SqlitePoolOptions::new()
                .max_connections(max)
                .min_connections(u32::from(memory))
                .idle_timeout(if memory {
                    None
                } else {
                    Some(Duration::from_secs(600))
                })
                .max_lifetime(if memory {
                    None
                } else {
                    Some(Duration::from_secs(1800))
                })
                .connect_with(opts)
                .await?;
            Ok(Store::on(Pool::Sqlite(pool)))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(POSTGRES_MAX_CONNECTIONS)
                // While the server is down (a restart), a request fails after this rather
                // than the default 30 s, so a caller hears "momentanément indisponible" and
                // not a long silence; connections are checked before use (sqlx's default),
                // so once the server is back the pool reconnects by itself.
                .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
                .connect_with(opts)
                .await?;
            Ok(Store::on(Pool::Postgres(pool)))
        } else {
            Err(StoreError::BadUrl)
        }
    }

    /// Applies the pending migrations of this backend (embedded at build time).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Connects and migrates: what start-up does.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }
}
