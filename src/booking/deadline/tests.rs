//! Table tests: one per rule of DOMAIN.md, with instants written in UTC so that the
//! expected values do not go through the engine's own time-zone code.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Europe::Paris;

use super::*;
use crate::booking::calendar::{ActionScope, Override, SchoolHoliday, ServiceScope};
use crate::booking::rules::{PhoneKey, Service};
use crate::booking::weekdays::Weekdays;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn code(c: &str) -> ServiceCode {
    ServiceCode::parse(c).unwrap()
}

fn repas() -> ServiceCode {
    code("REPAS")
}

/// The rule's deadline, for booking.
fn deadline(cal: &Calendar, date: NaiveDate, service: &str) -> Option<DateTime<Utc>> {
    deadline_for(&Rules::default(), cal, date, &code(service), Action::Book)
}

fn refusal(decision: Decision) -> Refusal {
    match decision {
        Decision::Refused(r) => r,
        open => panic!("expected a refusal, got {open:?}"),
    }
}

#[test]
fn monday_meal_closes_friday_at_ten() {
    let rules = Rules::default();
    let cal = Calendar::default();
    let monday = d(2014, 5, 5);
    // 2 May 2014 is a Friday in summer time (UTC+2).
    let friday_10h = utc("2014-05-02T08:00:00Z");
    assert_eq!(deadline(&cal, monday, "REPAS"), Some(friday_10h));

    let just_before = utc("2014-05-02T07:59:59Z");
    assert_eq!(
        decide(&rules, &cal, monday, &repas(), Action::Book, just_before),
        Decision::Open {
            deadline: friday_10h
        }
    );
    let r = refusal(decide(
        &rules,
        &cal,
        monday,
        &repas(),
        Action::Book,
        friday_10h,
    ));
    assert_eq!(r.reason, RefusalReason::DeadlinePassed);
    assert_eq!(r.deadline, Some(friday_10h));
    assert_eq!(
        r.sentence_fr(Action::Book),
        "Les inscriptions pour le lundi 5 mai sont closes depuis le vendredi 2 mai à 10h00."
    );
    assert_eq!(
        r.sentence_fr(Action::Cancel),
        "Les annulations pour le lundi 5 mai sont closes depuis le vendredi 2 mai à 10h00."
    );
}

#[test]
fn every_default_service_has_its_deadline() {
    let cal = Calendar::default();
    let tuesday = d(2014, 5, 6);
    // Previous working day: Monday 5 May 2014 (UTC+2).
    assert_eq!(
        deadline(&cal, tuesday, "REPAS"),
        Some(utc("2014-05-05T08:00:00Z"))
    );
    assert_eq!(
        deadline(&cal, tuesday, "MATIN"),
        Some(utc("2014-05-05T14:00:00Z"))
    );
    assert_eq!(
        deadline(&cal, tuesday, "MIDI"),
        Some(utc("2014-05-05T08:00:00Z"))
    );
    assert_eq!(
        deadline(&cal, tuesday, "SOIR"),
        Some(utc("2014-05-06T14:00:00Z"))
    );
}

#[test]
fn evening_care_closes_the_same_day_at_four() {
    let rules = Rules::default();
    let cal = Calendar::default();
    let monday = d(2014, 5, 5);
    let soir = code("SOIR");
    let four_pm = utc("2014-05-05T14:00:00Z");
    assert!(
        decide(
            &rules,
            &cal,
            monday,
            &soir,
            Action::Cancel,
            utc("2014-05-05T13:59:00Z")
        )
        .is_open()
    );
    let r = refusal(decide(&rules, &cal, monday, &soir, Action::Cancel, four_pm));
    assert_eq!(r.deadline, Some(four_pm));
    assert_eq!(
        r.sentence_fr(Action::Cancel),
        "Les annulations pour le lundi 5 mai sont closes depuis le lundi 5 mai à 16h00."
    );
}

#[test]
fn ascension_bridge_moves_the_monday_meal_to_wednesday() {
    // 2026: Ascension is Thursday 14 May; the town closes Friday 15 May (pont).
    let monday = d(2026, 5, 18);
    let plain = Calendar::default();
    assert_eq!(
        deadline(&plain, monday, "REPAS"),
        Some(utc("2026-05-15T08:00:00Z")),
        "without the pont, Friday 10:00"
    );
    let bridged = Calendar::default().with_closures([d(2026, 5, 15)]);
    assert_eq!(
        deadline(&bridged, monday, "REPAS"),
        Some(utc("2026-05-13T08:00:00Z")),
        "with the pont, Wednesday 10:00"
    );
    let r = refusal(decide(
        &Rules::default(),
        &bridged,
        monday,
        &repas(),
        Action::Book,
        utc("2026-05-13T08:00:00Z"),
    ));
    assert_eq!(
        r.sentence_fr(Action::Book),
        "Les inscriptions pour le lundi 18 mai sont closes depuis le mercredi 13 mai à 10h00."
    );
}

const SEED_MESSAGE: &str = "ATTENTION! En raison du week-end de l'Ascension, les annulations pour le lundi 25 mai NE SONT PLUS POSSIBLES depuis mercredi 20 mai à 10H15.";

/// 2020: Ascension on Thursday 21 May, the town closed Friday 22 May, and the seed's
/// override: cancellations for Monday 25 May closed since Wednesday 20 May at 10:15.
fn seed_calendar() -> Calendar {
    Calendar::default()
        .with_closures([d(2020, 5, 22)])
        .with_overrides([Override {
            date: d(2020, 5, 25),
            services: ServiceScope::All,
            actions: ActionScope::Cancel,
            deadline: utc("2020-05-20T08:15:00Z"),
            message: SEED_MESSAGE.to_owned(),
        }])
}

#[test]
fn seed_override_closes_cancellations_at_quarter_past_ten() {
    let rules = Rules::default();
    let cal = seed_calendar();
    let monday = d(2020, 5, 25);
    let cutoff = utc("2020-05-20T08:15:00Z");

    let before = utc("2020-05-20T08:14:00Z");
    assert_eq!(
        decide(&rules, &cal, monday, &repas(), Action::Cancel, before),
        Decision::Open { deadline: cutoff }
    );
    let r = refusal(decide(
        &rules,
        &cal,
        monday,
        &repas(),
        Action::Cancel,
        cutoff,
    ));
    assert_eq!(
        r.reason,
        RefusalReason::Override {
            message: SEED_MESSAGE.to_owned()
        }
    );
    assert_eq!(r.deadline, Some(cutoff));
    assert_eq!(r.sentence_fr(Action::Cancel), SEED_MESSAGE);
    // Every service is covered.
    assert!(!decide(&rules, &cal, monday, &code("SOIR"), Action::Cancel, cutoff).is_open());

    // Booking keeps the rule: the previous working day is Wednesday 20 (Thursday is
    // Ascension, Friday is closed), 10:00, a quarter of an hour before the override.
    let r = refusal(decide(&rules, &cal, monday, &repas(), Action::Book, before));
    assert_eq!(r.reason, RefusalReason::DeadlinePassed);
    assert_eq!(r.deadline, Some(utc("2020-05-20T08:00:00Z")));
    // Evening care on Monday still follows its same-day rule for booking.
    assert!(decide(&rules, &cal, monday, &code("SOIR"), Action::Book, cutoff).is_open());
}

#[test]
fn overrides_match_their_services_and_actions_and_the_last_wins() {
    let rules = Rules::default();
    let monday = d(2014, 5, 5);
    let later = utc("2014-05-04T18:00:00Z");
    let cal = Calendar::default().with_overrides([
        Override {
            date: monday,
            services: ServiceScope::Only(vec![repas()]),
            actions: ActionScope::Book,
            deadline: utc("2014-05-01T08:00:00Z"),
            message: "Clos plus tôt.".to_owned(),
        },
        Override {
            date: monday,
            services: ServiceScope::Only(vec![repas()]),
            actions: ActionScope::Both,
            deadline: later,
            message: "Délai prolongé jusqu'à dimanche 20h.".to_owned(),
        },
    ]);
    // The newer override extends the deadline past the rule's Friday 10:00.
    let saturday = utc("2014-05-03T10:00:00Z");
    assert_eq!(
        decide(&rules, &cal, monday, &repas(), Action::Book, saturday),
        Decision::Open { deadline: later }
    );
    assert_eq!(
        deadline_for(&rules, &cal, monday, &repas(), Action::Cancel),
        Some(later)
    );
    // Other services keep their rule.
    assert_eq!(
        deadline_for(&rules, &cal, monday, &code("MIDI"), Action::Book),
        Some(utc("2014-05-02T08:00:00Z"))
    );
    // Other dates too.
    assert_eq!(
        deadline_for(&rules, &cal, d(2014, 5, 6), &repas(), Action::Book),
        Some(utc("2014-05-05T08:00:00Z"))
    );
}

#[test]
fn wednesday_holiday_moves_thursday_meal_to_tuesday() {
    // 2026: Wednesday 11 November is Armistice day.
    let cal = Calendar::default();
    assert_eq!(
        deadline(&cal, d(2026, 11, 12), "REPAS"),
        Some(utc("2026-11-10T09:00:00Z")),
        "Thursday 12 closes Tuesday 10 at 10:00 (UTC+1)"
    );
    // An ordinary Thursday closes on Wednesday: the office works on Wednesdays even
    // though the school does not.
    assert_eq!(
        deadline(&cal, d(2026, 11, 19), "REPAS"),
        Some(utc("2026-11-18T09:00:00Z"))
    );
}

#[test]
fn spring_forward_shifts_deadlines_by_one_hour_in_utc() {
    // 2026: summer time starts on Sunday 29 March (02:00 CET -> 03:00 CEST).
    let cal = Calendar::default();
    // Friday 27 is still winter time (UTC+1), Monday 30 is summer time (UTC+2).
    assert_eq!(
        deadline(&cal, d(2026, 3, 27), "SOIR"),
        Some(utc("2026-03-27T15:00:00Z"))
    );
    assert_eq!(
        deadline(&cal, d(2026, 3, 30), "SOIR"),
        Some(utc("2026-03-30T14:00:00Z"))
    );
    assert_eq!(
        deadline(&cal, d(2026, 3, 30), "REPAS"),
        Some(utc("2026-03-27T09:00:00Z")),
        "Monday's meal closes Friday 10:00 winter time"
    );
    assert_eq!(
        deadline(&cal, d(2026, 3, 31), "REPAS"),
        Some(utc("2026-03-30T08:00:00Z")),
        "Tuesday's meal closes Monday 10:00 summer time"
    );
}

#[test]
fn fall_back_shifts_deadlines_by_one_hour_in_utc() {
    // 2026: winter time starts on Sunday 25 October (03:00 CEST -> 02:00 CET).
    let cal = Calendar::default();
    assert_eq!(
        deadline(&cal, d(2026, 10, 26), "REPAS"),
        Some(utc("2026-10-23T08:00:00Z")),
        "Monday's meal closes Friday 10:00 summer time"
    );
    assert_eq!(
        deadline(&cal, d(2026, 10, 26), "MATIN"),
        Some(utc("2026-10-23T14:00:00Z"))
    );
    assert_eq!(
        deadline(&cal, d(2026, 10, 27), "REPAS"),
        Some(utc("2026-10-26T09:00:00Z")),
        "Tuesday's meal closes Monday 10:00 winter time"
    );
    assert_eq!(
        deadline(&cal, d(2026, 10, 26), "SOIR"),
        Some(utc("2026-10-26T15:00:00Z"))
    );
}

#[test]
fn times_in_the_switch_hours_are_resolved() {
    let t = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
    // Spring gap: 02:30 never happens; the clock jumps to 03:00 CEST = 01:00 UTC.
    assert_eq!(
        town_instant(Paris, d(2026, 3, 29), t),
        utc("2026-03-29T01:00:00Z")
    );
    // Autumn: 02:30 happens twice; the first (CEST, UTC+2) counts.
    assert_eq!(
        town_instant(Paris, d(2026, 10, 25), t),
        utc("2026-10-25T00:30:00Z")
    );
}

#[test]
fn wednesday_is_not_a_service_day() {
    let rules = Rules::default();
    let cal = Calendar::default();
    let wednesday = d(2014, 5, 7);
    let now = utc("2014-04-01T08:00:00Z");
    let r = refusal(decide(&rules, &cal, wednesday, &repas(), Action::Book, now));
    assert_eq!(r.reason, RefusalReason::NotServiceDay);
    assert_eq!(r.deadline, None);
    assert_eq!(
        r.sentence_fr(Action::Book),
        "Pas de cantine le mercredi 7 mai."
    );
    let r = refusal(decide(
        &rules,
        &cal,
        wednesday,
        &code("MATIN"),
        Action::Book,
        now,
    ));
    assert_eq!(
        r.sentence_fr(Action::Book),
        "Pas d'accueil matin le mercredi 7 mai."
    );
    assert_eq!(deadline(&cal, wednesday, "REPAS"), None);
}

#[test]
fn school_holiday_is_refused_with_its_name() {
    // Zone A, autumn 2026: from Saturday 17 October to Sunday 1 November.
    let cal = Calendar::default().with_school_holidays([SchoolHoliday {
        name: "Vacances de la Toussaint".to_owned(),
        first: d(2026, 10, 17),
        last: d(2026, 11, 1),
    }]);
    let rules = Rules::default();
    let now = utc("2026-09-01T08:00:00Z");
    let r = refusal(decide(
        &rules,
        &cal,
        d(2026, 10, 19),
        &repas(),
        Action::Book,
        now,
    ));
    assert_eq!(
        r.reason,
        RefusalReason::SchoolHoliday {
            name: "Vacances de la Toussaint".to_owned()
        }
    );
    assert_eq!(
        r.sentence_fr(Action::Book),
        "Pas de cantine le lundi 19 octobre : Vacances de la Toussaint."
    );
    // Classes resume on Monday 2 November; its meal closes on Friday 30 October, a
    // holiday day on which the office works.
    assert!(decide(&rules, &cal, d(2026, 11, 2), &repas(), Action::Book, now).is_open());
    assert_eq!(
        deadline(&cal, d(2026, 11, 2), "REPAS"),
        Some(utc("2026-10-30T09:00:00Z"))
    );
}

#[test]
fn public_holiday_is_refused_with_its_name() {
    let rules = Rules::default();
    let cal = Calendar::default();
    let now = utc("2014-04-01T08:00:00Z");
    let r = refusal(decide(
        &rules,
        &cal,
        d(2014, 5, 1),
        &repas(),
        Action::Book,
        now,
    ));
    assert_eq!(
        r.reason,
        RefusalReason::PublicHoliday {
            name: "Fête du Travail".to_owned()
        }
    );
    assert_eq!(
        r.sentence_fr(Action::Book),
        "Pas de cantine le jeudi 1er mai, jour férié (Fête du Travail)."
    );
    let r = refusal(decide(
        &rules,
        &cal,
        d(2020, 5, 21),
        &repas(),
        Action::Cancel,
        now,
    ));
    assert_eq!(
        r.reason,
        RefusalReason::PublicHoliday {
            name: "Ascension".to_owned()
        }
    );
}

#[test]
fn closure_day_is_refused() {
    let rules = Rules::default();
    let cal = Calendar::default().with_closures([d(2026, 5, 15)]);
    let r = refusal(decide(
        &rules,
        &cal,
        d(2026, 5, 15),
        &repas(),
        Action::Book,
        utc("2026-05-01T08:00:00Z"),
    ));
    assert_eq!(r.reason, RefusalReason::TownClosed);
    assert_eq!(
        r.sentence_fr(Action::Book),
        "Pas de cantine le vendredi 15 mai : la mairie est fermée ce jour-là."
    );
}

#[test]
fn unknown_service_is_refused() {
    let r = refusal(decide(
        &Rules::default(),
        &Calendar::default(),
        d(2014, 5, 5),
        &code("PISCINE"),
        Action::Book,
        utc("2014-04-01T08:00:00Z"),
    ));
    assert_eq!(r.reason, RefusalReason::UnknownService);
    assert_eq!(
        r.sentence_fr(Action::Book),
        "La prestation « PISCINE » n'existe pas."
    );
}

#[test]
fn rules_with_other_day_counts() {
    // A Saturday service with a same-day rule: the office does not work on Saturdays, so
    // its deadline falls on the Friday. A "2 working days" rule skips the weekend.
    let services = vec![
        Service {
            code: code("SAMEDI"),
            label: "Centre de loisirs".to_owned(),
            days: Weekdays::from_days([chrono::Weekday::Sat]),
            phone_key: PhoneKey::new(5).unwrap(),
            deadline: DeadlineRule {
                working_days_before: 0,
                at: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            },
        },
        Service {
            code: code("SORTIE"),
            label: "Sortie".to_owned(),
            days: Weekdays::SCHOOL_WEEK,
            phone_key: PhoneKey::new(6).unwrap(),
            deadline: DeadlineRule {
                working_days_before: 2,
                at: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            },
        },
    ];
    let rules = Rules::new(services, Paris).unwrap();
    let cal = Calendar::default();
    assert_eq!(
        deadline_for(&rules, &cal, d(2014, 5, 10), &code("SAMEDI"), Action::Book),
        Some(utc("2014-05-09T10:00:00Z"))
    );
    assert_eq!(
        deadline_for(&rules, &cal, d(2014, 5, 13), &code("SORTIE"), Action::Book),
        Some(utc("2014-05-09T08:00:00Z")),
        "Tuesday 13 minus two working days is Friday 9"
    );
}

#[test]
fn a_calendar_without_working_days_gives_no_deadline() {
    let all_closed = Calendar::default().with_closures(
        d(2014, 1, 1)
            .iter_days()
            .take_while(|day| *day <= d(2015, 6, 1)),
    );
    let r = refusal(decide(
        &Rules::default(),
        &all_closed,
        d(2015, 6, 2),
        &repas(),
        Action::Book,
        utc("2015-01-01T00:00:00Z"),
    ));
    assert_eq!(r.reason, RefusalReason::NoWorkingDay);
}

#[test]
fn the_next_service_day_skips_weekends_holidays_and_closures_but_not_deadlines() {
    let rules = Rules::default();
    let now = utc("2026-05-13T12:00:00Z");
    // Thursday 14 May 2026 is Ascension (public holiday), Friday 15 closed by the town:
    // after Wednesday 13, Monday 18 is next, whatever its deadline says.
    let mut cal = Calendar::default();
    cal.closures.insert(d(2026, 5, 15));
    assert_eq!(
        next_service_day(&rules, &cal, d(2026, 5, 14), d(2026, 7, 1), now),
        Some(d(2026, 5, 18))
    );
    // A day whose deadline has passed still runs: tomorrow is tomorrow.
    let late = utc("2026-05-18T09:00:00Z");
    assert_eq!(
        next_service_day(&rules, &cal, d(2026, 5, 18), d(2026, 5, 18), late),
        Some(d(2026, 5, 18))
    );
    // Nothing within the horizon.
    assert_eq!(
        next_service_day(&rules, &cal, d(2026, 5, 14), d(2026, 5, 17), now),
        None
    );
}
