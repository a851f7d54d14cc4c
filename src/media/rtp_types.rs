//! Named types for RTP header fields (RFC 3550 §5.1), so that a sequence number is never
//! mixed up with a timestamp or an SSRC.

/// An RTP payload type, 0–127 (RFC 3550 §5.1: 7 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PayloadType(u8);

impl PayloadType {
    /// PCMU, static payload type 0 (RFC 3551 §6).
    pub const PCMU: PayloadType = PayloadType(0);
    /// PCMA, static payload type 8 (RFC 3551 §6).
    pub const PCMA: PayloadType = PayloadType(8);

    /// A payload type; `None` above 127.
    #[inline]
    pub const fn new(pt: u8) -> Option<PayloadType> {
        if pt <= 127 {
            Some(PayloadType(pt))
        } else {
            None
        }
    }

    /// The 7-bit value.
    #[inline]
    pub const fn get(self) -> u8 {
        self.0
    }

    /// Dynamic payload types are 96–127 (RFC 3551 §6); telephone-event and Opus use one.
    pub const fn is_dynamic(self) -> bool {
        self.0 >= 96
    }
}

/// A synchronisation source identifier (RFC 3550 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ssrc(pub u32);

/// A 16-bit RTP sequence number, compared with wrap-around (RFC 3550 §A.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqNo(pub u16);

impl SeqNo {
    /// The following sequence number (wraps 65535 → 0).
    #[inline]
    pub const fn next(self) -> SeqNo {
        SeqNo(self.0.wrapping_add(1))
    }

    /// `self - earlier` as a signed distance, correct across the wrap for |d| < 32768.
    #[inline]
    pub const fn distance_from(self, earlier: SeqNo) -> i16 {
        self.0.wrapping_sub(earlier.0) as i16
    }
}

/// A 32-bit RTP timestamp in the clock of the payload format (RFC 3550 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RtpTimestamp(pub u32);

impl RtpTimestamp {
    /// This timestamp advanced by `ticks` clock ticks, wrapping.
    #[inline]
    pub const fn add(self, ticks: u32) -> RtpTimestamp {
        RtpTimestamp(self.0.wrapping_add(ticks))
    }

    /// `self - earlier` in ticks as a signed distance, correct across the wrap.
    #[inline]
    pub const fn distance_from(self, earlier: RtpTimestamp) -> i32 {
        self.0.wrapping_sub(earlier.0) as i32
    }
}

/// An RTP clock rate in Hz: 8000 for G.711 and 8 kHz telephone-event, 48000 for Opus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClockRate(pub u32);

impl ClockRate {
    /// Clock ticks in `ms` milliseconds.
    #[inline]
    pub const fn ticks_in_ms(self, ms: u32) -> u32 {
        self.0 / 1000 * ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_type_range() {
        assert_eq!(PayloadType::new(101).map(PayloadType::get), Some(101));
        assert!(PayloadType::new(128).is_none());
        assert!(PayloadType::new(101).unwrap().is_dynamic());
        assert!(!PayloadType::PCMA.is_dynamic());
    }

    #[test]
    fn sequence_numbers_wrap() {
        assert_eq!(SeqNo(65535).next(), SeqNo(0));
        assert_eq!(SeqNo(2).distance_from(SeqNo(65534)), 4);
        assert_eq!(SeqNo(65534).distance_from(SeqNo(2)), -4);
    }

    #[test]
    fn timestamps_wrap() {
        assert_eq!(RtpTimestamp(u32::MAX).add(160), RtpTimestamp(159));
        assert_eq!(RtpTimestamp(159).distance_from(RtpTimestamp(u32::MAX)), 160);
        assert_eq!(ClockRate(48_000).ticks_in_ms(20), 960);
    }
}
