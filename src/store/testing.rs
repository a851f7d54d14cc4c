//! Fresh databases for tests: a new SQLite file, or a new PostgreSQL database created on
//! the server named by `TEST_DATABASE_URL` and dropped afterwards. Each test gets its own,
//! so tests run in parallel. Used by this crate's tests and by every channel's tests.

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};

use super::{Pool, Store, StoreError};

/// Runs each named `async fn(&TestDb) -> anyhow::Result<()>` of the calling module as two
/// tests, `sqlite::name` and `postgres::name`; the PostgreSQL one is ignored (counted and
/// listed as such by `cargo test`) when [`TEST_DATABASE_URL`] was unset at build time, and
/// passes without running when it is unset at run time only. `both_backends!(multi_thread: a, b)` runs them on
/// four worker threads, for tests that race tasks against each other.
#[macro_export]
macro_rules! both_backends {
    (multi_thread: $($name:ident),* $(,)?) => {
        $crate::both_backends!(@tests tokio::test(flavor = "multi_thread", worker_threads = 4); $($name),*);
    };
    (@tests $test:meta; $($name:ident),*) => {
        mod sqlite {
            $(
                #[$test]
                async fn $name() -> anyhow::Result<()> {
                    let db = $crate::store::testing::TestDb::sqlite().await?;
                    super::$name(&db).await
                }
            )*
        }
        mod postgres {
            $(
                #[$test]
                #[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
                async fn $name() -> anyhow::Result<()> {
                    let Some(db) = $crate::store::testing::TestDb::postgres().await? else {
                        return Ok(());
                    };
                    super::$name(&db).await
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        $crate::both_backends!(@tests tokio::test; $($name),*);
    };
}

/// The environment variable naming the PostgreSQL server for tests.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// A migrated database that disappears when dropped.
#[derive(Debug)]
pub struct TestDb {
    /// The store on it.
    pub store: Store,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    SqliteDir(PathBuf),
    Postgres {
        admin: Box<PgConnectOptions>,
        name: String,
    },
}

fn fresh_name() -> String {
    format!("ivr_test_{:016x}", rand::random::<u64>())
}

impl TestDb {
    /// A fresh SQLite database in its own temporary folder.
    pub async fn sqlite() -> Result<TestDb, StoreError> {
        let dir = std::env::temp_dir().join(fresh_name());
        // The store creates the folder, as it does for `./data/` on first start.
        let url = format!("sqlite://{}", dir.join("ivr.db").display());
        let store = Store::open(&url).await?;
        Ok(TestDb {
            store,
            cleanup: Cleanup::SqliteDir(dir),
        })
    }

    /// A fresh PostgreSQL database, or `None` (after printing why) when
    /// `TEST_DATABASE_URL` is unset.
    pub async fn postgres() -> Result<Option<TestDb>, StoreError> {
        let Ok(url) = std::env::var(TEST_DATABASE_URL) else {
            eprintln!("PostgreSQL half skipped: TEST_DATABASE_URL unset");
            return Ok(None);
        };
        let admin = PgConnectOptions::from_str(&url)?;
        let name = fresh_name();
        let mut conn = admin.connect().await?;
        // The name is ours (hex digits), so formatting it into the statement is safe.
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(admin.clone().database(&name))
            .await?;
        let store = Store::on(Pool::Postgres(pool));
        store.migrate().await?;
        Ok(Some(TestDb {
            store,
            cleanup: Cleanup::Postgres {
                admin: Box::new(admin),
                name,
            },
        }))
    }
}

impl TestDb {
    /// Another store on the same database, with its own connections and its own change
    /// notices: a second node.
    pub async fn other_node(&self) -> Result<Store, StoreError> {
        match &self.cleanup {
            Cleanup::SqliteDir(dir) => {
                Store::connect(&format!("sqlite://{}", dir.join("ivr.db").display())).await
            }
            Cleanup::Postgres { admin, name } => {
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .connect_with(PgConnectOptions::clone(admin).database(name))
                    .await?;
                Ok(Store::on(Pool::Postgres(pool)))
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin, name } => {
                // Drop runs outside async: do the clean-up on a thread with its own runtime.
                // FORCE ends the test pool's connections that may still be open.
                let admin = PgConnectOptions::clone(admin);
                let db = name.clone();
                let done = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(async {
                        let mut conn = admin.connect().await?;
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                            .execute(&mut conn)
                            .await?;
                        conn.close().await?;
                        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                    })
                })
                .join();
                if let Ok(Err(e)) = done {
                    eprintln!("test database {name} not dropped: {e}");
                }
            }
        }
    }
}

impl TestDb {
    /// Runs raw SQL (tests use it to prove that a constraint lives in the database and not
    /// only in the store's code).
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        let n =
            super::on_pool!(self.store, p => sqlx::query(sql).execute(p).await?.rows_affected());
        Ok(n)
    }
}

impl TestDb {
    /// Runs a query and returns its first column as text (tests use it to look at what is
    /// really stored, e.g. that no child code is).
    pub async fn query_texts(&self, sql: &str) -> Result<Vec<String>, StoreError> {
        let v: Vec<String> =
            super::on_pool!(self.store, p => sqlx::query_scalar(sql).fetch_all(p).await?);
        Ok(v)
    }
}
