//! `ivr serve`: starts the voice line (SIP over UDP and TCP, RTP) and, when asked, a small
//! `/metrics` listener. Until the dialplans are wired in, every call hears the welcome prompt
//! (or a beep) and its digits are counted; the web side is added by its own module.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use ivr::call::{Call, CallFlow, SingleFlow};
use ivr::config::Config;
use ivr::media::{Prompt, PromptLibrary};
use ivr::metrics::{Metrics, serve_metrics};
use ivr::sip::SipServer;
use tokio_util::sync::CancellationToken;

/// Options of `ivr serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Folder of WAV prompts; the one named `welcome` is played to every caller
    #[arg(long, value_name = "DIR")]
    prompts: Option<PathBuf>,
    /// Serve Prometheus metrics at http://ADDR/metrics
    #[arg(long, value_name = "ADDR:PORT")]
    metrics_listen: Option<SocketAddr>,
    /// Stop by itself after this many seconds (tests and benchmarks; graceful as on Ctrl-C)
    #[arg(long, value_name = "SECONDS")]
    run_for: Option<u64>,
}

/// The flow `ivr serve` runs until the dialplans take over: the welcome prompt (barge-in),
/// then digits are read (and counted by the metrics) until the caller hangs up.
fn welcome_flow(welcome: Arc<Prompt>) -> impl CallFlow {
    move |call: Call| {
        let welcome = welcome.clone();
        async move {
            let _ = call.play(vec![welcome], true).await;
            while let Ok(Some(_digit)) = call.next_digit(None).await {}
        }
    }
}

/// Runs the server until Ctrl-C, SIGTERM or `--run-for`.
pub fn run(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("démarrage du moteur asynchrone")?;
    runtime.block_on(serve(config, args))
}

async fn serve(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    let welcome = match &args.prompts {
        Some(dir) => {
            let lib = PromptLibrary::load_dir(dir)
                .with_context(|| format!("chargement des messages de {}", dir.display()))?;
            lib.get("welcome").cloned()
        }
        None => None,
    };
    let welcome = match welcome {
        Some(p) => p,
        None => Arc::new(Prompt::beep("beep", 440.0, Duration::from_secs(1))?),
    };
    let metrics = Metrics::new();
    let stop_metrics = CancellationToken::new();
    if let Some(addr) = args.metrics_listen {
        let bound = serve_metrics(addr, metrics.clone(), stop_metrics.clone())
            .await
            .with_context(|| format!("écoute des métriques sur {addr}"))?;
        tracing::info!(%bound, "metrics at /metrics");
    }
    let mut sip = config.sip.clone();
    sip.listen = config.server.sip_listen;
    let flow: Arc<dyn CallFlow> = Arc::new(welcome_flow(welcome));
    let server = SipServer::start(sip, Arc::new(SingleFlow(flow)), metrics)
        .await
        .context("démarrage de la ligne SIP")?;
    let _trunk = ivr::sip::register::spawn_if_configured(&server, &config.sip);
    println!(
        "ligne vocale prête : sip:{} (UDP et TCP)",
        server.udp_addr()
    );
    let run_for = async {
        match args.run_for {
            Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("attente de Ctrl-C")?,
        _ = terminate() => {},
        _ = run_for => {},
    }
    tracing::info!("stopping: new calls refused, current calls finishing");
    server.shutdown().await;
    stop_metrics.cancel();
    Ok(())
}

#[cfg(unix)]
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

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await
}
