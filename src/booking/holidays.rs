//! French public holidays (jours fériés) for any year: the fixed ones and the three that
//! follow Easter (Code du travail, art. L3133-1), plus those of the town's [`Region`].
//! Computed, never listed, so that no year is ever missing.

use chrono::{Datelike, NaiveDate, TimeDelta};

use crate::booking::region::Region;

/// How a public holiday's date is found in a given year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayRule {
    /// The same day every year: (month, day, French name).
    Fixed(u32, u32, &'static str),
    /// So many days after Easter Sunday, negative before it: (days, French name).
    FromEaster(i64, &'static str),
}

/// The national public holidays, kept in every region.
const NATIONAL: [HolidayRule; 11] = {
    use HolidayRule::{Fixed, FromEaster};
    [
        Fixed(1, 1, "Jour de l'an"),
        Fixed(5, 1, "Fête du Travail"),
        Fixed(5, 8, "Victoire 1945"),
        Fixed(7, 14, "Fête nationale"),
        Fixed(8, 15, "Assomption"),
        Fixed(11, 1, "Toussaint"),
        Fixed(11, 11, "Armistice 1918"),
        Fixed(12, 25, "Noël"),
        FromEaster(1, "Lundi de Pâques"),
        FromEaster(39, "Ascension"),
        FromEaster(50, "Lundi de Pentecôte"),
    ]
};

/// The name given to each overseas department's day of the abolition of slavery.
pub const ABOLITION: &str = "Abolition de l'esclavage";

/// The holidays `region` keeps beyond the national ones (see [`Region`] for the texts).
pub fn local_holidays(region: Region) -> &'static [HolidayRule] {
    use HolidayRule::{Fixed, FromEaster};
    match region {
        Region::Metropole => &[],
        Region::AlsaceMoselle => &[
            FromEaster(-2, "Vendredi saint"),
            Fixed(12, 26, "Saint-Étienne"),
        ],
        Region::Guadeloupe => &[Fixed(5, 27, ABOLITION)],
        Region::Martinique => &[Fixed(5, 22, ABOLITION)],
        Region::Guyane => &[Fixed(6, 10, ABOLITION)],
        Region::LaReunion => &[Fixed(12, 20, ABOLITION)],
        Region::Mayotte => &[Fixed(4, 27, ABOLITION)],
    }
}

/// The rules `region` keeps: the national ones first, so that a national name wins should
/// a local holiday ever fall on the same day.
fn rules(region: Region) -> impl Iterator<Item = HolidayRule> {
    NATIONAL.iter().chain(local_holidays(region)).copied()
}

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

/// The French name of the public holiday on `date` in `region`, or `None` on an ordinary
/// day.
pub fn public_holiday(date: NaiveDate, region: Region) -> Option<&'static str> {
    let (month, day) = (date.month(), date.day());
    // Easter-based holidays fall between 20 March (Good Friday) and 14 June (Whit Monday):
    // the computus, asked for every day a deadline search walks back over, is skipped
    // outside those months and done at most once otherwise.
    let near_easter = (3..=6).contains(&month);
    let mut easter = None;
    rules(region).find_map(|rule| match rule {
        HolidayRule::Fixed(m, d, name) => (m == month && d == day).then_some(name),
        HolidayRule::FromEaster(offset, name) if near_easter => {
            let easter = *easter.get_or_insert_with(|| easter_sunday(date.year()));
            (easter.checked_add_signed(TimeDelta::days(offset)) == Some(date)).then_some(name)
        }
        HolidayRule::FromEaster(..) => None,
    })
}

/// Every public holiday of `year` in `region`, in date order, with its French name.
pub fn public_holidays(year: i32, region: Region) -> Vec<(NaiveDate, &'static str)> {
    let easter = easter_sunday(year);
    let mut all: Vec<(NaiveDate, &'static str)> = rules(region)
        .filter_map(|rule| match rule {
            HolidayRule::Fixed(m, d, name) => {
                NaiveDate::from_ymd_opt(year, m, d).map(|day| (day, name))
            }
            HolidayRule::FromEaster(offset, name) => easter
                .checked_add_signed(TimeDelta::days(offset))
                .map(|day| (day, name)),
        })
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
        assert_eq!(
            public_holiday(d(2020, 4, 13), Region::Metropole),
            Some("Lundi de Pâques")
        );
        assert_eq!(
            public_holiday(d(2020, 5, 21), Region::Metropole),
            Some("Ascension")
        );
        assert_eq!(
            public_holiday(d(2020, 6, 1), Region::Metropole),
            Some("Lundi de Pentecôte")
        );
        assert_eq!(
            public_holiday(d(2026, 5, 14), Region::Metropole),
            Some("Ascension")
        );
        assert_eq!(
            public_holiday(d(2026, 5, 25), Region::Metropole),
            Some("Lundi de Pentecôte")
        );
        assert_eq!(public_holiday(d(2020, 5, 22), Region::Metropole), None);
    }

    #[test]
    fn fixed_holidays_have_their_names() {
        assert_eq!(
            public_holiday(d(2026, 11, 11), Region::Metropole),
            Some("Armistice 1918")
        );
        assert_eq!(
            public_holiday(d(2014, 5, 1), Region::Metropole),
            Some("Fête du Travail")
        );
        assert_eq!(
            public_holiday(d(2014, 5, 8), Region::Metropole),
            Some("Victoire 1945")
        );
        assert_eq!(
            public_holiday(d(2026, 12, 25), Region::Metropole),
            Some("Noël")
        );
        assert_eq!(public_holiday(d(2026, 12, 24), Region::Metropole), None);
    }

    #[test]
    fn a_year_has_eleven_holidays() {
        let all = public_holidays(2026, Region::Metropole);
        assert_eq!(all.len(), 11);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(
            all.iter()
                .all(|(day, name)| public_holiday(*day, Region::Metropole) == Some(*name))
        );
    }

    #[test]
    fn metropole_keeps_no_local_holiday() {
        let m = Region::Metropole;
        assert_eq!(public_holiday(d(2026, 4, 3), m), None, "Good Friday");
        assert_eq!(public_holiday(d(2026, 12, 26), m), None);
        for (month, day) in [(5, 27), (5, 22), (6, 10), (12, 20), (4, 27)] {
            assert_eq!(
                public_holiday(d(2026, month, day), m),
                None,
                "{month}-{day}"
            );
        }
    }

    #[test]
    fn alsace_moselle_adds_good_friday_and_saint_stephen() {
        let am = Region::AlsaceMoselle;
        assert_eq!(public_holiday(d(2026, 4, 3), am), Some("Vendredi saint"));
        assert_eq!(public_holiday(d(2027, 3, 26), am), Some("Vendredi saint"));
        assert_eq!(public_holiday(d(2025, 4, 18), am), Some("Vendredi saint"));
        assert_eq!(public_holiday(d(2026, 12, 26), am), Some("Saint-Étienne"));
        // The days around stay ordinary, and the national ones keep their names.
        assert_eq!(public_holiday(d(2026, 4, 2), am), None);
        assert_eq!(public_holiday(d(2027, 3, 27), am), None);
        assert_eq!(public_holiday(d(2026, 12, 27), am), None);
        assert_eq!(public_holiday(d(2026, 4, 6), am), Some("Lundi de Pâques"));
        assert_eq!(public_holiday(d(2026, 12, 25), am), Some("Noël"));
    }

    #[test]
    fn each_overseas_department_adds_its_abolition_day_only() {
        let days = [
            (Region::Guadeloupe, 5, 27),
            (Region::Martinique, 5, 22),
            (Region::Guyane, 6, 10),
            (Region::LaReunion, 12, 20),
            (Region::Mayotte, 4, 27),
        ];
        for (region, month, day) in days {
            for year in [2026, 2027] {
                assert_eq!(
                    public_holiday(d(year, month, day), region),
                    Some("Abolition de l'esclavage"),
                    "{region:?} {year}"
                );
            }
            // Another department's day is an ordinary day here.
            for (other, m, od) in days {
                if other != region {
                    assert_eq!(public_holiday(d(2026, m, od), region), None, "{region:?}");
                }
            }
            assert_eq!(
                public_holiday(d(2026, 4, 3), region),
                None,
                "no Good Friday"
            );
            assert_eq!(public_holiday(d(2026, 12, 26), region), None);
        }
    }

    #[test]
    fn each_region_lists_the_national_holidays_and_its_own() {
        let expected = [
            (Region::Metropole, 11, vec![]),
            (
                Region::AlsaceMoselle,
                13,
                vec![
                    (d(2026, 4, 3), "Vendredi saint"),
                    (d(2026, 12, 26), "Saint-Étienne"),
                ],
            ),
            (
                Region::Guadeloupe,
                12,
                vec![(d(2026, 5, 27), "Abolition de l'esclavage")],
            ),
            (
                Region::Martinique,
                12,
                vec![(d(2026, 5, 22), "Abolition de l'esclavage")],
            ),
            (
                Region::Guyane,
                12,
                vec![(d(2026, 6, 10), "Abolition de l'esclavage")],
            ),
            (
                Region::LaReunion,
                12,
                vec![(d(2026, 12, 20), "Abolition de l'esclavage")],
            ),
            (
                Region::Mayotte,
                12,
                vec![(d(2026, 4, 27), "Abolition de l'esclavage")],
            ),
        ];
        let national = public_holidays(2026, Region::Metropole);
        for (region, count, local) in expected {
            let all = public_holidays(2026, region);
            assert_eq!(all.len(), count, "{region:?}");
            assert!(
                all.windows(2).all(|w| w[0].0 < w[1].0),
                "{region:?} in order"
            );
            assert!(national.iter().all(|h| all.contains(h)), "{region:?}");
            assert!(local.iter().all(|h| all.contains(h)), "{region:?}");
            assert!(
                all.iter()
                    .all(|(day, name)| public_holiday(*day, region) == Some(*name)),
                "{region:?}"
            );
        }
    }
}
