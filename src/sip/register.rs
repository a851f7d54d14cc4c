//! Registration to an upstream SIP trunk (RFC 3261 §10) so a carrier can deliver the town's
//! number to this server: digest authentication (RFC 2617 via rsipstack), refreshed at three
//! quarters of the granted expiry, retried with exponential back-off (1 s to 60 s) on failure.

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::registration::{RefreshOutcome, Registration};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::config::{SipConfig, TrunkConfig, TrunkTransport};
use super::server::SipServer;

/// Where the trunk registration stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrunkStatus {
    /// Not registered yet (first attempt under way).
    Registering,
    /// Registered; `registrations` counts the successful REGISTERs (first one and refreshes).
    Registered {
        /// Successful registrations so far.
        registrations: u64,
    },
    /// The last attempt failed (a retry follows after the back-off).
    Failed {
        /// The status code or error, for the logs and the status page.
        reason: String,
        /// Failed attempts in a row.
        failures: u32,
    },
}

/// A running registration; dropping it stops refreshing (the binding then expires).
pub struct TrunkRegistration {
    status: watch::Receiver<TrunkStatus>,
    stop: CancellationToken,
}

impl TrunkRegistration {
    /// The current status, and changes to come.
    pub fn status(&self) -> watch::Receiver<TrunkStatus> {
        self.status.clone()
    }
}

impl Drop for TrunkRegistration {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Starts registering `trunk` through `server`'s SIP endpoint.
pub fn spawn(server: &SipServer, trunk: &TrunkConfig) -> TrunkRegistration {
    let (tx, status) = watch::channel(TrunkStatus::Registering);
    let stop = server.stop_token().child_token();
    let credential = Credential {
        username: trunk.user.clone(),
        password: trunk.password.clone(),
        realm: None,
        auth_username: None,
    };
    let mut registration = Registration::new(server.endpoint(), Some(credential));
    let uri = match trunk.transport {
        TrunkTransport::Udp => format!("sip:{}", trunk.registrar),
        other => format!("sip:{};transport={}", trunk.registrar, other.uri_param()),
    };
    // Over TLS the carrier must call back over TLS: the Contact names our TLS listener
    // (the stack's own Contact would name the UDP one).
    if trunk.transport == TrunkTransport::Tls
        && let Some(tls) = server.tls_addr()
    {
        let contact = format!(
            "sip:{}@{};transport=tls",
            trunk.user,
            std::net::SocketAddr::new(server.public_ip(), tls.port())
        );
        match rsipstack::sip::Uri::try_from(contact.as_str()) {
            Ok(uri) => registration.contact = Some(rsipstack::sip::typed::Contact::from(uri)),
            Err(e) => warn!(error = %e, "TLS contact for the trunk not made; the stack's is sent"),
        }
    }
    let expires = trunk.expires_secs;
    let token = stop.clone();
    tokio::spawn(async move {
        let server_uri = match rsipstack::sip::Uri::try_from(uri.as_str()) {
            Ok(u) => u,
            Err(e) => {
                warn!(error = %e, "bad registrar address");
                return;
            }
        };
        let mut registrations = 0u64;
        let mut failures = 0u32;
        registration
            .keep_alive(server_uri, expires, token, |outcome| match outcome {
                RefreshOutcome::Registered(_) => {
                    registrations += 1;
                    failures = 0;
                    info!(registrations, "registered to the trunk");
                    tx.send_replace(TrunkStatus::Registered { registrations });
                }
                RefreshOutcome::Rejected(resp) => {
                    failures += 1;
                    warn!(status = %resp.status_code, failures, "trunk registration refused");
                    tx.send_replace(TrunkStatus::Failed {
                        reason: resp.status_code.to_string(),
                        failures,
                    });
                }
                RefreshOutcome::Failed(e) => {
                    failures += 1;
                    warn!(error = %e, failures, "trunk registration failed");
                    tx.send_replace(TrunkStatus::Failed {
                        reason: e.to_string(),
                        failures,
                    });
                }
            })
            .await;
    });
    TrunkRegistration { status, stop }
}

/// Starts the registration when `[sip.trunk]` is configured.
pub fn spawn_if_configured(server: &SipServer, config: &SipConfig) -> Option<TrunkRegistration> {
    config.trunk.as_ref().map(|t| spawn(server, t))
}
