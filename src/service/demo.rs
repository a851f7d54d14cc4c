//! Demo data (`ivr demo --seed-only`, and the demo server): the town "Mezcalito" with the
//! seed's families, the school holidays (zone A) and the Ascension bridge of the current
//! school year, and a few bookings in the current weeks. Running it again changes nothing
//! that is already there.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};

use crate::booking::calendar::{ActionScope, Override, SchoolHoliday, ServiceScope};
use crate::booking::deadline::{service_runs, town_instant};
use crate::booking::french::date_fr;
use crate::booking::holidays::easter_sunday;
use crate::booking::model::{Action, Channel, ChildCode, PayerCode, ServiceCode};
use crate::service::booking::{BookingError, BookingService};
use crate::store::{Closure, HistoryEntry, NewChild, NewPayer, Store};

/// The demo's families: (payer code, payer name, e-mail, opt-in, children as
/// (child code, first name, last name, school, class, teacher)).
type DemoFamily = (
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    )],
);

/// The families of the demo; Laurence MARSONE's are the seed's.
pub const FAMILIES: &[DemoFamily] = &[
    (
        "770021",
        "Laurence MARSONE",
        "laurence.marsone@example.org",
        true,
        &[
            (
                "3011",
                "Angéline",
                "MARSONE",
                "École Jules Ferry",
                "CE1",
                "Mme Formatrice",
            ),
            (
                "3012",
                "Théo",
                "MARSONE",
                "École Jules Ferry",
                "CM2",
                "M. Lambert",
            ),
        ],
    ),
    (
        "770022",
        "Paul DURAND",
        "paul.durand@example.org",
        false,
        &[(
            "3021",
            "Léa",
            "DURAND",
            "École Jules Ferry",
            "CP",
            "Mme Petit",
        )],
    ),
    (
        "770023",
        "Jeanne MARTIN",
        "jeanne.martin@example.org",
        false,
        &[(
            "3031",
            "Inès",
            "MARTIN",
            "École du Centre",
            "CE2",
            "M. Moreau",
        )],
    ),
    (
        "770024",
        "Karim BENALI",
        "karim.benali@example.org",
        true,
        &[
            (
                "3041",
                "Yanis",
                "BENALI",
                "École du Centre",
                "GS",
                "Mme Roux",
            ),
            (
                "3042",
                "Lina",
                "BENALI",
                "École du Centre",
                "CM1",
                "Mme Garnier",
            ),
        ],
    ),
];

/// The demo bookings: child code and the services booked on each of its service days.
const BOOKINGS: &[(&str, &[&str])] = &[
    ("3011", &["REPAS", "SOIR"]),
    ("3012", &["REPAS"]),
    ("3021", &["MATIN", "REPAS"]),
    ("3031", &["REPAS", "MIDI"]),
    ("3041", &["REPAS"]),
];

/// A day of the table below: (year, month, day).
type Day = (i32, u32, u32);

/// A period of the table below: (name, first day, last day).
type Period = (&'static str, Day, Day);

/// The school holidays of zone A (Mezcalito's zone) per school year, keyed by the year of
/// its rentrée: (name, first day without school, last day without school = the eve of the
/// day classes resume). Names are those of the official export, so that importing it with
/// `ivr calendar import --write` finds the same days and adds nothing.
///
/// Sources:
/// - 2025-2026: the official calendar as restated by macommune.info, "Quel est le
///   calendrier des vacances scolaires en Bourgogne-Franche-Comté" (2025-08-19: Toussaint
///   from Saturday 18 October to Monday 3 November 2025, Noël 20 December to 5 January,
///   winter 7 to 23 February, spring 4 to 20 April 2026, summer from Saturday 4 July 2026,
///   no class on Friday 15 and Saturday 16 May 2026 after Ascension) and by
///   professeurs-des-ecoles.com (the same zone A winter and spring dates); the end of the
///   summer (rentrée on Tuesday 1 September 2026) is the one of ivr.example.toml.
/// - 2026-2027: only Toussaint and Noël, from ivr.example.toml (= the fixture of the
///   official export). The official zone A dates of the winter, spring, Ascension and
///   summer holidays could not be found (the pages at hand disagree), so they are left
///   out rather than guessed; a town imports the official file instead.
/// - 2027-2028: not found; the demo seeds no school holiday for that year.
const ZONE_A_HOLIDAYS: &[(i32, &[Period])] = &[
    (
        2025,
        &[
            ("Vacances de la Toussaint", (2025, 10, 18), (2025, 11, 2)),
            ("Vacances de Noël", (2025, 12, 20), (2026, 1, 4)),
            ("Vacances d'Hiver", (2026, 2, 7), (2026, 2, 22)),
            ("Vacances de Printemps", (2026, 4, 4), (2026, 4, 19)),
            ("Pont de l'Ascension", (2026, 5, 14), (2026, 5, 17)),
            ("Vacances d'Été", (2026, 7, 4), (2026, 8, 31)),
        ],
    ),
    (
        2026,
        &[
            ("Vacances de la Toussaint", (2026, 10, 17), (2026, 11, 1)),
            ("Vacances de Noël", (2026, 12, 19), (2027, 1, 3)),
        ],
    ),
    (2027, &[]),
];

/// The year of the rentrée of the school year holding `today`. A school year runs from
/// 1 September to 31 August, its summer holidays included (the rentrées of 2025 and 2026
/// are on 1 September).
pub fn school_year_of(today: NaiveDate) -> i32 {
    if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    }
}

/// The demo's school holidays (zone A) for the school year holding `today`: empty when the
/// table above does not know that year.
pub fn zone_a_school_holidays(today: NaiveDate) -> Vec<SchoolHoliday> {
    let year = school_year_of(today);
    let day = |(y, m, d): Day| NaiveDate::from_ymd_opt(y, m, d).expect("valid table date");
    ZONE_A_HOLIDAYS
        .iter()
        .filter(|(start, _)| *start == year)
        .flat_map(|(_, periods)| periods.iter())
        .map(|(name, first, last)| SchoolHoliday {
            name: (*name).to_owned(),
            first: day(*first),
            last: day(*last),
        })
        .collect()
}

/// Who the demo's history rows name.
const ACTOR: &str = "démo";

/// What a seeding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DemoSummary {
    /// Payers created (0 when the demo families were already there).
    pub payers: usize,
    /// Children created.
    pub children: usize,
    /// Bookings added.
    pub bookings: usize,
    /// Closures and overrides added.
    pub calendar_entries: usize,
    /// School holiday periods added.
    pub school_holidays: usize,
}

/// Seeds the demo at `now`: the town's name and message (when not set yet), the families,
/// the school holidays of the current school year ([`zone_a_school_holidays`]), the
/// Ascension bridge of the current school year (a closure on the Friday and the seed's
/// override: cancellations for the following Monday closed since Wednesday 10:15), and
/// bookings on the service days of this week and the next (never in a school holiday: the
/// engine's calendar, with what this seeding stored, decides). All of it in one transaction.
pub async fn seed(
    service: &BookingService,
    town_name: &str,
    town_message: &str,
    now: DateTime<Utc>,
) -> Result<DemoSummary, BookingError> {
    let store = service.store();
    let rules = service.rules();
    let tz = rules.timezone();
    let today = now.with_timezone(&tz).date_naive();
    let mut summary = DemoSummary::default();
    let mut tx = store.begin().await?;

    for (payer_code, name, email, opt_in, children) in FAMILIES {
        let code = PayerCode::parse(payer_code).expect("demo codes are digits");
        let payer = match tx.payer_id_by_code(&code).await? {
            Some(id) => id,
            None => {
                summary.payers += 1;
                tx.insert_payer(&NewPayer {
                    code,
                    name: (*name).into(),
                    email: (*email).into(),
                    invoice_email_opt_in: *opt_in,
                })
                .await?
            }
        };
        for (child_code, first, last, school, class, teacher) in *children {
            let code = ChildCode::parse(child_code).expect("demo codes are digits");
            if tx.child_id_by_code(&code).await?.is_none() {
                summary.children += 1;
                tx.insert_child(&NewChild {
                    code,
                    payer,
                    first_name: (*first).into(),
                    last_name: (*last).into(),
                    school: (*school).into(),
                    class_label: (*class).into(),
                    teacher: (*teacher).into(),
                })
                .await?;
            }
        }
    }

    // The school holidays of the school year that holds `today`; days already stored (by
    // an earlier seeding or an import of the official file) are not stored twice.
    let holidays = zone_a_school_holidays(today);
    if holidays.is_empty() {
        tracing::warn!(
            school_year = school_year_of(today),
            "la démonstration ne connaît pas les vacances scolaires de cette année : aucune \
             n'est ajoutée (« ivr calendar import --write » importe le fichier officiel)"
        );
    }
    for period in &holidays {
        if tx.add_school_holiday(period).await? {
            summary.school_holidays += 1;
        }
    }

    // The Ascension bridge of the school year that holds `today`.
    let (bridge, monday) = ascension_bridge(today);
    let wednesday = monday - Days::new(5);
    if tx.closures_between(bridge, bridge).await?.is_empty() {
        tx.add_closure(&Closure {
            date: bridge,
            label: "Pont de l'Ascension".into(),
        })
        .await?;
        summary.calendar_entries += 1;
    }
    if tx.overrides_between(monday, monday).await?.is_empty() {
        let at = NaiveTime::from_hms_opt(10, 15, 0).expect("valid time");
        tx.add_override(&Override {
            date: monday,
            services: ServiceScope::All,
            actions: ActionScope::Cancel,
            deadline: town_instant(tz, wednesday, at),
            message: format!(
                "ATTENTION! En raison du week-end de l'Ascension, les annulations pour le {} \
                 NE SONT PLUS POSSIBLES depuis {} à 10H15.",
                date_fr(monday),
                date_fr(wednesday)
            ),
        })
        .await?;
        summary.calendar_entries += 1;
    }

    // Bookings on the service days of this week and the next, as the booking service's
    // calendar (with the database's closures and school holidays, read in this
    // transaction) has them.
    let this_monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let last = this_monday + Days::new(13);
    let calendar = service.calendar_in_tx(&mut tx, this_monday, last).await?;
    for (child_code, services) in BOOKINGS {
        let code = ChildCode::parse(child_code).expect("demo codes are digits");
        let Some(child) = tx.child_id_by_code(&code).await? else {
            continue;
        };
        for offset in 0..14 {
            let date = this_monday + Days::new(offset);
            for code in *services {
                let code = ServiceCode::parse(code).expect("demo service codes are valid");
                let Some(svc) = rules.service(&code) else {
                    continue;
                };
                if service_runs(&calendar, svc, date).is_err() {
                    continue;
                }
                if tx.insert_booking(child, date, &code, now).await? {
                    summary.bookings += 1;
                    tx.push_history(
                        child,
                        &HistoryEntry {
                            action: Action::Book,
                            date,
                            service: code.clone(),
                            channel: Channel::Staff,
                            actor: ACTOR.into(),
                            at: now,
                        },
                    )
                    .await?;
                }
            }
        }
    }
    tx.commit().await?;

    if store.setting(Store::TOWN_NAME).await?.is_none() {
        store.set_setting(Store::TOWN_NAME, town_name).await?;
    }
    if store.setting(Store::TOWN_MESSAGE).await?.is_none() {
        store.set_setting(Store::TOWN_MESSAGE, town_message).await?;
    }
    Ok(summary)
}

/// The dates of the demo's Ascension bridge for the school year holding `today`:
/// (the closed Friday, the Monday whose cancellations close early).
pub fn ascension_bridge(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let spring = if today.month() >= 8 {
        today.year() + 1
    } else {
        today.year()
    };
    let ascension = easter_sunday(spring) + Days::new(39);
    (ascension + Days::new(1), ascension + Days::new(4))
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::Paris;

    use super::*;
    use crate::booking::calendar::Calendar;
    use crate::booking::rules::Rules;
    use crate::booking::school_calendar::import_school_calendar;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_table_is_a_valid_calendar_in_order() {
        for (year, periods) in ZONE_A_HOLIDAYS {
            let holidays = zone_a_school_holidays(d(*year, 9, 1));
            assert_eq!(holidays.len(), periods.len());
            Calendar::default()
                .with_school_holidays(holidays.clone())
                .check(&Rules::default())
                .unwrap();
            assert!(holidays.windows(2).all(|w| w[0].last < w[1].first));
            // Every period lies in its school year.
            assert!(
                holidays
                    .iter()
                    .all(|h| school_year_of(h.first) == *year && school_year_of(h.last) == *year)
            );
        }
    }

    #[test]
    fn the_school_year_turns_on_1_september() {
        assert_eq!(school_year_of(d(2026, 8, 31)), 2025);
        assert_eq!(school_year_of(d(2026, 9, 1)), 2026);
        assert_eq!(zone_a_school_holidays(d(2026, 5, 4)).len(), 6);
        assert_eq!(zone_a_school_holidays(d(2026, 11, 27)).len(), 2);
        assert!(zone_a_school_holidays(d(2027, 10, 1)).is_empty());
        assert!(zone_a_school_holidays(d(2031, 1, 1)).is_empty());
    }

    #[test]
    fn the_table_agrees_with_the_official_export_fixture() {
        // Every period of the table that the fixture has (it lacks the summer's end) is
        // there with the same name and days.
        let fixture = include_str!("../../tests/fixtures/fr-en-calendrier-scolaire.csv");
        let import = import_school_calendar(fixture.as_bytes(), "Zone A", Paris).unwrap();
        let mut table: Vec<SchoolHoliday> = [d(2025, 9, 1), d(2026, 9, 1)]
            .into_iter()
            .flat_map(zone_a_school_holidays)
            .collect();
        table.retain(|h| h.name != "Vacances d'Été");
        assert_eq!(table.len(), 7);
        for h in &table {
            assert!(import.periods.contains(h), "{h:?}");
        }
    }
}
