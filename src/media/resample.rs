//! Sample-rate conversion of whole clips with rubato's FFT resampler (used once per prompt at
//! load, never per packet).

use rubato::audioadapter_buffers::owned::InterleavedOwned;
use rubato::{Fft, FixedSync, Resampler};

use super::error::MediaError;

/// Resamples a mono clip from `from_hz` to `to_hz`; the output is trimmed of the resampler's
/// delay so that it starts where the input starts.
pub fn resample(input: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, MediaError> {
    if from_hz == to_hz || input.is_empty() {
        return Ok(input.to_vec());
    }
    let err = |reason: String| MediaError::Resample {
        from_hz,
        to_hz,
        reason,
    };
    let mut resampler =
        Fft::<f32>::new(from_hz as usize, to_hz as usize, 1024, 1, FixedSync::Input)
            .map_err(|e| err(e.to_string()))?;
    let buffer = InterleavedOwned::new_from(input.to_vec(), 1, input.len())
        .map_err(|e| err(e.to_string()))?;
    let out = resampler
        .process_all(&buffer, input.len(), None)
        .map_err(|e| err(e.to_string()))?;
    // Keep exactly the clip's length at the new rate (the FFT resampler may give a few
    // samples of its padding more), so prompt durations do not grow by a frame.
    let want = (input.len() as u64 * to_hz as u64).div_ceil(from_hz as u64) as usize;
    let mut data = out.take_data();
    data.truncate(want);
    Ok(data)
}

/// Converts a float sample (nominal range ±1.0) to 16-bit, clipping.
#[inline]
pub fn f32_to_i16(s: f32) -> i16 {
    (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16
}

/// Converts a 16-bit sample to float (±1.0).
#[inline]
pub fn i16_to_f32(s: i16) -> f32 {
    s as f32 / 32768.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, secs: f32) -> Vec<f32> {
        let n = (rate as f32 * secs) as usize;
        (0..n)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    /// Amplitude of `freq` in `x` by correlation (a one-bin DFT).
    fn amplitude(x: &[f32], freq: f32, rate: u32) -> f32 {
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (i, &s) in x.iter().enumerate() {
            let ph = 2.0 * std::f64::consts::PI * freq as f64 * i as f64 / rate as f64;
            re += s as f64 * ph.cos();
            im += s as f64 * ph.sin();
        }
        (2.0 * (re * re + im * im).sqrt() / x.len() as f64) as f32
    }

    #[test]
    fn keeps_length_and_tone_when_downsampling() {
        let input = sine(1000.0, 44_100, 0.5);
        let out = resample(&input, 44_100, 8_000).unwrap();
        assert!((out.len() as i64 - 4000).abs() <= 2, "{}", out.len());
        let mid = &out[500..3500];
        assert!((amplitude(mid, 1000.0, 8000) - 0.5).abs() < 0.02);
    }

    #[test]
    fn removes_what_the_new_rate_cannot_carry() {
        // 6 kHz is above the 4 kHz Nyquist limit of 8 kHz audio: it must be filtered, not aliased
        // to 2 kHz.
        let input = sine(6000.0, 48_000, 0.5);
        let out = resample(&input, 48_000, 8_000).unwrap();
        assert!(amplitude(&out[500..3500], 2000.0, 8000) < 0.01);
    }

    #[test]
    fn upsamples_to_48k() {
        let input = sine(440.0, 8_000, 0.25);
        let out = resample(&input, 8_000, 48_000).unwrap();
        assert!((out.len() as i64 - 12_000).abs() <= 6);
        assert!((amplitude(&out[2000..10000], 440.0, 48_000) - 0.5).abs() < 0.02);
    }

    #[test]
    fn sample_conversions_clip() {
        assert_eq!(f32_to_i16(2.0), 32767);
        assert_eq!(f32_to_i16(-2.0), -32768);
        assert_eq!(f32_to_i16(0.0), 0);
        assert!((i16_to_f32(16384) - 0.5).abs() < 1e-6);
    }
}
