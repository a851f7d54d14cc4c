//! `ivr serve` (production) and the server half of `ivr demo`: the voice line on SIP
//! (UDP and TCP), the booking service behind it, and a place for the web portal.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, FixedOffset};
use clap::Args;
use ivr::booking::service::BookingService;
use ivr::config::Config;
use ivr::metrics::Metrics;
use ivr::phone::{Clock, EventSink, OffsetClock, PhoneLine, SystemClock, VoiceLine};
use ivr::sip::SipConfig;
use ivr::store::Store;

/// Arguments of `ivr serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Start the server's clock at this instant (RFC 3339), then let it run: a rehearsal
    /// of a given morning. Deadlines, "tomorrow" and history use it.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<DateTime<FixedOffset>>,
    /// Serve Prometheus metrics at http://ADDR/metrics
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// The clock of the server: the system's, or moved so that it reads `now` at start.
pub fn clock(now: Option<DateTime<FixedOffset>>) -> Arc<dyn Clock> {
    match now {
        None => Arc::new(SystemClock),
        Some(at) => Arc::new(OffsetClock(at.to_utc() - SystemClock.now())),
    }
}

/// Runs `ivr serve`: opens (and migrates) the database and serves until Ctrl-C or SIGTERM.
pub fn run(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::open(&config.server.database_url).await?;
        let service = BookingService::from_config(store, config).await?;
        serve(config, service, clock(args.now), args.metrics_listen, |voice| {
            println!(
                "Serveur vocal à l'écoute sur {} (UDP et TCP).",
                voice.sip().udp_addr()
            );
        })
        .await
    })
}

/// Starts the voice line (and, once merged, the web portal) over `service`, calls `ready`
/// with it, then serves until Ctrl-C or SIGTERM and shuts down gracefully.
pub async fn serve(
    config: &Config,
    service: BookingService,
    clock: Arc<dyn Clock>,
    metrics_listen: Option<std::net::SocketAddr>,
    ready: impl FnOnce(&VoiceLine),
) -> anyhow::Result<()> {
    let line = PhoneLine::load(
        service.clone(),
        config.dialplan.clone(),
        config.phone.clone(),
        clock,
        EventSink::default(),
    )
    .context("chargement du serveur vocal (plans d'appel, messages)")?;
    // The [sip] section (call limit, RTP ports, timeouts), listening where [server] says.
    let sip = SipConfig {
        listen: config.server.sip_listen,
        ..config.sip.clone()
    };
    let metrics = Metrics::new();
    let stop_metrics = tokio_util::sync::CancellationToken::new();
    if let Some(addr) = metrics_listen {
        let bound = ivr::metrics::serve_metrics(addr, metrics.clone(), stop_metrics.clone())
            .await
            .with_context(|| format!("écoute des métriques sur {addr}"))?;
        tracing::info!(%bound, "metrics at /metrics");
    }
    let voice = VoiceLine::start(sip, line, metrics)
        .await
        .context("démarrage du serveur SIP")?;
    // The web portal: when the `web` module is merged, start it here on
    // `config.server.web_listen` with `service.clone()` (it shares the booking service and
    // the announcements table with the voice line) and stop it with the voice line below.
    ready(&voice);
    stopped().await;
    tracing::info!("arrêt demandé : fin des appels en cours");
    voice.shutdown().await;
    stop_metrics.cancel();
    service.store().close().await;
    Ok(())
}

/// Waits for Ctrl-C or SIGTERM.
async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
