//! The usual week (semaine type): the services and weekdays a parent wants for a child,
//! from a day to a day (or to the end of the school year), every week or every other week.
//!
//! Pure: which (date, service) cells a pattern asks for, and where the school year ends.
//! Whether a cell can be booked is the deadline engine's answer, asked by the booking
//! service when it applies the pattern; nothing here decides it.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::booking::calendar::Calendar;
use crate::booking::model::ServiceCode;

/// A weekday that sorts Monday first, so that a pattern's cells can be a set (chrono's
/// `Weekday` has no order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Day(pub Weekday);

impl Ord for Day {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .num_days_from_monday()
            .cmp(&other.0.num_days_from_monday())
    }
}

impl PartialOrd for Day {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// How often the pattern repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rhythm {
    /// Every week.
    EveryWeek,
    /// One week in two, counted from the week of the first day (that week is on).
    EveryOtherWeek,
}

/// A child's usual week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsualWeek {
    /// The wanted (service, weekday) pairs.
    pub cells: BTreeSet<(ServiceCode, Day)>,
    /// The first day it applies to.
    pub first_day: NaiveDate,
    /// The last day it applies to; `None`: the end of the school year.
    pub last_day: Option<NaiveDate>,
    /// Every week or every other week.
    pub rhythm: Rhythm,
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_monday()))
}

impl UsualWeek {
    /// Whether the week of `date` is one the pattern runs in (always for every week; for
    /// every other week, the weeks an even number of weeks after the first day's).
    pub fn week_is_on(&self, date: NaiveDate) -> bool {
        match self.rhythm {
            Rhythm::EveryWeek => true,
            Rhythm::EveryOtherWeek => {
                let weeks = (monday_of(date) - monday_of(self.first_day)).num_days() / 7;
                weeks.rem_euclid(2) == 0
            }
        }
    }

    /// The cells the pattern asks for between `from` and `to` (both included), clipped to
    /// its own first and `last` day (the pattern's last day, resolved: see
    /// [`school_year_end`] when it has none), by date then in the order of `services`
    /// (the town's order, so that a recap reads as the planning does).
    pub fn cells_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        last: NaiveDate,
        services: &[ServiceCode],
    ) -> Vec<(NaiveDate, ServiceCode)> {
        let from = from.max(self.first_day);
        let to = to.min(last);
        let mut out = Vec::new();
        if from > to {
            return out;
        }
        for date in from.iter_days().take_while(|d| *d <= to) {
            if !self.week_is_on(date) {
                continue;
            }
            for s in services {
                if self.cells.contains(&(s.clone(), Day(date.weekday()))) {
                    out.push((date, s.clone()));
                }
            }
        }
        out
    }
}

/// The year of the rentrée of the school year a pattern starting on `day` is for: a
/// school year runs from September; a pattern set from July or August is for the coming
/// one (those months are the summer holidays).
pub fn rentree_year(day: NaiveDate) -> i32 {
    if day.month() >= 7 {
        day.year()
    } else {
        day.year() - 1
    }
}

/// The last day of the school year whose rentrée is in `rentree`: the eve of the summer
/// holidays when `calendar` knows them (a school holiday period that starts between
/// 1 June and 31 August of the next year), else 30 June. The fallback is early on purpose:
/// without the summer holidays in the calendar, booking on into July would book days
/// without school.
pub fn school_year_end(calendar: &Calendar, rentree: i32) -> NaiveDate {
    let june = NaiveDate::from_ymd_opt(rentree + 1, 6, 1).expect("1 June exists");
    let august = NaiveDate::from_ymd_opt(rentree + 1, 8, 31).expect("31 August exists");
    june.iter_days()
        .take_while(|d| *d <= august)
        .find_map(|d| {
            calendar
                .school_holiday(d)
                .filter(|h| h.first >= june)
                .map(|h| h.first)
        })
        .and_then(|first| first.pred_opt())
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(rentree + 1, 6, 30).expect("30 June exists"))
}

/// The last day of the month after the month of `today`: how far ahead the usual weeks
/// are booked ("next month filled"). Later weeks are booked as they come, by the nightly
/// job, so that closures and holidays staff add in the meantime are respected and no
/// booking is made months before anyone can know the calendar.
pub fn horizon_end(today: NaiveDate) -> NaiveDate {
    let (y, m) = if today.month() == 12 {
        (today.year() + 1, 1)
    } else {
        (today.year(), today.month() + 1)
    };
    let first_after = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    }
    .expect("a month's first day exists");
    first_after.pred_opt().expect("a day before")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::calendar::SchoolHoliday;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn svc(s: &str) -> ServiceCode {
        ServiceCode::parse(s).unwrap()
    }

    fn services() -> Vec<ServiceCode> {
        ["REPAS", "MATIN", "MIDI", "SOIR"].map(svc).to_vec()
    }

    fn pattern(rhythm: Rhythm) -> UsualWeek {
        UsualWeek {
            cells: [
                (svc("REPAS"), Day(Weekday::Mon)),
                (svc("REPAS"), Day(Weekday::Tue)),
                (svc("REPAS"), Day(Weekday::Thu)),
                (svc("SOIR"), Day(Weekday::Tue)),
            ]
            .into_iter()
            .collect(),
            // A Wednesday: the anchor week is the week of 2 December 2026.
            first_day: d(2026, 12, 2),
            last_day: None,
            rhythm,
        }
    }

    #[test]
    fn every_week_asks_for_the_ticked_days_from_the_first_day() {
        let p = pattern(Rhythm::EveryWeek);
        let cells = p.cells_between(d(2026, 11, 30), d(2026, 12, 8), d(2027, 6, 30), &services());
        assert_eq!(
            cells,
            vec![
                // Monday 30 November and Tuesday 1 December are before the first day.
                (d(2026, 12, 3), svc("REPAS")),
                (d(2026, 12, 7), svc("REPAS")),
                (d(2026, 12, 8), svc("REPAS")),
                (d(2026, 12, 8), svc("SOIR")),
            ]
        );
    }

    #[test]
    fn every_other_week_skips_the_odd_weeks_after_the_first_days_week() {
        let p = pattern(Rhythm::EveryOtherWeek);
        let cells = p.cells_between(d(2026, 12, 1), d(2026, 12, 31), d(2027, 6, 30), &services());
        let days: BTreeSet<NaiveDate> = cells.iter().map(|(d, _)| *d).collect();
        assert_eq!(
            days.into_iter().collect::<Vec<_>>(),
            vec![
                d(2026, 12, 3),
                d(2026, 12, 14),
                d(2026, 12, 15),
                d(2026, 12, 17),
                d(2026, 12, 28),
                d(2026, 12, 29),
                d(2026, 12, 31),
            ]
        );
        // The weeks of 7 and 21 December are off.
        assert!(!p.week_is_on(d(2026, 12, 7)) && !p.week_is_on(d(2026, 12, 25)));
    }

    #[test]
    fn the_last_day_clips() {
        let mut p = pattern(Rhythm::EveryWeek);
        p.last_day = Some(d(2026, 12, 7));
        let cells = p.cells_between(d(2026, 12, 1), d(2026, 12, 31), d(2026, 12, 7), &services());
        assert_eq!(cells.last(), Some(&(d(2026, 12, 7), svc("REPAS"))));
        assert!(
            p.cells_between(d(2027, 1, 1), d(2027, 1, 31), d(2026, 12, 7), &services())
                .is_empty()
        );
    }

    #[test]
    fn the_school_year_ends_on_the_eve_of_the_summer_holidays_or_on_30_june() {
        assert_eq!(school_year_end(&Calendar::default(), 2026), d(2027, 6, 30));
        let summer = Calendar::default().with_school_holidays([
            SchoolHoliday {
                name: "Vacances de printemps".into(),
                first: d(2027, 4, 17),
                last: d(2027, 5, 2),
            },
            SchoolHoliday {
                name: "Vacances d'été".into(),
                first: d(2027, 7, 3),
                last: d(2027, 8, 31),
            },
        ]);
        assert_eq!(school_year_end(&summer, 2026), d(2027, 7, 2));
        assert_eq!(rentree_year(d(2026, 12, 2)), 2026);
        assert_eq!(rentree_year(d(2027, 3, 1)), 2026);
        assert_eq!(rentree_year(d(2027, 8, 20)), 2027);
    }

    #[test]
    fn the_horizon_is_the_end_of_next_month() {
        assert_eq!(horizon_end(d(2026, 12, 4)), d(2027, 1, 31));
        assert_eq!(horizon_end(d(2026, 11, 30)), d(2026, 12, 31));
        assert_eq!(horizon_end(d(2027, 1, 31)), d(2027, 2, 28));
    }
}
