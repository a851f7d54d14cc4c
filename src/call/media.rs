//! The call's media session: glue between the driver and the sans-IO media core.
//!
//! The driver hands it received RTP and SIP INFO bodies and asks it for packets to send, the
//! next time to wake, digits heard, and prompt events. It never touches the socket or the
//! clock itself: instants come in as arguments.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use rtp_rs::RtpReader;
use tracing::{debug, warn};

use crate::core::dtmf::rfc4733::Rfc4733Detector;
use crate::core::dtmf::sip_info;
use crate::core::outbound::{MediaSender, OutboundConfig};
use crate::core::player::{PlayId, PlayerEvent};
use crate::core::{ClockRate, Digit, RtpTimestamp, SeqNo, Ssrc};
use crate::media::Prompt;
use crate::sip::sdp::Negotiated;

/// A prompt ready to play, shared by every call (the call holds a cursor, not a copy).
pub type PromptRef = Arc<Prompt>;

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
    /// Telephone-events: their payload type and detector.
    rfc4733: Option<(u8, Rfc4733Detector)>,
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

fn detector(neg: &Negotiated) -> Option<(u8, Rfc4733Detector)> {
    neg.telephone_event.map(|te| {
        (
            te.payload_type.get(),
            Rfc4733Detector::new(ClockRate(te.clock_rate)),
        )
    })
}

impl MediaSession {
    /// Starts the outbound stream at `now` (its first packet is due then).
    pub(crate) fn new(
        negotiated: Negotiated,
        now: Instant,
    ) -> Result<Self, crate::media::MediaError> {
        let sender = MediaSender::new(now, outbound_config(&negotiated))?;
        Ok(Self {
            rfc4733: detector(&negotiated),
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
        if old.telephone_event != negotiated.telephone_event {
            self.rfc4733 = detector(&negotiated);
        }
        self.negotiated = negotiated;
    }

    /// Queues a prompt; `None` when it cannot be played at this codec (logged).
    pub(crate) fn play(&mut self, prompt: PromptRef) -> Option<PlayId> {
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

    /// One received RTP packet (already checked to be version 2).
    pub(crate) fn handle_rtp(&mut self, _now: Instant, packet: &[u8]) {
        let rtp = match RtpReader::new(packet) {
            Ok(r) => r,
            Err(e) => {
                debug!(error = ?e, "unreadable RTP packet");
                return;
            }
        };
        if let Some((pt, det)) = self.rfc4733.as_mut()
            && rtp.payload_type() == *pt
        {
            match det.handle_packet(
                Ssrc(rtp.ssrc()),
                RtpTimestamp(rtp.timestamp()),
                rtp.payload(),
            ) {
                Ok(Some(d)) => self.events.push_back(MediaEvent::Digit(d)),
                Ok(None) => {}
                Err(e) => debug!(error = %e, "bad telephone-event packet"),
            }
        }
    }

    /// The body of a SIP INFO; returns false when it is not DTMF (answer 415).
    pub(crate) fn handle_info(&mut self, _now: Instant, content_type: &str, body: &[u8]) -> bool {
        if sip_info::InfoFormat::from_content_type(content_type).is_none() {
            return false;
        }
        match sip_info::parse_info(content_type, body) {
            Ok(d) => self.events.push_back(MediaEvent::Digit(d)),
            Err(e) => debug!(error = %e, "INFO without a usable digit"),
        }
        true
    }

    fn drain_player_events(&mut self) {
        while let Some(ev) = self.sender.player().poll_event() {
            if let PlayerEvent::Finished { id, .. } = ev {
                self.events.push_back(MediaEvent::PromptDone(id));
            }
        }
    }

    /// The next event for the driver.
    pub(crate) fn poll_event(&mut self) -> Option<MediaEvent> {
        self.drain_player_events();
        self.events.pop_front()
    }

    /// When the next packet is due.
    pub(crate) fn poll_timeout(&self) -> Instant {
        self.sender.poll_timeout()
    }

    /// Hands every packet due by `now` to `send`; returns how many late ticks happened since
    /// the last call (for the metrics).
    pub(crate) fn transmit(&mut self, now: Instant, mut send: impl FnMut(&[u8])) -> u64 {
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
