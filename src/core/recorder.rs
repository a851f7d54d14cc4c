//! [`Recorder`]: records a call's incoming audio (the staff's announcement) from RTP
//! packets as they arrive — possibly reordered, duplicated or lost — into 16-bit PCM.
//!
//! Packets are stored as they come (payload bytes appended to one buffer reserved for the
//! maximum length, so recording allocates nothing per packet) and put in order when the
//! recording ends: sorted by extended sequence number (the 16-bit number unwrapped, RFC 3550
//! §A.1), duplicates dropped, each decoded at the place its RTP timestamp gives, so that lost
//! packets and silence-suppressed stretches become silence of the right length.

use std::time::Duration;

use crate::media::g711::Law;
use crate::media::opus::{OPUS_MAX_FRAME_SAMPLES, OpusDecoder};
use crate::media::rtp_types::{RtpTimestamp, SeqNo};
use crate::media::wav::{normalize_peak, normalize_rms, write_wav};
use crate::media::{Codec, MediaError};

#[derive(Debug, Clone, Copy)]
struct Stored {
    ext_seq: i64,
    /// Timestamp relative to the first packet received, unwrapped.
    rel_ts: i64,
    start: u32,
    len: u32,
}

/// A finished recording: mono 16-bit samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The audio.
    pub samples: Vec<i16>,
    /// Its rate: 8000 for G.711, 48000 for Opus.
    pub sample_rate: u32,
}

impl Recording {
    /// Playing time.
    pub fn duration(&self) -> Duration {
        Duration::from_micros(self.samples.len() as u64 * 1_000_000 / self.sample_rate as u64)
    }

    /// Writes it as a 16-bit mono WAV.
    pub fn write_wav<W: std::io::Write + std::io::Seek>(&self, out: W) -> Result<(), MediaError> {
        write_wav(out, &self.samples, self.sample_rate)
    }

    /// Peak-normalises to `target_dbfs` (see [`normalize_peak`]).
    pub fn normalize_peak(&mut self, target_dbfs: f32) {
        normalize_peak(&mut self.samples, target_dbfs);
    }

    /// RMS-normalises to `target_dbfs` without letting the peak pass `max_peak_dbfs`.
    pub fn normalize_rms(&mut self, target_dbfs: f32, max_peak_dbfs: f32) {
        normalize_rms(&mut self.samples, target_dbfs, max_peak_dbfs);
    }
}

/// Collects one stream's packets for a recording of at most a given length.
#[derive(Debug)]
pub struct Recorder {
    codec: Codec,
    max_ticks: i64,
    packets: Vec<Stored>,
    data: Vec<u8>,
    first_ts: Option<RtpTimestamp>,
    /// Highest extended sequence number and its 16-bit value.
    highest: i64,
    /// Earliest and latest relative timestamps accepted.
    min_ts: i64,
    max_ts: i64,
    full: bool,
}

/// Bytes reserved per second of recording (G.711 is 8000 bytes/s; Opus at most ~1/3 of that).
const BYTES_PER_SECOND: usize = 8000;

impl Recorder {
    /// A recorder for `codec` that keeps at most `max` of audio.
    pub fn new(codec: Codec, max: Duration) -> Recorder {
        let secs = max.as_secs_f64().ceil() as usize;
        Recorder {
            codec,
            max_ticks: (max.as_secs_f64() * codec.clock_rate().0 as f64) as i64,
            // 100 packets/s covers 10 ms ptime.
            packets: Vec::with_capacity(secs * 100 + 1),
            data: Vec::with_capacity(secs * BYTES_PER_SECOND + 1500),
            first_ts: None,
            highest: 0,
            min_ts: 0,
            max_ts: 0,
            full: false,
        }
    }

    /// Whether no packet was kept yet.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Whether the maximum length is reached (later packets are dropped).
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// Takes one received packet; returns false if it was dropped (past the maximum length).
    pub fn handle_packet(&mut self, seq: SeqNo, timestamp: RtpTimestamp, payload: &[u8]) -> bool {
        let first = *self.first_ts.get_or_insert(timestamp);
        let rel_ts = timestamp.distance_from(first) as i64;
        let ext_seq = if self.packets.is_empty() {
            self.highest = seq.0 as i64;
            self.highest
        } else {
            // Unwrap the 16-bit number around the highest seen (RFC 3550 §A.1).
            self.highest + seq.distance_from(SeqNo(self.highest as u16)) as i64
        };
        let frame_ticks = match self.codec {
            Codec::Pcmu | Codec::Pcma => payload.len() as i64,
            Codec::Opus => 0,
        };
        let lo = self.min_ts.min(rel_ts);
        let hi = self.max_ts.max(rel_ts + frame_ticks);
        if hi - lo > self.max_ticks {
            self.full = true;
            return false;
        }
        if self.data.len() + payload.len() > self.data.capacity()
            || self.packets.len() == self.packets.capacity()
        {
            self.full = true;
            return false;
        }
        self.min_ts = lo;
        self.max_ts = hi;
        self.highest = self.highest.max(ext_seq);
        let start = self.data.len() as u32;
        self.data.extend_from_slice(payload);
        self.packets.push(Stored {
            ext_seq,
            rel_ts,
            start,
            len: payload.len() as u32,
        });
        true
    }

    /// Orders, decodes and returns the audio.
    pub fn finish(mut self) -> Result<Recording, MediaError> {
        self.packets.sort_by_key(|p| p.ext_seq);
        self.packets.dedup_by_key(|p| p.ext_seq);
        let sample_rate = self.codec.clock_rate().0;
        let cap = self.max_ticks.max(0) as usize;
        let total = ((self.max_ts - self.min_ts).max(0) as usize).min(cap);
        let mut samples = vec![0i16; total];
        let mut opus = match self.codec {
            Codec::Opus => Some(OpusDecoder::new()?),
            _ => None,
        };
        let mut buf = vec![0i16; OPUS_MAX_FRAME_SAMPLES];
        for p in &self.packets {
            let payload = &self.data[p.start as usize..(p.start + p.len) as usize];
            let n = match (self.codec, opus.as_mut()) {
                (Codec::Pcmu, _) => {
                    Law::Ulaw.decode_into(payload, &mut buf);
                    payload.len().min(buf.len())
                }
                (Codec::Pcma, _) => {
                    Law::Alaw.decode_into(payload, &mut buf);
                    payload.len().min(buf.len())
                }
                (Codec::Opus, Some(dec)) => match dec.decode(Some(payload), &mut buf) {
                    Ok(n) => n,
                    // A corrupt packet from the network becomes silence, as a lost one.
                    Err(_) => continue,
                },
                (Codec::Opus, None) => continue,
            };
            // Place by timestamp: gaps (lost packets, silence suppression) stay silent.
            let at = (p.rel_ts - self.min_ts) as usize;
            let end = (at + n).min(cap);
            if at >= end {
                continue;
            }
            if end > samples.len() {
                samples.resize(end, 0); // an Opus frame's length is only known once decoded
            }
            samples[at..end].copy_from_slice(&buf[..end - at]);
        }
        Ok(Recording {
            samples,
            sample_rate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::Ptime;
    use crate::media::g711::{alaw_encode, ulaw_encode};
    use crate::media::opus::encode_frames;

    /// 8 kHz ramp-like audio whose every sample is distinct enough to check placement.
    fn audio(n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| (((i * 97) % 4000) as i16 - 2000) * 4)
            .collect()
    }

    fn packets(law: Law, pcm: &[i16], seq0: u16, ts0: u32) -> Vec<(SeqNo, RtpTimestamp, Vec<u8>)> {
        pcm.chunks(160)
            .enumerate()
            .map(|(i, c)| {
                let payload = c
                    .iter()
                    .map(|&s| {
                        if law == Law::Ulaw {
                            ulaw_encode(s)
                        } else {
                            alaw_encode(s)
                        }
                    })
                    .collect();
                (
                    SeqNo(seq0.wrapping_add(i as u16)),
                    RtpTimestamp(ts0.wrapping_add(160 * i as u32)),
                    payload,
                )
            })
            .collect()
    }

    fn expected(law: Law, pcm: &[i16]) -> Vec<i16> {
        let enc = law.encode(pcm);
        let mut out = vec![0; pcm.len()];
        law.decode_into(&enc, &mut out);
        out
    }

    #[test]
    fn reorders_across_the_sequence_wrap_and_drops_duplicates() {
        let pcm = audio(160 * 20);
        let mut pk = packets(Law::Ulaw, &pcm, 65530, u32::MAX - 1000);
        pk.swap(3, 9);
        pk.swap(0, 5);
        let dup = pk[7].clone();
        pk.insert(12, dup);
        let mut rec = Recorder::new(Codec::Pcmu, Duration::from_secs(10));
        for (s, t, p) in &pk {
            assert!(rec.handle_packet(*s, *t, p));
        }
        let r = rec.finish().unwrap();
        assert_eq!(r.sample_rate, 8000);
        assert_eq!(r.samples, expected(Law::Ulaw, &pcm));
    }

    #[test]
    fn fills_lost_packets_with_silence() {
        let pcm = audio(160 * 10);
        let mut pk = packets(Law::Alaw, &pcm, 100, 5000);
        pk.remove(4);
        pk.remove(6); // originally index 7
        let mut rec = Recorder::new(Codec::Pcma, Duration::from_secs(10));
        for (s, t, p) in &pk {
            rec.handle_packet(*s, *t, p);
        }
        let r = rec.finish().unwrap();
        let mut want = expected(Law::Alaw, &pcm);
        want[640..800].fill(0);
        want[1120..1280].fill(0);
        assert_eq!(r.samples, want);
        assert_eq!(r.duration(), Duration::from_millis(200));
    }

    #[test]
    fn caps_the_length() {
        let pcm = audio(8000 * 3);
        let mut rec = Recorder::new(Codec::Pcmu, Duration::from_secs(1));
        let mut accepted = 0;
        for (s, t, p) in packets(Law::Ulaw, &pcm, 0, 0) {
            if rec.handle_packet(s, t, &p) {
                accepted += 1;
            }
        }
        assert_eq!(accepted, 50);
        assert!(rec.is_full());
        assert_eq!(rec.finish().unwrap().samples.len(), 8000);
    }

    #[test]
    fn decodes_opus_in_sequence_order() {
        let pcm48: Vec<i16> = (0..48_000)
            .map(|i| {
                (6000.0 * (2.0 * std::f32::consts::PI * 300.0 * i as f32 / 48_000.0).sin()) as i16
            })
            .collect();
        let frames = encode_frames(&pcm48, Ptime::DEFAULT).unwrap();
        let mut pk: Vec<(SeqNo, RtpTimestamp, Vec<u8>)> = (0..frames.len())
            .map(|i| {
                (
                    SeqNo(i as u16 + 7),
                    RtpTimestamp(960 * i as u32 + 123),
                    frames.frame(i).unwrap().to_vec(),
                )
            })
            .collect();
        pk.swap(10, 11);
        pk.swap(30, 33);
        let mut rec = Recorder::new(Codec::Opus, Duration::from_secs(5));
        for (s, t, p) in &pk {
            rec.handle_packet(*s, *t, p);
        }
        let r = rec.finish().unwrap();
        assert_eq!(r.sample_rate, 48_000);
        assert_eq!(r.samples.len(), 48_000);
        let rms = |x: &[i16]| {
            (x.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
        };
        let (a, b) = (rms(&pcm48[4800..43200]), rms(&r.samples[4800..43200]));
        assert!((a - b).abs() / a < 0.2, "{a} vs {b}");
    }

    #[test]
    fn writes_and_normalises() {
        let mut rec = Recorder::new(Codec::Pcmu, Duration::from_secs(1));
        for (s, t, p) in packets(Law::Ulaw, &audio(800), 1, 1) {
            rec.handle_packet(s, t, &p);
        }
        let mut r = rec.finish().unwrap();
        r.normalize_peak(-1.0);
        let peak = r.samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((peak as i32 - 29204).abs() <= 2, "{peak}");
        let mut out = std::io::Cursor::new(Vec::new());
        r.write_wav(&mut out).unwrap();
        out.set_position(0);
        let back =
            crate::media::Prompt::from_wav_reader("announce", out, std::path::Path::new("a.wav"))
                .unwrap();
        assert_eq!(back.duration(), Duration::from_millis(100));
    }
}
