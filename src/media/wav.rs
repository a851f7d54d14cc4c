//! Writing recordings as WAV, and level normalisation for recordings that are kept.

use std::io::{Seek, Write};

use super::error::MediaError;

/// Writes 16-bit mono samples as a WAV to any seekable writer (a file, a `Cursor<Vec<u8>>`).
pub fn write_wav<W: Write + Seek>(
    out: W,
    samples: &[i16],
    sample_rate: u32,
) -> Result<(), MediaError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::new(out, spec).map_err(MediaError::WavWrite)?;
    let mut i16w = w.get_i16_writer(samples.len() as u32);
    for &s in samples {
        i16w.write_sample(s);
    }
    i16w.flush().map_err(MediaError::WavWrite)?;
    w.finalize().map_err(MediaError::WavWrite)
}

/// Scales `samples` so that the peak reaches `target_dbfs` (e.g. −1.0). Silence is left as
/// is. Returns the gain applied.
pub fn normalize_peak(samples: &mut [i16], target_dbfs: f32) -> f32 {
    let peak = samples
        .iter()
        .map(|&s| (s as i32).unsigned_abs())
        .max()
        .unwrap_or(0);
    if peak == 0 {
        return 1.0;
    }
    let gain = db_to_linear(target_dbfs) * 32767.0 / peak as f32;
    apply_gain(samples, gain);
    gain
}

/// Scales `samples` so that their RMS level reaches `target_dbfs` (e.g. −20.0), but never so
/// far that the peak would pass `max_peak_dbfs` (the gain is lowered instead of clipping).
/// Silence is left as is. Returns the gain applied.
pub fn normalize_rms(samples: &mut [i16], target_dbfs: f32, max_peak_dbfs: f32) -> f32 {
    if samples.is_empty() {
        return 1.0;
    }
    let sum_sq: f64 = samples.iter().map(|&s| (s as f64) * (s as f64)).sum();
    let rms = (sum_sq / samples.len() as f64).sqrt() as f32;
    if rms == 0.0 {
        return 1.0;
    }
    let peak = samples
        .iter()
        .map(|&s| (s as i32).unsigned_abs())
        .max()
        .unwrap_or(0) as f32;
    let want = db_to_linear(target_dbfs) * 32767.0 / rms;
    let limit = db_to_linear(max_peak_dbfs) * 32767.0 / peak;
    let gain = want.min(limit);
    apply_gain(samples, gain);
    gain
}

fn db_to_linear(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

fn apply_gain(samples: &mut [i16], gain: f32) {
    for s in samples {
        *s = (*s as f32 * gain).round().clamp(-32768.0, 32767.0) as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn writes_a_readable_wav() {
        let samples: Vec<i16> = (0..800).map(|i| (i * 40 - 16000) as i16).collect();
        let mut cursor = Cursor::new(Vec::new());
        write_wav(&mut cursor, &samples, 8000).unwrap();
        cursor.set_position(0);
        let mut r = hound::WavReader::new(cursor).unwrap();
        assert_eq!(r.spec().sample_rate, 8000);
        assert_eq!(r.spec().channels, 1);
        let back: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(back, samples);
    }

    #[test]
    fn peak_normalisation() {
        let mut s = vec![0i16, 1000, -2000, 500];
        normalize_peak(&mut s, -6.0206);
        assert!((s[2] + 16384).abs() <= 1, "{}", s[2]);
        assert!((s[1] - 8192).abs() <= 1, "{}", s[1]);
        let mut silent = vec![0i16; 10];
        assert_eq!(normalize_peak(&mut silent, -1.0), 1.0);
    }

    #[test]
    fn rms_normalisation_respects_the_peak_limit() {
        let mut s: Vec<i16> = (0..8000)
            .map(|i| if i % 2 == 0 { 100 } else { -100 })
            .collect();
        normalize_rms(&mut s, -20.0, -1.0);
        let rms = (s.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / s.len() as f64).sqrt();
        assert!((rms - 3276.7).abs() < 5.0, "{rms}");
        // A spiky signal: the peak limit wins.
        let mut spiky = vec![0i16; 8000];
        spiky[10] = 1000;
        normalize_rms(&mut spiky, -20.0, -1.0);
        assert_eq!(spiky[10], (32767.0 * db_to_linear(-1.0)).round() as i16);
    }
}
