//! Speaking French with recorded words: numbers, dates, times and service names turned into
//! sequences of word prompt ids (`n_5`, `day_lundi`, `month_mai`, `heures`, `svc_repas`).
//!
//! The word set is small on purpose (0 to 19, the tens, "et", "cent", "cents", "mille"...),
//! so that a town re-recording the voice has few files to make; compound numbers are built
//! from it with the French rules: "vingt et un", "soixante et onze", "quatre-vingts" but
//! "quatre-vingt-un", "deux cents" but "deux cent un", "mille" without "un" and invariable.
//! Every id produced here is listed by [`vocabulary`], which `ivr check` compares with the
//! prompt manifest.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};
use thiserror::Error;

use crate::booking::model::ServiceCode;

/// The largest number the word set can say.
pub const MAX_NUMBER: u32 = 9999;

/// A number outside `0..=MAX_NUMBER` was to be spoken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("le nombre {0} ne peut pas être dit (0 à 9999)")]
pub struct OutOfRange(pub u32);

/// "zéro" to "dix-neuf": one recorded word each (French 17-19 are spoken as one word).
const UNITS: [&str; 20] = [
    "n_0", "n_1", "n_2", "n_3", "n_4", "n_5", "n_6", "n_7", "n_8", "n_9", "n_10", "n_11", "n_12",
    "n_13", "n_14", "n_15", "n_16", "n_17", "n_18", "n_19",
];
/// "vingt" to "soixante", indexed by the tens digit (2 to 6).
const TENS: [&str; 7] = ["", "", "n_20", "n_30", "n_40", "n_50", "n_60"];
/// "une": the feminine of "un", for hours and minutes ("une heure", "vingt et une heures").
const ONE_FEMININE: &str = "n_une";
/// "et", as in "vingt et un" and "soixante et onze".
const AND: &str = "n_et";
/// "quatre-vingts": 80 alone takes the plural "s".
const EIGHTY: &str = "n_80";
/// "quatre-vingt": the prefix of 81 to 99, without "s".
const EIGHTY_PREFIX: &str = "n_quatre_vingt";
/// "cent", singular or followed by another number.
const HUNDRED: &str = "n_cent";
/// "cents": multiplied and ending the number ("deux cents").
const HUNDREDS: &str = "n_cents";
/// "mille", invariable.
const THOUSAND: &str = "n_mille";
/// "premier": the first day of a month is said as an ordinal.
const FIRST: &str = "n_premier";
/// "le", before a date said without its weekday.
const THE: &str = "le";
/// "heure" (0 and 1) and "heures".
const HOUR: &str = "heure";
/// Plural of [`HOUR`].
const HOURS: &str = "heures";
/// "à", between a date and a time.
const AT: &str = "a";

const WEEKDAYS: [&str; 7] = [
    "day_lundi",
    "day_mardi",
    "day_mercredi",
    "day_jeudi",
    "day_vendredi",
    "day_samedi",
    "day_dimanche",
];
const MONTHS: [&str; 12] = [
    "month_janvier",
    "month_fevrier",
    "month_mars",
    "month_avril",
    "month_mai",
    "month_juin",
    "month_juillet",
    "month_aout",
    "month_septembre",
    "month_octobre",
    "month_novembre",
    "month_decembre",
];

/// Says `n` (masculine, as when counting): 71 is "soixante et onze", 80 "quatre-vingts".
pub fn number(n: u32, out: &mut Vec<&'static str>) -> Result<(), OutOfRange> {
    say_number(n, false, out)
}

/// Says `n` with a feminine final "une" (for hours and minutes): 21 is "vingt et une".
pub fn number_feminine(n: u32, out: &mut Vec<&'static str>) -> Result<(), OutOfRange> {
    say_number(n, true, out)
}

fn say_number(n: u32, feminine: bool, out: &mut Vec<&'static str>) -> Result<(), OutOfRange> {
    if n > MAX_NUMBER {
        return Err(OutOfRange(n));
    }
    if n == 0 {
        out.push(UNITS[0]);
        return Ok(());
    }
    let thousands = n / 1000;
    let rest = n % 1000;
    if thousands > 1 {
        out.push(UNITS[thousands as usize]);
    }
    if thousands > 0 {
        out.push(THOUSAND);
    }
    if rest > 0 {
        below_thousand(rest, feminine, out);
    }
    Ok(())
}

/// 1 to 999.
fn below_thousand(n: u32, feminine: bool, out: &mut Vec<&'static str>) {
    let hundreds = n / 100;
    let rest = n % 100;
    if hundreds > 1 {
        out.push(UNITS[hundreds as usize]);
    }
    if hundreds > 0 {
        // "deux cents" takes the plural only when nothing follows: "deux cent un".
        out.push(if hundreds > 1 && rest == 0 {
            HUNDREDS
        } else {
            HUNDRED
        });
    }
    if rest > 0 {
        below_hundred(rest, feminine, out);
    }
}

/// 1 to 99.
fn below_hundred(n: u32, feminine: bool, out: &mut Vec<&'static str>) {
    let one =
        |out: &mut Vec<&'static str>| out.push(if feminine { ONE_FEMININE } else { UNITS[1] });
    match n {
        1 => one(out),
        2..=19 => out.push(UNITS[n as usize]),
        20..=69 => {
            out.push(TENS[(n / 10) as usize]);
            match n % 10 {
                0 => {}
                1 => {
                    out.push(AND);
                    one(out);
                }
                u => out.push(UNITS[u as usize]),
            }
        }
        // 70 to 79 are "soixante-dix" to "soixante-dix-neuf", 71 with "et".
        70..=79 => {
            out.push(TENS[6]);
            if n == 71 {
                out.push(AND);
            }
            out.push(UNITS[(n - 60) as usize]);
        }
        80 => out.push(EIGHTY),
        // 81 to 99: "quatre-vingt-un" (no "et"), "quatre-vingt-dix" to "-dix-neuf".
        _ => {
            out.push(EIGHTY_PREFIX);
            if n == 81 {
                one(out);
            } else {
                out.push(UNITS[(n - 80) as usize]);
            }
        }
    }
}

/// The day of the month: "premier" for the 1st, the number otherwise.
fn day_of_month(day: u32, out: &mut Vec<&'static str>) {
    if day == 1 {
        out.push(FIRST);
    } else {
        below_hundred(day, false, out);
    }
}

/// The prompt id of a weekday (`day_lundi`...).
pub fn weekday(day: Weekday) -> &'static str {
    WEEKDAYS[day.num_days_from_monday() as usize]
}

/// The prompt id of a month, 1 to 12 (`month_mai`...).
fn month(month: u32) -> &'static str {
    MONTHS[(month - 1) as usize]
}

/// A date with its weekday, as the line reads bookings back: "lundi cinq mai",
/// "jeudi premier mai". The year is not said: the line only deals with the coming months.
pub fn date(d: NaiveDate, out: &mut Vec<&'static str>) {
    out.push(weekday(d.weekday()));
    day_of_month(d.day(), out);
    out.push(month(d.month()));
}

/// A date without its weekday: "le cinq mai", "le premier mai".
pub fn date_with_article(d: NaiveDate, out: &mut Vec<&'static str>) {
    out.push(THE);
    day_of_month(d.day(), out);
    out.push(month(d.month()));
}

/// A time of day, kept regular: "dix heures", "dix heures quinze", "douze heures quinze",
/// "une heure", "vingt et une heures", "zéro heure". Seconds are not said.
pub fn time(t: NaiveTime, out: &mut Vec<&'static str>) {
    let (h, m) = (t.hour(), t.minute());
    // Hours and minutes are below 60, always in range.
    let _ = number_feminine(h, out);
    out.push(if h <= 1 { HOUR } else { HOURS });
    if m > 0 {
        let _ = number_feminine(m, out);
    }
}

/// A local date and time, as a deadline is said: "vendredi deux mai à dix heures".
pub fn date_time(dt: NaiveDateTime, out: &mut Vec<&'static str>) {
    date(dt.date(), out);
    out.push(AT);
    time(dt.time(), out);
}

/// The prompt id naming a service: `svc_` and its code in lower case (`svc_repas`).
/// A town that adds a service adds this prompt to its manifest.
pub fn service(code: &ServiceCode) -> String {
    format!("svc_{}", code.as_str().to_ascii_lowercase())
}

/// The services of the town's defaults (DOMAIN.md), whose prompts ship with the line.
pub const DEFAULT_SERVICES: [&str; 4] = ["svc_repas", "svc_matin", "svc_midi", "svc_soir"];

/// Every word prompt id this module can produce for numbers, dates and times, plus the
/// default services: the set the prompt manifest must contain.
pub fn vocabulary() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::new();
    v.extend(UNITS);
    v.extend(TENS.iter().copied().filter(|t| !t.is_empty()));
    v.extend([
        ONE_FEMININE,
        AND,
        EIGHTY,
        EIGHTY_PREFIX,
        HUNDRED,
        HUNDREDS,
        THOUSAND,
        FIRST,
        THE,
        HOUR,
        HOURS,
        AT,
    ]);
    v.extend(WEEKDAYS);
    v.extend(MONTHS);
    v.extend(DEFAULT_SERVICES);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(x: u32) -> String {
        let mut out = Vec::new();
        number(x, &mut out).unwrap();
        out.join(" ")
    }

    fn nf(x: u32) -> String {
        let mut out = Vec::new();
        number_feminine(x, &mut out).unwrap();
        out.join(" ")
    }

    #[test]
    fn small_numbers_are_one_word() {
        assert_eq!(n(0), "n_0");
        assert_eq!(n(1), "n_1");
        assert_eq!(n(16), "n_16");
        assert_eq!(n(17), "n_17");
        assert_eq!(n(19), "n_19");
    }

    #[test]
    fn tens_take_et_before_un_only() {
        assert_eq!(n(20), "n_20");
        assert_eq!(n(21), "n_20 n_et n_1");
        assert_eq!(n(22), "n_20 n_2");
        assert_eq!(n(31), "n_30 n_et n_1");
        assert_eq!(n(61), "n_60 n_et n_1");
        assert_eq!(n(69), "n_60 n_9");
    }

    #[test]
    fn seventies_count_on_from_soixante() {
        assert_eq!(n(70), "n_60 n_10");
        assert_eq!(n(71), "n_60 n_et n_11");
        assert_eq!(n(72), "n_60 n_12");
        assert_eq!(n(77), "n_60 n_17");
        assert_eq!(n(79), "n_60 n_19");
    }

    #[test]
    fn eighties_and_nineties() {
        assert_eq!(n(80), "n_80");
        assert_eq!(n(81), "n_quatre_vingt n_1");
        assert_eq!(n(89), "n_quatre_vingt n_9");
        assert_eq!(n(90), "n_quatre_vingt n_10");
        assert_eq!(n(91), "n_quatre_vingt n_11");
        assert_eq!(n(99), "n_quatre_vingt n_19");
    }

    #[test]
    fn hundreds_take_s_only_when_multiplied_and_last() {
        assert_eq!(n(100), "n_cent");
        assert_eq!(n(101), "n_cent n_1");
        assert_eq!(n(180), "n_cent n_80");
        assert_eq!(n(200), "n_2 n_cents");
        assert_eq!(n(201), "n_2 n_cent n_1");
        assert_eq!(n(280), "n_2 n_cent n_80");
        assert_eq!(n(971), "n_9 n_cent n_60 n_et n_11");
    }

    #[test]
    fn thousands_are_invariable_and_never_un_mille() {
        assert_eq!(n(1000), "n_mille");
        assert_eq!(n(1001), "n_mille n_1");
        assert_eq!(n(2000), "n_2 n_mille");
        assert_eq!(n(2026), "n_2 n_mille n_20 n_6");
        assert_eq!(n(1900), "n_mille n_9 n_cents");
        assert_eq!(n(9999), "n_9 n_mille n_9 n_cent n_quatre_vingt n_19");
    }

    #[test]
    fn out_of_range_is_an_error() {
        let mut out = Vec::new();
        assert_eq!(number(10_000, &mut out), Err(OutOfRange(10_000)));
        assert!(out.is_empty());
    }

    #[test]
    fn feminine_changes_only_the_final_un() {
        assert_eq!(nf(1), "n_une");
        assert_eq!(nf(21), "n_20 n_et n_une");
        assert_eq!(nf(81), "n_quatre_vingt n_une");
        assert_eq!(nf(71), "n_60 n_et n_11");
        assert_eq!(nf(15), "n_15");
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dates_are_said_with_weekday() {
        let mut out = Vec::new();
        date(d(2025, 5, 5), &mut out);
        assert_eq!(out.join(" "), "day_lundi n_5 month_mai");
        out.clear();
        date(d(2025, 5, 1), &mut out);
        assert_eq!(out.join(" "), "day_jeudi n_premier month_mai");
        out.clear();
        date(d(2026, 8, 31), &mut out);
        assert_eq!(out.join(" "), "day_lundi n_30 n_et n_1 month_aout");
    }

    #[test]
    fn dates_with_article() {
        let mut out = Vec::new();
        date_with_article(d(2025, 5, 1), &mut out);
        assert_eq!(out.join(" "), "le n_premier month_mai");
        out.clear();
        date_with_article(d(2025, 12, 21), &mut out);
        assert_eq!(out.join(" "), "le n_20 n_et n_1 month_decembre");
    }

    fn t(h: u32, m: u32) -> String {
        let mut out = Vec::new();
        time(NaiveTime::from_hms_opt(h, m, 0).unwrap(), &mut out);
        out.join(" ")
    }

    #[test]
    fn times_are_regular() {
        assert_eq!(t(10, 0), "n_10 heures");
        assert_eq!(t(10, 15), "n_10 heures n_15");
        assert_eq!(t(12, 15), "n_12 heures n_15");
        assert_eq!(t(16, 0), "n_16 heures");
        assert_eq!(t(1, 0), "n_une heure");
        assert_eq!(t(0, 30), "n_0 heure n_30");
        assert_eq!(t(21, 1), "n_20 n_et n_une heures n_une");
    }

    #[test]
    fn deadlines_are_date_then_time() {
        let mut out = Vec::new();
        date_time(d(2025, 5, 2).and_hms_opt(10, 0, 0).unwrap(), &mut out);
        assert_eq!(out.join(" "), "day_vendredi n_2 month_mai a n_10 heures");
    }

    #[test]
    fn services_name_their_prompt() {
        assert_eq!(service(&ServiceCode::parse("REPAS").unwrap()), "svc_repas");
        assert_eq!(service(&ServiceCode::parse("SOIR").unwrap()), "svc_soir");
    }

    #[test]
    fn vocabulary_covers_every_output() {
        let vocab = vocabulary();
        let mut out = Vec::new();
        for x in 0..=MAX_NUMBER {
            number(x, &mut out).unwrap();
            number_feminine(x, &mut out).unwrap();
        }
        let mut day = d(2025, 1, 1);
        while day.year() == 2025 {
            date(day, &mut out);
            date_with_article(day, &mut out);
            day = day.succ_opt().unwrap();
        }
        for h in 0..24 {
            for m in 0..60 {
                time(NaiveTime::from_hms_opt(h, m, 0).unwrap(), &mut out);
            }
        }
        out.push(AT);
        for w in out {
            assert!(vocab.contains(&w), "{w} missing from the vocabulary");
        }
    }
}
