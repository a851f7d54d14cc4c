//! A set of weekdays (the days a service runs, the days the town hall's office works).

use std::fmt;

use chrono::Weekday;

/// A set of weekdays, stored as seven bits (Monday = bit 0).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Weekdays(u8);

impl Weekdays {
    /// No day at all.
    pub const NONE: Weekdays = Weekdays(0);
    /// Monday to Friday: the office's week and the usual default.
    pub const MON_TO_FRI: Weekdays = Weekdays(0b001_1111);
    /// Monday, Tuesday, Thursday and Friday: the French four-day school week.
    pub const SCHOOL_WEEK: Weekdays = Weekdays(0b001_1011);

    /// The set holding exactly `days`.
    pub fn from_days(days: impl IntoIterator<Item = Weekday>) -> Self {
        days.into_iter().fold(Self::NONE, |set, d| set.with(d))
    }

    /// This set plus `day`.
    pub fn with(self, day: Weekday) -> Self {
        Weekdays(self.0 | 1 << day.num_days_from_monday())
    }

    /// Whether `day` is in the set.
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    /// Whether the set holds no day.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The days of the set, Monday first.
    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        ALL.into_iter().filter(move |d| self.contains(*d))
    }

    /// Reads a day name: French ("lundi", "lun") or English ("monday", "mon"), any case.
    pub fn parse_day(name: &str) -> Option<Weekday> {
        let name = name.trim().to_lowercase();
        ALL.into_iter()
            .zip(NAMES)
            .find_map(|(day, names)| names.contains(&name.as_str()).then_some(day))
    }

    /// The French short names of the days ("lundi, mardi, jeudi, vendredi").
    pub fn names_fr(self) -> Vec<&'static str> {
        self.iter()
            .map(crate::booking::french::weekday_fr)
            .collect()
    }
}

/// Monday to Sunday, in the order the planning and the forms show them.
pub const ALL: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

const NAMES: [&[&str]; 7] = [
    &["lundi", "lun", "monday", "mon"],
    &["mardi", "mar", "tuesday", "tue"],
    &["mercredi", "mer", "wednesday", "wed"],
    &["jeudi", "jeu", "thursday", "thu"],
    &["vendredi", "ven", "friday", "fri"],
    &["samedi", "sam", "saturday", "sat"],
    &["dimanche", "dim", "sunday", "sun"],
];

impl fmt::Debug for Weekdays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_week_skips_wednesday() {
        let w = Weekdays::SCHOOL_WEEK;
        assert_eq!(
            w.iter().collect::<Vec<_>>(),
            [Weekday::Mon, Weekday::Tue, Weekday::Thu, Weekday::Fri]
        );
        assert_eq!(
            Weekdays::from_days(w.iter()),
            w,
            "from_days(iter) round-trips"
        );
        assert_eq!(Weekdays::MON_TO_FRI.names_fr().len(), 5);
    }

    #[test]
    fn day_names_in_french_and_english() {
        assert_eq!(Weekdays::parse_day("Lundi"), Some(Weekday::Mon));
        assert_eq!(Weekdays::parse_day("wed"), Some(Weekday::Wed));
        assert_eq!(Weekdays::parse_day("dim"), Some(Weekday::Sun));
        assert_eq!(Weekdays::parse_day("lundy"), None);
    }
}
