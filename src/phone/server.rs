//! The running voice line: the SIP server answering with the [`PhoneLine`]'s flows, and the
//! watcher that reloads dialplans and prompts.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::phone::flows;
use crate::phone::line::PhoneLine;
use crate::phone::reload;
use crate::sip::{SipConfig, SipError, SipServer};

/// SIP plus the voice line's flows and file watcher.
pub struct VoiceLine {
    sip: SipServer,
    line: Arc<PhoneLine>,
    stop: CancellationToken,
    watcher: tokio::task::JoinHandle<()>,
}

impl VoiceLine {
    /// Starts SIP on `sip.listen` with `line`'s flows and the reload watcher.
    pub async fn start(
        sip: SipConfig,
        line: Arc<PhoneLine>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, SipError> {
        line.attach_metrics(metrics.clone());
        // The town's recordings decoded now rather than by the first caller, who would wait
        // for every one of them; a call starting meanwhile waits for this one refresh.
        let warm = line.clone();
        tokio::spawn(async move { warm.town_voice().refresh_or_warn().await });
        let sip = SipServer::start(sip, flows::flows(&line), metrics).await?;
        let stop = CancellationToken::new();
        let watcher = reload::spawn(line.clone(), stop.clone());
        Ok(Self {
            sip,
            line,
            stop,
            watcher,
        })
    }

    /// The SIP server (addresses, calls in progress).
    pub fn sip(&self) -> &SipServer {
        &self.sip
    }

    /// The shared state of the calls.
    pub fn line(&self) -> &Arc<PhoneLine> {
        &self.line
    }

    /// Stops watching files, then shuts SIP down gracefully (see [`SipServer::shutdown`]).
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.watcher.await.ok();
        self.sip.shutdown().await;
    }
}
