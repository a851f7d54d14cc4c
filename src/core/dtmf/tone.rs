//! DTMF tone generation at 8 kHz: for test callers, load tools and SIPp-less checks of the
//! in-band detector (the server itself never sends DTMF).

use std::time::Duration;

use crate::core::Digit;

/// Amplitude of a 0 dBm0 sine in 16-bit linear PCM (ITU-T G.711 full scale is +3.17 dBm0).
pub const DBM0_AMPLITUDE: f32 = 22_300.0;

/// The dual tone of `digit` for `duration` at 8 kHz, each frequency at `level_dbm0`
/// (−10 dBm0 is a typical phone level), with 2 ms ramps so it does not click.
pub fn dtmf_samples(digit: Digit, duration: Duration, level_dbm0: f32) -> Vec<i16> {
    let (row, col) = digit.frequencies();
    let amplitude = DBM0_AMPLITUDE * 10f32.powf(level_dbm0 / 20.0);
    let n = (duration.as_secs_f64() * 8000.0) as usize;
    let ramp = 16.0;
    (0..n)
        .map(|i| {
            let t = i as f32 / 8000.0;
            let env = ((i.min(n - 1 - i) as f32) / ramp).min(1.0);
            let v = (2.0 * std::f32::consts::PI * row * t).sin()
                + (2.0 * std::f32::consts::PI * col * t).sin();
            (amplitude * env * v).round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::dtmf::inband::InbandDetector;

    #[test]
    fn generated_tones_are_detected() {
        let mut det = InbandDetector::new();
        let mut got = String::new();
        for c in "159#".chars() {
            det.handle_samples(&dtmf_samples(
                Digit::from_char(c).unwrap(),
                Duration::from_millis(60),
                -10.0,
            ));
            det.handle_samples(&[0; 480]);
            while let Some(d) = det.poll_digit() {
                got.push(d.to_char());
            }
        }
        assert_eq!(got, "159#");
        assert!(dtmf_samples(Digit::from_char('1').unwrap(), Duration::ZERO, 0.0).is_empty());
    }
}
