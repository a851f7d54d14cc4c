//! One driver task per call: one `select!` over the dialog's events, the flow's commands, the
//! media's wake-ups and the next timer (DESIGN.md habit 3). The flow future is polled here too.
//!
//! The RTP itself is sent and read by the RTP threads (`rtp_thread`), which wake the driver
//! only when a digit came, a prompt ended or a recording is full: a call's task sleeps
//! through its packets.
//!
//! Everything that decides is elsewhere, sans-IO: the call's phase and deadlines in `state`,
//! offers and answers in `session` (SDP in `sdp`), the flow's plays, keys and recording in
//! `waits`, media in the core; this file only moves events in and actions out, and reads
//! the clock.

use std::sync::Arc;
use std::time::Instant;

use rsipstack::dialog::dialog::{
    DialogState, DialogStateSender, TerminatedReason, TransactionHandle,
};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, Request, StatusCode};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, warn};

use super::api::{Call, CallError, CallFlow, CallInfo, Command, FlowFuture, Played, Recorded};
use super::media::{MediaEvent, MediaSession};
use super::reply::LogFailed;
use super::rtp_thread::{LinkState, RtpLink, RtpThreads};
use super::sdp::{LocalSession, Negotiated, RemoteAudio, SrtpPolicy};
use super::session::{AckProblem, Change, SdpSession, UpdateReply};
use super::settings::CallSettings;
use super::state::{Ending, Lifecycle, MediaSeen, Phase, Sign};
use super::waits::{Output, Replies, Waits};
use crate::core::Collected;
use crate::core::Digit;
use crate::core::error::CoreError;
use crate::core::player::PlayId;
use crate::media::srtp::{SrtpSession, SrtpSetupError};
use crate::metrics::Metrics;

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
    pub config: CallSettings,
    pub metrics: Arc<Metrics>,
    /// Fires when the server starts draining (graceful shutdown).
    pub drain: CancellationToken,
    /// The threads that carry every call's RTP.
    pub rtp: RtpThreads,
}

/// Everything a new call starts with.
pub(crate) struct CallSetup {
    pub dialog: InviteDialog,
    pub events: mpsc::UnboundedReceiver<DialogEvent>,
    /// The caller's offer, already checked to negotiate; `None` for a late offer.
    pub offer: Option<(RemoteAudio, Negotiated)>,
    pub rtp: UdpSocket,
    /// The task answering the INVITE transaction, which retransmits our 200 until the ACK:
    /// aborted when we give up waiting for the ACK.
    pub invite: AbortHandle,
    /// The dialog states' channel, for the end of a dialog we give up ourselves.
    pub states: DialogStateSender,
    pub flow: Arc<dyn CallFlow>,
    pub call_id: String,
    pub dialled: String,
    pub caller: Option<String>,
    pub source_ip: Option<std::net::IpAddr>,
    pub asserted_caller: Option<String>,
    pub shared: Arc<Shared>,
}

/// Where the flow's waits are answered: the senders of its commands.
struct Oneshots;

impl Replies for Oneshots {
    type Play = oneshot::Sender<Played>;
    type Collect = oneshot::Sender<Collected>;
    type Next = oneshot::Sender<Option<Digit>>;
    type Record = oneshot::Sender<Result<Recorded, CallError>>;
}

struct Driver {
    dialog: InviteDialog,
    shared: Arc<Shared>,
    info: Arc<CallInfo>,
    /// The call's phase and the deadlines that answer or end it.
    life: Lifecycle,
    /// Our session and the caller's: offers and answers.
    session: SdpSession,
    /// The media, shared with the RTP thread that sends and reads it.
    link: Arc<RtpLink>,
    invite: AbortHandle,
    states: DialogStateSender,
    /// The flow's plays, wait for keys and recording.
    waits: Waits<Oneshots>,
    commands_tx: Option<mpsc::UnboundedSender<Command>>,
    hangup_requested: bool,
    /// The flow, asked for its farewell when the grace period is over.
    flow: Arc<dyn CallFlow>,
    /// The farewell playing once the grace period is over: its end hangs up.
    farewell: Option<PlayId>,
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
        invite,
        states,
        flow,
        call_id,
        dialled,
        caller,
        source_ip,
        asserted_caller,
        shared,
    } = setup;
    shared.metrics.calls_active.inc();
    let _guard = ActiveGuard(shared.metrics.clone());
    let started_at = now();
    let link = rtp.local_addr().and_then(|a| {
        let link = RtpLink::new(rtp.into_std()?, shared.config.rtp_source)?;
        // Until the keys are set, an SRTP call's port hears nothing (`awaiting_srtp`).
        link.lock().awaiting_srtp = shared.config.srtp == SrtpPolicy::Require
            || offer.as_ref().is_some_and(|(_, n)| n.srtp.is_some());
        Ok((a.port(), link))
    });
    let (rtp_port, link) = match link {
        Ok((port, link)) => (port, Arc::new(link)),
        Err(e) => {
            warn!(error = %e, "RTP socket unusable");
            dialog
                .reject(Some(StatusCode::ServiceUnavailable), None)
                .log_failed("503 rejection");
            return;
        }
    };
    shared.rtp.attach(link.clone());
    let codec = offer
        .as_ref()
        .map(|(_, n)| n.codec)
        .unwrap_or(crate::media::Codec::Pcmu);
    let info = Arc::new(CallInfo {
        call_id,
        dialled,
        caller,
        source_ip,
        asserted_caller,
        codec,
    });
    let mut d = Driver {
        dialog,
        info,
        life: Lifecycle::new(&shared.config, started_at),
        session: SdpSession::new(
            LocalSession {
                ip: shared.config.public_ip,
                rtp_port,
                session_id: rand::random::<u32>().into(),
                version: 1,
                srtp: None,
            },
            offer,
            shared.config.srtp,
        ),
        shared,
        link,
        invite,
        states,
        waits: Waits::default(),
        commands_tx: None,
        hangup_requested: false,
        flow,
        farewell: None,
    };
    // The caller's key is known from its offer: its packets are checked from the first.
    if let Some(neg) = d.session.negotiated().cloned()
        && let Err(e) = key_media(&mut d.link.lock(), &neg, &d.session)
    {
        warn!(error = %e, "cannot start SRTP");
        d.dialog
            .reject(Some(StatusCode::ServiceUnavailable), None)
            .log_failed("503 rejection");
        d.link.lock().closed = true;
        return;
    }
    let ring = d.shared.config.ring;
    if ring.is_zero() {
        d.answer();
    } else {
        d.dialog.ringing(None, None).log_failed("180 Ringing");
    }

    let (commands_tx, mut commands) = mpsc::unbounded_channel::<Command>();
    d.commands_tx = Some(commands_tx);
    let mut flow_fut: Option<FlowFuture> = None;
    let drain = d.shared.drain.clone();
    let link = d.link.clone();
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
        if d.life.phase() == Phase::Confirmed && flow_fut.is_none() && d.commands_tx.is_some() {
            // Start the flow once, when the call is confirmed.
            let tx = d.commands_tx.take().expect("checked above");
            flow_fut = Some(d.flow.run(Call::new(d.info.clone(), tx)));
        }
        let deadline = d.next_deadline();
        if let Some(t) = deadline.map(tokio::time::Instant::from_std)
            && sleep.deadline() != t
        {
            sleep.as_mut().reset(t);
        }
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
            _ = link.notify.notified() => {},
            _ = &mut sleep, if deadline.is_some() => {},
            _ = &mut drained, if !d.life.draining() => d.life.drain(now()),
        }
        let t = now();
        d.pump_events(t);
        if d.on_time(t) {
            break;
        }
        if d.farewell.is_some() {
            // The grace is over: the flow is stopped where it was, its waits forgotten.
            flow_fut = None;
        }
    }
    // No more RTP once we hang up; the thread drops the call at its next tick.
    d.link.lock().closed = true;
    // We end the call: BYE when it was answered, a final error when still ringing.
    d.end().await;
    // Wait for the dialog to report its end so that the layer forgets it; the BYE
    // transaction ends within 64 x T1 whatever happens, so this wait is bounded too.
    let bound = d.shared.config.t1 * 64 * 2;
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

/// Gives the call's media the SRTP its negotiation settled: our sending context kept while
/// our key stays, the caller's context made anew when its key changes, none in clear.
fn key_media(
    link: &mut LinkState,
    neg: &Negotiated,
    session: &SdpSession,
) -> Result<(), SrtpSetupError> {
    match (neg.srtp, session.local_srtp()) {
        (Some(theirs), Some(ours)) => match link.srtp.as_mut() {
            Some(srtp) if *srtp.local() == ours => srtp.rekey_remote(theirs.key)?,
            _ => link.srtp = Some(SrtpSession::new(ours, theirs.key)?),
        },
        _ => link.srtp = None,
    }
    link.awaiting_srtp = false;
    Ok(())
}

fn sdp_headers() -> Option<Vec<Header>> {
    Some(vec![Header::ContentType("application/sdp".into())])
}

fn allow_header() -> Header {
    Header::Allow(super::settings::ALLOW.into())
}

impl Driver {
    /// Sends the 200 with our answer (or our offer, for a late offer).
    fn answer(&mut self) {
        let body = self.session.answer_invite();
        if let Err(e) = self.dialog.accept(sdp_headers(), Some(body)) {
            warn!(error = %e, "could not send 200");
            self.hangup_requested = true;
            return;
        }
        let t = now();
        self.life.answered(t);
        // The caller may send RTP (and digits) as soon as it has our answer, before its ACK;
        // we send nothing before the ACK (`LinkState::acknowledged`).
        self.start_media(t);
    }

    /// Starts the media session once the codec is known; idempotent.
    fn start_media(&mut self, t: Instant) {
        let Some(neg) = self.session.negotiated().cloned() else {
            return;
        };
        let mut link = self.link.lock();
        if link.media.is_some() {
            return;
        }
        if !link.latched {
            link.send_to = Some(neg.remote);
        }
        link.sending = neg.sending();
        // The stream starts on the RTP thread's tick, so its packets are sent when due.
        let start = self.shared.rtp.align(t);
        match MediaSession::new(neg, self.shared.config.inband_dtmf, start) {
            Ok(m) => link.media = Some(m),
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
                self.life.heard(now(), Sign::Info);
                let content_type = content_type(&req);
                let result = match self.link.lock().media.as_mut() {
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
                self.life.heard(now(), Sign::Options);
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
        if self.session.awaits_ack_answer() {
            let body = self
                .dialog
                .last_remote_ack()
                .map(|ack| ack.body().clone())
                .unwrap_or_default();
            // RFC 3264 §5: the ACK carries the answer to the offer we put in the 200.
            match self.session.on_ack(&body) {
                Ok(Some(change)) => {
                    let mut info = (*self.info).clone();
                    info.codec = change.negotiated.codec;
                    self.info = Arc::new(info);
                    self.follow(change);
                }
                Ok(None) => {}
                Err(e @ AckProblem::Unusable(_)) => {
                    info!(problem = %e, "hanging up");
                    self.hangup_requested = true;
                    return;
                }
                Err(e) => {
                    warn!(problem = %e, "hanging up");
                    self.hangup_requested = true;
                    return;
                }
            }
        }
        if self.life.confirmed() {
            let t = now();
            {
                let mut link = self.link.lock();
                // The media timeout counts from the ACK, and our RTP may start.
                link.last_rtp_at = Some(t);
                link.acknowledged = true;
            }
            self.start_media(t);
            let srtp = self.link.lock().srtp.is_some();
            info!(srtp, codec = ?self.info.codec, "call confirmed");
        }
    }

    /// Makes the media follow a new negotiation.
    fn follow(&mut self, change: Change) {
        let start = self.shared.rtp.align(now());
        let neg = change.negotiated;
        let mut link = self.link.lock();
        if let Err(e) = key_media(&mut link, &neg, &self.session) {
            warn!(error = %e, "cannot follow the new SRTP keys");
            self.hangup_requested = true;
            return;
        }
        if !link.latched || change.remote_moved {
            link.send_to = Some(neg.remote);
            link.latched = false;
        }
        link.sending = neg.sending();
        if let Some(media) = link.media.as_mut() {
            media.renegotiate(neg, start);
        }
    }

    /// A re-INVITE or UPDATE: the session decides, the driver replies and the media follows.
    async fn on_update(&mut self, req: Request, handle: TransactionHandle) {
        let update = req.method == rsipstack::sip::Method::Update;
        let sign = if update { Sign::Update } else { Sign::Reinvite };
        self.life.heard(now(), sign);
        let (status, body) = match self.session.on_update(update, req.body()) {
            UpdateReply::Refreshed => (StatusCode::OK, None),
            UpdateReply::Sdp { body, change } => {
                if let Some(change) = change {
                    debug!(direction = ?change.negotiated.direction, "session updated");
                    self.follow(change);
                }
                (StatusCode::OK, Some(body))
            }
            UpdateReply::NotAcceptable(why) => {
                if let Some(why) = why {
                    info!(address = %why, "re-INVITE names a {why} address: 488");
                }
                (StatusCode::NotAcceptableHere, None)
            }
            UpdateReply::BadRequest => (StatusCode::BadRequest, None),
        };
        let headers = body.is_some().then(sdp_headers).flatten();
        handle
            .respond(status, headers, body)
            .await
            .log_failed("re-INVITE or UPDATE response");
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
                let link = &self.link;
                self.waits.play(prompts.len(), barge_in, done, || {
                    let mut link = link.lock();
                    let media = link.media.as_mut()?;
                    prompts.into_iter().filter_map(|p| media.play(p)).last()
                });
            }
            Command::StopPlay => self.waits.stop_playing(),
            Command::Collect { spec, done } => {
                if self.waits.waiting_for_keys() {
                    // One wait at a time: the previous one is dropped (its caller sees Ended).
                    warn!("collect while another digit wait is pending");
                }
                self.waits.collect(spec, t, done);
            }
            Command::NextDigit { timeout, done } => {
                self.waits.next_key(timeout.map(|d| t + d), t, done);
            }
            Command::FlushDigits => self.waits.flush_keys(),
            Command::Record { spec, done } => {
                let mut link = self.link.lock();
                let Some(media) = link.media.as_mut() else {
                    done.send(Err(CallError::RecordingFailed)).ok();
                    return;
                };
                media.start_recording(spec.max_len);
                drop(link);
                self.waits.recording(t + spec.max_len, spec.stop_on, done);
            }
            Command::Hangup => self.hangup_requested = true,
        }
        self.perform();
    }

    /// Does what the flow's waits ask: stops the media, answers the flow.
    fn perform(&mut self) {
        while let Some(out) = self.waits.poll_output() {
            match out {
                Output::StopPlaying => {
                    if let Some(media) = self.link.lock().media.as_mut() {
                        media.stop_playing();
                    }
                }
                Output::Played(done, played) => {
                    done.send(played).ok();
                }
                Output::Collected(done, collected) => {
                    done.send(collected).ok();
                }
                Output::NextKey(done, key) => {
                    done.send(key).ok();
                }
                Output::Recorded {
                    reply,
                    stopped_by_key,
                } => {
                    reply.send(self.stop_recording(stopped_by_key)).ok();
                }
            }
        }
    }

    /// Stops the media's recording and takes its audio.
    fn stop_recording(&mut self, stopped_by_key: bool) -> Result<Recorded, CallError> {
        let stopped = self
            .link
            .lock()
            .media
            .as_mut()
            .and_then(MediaSession::stop_recording);
        match stopped {
            Some(Ok(audio)) => Ok(Recorded {
                audio,
                stopped_by_key,
            }),
            Some(Err(e)) => {
                warn!(error = %e, "recording failed");
                Err(CallError::RecordingFailed)
            }
            None => Err(CallError::RecordingFailed),
        }
    }

    /// Moves media events (digits, prompts ended) to the waiting flow.
    fn pump_events(&mut self, t: Instant) {
        // Taken under the lock, handled after it: answering them locks the media again.
        let mut link = self.link.lock();
        let mut any = false;
        if let Some(media) = link.media.as_mut() {
            while let Some(ev) = media.poll_event() {
                any = true;
                match ev {
                    MediaEvent::Digit(d) => {
                        self.shared.metrics.digits.inc();
                        self.waits.typed(d, t);
                    }
                    MediaEvent::PromptDone(id) if self.farewell == Some(id) => {
                        self.hangup_requested = true;
                    }
                    MediaEvent::PromptDone(id) => self.waits.prompt_done(id),
                }
            }
        }
        drop(link);
        if any {
            self.perform();
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        [
            self.life.poll_timeout(self.media_seen()),
            self.waits.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// What the media says now, for the call's deadlines.
    fn media_seen(&self) -> MediaSeen {
        // No RTP is expected while the caller holds us inactive or only listens.
        let expecting = self
            .session
            .negotiated()
            .is_some_and(|n| n.direction.has_recv());
        // The link's lock is shared with the RTP thread: taken only when silence can end
        // the call, not at every wake-up of a call still ringing or without a timeout.
        let last_rtp_at = if expecting && self.life.watches_media() {
            self.link.lock().last_rtp_at
        } else {
            None
        };
        MediaSeen {
            last_rtp_at,
            expecting,
        }
    }

    /// Handles every deadline due at `t`; returns true when we must hang up.
    fn on_time(&mut self, t: Instant) -> bool {
        if self.life.answer_due(t) {
            self.answer();
        }
        if let Some(ending) = self.life.ending_at(t, self.media_seen()) {
            match ending {
                Ending::NoAck => {
                    // Most likely a forged source: stop the 200's retransmissions towards it
                    // now rather than after 64×T1, then end the dialog (BYE, RFC 3261
                    // §13.3.1.4).
                    info!(wait = ?self.shared.config.ack_wait(), "no ACK for our 200, hanging up");
                    self.shared.metrics.calls_unacknowledged.inc();
                    self.invite.abort();
                }
                Ending::GraceOver => {
                    if self.say_farewell(t) {
                        info!("shutdown grace period over, saying farewell");
                        return false;
                    }
                    info!("shutdown grace period over, hanging up");
                }
                Ending::FarewellSaid => info!("farewell said, hanging up"),
                Ending::NoMedia => {
                    let last = self.life.last_heard(self.media_seen());
                    info!(
                        last,
                        "nothing from the caller for the media timeout, hanging up"
                    );
                    self.shared.metrics.media_timeouts.inc();
                }
                Ending::MaxLength => info!("maximum call length reached, hanging up"),
            }
            return true;
        }
        let link = &self.link;
        self.waits.handle_timeout(t, || {
            link.lock()
                .media
                .as_ref()
                .is_some_and(MediaSession::recording_full)
        });
        self.perform();
        false
    }

    /// The grace period is over: stops the flow's prompts and plays the flow's farewell, when
    /// it has one and the caller can hear it; false when the call must end at once.
    fn say_farewell(&mut self, t: Instant) -> bool {
        if self.life.phase() != Phase::Confirmed {
            return false;
        }
        let Some(prompt) = self.flow.farewell() else {
            return false;
        };
        let length = prompt.duration();
        let mut link = self.link.lock();
        let Some(media) = link.media.as_mut() else {
            return false;
        };
        media.stop_playing();
        let Some(id) = media.play(prompt) else {
            return false;
        };
        drop(link);
        self.farewell = Some(id);
        // The flow's waits are answered by nobody from now on; a flow not started yet never
        // starts.
        self.waits = Waits::default();
        self.commands_tx = None;
        self.life.farewell(t, length);
        true
    }

    /// Our side ends the call.
    async fn end(&mut self) {
        match self.life.phase() {
            Phase::Ringing => {
                // Not answered yet: refuse with 480 Temporarily Unavailable.
                self.dialog
                    .reject(Some(StatusCode::TemporarilyUnavailable), None)
                    .log_failed("480 rejection");
            }
            Phase::Answered => {
                // No ACK: most likely a forged source, and a BYE unanswered is repeated for
                // 64×T1 (11 copies at T1 = 500 ms) towards it. A real caller whose ACKs were
                // lost answers the first copy; after those sent within half the ACK wait
                // (at 0, T1 and 3×T1) the transaction is given up and the dialog ended
                // here, as the stack would have done on the BYE's answer.
                let bye =
                    tokio::time::timeout(self.shared.config.ack_wait() / 2, self.dialog.bye());
                match bye.await {
                    Ok(Err(e)) => debug!(error = %e, "BYE failed"),
                    Ok(Ok(())) => {}
                    Err(_) => {
                        debug!("BYE of an unacknowledged call unanswered");
                        let ended =
                            DialogState::Terminated(self.dialog.id(), TerminatedReason::Timeout);
                        self.states.send(ended).ok();
                    }
                }
            }
            Phase::Confirmed => {
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
