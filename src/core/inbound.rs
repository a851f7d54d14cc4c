//! [`MediaReceiver`]: one call's incoming RTP and SIP INFO, sans-IO. Each packet is routed
//! by payload type: telephone-events to the RFC 4733 detector, audio to the in-band tone
//! detector (only while no better DTMF source has been heard) and to the recorder when one
//! runs; every digit goes through the [`DtmfMerger`] so a press counts once. Tones are read
//! from G.711 directly, and from Opus, decoded at 8 kHz, only for a call that negotiated no
//! telephone-event: the usual call decodes nothing. Nothing allocates per packet.

use std::time::{Duration, Instant};

use rtp_rs::RtpReader;

use super::digit::Digit;
use super::dtmf::DtmfSource;
use super::dtmf::inband::InbandDetector;
use super::dtmf::merge::DtmfMerger;
use super::dtmf::rfc4733::Rfc4733Detector;
use super::dtmf::sip_info::parse_info;
use super::error::CoreError;
use super::recorder::{Recorder, Recording};
use crate::media::g711::Law;
use crate::media::opus::OpusDecoder;
use crate::media::rtp_types::{ClockRate, PayloadType, RtpTimestamp, SeqNo, Ssrc};
use crate::media::{Codec, MediaError};

/// The most audio packets of one call handled at one instant (one tick of the RTP thread,
/// 10 ms, holds one or two at the usual packet times; 64 is 1.28 s of 20 ms packets, a burst
/// after the longest stall a network delivers, or a trunk's in-band tones sent unpaced).
/// Beyond it the caller floods its own call: the audio is dropped unread and counted, so
/// that the detectors and the recorder cost no more than a call's share, while its
/// telephone-events, cheap to read, still come through.
pub const AUDIO_PER_INSTANT: u32 = 64;

/// What the SDP negotiated for the incoming stream.
#[derive(Debug, Clone, Copy)]
pub struct InboundConfig {
    /// The audio codec.
    pub codec: Codec,
    /// Its payload type.
    pub audio_payload_type: PayloadType,
    /// The telephone-event payload type and its clock rate (8000 or 48000), if negotiated.
    pub telephone_event: Option<(PayloadType, ClockRate)>,
    /// Whether to look for DTMF tones in G.711 audio when telephone-events were negotiated
    /// too. It costs about 8 filter updates per sample, so a deployment whose trunks all send
    /// telephone-events may turn it off; it also stops by itself once events or INFO digits
    /// are heard. Without telephone-events tones are always looked for, in G.711 or Opus: a
    /// caller must be able to type.
    pub inband_dtmf: bool,
}

/// What one datagram turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// Audio of the negotiated codec.
    Audio,
    /// A telephone-event.
    Event,
    /// RTP of a payload type we did not negotiate (comfort noise, a stray codec): ignored.
    OtherPayload,
    /// Audio beyond [`AUDIO_PER_INSTANT`] at one instant: dropped unread.
    Flooded,
}

/// Counters of the incoming stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    /// Valid RTP packets.
    pub packets: u64,
    /// Datagrams that were not RTP, or bad telephone-event payloads.
    pub malformed: u64,
    /// Audio packets dropped unread because too many came at one instant.
    pub flooded: u64,
    /// Opus packets the tone reader could not decode.
    pub undecodable: u64,
}

/// Reads tones in Opus audio: the decoder at 8 kHz and room for its longest output.
struct OpusTones {
    decoder: OpusDecoder,
    pcm: [i16; 960],
}

impl std::fmt::Debug for OpusTones {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpusTones")
    }
}

/// One call's inbound media.
#[derive(Debug)]
pub struct MediaReceiver {
    config: InboundConfig,
    law: Option<Law>,
    rfc4733: Rfc4733Detector,
    inband: InbandDetector,
    /// Made at the first Opus audio whose tones are read, so that a call never needing it
    /// costs nothing.
    opus_tones: Option<Box<OpusTones>>,
    merger: DtmfMerger,
    recorder: Option<(Recorder, Ssrc)>,
    /// A recording cut short by a codec change, returned by the next `stop_recording`.
    finished_recording: Option<Result<Recording, MediaError>>,
    last_packet: Option<Instant>,
    remote_ssrc: Option<Ssrc>,
    /// The instant of the audio counted in `audio_at_instant`.
    audio_instant: Option<Instant>,
    audio_at_instant: u32,
    stats: ReceiverStats,
}

impl MediaReceiver {
    /// A receiver for the negotiated stream.
    pub fn new(config: InboundConfig) -> MediaReceiver {
        let event_clock = config.telephone_event.map_or(ClockRate(8000), |(_, c)| c);
        MediaReceiver {
            law: match config.codec {
                Codec::Pcmu => Some(Law::Ulaw),
                Codec::Pcma => Some(Law::Alaw),
                Codec::Opus => None,
            },
            config,
            rfc4733: Rfc4733Detector::new(event_clock),
            inband: InbandDetector::new(),
            opus_tones: None,
            merger: DtmfMerger::new(),
            recorder: None,
            finished_recording: None,
            last_packet: None,
            remote_ssrc: None,
            audio_instant: None,
            audio_at_instant: 0,
            stats: ReceiverStats::default(),
        }
    }

    /// Applies a new offer/answer (re-INVITE): codec, payload types. The DTMF merger, the
    /// recording and the counters carry on; the detectors restart if what they read changed.
    pub fn renegotiate(&mut self, config: InboundConfig) {
        if config.telephone_event.map(|(_, c)| c) != self.config.telephone_event.map(|(_, c)| c) {
            let clock = config.telephone_event.map_or(ClockRate(8000), |(_, c)| c);
            self.rfc4733 = Rfc4733Detector::new(clock);
        }
        if config.codec != self.config.codec
            || config.telephone_event.is_some() != self.config.telephone_event.is_some()
        {
            self.inband = InbandDetector::new();
            self.opus_tones = None;
        }
        if config.codec != self.config.codec {
            self.law = match config.codec {
                Codec::Pcmu => Some(Law::Ulaw),
                Codec::Pcma => Some(Law::Alaw),
                Codec::Opus => None,
            };
            if let Some((rec, _)) = self.recorder.take() {
                // A recording cannot mix codecs: keep what was recorded so far.
                self.finished_recording = Some(rec.finish());
            }
        }
        self.config = config;
    }

    /// Takes one datagram received on the call's RTP socket at `now`.
    #[inline]
    pub fn handle_rtp(&mut self, now: Instant, datagram: &[u8]) -> Result<PacketKind, CoreError> {
        let rtp = match RtpReader::new(datagram) {
            Ok(r) => r,
            Err(_) => {
                self.stats.malformed += 1;
                return Err(CoreError::BadRtp("header"));
            }
        };
        self.stats.packets += 1;
        self.last_packet = Some(now);
        let ssrc = Ssrc(rtp.ssrc());
        let ts = RtpTimestamp(rtp.timestamp());
        let pt = rtp.payload_type();
        if let Some((event_pt, _)) = self.config.telephone_event
            && pt == event_pt.get()
        {
            match self.rfc4733.handle_packet(ssrc, ts, rtp.payload()) {
                Ok(Some(d)) => self.merger.handle_digit(now, DtmfSource::Rfc4733, d),
                Ok(None) => {}
                Err(e) => {
                    self.stats.malformed += 1;
                    return Err(e);
                }
            }
            self.drain_inband(now);
            return Ok(PacketKind::Event);
        }
        if pt != self.config.audio_payload_type.get() {
            return Ok(PacketKind::OtherPayload);
        }
        if self.audio_instant != Some(now) {
            self.audio_instant = Some(now);
            self.audio_at_instant = 0;
        }
        self.audio_at_instant += 1;
        if self.audio_at_instant > AUDIO_PER_INSTANT {
            self.stats.flooded += 1;
            return Ok(PacketKind::Flooded);
        }
        self.remote_ssrc = Some(ssrc);
        let payload = rtp.payload();
        if self.reads_tones() {
            match self.law {
                Some(law) => self.inband.handle_g711(law, payload),
                None => self.read_opus_tones(payload),
            }
            self.drain_inband(now);
        }
        if let Some((rec, rec_ssrc)) = self.recorder.as_mut() {
            // A new SSRC mid-recording (a re-INVITE to another device) starts a new stream
            // whose numbers have nothing to do with the old ones: keep the first stream.
            if *rec_ssrc == ssrc {
                rec.handle_packet(SeqNo(rtp.sequence_number().into()), ts, payload);
            } else if rec.is_empty() {
                *rec_ssrc = ssrc;
                rec.handle_packet(SeqNo(rtp.sequence_number().into()), ts, payload);
            }
        }
        Ok(PacketKind::Audio)
    }

    /// Whether the audio is read for tones now: while no better DTMF source was heard; from
    /// G.711 when configured or when no telephone-event was negotiated, from Opus only then.
    fn reads_tones(&self) -> bool {
        let no_events = self.config.telephone_event.is_none();
        self.merger.inband_wanted()
            && match self.law {
                Some(_) => self.config.inband_dtmf || no_events,
                None => no_events,
            }
    }

    /// Decodes an Opus payload at 8 kHz for the tone detector. An undecodable packet is
    /// counted and skipped (the next one decodes on its own).
    fn read_opus_tones(&mut self, payload: &[u8]) {
        if self.opus_tones.is_none() {
            match OpusDecoder::narrowband() {
                Ok(decoder) => {
                    self.opus_tones = Some(Box::new(OpusTones {
                        decoder,
                        pcm: [0; 960],
                    }));
                }
                Err(_) => {
                    self.stats.undecodable += 1;
                    return;
                }
            }
        }
        let tones = self.opus_tones.as_mut().expect("made above");
        match tones.decoder.decode(Some(payload), &mut tones.pcm) {
            Ok(n) => self.inband.handle_samples(&tones.pcm[..n]),
            Err(_) => self.stats.undecodable += 1,
        }
    }

    fn drain_inband(&mut self, now: Instant) {
        while let Some(d) = self.inband.poll_digit() {
            self.merger.handle_digit(now, DtmfSource::InBand, d);
        }
    }

    /// Takes the body of a SIP INFO received at `now`. An error means the INFO is not DTMF
    /// (answer 415) or its body is unreadable (answer 400).
    pub fn handle_info(
        &mut self,
        now: Instant,
        content_type: &str,
        body: &[u8],
    ) -> Result<(), CoreError> {
        let d = parse_info(content_type, body)?;
        self.merger.handle_digit(now, DtmfSource::SipInfo, d);
        Ok(())
    }

    /// The next digit pressed, with its source.
    pub fn poll_digit(&mut self) -> Option<(Digit, DtmfSource)> {
        self.merger.poll_digit()
    }

    /// When [`MediaReceiver::handle_timeout`] must run (a held digit to release).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.merger.poll_timeout()
    }

    /// Releases held digits due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.merger.handle_timeout(now);
    }

    /// Starts recording the caller's audio, at most `max` of it (replacing any recording in
    /// progress).
    pub fn start_recording(&mut self, max: Duration) {
        self.finished_recording = None;
        let rec = Recorder::new(self.config.codec, max);
        self.recorder = Some((rec, self.remote_ssrc.unwrap_or(Ssrc(0))));
    }

    /// Whether a recording has reached its maximum length (or was cut by a codec change).
    pub fn recording_full(&self) -> bool {
        self.recorder.as_ref().is_some_and(|(r, _)| r.is_full())
            || self.finished_recording.is_some()
    }

    /// Stops the recording and returns its audio (`None` if none was running).
    pub fn stop_recording(&mut self) -> Option<Result<Recording, MediaError>> {
        self.recorder
            .take()
            .map(|(r, _)| r.finish())
            .or_else(|| self.finished_recording.take())
    }

    /// When the last valid RTP packet arrived (for the media-inactivity timeout).
    pub fn last_packet_at(&self) -> Option<Instant> {
        self.last_packet
    }

    /// The caller's audio SSRC, once seen.
    pub fn remote_ssrc(&self) -> Option<Ssrc> {
        self.remote_ssrc
    }

    /// The DTMF source the merger settled on.
    pub fn dtmf_source(&self) -> Option<DtmfSource> {
        self.merger.established()
    }

    /// The counters.
    pub fn stats(&self) -> ReceiverStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::dtmf::rfc4733::TelephoneEvent;
    use crate::media::rtp_packetizer::RtpPacketizer;

    fn config(codec: Codec, audio: u8) -> InboundConfig {
        InboundConfig {
            codec,
            audio_payload_type: PayloadType::new(audio).unwrap(),
            telephone_event: Some((PayloadType::new(101).unwrap(), ClockRate(8000))),
            inband_dtmf: true,
        }
    }

    /// 20 ms A-law packets of a dual tone for `c`, then silence.
    fn tone_packets(c: char, ms: usize, seq0: u16, ts0: u32) -> Vec<Vec<u8>> {
        let (r, k) = Digit::from_char(c).unwrap().frequencies();
        let mut out = RtpPacketizer::new(Ssrc(7), PayloadType::PCMA);
        (0..ms / 20)
            .map(|i| {
                let pcm: Vec<i16> = (0..160)
                    .map(|n| {
                        let t = (i * 160 + n) as f32 / 8000.0;
                        (7000.0
                            * ((2.0 * std::f32::consts::PI * r * t).sin()
                                + (2.0 * std::f32::consts::PI * k * t).sin()))
                            as i16
                    })
                    .collect();
                let payload = Law::Alaw.encode(&pcm);
                out.build(
                    SeqNo(seq0 + i as u16),
                    RtpTimestamp(ts0 + 160 * i as u32),
                    false,
                    &payload,
                )
                .unwrap()
                .to_vec()
            })
            .collect()
    }

    fn event_packets(c: char, seq0: u16, ts: u32) -> Vec<Vec<u8>> {
        let mut out = RtpPacketizer::new(Ssrc(7), PayloadType::new(101).unwrap());
        let code = Digit::from_char(c).unwrap().event_code();
        [
            (false, 160u16),
            (false, 320),
            (false, 480),
            (true, 640),
            (true, 640),
            (true, 640),
        ]
        .iter()
        .enumerate()
        .map(|(i, &(end, duration))| {
            let p = TelephoneEvent {
                event: code,
                end,
                volume: 10,
                duration,
            }
            .to_bytes();
            out.build(SeqNo(seq0 + i as u16), RtpTimestamp(ts), i == 0, &p)
                .unwrap()
                .to_vec()
        })
        .collect()
    }

    fn digits(rx: &mut MediaReceiver, now: Instant) -> String {
        rx.handle_timeout(now);
        std::iter::from_fn(|| rx.poll_digit())
            .map(|(d, _)| d.to_char())
            .collect()
    }

    /// 20 ms Opus packets of a dual tone for `c` (100 ms) then silence (100 ms).
    fn opus_tone_packets(c: char, seq0: u16) -> Vec<Vec<u8>> {
        let (r, k) = Digit::from_char(c).unwrap().frequencies();
        let pcm: Vec<i16> = (0..9_600)
            .map(|n| {
                let t = n as f32 / 48_000.0;
                let tone = (2.0 * std::f32::consts::PI * r * t).sin()
                    + (2.0 * std::f32::consts::PI * k * t).sin();
                if n < 4_800 { (6000.0 * tone) as i16 } else { 0 }
            })
            .collect();
        let frames = crate::media::opus::encode_frames(&pcm, crate::media::Ptime::DEFAULT).unwrap();
        let mut out = RtpPacketizer::new(Ssrc(7), PayloadType::new(111).unwrap());
        (0..frames.len())
            .map(|i| {
                out.build(
                    SeqNo(seq0 + i as u16),
                    RtpTimestamp(960 * u32::from(seq0 + i as u16)),
                    false,
                    frames.frame(i).unwrap(),
                )
                .unwrap()
                .to_vec()
            })
            .collect()
    }

    #[test]
    fn opus_tones_are_read_only_without_telephone_events() {
        let t0 = crate::core::test_epoch();
        let no_events = InboundConfig {
            telephone_event: None,
            // Tones are read without events whatever this says: a caller must type.
            inband_dtmf: false,
            ..config(Codec::Opus, 111)
        };
        let mut rx = MediaReceiver::new(no_events);
        let mut seq = 0;
        for c in ['3', '0', '1', '1'] {
            for p in opus_tone_packets(c, seq) {
                let now = t0 + Duration::from_millis(20 * u64::from(seq));
                assert_eq!(rx.handle_rtp(now, &p).unwrap(), PacketKind::Audio);
                seq += 1;
            }
        }
        let end = t0 + Duration::from_millis(20 * u64::from(seq));
        assert_eq!(digits(&mut rx, end + Duration::from_secs(1)), "3011");
        assert_eq!(rx.stats().undecodable, 0);
        // With telephone-events negotiated, Opus audio is not decoded for tones.
        let mut rx = MediaReceiver::new(config(Codec::Opus, 111));
        for p in opus_tone_packets('5', 0) {
            rx.handle_rtp(t0, &p).unwrap();
        }
        assert!(rx.opus_tones.is_none(), "nothing decoded");
        assert_eq!(digits(&mut rx, t0 + Duration::from_secs(1)), "");
    }

    #[test]
    fn audio_beyond_a_calls_share_of_an_instant_is_dropped_and_its_keys_still_come() {
        let t0 = crate::core::test_epoch();
        let mut rx = MediaReceiver::new(config(Codec::Pcma, 8));
        let silence = [Law::Alaw.silence(); 160];
        let audio = RtpPacketizer::new(Ssrc(7), PayloadType::PCMA)
            .build(SeqNo(1), RtpTimestamp(0), false, &silence)
            .unwrap()
            .to_vec();
        for _ in 0..AUDIO_PER_INSTANT {
            assert_eq!(rx.handle_rtp(t0, &audio).unwrap(), PacketKind::Audio);
        }
        assert_eq!(rx.handle_rtp(t0, &audio).unwrap(), PacketKind::Flooded);
        // A key pressed in the middle of the flood is read all the same.
        for p in event_packets('7', 100, 8_000) {
            assert_eq!(rx.handle_rtp(t0, &p).unwrap(), PacketKind::Event);
            assert_eq!(rx.handle_rtp(t0, &audio).unwrap(), PacketKind::Flooded);
        }
        assert_eq!(rx.stats().flooded, 7);
        // The next instant is another tick: a new share.
        let t1 = t0 + Duration::from_millis(10);
        assert_eq!(rx.handle_rtp(t1, &audio).unwrap(), PacketKind::Audio);
        assert_eq!(digits(&mut rx, t1 + Duration::from_secs(1)), "7");
    }

    #[test]
    fn tones_and_events_for_the_same_presses_count_once() {
        let t0 = crate::core::test_epoch();
        let mut rx = MediaReceiver::new(config(Codec::Pcma, 8));
        let mut got = String::new();
        // First press: tones and events interleaved as a phone sending both would.
        let tones = tone_packets('3', 100, 0, 0);
        let events = event_packets('3', 100, 0);
        for (i, p) in tones.iter().enumerate() {
            let now = t0 + Duration::from_millis(20 * i as u64);
            assert_eq!(rx.handle_rtp(now, p).unwrap(), PacketKind::Audio);
            if let Some(e) = events.get(i) {
                assert_eq!(rx.handle_rtp(now, e).unwrap(), PacketKind::Event);
            }
            got += &digits(&mut rx, now);
        }
        got += &digits(&mut rx, t0 + Duration::from_secs(1));
        assert_eq!(got, "3");
        assert_eq!(rx.dtmf_source(), Some(DtmfSource::Rfc4733));
        // An INFO for another key is ignored now that events are established…
        rx.handle_info(
            t0 + Duration::from_secs(2),
            "application/dtmf-relay",
            b"Signal=4\r\nDuration=100",
        )
        .unwrap();
        assert_eq!(digits(&mut rx, t0 + Duration::from_secs(3)), "");
        // …and bad input is an error, not a panic.
        assert!(rx.handle_info(t0, "application/dtmf", b"zz").is_err());
        assert!(rx.handle_rtp(t0, &[1, 2, 3]).is_err());
        assert_eq!(rx.stats().malformed, 1);
    }

    #[test]
    fn inband_only_callers_are_heard() {
        let t0 = crate::core::test_epoch();
        let mut rx = MediaReceiver::new(config(Codec::Pcma, 8));
        let mut got = String::new();
        for (i, p) in tone_packets('#', 80, 0, 0).iter().enumerate() {
            let now = t0 + Duration::from_millis(20 * i as u64);
            rx.handle_rtp(now, p).unwrap();
            got += &digits(&mut rx, now);
        }
        // Silence packets so the tone ends.
        let mut out = RtpPacketizer::new(Ssrc(7), PayloadType::PCMA);
        for i in 4..10u16 {
            let p = out
                .build(SeqNo(i), RtpTimestamp(160 * i as u32), false, &[0xD5; 160])
                .unwrap()
                .to_vec();
            rx.handle_rtp(t0 + Duration::from_millis(20 * i as u64), &p)
                .unwrap();
        }
        got += &digits(&mut rx, t0 + Duration::from_secs(1));
        assert_eq!(got, "#");
        assert_eq!(rx.dtmf_source(), Some(DtmfSource::InBand));
        assert_eq!(rx.last_packet_at(), Some(t0 + Duration::from_millis(180)));
    }

    #[test]
    fn renegotiation_keeps_the_merger_and_cuts_a_recording_on_codec_change() {
        let t0 = crate::core::test_epoch();
        let mut rx = MediaReceiver::new(config(Codec::Pcma, 8));
        for p in event_packets('1', 0, 0) {
            rx.handle_rtp(t0, &p).unwrap();
        }
        assert_eq!(digits(&mut rx, t0), "1");
        rx.start_recording(Duration::from_secs(5));
        for p in tone_packets('2', 100, 10, 800) {
            rx.handle_rtp(t0, &p).unwrap();
        }
        rx.renegotiate(InboundConfig {
            telephone_event: None,
            ..config(Codec::Pcmu, 0)
        });
        assert!(rx.recording_full());
        // Still established on RFC 4733: tones are not looked for.
        assert_eq!(rx.dtmf_source(), Some(DtmfSource::Rfc4733));
        assert_eq!(rx.stop_recording().unwrap().unwrap().samples.len(), 800);
        assert!(rx.stop_recording().is_none());
    }

    #[test]
    fn inband_detection_can_be_turned_off() {
        let t0 = crate::core::test_epoch();
        let mut rx = MediaReceiver::new(InboundConfig {
            inband_dtmf: false,
            ..config(Codec::Pcma, 8)
        });
        for (i, p) in tone_packets('5', 200, 0, 0).iter().enumerate() {
            rx.handle_rtp(t0 + Duration::from_millis(20 * i as u64), p)
                .unwrap();
        }
        assert_eq!(digits(&mut rx, t0 + Duration::from_secs(5)), "");
    }

    #[test]
    fn records_the_callers_audio() {
        let t0 = crate::core::test_epoch();
        let mut rx = MediaReceiver::new(config(Codec::Pcmu, 0));
        rx.start_recording(Duration::from_secs(2));
        let mut out = RtpPacketizer::new(Ssrc(9), PayloadType::PCMU);
        for i in 0..10u16 {
            let p = out
                .build(
                    SeqNo(i),
                    RtpTimestamp(160 * i as u32),
                    false,
                    &[0x80 | (i as u8); 160],
                )
                .unwrap()
                .to_vec();
            rx.handle_rtp(t0, &p).unwrap();
        }
        // A comfort-noise packet (payload type 13) is not audio.
        let cn = RtpPacketizer::new(Ssrc(9), PayloadType::new(13).unwrap())
            .build(SeqNo(10), RtpTimestamp(1600), false, &[40])
            .unwrap()
            .to_vec();
        assert_eq!(rx.handle_rtp(t0, &cn).unwrap(), PacketKind::OtherPayload);
        let rec = rx.stop_recording().unwrap().unwrap();
        assert_eq!(rec.samples.len(), 1600);
        assert!(rx.stop_recording().is_none());
    }
}
