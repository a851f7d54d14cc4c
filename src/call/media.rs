//! The call's media session: glue between the driver and the sans-IO media core.
//!
//! The driver hands it received RTP and SIP INFO bodies and asks it for packets to send, the
//! next time to wake, digits heard, and prompt events. It never touches the socket or the
//! clock itself: instants come in as arguments.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{debug, warn};

use crate::call::sdp::Negotiated;
use crate::core::Digit;
use crate::core::error::CoreError;
use crate::core::inbound::{InboundConfig, MediaReceiver, PacketKind};
use crate::core::outbound::{MediaSender, OutboundConfig};
use crate::core::player::{PlayId, PlayerEvent};
use crate::core::recorder::Recording;
use crate::media::{ClockRate, RtpTimestamp, SeqNo, Ssrc};
use crate::media::{MediaError, Prompt};

/// A prompt ready to play, shared by every call (the call holds a cursor, not a copy).
pub type SharedPrompt = Arc<Prompt>;

/// Events the media session reports to the driver.
#[derive(Debug)]
pub(crate) enum MediaEvent {
    /// A digit was heard (each key press once, whatever its source).
    Digit(Digit),
    /// One queued prompt ended (played out, stopped or skipped).
    PromptDone(PlayId),
}

/// The media side of one call.
pub(crate) struct MediaSession {
    negotiated: Negotiated,
    sender: MediaSender,
    receiver: MediaReceiver,
    inband_dtmf: bool,
    events: VecDeque<MediaEvent>,
    late_ticks_seen: u64,
}

fn outbound_config(neg: &Negotiated) -> OutboundConfig {
    // RFC 3550 §5.1: random SSRC, first sequence number and first timestamp.
    OutboundConfig {
        codec: neg.codec,
        ptime: neg.ptime,
        payload_type: neg.payload_type,
        ssrc: Ssrc(rand::random()),
        initial_seq: SeqNo(rand::random()),
        initial_timestamp: RtpTimestamp(rand::random()),
    }
}

fn inbound_config(neg: &Negotiated, inband_dtmf: bool) -> InboundConfig {
    InboundConfig {
        codec: neg.codec,
        audio_payload_type: neg.payload_type,
        telephone_event: neg
            .telephone_event
            .map(|te| (te.payload_type, ClockRate(te.clock_rate))),
        inband_dtmf,
    }
}

impl MediaSession {
    /// Starts the outbound stream at `now` (its first packet is due then).
    pub(crate) fn new(
        negotiated: Negotiated,
        inband_dtmf: bool,
        now: Instant,
    ) -> Result<Self, MediaError> {
        let sender = MediaSender::new(now, outbound_config(&negotiated))?;
        Ok(Self {
            receiver: MediaReceiver::new(inbound_config(&negotiated, inband_dtmf)),
            inband_dtmf,
            negotiated,
            sender,
            events: VecDeque::new(),
            late_ticks_seen: 0,
        })
    }

    /// A new offer/answer settled. A new codec, payload type or ptime restarts the outbound
    /// stream; a new address or direction alone does not.
    pub(crate) fn renegotiate(&mut self, negotiated: Negotiated, now: Instant) {
        let old = self.negotiated.clone();
        if old.codec != negotiated.codec
            || old.payload_type != negotiated.payload_type
            || old.ptime != negotiated.ptime
        {
            match MediaSender::new(now, outbound_config(&negotiated)) {
                Ok(sender) => {
                    self.sender.player().stop();
                    self.drain_player_events();
                    self.sender = sender;
                }
                Err(e) => warn!(error = %e, "cannot switch codec, keeping the old one"),
            }
        }
        // The DTMF merger and a recording in progress carry on across the re-INVITE.
        self.receiver
            .renegotiate(inbound_config(&negotiated, self.inband_dtmf));
        self.negotiated = negotiated;
    }

    /// Queues a prompt; `None` when it cannot be played at this codec (logged).
    pub(crate) fn play(&mut self, prompt: SharedPrompt) -> Option<PlayId> {
        match self.sender.player().enqueue(prompt) {
            Ok(id) => Some(id),
            Err(e) => {
                warn!(error = %e, "prompt cannot be played");
                None
            }
        }
    }

    /// Stops the current prompt and drops the queued ones (barge-in).
    pub(crate) fn stop_playing(&mut self) {
        self.sender.player().stop();
        self.drain_player_events();
    }

    /// One received RTP packet; false when it was audio dropped unread because the caller
    /// sent too much at once ([`crate::core::inbound::AUDIO_PER_INSTANT`]).
    pub(crate) fn handle_rtp(&mut self, now: Instant, packet: &[u8]) -> bool {
        let kind = match self.receiver.handle_rtp(now, packet) {
            Ok(kind) => Some(kind),
            Err(e) => {
                debug!(error = %e, "bad RTP packet");
                None
            }
        };
        self.drain_digits();
        kind != Some(PacketKind::Flooded)
    }

    /// The body of a SIP INFO: `Ok` when it carried a digit; an error names why not.
    pub(crate) fn handle_info(
        &mut self,
        now: Instant,
        content_type: &str,
        body: &[u8],
    ) -> Result<(), CoreError> {
        let r = self.receiver.handle_info(now, content_type, body);
        self.drain_digits();
        r
    }

    /// Releases digits the merger held (waiting to see whether another source repeats them).
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.receiver.handle_timeout(now);
        self.drain_digits();
    }

    fn drain_digits(&mut self) {
        while let Some((d, _source)) = self.receiver.poll_digit() {
            self.events.push_back(MediaEvent::Digit(d));
        }
    }

    /// Starts recording the caller, at most `max`.
    pub(crate) fn start_recording(&mut self, max: Duration) {
        self.receiver.start_recording(max);
    }

    /// Whether the recording reached its maximum length.
    pub(crate) fn recording_full(&self) -> bool {
        self.receiver.recording_full()
    }

    /// Ends the recording and gives its audio.
    pub(crate) fn stop_recording(&mut self) -> Option<Result<Recording, MediaError>> {
        self.receiver.stop_recording()
    }

    fn drain_player_events(&mut self) {
        while let Some(ev) = self.sender.player().poll_event() {
            if let PlayerEvent::Finished { id, .. } = ev {
                self.events.push_back(MediaEvent::PromptDone(id));
            }
        }
    }

    /// Whether the driver has something to do: an event to take or a recording full.
    pub(crate) fn needs_driver(&mut self) -> bool {
        self.drain_player_events();
        !self.events.is_empty() || self.receiver.recording_full()
    }

    /// The next event for the driver.
    pub(crate) fn poll_event(&mut self) -> Option<MediaEvent> {
        self.drain_player_events();
        self.events.pop_front()
    }

    /// When the session must be woken: the next packet, or a held digit to release.
    pub(crate) fn poll_timeout(&self) -> Instant {
        let next = self.sender.poll_timeout();
        self.receiver.poll_timeout().map_or(next, |t| t.min(next))
    }

    /// Hands every packet due by `now` to `send`; returns how many late ticks happened since
    /// the last call (for the metrics).
    pub(crate) fn transmit(&mut self, now: Instant, mut send: impl FnMut(&[u8])) -> u64 {
        if self.receiver.poll_timeout().is_some_and(|t| t <= now) {
            self.handle_timeout(now);
        }
        if now < self.sender.poll_timeout() {
            return 0;
        }
        self.sender.handle_timeout(now);
        while let Some(packet) = self.sender.poll_transmit() {
            match packet {
                Ok(p) => send(p),
                Err(e) => debug!(error = %e, "packet not built"),
            }
        }
        let late = self.sender.stats().late_ticks;
        let new = late - self.late_ticks_seen;
        self.late_ticks_seen = late;
        new
    }
}
