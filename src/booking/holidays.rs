//! French public holidays (jours fériés) for any year: the fixed ones and the three that
//! follow Easter (Code du travail, art. L3133-1). Computed, never listed, so that no year
//! is ever missing.

use chrono::{Datelike, Days, NaiveDate};

/// The fixed public holidays: (month, day, French name).
const FIXED: [(u32, u32, &str); 8] = [
    (1, 1, "Jour de l'an"),
    (5, 1, "Fête du Travail"),
    (5, 8, "Victoire 1945"),
    (7, 14, "Fête nationale"),
    (8, 15, "Assomption"),
    (11, 1, "Toussaint"),
    (11, 11, "Armistice 1918"),
    (12, 25, "Noël"),
];

/// The public holidays that follow Easter Sunday: (days after Easter, French name).
const AFTER_EASTER: [(u64, &str); 3] = [
    (1, "Lundi de Pâques"),
    (39, "Ascension"),
    (50, "Lundi de Pentecôte"),
];

/// Easter Sunday of `year` in the Gregorian calendar (the "anonymous Gregorian algorithm",
/// Meeus/Jones/Butcher), valid for every year chrono can represent after 1583.
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
        .expect("the computus always yields a day in March or April")
}

/// The French name of the public holiday on `date`, or `None` on an ordinary day.
pub fn public_holiday(date: NaiveDate) -> Option<&'static str> {
    let (month, day) = (date.month(), date.day());
    if let Some((_, _, name)) = FIXED.iter().find(|(m, d, _)| *m == month && *d == day) {
        return Some(name);
    }
    // Easter-based holidays fall between 23 March and 14 June: skip the computus otherwise.
    if !(3..=6).contains(&month) {
        return None;
    }
    let easter = easter_sunday(date.year());
    AFTER_EASTER
        .iter()
        .find(|(offset, _)| easter.checked_add_days(Days::new(*offset)) == Some(date))
        .map(|(_, name)| *name)
}

/// Every public holiday of `year`, in date order, with its French name.
pub fn public_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let easter = easter_sunday(year);
    let mut all: Vec<(NaiveDate, &'static str)> = FIXED
        .iter()
        .filter_map(|(m, d, name)| NaiveDate::from_ymd_opt(year, *m, *d).map(|day| (day, *name)))
        .chain(
            AFTER_EASTER
                .iter()
                .map(|(offset, name)| (easter + Days::new(*offset), *name)),
        )
        .collect();
    all.sort();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_matches_known_years() {
        // Published dates of Easter Sunday.
        for (y, m, day) in [
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2014, 4, 20),
            (2019, 4, 21),
            (2020, 4, 12),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
        ] {
            assert_eq!(easter_sunday(y), d(y, m, day), "Easter {y}");
        }
    }

    #[test]
    fn movable_holidays_follow_easter() {
        assert_eq!(public_holiday(d(2020, 4, 13)), Some("Lundi de Pâques"));
        assert_eq!(public_holiday(d(2020, 5, 21)), Some("Ascension"));
        assert_eq!(public_holiday(d(2020, 6, 1)), Some("Lundi de Pentecôte"));
        assert_eq!(public_holiday(d(2026, 5, 14)), Some("Ascension"));
        assert_eq!(public_holiday(d(2026, 5, 25)), Some("Lundi de Pentecôte"));
        assert_eq!(public_holiday(d(2020, 5, 22)), None);
    }

    #[test]
    fn fixed_holidays_have_their_names() {
        assert_eq!(public_holiday(d(2026, 11, 11)), Some("Armistice 1918"));
        assert_eq!(public_holiday(d(2014, 5, 1)), Some("Fête du Travail"));
        assert_eq!(public_holiday(d(2014, 5, 8)), Some("Victoire 1945"));
        assert_eq!(public_holiday(d(2026, 12, 25)), Some("Noël"));
        assert_eq!(public_holiday(d(2026, 12, 24)), None);
    }

    #[test]
    fn a_year_has_eleven_holidays() {
        let all = public_holidays(2026);
        assert_eq!(all.len(), 11);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(
            all.iter()
                .all(|(day, name)| public_holiday(*day) == Some(*name))
        );
    }
}
