//! The planning grid (seed, part 2): one table per week, Lu Ma Me Je Ve columns, a row per
//! service, a check box per cell. Booked cells are green, days without the service greyed,
//! cells past their deadline locked with the deadline written in the cell and the reason
//! under the table.
//!
//! This file only draws; `planning.rs` builds the [`Week`]s from the booking service.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use crate::booking::model::ServiceCode;

/// The weekdays' short names, as in the seed's header (Lu Ma Me Je Ve), Monday first.
pub(crate) const DAY_SHORT: [&str; 7] = ["Lu", "Ma", "Me", "Je", "Ve", "Sa", "Di"];
const DAY_LONG: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];

/// What can be done with a cell now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellState {
    /// The parent may tick or untick it until `deadline`.
    Open {
        /// When the cell closes.
        deadline: DateTime<Utc>,
    },
    /// Past its deadline (or an override's): shown, not changeable.
    Locked {
        /// The deadline, if the service runs that day.
        deadline: Option<DateTime<Utc>>,
        /// The engine's sentence, e.g. "Les inscriptions pour le lundi 4 mai sont closes…".
        sentence: String,
        /// The staff's sentence when an override of theirs closed the cell.
        note: Option<String>,
    },
    /// The service does not run that day (Wednesday, holiday, closure): greyed.
    NoService {
        /// Short reason shown in the cell ("férié", "vacances"...).
        short: String,
        /// The engine's sentence.
        sentence: String,
    },
}

/// One cell of the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The day.
    pub date: NaiveDate,
    /// The service.
    pub service: ServiceCode,
    /// Whether the child is booked.
    pub booked: bool,
    /// Whether and until when it can change.
    pub state: CellState,
}

impl Cell {
    /// The form key of the cell: `2026-05-04.REPAS`.
    pub fn key(&self) -> String {
        cell_key(self.date, &self.service)
    }
}

/// The form key of a cell: `2026-05-04.REPAS`.
pub fn cell_key(date: NaiveDate, service: &ServiceCode) -> String {
    format!("{}.{}", date.format("%Y-%m-%d"), service.as_str())
}

/// Reads a form key back; `None` if it is not one we write.
pub fn parse_cell_key(key: &str) -> Option<(NaiveDate, ServiceCode)> {
    let (d, s) = key.split_once('.')?;
    let date = crate::web::url_date::parse(d)?;
    let service = ServiceCode::parse(s).ok()?;
    Some((date, service))
}

/// One service's row in a week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The service's label ("Cantine").
    pub label: String,
    /// One cell per day of [`Week::days`].
    pub cells: Vec<Cell>,
}

/// One week's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Week {
    /// Its Monday.
    pub monday: NaiveDate,
    /// The days shown: Monday to Friday (and a weekend day when a service runs on it).
    pub days: Vec<NaiveDate>,
    /// One row per service.
    pub rows: Vec<Row>,
}

fn dm(d: NaiveDate) -> String {
    d.format("%d/%m").to_string()
}

/// "01/05 à 10h00" in the town's time.
pub fn short_instant(at: DateTime<Utc>, tz: Tz) -> String {
    let l = at.with_timezone(&tz);
    format!("{} à {}", l.format("%d/%m"), l.format("%Hh%M"))
}

/// "30/04 10h00": a locked cell's deadline, compact enough for a phone's column.
fn short_deadline(at: DateTime<Utc>, tz: Tz) -> String {
    let l = at.with_timezone(&tz);
    format!("{} {}", l.format("%d/%m"), l.format("%Hh%M"))
}

/// Draws the weeks (inside the planning form).
pub fn weeks(weeks: &[Week], tz: Tz) -> Markup {
    html! {
        div.weeks {
            @for w in weeks { (week(w, tz)) }
        }
    }
}

/// "vendredi 27/11": a day in the list of locked cells, short enough for a phone.
fn day_short(d: NaiveDate) -> String {
    let i = d.weekday().num_days_from_monday() as usize;
    format!("{} {}", DAY_LONG[i], dm(d))
}

/// What is locked in one service's row of a week, one line per service: "Cantine : closes
/// depuis le jeudi 30/04 à 10h00 pour le lundi 04/05 ; depuis le lundi 04/05 à 10h00 pour
/// le mardi 05/05." Written per service because a day's cells close at different times
/// (the meal at 10h, the morning care at 16h): sentences that named only the day read as
/// contradicting each other. Days closed at the same instant (and for the same staff
/// reason) share one clause. `None` when nothing in the row is locked.
pub fn locked_line(row: &Row, tz: Tz) -> Option<String> {
    /// Cells that closed at one instant for one reason: `(deadline, staff note)`, and the
    /// days, in the order of the week.
    type Group<'a> = ((Option<DateTime<Utc>>, Option<&'a str>), Vec<NaiveDate>);
    let mut groups: Vec<Group<'_>> = Vec::new();
    for c in &row.cells {
        if let CellState::Locked { deadline, note, .. } = &c.state {
            let note = note.as_deref();
            let key = (*deadline, note);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, days)) => days.push(c.date),
                None => groups.push((key, vec![c.date])),
            }
        }
    }
    if groups.is_empty() {
        return None;
    }
    let clauses: Vec<String> = groups
        .iter()
        .enumerate()
        .map(|(i, ((deadline, note), days))| {
            let days = days
                .iter()
                .map(|d| format!("le {}", day_short(*d)))
                .collect::<Vec<_>>()
                .join(" et ");
            let mut clause = match deadline {
                Some(at) => {
                    let l = at.with_timezone(&tz);
                    format!(
                        "{}depuis le {} à {} pour {days}",
                        if i == 0 { "closes " } else { "" },
                        day_short(l.date_naive()),
                        l.format("%Hh%M")
                    )
                }
                None => format!("{}pour {days}", if i == 0 { "closes " } else { "" }),
            };
            if let Some(n) = note {
                clause.push_str(&format!(" – {}", n.trim().trim_end_matches('.')));
            }
            clause
        })
        .collect();
    Some(format!("{} : {}.", row.label, clauses.join(" ; ")))
}

fn week(w: &Week, tz: Tz) -> Markup {
    let sunday = w.monday + chrono::Days::new(6);
    // What is locked, under the table: one line per service.
    let notes: Vec<String> = w.rows.iter().filter_map(|r| locked_line(r, tz)).collect();
    let caption_id = format!("semaine-{}", w.monday.format("%Y-%m-%d"));
    html! {
        div.week-block {
            div.table-wrap {
                table.week aria-labelledby=(caption_id) {
                    caption id=(caption_id) {
                        "Semaine N° " (w.monday.iso_week().week()) " – du " (dm(w.monday)) " au " (dm(sunday))
                    }
                    thead {
                        tr {
                            th scope="col" { span.sr-only { "Prestation" } }
                            @for d in &w.days {
                                @let i = d.weekday().num_days_from_monday() as usize;
                                th scope="col" {
                                    abbr title=(DAY_LONG[i]) { (DAY_SHORT[i]) } br; (dm(*d))
                                }
                            }
                        }
                    }
                    tbody {
                        @for r in &w.rows {
                            tr {
                                th scope="row" { (r.label) }
                                @for c in &r.cells { (cell(c, &r.label, tz)) }
                            }
                        }
                    }
                }
            }
            @if !notes.is_empty() {
                p.locked-title id=(format!("{caption_id}-clos")) { "Délais passés :" }
                ul.locked-list aria-labelledby=(format!("{caption_id}-clos")) {
                    @for n in &notes { li { (n) } }
                }
            }
        }
    }
}

fn cell(c: &Cell, label: &str, tz: Tz) -> Markup {
    let i = c.date.weekday().num_days_from_monday() as usize;
    let short_day = format!(
        "{} {}",
        DAY_SHORT.get(i).copied().unwrap_or(""),
        c.date.format("%d")
    );
    let aria = format!(
        "{label}, {} {}",
        DAY_LONG.get(i).copied().unwrap_or(""),
        c.date.format("%d/%m/%Y")
    );
    let id = format!("c-{}", c.key().replace('.', "-"));
    let mut class = String::new();
    if c.booked {
        class.push_str("booked ");
    }
    match &c.state {
        CellState::Open { .. } => {}
        CellState::Locked { .. } => class.push_str("locked"),
        CellState::NoService { .. } => class.push_str("closed"),
    }
    let status = if c.booked { "inscrit" } else { "non inscrit" };
    html! {
        td class=(class.trim()) {
            @match &c.state {
                CellState::Open { deadline } => {
                    input type="hidden" name="shown" value=(c.key());
                    input type="checkbox" id=(id) name="want" value=(c.key()) checked[c.booked]
                        aria-label=(format!("{aria} ({status}, modifiable jusqu'au {})", short_instant(*deadline, tz)));
                    label.cell-label for=(id) { (short_day) }
                }
                CellState::Locked { deadline, sentence, .. } => {
                    input type="checkbox" id=(id) checked[c.booked] disabled
                        aria-label=(format!("{aria} ({status}, verrouillé : {sentence})"));
                    span.lock title=(sentence) {
                        "clos"
                        @if let Some(d) = deadline {
                            br; span.sr-only { "depuis le " } (short_deadline(*d, tz))
                        }
                    }
                }
                CellState::NoService { short, sentence } => {
                    span.lock title=(sentence) {
                        @if c.booked { "inscrit – " }
                        (short)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Europe::Paris;

    fn at(m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Paris
            .with_ymd_and_hms(2026, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn cell(day: u32, state: CellState) -> Cell {
        Cell {
            date: NaiveDate::from_ymd_opt(2026, 5, day).unwrap(),
            service: ServiceCode::parse("REPAS").unwrap(),
            booked: false,
            state,
        }
    }

    fn locked(deadline: DateTime<Utc>, note: Option<&str>) -> CellState {
        CellState::Locked {
            deadline: Some(deadline),
            sentence: "Les inscriptions pour ce jour sont closes.".into(),
            note: note.map(str::to_owned),
        }
    }

    #[test]
    fn locked_cells_are_listed_once_per_service_with_each_deadline() {
        let row = Row {
            label: "Cantine".into(),
            cells: vec![
                cell(4, locked(at(4, 30, 10), None)),
                cell(5, locked(at(5, 4, 10), None)),
                cell(
                    6,
                    CellState::NoService {
                        short: "pas de service".into(),
                        sentence: String::new(),
                    },
                ),
                cell(
                    7,
                    CellState::Open {
                        deadline: at(5, 6, 10),
                    },
                ),
            ],
        };
        assert_eq!(
            locked_line(&row, Paris).as_deref(),
            Some(
                "Cantine : closes depuis le jeudi 30/04 à 10h00 pour le lundi 04/05 ; \
                 depuis le lundi 04/05 à 10h00 pour le mardi 05/05."
            )
        );
    }

    #[test]
    fn days_closed_at_the_same_instant_share_a_clause_and_staff_notes_are_kept() {
        let note = "Délai avancé pour le pont.";
        let row = Row {
            label: "Accueil Soir".into(),
            cells: vec![
                cell(11, locked(at(5, 6, 10), Some(note))),
                cell(12, locked(at(5, 6, 10), Some(note))),
                cell(13, locked(at(5, 6, 10), None)),
            ],
        };
        assert_eq!(
            locked_line(&row, Paris).as_deref(),
            Some(
                "Accueil Soir : closes depuis le mercredi 06/05 à 10h00 pour le lundi 11/05 \
                 et le mardi 12/05 – Délai avancé pour le pont ; depuis le mercredi 06/05 à \
                 10h00 pour le mercredi 13/05."
            )
        );
    }

    #[test]
    fn a_row_without_locked_cells_has_no_line() {
        let row = Row {
            label: "Cantine".into(),
            cells: vec![cell(
                7,
                CellState::Open {
                    deadline: at(5, 6, 10),
                },
            )],
        };
        assert_eq!(locked_line(&row, Paris), None);
    }

    #[test]
    fn cell_keys_round_trip_and_reject_junk() {
        let s = ServiceCode::parse("REPAS").unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 5, 4).unwrap();
        assert_eq!(cell_key(d, &s), "2026-05-04.REPAS");
        assert_eq!(parse_cell_key("2026-05-04.REPAS"), Some((d, s)));
        for bad in [
            "",
            "2026-05-04",
            "2026-13-04.REPAS",
            "2026-05-04.repas",
            "x.REPAS",
            "2026-05-04.<b>",
        ] {
            assert_eq!(parse_cell_key(bad), None, "{bad}");
        }
    }
}
