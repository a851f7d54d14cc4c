//! G.711 µ-law and A-law (ITU-T G.711), by lookup tables computed at compile time.
//!
//! Encoding reads a 16 KiB (µ-law, 14-bit input) or 8 KiB (A-law, 13-bit input) table;
//! decoding a 256-entry table. The segment arithmetic is the classic one of ITU-T G.711
//! §2–3 (as in the reference `g711.c` of the ITU-T G.191 software tools).

/// The µ-law byte of digital silence (linear 0).
pub const ULAW_SILENCE: u8 = 0xFF;
/// The A-law byte of digital silence (linear +8, the smallest positive step).
pub const ALAW_SILENCE: u8 = 0xD5;

const ULAW_BIAS: i32 = 0x84;
/// Largest 14-bit magnitude before the bias is added (G.711 µ-law clips at 8159).
const ULAW_CLIP_14: i32 = 8159;

/// µ-law works on 14-bit samples: the low 2 bits of a 16-bit sample are dropped first, so
/// the encoding depends only on `pcm >> 2` (which is what makes a 16 Ki-entry table exact).
const fn ulaw_encode_slow(pcm: i16) -> u8 {
    let mut v = (pcm as i32) >> 2;
    let mask = if v < 0 {
        v = -v;
        0x7F
    } else {
        0xFF
    };
    if v > ULAW_CLIP_14 {
        v = ULAW_CLIP_14;
    }
    v += ULAW_BIAS >> 2;
    const SEG_END: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
    let mut seg = 0;
    while seg < 8 && v > SEG_END[seg] {
        seg += 1;
    }
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let u = ((seg as i32) << 4) | ((v >> (seg + 1)) & 0x0F);
    (u ^ mask) as u8
}

const fn ulaw_decode_slow(u: u8) -> i16 {
    let u = !u;
    let exponent = ((u >> 4) & 0x07) as i32;
    let mantissa = (u & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

const fn alaw_encode_slow(pcm: i16) -> u8 {
    let mut v = (pcm as i32) >> 3; // A-law works on 13-bit samples.
    let mask = if v >= 0 {
        0xD5
    } else {
        v = -v - 1;
        0x55
    };
    const SEG_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
    let mut seg = 0;
    while seg < 8 && v > SEG_END[seg] {
        seg += 1;
    }
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let mut a = (seg as i32) << 4;
    a |= if seg < 2 {
        (v >> 1) & 0x0F
    } else {
        (v >> seg) & 0x0F
    };
    (a ^ mask) as u8
}

const fn alaw_decode_slow(a: u8) -> i16 {
    let a = a ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let seg = ((a & 0x70) >> 4) as i32;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    if a & 0x80 != 0 { t as i16 } else { -t as i16 }
}

/// µ-law encode table indexed by the top 14 bits of the sample (µ-law ignores the low 2).
static ULAW_ENCODE: [u8; 1 << 14] = {
    let mut t = [0u8; 1 << 14];
    let mut i = 0;
    while i < (1 << 14) {
        // Index i is the 14-bit two's complement value; rebuild a representative sample.
        let s = ((i as i32) << 18 >> 16) as i16;
        t[i] = ulaw_encode_slow(s);
        i += 1;
    }
    t
};

/// A-law encode table indexed by the top 13 bits of the sample (A-law ignores the low 3).
static ALAW_ENCODE: [u8; 1 << 13] = {
    let mut t = [0u8; 1 << 13];
    let mut i = 0;
    while i < (1 << 13) {
        let s = ((i as i32) << 19 >> 16) as i16;
        t[i] = alaw_encode_slow(s);
        i += 1;
    }
    t
};

static ULAW_DECODE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_decode_slow(i as u8);
        i += 1;
    }
    t
};

static ALAW_DECODE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_decode_slow(i as u8);
        i += 1;
    }
    t
};

/// Encodes one 16-bit linear sample to µ-law.
#[inline]
pub fn ulaw_encode(pcm: i16) -> u8 {
    ULAW_ENCODE[((pcm as u16) >> 2) as usize]
}

/// Decodes one µ-law byte to a 16-bit linear sample.
#[inline]
pub fn ulaw_decode(u: u8) -> i16 {
    ULAW_DECODE[u as usize]
}

/// Encodes one 16-bit linear sample to A-law.
#[inline]
pub fn alaw_encode(pcm: i16) -> u8 {
    ALAW_ENCODE[((pcm as u16) >> 3) as usize]
}

/// Decodes one A-law byte to a 16-bit linear sample.
#[inline]
pub fn alaw_decode(a: u8) -> i16 {
    ALAW_DECODE[a as usize]
}

/// Which G.711 law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Law {
    /// µ-law (North America, Japan; RTP payload type 0).
    Ulaw,
    /// A-law (Europe, France included; RTP payload type 8).
    Alaw,
}

impl Law {
    /// The byte that decodes to silence.
    pub const fn silence(self) -> u8 {
        match self {
            Law::Ulaw => ULAW_SILENCE,
            Law::Alaw => ALAW_SILENCE,
        }
    }

    /// Encodes `pcm` into `out` (same length; extra output bytes are left untouched).
    pub fn encode_into(self, pcm: &[i16], out: &mut [u8]) {
        let f = match self {
            Law::Ulaw => ulaw_encode,
            Law::Alaw => alaw_encode,
        };
        for (o, &s) in out.iter_mut().zip(pcm) {
            *o = f(s);
        }
    }

    /// Decodes `payload` into `out` (same length; extra output samples are left untouched).
    #[inline]
    pub fn decode_into(self, payload: &[u8], out: &mut [i16]) {
        let table = match self {
            Law::Ulaw => &ULAW_DECODE,
            Law::Alaw => &ALAW_DECODE,
        };
        for (o, &b) in out.iter_mut().zip(payload) {
            *o = table[b as usize];
        }
    }

    /// Encodes a whole buffer (used once per prompt at load).
    pub fn encode(self, pcm: &[i16]) -> Vec<u8> {
        let mut out = vec![0; pcm.len()];
        self.encode_into(pcm, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_the_reference_arithmetic() {
        for s in i16::MIN..=i16::MAX {
            assert_eq!(ulaw_encode(s), ulaw_encode_slow(s), "µ-law {s}");
            assert_eq!(alaw_encode(s), alaw_encode_slow(s), "A-law {s}");
        }
    }

    #[test]
    fn known_ulaw_values() {
        // G.711 Table 2a: 0xFF and 0x7F are the two zeros; 0x80/0x00 the extremes ±8031×4.
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(ulaw_decode(0xF0), 120); // segment 0, top mantissa: (15·8 + 132) − 132
        // The smallest negative step: -4 (one 14-bit unit) encodes to 0x7E, which is -8.
        assert_eq!(ulaw_encode(-4), 0x7E);
        assert_eq!(ulaw_decode(0x7E), -8);
    }

    #[test]
    fn known_alaw_values() {
        // G.711 Table 1a: 0xD5/0x55 are ±8 (the smallest steps), 0xAA/0x2A the extremes.
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    #[test]
    fn every_code_word_round_trips() {
        for b in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(b)), b, "A-law {b:#x}");
            let back = ulaw_encode(ulaw_decode(b));
            // 0x7F (negative zero) decodes to 0, which encodes as 0xFF (positive zero).
            if b == 0x7F {
                assert_eq!(back, 0xFF);
            } else {
                assert_eq!(back, b, "µ-law {b:#x}");
            }
        }
    }

    #[test]
    fn quantisation_error_is_bounded_by_the_segment_step() {
        // The error of a round trip is at most half a quantisation step; steps double per
        // segment (about 1/16 of the magnitude) and the largest is 1024 in 16-bit units.
        for s in (i16::MIN as i32..=i16::MAX as i32).step_by(7) {
            let s = s as i16;
            let eu = (ulaw_decode(ulaw_encode(s)) as i32 - s as i32).abs();
            let ea = (alaw_decode(alaw_encode(s)) as i32 - s as i32).abs();
            let bound = ((s as i32).abs() / 16 + 24).min(700);
            assert!(eu <= bound, "µ-law {s}: {eu}");
            assert!(ea <= bound, "A-law {s}: {ea}");
        }
    }

    #[test]
    fn buffer_helpers() {
        let pcm = [0i16, 1000, -1000, 30000];
        for law in [Law::Ulaw, Law::Alaw] {
            let enc = law.encode(&pcm);
            let mut dec = [0i16; 4];
            law.decode_into(&enc, &mut dec);
            for (a, b) in pcm.iter().zip(dec) {
                assert!((*a as i32 - b as i32).abs() < 1100);
            }
        }
    }
}
