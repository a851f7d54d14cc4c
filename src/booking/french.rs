//! Dates and times written as a French reader expects them ("le lundi 5 mai à 10h00").

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike, Weekday};

/// The French name of a weekday, lower case ("lundi").
pub fn weekday_fr(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "lundi",
        Weekday::Tue => "mardi",
        Weekday::Wed => "mercredi",
        Weekday::Thu => "jeudi",
        Weekday::Fri => "vendredi",
        Weekday::Sat => "samedi",
        Weekday::Sun => "dimanche",
    }
}

/// The French name of a month (1 = janvier), lower case.
pub fn month_fr(month: u32) -> &'static str {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    MONTHS[(month as usize).clamp(1, 12) - 1]
}

/// "lundi 5 mai", "jeudi 1er mai": weekday, day and month, without the year.
pub fn date_fr(date: NaiveDate) -> String {
    let day = date.day();
    let suffix = if day == 1 { "er" } else { "" };
    format!(
        "{} {day}{suffix} {}",
        weekday_fr(date.weekday()),
        month_fr(date.month())
    )
}

/// "lundi 5 mai 2014": as [`date_fr`], with the year.
pub fn date_fr_with_year(date: NaiveDate) -> String {
    format!("{} {}", date_fr(date), date.year())
}

/// "10h00", "9h05": the French way of writing a time of day.
pub fn time_fr(time: NaiveTime) -> String {
    format!("{}h{:02}", time.hour(), time.minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_in_french() {
        let d = |m, day| NaiveDate::from_ymd_opt(2014, m, day).unwrap();
        assert_eq!(date_fr(d(5, 5)), "lundi 5 mai");
        assert_eq!(date_fr(d(5, 1)), "jeudi 1er mai");
        assert_eq!(date_fr_with_year(d(8, 15)), "vendredi 15 août 2014");
        assert_eq!(time_fr(NaiveTime::from_hms_opt(10, 0, 0).unwrap()), "10h00");
        assert_eq!(time_fr(NaiveTime::from_hms_opt(9, 5, 0).unwrap()), "9h05");
    }
}
