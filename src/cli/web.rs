//! `ivr web`: serves the web portal alone (parents' and staff pages) on
//! `server.web_listen`, for a node that does not answer calls. `ivr serve` and `ivr demo`
//! start the same portal next to the voice line through [`ivr::web::serve_config`].

use ivr::booking::service::BookingService;
use ivr::config::Config;
use ivr::store::Store;

/// Opens the database (migrating it) and serves the portal until stopped.
pub fn run(config: &Config) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::open(&config.server.database_url).await?;
        let service = BookingService::from_config(store, config).await?;
        println!("Portail famille sur http://{}/", config.server.web_listen);
        ivr::web::serve_config(config, service).await?;
        Ok(())
    })
}
