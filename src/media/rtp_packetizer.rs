//! [`RtpPacketizer`]: builds RTP packets (RFC 3550 §5.1) with rtp-rs into one buffer owned by
//! the sender and reused for every packet, so sending allocates nothing.

use rtp_rs::{RtpPacketBuilder, Seq};

use super::error::MediaError;
use crate::media::rtp_types::{PayloadType, RtpTimestamp, SeqNo, Ssrc};

/// The largest payload we build: above an Opus frame's 1275 bytes, within an Ethernet MTU.
pub const MAX_PAYLOAD: usize = 1400;
/// The fixed RTP header (no CSRC, no extension).
pub const HEADER_LEN: usize = 12;

/// Writes RTP packets of one stream (one SSRC, one payload type) into a reused buffer.
#[derive(Debug)]
pub struct RtpPacketizer {
    ssrc: Ssrc,
    payload_type: PayloadType,
    buf: Box<[u8; HEADER_LEN + MAX_PAYLOAD]>,
}

impl RtpPacketizer {
    /// A packetizer for `ssrc` sending `payload_type`.
    pub fn new(ssrc: Ssrc, payload_type: PayloadType) -> RtpPacketizer {
        RtpPacketizer {
            ssrc,
            payload_type,
            buf: Box::new([0; HEADER_LEN + MAX_PAYLOAD]),
        }
    }

    /// The stream's SSRC.
    pub fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// The payload type written in each packet.
    pub fn payload_type(&self) -> PayloadType {
        self.payload_type
    }

    /// Changes the payload type (a re-INVITE may renumber the codec).
    pub fn set_payload_type(&mut self, pt: PayloadType) {
        self.payload_type = pt;
    }

    /// Builds one packet and returns it, borrowed from the internal buffer until the next call.
    #[inline]
    pub fn build(
        &mut self,
        seq: SeqNo,
        timestamp: RtpTimestamp,
        marker: bool,
        payload: &[u8],
    ) -> Result<&[u8], MediaError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(MediaError::PayloadTooLarge(payload.len()));
        }
        let n = RtpPacketBuilder::new()
            .payload_type(self.payload_type.get())
            .ssrc(self.ssrc.0)
            .sequence(Seq::from(seq.0))
            .timestamp(timestamp.0)
            .marked(marker)
            .payload(payload)
            .build_into(&mut self.buf[..])
            .map_err(|_| MediaError::PayloadTooLarge(payload.len()))?;
        Ok(&self.buf[..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtp_rs::RtpReader;

    #[test]
    fn builds_a_packet_rtp_rs_reads_back() {
        let mut p = RtpPacketizer::new(Ssrc(0xdead_beef), PayloadType::new(111).unwrap());
        let pkt = p
            .build(SeqNo(65535), RtpTimestamp(u32::MAX), true, &[1, 2, 3])
            .unwrap()
            .to_vec();
        let r = RtpReader::new(&pkt).unwrap();
        assert_eq!(r.version(), 2);
        assert_eq!(r.payload_type(), 111);
        assert!(r.mark());
        assert_eq!(u16::from(r.sequence_number()), 65535);
        assert_eq!(r.timestamp(), u32::MAX);
        assert_eq!(r.ssrc(), 0xdead_beef);
        assert_eq!(r.payload(), &[1, 2, 3]);
        let again = p
            .build(SeqNo(0), RtpTimestamp(160), false, &[9; 160])
            .unwrap();
        assert_eq!(again.len(), 172);
        assert_eq!(again[1], 111);
    }

    #[test]
    fn oversized_payload_is_an_error() {
        let mut p = RtpPacketizer::new(Ssrc(1), PayloadType::PCMU);
        assert!(
            p.build(SeqNo(0), RtpTimestamp(0), false, &[0; MAX_PAYLOAD + 1])
                .is_err()
        );
    }
}
