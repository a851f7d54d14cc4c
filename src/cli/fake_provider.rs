//! `ivr fake-provider`: serves the local stand-ins of SystemPay and PayFiP on one address,
//! for `ivr demo` and manual tests. Never a real payment service.

use std::net::SocketAddr;

use ivr::config::Config;
use ivr::payment::standin::fake_provider::start;
use ivr::payment::standin::fresh_test_key;

/// Command-line options of `ivr fake-provider` (they override the configuration).
#[derive(Debug, Clone, clap::Args)]
pub struct FakeProviderArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed on start)
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// SystemPay notification URL used when a form has no `vads_url_check`
    #[arg(long, value_name = "URL")]
    pub notification_url: Option<String>,
}

/// Runs until the process is stopped; prints `listening on <addr>` on stdout once bound.
/// The SystemPay stand-in's key is `[fake_provider] systempay_test_key`, else the portal's
/// `[systempay] test_key`, else a fresh one printed on stdout to give the portal.
pub fn run(full: &Config, args: FakeProviderArgs) -> anyhow::Result<()> {
    let mut config = full.fake_provider.clone();
    if config.systempay_test_key.is_empty() {
        config.systempay_test_key = full.systempay.test_key.clone();
    }
    if config.systempay_test_key.is_empty() {
        config.systempay_test_key = fresh_test_key();
        println!(
            "clé de test SystemPay du simulateur (à mettre dans [systempay] test_key) : {}",
            config.systempay_test_key
        );
    }
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if args.notification_url.is_some() {
        config.notification_url = args.notification_url;
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let (addr, task) = start(&config).await?;
        println!("listening on {addr}");
        tracing::info!(%addr, "simulateurs SystemPay et PayFiP prêts");
        task.await?;
        Ok(())
    })
}
