//! The running voice line: the SIP server answering with the [`PhoneLine`]'s flows, and the
//! watcher that reloads dialplans and prompts, and the listener of the changes other nodes
//! push (PostgreSQL) that keeps the line's caches of the announcement and the town's voice.

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
    /// Listens for changes pushed by PostgreSQL (none on SQLite).
    changes: Option<tokio::task::JoinHandle<()>>,
}

impl VoiceLine {
    /// Starts SIP on `sip.listen` with `line`'s flows, the reload watcher and the listener
    /// of pushed changes.
    pub async fn start(
        sip: SipConfig,
        line: Arc<PhoneLine>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, SipError> {
        line.attach_metrics(metrics.clone());
        let stop = CancellationToken::new();
        // Before the first call: the caches are trusted only once it listens.
        let changes = line.service().store().spawn_change_listener(stop.clone());
        // The town's recordings decoded now rather than by the first caller, who would wait
        // for every one of them; a call starting meanwhile waits for this one refresh.
        let warm = line.clone();
        tokio::spawn(async move { warm.town_voice().refresh_or_warn().await });
        let sip = match SipServer::start(sip, flows::flows(&line), metrics).await {
            Ok(sip) => sip,
            Err(e) => {
                stop.cancel();
                return Err(e);
            }
        };
        let watcher = reload::spawn(line.clone(), stop.clone());
        Ok(Self {
            sip,
            line,
            stop,
            watcher,
            changes,
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
        if let Some(changes) = self.changes {
            changes.await.ok();
        }
        self.sip.shutdown().await;
    }
}
