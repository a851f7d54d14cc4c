//! `ivr migrate`: applies the database migrations (start-up does it too).

use ivr::config::Config;
use ivr::store::{Backend, Store};

/// Opens the configured database (creating a SQLite file and its folder if needed) and
/// applies the pending migrations.
pub fn run(config: &Config) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::open(&config.server.database_url).await?;
        let backend = match store.backend() {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        };
        store.close().await;
        // The URL may hold a password: name the backend only.
        println!("Schéma de la base de données à jour ({backend}).");
        Ok(())
    })
}
