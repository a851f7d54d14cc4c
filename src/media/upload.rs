//! Checking and converting an uploaded announcement: any common WAV (PCM 8 to 32 bits or
//! float, mono or stereo, 8 to 96 kHz) becomes 8 kHz mono 16-bit PCM, the telephone's
//! format (G.711 is 8 kHz), ready for the voice line.

use std::io::Cursor;

use rubato::audioadapter::Adapter;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use thiserror::Error;

/// The rate of the telephone network's audio.
pub const PHONE_RATE: u32 = 8000;

/// Lowest and highest input rates accepted.
const RATES: std::ops::RangeInclusive<u32> = 8000..=192_000;

/// The longest announcement accepted, in seconds (a town message, not a concert).
pub const MAX_SECONDS: u32 = 300;

/// Why an upload was refused; the sentence is shown to staff.
#[derive(Debug, Error)]
pub enum WavError {
    /// Not a WAV file hound can read.
    #[error("le fichier n'est pas un enregistrement WAV lisible")]
    NotWav(#[source] hound::Error),
    /// A sample format we do not read.
    #[error("format WAV non pris en charge ({bits} bits, {format})")]
    Format {
        /// Bits per sample.
        bits: u16,
        /// "PCM" or "flottant".
        format: &'static str,
    },
    /// Rate outside 8–192 kHz, or no channel.
    #[error("fréquence ou nombre de canaux non pris en charge ({rate} Hz, {channels} canaux)")]
    Shape {
        /// Sample rate.
        rate: u32,
        /// Channels.
        channels: u16,
    },
    /// No sound at all.
    #[error("l'enregistrement est vide")]
    Empty,
    /// Longer than [`MAX_SECONDS`].
    #[error("l'enregistrement dure plus de {MAX_SECONDS} secondes")]
    TooLong,
    /// A floating-point sample that is no number (NaN) or infinite: no recorder writes one.
    #[error("l'enregistrement contient des échantillons invalides")]
    NotFinite,
    /// The resampler refused (should not happen for accepted rates).
    #[error("la conversion à 8 kHz a échoué")]
    Resample(String),
}

/// An announcement converted to the phone's format.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneAudio {
    /// 8 kHz mono samples.
    pub samples: Vec<i16>,
    /// The WAV file (RIFF, PCM 16-bit, 8 kHz, mono) of those samples.
    pub wav: Vec<u8>,
}

impl PhoneAudio {
    /// Duration in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 * 1000 / u64::from(PHONE_RATE)
    }
}

/// Reads a WAV upload, mixes it to mono and resamples it to 8 kHz 16-bit.
pub fn to_phone(bytes: &[u8]) -> Result<PhoneAudio, WavError> {
    let mut reader = hound::WavReader::new(Cursor::new(bytes)).map_err(WavError::NotWav)?;
    let spec = reader.spec();
    if !RATES.contains(&spec.sample_rate) || spec.channels == 0 || spec.channels > 8 {
        return Err(WavError::Shape {
            rate: spec.sample_rate,
            channels: spec.channels,
        });
    }
    let frames = u64::from(reader.duration());
    if frames == 0 {
        return Err(WavError::Empty);
    }
    if frames > u64::from(MAX_SECONDS) * u64::from(spec.sample_rate) {
        return Err(WavError::TooLong);
    }
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => {
            let samples: Vec<f32> = reader
                .samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(WavError::NotWav)?;
            // A NaN or an infinity makes the FFT resampler panic (found by fuzzing); a
            // finite value past full scale is clipping, kept at full scale so that no sum
            // of the filter can overflow.
            if samples.iter().any(|v| !v.is_finite()) {
                return Err(WavError::NotFinite);
            }
            samples.into_iter().map(|v| v.clamp(-1.0, 1.0)).collect()
        }
        (hound::SampleFormat::Int, bits @ 8..=32) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(WavError::NotWav)?
        }
        (f, bits) => {
            return Err(WavError::Format {
                bits,
                format: if f == hound::SampleFormat::Float {
                    "flottant"
                } else {
                    "PCM"
                },
            });
        }
    };
    let channels = usize::from(spec.channels);
    let mono: Vec<f32> = interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    if mono.is_empty() {
        return Err(WavError::Empty);
    }
    let resampled = if spec.sample_rate == PHONE_RATE {
        mono
    } else {
        resample(&mono, spec.sample_rate)?
    };
    let samples: Vec<i16> = resampled
        .iter()
        .map(|&v| (v.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16)
        .collect();
    let wav = encode_wav(&samples)?;
    Ok(PhoneAudio { samples, wav })
}

/// Band-limited resampling of mono samples to 8 kHz (FFT resampler: the low-pass filter
/// keeps what is above 4 kHz from folding back into the band as noise).
fn resample(mono: &[f32], rate_in: u32) -> Result<Vec<f32>, WavError> {
    let err = |e: &dyn std::fmt::Display| WavError::Resample(e.to_string());
    let mut resampler = Fft::<f32>::new(
        rate_in as usize,
        PHONE_RATE as usize,
        1024,
        1,
        FixedSync::Input,
    )
    .map_err(|e| err(&e))?;
    let input = InterleavedSlice::new(mono, 1, mono.len()).map_err(|e| err(&e))?;
    let out = resampler
        .process_all(&input, mono.len(), None)
        .map_err(|e| err(&e))?;
    let n = out.frames();
    Ok((0..n)
        .map(|i| out.read_sample(0, i).unwrap_or(0.0))
        .collect())
}

fn encode_wav(samples: &[i16]) -> Result<Vec<u8>, WavError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: PHONE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    {
        let mut w = hound::WavWriter::new(&mut cursor, spec).map_err(WavError::NotWav)?;
        let mut w16 = w.get_i16_writer(samples.len() as u32);
        for &s in samples {
            w16.write_sample(s);
        }
        w16.flush().map_err(WavError::NotWav)?;
        w.finalize().map_err(WavError::NotWav)?;
    }
    Ok(cursor.into_inner())
}

/// Writes a WAV file of a sine tone (for tests and the demo's sample announcement).
pub fn sine_wav(rate: u32, channels: u16, bits: u16, freq_hz: f32, millis: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::new());
    let frames = rate as u64 * u64::from(millis) / 1000;
    let amp = ((1i64 << (bits - 1)) - 1) as f32 * 0.5;
    {
        let mut w = hound::WavWriter::new(&mut cursor, spec).expect("in-memory WAV writer");
        for i in 0..frames {
            let v = (2.0 * std::f32::consts::PI * freq_hz * i as f32 / rate as f32).sin() * amp;
            for _ in 0..channels {
                w.write_sample(v as i32).expect("in-memory write");
            }
        }
        w.finalize().expect("in-memory finalize");
    }
    cursor.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strength of `freq` in `samples` (one DFT bin), relative to the signal's RMS.
    fn tone_energy(samples: &[i16], freq: f32) -> f32 {
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (i, &s) in samples.iter().enumerate() {
            let ph =
                2.0 * std::f64::consts::PI * f64::from(freq) * i as f64 / f64::from(PHONE_RATE);
            re += f64::from(s) * ph.cos();
            im += f64::from(s) * ph.sin();
        }
        ((re * re + im * im).sqrt() / samples.len() as f64) as f32
    }

    #[test]
    fn stereo_44k_becomes_8k_mono_16bit_keeping_the_tone() {
        let input = sine_wav(44_100, 2, 16, 440.0, 1000);
        let out = to_phone(&input).unwrap();
        // One second in, one second out (within a few ms of filter edges).
        assert!(
            (out.samples.len() as i64 - 8000).abs() < 80,
            "{}",
            out.samples.len()
        );
        let r = hound::WavReader::new(Cursor::new(&out.wav)).unwrap();
        assert_eq!(r.spec().sample_rate, 8000);
        assert_eq!(r.spec().channels, 1);
        assert_eq!(r.spec().bits_per_sample, 16);
        // The 440 Hz tone is there; 1000 Hz is not.
        let mid = &out.samples[1000..7000];
        assert!(tone_energy(mid, 440.0) > 20.0 * tone_energy(mid, 1000.0));
    }

    #[test]
    fn other_rates_and_depths_are_accepted() {
        for (rate, bits) in [
            (8000, 16),
            (16_000, 16),
            (22_050, 8),
            (48_000, 24),
            (96_000, 32),
        ] {
            let out = to_phone(&sine_wav(rate, 1, bits, 300.0, 500)).unwrap();
            assert!(
                (out.samples.len() as i64 - 4000).abs() < 60,
                "{rate}: {}",
                out.samples.len()
            );
            assert!((490..=510).contains(&out.duration_ms()), "{rate}");
        }
    }

    #[test]
    fn garbage_and_odd_files_are_refused_with_a_sentence() {
        let e = to_phone(b"not a wav at all").unwrap_err();
        assert_eq!(
            e.to_string(),
            "le fichier n'est pas un enregistrement WAV lisible"
        );
        let e = to_phone(&sine_wav(4000, 1, 16, 300.0, 100)).unwrap_err();
        assert!(matches!(e, WavError::Shape { rate: 4000, .. }));
        let e = to_phone(&sine_wav(8000, 1, 16, 300.0, 0)).unwrap_err();
        assert!(matches!(e, WavError::Empty));
    }

    /// Found by fuzzing (`wav_upload`, 10-minute run): a 32-bit float WAV at 44.1 kHz whose
    /// samples are NaN made the resampler panic in a staff upload handler. It is refused
    /// with a sentence now, and so is an infinity.
    #[test]
    fn float_samples_that_are_no_number_are_refused_not_a_panic() {
        let crash = include_bytes!("../../tests/fixtures/fuzz/wav_upload-nan-float.wav");
        assert!(matches!(to_phone(crash), Err(WavError::NotFinite)));
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let wav = float_wav(&[0.0, 0.5, bad, -0.5], 44_100);
            let e = to_phone(&wav).unwrap_err();
            assert!(matches!(e, WavError::NotFinite), "{e:?}");
            assert_eq!(
                e.to_string(),
                "l'enregistrement contient des échantillons invalides"
            );
        }
        // Past full scale but finite: clipped, converted.
        let loud = float_wav(&vec![1.0e30; 4_410], 44_100);
        let audio = to_phone(&loud).unwrap();
        assert!(!audio.samples.is_empty());
    }

    fn float_wav(samples: &[f32], rate: u32) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut cursor = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
        for &v in samples {
            w.write_sample(v).unwrap();
        }
        w.finalize().unwrap();
        cursor.into_inner()
    }
}
