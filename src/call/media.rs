//! The call's media session: glue between the driver and the sans-IO media core.
//!
//! The driver hands it received RTP and SIP INFO bodies and asks it for packets to send, the
//! next time to wake, digits heard, and prompt and recording events. It never touches the
//! socket or the clock itself.

use std::sync::Arc;
use std::time::Instant;

use super::api::Recording;
use super::digits::Digit;
use crate::sip::sdp::Negotiated;

/// A prompt ready to play, shared by every call.
pub type PromptRef = Arc<Prompt>;

/// Placeholder prompt until the media core is merged.
#[derive(Debug)]
pub struct Prompt;

/// Events the media session reports to the driver.
#[derive(Debug)]
#[allow(dead_code)] // produced once the media core is wired in
pub(crate) enum MediaEvent {
    /// A digit was heard (each digit once, whatever its source).
    Digit(Digit),
    /// One queued prompt ended (played out or stopped).
    PromptDone,
    /// The recording ended.
    Recorded(Recording),
}

/// The media side of one call.
#[allow(dead_code)]
pub(crate) struct MediaSession {
    negotiated: Negotiated,
}

impl MediaSession {
    pub(crate) fn new(negotiated: Negotiated, _now: Instant) -> Self {
        Self { negotiated }
    }

    pub(crate) fn renegotiate(&mut self, negotiated: Negotiated, _now: Instant) {
        self.negotiated = negotiated;
    }

    pub(crate) fn play(&mut self, _prompt: PromptRef, _now: Instant) {}

    pub(crate) fn stop_playing(&mut self) {}

    pub(crate) fn start_recording(&mut self, _now: Instant) {}

    pub(crate) fn stop_recording(&mut self) {}

    pub(crate) fn handle_rtp(&mut self, _now: Instant, _packet: &[u8]) {}

    pub(crate) fn handle_info(&mut self, _now: Instant, _content_type: &str, _body: &[u8]) {}

    pub(crate) fn poll_event(&mut self) -> Option<MediaEvent> {
        None
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// The next packet due by `now`, written into `buf`; returns its length.
    pub(crate) fn poll_transmit(&mut self, _now: Instant, _buf: &mut [u8]) -> Option<usize> {
        None
    }
}
