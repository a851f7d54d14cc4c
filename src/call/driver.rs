//! One driver task per call: one `select!` over the dialog's events, the flow's commands, the
//! RTP socket and the next timer (DESIGN.md habit 3). The flow future is polled here too.
//!
//! Everything that decides is elsewhere (SDP in `sip::sdp`, digits in `collect`, media in the
//! sans-IO core); this file only moves events in and actions out, and reads the clock.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rsipstack::dialog::dialog::{TerminatedReason, TransactionHandle};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, Request, StatusCode};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, warn};

use super::api::{
    Call, CallError, CallFlow, CallInfo, Command, FlowFuture, Played, RecordSpec, Recorded,
};
use super::collect::{Collected, Collector};
use super::digits::Digit;
use super::media::{MediaEvent, MediaSession, PromptRef};
use crate::core::error::CoreError;
use crate::core::player::PlayId;
use crate::metrics::Metrics;
use crate::sip::config::SipConfig;
use crate::sip::reply::LogFailed;
use crate::sip::sdp::{self, LocalSession, Negotiated, RemoteAudio, SdpError};

/// What the SIP side tells a call's driver.
pub(crate) enum DialogEvent {
    /// The ACK came (sent again after each INFO/UPDATE: handling is idempotent).
    Confirmed,
    /// A re-INVITE or UPDATE to answer.
    Updated(Request, TransactionHandle),
    /// An INFO (DTMF relay) to answer.
    Info(Request, TransactionHandle),
    /// An in-dialog OPTIONS to answer.
    Options(TransactionHandle),
    /// Another in-dialog request we do not support (REFER, MESSAGE, NOTIFY...).
    Unsupported(TransactionHandle),
    /// The dialog ended (BYE, CANCEL, no ACK...).
    Terminated(TerminatedReason),
}

/// What the engine shares with every driver.
pub(crate) struct Shared {
    pub config: SipConfig,
    pub metrics: Arc<Metrics>,
    /// Fires when the server starts draining (graceful shutdown).
    pub drain: CancellationToken,
}

/// Everything a new call starts with.
pub(crate) struct CallSetup {
    pub dialog: InviteDialog,
    pub events: mpsc::UnboundedReceiver<DialogEvent>,
    /// The caller's offer, already checked to negotiate; `None` for a late offer.
    pub offer: Option<(RemoteAudio, Negotiated)>,
    pub rtp: UdpSocket,
    pub flow: Arc<dyn CallFlow>,
    pub call_id: String,
    pub dialled: String,
    pub caller: Option<String>,
    pub shared: Arc<Shared>,
}

/// A `play` in progress: how many of its prompts are still to end.
struct PendingPlay {
    /// The last prompt of the play: when it ends, the play is over.
    last: PlayId,
    barge_in: bool,
    done: oneshot::Sender<Played>,
}

/// Who waits for digits.
enum DigitWaiter {
    Collect(Collector, oneshot::Sender<Collected>),
    Next(Option<Instant>, oneshot::Sender<Option<Digit>>),
}

/// A recording in progress.
struct PendingRecord {
    deadline: Instant,
    stop_on: Option<Digit>,
    done: oneshot::Sender<Result<Recorded, CallError>>,
}

/// Where the call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// 180 sent; we answer at the deadline.
    Ringing,
    /// 200 sent; waiting for the ACK.
    Answered,
    /// ACK received; media and flow running.
    Confirmed,
}

struct Driver {
    dialog: InviteDialog,
    shared: Arc<Shared>,
    info: Arc<CallInfo>,
    phase: Phase,
    local: LocalSession,
    last_answer: Vec<u8>,
    remote_offer: Option<RemoteAudio>,
    negotiated: Option<Negotiated>,
    /// Our offer is in the 200 (late offer, or a re-INVITE without SDP): the answer is in the ACK.
    awaiting_ack_answer: bool,
    media: Option<MediaSession>,
    /// Where we send RTP: the SDP address until the caller's packets show their real source.
    send_to: Option<SocketAddr>,
    latched: bool,
    started_at: Instant,
    answer_at: Option<Instant>,
    confirmed_at: Option<Instant>,
    last_rtp_at: Option<Instant>,
    grace_deadline: Option<Instant>,
    plays: VecDeque<PendingPlay>,
    type_ahead: VecDeque<Digit>,
    waiter: Option<DigitWaiter>,
    record: Option<PendingRecord>,
    commands_tx: Option<mpsc::UnboundedSender<Command>>,
    hangup_requested: bool,
}

/// Guards the active-call gauge whatever way the driver ends.
struct ActiveGuard(Arc<Metrics>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.calls_active.dec();
    }
}

/// The edge reads the clock here, and only here, for the call.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

/// Runs one call to its end. Spawned once per accepted INVITE.
pub(crate) async fn run(setup: CallSetup) {
    let span = tracing::info_span!("call", call_id = %setup.call_id);
    drive(setup).instrument(span).await
}

async fn drive(setup: CallSetup) {
    let CallSetup {
        dialog,
        mut events,
        offer,
        rtp,
        flow,
        call_id,
        dialled,
        caller,
        shared,
    } = setup;
    shared.metrics.calls_active.inc();
    let _guard = ActiveGuard(shared.metrics.clone());
    let started_at = now();
    let rtp_port = match rtp.local_addr() {
        Ok(a) => a.port(),
        Err(e) => {
            warn!(error = %e, "RTP socket has no address");
            dialog
                .reject(Some(StatusCode::ServiceUnavailable), None)
                .log_failed("503 rejection");
            return;
        }
    };
    let (remote_offer, negotiated) = match offer {
        Some((r, n)) => (Some(r), Some(n)),
        None => (None, None),
    };
    let codec = negotiated
        .as_ref()
        .map(|n| n.codec)
        .unwrap_or(crate::media::Codec::Pcmu);
    let info = Arc::new(CallInfo {
        call_id,
        dialled,
        caller,
        codec,
    });
    let mut d = Driver {
        dialog,
        info,
        phase: Phase::Ringing,
        local: LocalSession {
            ip: shared.config.public_ip(),
            rtp_port,
            session_id: rand::random::<u32>().into(),
            version: 1,
        },
        shared,
        last_answer: Vec::new(),
        remote_offer,
        negotiated,
        awaiting_ack_answer: false,
        media: None,
        send_to: None,
        latched: false,
        started_at,
        answer_at: None,
        confirmed_at: None,
        last_rtp_at: None,
        grace_deadline: None,
        plays: VecDeque::new(),
        type_ahead: VecDeque::new(),
        waiter: None,
        record: None,
        commands_tx: None,
        hangup_requested: false,
    };
    let ring = Duration::from_millis(d.shared.config.ring_ms);
    if ring.is_zero() {
        d.answer();
    } else {
        d.dialog.ringing(None, None).log_failed("180 Ringing");
        d.answer_at = Some(started_at + ring);
    }

    let (commands_tx, mut commands) = mpsc::unbounded_channel::<Command>();
    d.commands_tx = Some(commands_tx);
    let mut flow_fut: Option<FlowFuture> = None;
    let drain = d.shared.drain.clone();
    let mut buf = vec![0u8; 2048];
    // The timer and the drain signal live across iterations: re-creating them on every
    // wake-up registered and cancelled a timer and a waiter each time (docs/performance.md).
    let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(started_at));
    tokio::pin!(sleep);
    let drained = drain.cancelled();
    tokio::pin!(drained);
    loop {
        if d.hangup_requested {
            break;
        }
        if d.phase == Phase::Confirmed && flow_fut.is_none() && d.commands_tx.is_some() {
            // Start the flow once, when the call is confirmed.
            let tx = d.commands_tx.take().expect("checked above");
            flow_fut = Some(flow.run(Call::new(d.info.clone(), tx)));
        }
        let deadline = d.next_deadline();
        if let Some(t) = deadline.map(tokio::time::Instant::from_std)
            && sleep.deadline() != t
        {
            sleep.as_mut().reset(t);
        }
        // While media runs its pacer wakes the task every packet time anyway: incoming RTP
        // is read then (at most one packet time later, see `drain_rtp`) rather than waking
        // the task once more for every packet received, which halved the wake-ups.
        let rtp_on_tick = d.media.is_some();
        tokio::select! {
            ev = events.recv() => match ev {
                Some(ev) => if !d.on_dialog_event(ev).await { return; },
                None => return,
            },
            _ = async { flow_fut.as_mut().expect("guarded").await }, if flow_fut.is_some() => {
                debug!("flow ended");
                break;
            },
            cmd = commands.recv(), if flow_fut.is_some() => {
                if let Some(cmd) = cmd {
                    d.on_command(cmd);
                }
            }
            r = rtp.recv_from(&mut buf), if !rtp_on_tick => match r {
                Ok((len, from)) => d.on_rtp(&buf[..len], from),
                Err(e) => debug!(error = %e, "RTP receive error"),
            },
            _ = &mut sleep, if deadline.is_some() => {},
            _ = &mut drained, if d.grace_deadline.is_none() => {
                let grace = Duration::from_secs(d.shared.config.shutdown_grace_secs);
                d.grace_deadline = Some(now() + grace);
            },
        }
        if d.media.is_some() {
            d.drain_rtp(&rtp, &mut buf);
        }
        let t = now();
        if d.on_time(t) {
            break;
        }
        d.pump_media(t, &rtp);
    }
    // We end the call: BYE when it was answered, a final error when still ringing.
    d.end().await;
    // Wait for the dialog to report its end so that the layer forgets it; the BYE
    // transaction ends within 64 x T1 whatever happens, so this wait is bounded too.
    let bound = Duration::from_millis(d.shared.config.t1_ms.max(1) * 64 * 2);
    let leftovers = async {
        while let Some(ev) = events.recv().await {
            if let DialogEvent::Terminated(_) = ev {
                break;
            }
            d.answer_leftover(ev).await;
        }
    };
    if tokio::time::timeout(bound, leftovers).await.is_err() {
        warn!("dialog did not report its end after our hang-up");
    }
}

/// The most RTP packets read in one wake-up: a flood waits for the next tick rather than
/// holding the task (the socket buffer drops the excess, as the network would).
const MAX_RTP_PER_WAKE: usize = 64;

fn sdp_headers() -> Option<Vec<Header>> {
    Some(vec![Header::ContentType("application/sdp".into())])
}

fn allow_header() -> Header {
    Header::Allow(crate::sip::ALLOW.into())
}

impl Driver {
    /// Sends the 200 with our answer (or our offer, for a late offer).
    fn answer(&mut self) {
        self.answer_at = None;
        let body = match (&self.remote_offer, &self.negotiated) {
            (Some(remote), Some(neg)) => remote.answer(&self.local, neg),
            _ => {
                self.awaiting_ack_answer = true;
                sdp::offer(&self.local)
            }
        };
        self.last_answer = body.clone();
        if let Err(e) = self.dialog.accept(sdp_headers(), Some(body)) {
            warn!(error = %e, "could not send 200");
            self.hangup_requested = true;
            return;
        }
        self.phase = Phase::Answered;
        // The caller may send RTP (and digits) as soon as it has our answer, before its ACK.
        self.start_media(now());
    }

    /// Starts the media session once the codec is known; idempotent.
    fn start_media(&mut self, t: Instant) {
        if self.media.is_some() {
            return;
        }
        let Some(neg) = self.negotiated.clone() else {
            return;
        };
        if !self.latched {
            self.send_to = Some(neg.remote);
        }
        match MediaSession::new(neg, self.shared.config.inband_dtmf, t) {
            Ok(m) => self.media = Some(m),
            Err(e) => {
                warn!(error = %e, "cannot start media");
                self.hangup_requested = true;
            }
        }
    }

    /// Handles one dialog event; returns false when the call is over.
    async fn on_dialog_event(&mut self, ev: DialogEvent) -> bool {
        match ev {
            DialogEvent::Confirmed => self.on_confirmed(),
            DialogEvent::Updated(req, handle) => self.on_update(req, handle).await,
            DialogEvent::Info(req, handle) => {
                let content_type = content_type(&req);
                let result = match self.media.as_mut() {
                    Some(media) => media.handle_info(now(), &content_type, req.body()),
                    None => Ok(()),
                };
                self.pump_events(now());
                // RFC 6086 §4.2.2: an INFO package we do not understand gets 415.
                let status = match result {
                    Ok(()) => StatusCode::OK,
                    Err(CoreError::NotDtmfInfo) => StatusCode::UnsupportedMediaType,
                    Err(_) => StatusCode::BadRequest,
                };
                handle.reply(status).await.log_failed("INFO response");
            }
            DialogEvent::Options(handle) => {
                handle
                    .respond(StatusCode::OK, Some(vec![allow_header()]), None)
                    .await
                    .log_failed("OPTIONS response");
            }
            DialogEvent::Unsupported(handle) => {
                handle
                    .respond(
                        StatusCode::MethodNotAllowed,
                        Some(vec![allow_header()]),
                        None,
                    )
                    .await
                    .log_failed("response");
            }
            DialogEvent::Terminated(reason) => {
                info!(?reason, "call ended by the caller or the stack");
                return false;
            }
        }
        true
    }

    fn on_confirmed(&mut self) {
        if self.awaiting_ack_answer {
            self.awaiting_ack_answer = false;
            let body = self
                .dialog
                .last_remote_ack()
                .map(|ack| ack.body().clone())
                .unwrap_or_default();
            // RFC 3264 §5: the ACK carries the answer to the offer we put in the 200.
            match sdp::parse(&body).and_then(|r| r.negotiate()) {
                Ok(neg) => {
                    let mut info = (*self.info).clone();
                    info.codec = neg.codec;
                    self.info = Arc::new(info);
                    self.set_negotiated(neg);
                }
                Err(e) => {
                    warn!(error = %e, "no usable answer in the ACK");
                    self.hangup_requested = true;
                    return;
                }
            }
        }
        if self.phase != Phase::Confirmed {
            let t = now();
            self.phase = Phase::Confirmed;
            self.confirmed_at = Some(t);
            self.last_rtp_at = Some(t);
            self.start_media(t);
            info!(codec = ?self.info.codec, "call confirmed");
        }
    }

    fn set_negotiated(&mut self, neg: Negotiated) {
        if !self.latched || self.negotiated.as_ref().map(|n| n.remote) != Some(neg.remote) {
            self.send_to = Some(neg.remote);
            self.latched = false;
        }
        if let Some(media) = self.media.as_mut() {
            media.renegotiate(neg.clone(), now());
        }
        self.negotiated = Some(neg);
    }

    /// A re-INVITE or UPDATE: hold, resume, session refresh or a new offer (RFC 3264 §8).
    async fn on_update(&mut self, req: Request, handle: TransactionHandle) {
        if req.body().is_empty() {
            if req.method == rsipstack::sip::Method::Update {
                handle
                    .reply(StatusCode::OK)
                    .await
                    .log_failed("UPDATE response");
                return;
            }
            // A re-INVITE without an offer: we offer again, the answer comes in the ACK.
            let body = sdp::offer(&self.local);
            self.awaiting_ack_answer = true;
            handle
                .respond(StatusCode::OK, sdp_headers(), Some(body))
                .await
                .log_failed("200 with our offer");
            return;
        }
        let parsed = sdp::parse(req.body()).and_then(|r| r.negotiate().map(|n| (r, n)));
        match parsed {
            Ok((remote, neg)) => {
                let mut body = remote.answer(&self.local, &neg);
                // The version moves only when our description changes (RFC 3264 §8).
                if body != self.last_answer {
                    self.local.version += 1;
                    body = remote.answer(&self.local, &neg);
                }
                self.last_answer.clone_from(&body);
                debug!(direction = ?neg.direction, "session updated");
                self.set_negotiated(neg);
                self.remote_offer = Some(remote);
                handle
                    .respond(StatusCode::OK, sdp_headers(), Some(body))
                    .await
                    .log_failed("200 with our answer");
            }
            Err(SdpError::Malformed(_)) => {
                handle
                    .reply(StatusCode::BadRequest)
                    .await
                    .log_failed("400 response");
            }
            Err(SdpError::NotAcceptable) => {
                // The call goes on with the previous session (RFC 3264 §8 end).
                handle
                    .reply(StatusCode::NotAcceptableHere)
                    .await
                    .log_failed("488 response");
            }
        }
    }

    /// Answers what arrives after we decided to end, so nothing waits 32 s for a 501.
    async fn answer_leftover(&mut self, ev: DialogEvent) {
        match ev {
            DialogEvent::Updated(_, h) | DialogEvent::Info(_, h) | DialogEvent::Options(h) => {
                h.reply(StatusCode::OK).await.log_failed("response");
            }
            DialogEvent::Unsupported(h) => {
                h.reply(StatusCode::MethodNotAllowed)
                    .await
                    .log_failed("405 response");
            }
            _ => {}
        }
    }

    fn on_command(&mut self, cmd: Command) {
        let t = now();
        match cmd {
            Command::Play {
                prompts,
                barge_in,
                done,
            } => {
                if prompts.is_empty() {
                    done.send(Played::Finished).ok();
                    return;
                }
                if barge_in && !self.type_ahead.is_empty() {
                    // A digit typed ahead interrupts at once.
                    done.send(Played::Interrupted).ok();
                    return;
                }
                match self.queue_prompts(prompts) {
                    Some(last) => self.plays.push_back(PendingPlay {
                        last,
                        barge_in,
                        done,
                    }),
                    // Nothing playable (or no media yet): the play is over at once.
                    None => {
                        done.send(Played::Finished).ok();
                    }
                }
            }
            Command::StopPlay => self.stop_playing(Played::Interrupted),
            Command::Collect { spec, done } => {
                if self.waiter.is_some() {
                    // One wait at a time: the previous one is dropped (its caller sees Ended).
                    warn!("collect while another digit wait is pending");
                }
                self.waiter = Some(DigitWaiter::Collect(Collector::new(spec, t), done));
                self.dispatch_digits(t);
            }
            Command::NextDigit { timeout, done } => {
                self.waiter = Some(DigitWaiter::Next(timeout.map(|d| t + d), done));
                self.dispatch_digits(t);
            }
            Command::FlushDigits => self.type_ahead.clear(),
            Command::Record { spec, done } => self.start_record(spec, done, t),
            Command::Hangup => self.hangup_requested = true,
        }
    }

    fn queue_prompts(&mut self, prompts: Vec<PromptRef>) -> Option<PlayId> {
        let media = self.media.as_mut()?;
        prompts.into_iter().filter_map(|p| media.play(p)).last()
    }

    fn stop_playing(&mut self, outcome: Played) {
        if let Some(media) = self.media.as_mut() {
            media.stop_playing();
        }
        for p in self.plays.drain(..) {
            p.done.send(outcome).ok();
        }
    }

    fn start_record(
        &mut self,
        spec: RecordSpec,
        done: oneshot::Sender<Result<Recorded, CallError>>,
        t: Instant,
    ) {
        let Some(media) = self.media.as_mut() else {
            done.send(Err(CallError::RecordingFailed)).ok();
            return;
        };
        media.start_recording(spec.max_len);
        self.record = Some(PendingRecord {
            deadline: t + spec.max_len,
            stop_on: spec.stop_on,
            done,
        });
    }

    /// Ends the recording in progress and hands its audio to the flow.
    fn finish_record(&mut self, stopped_by_key: bool) {
        let Some(pending) = self.record.take() else {
            return;
        };
        let result = match self.media.as_mut().and_then(MediaSession::stop_recording) {
            Some(Ok(audio)) => Ok(Recorded {
                audio,
                stopped_by_key,
            }),
            Some(Err(e)) => {
                warn!(error = %e, "recording failed");
                Err(CallError::RecordingFailed)
            }
            None => Err(CallError::RecordingFailed),
        };
        pending.done.send(result).ok();
    }

    fn on_rtp(&mut self, packet: &[u8], from: SocketAddr) {
        // Only RTP version 2 counts (RFC 3550 §5.1); anything else is noise on the port.
        if packet.len() < 12 || packet[0] >> 6 != 2 {
            return;
        }
        self.shared.metrics.rtp_packets_received.inc();
        let t = now();
        self.last_rtp_at = Some(t);
        // Symmetric RTP (RFC 4961): answer where the caller's packets come from.
        if !self.latched {
            self.latched = true;
            self.send_to = Some(from);
        }
        if let Some(media) = self.media.as_mut() {
            media.handle_rtp(t, packet);
        }
    }

    /// Reads the RTP packets waiting on the socket (without a system call when tokio knows
    /// it is empty), up to [`MAX_RTP_PER_WAKE`].
    fn drain_rtp(&mut self, rtp: &UdpSocket, buf: &mut [u8]) {
        for _ in 0..MAX_RTP_PER_WAKE {
            match rtp.try_recv_from(buf) {
                Ok((len, from)) => self.on_rtp(&buf[..len], from),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    debug!(error = %e, "RTP receive error");
                    return;
                }
            }
        }
    }

    /// Moves media events and due packets; called after every wake-up.
    fn pump_media(&mut self, t: Instant, rtp: &UdpSocket) {
        let Some(media) = self.media.as_mut() else {
            return;
        };
        let sending = self.negotiated.as_ref().is_some_and(Negotiated::sending);
        let to = self.send_to;
        let metrics = &self.shared.metrics;
        // On hold the pacer keeps running (timestamps stay continuous) but nothing is sent.
        let late = media.transmit(t, |packet| {
            if let (true, Some(to)) = (sending, to)
                // A full socket buffer drops the packet, as the network would.
                && rtp.try_send_to(packet, to).is_ok()
            {
                metrics.rtp_packets_sent.inc();
            }
        });
        if late > 0 {
            metrics.rtp_late_ticks.inc_by(late);
        }
        self.pump_events(t);
    }

    /// Moves media events (digits, prompts ended) to the waiting flow.
    fn pump_events(&mut self, t: Instant) {
        let Some(media) = self.media.as_mut() else {
            return;
        };
        let mut digits = Vec::new();
        while let Some(ev) = media.poll_event() {
            match ev {
                MediaEvent::Digit(d) => digits.push(d),
                MediaEvent::PromptDone(id) => {
                    if let Some(pos) = self.plays.iter().position(|p| p.last == id) {
                        let p = self.plays.remove(pos).expect("position is valid");
                        p.done.send(Played::Finished).ok();
                    }
                }
            }
        }
        for d in digits {
            self.on_digit(d, t);
        }
    }

    fn on_digit(&mut self, d: Digit, t: Instant) {
        self.shared.metrics.digits.inc();
        if self.record.as_ref().is_some_and(|r| r.stop_on == Some(d)) {
            // The stop key ends the recording and is not kept as input.
            self.finish_record(true);
            return;
        }
        if self.plays.iter().any(|p| p.barge_in) {
            self.stop_playing(Played::Interrupted);
        }
        self.type_ahead.push_back(d);
        self.dispatch_digits(t);
    }

    fn dispatch_digits(&mut self, t: Instant) {
        while let Some(waiter) = self.waiter.take() {
            match waiter {
                DigitWaiter::Next(deadline, done) => match self.type_ahead.pop_front() {
                    Some(d) => {
                        done.send(Some(d)).ok();
                    }
                    None => {
                        self.waiter = Some(DigitWaiter::Next(deadline, done));
                        return;
                    }
                },
                DigitWaiter::Collect(mut c, done) => {
                    let mut outcome = None;
                    while outcome.is_none() {
                        match self.type_ahead.pop_front() {
                            Some(d) => outcome = c.handle_digit(t, d),
                            None => break,
                        }
                    }
                    match outcome {
                        Some(o) => {
                            done.send(o).ok();
                        }
                        None => {
                            self.waiter = Some(DigitWaiter::Collect(c, done));
                            return;
                        }
                    }
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        consider(self.answer_at);
        consider(self.grace_deadline);
        consider(self.media_deadline());
        consider(self.max_length_deadline());
        consider(self.media.as_ref().map(MediaSession::poll_timeout));
        consider(self.record.as_ref().map(|r| r.deadline));
        consider(match &self.waiter {
            Some(DigitWaiter::Collect(c, _)) => Some(c.poll_timeout()),
            Some(DigitWaiter::Next(t, _)) => *t,
            None => None,
        });
        next
    }

    fn media_deadline(&self) -> Option<Instant> {
        let timeout = self.shared.config.media_timeout()?;
        // No RTP is expected while the caller holds us inactive or only listens.
        let expecting = self
            .negotiated
            .as_ref()
            .is_some_and(|n| n.direction.has_recv());
        if self.phase != Phase::Confirmed || !expecting {
            return None;
        }
        self.last_rtp_at.map(|t| t + timeout)
    }

    fn max_length_deadline(&self) -> Option<Instant> {
        self.shared
            .config
            .max_call_length()
            .map(|max| self.started_at + max)
    }

    /// Handles every deadline due at `t`; returns true when we must hang up.
    fn on_time(&mut self, t: Instant) -> bool {
        if self.answer_at.is_some_and(|a| a <= t) {
            self.answer();
        }
        if self.grace_deadline.is_some_and(|g| g <= t) {
            info!("shutdown grace period over, hanging up");
            return true;
        }
        if self.media_deadline().is_some_and(|m| m <= t) {
            info!("no RTP from the caller, hanging up");
            self.shared.metrics.media_timeouts.inc();
            return true;
        }
        if self.max_length_deadline().is_some_and(|m| m <= t) {
            info!("maximum call length reached, hanging up");
            return true;
        }
        let record_over = self.record.as_ref().is_some_and(|r| r.deadline <= t)
            || (self.record.is_some()
                && self
                    .media
                    .as_ref()
                    .is_some_and(MediaSession::recording_full));
        if record_over {
            self.finish_record(false);
        }
        match self.waiter.take() {
            Some(DigitWaiter::Collect(mut c, done)) => match c.handle_timeout(t) {
                Some(o) => {
                    done.send(o).ok();
                }
                None => self.waiter = Some(DigitWaiter::Collect(c, done)),
            },
            Some(DigitWaiter::Next(Some(deadline), done)) if deadline <= t => {
                done.send(None).ok();
            }
            other => self.waiter = other,
        }
        false
    }

    /// Our side ends the call.
    async fn end(&mut self) {
        match self.phase {
            Phase::Ringing => {
                // Not answered yet: refuse with 480 Temporarily Unavailable.
                self.dialog
                    .reject(Some(StatusCode::TemporarilyUnavailable), None)
                    .log_failed("480 rejection");
            }
            Phase::Answered | Phase::Confirmed => {
                if let Err(e) = self.dialog.bye().await {
                    debug!(error = %e, "BYE failed");
                }
            }
        }
        info!("call ended by us");
    }
}

fn content_type(req: &Request) -> String {
    req.headers
        .iter()
        .find_map(|h| match h {
            Header::ContentType(ct) => Some(ct.value().to_string()),
            _ => None,
        })
        .unwrap_or_default()
}
