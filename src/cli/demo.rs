//! `ivr demo`: the whole server with the demo town, on the SQLite file of its one data
//! folder (`data/demo`, kept from one start to the next; `--fresh` starts again) or on the
//! database `--database-url` names; or `ivr demo --seed-only` to fill the configured
//! database with the demo town, families and bookings (idempotent).

use std::path::PathBuf;

use clap::Args;
use ivr::config::Config;
use ivr::service::demo;
use ivr::store::Store;

/// Arguments of `ivr demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Only seed the database (town, families, bookings), do not start the servers
    #[arg(long)]
    seed_only: bool,
    /// Directory of the demo's database and recordings, kept from one start to the next
    #[arg(long, value_name = "DIR", default_value = "data/demo")]
    pub data_dir: PathBuf,
    /// Start again from a new demo database (the data folder's is deleted first)
    #[arg(long)]
    pub fresh: bool,
    /// Server options (metrics, clock, run time), as for `ivr serve`
    #[command(flatten)]
    pub serve: super::serve::ServeArgs,
}

/// Seeds the demo data at the current instant, or runs the demo server; `database_url` is
/// the one `--database-url` gave, if any.
pub fn run(config: &Config, database_url: Option<&str>, args: DemoArgs) -> anyhow::Result<()> {
    if !args.seed_only {
        let place = super::demo_server::Place {
            dir: args.data_dir,
            fresh: args.fresh,
            database_url: database_url.map(str::to_owned),
        };
        return super::demo_server::run(config, place, args.serve);
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::open(&config.server.database_url).await?;
        let service = config.booking_service(store.clone()).await?;
        // The edge reads the clock once; the seeding is a pure function of this instant.
        #[allow(clippy::disallowed_methods)]
        let now = chrono::Utc::now();
        let s = demo::seed(&service, &config.town.name, &config.town.message, now).await?;
        store.close().await;
        println!(
            "Démonstration « {} » prête : {} payeur(s), {} enfant(s), {} inscription(s) et {} \
             fermeture(s)/dérogation(s) ajoutés.",
            config.town.name, s.payers, s.children, s.bookings, s.calendar_entries
        );
        println!(
            "Connexion de démonstration : code enfant 3011 (Angéline) ou 3012 (Théo), \
             code payeur 770021."
        );
        Ok(())
    })
}
