//! [`Prompt`]: audio decoded, resampled and encoded once, then shared by every call as an
//! `Arc<Prompt>` (DESIGN.md habit 8). A call plays it through a cursor, never a copy.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::codec::{Codec, Ptime};
use super::error::MediaError;
use super::g711::Law;
use super::opus::{self, OPUS_RATE, OpusFrames};
use super::resample::{f32_to_i16, i16_to_f32, resample};

/// Sample rate of G.711 audio.
pub const G711_RATE: u32 = 8_000;
/// The longest prompt we accept (a whole announcement is a few minutes at most).
pub const MAX_PROMPT: Duration = Duration::from_secs(600);

/// One prompt ready to send on any codec and ptime.
pub struct Prompt {
    name: Arc<str>,
    pcm_8k: Vec<i16>,
    pcm_48k: Vec<i16>,
    pcmu: Vec<u8>,
    pcma: Vec<u8>,
    /// Opus frames per ptime (index ms/10 − 1); 20 ms is filled at load, the others on first
    /// use by [`Prompt::prepare`]. The error is kept as text so every caller can see it.
    opus: [OnceLock<Result<OpusFrames, String>>; 6],
}

impl fmt::Debug for Prompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prompt")
            .field("name", &self.name)
            .field("duration", &self.duration())
            .finish()
    }
}

fn memory() -> PathBuf {
    PathBuf::from("<memory>")
}

impl Prompt {
    /// Reads a WAV (8/16/24/32-bit integer or 32-bit float, any rate, any channel count,
    /// mixed down to mono) from `reader`; `path` only names it in errors.
    pub fn from_wav_reader<R: Read>(
        name: &str,
        reader: R,
        path: &Path,
    ) -> Result<Prompt, MediaError> {
        let wav_err = |source| MediaError::WavRead {
            path: path.to_owned(),
            source,
        };
        let mut wav = hound::WavReader::new(reader).map_err(wav_err)?;
        let spec = wav.spec();
        let bad = |reason: String| MediaError::BadAudio {
            path: path.to_owned(),
            reason,
        };
        if spec.channels == 0 {
            return Err(bad("no channel".into()));
        }
        if !(4_000..=384_000).contains(&spec.sample_rate) {
            return Err(bad(format!(
                "sample rate {} Hz is not an audio rate",
                spec.sample_rate
            )));
        }
        let max_frames = MAX_PROMPT.as_secs() as usize * spec.sample_rate as usize;
        if wav.duration() as usize > max_frames {
            return Err(bad(format!("longer than {} s", MAX_PROMPT.as_secs())));
        }
        let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Float, 32) => wav
                .samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(wav_err)?,
            (hound::SampleFormat::Int, bits @ 8..=32) => {
                let scale = 1.0 / (1u64 << (bits - 1)) as f32;
                wav.samples::<i32>()
                    .map(|s| s.map(|v| v as f32 * scale))
                    .collect::<Result<_, _>>()
                    .map_err(wav_err)?
            }
            (format, bits) => {
                return Err(bad(format!(
                    "unsupported sample format {format:?} {bits}-bit"
                )));
            }
        };
        let channels = spec.channels as usize;
        let mono: Vec<f32> = interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect();
        if mono.is_empty() {
            return Err(bad("no audio sample".into()));
        }
        Prompt::from_f32(name, &mono, spec.sample_rate)
    }

    /// Reads a WAV file; the prompt is named after the file stem.
    pub fn from_wav_file(path: &Path) -> Result<Prompt, MediaError> {
        let file = std::fs::File::open(path).map_err(|e| MediaError::WavRead {
            path: path.to_owned(),
            source: hound::Error::IoError(e),
        })?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("prompt");
        Prompt::from_wav_reader(name, std::io::BufReader::new(file), path)
    }

    /// Builds a prompt from 16-bit mono samples in memory (tests, announcements recorded by
    /// phone).
    pub fn from_pcm(name: &str, samples: &[i16], sample_rate: u32) -> Result<Prompt, MediaError> {
        let f: Vec<f32> = samples.iter().map(|&s| i16_to_f32(s)).collect();
        Prompt::from_f32(name, &f, sample_rate)
    }

    /// Builds a prompt from float mono samples (±1.0) at any rate: resamples to 8 and 48 kHz,
    /// encodes µ-law, A-law and 20 ms Opus frames.
    pub fn from_f32(name: &str, samples: &[f32], sample_rate: u32) -> Result<Prompt, MediaError> {
        if samples.is_empty() {
            return Err(MediaError::BadAudio {
                path: memory(),
                reason: "no audio sample".into(),
            });
        }
        if !(4_000..=384_000).contains(&sample_rate) {
            return Err(MediaError::BadAudio {
                path: memory(),
                reason: format!("sample rate {sample_rate} Hz is not an audio rate"),
            });
        }
        let to_i16 = |v: Vec<f32>| v.into_iter().map(f32_to_i16).collect::<Vec<i16>>();
        let pcm_8k = to_i16(resample(samples, sample_rate, G711_RATE)?);
        let pcm_48k = to_i16(resample(samples, sample_rate, OPUS_RATE)?);
        let prompt = Prompt {
            name: name.into(),
            pcmu: Law::Ulaw.encode(&pcm_8k),
            pcma: Law::Alaw.encode(&pcm_8k),
            pcm_8k,
            pcm_48k,
            opus: [const { OnceLock::new() }; 6],
        };
        prompt.prepare(Codec::Opus, Ptime::DEFAULT)?;
        Ok(prompt)
    }

    /// A short sine beep (the "speak after the tone" signal), with 5 ms ramps so it does not
    /// click, at −12 dBFS.
    pub fn beep(name: &str, frequency_hz: f32, duration: Duration) -> Result<Prompt, MediaError> {
        let rate = OPUS_RATE as f32;
        let n = (duration.as_secs_f32() * rate) as usize;
        let ramp = (0.005 * rate) as usize;
        let samples: Vec<f32> = (0..n)
            .map(|i| {
                let env = (i.min(n - 1 - i) as f32 / ramp as f32).min(1.0);
                0.25 * env * (2.0 * std::f32::consts::PI * frequency_hz * i as f32 / rate).sin()
            })
            .collect();
        Prompt::from_f32(name, &samples, OPUS_RATE)
    }

    /// The prompt's name (its id in the library, or the file stem).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name as a shared string (cloning it does not allocate).
    pub fn name_arc(&self) -> &Arc<str> {
        &self.name
    }

    /// Playing time.
    pub fn duration(&self) -> Duration {
        Duration::from_micros(self.pcm_8k.len() as u64 * 1_000_000 / G711_RATE as u64)
    }

    /// The audio at 8 kHz.
    pub fn pcm_8k(&self) -> &[i16] {
        &self.pcm_8k
    }

    /// The audio at 48 kHz.
    pub fn pcm_48k(&self) -> &[i16] {
        &self.pcm_48k
    }

    /// The whole prompt encoded in G.711 (one byte per 8 kHz sample), so that any ptime is a
    /// slice of it. `None` for Opus.
    #[inline]
    pub fn g711(&self, codec: Codec) -> Option<&[u8]> {
        match codec {
            Codec::Pcmu => Some(&self.pcmu),
            Codec::Pcma => Some(&self.pcma),
            Codec::Opus => None,
        }
    }

    /// Makes sure the prompt can be played in `codec` at `ptime`: encodes the Opus frames of
    /// that ptime the first time it is asked (once per prompt and ptime, shared by all calls).
    /// Call it when the call's media is negotiated, not per packet.
    pub fn prepare(&self, codec: Codec, ptime: Ptime) -> Result<(), MediaError> {
        if codec == Codec::Opus {
            self.opus_frames(ptime)?;
        }
        Ok(())
    }

    /// The Opus frames of `ptime` (encoded on first use).
    pub fn opus_frames(&self, ptime: Ptime) -> Result<&OpusFrames, MediaError> {
        if !Codec::Opus.supports_ptime(ptime) {
            return Err(MediaError::Opus(format!(
                "no single Opus frame of {} ms",
                ptime.as_millis()
            )));
        }
        let cell = &self.opus[(ptime.as_millis() / 10 - 1) as usize];
        cell.get_or_init(|| opus::encode_frames(&self.pcm_48k, ptime).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| MediaError::Opus(e.clone()))
    }

    /// The Opus frames of `ptime` if already prepared (the playout path: never encodes).
    #[inline]
    pub fn prepared_opus_frames(&self, ptime: Ptime) -> Option<&OpusFrames> {
        self.opus
            .get((ptime.as_millis() / 10).wrapping_sub(1) as usize)?
            .get()?
            .as_ref()
            .ok()
    }

    /// Number of RTP frames this prompt takes at `ptime` (the last one padded).
    pub fn frame_count(&self, codec: Codec, ptime: Ptime) -> usize {
        match codec {
            Codec::Pcmu | Codec::Pcma => self
                .pcm_8k
                .len()
                .div_ceil(codec.samples_per_frame(ptime) as usize),
            Codec::Opus => self
                .pcm_48k
                .len()
                .div_ceil(codec.samples_per_frame(ptime) as usize),
        }
    }

    /// Bytes this prompt holds (PCM kept for lazy Opus encodes, plus every encoding).
    pub fn memory_bytes(&self) -> usize {
        let opus: usize = self
            .opus
            .iter()
            .filter_map(|c| c.get().and_then(|r| r.as_ref().ok()))
            .map(|f| f.encoded_bytes() + f.len() * 4)
            .sum();
        self.pcm_8k.len() * 2 + self.pcm_48k.len() * 2 + self.pcmu.len() + self.pcma.len() + opus
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::g711::{alaw_decode, ulaw_decode};
    use std::io::Cursor;

    fn wav_bytes(
        spec: hound::WavSpec,
        write: impl FnOnce(&mut hound::WavWriter<&mut Cursor<Vec<u8>>>),
    ) -> Vec<u8> {
        let mut cursor = Cursor::new(Vec::new());
        {
            let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
            write(&mut w);
            w.finalize().unwrap();
        }
        cursor.into_inner()
    }

    fn tone(i: usize, rate: u32) -> f32 {
        0.5 * (2.0 * std::f32::consts::PI * 500.0 * i as f32 / rate as f32).sin()
    }

    /// Correlation amplitude of 500 Hz in the middle of 8 kHz audio.
    fn amp_500(x: &[i16]) -> f32 {
        let mid = &x[x.len() / 4..x.len() * 3 / 4];
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (i, &s) in mid.iter().enumerate() {
            let ph = 2.0 * std::f64::consts::PI * 500.0 * i as f64 / 8000.0;
            re += s as f64 * ph.cos();
            im += s as f64 * ph.sin();
        }
        (2.0 * (re * re + im * im).sqrt() / mid.len() as f64 / 32768.0) as f32
    }

    fn check_tone(p: &Prompt) {
        assert!(
            (p.duration().as_millis() as i64 - 500).abs() <= 2,
            "{:?}",
            p.duration()
        );
        assert!(
            (amp_500(p.pcm_8k()) - 0.5).abs() < 0.03,
            "{}",
            amp_500(p.pcm_8k())
        );
        let ulaw: Vec<i16> = p
            .g711(Codec::Pcmu)
            .unwrap()
            .iter()
            .map(|&b| ulaw_decode(b))
            .collect();
        let alaw: Vec<i16> = p
            .g711(Codec::Pcma)
            .unwrap()
            .iter()
            .map(|&b| alaw_decode(b))
            .collect();
        assert!((amp_500(&ulaw) - 0.5).abs() < 0.03);
        assert!((amp_500(&alaw) - 0.5).abs() < 0.03);
        assert!((p.pcm_48k().len() as i64 - 24_000).abs() <= 6);
        assert_eq!(p.opus_frames(Ptime::DEFAULT).unwrap().len(), 25);
    }

    #[test]
    fn reads_every_sample_format_and_mixes_to_mono() {
        let cases: [(u16, u32, u16, hound::SampleFormat); 6] = [
            (1, 8_000, 8, hound::SampleFormat::Int),
            (1, 16_000, 16, hound::SampleFormat::Int),
            (2, 44_100, 16, hound::SampleFormat::Int),
            (1, 22_050, 24, hound::SampleFormat::Int),
            (2, 48_000, 32, hound::SampleFormat::Int),
            (1, 32_000, 32, hound::SampleFormat::Float),
        ];
        for (channels, rate, bits, format) in cases {
            let spec = hound::WavSpec {
                channels,
                sample_rate: rate,
                bits_per_sample: bits,
                sample_format: format,
            };
            let n = rate as usize / 2;
            let bytes = wav_bytes(spec, |w| {
                for i in 0..n {
                    let v = tone(i, rate);
                    for ch in 0..channels {
                        // The right channel is silent: the mono mix halves the level, so the
                        // left carries twice the amplitude.
                        let v = if channels == 2 {
                            if ch == 0 { 2.0 * v * 0.99 } else { 0.0 }
                        } else {
                            v
                        };
                        match format {
                            hound::SampleFormat::Float => w.write_sample(v).unwrap(),
                            hound::SampleFormat::Int => {
                                let max = ((1i64 << (bits - 1)) - 1) as f32;
                                w.write_sample((v * max) as i32).unwrap()
                            }
                        }
                    }
                }
            });
            let p = Prompt::from_wav_reader("t", Cursor::new(bytes), Path::new("t.wav"))
                .unwrap_or_else(|e| panic!("{channels}ch {rate} Hz {bits}-bit: {e}"));
            check_tone(&p);
        }
    }

    #[test]
    fn bad_wav_names_the_file() {
        let e = Prompt::from_wav_reader(
            "x",
            Cursor::new(b"RIFF nope".to_vec()),
            Path::new("/p/x.wav"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("/p/x.wav"), "{e}");
        let e = Prompt::from_wav_file(Path::new("/nonexistent/y.wav")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/y.wav"), "{e}");
    }

    #[test]
    fn empty_audio_is_refused() {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let bytes = wav_bytes(spec, |_| {});
        assert!(matches!(
            Prompt::from_wav_reader("e", Cursor::new(bytes), Path::new("e.wav")),
            Err(MediaError::BadAudio { .. })
        ));
        assert!(Prompt::from_pcm("e", &[], 8000).is_err());
    }

    #[test]
    fn from_pcm_and_lazy_opus_ptimes() {
        let pcm: Vec<i16> = (0..4000)
            .map(|i| (tone(i, 8000) * 32767.0) as i16)
            .collect();
        let p = Prompt::from_pcm("mem", &pcm, 8000).unwrap();
        check_tone(&p);
        assert!(
            p.prepared_opus_frames(Ptime::from_millis(40).unwrap())
                .is_none()
        );
        p.prepare(Codec::Opus, Ptime::from_millis(40).unwrap())
            .unwrap();
        assert_eq!(
            p.prepared_opus_frames(Ptime::from_millis(40).unwrap())
                .unwrap()
                .len(),
            13
        );
        assert!(
            p.prepare(Codec::Opus, Ptime::from_millis(30).unwrap())
                .is_err()
        );
        assert_eq!(
            p.frame_count(Codec::Pcmu, Ptime::from_millis(30).unwrap()),
            17
        );
        assert_eq!(p.frame_count(Codec::Opus, Ptime::DEFAULT), 25);
    }

    #[test]
    fn beep_has_its_length() {
        let b = Prompt::beep("beep", 1000.0, Duration::from_millis(200)).unwrap();
        assert_eq!(b.duration(), Duration::from_millis(200));
        assert!(b.pcm_8k().iter().map(|s| s.abs()).max().unwrap() > 7000);
        assert_eq!(b.name(), "beep");
    }
}
