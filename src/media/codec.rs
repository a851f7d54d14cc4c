//! [`Codec`] and [`Ptime`]: what the voice path can send and in what frame size.

use std::time::Duration;

use crate::media::rtp_types::{ClockRate, PayloadType};

/// An audio codec the engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law (RFC 3551 §4.5.14), 8 kHz.
    Pcmu,
    /// G.711 A-law (RFC 3551 §4.5.14), 8 kHz.
    Pcma,
    /// Opus (RFC 7587): the RTP clock is always 48 kHz whatever the audio bandwidth.
    Opus,
}

impl Codec {
    /// The RTP clock rate (RFC 3551 §4.5.14; RFC 7587 §4.1 for Opus).
    #[inline]
    pub const fn clock_rate(self) -> ClockRate {
        match self {
            Codec::Pcmu | Codec::Pcma => ClockRate(8_000),
            Codec::Opus => ClockRate(48_000),
        }
    }

    /// The static payload type (0 and 8, RFC 3551 §6); Opus takes a dynamic one from the SDP.
    pub const fn static_payload_type(self) -> Option<PayloadType> {
        match self {
            Codec::Pcmu => Some(PayloadType::PCMU),
            Codec::Pcma => Some(PayloadType::PCMA),
            Codec::Opus => None,
        }
    }

    /// The encoding name of the SDP `a=rtpmap` line.
    pub const fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::Opus => "opus",
        }
    }

    /// The channel count written in `a=rtpmap` (RFC 7587 §7: always `opus/48000/2`).
    pub const fn rtpmap_channels(self) -> Option<u8> {
        match self {
            Codec::Pcmu | Codec::Pcma => None,
            Codec::Opus => Some(2),
        }
    }

    /// The codec for an `a=rtpmap` encoding name and clock rate, case-insensitive.
    pub fn from_rtpmap(name: &str, clock_rate: u32) -> Option<Codec> {
        [Codec::Pcmu, Codec::Pcma, Codec::Opus]
            .into_iter()
            .find(|c| {
                c.encoding_name().eq_ignore_ascii_case(name) && c.clock_rate().0 == clock_rate
            })
    }

    /// RTP timestamp ticks (= samples per channel at the RTP clock) in one frame of `ptime`.
    #[inline]
    pub const fn samples_per_frame(self, ptime: Ptime) -> u32 {
        self.clock_rate().ticks_in_ms(ptime.as_millis())
    }

    /// Whether one RTP packet of this codec can carry `ptime` of audio: any [`Ptime`] for
    /// G.711; for Opus only the frame sizes it encodes in one frame (10, 20, 40, 60 ms).
    pub const fn supports_ptime(self, ptime: Ptime) -> bool {
        match self {
            Codec::Pcmu | Codec::Pcma => true,
            Codec::Opus => matches!(ptime.as_millis(), 10 | 20 | 40 | 60),
        }
    }
}

/// The audio duration carried by one RTP packet (SDP `a=ptime`, RFC 4566 §6), 10–60 ms in
/// steps of 10 ms. 20 ms is the default everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ptime(u8);

impl Ptime {
    /// 20 ms, the default of RFC 3551 §4.5 for G.711 and of RFC 7587 for Opus.
    pub const DEFAULT: Ptime = Ptime(20);
    /// The longest frame we send: 60 ms (also Opus's longest single frame).
    pub const MAX: Ptime = Ptime(60);

    /// A ptime of `ms` milliseconds; `None` unless 10, 20, …, 60.
    pub const fn from_millis(ms: u32) -> Option<Ptime> {
        if ms >= 10 && ms <= 60 && ms.is_multiple_of(10) {
            Some(Ptime(ms as u8))
        } else {
            None
        }
    }

    /// The nearest ptime we support to what an SDP asked for (rounded to 10 ms, clamped to
    /// 10–60 ms), falling back to 20 ms for Opus when it cannot carry that size.
    pub fn negotiate(requested_ms: u32, codec: Codec) -> Ptime {
        let rounded = (requested_ms.saturating_add(5) / 10 * 10).clamp(10, 60);
        let p = Ptime(rounded as u8);
        if codec.supports_ptime(p) {
            p
        } else {
            Ptime::DEFAULT
        }
    }

    /// Milliseconds.
    #[inline]
    pub const fn as_millis(self) -> u32 {
        self.0 as u32
    }

    /// As a `Duration`.
    #[inline]
    pub const fn as_duration(self) -> Duration {
        Duration::from_millis(self.0 as u64)
    }
}

impl Default for Ptime {
    fn default() -> Self {
        Ptime::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_rates_and_payload_types() {
        assert_eq!(Codec::Pcmu.clock_rate(), ClockRate(8000));
        assert_eq!(Codec::Pcma.clock_rate(), ClockRate(8000));
        assert_eq!(Codec::Opus.clock_rate(), ClockRate(48000));
        assert_eq!(Codec::Pcmu.static_payload_type().unwrap().get(), 0);
        assert_eq!(Codec::Pcma.static_payload_type().unwrap().get(), 8);
        assert_eq!(Codec::Opus.static_payload_type(), None);
    }

    #[test]
    fn samples_per_frame() {
        let p20 = Ptime::DEFAULT;
        assert_eq!(Codec::Pcmu.samples_per_frame(p20), 160);
        assert_eq!(Codec::Opus.samples_per_frame(p20), 960);
        assert_eq!(
            Codec::Pcma.samples_per_frame(Ptime::from_millis(30).unwrap()),
            240
        );
        assert_eq!(Codec::Opus.samples_per_frame(Ptime::MAX), 2880);
    }

    #[test]
    fn ptime_bounds_and_negotiation() {
        assert!(Ptime::from_millis(25).is_none());
        assert!(Ptime::from_millis(70).is_none());
        assert_eq!(Ptime::negotiate(30, Codec::Pcmu).as_millis(), 30);
        assert_eq!(Ptime::negotiate(30, Codec::Opus).as_millis(), 20);
        assert_eq!(Ptime::negotiate(5, Codec::Pcma).as_millis(), 10);
        assert_eq!(Ptime::negotiate(200, Codec::Pcma).as_millis(), 60);
    }

    #[test]
    fn rtpmap_names() {
        assert_eq!(Codec::from_rtpmap("pcmu", 8000), Some(Codec::Pcmu));
        assert_eq!(Codec::from_rtpmap("OPUS", 48000), Some(Codec::Opus));
        assert_eq!(Codec::from_rtpmap("opus", 16000), None);
    }
}
