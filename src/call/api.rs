//! The call API the flows drive: play prompts, collect digits, record, hang up.
//!
//! A [`Call`] is a cheap handle that talks to the call's driver task over a channel. The flow
//! future itself is polled by the driver task (one task per call), so a flow awaiting a reply
//! costs no extra task or thread.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

use super::media::SharedPrompt;
use crate::core::Digit;
pub use crate::core::recorder::Recording;
use crate::core::{CollectSpec, Collected};
use crate::media::Codec;

/// Who called whom, as the flow may need it. Numbers are personal data: do not log them.
#[derive(Clone, PartialEq, Eq)]
pub struct CallInfo {
    /// SIP Call-ID (safe to log: it names the call, not the person).
    pub call_id: String,
    /// The dialled number (user part of the request URI), which chooses the flow.
    pub dialled: String,
    /// The caller's number (user part of From), when given. Anyone can write it.
    pub caller: Option<String>,
    /// The address the INVITE came from (its top Via's `received`, else its sent-by).
    pub source_ip: Option<IpAddr>,
    /// The caller's number asserted by a trusted trunk: the user part of the
    /// P-Asserted-Identity of an INVITE that came from an address in `[sip]
    /// trusted_trunks`; `None` for any other INVITE, whatever its headers say.
    pub asserted_caller: Option<String>,
    /// The codec negotiated with the caller.
    pub codec: Codec,
}

impl std::fmt::Debug for CallInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallInfo")
            .field("call_id", &self.call_id)
            .field("codec", &self.codec)
            .finish_non_exhaustive()
    }
}

/// How a `play` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Played {
    /// Every prompt was played to the end.
    Finished,
    /// A digit interrupted the prompts (barge-in); the digit stays queued for the next
    /// `collect` or `next_digit`.
    Interrupted,
}

/// What to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpec {
    /// Longest recording.
    pub max_len: Duration,
    /// A key that stops the recording (not recorded), usually `#`.
    pub stop_on: Option<Digit>,
}

/// A finished recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The caller's audio: mono 16-bit samples, in order, gaps filled with silence (write it
    /// with [`Recording::write_wav`]).
    pub audio: Recording,
    /// Whether the stop key ended it (otherwise `max_len` did).
    pub stopped_by_key: bool,
}

/// Errors a flow sees when driving a call.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The call is over (the caller hung up, or we did).
    #[error("l'appel est terminé")]
    Ended,
    /// The recording could not be made (details in the logs).
    #[error("l'enregistrement a échoué")]
    RecordingFailed,
}

/// Requests from the flow to the driver.
pub(crate) enum Command {
    Play {
        prompts: Vec<SharedPrompt>,
        barge_in: bool,
        done: oneshot::Sender<Played>,
    },
    StopPlay,
    Collect {
        spec: CollectSpec,
        done: oneshot::Sender<Collected>,
    },
    NextDigit {
        timeout: Option<Duration>,
        done: oneshot::Sender<Option<Digit>>,
    },
    FlushDigits,
    Record {
        spec: RecordSpec,
        done: oneshot::Sender<Result<Recorded, CallError>>,
    },
    Hangup,
}

/// The handle a flow drives its call with. Clone it freely.
#[derive(Clone)]
pub struct Call {
    info: Arc<CallInfo>,
    commands: mpsc::UnboundedSender<Command>,
}

impl Call {
    pub(crate) fn new(info: Arc<CallInfo>, commands: mpsc::UnboundedSender<Command>) -> Self {
        Self { info, commands }
    }

    /// Facts about the call.
    pub fn info(&self) -> &CallInfo {
        &self.info
    }

    fn send(&self, cmd: Command) -> Result<(), CallError> {
        self.commands.send(cmd).map_err(|_| CallError::Ended)
    }

    /// Plays `prompts` one after the other and waits until they are over. With `barge_in`,
    /// any digit stops them at once (the digit stays queued for the next `collect`); without
    /// it, digits typed meanwhile are queued too but do not interrupt.
    pub async fn play(
        &self,
        prompts: Vec<SharedPrompt>,
        barge_in: bool,
    ) -> Result<Played, CallError> {
        self.start_play(prompts, barge_in)?
            .await
            .map_err(|_| CallError::Ended)
    }

    /// Queues `prompts` and returns at once; await the returned receiver to know when they
    /// are over (that is the "prompt finished" event). Several queued plays follow each other.
    pub fn start_play(
        &self,
        prompts: Vec<SharedPrompt>,
        barge_in: bool,
    ) -> Result<oneshot::Receiver<Played>, CallError> {
        let (done, rx) = oneshot::channel();
        self.send(Command::Play {
            prompts,
            barge_in,
            done,
        })?;
        Ok(rx)
    }

    /// Stops whatever is playing and drops the queued prompts.
    pub fn stop_play(&self) -> Result<(), CallError> {
        self.send(Command::StopPlay)
    }

    /// Collects digits per `spec`, starting with those already typed (type-ahead, barge-in).
    pub async fn collect(&self, spec: CollectSpec) -> Result<Collected, CallError> {
        let (done, rx) = oneshot::channel();
        self.send(Command::Collect { spec, done })?;
        rx.await.map_err(|_| CallError::Ended)
    }

    /// The next digit typed (or already queued); `None` when `timeout` passes first.
    pub async fn next_digit(&self, timeout: Option<Duration>) -> Result<Option<Digit>, CallError> {
        let (done, rx) = oneshot::channel();
        self.send(Command::NextDigit { timeout, done })?;
        rx.await.map_err(|_| CallError::Ended)
    }

    /// Forgets the digits typed ahead.
    pub fn flush_digits(&self) -> Result<(), CallError> {
        self.send(Command::FlushDigits)
    }

    /// Records what the caller says, up to `spec.max_len` or the stop key.
    pub async fn record(&self, spec: RecordSpec) -> Result<Recorded, CallError> {
        let (done, rx) = oneshot::channel();
        self.send(Command::Record { spec, done })?;
        rx.await.map_err(|_| CallError::Ended)?
    }

    /// Hangs up (BYE). Later calls on this handle return [`CallError::Ended`].
    pub fn hangup(&self) -> Result<(), CallError> {
        self.send(Command::Hangup)
    }
}

/// A boxed flow future, polled by the call's driver task.
pub type FlowFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// What runs a call once it is answered. When the future ends, the call is hung up.
pub trait CallFlow: Send + Sync + 'static {
    /// Drives `call` to its end.
    fn run(&self, call: Call) -> FlowFuture;

    /// What the caller hears when the server must end the call itself because it shuts
    /// down and the grace period is over: the flow is stopped, this is played, then the
    /// BYE. `None` (the default) hangs up at once.
    fn farewell(&self) -> Option<SharedPrompt> {
        None
    }
}

impl<F, Fut> CallFlow for F
where
    F: Fn(Call) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn run(&self, call: Call) -> FlowFuture {
        Box::pin(self(call))
    }
}

/// Chooses the flow for a dialled number (one server can carry several lines).
pub trait FlowSelector: Send + Sync + 'static {
    /// The flow for `dialled`, or `None` to refuse the call with 404.
    fn select(&self, dialled: &str) -> Option<Arc<dyn CallFlow>>;
}

/// One flow for every number.
pub struct SingleFlow(pub Arc<dyn CallFlow>);

impl FlowSelector for SingleFlow {
    fn select(&self, _dialled: &str) -> Option<Arc<dyn CallFlow>> {
        Some(self.0.clone())
    }
}
