//! The SIP server: rsipstack transport, transaction and dialog layers wired for an IVR (UAS).
//!
//! One task reads new transactions and dialog state changes (both channels are cancel-safe)
//! and routes them: a new INVITE becomes a call driver task, in-dialog requests go to their
//! dialog's `handle()`, and dialog states go to the call's driver.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rsipstack::EndpointBuilder;
use rsipstack::dialog::DialogId;
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, DialogStateSender};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::prelude::{HeadersExt, ToTypedHeader};
use rsipstack::sip::{Header, Method, Param, StatusCode, Transport};
use rsipstack::transaction::endpoint::EndpointOption;
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::tcp_listener::TcpListenerConnection;
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{SipConnection, TransportLayer};
use rsipstack::transport::{TlsConfig, TlsListenerConnection};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::SipError;
use super::brake::SourceBrake;
use super::config::SipConfig;
use super::edge::{ScreenedUdp, StreamScreen};
use crate::call::api::FlowSelector;
use crate::call::driver::{self, CallSetup, DialogEvent, Shared};
use crate::call::reply::LogFailed;
use crate::call::rtp_thread::RtpThreads;
use crate::call::sdp::{self, SdpError};
use crate::call::settings::CallSettings;
use crate::metrics::Metrics;

/// A running SIP server. Dropping it does not stop it: call [`SipServer::shutdown`].
pub struct SipServer {
    udp_addr: SocketAddr,
    tcp_addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    sip: Arc<SipConfig>,
    active: watch::Receiver<usize>,
    stop: CancellationToken,
    task: JoinHandle<()>,
    endpoint: rsipstack::transaction::endpoint::EndpointInnerRef,
}

impl SipServer {
    /// Binds UDP and TCP on `config.listen` and starts answering calls with the flows
    /// `flows` selects by dialled number.
    pub async fn start(
        config: SipConfig,
        flows: Arc<dyn FlowSelector>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, SipError> {
        let stop = CancellationToken::new();
        let transport = TransportLayer::new(stop.child_token());
        let external_ip = config.advertised_address;
        // Our socket, screened at our edge (edge.rs), rather than one rsipstack binds.
        let socket = UdpSocket::bind(config.listen)
            .await
            .map_err(|e| SipError::Bind(config.listen, e.to_string()))?;
        let udp = UdpConnection::from_socket(
            Arc::new(ScreenedUdp::new(socket, metrics.clone())),
            external_ip.map(|ip| SocketAddr::new(ip, config.listen.port())),
            Some(stop.child_token()),
        )
        .await
        .map_err(|e| SipError::Bind(config.listen, e.to_string()))?;
        let udp_addr = udp
            .get_addr()
            .get_socketaddr()
            .map_err(|e| SipError::Bind(config.listen, e.to_string()))?;
        // TCP on the same port as UDP (port 0 in tests: the port UDP got).
        let tcp_addr = SocketAddr::new(config.listen.ip(), udp_addr.port());
        let tcp = TcpListenerConnection::new(
            tcp_addr,
            external_ip.map(|ip| SocketAddr::new(ip, udp_addr.port())),
        )
        .await
        .map_err(|e| SipError::Bind(tcp_addr, e.to_string()))?;
        transport.add_transport(udp.into());
        transport.add_transport(SipConnection::TcpListener(tcp));
        let tls_trunk = config
            .trunk
            .as_ref()
            .filter(|t| t.transport == super::TrunkTransport::Tls);
        if let Some(trunk) = tls_trunk
            && config.tls.as_ref().is_none_or(|t| t.ca.is_none())
        {
            return Err(SipError::Config(format!(
                "[sip.trunk] transport = \"tls\" vers {} demande [sip.tls] avec ca (les autorités \
                 qui garantissent le certificat de l'opérateur) : sans elles aucun serveur n'est cru",
                trunk.registrar
            )));
        }
        let tls_addr = match &config.tls {
            Some(settings) => {
                let tls_config = super::tls::load(settings)?;
                // Our own TLS connections (to the trunk) trust the configured authorities,
                // and check the certificate against the trunk's name when it has one.
                transport.set_tls_config(TlsConfig {
                    ca_certs: tls_config.ca_certs.clone(),
                    sni_hostname: tls_trunk.and_then(|t| t.server_name.clone()),
                    ..TlsConfig::default()
                });
                let listener = TlsListenerConnection::new(
                    settings.listen,
                    external_ip.map(|ip| SocketAddr::new(ip, settings.listen.port())),
                    tls_config,
                )
                .await
                .map_err(|e| SipError::Bind(settings.listen, e.to_string()))?;
                transport.add_transport(SipConnection::TlsListener(listener));
                Some(settings.listen)
            }
            None => None,
        };
        let t1 = Duration::from_millis(config.t1_ms.max(1));
        let option = EndpointOption {
            t1,
            t1x64: t1 * 64,
            ..EndpointOption::default()
        };
        let endpoint = EndpointBuilder::new()
            .with_option(option)
            .with_user_agent(concat!("ivr/", env!("CARGO_PKG_VERSION")))
            .with_cancel_token(stop.child_token())
            .with_transport_layer(transport)
            .with_allows(super::allowed_methods())
            .with_transport_inspector(Box::new(StreamScreen {
                metrics: metrics.clone(),
            }))
            .build();
        let incoming = endpoint
            .incoming_transactions()
            .map_err(|e| SipError::Stack(e.to_string()))?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let (state_tx, state_rx) = dialogs.new_dialog_state_channel();
        let endpoint_inner = endpoint.inner.clone();
        tokio::spawn(async move {
            if let Err(e) = endpoint_inner.serve().await {
                warn!(error = %e, "SIP endpoint stopped");
            }
        });
        // The TCP listener binds when the endpoint serves it; give the scheduler a turn.
        tokio::task::yield_now().await;
        let rtp = RtpThreads::start(metrics.clone())
            .map_err(|e| SipError::Stack(format!("cannot start the RTP threads: {e}")))?;
        let sip = Arc::new(config);
        let shared = Arc::new(Shared {
            config: CallSettings::from(&*sip),
            metrics,
            drain: CancellationToken::new(),
            rtp,
        });
        let (active_tx, active) = watch::channel(0usize);
        let router = Router {
            dialogs,
            state_tx,
            calls: HashMap::new(),
            flows,
            shared: shared.clone(),
            sip: sip.clone(),
            active: active_tx,
            brake: SourceBrake::new(sip.invites_per_second_per_source, sip.calls_per_source),
            call_sources: HashMap::new(),
        };
        let task = tokio::spawn(router.run(incoming, state_rx, stop.clone()));
        info!(%udp_addr, %tcp_addr, tls_addr = ?tls_addr, "SIP server listening");
        Ok(Self {
            udp_addr,
            tcp_addr,
            tls_addr,
            shared,
            sip,
            active,
            stop,
            task,
            endpoint: endpoint.inner.clone(),
        })
    }

    /// The UDP address SIP listens on.
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp_addr
    }

    /// The TCP address SIP listens on (same port as UDP).
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// The address SIP over TLS listens on, when configured.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// The address our Contact and SDP name ([`SipConfig::public_ip`]).
    pub(crate) fn public_ip(&self) -> std::net::IpAddr {
        self.sip.public_ip()
    }

    /// The SIP endpoint, for requests of our own (trunk registration).
    pub(crate) fn endpoint(&self) -> rsipstack::transaction::endpoint::EndpointInnerRef {
        self.endpoint.clone()
    }

    /// Fires when the server stops.
    pub(crate) fn stop_token(&self) -> &CancellationToken {
        &self.stop
    }

    /// Calls in progress.
    pub fn active_calls(&self) -> usize {
        *self.active.borrow()
    }

    /// A receiver of the number of calls in progress (for tests and the web status page).
    pub fn watch_active_calls(&self) -> watch::Receiver<usize> {
        self.active.clone()
    }

    /// Graceful shutdown: new calls get 503, current ones may go on for the grace period,
    /// then they are hung up (BYE); returns once every call has ended and SIP is closed.
    pub async fn shutdown(mut self) {
        self.shared.drain.cancel();
        info!("draining calls");
        // Each driver hangs up at the end of the grace period, after its farewell (a
        // sentence of some 8 s, bounded by its length) and the BYE: wait for the last one.
        let grace = Duration::from_secs(self.sip.shutdown_grace_secs + 20);
        let wait = self.active.wait_for(|n| *n == 0);
        if tokio::time::timeout(grace, wait).await.is_err() {
            warn!("calls still up after the grace period");
        }
        self.stop.cancel();
        (&mut self.task).await.ok();
    }
}

/// The Reason of the line's 503 (RFC 3326): `draining` or `full`, which the proxy in front
/// tells apart (deploy/kamailio/kamailio.cfg).
fn unavailable(why: &str) -> Header {
    Header::Reason(format!("SIP;cause=503;text=\"{why}\"").into())
}

/// The routing task's state (owned by one task: no locks).
struct Router {
    dialogs: Arc<DialogLayer>,
    state_tx: DialogStateSender,
    calls: HashMap<DialogId, mpsc::UnboundedSender<DialogEvent>>,
    flows: Arc<dyn FlowSelector>,
    shared: Arc<Shared>,
    /// The `[sip]` settings (the calls get theirs in `shared`).
    sip: Arc<SipConfig>,
    active: watch::Sender<usize>,
    /// The per-source limits on INVITEs.
    brake: SourceBrake,
    /// The source address of each call the brake counted, to give its place back.
    call_sources: HashMap<DialogId, IpAddr>,
}

impl Router {
    async fn run(
        mut self,
        mut incoming: rsipstack::transaction::TransactionReceiver,
        mut states: DialogStateReceiver,
        stop: CancellationToken,
    ) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                tx = incoming.recv() => match tx {
                    Some(tx) => self.on_transaction(tx),
                    None => break,
                },
                st = states.recv() => match st {
                    Some(st) => self.on_state(st),
                    None => break,
                },
            }
        }
        debug!("SIP router stopped");
    }

    fn on_transaction(&mut self, mut tx: Transaction) {
        let has_to_tag = tx
            .original
            .to_header()
            .ok()
            .and_then(|t| t.tag().ok().flatten())
            .is_some();
        if has_to_tag {
            // In-dialog request: the dialog answers it (and tells the driver through states).
            match self.dialogs.match_dialog(&tx) {
                Some(mut dialog) => {
                    tokio::spawn(async move {
                        if let Err(e) = dialog.handle(&mut tx).await {
                            debug!(error = %e, "in-dialog request failed");
                        }
                    });
                }
                None if tx.original.method == Method::Ack => {}
                None => spawn_reply(tx, StatusCode::CallTransactionDoesNotExist, vec![]),
            }
            return;
        }
        match tx.original.method {
            Method::Invite => self.on_invite(tx),
            Method::Options if self.shared.drain.is_cancelled() => {
                // A proxy probing its nodes (Kamailio's dispatcher) takes a node out on any
                // answer but 2xx: a draining node says so, and the proxy sends its new
                // calls elsewhere while the calls here finish.
                let retry = Header::RetryAfter(self.sip.retry_after_secs.to_string().into());
                spawn_reply(
                    tx,
                    StatusCode::ServiceUnavailable,
                    vec![retry, unavailable("draining")],
                );
            }
            Method::Options => {
                // RFC 3261 §11.2: capabilities.
                let headers = vec![
                    Header::Allow(super::ALLOW.into()),
                    Header::Accept("application/sdp".into()),
                ];
                spawn_reply(tx, StatusCode::OK, headers);
            }
            Method::Ack => {}
            Method::Bye => spawn_reply(tx, StatusCode::CallTransactionDoesNotExist, vec![]),
            _ => spawn_reply(
                tx,
                StatusCode::MethodNotAllowed,
                vec![Header::Allow(super::ALLOW.into())],
            ),
        }
    }

    /// A new INVITE: the per-source brake first, then the call. A trusted trunk delivers
    /// every caller's call from its one address, so it is not braked as one source (the
    /// line's `max_calls` still bounds it).
    fn on_invite(&mut self, tx: Transaction) {
        let trunks = &self.sip.trusted_trunks;
        let source = source_ip(&tx).filter(|ip| !trunks.contains(ip));
        if let Some(ip) = source
            && let Err(why) = self.brake.admit(now(), ip)
        {
            self.shared.metrics.sip_invites_throttled.inc();
            // Per INVITE of a flood: debug only, the counter tells the rest.
            debug!(%ip, reason = %why, "INVITE throttled: 503");
            let retry = Header::RetryAfter(self.sip.retry_after_secs.to_string().into());
            spawn_reply_once(tx, StatusCode::ServiceUnavailable, vec![retry]);
            return;
        }
        match (self.start_call(tx), source) {
            (Some(id), Some(ip)) => {
                self.call_sources.insert(id, ip);
            }
            (None, Some(ip)) => self.brake.release(ip),
            (_, None) => {}
        }
    }

    /// Answers an admitted INVITE: refused, or a call started (its dialog's id).
    fn start_call(&mut self, tx: Transaction) -> Option<DialogId> {
        let metrics = &self.shared.metrics;
        let draining = self.shared.drain.is_cancelled();
        if draining || self.calls.len() >= self.sip.max_calls {
            metrics.calls_rejected.inc();
            let retry = Header::RetryAfter(self.sip.retry_after_secs.to_string().into());
            // The proxy tells the two apart (deploy/kamailio): a draining node is taken out
            // until its probes say it is back; a full one is only passed over for this call,
            // as it has room again at the next hang-up.
            let why = if draining { "draining" } else { "full" };
            info!("line {why}: 503");
            spawn_reply(
                tx,
                StatusCode::ServiceUnavailable,
                vec![retry, unavailable(why)],
            );
            return None;
        }
        let dialled = tx
            .original
            .uri
            .auth
            .as_ref()
            .map(|a| a.user.clone())
            .unwrap_or_default();
        let Some(flow) = self.flows.select(&dialled) else {
            metrics.calls_rejected.inc();
            spawn_reply(tx, StatusCode::NotFound, vec![]);
            return None;
        };
        let offer = if tx.original.body.is_empty() {
            None
        } else {
            match sdp::parse(&tx.original.body).and_then(|r| r.negotiate().map(|n| (r, n))) {
                Ok((_, neg)) if !self.sip.srtp.admits(&neg) => {
                    metrics.calls_rejected.inc();
                    let offered = if neg.srtp.is_some() {
                        "SRTP"
                    } else {
                        "RTP in clear"
                    };
                    info!(srtp = ?self.sip.srtp, "offer of {offered} against the line's SRTP setting: 488");
                    spawn_reply(tx, StatusCode::NotAcceptableHere, vec![]);
                    return None;
                }
                Ok((remote, neg)) => {
                    if let Some(why) = neg.unusable_address(true) {
                        metrics.calls_rejected.inc();
                        info!(address = %why, "offer names a {why} connection address: 488");
                        spawn_reply(tx, StatusCode::NotAcceptableHere, vec![]);
                        return None;
                    }
                    Some((remote, neg))
                }
                Err(SdpError::NotAcceptable) => {
                    metrics.calls_rejected.inc();
                    info!("no common codec: 488");
                    spawn_reply(tx, StatusCode::NotAcceptableHere, vec![]);
                    return None;
                }
                Err(SdpError::Malformed(e)) => {
                    metrics.calls_rejected.inc();
                    debug!(error = %e, "bad SDP: 400");
                    spawn_reply(tx, StatusCode::BadRequest, vec![]);
                    return None;
                }
            }
        };
        let caller = tx
            .original
            .from_header()
            .ok()
            .and_then(|f| f.typed().ok())
            .and_then(|f| f.uri.auth.map(|a| a.user));
        // Where the INVITE came from: the transport layer wrote the packet's source in the
        // top Via (`received`) when it differs from the sent-by (RFC 3261 §18.2.1).
        let source_ip = tx
            .original
            .via_header()
            .ok()
            .and_then(|v| v.typed().ok())
            .and_then(|v| {
                match (
                    v.received().and_then(|r| r.ok()),
                    &v.uri.host_with_port.host,
                ) {
                    (Some(ip), _) => Some(ip),
                    (None, rsipstack::sip::Host::IpAddr(ip)) => Some(*ip),
                    (None, _) => None,
                }
            });
        // P-Asserted-Identity is believed only from a trusted trunk (RFC 3325 §9.1).
        let asserted_caller = source_ip
            .filter(|ip| self.sip.trusted_trunks.contains(ip))
            .and_then(|_| {
                tx.original
                    .headers
                    .iter()
                    .find(|h| matches!(h, Header::PAssertedIdentity(_)))
            })
            .and_then(|h| asserted_identity(h.value()));
        let call_id = tx
            .original
            .call_id_header()
            .map(|c| c.value().to_string())
            .unwrap_or_default();
        let contact = self.contact_for(&tx);
        let dialog = match self.dialogs.get_or_create_server_invite(
            &tx,
            self.state_tx.clone(),
            None,
            Some(contact),
        ) {
            Ok(d) => d,
            Err(e) => {
                warn!(error = %e, "could not create dialog");
                spawn_reply(tx, StatusCode::ServerInternalError, vec![]);
                return None;
            }
        };
        metrics.calls.inc();
        let (events_tx, events) = mpsc::unbounded_channel();
        let id = dialog.id();
        self.calls.insert(id.clone(), events_tx);
        self.active.send_replace(self.calls.len());
        // Start handle() before accept(), or no 100 Trying is sent and the ACK is missed.
        let mut handle_dialog = dialog.clone();
        let mut tx = tx;
        let invite = tokio::spawn(async move {
            if let Err(e) = handle_dialog.handle(&mut tx).await {
                debug!(error = %e, "INVITE transaction ended with an error");
            }
        })
        .abort_handle();
        let shared = self.shared.clone();
        let sip = self.sip.clone();
        let states = self.state_tx.clone();
        tokio::spawn(async move {
            let rtp = match bind_rtp(&sip).await {
                Ok(s) => s,
                Err(e) => {
                    warn!(error = %e, "no RTP port free: 503");
                    shared.metrics.calls_rejected.inc();
                    dialog
                        .reject(Some(StatusCode::ServiceUnavailable), None)
                        .log_failed("503 rejection");
                    return;
                }
            };
            driver::run(CallSetup {
                dialog,
                events,
                offer,
                rtp,
                invite,
                states,
                flow,
                call_id,
                dialled,
                caller,
                source_ip,
                asserted_caller,
                shared,
            })
            .await;
        });
        Some(id)
    }

    /// Our Contact: the advertised address and our port, over the transport the call came on.
    fn contact_for(&self, tx: &Transaction) -> rsipstack::sip::Uri {
        let mut uri = self
            .dialogs
            .build_local_contact(None, None)
            .unwrap_or_default();
        if let Some(ip) = self.sip.advertised_address {
            uri.host_with_port.host = ip.into();
        }
        // Over a stream, the Contact names it, and the port it listens on for it.
        if let Some(conn) = &tx.connection {
            match conn.transport() {
                Transport::Tcp => uri.params.push(Param::Transport(Transport::Tcp)),
                Transport::Tls => {
                    if let Some(tls) = &self.sip.tls {
                        uri.host_with_port.port = Some(tls.listen.port().into());
                    }
                    uri.params.push(Param::Transport(Transport::Tls));
                    // A sips: Request-URI asks for TLS on every hop: our Contact says so
                    // too (RFC 5630), or the caller's next request could leave TLS.
                    if tx.original.uri.scheme == Some(rsipstack::sip::Scheme::Sips) {
                        uri.scheme = Some(rsipstack::sip::Scheme::Sips);
                    }
                }
                _ => {}
            }
        }
        uri
    }

    fn on_state(&mut self, state: DialogState) {
        let (id, event) = match state {
            DialogState::Confirmed(id, _) => (id, DialogEvent::Confirmed),
            DialogState::Updated(id, req, h) => (id, DialogEvent::Updated(req, h)),
            DialogState::Info(id, req, h) => (id, DialogEvent::Info(req, h)),
            DialogState::Options(id, _, h) => (id, DialogEvent::Options(h)),
            DialogState::Refer(id, _, h)
            | DialogState::Message(id, _, h)
            | DialogState::Notify(id, _, h)
            | DialogState::Publish(id, _, h) => (id, DialogEvent::Unsupported(h)),
            DialogState::Terminated(id, reason) => {
                // Forget the dialog, or dialogs pile up in the layer.
                self.dialogs.remove_dialog(&id);
                if let Some(ip) = self.call_sources.remove(&id) {
                    self.brake.release(ip);
                }
                if let Some(tx) = self.calls.remove(&id) {
                    tx.send(DialogEvent::Terminated(reason)).ok();
                }
                self.active.send_replace(self.calls.len());
                return;
            }
            _ => return,
        };
        match self.calls.get(&id) {
            Some(tx) => {
                if let Err(mpsc::error::SendError(ev)) = tx.send(event) {
                    // The driver is gone: answer so the stack does not wait 32 s.
                    answer_orphan(ev);
                }
            }
            None => answer_orphan(event),
        }
    }
}

/// Answers a request whose call has no driver any more.
fn answer_orphan(ev: DialogEvent) {
    let (h, status) = match ev {
        DialogEvent::Updated(_, h) | DialogEvent::Info(_, h) | DialogEvent::Options(h) => {
            (h, StatusCode::CallTransactionDoesNotExist)
        }
        DialogEvent::Unsupported(h) => (h, StatusCode::MethodNotAllowed),
        _ => return,
    };
    tokio::spawn(async move {
        h.reply(status).await.log_failed("response");
    });
}

/// Replies once to a request refused by the brake and forgets it: no retransmission of the
/// final (RFC 3261 §17.2.1 would repeat it for 64×T1), since a flood's source is likely
/// forged and each copy would go to whoever it names. A real caller whose copy is lost
/// sends its INVITE again and is answered again.
fn spawn_reply_once(mut tx: Transaction, status: StatusCode, headers: Vec<Header>) {
    tokio::spawn(async move {
        if let Err(e) = tx.reply_with(status, headers, None).await {
            debug!(error = %e, "reply failed");
        }
    });
}

/// The address a request came from (the transport's peer), when the transport knows it.
fn source_ip(tx: &Transaction) -> Option<IpAddr> {
    let peer = tx.connection.as_ref()?.get_remote_addr()?;
    peer.get_socketaddr().ok().map(|a| a.ip())
}

/// The router reads the clock here, and only here.
#[allow(clippy::disallowed_methods)]
fn now() -> std::time::Instant {
    std::time::Instant::now()
}

/// Replies to a transaction from its own task (replies are not cancel-safe) and keeps the
/// transaction alive until it ends, so that a non-2xx final is retransmitted until ACKed.
fn spawn_reply(mut tx: Transaction, status: StatusCode, headers: Vec<Header>) {
    tokio::spawn(async move {
        if let Err(e) = tx.reply_with(status, headers, None).await {
            debug!(error = %e, "reply failed");
            return;
        }
        if tx.original.method == Method::Invite {
            while tx.receive().await.is_some() {}
        }
    });
}

/// Random draws of an RTP port before the range is walked from a random slot.
const RTP_PORT_DRAWS: u32 = 16;

/// Binds the call's RTP socket on a free even port of the configured range, drawn at random.
///
/// Why random: ports handed out in sequence told anyone who made one call where the next
/// callers' media was (issue 13, finding 4). A few draws find a free port in a range that is
/// not nearly full; after them the whole range is walked from a random slot, so that the last
/// free port of a nearly full range is still found and the attempts stay bounded
/// (`RTP_PORT_DRAWS` plus one per slot).
async fn bind_rtp(config: &SipConfig) -> std::io::Result<UdpSocket> {
    let ip = config.listen.ip();
    let (min, max) = (config.rtp_port_min & !1, config.rtp_port_max);
    if min == 0 {
        return UdpSocket::bind(SocketAddr::new(ip, 0)).await;
    }
    let slots = u32::from(max.saturating_sub(min) / 2 + 1);
    let draw = || rand::random::<u32>() % slots;
    let start = draw();
    let candidates = (0..RTP_PORT_DRAWS)
        .map(|_| draw())
        .chain((0..slots).map(|i| (start + i) % slots));
    for slot in candidates {
        // slot < slots, so the port is at most `max`.
        let port = min + (slot as u16) * 2;
        match UdpSocket::bind(SocketAddr::new(ip, port)).await {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "every RTP port of the range is in use",
    ))
}

/// The number of a P-Asserted-Identity value (RFC 3325 §9.1), its first URI: the user
/// part of a `sip:`/`sips:` URI or the number of a `tel:` URI, kept only if it looks like
/// a phone number (digits, `+`, `*`, `#`; at most 32), since it names a login source.
fn asserted_identity(value: &str) -> Option<String> {
    let first = value.split(',').next()?.trim();
    let uri = match (first.find('<'), first.find('>')) {
        (Some(a), Some(b)) if a < b => &first[a + 1..b],
        _ => first,
    };
    let rest = ["sips:", "sip:", "tel:"].iter().find_map(|scheme| {
        let head = uri.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme)
            .then(|| &uri[scheme.len()..])
    })?;
    let number = rest.split(['@', ';']).next()?;
    let phone_like = (1..=32).contains(&number.len())
        && number
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'*' | b'#'));
    phone_like.then(|| number.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranged(min: u16, max: u16) -> SipConfig {
        SipConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            rtp_port_min: min,
            rtp_port_max: max,
            ..SipConfig::default()
        }
    }

    fn port(s: &UdpSocket) -> u16 {
        s.local_addr().expect("bound").port()
    }

    /// Issue 13, finding 4: with ports in sequence, one call told where the next ones were.
    #[tokio::test]
    async fn rtp_ports_are_drawn_at_random_from_the_range() -> std::io::Result<()> {
        let config = ranged(30_000, 39_999);
        let mut held = Vec::new();
        for _ in 0..12 {
            held.push(bind_rtp(&config).await?);
        }
        let ports: Vec<u16> = held.iter().map(port).collect();
        assert!(
            ports
                .iter()
                .all(|p| p % 2 == 0 && (30_000..=39_998).contains(p)),
            "{ports:?}"
        );
        let neighbours = ports.windows(2).filter(|w| w[1] == w[0] + 2).count();
        assert!(neighbours < 3, "ports follow each other: {ports:?}");
        Ok(())
    }

    #[tokio::test]
    async fn the_last_free_port_of_a_full_range_is_found_then_503() -> std::io::Result<()> {
        // Three slots; two taken by someone else: the third is found whatever the draws.
        let base = 41_000;
        let taken: Vec<std::net::UdpSocket> = [base, base + 2]
            .into_iter()
            .map(|p| std::net::UdpSocket::bind(("127.0.0.1", p)))
            .collect::<Result<_, _>>()?;
        let config = ranged(base, base + 5);
        let last = bind_rtp(&config).await?;
        assert_eq!(port(&last), base + 4);
        let full = bind_rtp(&config).await.expect_err("the range is full");
        assert_eq!(full.kind(), std::io::ErrorKind::AddrInUse);
        drop(taken);
        Ok(())
    }
}
