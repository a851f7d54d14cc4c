//! [`MediaSender`]: one call's outbound RTP stream, sans-IO. It joins the [`Pacer`] (when),
//! the [`Player`] (what) and the [`RtpPacketizer`] (how), keeping sequence numbers and
//! timestamps continuous across prompts and silences.
//!
//! The driver loop is: sleep until [`MediaSender::poll_timeout`], call
//! [`MediaSender::handle_timeout`] with the instant it woke up, then send every packet
//! [`MediaSender::poll_transmit`] gives. Nothing allocates per packet.

use std::time::Instant;

use super::pacer::Pacer;
use super::player::Player;
use crate::media::rtp_packetizer::RtpPacketizer;
use crate::media::rtp_types::{PayloadType, RtpTimestamp, SeqNo, Ssrc};
use crate::media::{Codec, MediaError, Ptime};

/// How the outbound stream is set up (from the SDP answer, plus random initial values as
/// RFC 3550 §5.1 asks for the SSRC, the first sequence number and the first timestamp).
#[derive(Debug, Clone, Copy)]
pub struct OutboundConfig {
    /// Codec to send.
    pub codec: Codec,
    /// Frame duration.
    pub ptime: Ptime,
    /// Payload type negotiated for the codec.
    pub payload_type: PayloadType,
    /// Our SSRC.
    pub ssrc: Ssrc,
    /// Sequence number of the first packet.
    pub initial_seq: SeqNo,
    /// RTP timestamp of slot 0.
    pub initial_timestamp: RtpTimestamp,
}

impl OutboundConfig {
    /// A configuration with a random SSRC, first sequence number and first timestamp, as
    /// RFC 3550 §5.1 recommends.
    pub fn random(codec: Codec, ptime: Ptime, payload_type: PayloadType) -> OutboundConfig {
        OutboundConfig {
            codec,
            ptime,
            payload_type,
            ssrc: Ssrc(rand::random()),
            initial_seq: SeqNo(rand::random()),
            initial_timestamp: RtpTimestamp(rand::random()),
        }
    }
}

/// Counters of one outbound stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SenderStats {
    /// Packets handed out.
    pub packets_sent: u64,
    /// Ticks that came after more than one slot was due.
    pub late_ticks: u64,
    /// Slots skipped because a tick was too late (see [`super::pacer`]).
    pub slots_skipped: u64,
}

/// One call's outbound RTP stream.
#[derive(Debug)]
pub struct MediaSender {
    pacer: Pacer,
    player: Player,
    rtp: RtpPacketizer,
    samples_per_frame: u32,
    initial_timestamp: RtpTimestamp,
    seq: SeqNo,
    next_slot: u64,
    pending: u32,
    /// Set after skipped slots: the next packet carries the marker so the receiver re-syncs.
    resync: bool,
    stats: SenderStats,
}

impl MediaSender {
    /// A stream whose first packet is due at `start`.
    pub fn new(start: Instant, config: OutboundConfig) -> Result<MediaSender, MediaError> {
        Ok(MediaSender {
            pacer: Pacer::new(start, config.ptime.as_duration()),
            player: Player::new(config.codec, config.ptime)?,
            rtp: RtpPacketizer::new(config.ssrc, config.payload_type),
            samples_per_frame: config.codec.samples_per_frame(config.ptime),
            initial_timestamp: config.initial_timestamp,
            seq: config.initial_seq,
            next_slot: 0,
            pending: 0,
            resync: false,
            stats: SenderStats::default(),
        })
    }

    /// The player, to queue prompts, stop them (barge-in) and read its events.
    pub fn player(&mut self) -> &mut Player {
        &mut self.player
    }

    /// When the next packet is due.
    #[inline]
    pub fn poll_timeout(&self) -> Instant {
        self.pacer.poll_timeout()
    }

    /// Releases the packets due at `now`; get them with [`MediaSender::poll_transmit`].
    #[inline]
    pub fn handle_timeout(&mut self, now: Instant) {
        let due = self.pacer.handle_timeout(now);
        if due.count == 0 {
            return;
        }
        if due.count > 1 || due.skipped > 0 {
            self.stats.late_ticks += 1;
        }
        if due.skipped > 0 {
            self.stats.slots_skipped += due.skipped;
            self.resync = true;
        }
        // Slots not yet drained by poll_transmit are dropped: the pacer's view wins.
        self.next_slot = due.first_slot;
        self.pending = due.count;
    }

    /// The next due packet, borrowed from the stream's reused buffer; `None` when all due
    /// packets were given. The error case (a payload larger than the buffer) cannot happen
    /// with frames from our own prompts.
    #[inline]
    pub fn poll_transmit(&mut self) -> Option<Result<&[u8], MediaError>> {
        if self.pending == 0 {
            return None;
        }
        let slot = self.next_slot;
        self.next_slot += 1;
        self.pending -= 1;
        // The timestamp follows the slot, not the packet count: skipped slots show as a gap
        // in time (RFC 3550 §5.1), never as drift.
        let ts = self
            .initial_timestamp
            .add((slot as u32).wrapping_mul(self.samples_per_frame));
        let seq = self.seq;
        self.seq = seq.next();
        let frame = self.player.next_frame();
        let marker = frame.marker || (self.resync && frame.speech);
        if frame.speech {
            self.resync = false;
        }
        self.stats.packets_sent += 1;
        Some(self.rtp.build(seq, ts, marker, frame.payload))
    }

    /// The counters.
    pub fn stats(&self) -> SenderStats {
        self.stats
    }

    /// The sequence number the next packet will carry.
    pub fn next_seq(&self) -> SeqNo {
        self.seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::player::PlayerEvent;
    use crate::media::Prompt;
    use rtp_rs::RtpReader;
    use std::sync::Arc;
    use std::time::Duration;

    #[derive(Debug, Clone)]
    struct Sent {
        seq: u16,
        ts: u32,
        marker: bool,
        pt: u8,
        payload: Vec<u8>,
    }

    fn sender(codec: Codec, pt: u8, start: Instant) -> MediaSender {
        MediaSender::new(
            start,
            OutboundConfig {
                codec,
                ptime: Ptime::DEFAULT,
                payload_type: PayloadType::new(pt).unwrap(),
                ssrc: Ssrc(42),
                initial_seq: SeqNo(65530),
                initial_timestamp: RtpTimestamp(u32::MAX - 500),
            },
        )
        .unwrap()
    }

    fn run_until(s: &mut MediaSender, end: Instant, out: &mut Vec<Sent>) {
        while s.poll_timeout() <= end {
            let now = s.poll_timeout() + Duration::from_millis(3);
            s.handle_timeout(now);
            while let Some(p) = s.poll_transmit() {
                let p = p.unwrap();
                let r = RtpReader::new(p).unwrap();
                out.push(Sent {
                    seq: r.sequence_number().into(),
                    ts: r.timestamp(),
                    marker: r.mark(),
                    pt: r.payload_type(),
                    payload: r.payload().to_vec(),
                });
            }
        }
    }

    #[test]
    fn continuous_seq_and_timestamps_across_prompts_and_silence_with_markers() {
        for (codec, pt, spf) in [(Codec::Pcmu, 0u8, 160u32), (Codec::Opus, 111, 960)] {
            let t0 = crate::core::test_epoch();
            let mut s = sender(codec, pt, t0);
            let mut out = Vec::new();
            run_until(&mut s, t0 + Duration::from_millis(100), &mut out); // 6 silent slots
            let p = Arc::new(Prompt::from_pcm("p", &[3000; 800], 8000).unwrap()); // 5 frames
            s.player().enqueue(p.clone()).unwrap();
            s.player().enqueue(p.clone()).unwrap();
            run_until(&mut s, t0 + Duration::from_millis(400), &mut out);
            s.player().enqueue(p).unwrap();
            run_until(&mut s, t0 + Duration::from_millis(1000), &mut out);

            assert_eq!(out.len(), 51);
            for w in out.windows(2) {
                assert_eq!(w[1].seq, w[0].seq.wrapping_add(1));
                assert_eq!(w[1].ts, w[0].ts.wrapping_add(spf));
            }
            assert!(out.iter().all(|p| p.pt == pt));
            let markers: Vec<usize> = out
                .iter()
                .enumerate()
                .filter(|(_, p)| p.marker)
                .map(|(i, _)| i)
                .collect();
            // Two back-to-back prompts form one talk-spurt (slot 6); the third starts at 21.
            assert_eq!(markers, [6, 21], "{codec:?}");
            assert_eq!(out[0].seq, 65530);
            assert_eq!(out[0].ts, u32::MAX - 500);
            assert_eq!(s.stats().packets_sent, 51);
            let mut events = Vec::new();
            while let Some(e) = s.player().poll_event() {
                events.push(e);
            }
            assert_eq!(
                events
                    .iter()
                    .filter(|e| matches!(e, PlayerEvent::Finished { .. }))
                    .count(),
                3
            );
        }
    }

    #[test]
    fn g711_payloads_are_the_prompt_bytes() {
        let t0 = crate::core::test_epoch();
        let mut s = sender(Codec::Pcma, 8, t0);
        let pcm: Vec<i16> = (0..1600)
            .map(|i| ((i * 37) % 20000) as i16 - 10000)
            .collect();
        let p = Arc::new(Prompt::from_pcm("p", &pcm, 8000).unwrap());
        s.player().enqueue(p.clone()).unwrap();
        let mut out = Vec::new();
        run_until(&mut s, t0 + Duration::from_millis(190), &mut out);
        let sent: Vec<u8> = out.iter().flat_map(|p| p.payload.clone()).collect();
        assert_eq!(sent, p.g711(Codec::Pcma).unwrap());
    }

    #[test]
    fn a_stall_skips_slots_keeps_seq_and_marks_the_resync() {
        let t0 = crate::core::test_epoch();
        let mut s = sender(Codec::Pcmu, 0, t0);
        let p = Arc::new(Prompt::from_pcm("p", &[3000; 8000], 8000).unwrap());
        s.player().enqueue(p).unwrap();
        let mut out = Vec::new();
        run_until(&mut s, t0 + Duration::from_millis(100), &mut out);
        // The task stalls 200 ms.
        let late = s.poll_timeout() + Duration::from_millis(200);
        s.handle_timeout(late);
        let mut burst = 0;
        while let Some(p) = s.poll_transmit() {
            let r = RtpReader::new(p.unwrap()).unwrap();
            assert!(r.mark(), "the receiver re-syncs on the marker");
            assert_eq!(r.timestamp(), out.last().unwrap().ts.wrapping_add(160 * 11));
            assert_eq!(
                u16::from(r.sequence_number()),
                out.last().unwrap().seq.wrapping_add(1)
            );
            burst += 1;
        }
        assert!(burst <= crate::core::pacer::MAX_BURST);
        assert_eq!(s.stats().slots_skipped, 10);
        assert_eq!(s.stats().late_ticks, 1);
    }
}
