//! `ivr demo`: the whole server with the demo town on a fresh SQLite file, or
//! `ivr demo --seed-only` to fill the configured database with the demo town, families and
//! bookings (idempotent).

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
    /// Directory of the demo's fresh database and recordings [default: data/demo-<time>]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Server options (metrics, clock, run time), as for `ivr serve`
    #[command(flatten)]
    pub serve: super::serve::ServeArgs,
}

/// Seeds the demo data at the current instant, or runs the demo server.
pub fn run(config: &Config, args: DemoArgs) -> anyhow::Result<()> {
    if !args.seed_only {
        return super::demo_server::run(config, args.data_dir, args.serve);
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
