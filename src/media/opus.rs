//! Opus (RFC 6716, RTP payload RFC 7587) through audiopus: prompts encoded once into frames,
//! a pre-encoded silence frame per ptime, and a decoder for recordings and tests.
//!
//! We always encode mono 48 kHz audio with the VoIP application; RFC 7587 §7 lets a mono
//! encoder talk to an `opus/48000/2` receiver.

use std::sync::OnceLock;

use audiopus::coder::{Decoder, Encoder};
use audiopus::{Application, Bitrate, Channels, SampleRate};

use super::codec::Ptime;
use super::error::MediaError;

/// The Opus sample rate we encode and decode at.
pub const OPUS_RATE: u32 = 48_000;
/// Samples in the longest Opus frame (120 ms at 48 kHz), for decode buffers.
pub const OPUS_MAX_FRAME_SAMPLES: usize = 5760;
/// Bit rate of encoded prompts: wideband speech, well under a G.711 channel.
const PROMPT_BITRATE: i32 = 32_000;
/// RFC 6716 §3.4 caps a packet at 1275 bytes per frame.
const MAX_PACKET: usize = 1275;

/// A prompt encoded as consecutive Opus frames of one ptime, stored contiguously.
#[derive(Debug, Clone, Default)]
pub struct OpusFrames {
    data: Vec<u8>,
    /// `ends[i]` is the end offset of frame `i` in `data`.
    ends: Vec<u32>,
}

impl OpusFrames {
    /// Number of frames.
    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no frame.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Frame `i`, an RTP payload as is (no copy).
    #[inline]
    pub fn frame(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.data[start..end])
    }

    /// Total encoded bytes (for memory accounting).
    pub fn encoded_bytes(&self) -> usize {
        self.data.len()
    }
}

fn new_encoder() -> Result<Encoder, MediaError> {
    let mut enc = Encoder::new(SampleRate::Hz48000, Channels::Mono, Application::Voip)?;
    enc.set_bitrate(Bitrate::BitsPerSecond(PROMPT_BITRATE))?;
    // Encoding happens once per prompt, off the call path: spend the CPU on quality.
    enc.set_complexity(10)?;
    Ok(enc)
}

/// Encodes 48 kHz mono audio into frames of `ptime`, the last one padded with silence.
pub fn encode_frames(pcm_48k: &[i16], ptime: Ptime) -> Result<OpusFrames, MediaError> {
    let frame_len = (OPUS_RATE / 1000 * ptime.as_millis()) as usize;
    let enc = new_encoder()?;
    let mut frames = OpusFrames::default();
    let mut packet = [0u8; MAX_PACKET];
    let mut padded = vec![0i16; frame_len];
    for chunk in pcm_48k.chunks(frame_len) {
        let input = if chunk.len() == frame_len {
            chunk
        } else {
            padded[..chunk.len()].copy_from_slice(chunk);
            padded[chunk.len()..].fill(0);
            &padded
        };
        let n = enc.encode(input, &mut packet)?;
        frames.data.extend_from_slice(&packet[..n]);
        frames.ends.push(frames.data.len() as u32);
    }
    Ok(frames)
}

/// A valid Opus packet of `ptime` of silence, encoded once per process and per ptime, sent
/// between prompts so the stream never stops (the receiver's jitter buffer stays primed).
pub fn silence_frame(ptime: Ptime) -> Result<&'static [u8], MediaError> {
    static CELLS: [OnceLock<Result<Vec<u8>, String>>; 6] = [const { OnceLock::new() }; 6];
    let index = (ptime.as_millis() / 10 - 1) as usize;
    let cell = CELLS[index].get_or_init(|| {
        let frames = encode_frames(
            &vec![0; (OPUS_RATE / 1000 * ptime.as_millis()) as usize],
            ptime,
        )
        .map_err(|e| e.to_string())?;
        Ok(frames.frame(0).unwrap_or_default().to_vec())
    });
    cell.as_deref().map_err(|e| MediaError::Opus(e.clone()))
}

/// A mono 48 kHz Opus decoder (one per recorded stream).
pub struct OpusDecoder {
    inner: Decoder,
}

impl OpusDecoder {
    /// A fresh decoder.
    pub fn new() -> Result<OpusDecoder, MediaError> {
        Ok(OpusDecoder {
            inner: Decoder::new(SampleRate::Hz48000, Channels::Mono)?,
        })
    }

    /// Decodes one packet into `out` (at least [`OPUS_MAX_FRAME_SAMPLES`] long is always
    /// enough); `None` asks for packet-loss concealment. Returns the samples written.
    pub fn decode(&mut self, packet: Option<&[u8]>, out: &mut [i16]) -> Result<usize, MediaError> {
        let packet = match packet {
            Some(p) => Some(p.try_into()?),
            None => None,
        };
        let out = out.try_into()?;
        Ok(self.inner.decode(packet, out, false)?)
    }
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpusDecoder")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_cover_the_audio_and_decode_back() {
        let pcm: Vec<i16> = (0..48_000)
            .map(|i| {
                (8000.0 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 48_000.0).sin()) as i16
            })
            .collect();
        let frames = encode_frames(&pcm, Ptime::DEFAULT).unwrap();
        assert_eq!(frames.len(), 50);
        let mut dec = OpusDecoder::new().unwrap();
        let mut out = vec![0i16; OPUS_MAX_FRAME_SAMPLES];
        let mut decoded = Vec::new();
        for i in 0..frames.len() {
            let n = dec.decode(frames.frame(i), &mut out).unwrap();
            assert_eq!(n, 960);
            decoded.extend_from_slice(&out[..n]);
        }
        // Energy of the decoded tone is close to the original (lossy codec, so loosely).
        let rms = |x: &[i16]| {
            (x.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
        };
        let (a, b) = (rms(&pcm[9600..38400]), rms(&decoded[9600..38400]));
        assert!((a - b).abs() / a < 0.2, "{a} vs {b}");
    }

    #[test]
    fn partial_last_frame_is_padded() {
        let frames = encode_frames(&[100; 1000], Ptime::from_millis(10).unwrap()).unwrap();
        assert_eq!(frames.len(), 3); // 480 + 480 + 40 padded
        assert!(frames.frame(3).is_none());
    }

    #[test]
    fn silence_frames_exist_for_every_ptime_and_are_cached() {
        for ms in [10, 20, 40, 60] {
            let p = Ptime::from_millis(ms).unwrap();
            let a = silence_frame(p).unwrap();
            assert!(!a.is_empty());
            assert!(std::ptr::eq(a, silence_frame(p).unwrap()));
            let mut out = vec![0i16; OPUS_MAX_FRAME_SAMPLES];
            let n = OpusDecoder::new()
                .unwrap()
                .decode(Some(a), &mut out)
                .unwrap();
            assert_eq!(n as u32, 48 * ms);
            assert!(out[..n].iter().all(|&s| s.abs() < 50));
        }
    }
}
