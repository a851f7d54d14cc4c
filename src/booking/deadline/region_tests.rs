//! The engine in the regions that keep public holidays of their own: their days are refused
//! with their names, and "the previous working day" steps back over them. Instants are
//! written in UTC so that the expected values do not go through the engine's zone code.

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::booking::region::Region;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn repas() -> ServiceCode {
    ServiceCode::parse("REPAS").unwrap()
}

fn in_region(region: Region) -> Calendar {
    Calendar::default().in_region(region)
}

#[test]
fn good_friday_is_refused_in_alsace_moselle_and_open_in_metropole() {
    let rules = Rules::default();
    let good_friday = d(2026, 4, 3);
    let now = utc("2026-03-20T08:00:00Z");

    let decision = decide(
        &rules,
        &in_region(Region::AlsaceMoselle),
        good_friday,
        &repas(),
        Action::Book,
        now,
    );
    let Decision::Refused(r) = decision else {
        panic!("Good Friday should be refused in Alsace-Moselle: {decision:?}");
    };
    assert_eq!(
        r.reason,
        RefusalReason::PublicHoliday {
            name: "Vendredi saint".to_owned()
        }
    );
    assert_eq!(r.deadline, None);
    assert_eq!(
        r.sentence_fr(Action::Book),
        "Pas de cantine le vendredi 3 avril, jour férié (Vendredi saint)."
    );

    // In metropolitan France it is an ordinary Friday: open until Thursday 10:00 (UTC+2).
    assert_eq!(
        decide(
            &rules,
            &in_region(Region::Metropole),
            good_friday,
            &repas(),
            Action::Book,
            now,
        ),
        Decision::Open {
            deadline: utc("2026-04-02T08:00:00Z")
        }
    );
}

#[test]
fn saint_stephen_moves_the_deadline_back_in_alsace_moselle() {
    // Monday 29 December 2025: its meal closes the previous working day at 10:00 (UTC+1).
    // Friday 26 is Saint-Étienne in Alsace-Moselle and Thursday 25 is Noël everywhere, so
    // there the deadline is Wednesday 24.
    let monday = d(2025, 12, 29);
    let deadline = |region| {
        deadline_for(
            &Rules::default(),
            &in_region(region),
            monday,
            &repas(),
            Action::Book,
        )
    };
    assert_eq!(
        deadline(Region::Metropole),
        Some(utc("2025-12-26T09:00:00Z"))
    );
    assert_eq!(
        deadline(Region::AlsaceMoselle),
        Some(utc("2025-12-24T09:00:00Z"))
    );
}

#[test]
fn abolition_day_moves_the_deadline_back_and_is_refused_in_guadeloupe() {
    // A town of Guadeloupe writes its deadlines in its own time (UTC-4, no summer time).
    let rules = Rules::new(
        Rules::default().services().to_vec(),
        chrono_tz::America::Guadeloupe,
    )
    .unwrap();
    let guadeloupe = in_region(Region::Guadeloupe);
    // Thursday 28 May 2026: Wednesday 27 is the abolition of slavery, so the meal closes
    // on Tuesday 26 at 10:00, where elsewhere it closes on Wednesday.
    let thursday = d(2026, 5, 28);
    assert_eq!(
        deadline_for(&rules, &guadeloupe, thursday, &repas(), Action::Book),
        Some(utc("2026-05-26T14:00:00Z"))
    );
    assert_eq!(
        deadline_for(
            &rules,
            &in_region(Region::Martinique),
            thursday,
            &repas(),
            Action::Book
        ),
        Some(utc("2026-05-27T14:00:00Z"))
    );

    // In 2027 the 27th is a Thursday, a service day: refused, with the holiday's name.
    let decision = decide(
        &rules,
        &guadeloupe,
        d(2027, 5, 27),
        &repas(),
        Action::Cancel,
        utc("2027-05-01T12:00:00Z"),
    );
    let Decision::Refused(r) = decision else {
        panic!("27 May should be refused in Guadeloupe: {decision:?}");
    };
    assert_eq!(
        r.reason,
        RefusalReason::PublicHoliday {
            name: "Abolition de l'esclavage".to_owned()
        }
    );
    assert_eq!(
        r.sentence_fr(Action::Cancel),
        "Pas de cantine le jeudi 27 mai, jour férié (Abolition de l'esclavage)."
    );
}
