//! [`Digit`]: one key of a telephone keypad (DTMF), the unit every detector produces.

use std::fmt;

/// One DTMF key: `0`–`9`, `*`, `#` and the rarely seen `A`–`D` column.
///
/// Digits typed by callers are codes, and codes are secrets (BRIEF: never log them), so
/// `Debug` is redacted; use [`Digit::to_char`] where the key really must be shown (tests).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digit(u8);

/// The keys in RFC 4733 §3.2 event-code order (0–9, `*` = 10, `#` = 11, A–D = 12–15).
const KEYS: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

impl Digit {
    /// Every digit, in event-code order.
    pub const ALL: [Digit; 16] = {
        let mut all = [Digit(0); 16];
        let mut i = 0;
        while i < 16 {
            all[i] = Digit(i as u8);
            i += 1;
        }
        all
    };

    /// The digit for a keypad character (`a`–`d` accepted in lower case too).
    #[inline]
    pub fn from_char(c: char) -> Option<Digit> {
        let code = match c {
            '0'..='9' => c as u8 - b'0',
            '*' => 10,
            '#' => 11,
            'A'..='D' => c as u8 - b'A' + 12,
            'a'..='d' => c as u8 - b'a' + 12,
            _ => return None,
        };
        Some(Digit(code))
    }

    /// The keypad character (`A`–`D` in upper case).
    #[inline]
    pub fn to_char(self) -> char {
        KEYS[self.0 as usize]
    }

    /// The digit for an RFC 4733 §3.2 event code; codes above 15 (flash, tones) are not digits.
    #[inline]
    pub fn from_event_code(code: u8) -> Option<Digit> {
        (code < 16).then_some(Digit(code))
    }

    /// The RFC 4733 §3.2 event code of this digit.
    #[inline]
    pub fn event_code(self) -> u8 {
        self.0
    }

    /// The (row, column) frequencies in Hz of this key's dual tone (ITU-T Q.23).
    pub fn frequencies(self) -> (f32, f32) {
        let (row, col) = match self.to_char() {
            '1' => (0, 0),
            '2' => (0, 1),
            '3' => (0, 2),
            'A' => (0, 3),
            '4' => (1, 0),
            '5' => (1, 1),
            '6' => (1, 2),
            'B' => (1, 3),
            '7' => (2, 0),
            '8' => (2, 1),
            '9' => (2, 2),
            'C' => (2, 3),
            '*' => (3, 0),
            '0' => (3, 1),
            '#' => (3, 2),
            _ => (3, 3), // 'D'
        };
        (ROW_HZ[row], COL_HZ[col])
    }

    /// The key at a (row, column) position of the keypad (indices into [`ROW_HZ`], [`COL_HZ`]).
    pub fn from_position(row: usize, col: usize) -> Option<Digit> {
        const GRID: [[char; 4]; 4] = [
            ['1', '2', '3', 'A'],
            ['4', '5', '6', 'B'],
            ['7', '8', '9', 'C'],
            ['*', '0', '#', 'D'],
        ];
        GRID.get(row)?.get(col).and_then(|&c| Digit::from_char(c))
    }
}

/// Low-group (row) DTMF frequencies, Hz (ITU-T Q.23).
pub const ROW_HZ: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// High-group (column) DTMF frequencies, Hz (ITU-T Q.23).
pub const COL_HZ: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

impl fmt::Debug for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Redacted: a digit is part of a secret code (BRIEF "Codes are secrets").
        f.write_str("Digit(*)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chars_and_event_codes_round_trip() {
        for (code, c) in KEYS.iter().enumerate() {
            let d = Digit::from_char(*c).unwrap();
            assert_eq!(d.event_code() as usize, code);
            assert_eq!(d.to_char(), *c);
            assert_eq!(Digit::from_event_code(code as u8), Some(d));
        }
        assert_eq!(Digit::from_char('b').unwrap().to_char(), 'B');
        assert_eq!(Digit::from_char('x'), None);
        assert_eq!(Digit::from_event_code(16), None);
        assert_eq!(Digit::from_event_code(255), None);
    }

    #[test]
    fn keypad_positions_match_frequencies() {
        for d in Digit::ALL {
            let (r, c) = d.frequencies();
            let row = ROW_HZ.iter().position(|&f| f == r).unwrap();
            let col = COL_HZ.iter().position(|&f| f == c).unwrap();
            assert_eq!(Digit::from_position(row, col), Some(d));
        }
        assert_eq!(
            Digit::from_char('5').unwrap().frequencies(),
            (770.0, 1336.0)
        );
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", Digit::from_char('7').unwrap()), "Digit(*)");
    }
}
