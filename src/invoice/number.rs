//! Invoice numbers: `YEAR-RÉGIE-SEQUENCE`, e.g. `2014-003-000162` (4-digit year, 3-digit
//! régie, 6-digit sequence), as printed in the seed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::InvoiceError;
use crate::payment::payfip::RefDet;

/// The number of a régie (the town's collection office for a group of services), 1 to 999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RegieCode(u16);

impl RegieCode {
    /// A code from 1 to 999.
    pub fn new(code: u16) -> Result<Self, InvoiceError> {
        if (1..=999).contains(&code) {
            Ok(Self(code))
        } else {
            Err(InvoiceError::NumberOutOfRange("régie (1 à 999)"))
        }
    }

    /// The code.
    pub fn value(self) -> u16 {
        self.0
    }
}

/// An invoice number. Ordered by year, régie, then sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InvoiceNumber {
    year: u16,
    regie: RegieCode,
    sequence: u32,
}

/// The largest sequence number of a (year, régie).
pub const MAX_SEQUENCE: u32 = 999_999;

impl InvoiceNumber {
    /// Builds a number; the sequence comes from the store's atomic per-(year, régie) counter.
    pub fn new(year: i32, regie: RegieCode, sequence: u32) -> Result<Self, InvoiceError> {
        let year = u16::try_from(year)
            .ok()
            .filter(|y| (1000..=9999).contains(y))
            .ok_or(InvoiceError::NumberOutOfRange("année (4 chiffres)"))?;
        if !(1..=MAX_SEQUENCE).contains(&sequence) {
            return Err(InvoiceError::NumberOutOfRange("séquence (1 à 999999)"));
        }
        Ok(Self {
            year,
            regie,
            sequence,
        })
    }

    /// Reads `AAAA-RRR-SSSSSS`, exactly (no spaces, all digits, fixed widths).
    pub fn parse(s: &str) -> Result<Self, InvoiceError> {
        let bad = || InvoiceError::BadNumber(s.chars().take(40).collect());
        let mut parts = s.split('-');
        let (Some(y), Some(r), Some(q), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        if !(digits(y, 4) && digits(r, 3) && digits(q, 6)) {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let regie = RegieCode::new(r.parse().map_err(|_| bad())?)?;
        Self::new(year, regie, q.parse().map_err(|_| bad())?)
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The régie.
    pub fn regie(&self) -> RegieCode {
        self.regie
    }

    /// The sequence within (year, régie).
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The PayFiP debt reference: the number without its dashes (`2014003000162`).
    pub fn refdet(&self) -> RefDet {
        RefDet::parse(&format!(
            "{:04}{:03}{:06}",
            self.year, self.regie.0, self.sequence
        ))
        .expect("13 digits are a valid refdet")
    }
}

impl fmt::Display for InvoiceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:03}-{:06}",
            self.year, self.regie.0, self.sequence
        )
    }
}

impl FromStr for InvoiceNumber {
    type Err = InvoiceError;
    fn from_str(s: &str) -> Result<Self, InvoiceError> {
        Self::parse(s)
    }
}

impl Serialize for InvoiceNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for InvoiceNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seed_numbers_round_trip() {
        for s in [
            "2014-003-000162",
            "2014-003-000219",
            "2014-002-000002",
            "2012-002-000116",
        ] {
            let n = InvoiceNumber::parse(s).unwrap();
            assert_eq!(n.to_string(), s);
        }
        let n: InvoiceNumber = "2014-003-000162".parse().unwrap();
        assert_eq!((n.year(), n.regie().value(), n.sequence()), (2014, 3, 162));
        assert_eq!(n.refdet().as_str(), "2014003000162");
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for s in [
            "",
            "2014-003-162",
            "2014-3-000162",
            "14-003-000162",
            "2014-003-000162-1",
            "2014 003 000162",
            "2014-003-00016a",
            "2014-000-000162",
            "2014-003-000000",
            "+014-003-000162",
            "２０１４-003-000162",
        ] {
            assert!(InvoiceNumber::parse(s).is_err(), "{s:?} accepted");
        }
    }

    #[test]
    fn numbers_sort_by_year_regie_sequence() {
        let a = InvoiceNumber::parse("2014-002-000900").unwrap();
        let b = InvoiceNumber::parse("2014-003-000001").unwrap();
        let c = InvoiceNumber::parse("2015-001-000001").unwrap();
        assert!(a < b && b < c);
    }

    proptest! {
        #[test]
        fn any_valid_number_round_trips(y in 1000i32..=9999, r in 1u16..=999, q in 1u32..=MAX_SEQUENCE) {
            let n = InvoiceNumber::new(y, RegieCode::new(r).unwrap(), q).unwrap();
            prop_assert_eq!(InvoiceNumber::parse(&n.to_string()).unwrap(), n);
            prop_assert_eq!(n.refdet().as_str().len(), 13);
        }
    }
}
