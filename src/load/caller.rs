//! The load caller's SIP side: an rsipstack user agent that places the calls at the asked
//! rate, at most so many at once, each playing its script while [`super::rtp`] carries its
//! audio, and the tally of how every call went.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow};
use rsipstack::dialog::dialog::TerminatedReason;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::sip::{Method, StatusCode, Transport};
use rsipstack::transport::SipAddr;
use tokio::sync::{Semaphore, oneshot};

use super::config::LoadConfig;
use super::report::{CallOutcome, CallResult, Report};
use super::rtp::{RtpCaller, StreamSpec};
use super::script::Step;
use crate::call::sdp;
use crate::core::player::silence_frame;
use crate::media::srtp::{CryptoAttribute, SrtpKey, SrtpSuite};
use crate::media::{Codec, Ptime};
use crate::sip::client::{UserAgent, settle};

/// Calls whose dialog the server ended, by Call-ID (filled by the state watcher).
type Endings = Arc<Mutex<HashMap<String, oneshot::Sender<()>>>>;

/// The user agent shared by every call task.
struct Agent {
    /// The SIP user agent (its endpoint stops with the run).
    ua: UserAgent,
    endings: Endings,
    rtp: RtpCaller,
    config: LoadConfig,
    up: AtomicUsize,
    peak: AtomicUsize,
}

/// Places the calls and returns the tally; progress goes to standard error every 5 s.
pub async fn run(config: LoadConfig) -> anyhow::Result<Report> {
    // The script's own check (the parent call needs codes), before any call is placed.
    config.script.steps(config.codes.first())?;
    if config.rate.is_nan() || config.rate <= 0.0 || config.max_at_once == 0 {
        anyhow::bail!("the rate and the number of calls at once must be positive");
    }
    let (ua, mut states) =
        UserAgent::start(SocketAddr::new(config.bind, config.sip_port), "ivr-load")
            .await
            .context("socket SIP de l'appelant")?;
    let endings: Endings = Arc::default();
    let (d, e) = (ua.dialogs.clone(), endings.clone());
    tokio::spawn(async move {
        while let Some(state) = states.recv().await {
            if let Some((call_id, reason)) = settle(&d, state) {
                let ending = e.lock().expect("endings lock").remove(&call_id);
                if let (Some(tx), TerminatedReason::UasBye) = (ending, reason) {
                    let _ = tx.send(());
                }
            }
        }
    });

    let rtp = RtpCaller::start(SocketAddr::new(config.bind, config.rtp_port))
        .context("socket RTP de l'appelant")?;
    let agent = Arc::new(Agent {
        ua,
        endings,
        rtp,
        config: config.clone(),
        up: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
    });

    let started = super::now();
    let places = Arc::new(Semaphore::new(config.max_at_once));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    // Call ids carry the process id, so that two runs against one server never collide.
    let run_tag = format!("{:x}", std::process::id());
    let launcher = {
        let agent = agent.clone();
        tokio::spawn(async move {
            for i in 0..config.count {
                let due = started + Duration::from_secs_f64(i as f64 / config.rate);
                tokio::time::sleep_until(due.into()).await;
                let Ok(place) = places.clone().acquire_owned().await else {
                    break;
                };
                let agent = agent.clone();
                let done = done_tx.clone();
                let call_id = format!("load-{run_tag}-{i}");
                tokio::spawn(async move {
                    let result = agent.call(i as u64, call_id).await;
                    drop(place);
                    let _ = done.send(result);
                });
            }
        })
    };
    let mut results = Vec::with_capacity(config.count);
    let mut progress = tokio::time::interval(Duration::from_secs(5));
    progress.tick().await;
    while results.len() < config.count {
        tokio::select! {
            r = done_rx.recv() => match r {
                Some(r) => results.push(r),
                None => break,
            },
            _ = progress.tick() => {
                let failed = results.iter().filter(|r: &&CallResult| r.outcome != CallOutcome::Completed).count();
                eprintln!(
                    "load: {:.0} s, {} up, {} ended ({} failed)",
                    started.elapsed().as_secs_f64(),
                    agent.up.load(Ordering::Relaxed),
                    results.len(),
                    failed
                );
            }
        }
    }
    launcher.await.map_err(|e| anyhow!("call launcher: {e}"))?;
    let elapsed = started.elapsed();
    let peak = agent.peak.load(Ordering::Relaxed);
    let pacing = agent.rtp.shutdown().context("RTP de l'appelant")?;
    Ok(Report::new(&config, &results, peak, elapsed, pacing))
}

impl Agent {
    /// Places call number `n`: INVITE, the script, BYE.
    async fn call(&self, n: u64, call_id: String) -> CallResult {
        let began = super::now();
        let up = self.up.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(up, Ordering::Relaxed);
        let mut result = CallResult {
            number: n,
            outcome: CallOutcome::Completed,
            answer: None,
            length: Duration::ZERO,
            rtp: None,
        };
        result.outcome = match self.talk(n, &call_id, &mut result).await {
            Ok(outcome) => outcome,
            Err(e) => CallOutcome::Error(format!("{e:#}")),
        };
        // However the call ended, the server's BYE is no longer awaited.
        self.endings.lock().expect("endings lock").remove(&call_id);
        self.up.fetch_sub(1, Ordering::Relaxed);
        result.length = began.elapsed();
        result
    }

    async fn talk(
        &self,
        n: u64,
        call_id: &str,
        result: &mut CallResult,
    ) -> anyhow::Result<CallOutcome> {
        let config = &self.config;
        let codes = config.codes.get(n as usize % config.codes.len().max(1));
        let steps = config.script.steps(codes)?;
        let (ended_tx, mut ended) = oneshot::channel();
        self.endings
            .lock()
            .expect("endings lock")
            .insert(call_id.to_owned(), ended_tx);
        let contact = format!("sip:load{n}@{}", self.ua.addr);
        let key = config
            .srtp
            .then(|| SrtpKey::generate(SrtpSuite::AesCm128HmacSha1_80));
        let option = InviteOption {
            caller: contact.as_str().try_into()?,
            callee: format!("sip:{}@{}", config.number, config.server)
                .as_str()
                .try_into()?,
            contact: contact.as_str().try_into()?,
            content_type: Some("application/sdp".into()),
            offer: Some(self.offer(n, key)),
            destination: Some(SipAddr {
                r#type: Some(Transport::Udp),
                addr: config.server.into(),
            }),
            call_id: Some(call_id.to_owned()),
            ..Default::default()
        };
        let sent = super::now();
        let answered = tokio::time::timeout(
            config.answer_timeout,
            self.ua.dialogs.do_invite(option, self.ua.state_tx.clone()),
        )
        .await;
        let (dialog, response) = match answered {
            // Dropping the INVITE's future CANCELs it once the server has rung (rsipstack's
            // guard), so a late answer does not leave the call up on the server.
            Err(_) => return Ok(CallOutcome::NoAnswer),
            Ok(r) => r?,
        };
        let status = response.as_ref().map(|r| u16::from(r.status_code.clone()));
        let Some(response) = response.filter(|_| status == Some(200)) else {
            return Ok(CallOutcome::Refused(status.unwrap_or(0)));
        };
        result.answer = Some(sent.elapsed());
        let spec = match self.stream_spec(&response.body, key) {
            Ok(spec) => spec,
            Err(e) => {
                // Answered but unusable: hang up rather than leave the server's call up.
                let _ = tokio::time::timeout(config.answer_timeout, dialog.bye()).await;
                return Ok(CallOutcome::Error(format!("{e:#}")));
            }
        };
        self.rtp.start_stream(n, spec);
        let mut hung_up = false;
        for step in &steps {
            if let Step::Keys(keys) = step {
                self.rtp.press(n, keys);
            }
            tokio::select! {
                _ = tokio::time::sleep(step.duration()) => {}
                _ = &mut ended => { hung_up = true; break; }
            }
        }
        let outcome = if hung_up {
            CallOutcome::ServerHungUp
        } else {
            // The BYE's own answer, not only that one came: through a proxy, a node that
            // died mid-call gets the proxy's 408 or 503, and that call did not go to its end
            // (a fault test counts only the calls the server carried to their BYE).
            let bye = dialog.request(Method::Bye, None, None);
            let outcome = match tokio::time::timeout(config.answer_timeout, bye).await {
                Ok(Ok(Some(r))) if r.status_code == StatusCode::OK => CallOutcome::Completed,
                Ok(Ok(Some(r))) => CallOutcome::Error(format!("BYE: {}", u16::from(r.status_code))),
                Ok(Ok(None)) => CallOutcome::Error("BYE: the dialog was over".into()),
                Ok(Err(e)) => CallOutcome::Error(format!("BYE: {e}")),
                Err(_) => CallOutcome::Error("BYE: no answer".into()),
            };
            // A BYE sent as a plain request leaves the dialog in the layer: done with it.
            self.ua.dialogs.remove_dialog(&dialog.id());
            outcome
        };
        result.rtp = self.rtp.stop_stream(n).await;
        Ok(outcome)
    }

    /// The offer: the one codec and telephone-event at its clock rate, on the shared port,
    /// in clear or as SRTP with `key`.
    fn offer(&self, n: u64, key: Option<SrtpKey>) -> Vec<u8> {
        let rtp = self.rtp.local_addr(n);
        let (pt, map, rate) = match self.config.codec {
            Codec::Opus => (111, "opus/48000/2", 48_000),
            Codec::Pcma => (8, "PCMA/8000", 8_000),
            Codec::Pcmu => (0, "PCMU/8000", 8_000),
        };
        let (proto, crypto) = match key {
            Some(key) => (
                "RTP/SAVP",
                format!("a=crypto:{}\r\n", CryptoAttribute::format(1, &key)),
            ),
            None => ("RTP/AVP", String::new()),
        };
        format!(
            "v=0\r\no=load {n} 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
             m=audio {port} {proto} {pt} 101\r\na=rtpmap:{pt} {map}\r\n\
             a=rtpmap:101 telephone-event/{rate}\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n\
             {crypto}",
            ip = rtp.ip(),
            port = rtp.port()
        )
        .into_bytes()
    }

    /// How to send to the server, from its answer (to our offer with `key`).
    fn stream_spec(&self, answer: &[u8], key: Option<SrtpKey>) -> anyhow::Result<StreamSpec> {
        let neg = sdp::parse(answer)
            .context("the answer's SDP")?
            .negotiate()
            .context("the answer's SDP")?;
        let srtp = match (key, neg.srtp) {
            (None, None) => None,
            (Some(ours), Some(theirs)) if theirs.tag == 1 && theirs.key.suite == ours.suite => {
                Some((ours, theirs.key))
            }
            (Some(_), _) => anyhow::bail!("the answer does not take the SRTP offered"),
            (None, Some(_)) => anyhow::bail!("SRTP answered to an offer in clear"),
        };
        let event = neg
            .telephone_event
            .context("the answer has no telephone-event")?;
        let silence = silence_frame(neg.codec, Ptime::DEFAULT)?;
        Ok(StreamSpec {
            remote: neg.remote,
            audio_pt: neg.payload_type.get(),
            event_pt: event.payload_type.get(),
            samples_per_packet: neg.codec.clock_rate().0 / 50,
            silence,
            srtp,
        })
    }
}
