//! `ivr web`: serves the web portal alone (parents' and staff pages) on
//! `server.web_listen`, for a node that does not answer calls. `ivr serve` and `ivr demo`
//! start the same portal next to the voice line through [`ivr::web::serve_config`].

use anyhow::Context;
use ivr::booking::service::BookingService;
use ivr::config::Config;
use ivr::store::Store;

/// Opens the database (migrating it) and serves the portal until stopped.
pub fn run(config: &Config) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::open(&config.server.database_url).await?;
        let service = BookingService::from_config(store, config).await?;
        let listener = tokio::net::TcpListener::bind(config.server.web_listen)
            .await
            .with_context(|| format!("écoute du portail sur {}", config.server.web_listen))?;
        println!("Portail famille sur http://{}/", listener.local_addr()?);
        ivr::web::serve_config(listener, config, service, ivr::web::Clock::System).await?;
        Ok(())
    })
}
