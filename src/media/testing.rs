//! Audio comparison for tests of codecs and calls: used by this crate's unit tests and by
//! the SIP tests, which hear prompts through a real call.

/// Spectrogram similarity of `got` against `want` (both at `rate`): the correlation of their
/// 20 ms Goertzel power spectra (300–3300 Hz), best over lags up to 20 ms. A phase-free
/// measure for Opus, whose decoded waveform need not match sample by sample.
pub fn spectral_similarity(want: &[i16], got: &[i16], rate: u32) -> f64 {
    let win = (rate / 50) as usize;
    let freqs: Vec<f64> = (3..=33).map(|k| f64::from(k) * 100.0).collect();
    let spectrum = |x: &[i16]| -> Vec<f64> {
        let mut out = Vec::new();
        for w in x.chunks_exact(win) {
            for &f in &freqs {
                let coeff = 2.0 * (2.0 * std::f64::consts::PI * f / f64::from(rate)).cos();
                let (mut s1, mut s2) = (0.0f64, 0.0f64);
                for &v in w {
                    let s0 = f64::from(v) + coeff * s1 - s2;
                    s2 = s1;
                    s1 = s0;
                }
                out.push((s1 * s1 + s2 * s2 - coeff * s1 * s2).max(0.0).sqrt());
            }
        }
        out
    };
    let a = spectrum(want);
    let step = (rate / 1000) as usize;
    let mut best = 0.0f64;
    for lag in (0..=win).step_by(step) {
        if lag >= got.len() {
            break;
        }
        let b = spectrum(&got[lag..]);
        let n = a.len().min(b.len());
        if n < a.len() / 2 {
            break;
        }
        let (ma, mb) = (
            a[..n].iter().sum::<f64>() / n as f64,
            b[..n].iter().sum::<f64>() / n as f64,
        );
        if let Some(c) = cosine(a[..n].iter().zip(&b[..n]).map(|(x, y)| (x - ma, y - mb))) {
            best = best.max(c);
        }
    }
    best
}

/// Best normalised cross-correlation of `got` against `want` over lags `0..max_lag`: for
/// G.711, whose decoded waveform follows the original.
pub fn best_correlation(want: &[i16], got: &[i16], max_lag: usize) -> f64 {
    let mut best = 0.0f64;
    for lag in 0..max_lag.min(got.len()) {
        let n = want.len().min(got.len() - lag);
        if n < want.len() / 2 {
            break;
        }
        let pairs = want[..n]
            .iter()
            .zip(&got[lag..lag + n])
            .map(|(&a, &b)| (f64::from(a), f64::from(b)));
        if let Some(c) = cosine(pairs) {
            best = best.max(c);
        }
    }
    best
}

/// The cosine of two series given as pairs; `None` when either is all zeros.
fn cosine(pairs: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in pairs {
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    (aa > 0.0 && bb > 0.0).then(|| ab / (aa * bb).sqrt())
}
