//! `ivr serve` (production) and the server half of `ivr demo`: the voice line on SIP
//! (UDP and TCP, RTP) running the dialplans over the booking service, the optional trunk
//! registration and `/metrics` listener, and the web portal on the same booking service.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, FixedOffset};
use clap::Args;
use ivr::clock::{Clock, OffsetClock, SystemClock};
use ivr::config::Config;
use ivr::dialplan::builtin;
use ivr::metrics::{Metrics, serve_metrics};
use ivr::phone::{EventSink, PhoneLine, VoiceLine};
use ivr::service::booking::BookingService;
use ivr::store::Store;
use tokio_util::sync::CancellationToken;

/// Options of `ivr serve` (also taken by `ivr demo`).
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Serve Prometheus metrics at http://ADDR/metrics
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics_listen: Option<SocketAddr>,
    /// Stop by itself after this many seconds (tests and benchmarks; graceful as on Ctrl-C)
    #[arg(long, value_name = "SECONDS")]
    pub run_for: Option<u64>,
    /// Start the server's clock at this instant (RFC 3339), then let it run: a rehearsal
    /// of a given morning. Deadlines, "tomorrow" and the history use it.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<DateTime<FixedOffset>>,
}

/// The clock of the server: the system's, or moved so that it reads `now` at start.
pub fn clock(now: Option<DateTime<FixedOffset>>) -> Arc<dyn Clock> {
    match now {
        None => Arc::new(SystemClock),
        Some(at) => Arc::new(OffsetClock(at.to_utc() - SystemClock.now())),
    }
}

/// Runs `ivr serve`: opens (and migrates) the database and serves until Ctrl-C, SIGTERM or
/// Where a person on this machine calls the line: at 127.0.0.1 when it listens on every
/// interface (not at whichever interface address the SIP stack reports), else where it
/// listens.
pub(super) fn callable(listen: SocketAddr, bound: SocketAddr) -> SocketAddr {
    if listen.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], bound.port()))
    } else {
        bound
    }
}

/// The voice line's folders as configured, each shipped one absent here replaced by its
/// built-in copy (written under `[phone] data_dir`), and said so in the log.
fn voice_folders(
    config: &Config,
) -> anyhow::Result<(
    ivr::dialplan::config::DialplanConfig,
    ivr::phone::PhoneConfig,
)> {
    let (mut dialplan, mut phone) = (config.dialplan.clone(), config.phone.clone());
    let cache = phone.data_dir.clone();
    for (setting, folder) in [
        ("[dialplan] dialplans_dir", &mut dialplan.dialplans_dir),
        ("[dialplan] prompts_dir", &mut dialplan.prompts_dir),
        ("[phone] staff_prompts_dir", &mut phone.staff_prompts_dir),
    ] {
        let source = builtin::resolve(folder, &cache)
            .with_context(|| format!("copie intégrée pour {setting} dans {}", cache.display()))?;
        if let builtin::Source::BuiltIn(_) = &source {
            tracing::info!(setting, source = %source.describe(folder), "built-in files in use");
        }
        *folder = source.path().to_owned();
    }
    Ok((dialplan, phone))
}

/// `--run-for`.
pub fn run(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("démarrage du moteur asynchrone")?;
    runtime.block_on(async {
        let store = Store::open(&config.server.database_url).await?;
        let service = config.booking_service(store).await?;
        let clock = clock(args.now);
        serve(config, service, clock, &args, None, |_, _| {}).await
    })
}

/// Starts the voice line and the web portal over `service`, prints that they are ready,
/// calls `ready` with the voice line and the portal's address, then serves until Ctrl-C,
/// SIGTERM or `--run-for` and shuts down gracefully (new calls refused, current calls
/// finishing). The portal serves on `web_listener` when given (a caller that must know the
/// portal's address beforehand, as `ivr demo` does), else on `server.web_listen`.
pub async fn serve(
    config: &Config,
    service: BookingService,
    clock: Arc<dyn Clock>,
    args: &ServeArgs,
    web_listener: Option<tokio::net::TcpListener>,
    ready: impl FnOnce(&VoiceLine, SocketAddr),
) -> anyhow::Result<()> {
    // Bound first, so that a port already taken stops start-up before any call is taken.
    let web_listener = match web_listener {
        Some(l) => l,
        None => tokio::net::TcpListener::bind(config.server.web_listen)
            .await
            .with_context(|| format!("écoute du portail web sur {}", config.server.web_listen))?,
    };
    let web_addr = web_listener.local_addr()?;
    let metrics = Metrics::new();
    // One set of counters for the phone and the web: both book through this service.
    let service = service.with_metrics(metrics.clone());
    let stop_metrics = CancellationToken::new();
    if let Some(addr) = args.metrics_listen {
        let bound = serve_metrics(addr, metrics.clone(), stop_metrics.clone())
            .await
            .with_context(|| format!("écoute des métriques sur {addr}"))?;
        tracing::info!(%bound, "metrics at /metrics");
    }
    let (dialplan, phone) = voice_folders(config)?;
    let line = PhoneLine::load(
        service.clone(),
        dialplan,
        phone,
        clock.clone(),
        EventSink::default(),
    )
    .with_context(|| {
        // Name the settings that point at the files, and where relative paths start from.
        let here = std::env::current_dir().map_or_else(|e| e.to_string(), |d| d.display().to_string());
        format!(
            "chargement du serveur vocal ([dialplan] dialplans_dir = « {} », prompts_dir = « {} », \
             [phone] staff_prompts_dir = « {} » ; un chemin relatif part du dossier courant {here})",
            config.dialplan.dialplans_dir.display(),
            config.dialplan.prompts_dir.display(),
            config.phone.staff_prompts_dir.display(),
        )
    })?;
    let mut sip = config.sip.clone();
    sip.listen = config.server.sip_listen;
    let voice = VoiceLine::start(sip, line, metrics)
        .await
        .context("démarrage de la ligne SIP")?;
    let _trunk = ivr::sip::register::spawn_if_configured(voice.sip(), &config.sip);
    // The portal shares the booking service (same rules, history and lockouts), the
    // announcements table and the clock with the voice line.
    let web = {
        let (config, service) = (config.clone(), service.clone());
        tokio::spawn(async move {
            if let Err(e) = super::web::serve_portal(web_listener, &config, service, clock).await {
                tracing::error!(error = %e, "web portal stopped");
            }
        })
    };
    println!(
        "ligne vocale prête : sip:{} (UDP et TCP)",
        callable(config.server.sip_listen, voice.sip().udp_addr())
    );
    println!("portail web prêt : http://{web_addr}/");
    ready(&voice, web_addr);
    let run_for = async {
        match args.run_for {
            Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("attente de Ctrl-C")?,
        () = terminate() => {},
        () = run_for => {},
    }
    tracing::info!("stopping: new calls refused, current calls finishing");
    voice.shutdown().await;
    web.abort();
    stop_metrics.cancel();
    service.store().close().await;
    Ok(())
}

async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "SIGTERM not watched");
            std::future::pending::<()>().await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_on_every_interface_is_called_at_the_loopback_address() {
        let bound: SocketAddr = "192.0.2.2:5060".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:5060".parse().unwrap();
        assert_eq!(callable(any, bound), "127.0.0.1:5060".parse().unwrap());
        let one: SocketAddr = "192.0.2.2:5060".parse().unwrap();
        assert_eq!(callable(one, bound), bound);
    }
}
