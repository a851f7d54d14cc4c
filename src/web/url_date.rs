//! Dates read from addresses and forms (`?du=`, `?date=`, planning cells): `AAAA-MM-JJ`
//! within the years a school service can mean. chrono reads years down to -262143 and up
//! to +262142, where a week's arithmetic overflows and panics; such a date is a clear 400
//! here instead.

use chrono::{Datelike, NaiveDate};

/// The first year a date from outside may name.
pub const FIRST_YEAR: i32 = 2000;
/// The last year a date from outside may name.
pub const LAST_YEAR: i32 = 2199;

/// Reads `AAAA-MM-JJ` (surrounding spaces allowed); `None` for anything else or for a year
/// outside [`FIRST_YEAR`]..=[`LAST_YEAR`].
pub fn parse(text: &str) -> Option<NaiveDate> {
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    (FIRST_YEAR..=LAST_YEAR)
        .contains(&date.year())
        .then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_dates_of_the_service_years() {
        assert_eq!(parse(" 2026-05-04 "), NaiveDate::from_ymd_opt(2026, 5, 4));
        for bad in [
            "-262143-01-01",
            "+262142-12-31",
            "262142-12-31",
            "1999-12-31",
            "2200-01-01",
            "2026-02-30",
            "2026-5-4x",
            "",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
