//! The variables of one call, and reading typed values (DDMM dates, child numbers).

use chrono::{Datelike, NaiveDate};

use crate::booking::model::{ChildCode, ChildId, PayerCode, ServiceCode};
use crate::dialplan::event::{OtherOutcome, SpokenRefusal, WeekBooking};
use crate::dialplan::format::Intent;

/// What the call has learnt so far. `Debug` is safe to log: the codes redact themselves.
#[derive(Debug, Default, Clone)]
pub(crate) struct Vars {
    /// Typed, kept until sent to login.
    pub child_code: Option<ChildCode>,
    /// Typed, kept until sent to login.
    pub payer_code: Option<PayerCode>,
    pub date: Option<NaiveDate>,
    pub service: Option<ServiceCode>,
    pub intent: Option<Intent>,
    pub child_number: Option<u32>,
    /// The child logged in or switched to.
    pub child: Option<ChildId>,
    /// The payer's children (empty before login).
    pub children: Vec<ChildId>,
    pub refusal: Option<SpokenRefusal>,
    pub week: Option<Vec<WeekBooking>>,
    /// The last "same for the others": each other child's number (1 is the first of
    /// `children`) and outcome.
    pub others: Option<Vec<(u32, OtherOutcome)>>,
}

impl Vars {
    /// How many children the payer has, once logged in.
    pub(crate) fn children_count(&self) -> Option<u32> {
        if self.children.is_empty() {
            None
        } else {
            u32::try_from(self.children.len()).ok()
        }
    }

    /// Forgets the codes (after login, or when the call ends).
    pub(crate) fn forget_codes(&mut self) {
        self.child_code = None;
        self.payer_code = None;
    }
}

/// A date typed as DDMM: its next occurrence from `today` (today included), this year or
/// the next. `None` when it is no date (`3102`, `0013`) or not 4 digits.
pub fn date_from_ddmm(digits: &str, today: NaiveDate) -> Option<NaiveDate> {
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day: u32 = digits[..2].parse().ok()?;
    let month: u32 = digits[2..].parse().ok()?;
    [today.year(), today.year() + 1]
        .into_iter()
        .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
        .find(|d| *d >= today)
}

/// The Monday of the week the caller means by "this week": the current one, or the coming
/// one on a Saturday or Sunday (nothing is left to hear of a school week by then).
pub fn week_monday(today: NaiveDate) -> NaiveDate {
    let from_monday = i64::from(today.weekday().num_days_from_monday());
    if from_monday >= 5 {
        today + chrono::Days::new((7 - from_monday) as u64)
    } else {
        today - chrono::Days::new(from_monday as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn ddmm_picks_the_next_occurrence() {
        let today = d(2025, 5, 2);
        assert_eq!(date_from_ddmm("0505", today), Some(d(2025, 5, 5)));
        assert_eq!(
            date_from_ddmm("0205", today),
            Some(d(2025, 5, 2)),
            "today counts"
        );
        assert_eq!(
            date_from_ddmm("0105", today),
            Some(d(2026, 5, 1)),
            "past → next year"
        );
        assert_eq!(date_from_ddmm("0601", d(2025, 12, 20)), Some(d(2026, 1, 6)));
    }

    #[test]
    fn ddmm_refuses_what_is_no_date() {
        let today = d(2025, 5, 2);
        for bad in ["3102", "0013", "0000", "3204", "123", "12345", "12a4"] {
            assert_eq!(date_from_ddmm(bad, today), None, "{bad}");
        }
        // 29 February: the next one that exists within a year, or none.
        assert_eq!(date_from_ddmm("2902", d(2027, 3, 1)), Some(d(2028, 2, 29)));
        assert_eq!(date_from_ddmm("2902", d(2025, 3, 1)), None);
    }

    #[test]
    fn this_week_is_the_coming_one_at_the_weekend() {
        assert_eq!(week_monday(d(2025, 5, 5)), d(2025, 5, 5));
        assert_eq!(week_monday(d(2025, 5, 9)), d(2025, 5, 5));
        assert_eq!(week_monday(d(2025, 5, 10)), d(2025, 5, 12));
        assert_eq!(week_monday(d(2025, 5, 11)), d(2025, 5, 12));
    }
}
