//! Importer for the official school calendar, the open-data export
//! "fr-en-calendrier-scolaire" of the ministry of education, in CSV.
//!
//! The file has one row per holiday period and académie, separated by `;`, with either the
//! labels as header (`Description;Population;Date de début;Date de fin;Académies;Zones;
//! annee_scolaire`) or the field names (`description;population;start_date;end_date;
//! location;zones;annee_scolaire`); both are read. Dates are Paris midnights written in UTC
//! (`2025-10-17T22:00:00+00:00` is Saturday 18 October, 00:00 in Paris).
//!
//! What the importer decides:
//! - only the rows of the zone asked for (`Zones` column, e.g. "Zone A") are kept;
//! - rows for teachers only (`Population` = "Enseignants") are dropped: their dates
//!   differ from the pupils' by a day or two;
//! - the same period repeated for each académie of the zone is kept once;
//! - "Date de début" is the first day without school, and "Date de fin" is the day classes
//!   resume, so the period's last day is the day before it (Toussaint 2025, zone A:
//!   from Saturday 18 October to Sunday 2 November, classes resume Monday 3 November);
//! - a row without "Date de fin" (the summer holidays in some exports) is not guessed: it
//!   is reported in [`SchoolCalendarImport::ignored`] so that the operator adds it by hand;
//! - any other bad row stops the import with its line number: nothing is half-imported.

use std::io::Read;

use chrono::{DateTime, Days, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use thiserror::Error;

use crate::booking::calendar::SchoolHoliday;

/// What an import found for one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolCalendarImport {
    /// The holiday periods, by first day.
    pub periods: Vec<SchoolHoliday>,
    /// Rows of the zone that could not be turned into a period, with why.
    pub ignored: Vec<IgnoredRow>,
}

/// A row of the zone left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredRow {
    /// Its line in the file (the header is line 1).
    pub line: u64,
    /// Its description ("Vacances d'Été").
    pub description: String,
    /// Why, in French.
    pub reason: String,
}

/// A file that cannot be imported.
#[derive(Debug, Error)]
pub enum SchoolCalendarError {
    /// A row is wrong.
    #[error("ligne {line} : {message}")]
    Line {
        /// The line, from 1 (the header).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The header lacks a column.
    #[error("ligne 1 : colonne « {0} » absente de l'en-tête")]
    MissingColumn(&'static str),
    /// The file is not readable CSV.
    #[error("fichier illisible : {0}")]
    Csv(#[from] csv::Error),
    /// No row of the file is for this zone.
    #[error("aucune période pour la zone « {zone} » (zones du fichier : {found})")]
    NoPeriod {
        /// The zone asked for.
        zone: String,
        /// The zones the file has.
        found: String,
    },
}

/// The columns read, with the header names each may have.
const COLUMNS: [(&str, &[&str]); 5] = [
    ("Description", &["description"]),
    ("Population", &["population"]),
    ("Date de début", &["date de début", "start_date"]),
    ("Date de fin", &["date de fin", "end_date"]),
    ("Zones", &["zones"]),
];

/// Reads the CSV export and returns the holiday periods of `zone` (e.g. "Zone A"), dates
/// read in `tz` (the town's legal time, Europe/Paris).
pub fn import_school_calendar(
    input: impl Read,
    zone: &str,
    tz: Tz,
) -> Result<SchoolCalendarImport, SchoolCalendarError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(false)
        .from_reader(input);
    let headers = reader.headers()?.clone();
    let mut index = [0usize; 5];
    for (slot, (label, names)) in index.iter_mut().zip(COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| {
                let h = h.trim_start_matches('\u{feff}').trim().to_lowercase();
                names.contains(&h.as_str())
            })
            .ok_or(SchoolCalendarError::MissingColumn(label))?;
    }
    let [description_at, population_at, start_at, end_at, zones_at] = index;

    let mut periods: Vec<SchoolHoliday> = Vec::new();
    let mut ignored = Vec::new();
    let mut zones_seen: Vec<String> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(row_error)?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let row_zone = field(zones_at);
        if !zones_seen.iter().any(|z| z == row_zone) {
            zones_seen.push(row_zone.to_owned());
        }
        if !row_zone.eq_ignore_ascii_case(zone.trim()) {
            continue;
        }
        if field(population_at).eq_ignore_ascii_case("enseignants") {
            continue;
        }
        let description = field(description_at);
        if description.is_empty() {
            return Err(line_error(line, "« Description » est vide".to_owned()));
        }
        let first = paris_day(field(start_at), tz)
            .map_err(|m| line_error(line, format!("« Date de début » : {m}")))?;
        let end = field(end_at);
        if end.is_empty() {
            // Reported once, not once per académie.
            if ignored
                .iter()
                .any(|r: &IgnoredRow| r.description == description)
            {
                continue;
            }
            ignored.push(IgnoredRow {
                line,
                description: description.to_owned(),
                reason: "pas de « Date de fin » : période à saisir à la main".to_owned(),
            });
            continue;
        }
        let resume =
            paris_day(end, tz).map_err(|m| line_error(line, format!("« Date de fin » : {m}")))?;
        let last = resume
            .checked_sub_days(Days::new(1))
            .filter(|last| *last >= first)
            .ok_or_else(|| {
                line_error(
                    line,
                    format!("la reprise ({resume}) n'est pas après le début ({first})"),
                )
            })?;
        let period = SchoolHoliday {
            name: description.to_owned(),
            first,
            last,
        };
        if !periods.contains(&period) {
            periods.push(period);
        }
    }
    if periods.is_empty() && ignored.is_empty() {
        return Err(SchoolCalendarError::NoPeriod {
            zone: zone.to_owned(),
            found: zones_seen.join(", "),
        });
    }
    periods.sort_by(|a, b| (a.first, a.last, &a.name).cmp(&(b.first, b.last, &b.name)));
    Ok(SchoolCalendarImport { periods, ignored })
}

/// A CSV error on a row, with its line number when the reader knows it.
fn row_error(e: csv::Error) -> SchoolCalendarError {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos: Some(pos),
            expected_len,
            len,
        } => line_error(
            pos.line(),
            format!("{len} colonnes au lieu de {expected_len}"),
        ),
        csv::ErrorKind::Utf8 { pos: Some(pos), .. } => {
            line_error(pos.line(), "texte qui n'est pas en UTF-8".to_owned())
        }
        _ => SchoolCalendarError::Csv(e),
    }
}

fn line_error(line: u64, message: String) -> SchoolCalendarError {
    SchoolCalendarError::Line { line, message }
}

/// The Paris day of a dataset date: an RFC 3339 instant that must be a midnight in `tz`,
/// or a plain `YYYY-MM-DD`.
fn paris_day(text: &str, tz: Tz) -> Result<NaiveDate, String> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day);
    }
    let instant = DateTime::parse_from_rfc3339(text)
        .map_err(|_| format!("date illisible « {text} »"))?
        .with_timezone(&tz);
    if instant.time() != NaiveTime::MIN {
        return Err(format!(
            "« {text} » n'est pas un minuit à l'heure de {tz} ({})",
            instant.format("%Y-%m-%d %H:%M")
        ));
    }
    Ok(instant.date_naive())
}

/// The periods as `[[calendar.school_holidays]]` entries to paste into `ivr.toml`.
pub fn to_toml(periods: &[SchoolHoliday]) -> String {
    let mut out = String::new();
    for p in periods {
        out.push_str(&format!(
            "[[calendar.school_holidays]]\nname = {}\nfirst = {}\nlast = {}\n\n",
            toml::Value::String(p.name.clone()),
            p.first,
            p.last
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::Paris;

    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/fr-en-calendrier-scolaire.csv");

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn holiday(name: &str, first: NaiveDate, last: NaiveDate) -> SchoolHoliday {
        SchoolHoliday {
            name: name.to_owned(),
            first,
            last,
        }
    }

    #[test]
    fn zone_a_from_the_official_export() {
        let import = import_school_calendar(FIXTURE.as_bytes(), "Zone A", Paris).unwrap();
        assert_eq!(
            import.periods,
            vec![
                holiday("Vacances de la Toussaint", d(2025, 10, 18), d(2025, 11, 2)),
                holiday("Vacances de Noël", d(2025, 12, 20), d(2026, 1, 4)),
                holiday("Vacances d'Hiver", d(2026, 2, 7), d(2026, 2, 22)),
                holiday("Vacances de Printemps", d(2026, 4, 4), d(2026, 4, 19)),
                holiday("Pont de l'Ascension", d(2026, 5, 14), d(2026, 5, 17)),
                holiday("Vacances de la Toussaint", d(2026, 10, 17), d(2026, 11, 1)),
                holiday("Vacances de Noël", d(2026, 12, 19), d(2027, 1, 3)),
                holiday("Vacances d'Hiver", d(2027, 2, 6), d(2027, 2, 21)),
            ]
        );
        assert_eq!(
            import.ignored,
            vec![IgnoredRow {
                line: 17,
                description: "Vacances d'Été".to_owned(),
                reason: "pas de « Date de fin » : période à saisir à la main".to_owned(),
            }]
        );
    }

    #[test]
    fn other_zones_and_the_field_name_header() {
        let renamed = FIXTURE.replacen(
            "Description;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire",
            "description;population;start_date;end_date;location;zones;annee_scolaire",
            1,
        );
        let b = import_school_calendar(renamed.as_bytes(), "zone b", Paris).unwrap();
        assert_eq!(
            b.periods,
            vec![
                holiday("Vacances de la Toussaint", d(2025, 10, 18), d(2025, 11, 2)),
                holiday("Vacances d'Hiver", d(2026, 2, 14), d(2026, 3, 1)),
                holiday("Vacances de Noël", d(2026, 12, 19), d(2027, 1, 3)),
            ]
        );
        let e = import_school_calendar(FIXTURE.as_bytes(), "Zone D", Paris).unwrap_err();
        assert_eq!(
            e.to_string(),
            "aucune période pour la zone « Zone D » (zones du fichier : Zone A, Zone B, Zone C)"
        );
    }

    #[test]
    fn bad_rows_name_their_line() {
        let bad_date = FIXTURE.replacen("2025-12-19T23:00:00+00:00", "19/12/2025", 1);
        let e = import_school_calendar(bad_date.as_bytes(), "Zone A", Paris).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ligne 6 : « Date de début » : date illisible « 19/12/2025 »"
        );
        let not_midnight =
            FIXTURE.replacen("2026-02-22T23:00:00+00:00", "2026-02-22T12:00:00+00:00", 1);
        let e = import_school_calendar(not_midnight.as_bytes(), "Zone A", Paris).unwrap_err();
        assert!(
            e.to_string().starts_with("ligne 9 : « Date de fin »"),
            "{e}"
        );
        let backwards =
            FIXTURE.replacen("2026-04-19T22:00:00+00:00", "2026-04-01T22:00:00+00:00", 1);
        let e = import_school_calendar(backwards.as_bytes(), "Zone A", Paris).unwrap_err();
        assert!(e.to_string().starts_with("ligne 13 : la reprise"), "{e}");
        let short_row = format!("{FIXTURE}Vacances;-;2027-01-01\n");
        let e = import_school_calendar(short_row.as_bytes(), "Zone A", Paris).unwrap_err();
        assert_eq!(e.to_string(), "ligne 24 : 3 colonnes au lieu de 7");
        let no_zone = FIXTURE.replace(";Zones;", ";Zone;");
        let e = import_school_calendar(no_zone.as_bytes(), "Zone A", Paris).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ligne 1 : colonne « Zones » absente de l'en-tête"
        );
    }

    #[test]
    fn a_byte_order_mark_is_tolerated() {
        let with_bom = format!("\u{feff}{FIXTURE}");
        let import = import_school_calendar(with_bom.as_bytes(), "Zone A", Paris).unwrap();
        assert_eq!(import.periods.len(), 8);
    }
}
