//! In-band DTMF: dual tones found in decoded 8 kHz audio (for trunks that send no
//! telephone-events), with the tolerances of ITU-T Q.24.
//!
//! Method. Audio is cut into 10 ms blocks (80 samples). For each of the 8 DTMF frequencies a
//! Goertzel filter gives the block's complex DFT value; two consecutive blocks make a 20 ms
//! analysis window (hop 10 ms). In each window:
//! 1. the strongest row (low group) and column (high group) frequency are chosen;
//! 2. **steadiness**: each tone's power in the two halves of the window must agree within
//!    3 dB (a window only partly filled with tone does not count);
//! 3. **frequency**: the phase advance of the DFT value from one block to the next measures
//!    each tone's actual frequency (exact for offsets up to ±50 Hz). A tone off by more than
//!    [`FREQ_TOLERANCE`] (2.5 %) is refused: Q.24 asks that ±1.5 % be accepted and ±3.5 %
//!    refused. Tones further off fall near another DTMF frequency or far down the window's
//!    response, where the level and twist checks refuse them;
//! 4. **level**: each tone's amplitude, corrected for the block's response at the measured
//!    offset, must reach [`MIN_TONE_DBM0`];
//! 5. **twist**: the high group may be up to [`MAX_NORMAL_TWIST_DB`] louder than the low group
//!    and up to [`MAX_REVERSE_TWIST_DB`] softer;
//! 6. **purity**: the two tones must carry [`MIN_PURITY`] of the window's energy, which is
//!    what keeps speech, music and noise from triggering.
//!
//! Timing: a digit is confirmed by 2 consecutive good windows (a 40 ms tone always gives
//! them; a 20 ms one never does) and released by 4 consecutive windows without it (a 40 ms
//! pause always gives them; a 10 ms break in a held tone does not), so a held key counts once
//! and two presses separated by a Q.24 pause count twice.
//!
//! State is a few floats: nothing allocates.

use std::f32::consts::PI;

use super::super::digit::{COL_HZ, Digit, ROW_HZ};
use crate::media::g711::Law;

/// Sample rate the detector works at (G.711).
pub const RATE: f32 = 8000.0;
/// Samples per block (10 ms).
pub const BLOCK: usize = 80;
/// Largest accepted deviation of each tone from its nominal frequency.
pub const FREQ_TOLERANCE: f32 = 0.025;
/// Weakest accepted tone, per frequency, in dBm0.
pub const MIN_TONE_DBM0: f32 = -30.0;
/// How much louder the high group may be than the low group ("normal" twist), dB.
pub const MAX_NORMAL_TWIST_DB: f32 = 8.0;
/// How much softer the high group may be than the low group ("reverse" twist), dB.
pub const MAX_REVERSE_TWIST_DB: f32 = 4.0;
/// Share of the window's energy the two tones must carry.
pub const MIN_PURITY: f32 = 0.9;
/// Consecutive good windows that confirm a digit.
const HITS_TO_CONFIRM: u8 = 2;
/// Consecutive windows without the digit that end it.
const MISSES_TO_RELEASE: u8 = 4;
use crate::core::dtmf::tone::DBM0_AMPLITUDE;

#[derive(Debug, Clone, Copy, Default)]
struct Complex {
    re: f32,
    im: f32,
}

/// One Goertzel filter's constants.
#[derive(Debug, Clone, Copy)]
struct Tone {
    hz: f32,
    coeff: f32,
    cos: f32,
    sin: f32,
    /// cos/sin of ω × BLOCK: the phase a tone at exactly `hz` advances per block.
    block_cos: f32,
    block_sin: f32,
}

impl Tone {
    fn new(hz: f32) -> Tone {
        let w = 2.0 * PI * hz / RATE;
        let wb = w * BLOCK as f32;
        Tone {
            hz,
            coeff: 2.0 * w.cos(),
            cos: w.cos(),
            sin: w.sin(),
            block_cos: wb.cos(),
            block_sin: wb.sin(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Confirming { digit: Digit, hits: u8 },
    Active { digit: Digit, misses: u8 },
}

/// Finds DTMF key presses in one call's received audio.
#[derive(Debug, Clone)]
pub struct InbandDetector {
    tones: [Tone; 8],
    /// Goertzel state (s[n−1], s[n−2]) per tone for the block in progress.
    s1: [f32; 8],
    s2: [f32; 8],
    energy: f32,
    filled: usize,
    /// DFT values and energy of the previous complete block.
    prev: Option<([Complex; 8], f32)>,
    state: State,
    out: [Option<Digit>; 4],
}

impl Default for InbandDetector {
    fn default() -> Self {
        InbandDetector::new()
    }
}

impl InbandDetector {
    /// A detector with no audio seen.
    pub fn new() -> InbandDetector {
        let mut tones = [Tone::new(0.0); 8];
        for (i, &hz) in ROW_HZ.iter().chain(COL_HZ.iter()).enumerate() {
            tones[i] = Tone::new(hz);
        }
        InbandDetector {
            tones,
            s1: [0.0; 8],
            s2: [0.0; 8],
            energy: 0.0,
            filled: 0,
            prev: None,
            state: State::Idle,
            out: [None; 4],
        }
    }

    /// Feeds decoded 8 kHz samples (any chunk size); read digits with
    /// [`InbandDetector::poll_digit`].
    #[inline]
    pub fn handle_samples(&mut self, samples: &[i16]) {
        for &x in samples {
            let x = x as f32;
            self.energy += x * x;
            for i in 0..8 {
                let s = x + self.tones[i].coeff * self.s1[i] - self.s2[i];
                self.s2[i] = self.s1[i];
                self.s1[i] = s;
            }
            self.filled += 1;
            if self.filled == BLOCK {
                self.end_block();
            }
        }
    }

    /// Decodes a G.711 payload and feeds it (no allocation: decodes through a stack buffer).
    #[inline]
    pub fn handle_g711(&mut self, law: Law, payload: &[u8]) {
        let mut buf = [0i16; BLOCK];
        for chunk in payload.chunks(BLOCK) {
            law.decode_into(chunk, &mut buf);
            self.handle_samples(&buf[..chunk.len()]);
        }
    }

    /// The next digit detected, oldest first.
    pub fn poll_digit(&mut self) -> Option<Digit> {
        let d = self.out[0].take();
        self.out.rotate_left(1);
        d
    }

    fn emit(&mut self, d: Digit) {
        if let Some(slot) = self.out.iter_mut().find(|s| s.is_none()) {
            *slot = Some(d);
        }
    }

    fn end_block(&mut self) {
        let mut dft = [Complex::default(); 8];
        for (i, t) in self.tones.iter().enumerate() {
            // Y = s[N−1] − e^{−jω} s[N−2]: the DFT at ω up to a phase factor that is the same
            // for every block, so it cancels in the ratios and sums used below.
            dft[i] = Complex {
                re: self.s1[i] - t.cos * self.s2[i],
                im: t.sin * self.s2[i],
            };
        }
        let energy = self.energy;
        self.s1 = [0.0; 8];
        self.s2 = [0.0; 8];
        self.energy = 0.0;
        self.filled = 0;
        if let Some((prev, prev_energy)) = self.prev {
            let found = self.classify(&prev, &dft, prev_energy + energy);
            self.step(found);
        }
        self.prev = Some((dft, energy));
    }

    /// The digit present in the window made of blocks `a` then `b`, if it passes every check.
    fn classify(&self, a: &[Complex; 8], b: &[Complex; 8], energy: f32) -> Option<Digit> {
        let n = (2 * BLOCK) as f32;
        let mean_square = energy / n;
        // Silence: skip the arithmetic (−50 dBm0 in total).
        if mean_square < (DBM0_AMPLITUDE * DBM0_AMPLITUDE / 2.0) * 1e-5 {
            return None;
        }
        // Window DFT = A + e^{−jωN}·B (B's reference moved to the window start).
        let window = |i: usize| {
            let t = &self.tones[i];
            let (c, s) = (t.block_cos, -t.block_sin);
            Complex {
                re: a[i].re + c * b[i].re - s * b[i].im,
                im: a[i].im + c * b[i].im + s * b[i].re,
            }
        };
        let power = |z: Complex| z.re * z.re + z.im * z.im;
        let strongest = |range: std::ops::Range<usize>| {
            range
                .map(|i| (i, power(window(i))))
                .fold((0, -1.0f32), |m, x| if x.1 > m.1 { x } else { m })
        };
        let (row, _) = strongest(0..4);
        let (col, _) = strongest(4..8);

        let mut tone_power = [0.0f32; 2];
        for (k, i) in [row, col].into_iter().enumerate() {
            let t = &self.tones[i];
            // Steadiness: the tone must be in both halves of the window at a similar level
            // (within 3 dB). This is what gives the durations of the module doc: a half
            // filled with less than ~70 % of tone fails.
            let (pa, pb) = (power(a[i]), power(b[i]));
            if pb < 0.5 * pa || pb > 2.0 * pa {
                return None;
            }
            // Phase advance from block a to block b, minus the nominal ω·BLOCK.
            let x = Complex {
                re: b[i].re * a[i].re + b[i].im * a[i].im,
                im: b[i].im * a[i].re - b[i].re * a[i].im,
            };
            let rotated = Complex {
                re: x.re * t.block_cos + x.im * t.block_sin,
                im: x.im * t.block_cos - x.re * t.block_sin,
            };
            let dphi = rotated.im.atan2(rotated.re);
            let offset_hz = dphi * RATE / (2.0 * PI * BLOCK as f32);
            if offset_hz.abs() > FREQ_TOLERANCE * t.hz {
                return None;
            }
            // Level from the two blocks' powers, corrected by the block's (Dirichlet) response
            // at the measured offset (≥ 0.74 within the tolerance).
            let nb = BLOCK as f32;
            let d = 2.0 * PI * offset_hz / RATE;
            let gain = if d.abs() < 1e-6 {
                1.0
            } else {
                ((d * nb / 2.0).sin() / (nb * (d / 2.0).sin())).abs()
            };
            let mean_block_power = (pa + pb) / 2.0;
            // amplitude = 2·|X|/N/gain; mean square = amplitude²/2.
            tone_power[k] = 2.0 * mean_block_power / (nb * nb * gain * gain);
        }
        let min_power = {
            let a = DBM0_AMPLITUDE * 10f32.powf(MIN_TONE_DBM0 / 20.0);
            a * a / 2.0
        };
        if tone_power[0] < min_power || tone_power[1] < min_power {
            return None;
        }
        let twist_db = 10.0 * (tone_power[1] / tone_power[0]).log10();
        if !(-MAX_REVERSE_TWIST_DB..=MAX_NORMAL_TWIST_DB).contains(&twist_db) {
            return None;
        }
        if tone_power[0] + tone_power[1] < MIN_PURITY * mean_square {
            return None;
        }
        Digit::from_position(row, col - 4)
    }

    fn step(&mut self, found: Option<Digit>) {
        self.state = match (self.state, found) {
            (State::Idle, Some(d)) => State::Confirming { digit: d, hits: 1 },
            (State::Idle, None) => State::Idle,
            (State::Confirming { digit, hits }, Some(d)) if d == digit => {
                if hits + 1 >= HITS_TO_CONFIRM {
                    self.emit(digit);
                    State::Active { digit, misses: 0 }
                } else {
                    State::Confirming {
                        digit,
                        hits: hits + 1,
                    }
                }
            }
            (State::Confirming { .. }, Some(d)) => State::Confirming { digit: d, hits: 1 },
            (State::Confirming { .. }, None) => State::Idle,
            (State::Active { digit, .. }, Some(d)) if d == digit => {
                State::Active { digit, misses: 0 }
            }
            (State::Active { digit, misses }, other) => {
                if misses + 1 >= MISSES_TO_RELEASE {
                    match other {
                        Some(d) => State::Confirming { digit: d, hits: 1 },
                        None => State::Idle,
                    }
                } else {
                    State::Active {
                        digit,
                        misses: misses + 1,
                    }
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Amplitude of a sine at `dbm0`.
    fn amp(dbm0: f32) -> f32 {
        DBM0_AMPLITUDE * 10f32.powf(dbm0 / 20.0)
    }

    /// A signal built piece by piece, with a running sample index so phases are continuous.
    struct Signal {
        samples: Vec<i16>,
    }

    impl Signal {
        fn new() -> Signal {
            Signal {
                samples: Vec::new(),
            }
        }
        fn tones(mut self, f1: f32, a1: f32, f2: f32, a2: f32, ms: usize) -> Signal {
            let start = self.samples.len();
            for i in start..start + ms * 8 {
                let t = i as f32 / RATE;
                let v = a1 * (2.0 * PI * f1 * t).sin() + a2 * (2.0 * PI * f2 * t + 1.0).sin();
                self.samples.push(v.round().clamp(-32768.0, 32767.0) as i16);
            }
            self
        }
        fn key(self, c: char, dbm0: f32, ms: usize) -> Signal {
            let (r, k) = Digit::from_char(c).unwrap().frequencies();
            self.tones(r, amp(dbm0), k, amp(dbm0), ms)
        }
        fn silence(mut self, ms: usize) -> Signal {
            self.samples.extend(std::iter::repeat_n(0, ms * 8));
            self
        }
        fn samples(self) -> Vec<i16> {
            self.samples
        }
    }

    /// Runs samples through A-law (as a French trunk sends them) and the detector, in 20 ms
    /// packets.
    fn detect(samples: &[i16]) -> String {
        detect_law(Law::Alaw, samples)
    }

    fn detect_law(law: Law, samples: &[i16]) -> String {
        let mut det = InbandDetector::new();
        let mut out = String::new();
        for packet in samples.chunks(160) {
            let payload = law.encode(packet);
            det.handle_g711(law, &payload);
            while let Some(d) = det.poll_digit() {
                out.push(d.to_char());
            }
        }
        out
    }

    #[test]
    fn every_key_is_detected_once() {
        for d in Digit::ALL {
            let s = Signal::new()
                .silence(30)
                .key(d.to_char(), -10.0, 80)
                .silence(60)
                .samples();
            assert_eq!(detect(&s), d.to_char().to_string(), "key {}", d.to_char());
        }
    }

    #[test]
    fn a_sequence_of_keys() {
        let mut s = Signal::new().silence(20);
        for c in "0123456789*#".chars() {
            s = s.key(c, -8.0, 50).silence(50);
        }
        assert_eq!(detect(&s.samples()), "0123456789*#");
    }

    #[test]
    fn frequency_tolerance_follows_q24() {
        let (a, quiet) = (amp(-10.0), String::new());
        for (i, &f) in ROW_HZ.iter().chain(COL_HZ.iter()).enumerate() {
            // Shift one tone, keep the other nominal: row 0 / column 0 partner.
            let (row, col) = if i < 4 {
                (f, COL_HZ[0])
            } else {
                (ROW_HZ[0], f)
            };
            let key = Digit::from_position(
                ROW_HZ.iter().position(|&x| x == row).unwrap_or(0),
                COL_HZ.iter().position(|&x| x == col).unwrap_or(0),
            )
            .unwrap();
            // ±6 % lands between two DTMF frequencies, or (1633 Hz + 6 %) about 100 Hz off,
            // where the phase measurement aliases: each must still be refused.
            for (dev, accepted) in [
                (0.015, true),
                (-0.015, true),
                (0.035, false),
                (-0.035, false),
                (0.06, false),
                (-0.06, false),
            ] {
                let (r, c) = if i < 4 {
                    (row * (1.0 + dev), col)
                } else {
                    (row, col * (1.0 + dev))
                };
                let s = Signal::new()
                    .silence(20)
                    .tones(r, a, c, a, 100)
                    .silence(60)
                    .samples();
                let want = if accepted {
                    key.to_char().to_string()
                } else {
                    quiet.clone()
                };
                assert_eq!(detect(&s), want, "{f} Hz off by {dev}");
            }
        }
    }

    #[test]
    fn twist_limits() {
        let (r, c) = Digit::from_char('5').unwrap().frequencies();
        let cases = [
            (0.0, true),
            (7.0, true),
            (10.0, false),
            (-3.0, true),
            (-6.0, false),
        ];
        for (twist_db, accepted) in cases {
            // twist = high group level − low group level.
            let s = Signal::new()
                .silence(20)
                .tones(r, amp(-12.0), c, amp(-12.0 + twist_db), 100)
                .silence(60)
                .samples();
            assert_eq!(
                detect(&s),
                if accepted { "5" } else { "" },
                "twist {twist_db} dB"
            );
        }
    }

    #[test]
    fn minimum_level() {
        assert_eq!(
            detect(&Signal::new().key('8', -25.0, 100).silence(60).samples()),
            "8"
        );
        assert_eq!(
            detect(&Signal::new().key('8', -40.0, 100).silence(60).samples()),
            ""
        );
    }

    #[test]
    fn duration_40ms_accepted_20ms_refused_at_every_alignment() {
        for offset in (0..80).step_by(7) {
            let lead = Signal {
                samples: vec![0; offset],
            };
            let s = lead.key('9', -10.0, 40).silence(80).samples();
            assert_eq!(detect(&s), "9", "40 ms at offset {offset}");
            let lead = Signal {
                samples: vec![0; offset],
            };
            let s = lead.key('9', -10.0, 20).silence(80).samples();
            assert_eq!(detect(&s), "", "20 ms at offset {offset}");
        }
    }

    #[test]
    fn held_key_counts_once_and_a_pause_separates_presses() {
        assert_eq!(
            detect(&Signal::new().key('4', -10.0, 2000).silence(60).samples()),
            "4"
        );
        let two = Signal::new()
            .key('4', -10.0, 60)
            .silence(40)
            .key('4', -10.0, 60)
            .silence(60);
        assert_eq!(detect(&two.samples()), "44");
        // A 10 ms break inside a held tone is not a pause (Q.24 signal interruption).
        let broken = Signal::new()
            .key('4', -10.0, 100)
            .silence(10)
            .key('4', -10.0, 100)
            .silence(60);
        assert_eq!(detect(&broken.samples()), "4");
    }

    fn noise(n: usize, amplitude: f32, seed: &mut u64) -> Vec<f32> {
        (0..n)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((*seed >> 33) as f32 / (1u64 << 31) as f32 * 2.0 - 1.0) * amplitude
            })
            .collect()
    }

    #[test]
    fn noise_alone_triggers_nothing_and_a_tone_in_noise_is_found() {
        let mut seed = 1;
        let n: Vec<i16> = noise(8000 * 3, 20_000.0, &mut seed)
            .into_iter()
            .map(|v| v as i16)
            .collect();
        assert_eq!(detect(&n), "");
        // −10 dBm0 tones over noise 25 dB below them.
        let tone = Signal::new()
            .silence(20)
            .key('3', -10.0, 100)
            .silence(60)
            .samples();
        let noisy: Vec<i16> = tone
            .iter()
            .zip(noise(tone.len(), amp(-35.0) * 1.7, &mut seed))
            .map(|(&t, n)| (t as f32 + n) as i16)
            .collect();
        assert_eq!(detect(&noisy), "3");
    }

    #[test]
    fn speech_like_signals_trigger_nothing() {
        // Voiced speech: a harmonic series whose pitch glides, shaped by two formants, with
        // syllables; pitches chosen so harmonics pass near DTMF frequencies.
        for (f0_base, f1_base, f2_base) in [
            (90.0, 500.0, 1300.0),
            (140.0, 300.0, 900.0),
            (210.0, 650.0, 1100.0),
        ] {
            let mut samples = Vec::new();
            let mut phase = 0.0f32;
            for syllable in 0..20 {
                let f0_start = f0_base + 11.0 * syllable as f32;
                let formants = [
                    (f1_base + 40.0 * syllable as f32, 120.0),
                    (f2_base + 45.0 * syllable as f32, 150.0),
                    (2500.0, 200.0),
                ];
                for i in 0..(8 * 180) {
                    let f0 = f0_start + 20.0 * (i as f32 / 1440.0);
                    phase += 2.0 * PI * f0 / RATE;
                    let mut v = 0.0;
                    for h in 1..=40 {
                        let fh = f0 * h as f32;
                        if fh > 3800.0 {
                            break;
                        }
                        let g: f32 = formants
                            .iter()
                            .map(|&(fc, bw)| 1.0 / (1.0 + ((fh - fc) / bw).powi(2)))
                            .sum();
                        v += g * (phase * h as f32).sin();
                    }
                    samples.push((v * 4000.0).clamp(-32000.0, 32000.0) as i16);
                }
                samples.extend(std::iter::repeat_n(0, 8 * 60));
            }
            assert_eq!(detect(&samples), "", "voice {f0_base} Hz");
        }
        // A whistle on one DTMF frequency alone.
        let whistle = Signal::new()
            .tones(941.0, amp(-5.0), 941.0, 0.0, 1000)
            .samples();
        assert_eq!(detect(&whistle), "");
        // A chord holding a DTMF pair plus a third note of the same level (music on hold).
        let chord: Vec<i16> = Signal::new()
            .tones(770.0, amp(-12.0), 1336.0, amp(-12.0), 1000)
            .samples()
            .iter()
            .enumerate()
            .map(|(i, &v)| v + (amp(-12.0) * (2.0 * PI * 1000.0 * i as f32 / RATE).sin()) as i16)
            .collect();
        assert_eq!(detect(&chord), "");
    }

    #[test]
    fn works_from_raw_samples_in_odd_chunks() {
        let s = Signal::new()
            .key('#', -6.0, 60)
            .silence(60)
            .key('*', -6.0, 60)
            .silence(60)
            .samples();
        let mut det = InbandDetector::new();
        let mut out = String::new();
        for chunk in s.chunks(37) {
            det.handle_samples(chunk);
            while let Some(d) = det.poll_digit() {
                out.push(d.to_char());
            }
        }
        assert_eq!(out, "#*");
    }
}
