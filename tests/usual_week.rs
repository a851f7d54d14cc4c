//! The usual week (semaine type): setting it books every open matching cell up to the end
//! of next month through the booking service, skipping holidays, closures and closed
//! deadlines with their reasons; the job books later weeks as they come and never a day
//! the family cancelled; stopping cancels nothing unless asked. Each test runs on SQLite
//! and on PostgreSQL.

mod store_support;

use chrono::{DateTime, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Paris;
use ivr::booking::deadline::RefusalReason;
use ivr::booking::model::{Action, Channel, ServiceCode};
use ivr::booking::usual_week::{Day, Rhythm, UsualWeek};
use ivr::service::booking::{BookingOutcome, BookingService};
use ivr::service::usual_weeks::{
    self, CellResult, RunTrigger, USUAL_WEEK_ACTOR, UsualWeekError, book_usual_weeks,
};
use ivr::store::testing::TestDb;
use store_support::{Families, default_service, holiday, seed_families};

ivr::both_backends!(
    setting_books_next_month_and_says_what_it_skipped,
    a_pattern_the_town_cannot_run_writes_nothing,
    the_job_books_new_weeks_but_not_a_cancelled_day,
    stopping_cancels_only_when_asked_and_only_its_own,
    every_other_week_books_one_week_in_two_from_the_first_days,
);

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn svc(s: &str) -> ServiceCode {
    ServiceCode::parse(s).unwrap()
}

fn paris(y: i32, m: u32, day: u32, h: u32) -> DateTime<Utc> {
    Paris
        .with_ymd_and_hms(y, m, day, h, 0, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// Thursday 3 December 2026, 09:00 in town: today's meal closed yesterday at 10:00.
fn set_at() -> DateTime<Utc> {
    paris(2026, 12, 3, 9)
}

/// Cantine lundi, mardi, jeudi; Accueil Soir mardi; from today to the end of the year.
fn the_pattern() -> UsualWeek {
    UsualWeek {
        cells: [
            (svc("REPAS"), Day(Weekday::Mon)),
            (svc("REPAS"), Day(Weekday::Tue)),
            (svc("REPAS"), Day(Weekday::Thu)),
            (svc("SOIR"), Day(Weekday::Tue)),
        ]
        .into_iter()
        .collect(),
        first_day: d(2026, 12, 3),
        last_day: None,
        rhythm: Rhythm::EveryWeek,
    }
}

/// The families, the default service, the Christmas holidays and a closure on Monday
/// 11 January 2027.
async fn town(db: &TestDb) -> anyhow::Result<(BookingService, Families)> {
    let service = default_service(&db.store).await?;
    let families = seed_families(&db.store).await?;
    service
        .add_school_holidays(&[holiday("Vacances de Noël", d(2026, 12, 19), d(2027, 1, 3))])
        .await?;
    service
        .add_closure(d(2027, 1, 11), "Fermeture exceptionnelle")
        .await?;
    Ok((service, families))
}

/// The pattern's cells from 4 to 31 January 2027, bar the closed Monday 11th.
fn january_cells() -> Vec<(NaiveDate, ServiceCode)> {
    let mut out = Vec::new();
    for day in [4, 5, 7, 12, 14, 18, 19, 21, 25, 26, 28] {
        out.push((d(2027, 1, day), svc("REPAS")));
    }
    for day in [5, 12, 19, 26] {
        out.push((d(2027, 1, day), svc("SOIR")));
    }
    out.sort();
    out
}

async fn setting_books_next_month_and_says_what_it_skipped(db: &TestDb) -> anyhow::Result<()> {
    let (service, f) = town(db).await?;
    // Monday 7 December's meal was booked by hand before.
    let earlier = service
        .change(
            f.angeline,
            d(2026, 12, 7),
            &svc("REPAS"),
            Action::Book,
            Channel::Phone,
            "téléphone",
            paris(2026, 12, 1, 9),
        )
        .await?;
    assert_eq!(earlier, BookingOutcome::Booked);

    let applied =
        usual_weeks::set(&service, f.angeline, &the_pattern(), "parent", set_at()).await?;
    assert_eq!(
        (applied.from, applied.until),
        (d(2026, 12, 3), d(2027, 1, 31))
    );
    assert_eq!(
        applied.last_day,
        d(2027, 6, 30),
        "no summer holidays known: 30 June"
    );
    let count =
        |want: fn(&CellResult) -> bool| applied.cells.iter().filter(|c| want(&c.result)).count();
    assert_eq!(count(|r| matches!(r, CellResult::Booked)), 22);
    assert_eq!(count(|r| matches!(r, CellResult::AlreadyBooked)), 1);
    assert_eq!(count(|r| matches!(r, CellResult::Skipped(_))), 10);
    let reason = |date: NaiveDate| {
        applied
            .cells
            .iter()
            .find(|c| c.date == date)
            .map(|c| c.result.clone())
            .expect("asked for")
    };
    match reason(d(2026, 12, 3)) {
        CellResult::Skipped(r) => {
            assert_eq!(r.reason, RefusalReason::DeadlinePassed);
            assert_eq!(
                r.sentence_fr(Action::Book),
                "Les inscriptions pour le jeudi 3 décembre sont closes depuis le mercredi 2 décembre à 10h00."
            );
        }
        other => panic!("3 December: {other:?}"),
    }
    assert!(matches!(reason(d(2026, 12, 21)), CellResult::Skipped(r)
        if r.reason == RefusalReason::SchoolHoliday { name: "Vacances de Noël".into() }));
    assert!(
        matches!(reason(d(2027, 1, 11)), CellResult::Skipped(r) if r.reason == RefusalReason::TownClosed)
    );

    // Next month is filled, and only with what the pattern asks for.
    let january = db
        .store
        .bookings_between(f.angeline, d(2027, 1, 1), d(2027, 1, 31))
        .await?;
    assert_eq!(january, january_cells());
    assert!(
        db.store
            .bookings_between(f.angeline, d(2027, 2, 1), d(2027, 6, 30))
            .await?
            .is_empty()
    );
    assert!(
        db.store
            .bookings_between(f.theo, d(2026, 12, 1), d(2027, 6, 30))
            .await?
            .is_empty(),
        "per child"
    );
    // Each booking is in the history, on the web, as the parent's pattern.
    let history = db.store.history(f.angeline, 100).await?;
    assert_eq!(history.len(), 23);
    assert!(
        history[..22]
            .iter()
            .all(|h| h.channel == Channel::Web && h.actor == USUAL_WEEK_ACTOR)
    );
    assert!(
        db.store
            .usual_week(f.angeline)
            .await?
            .is_some_and(|w| w.stopped_at.is_none())
    );
    // Staff count it while it runs, not once its school year is over.
    assert_eq!(usual_weeks::staff_summary(&service, set_at()).await?.0, 1);
    assert_eq!(db.store.active_usual_weeks(d(2027, 7, 2)).await?.len(), 1);
    assert_eq!(
        usual_weeks::staff_summary(&service, paris(2027, 7, 2, 9))
            .await?
            .0,
        0,
        "the school year is over"
    );
    Ok(())
}

async fn a_pattern_the_town_cannot_run_writes_nothing(db: &TestDb) -> anyhow::Result<()> {
    let (service, f) = town(db).await?;
    let mut wednesday = the_pattern();
    wednesday.cells.insert((svc("REPAS"), Day(Weekday::Wed)));
    let err = usual_weeks::set(&service, f.angeline, &wednesday, "parent", set_at())
        .await
        .unwrap_err();
    assert!(
        matches!(err, UsualWeekError::NotServiceDay { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "pas de cantine le mercredi : cette prestation n'a pas lieu ce jour-là"
    );
    let mut unknown = the_pattern();
    unknown.cells.insert((svc("PISCINE"), Day(Weekday::Mon)));
    let err = usual_weeks::set(&service, f.angeline, &unknown, "parent", set_at())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "la prestation « PISCINE » n'existe pas");
    let mut backwards = the_pattern();
    backwards.last_day = Some(d(2026, 12, 1));
    assert!(matches!(
        usual_weeks::set(&service, f.angeline, &backwards, "parent", set_at()).await,
        Err(UsualWeekError::EndBeforeStart)
    ));
    let empty = UsualWeek {
        cells: Default::default(),
        ..the_pattern()
    };
    assert!(matches!(
        usual_weeks::set(&service, f.angeline, &empty, "parent", set_at()).await,
        Err(UsualWeekError::NoCell)
    ));
    assert_eq!(db.store.usual_week(f.angeline).await?, None);
    assert!(
        db.store
            .bookings_between(f.angeline, d(2026, 12, 1), d(2027, 6, 30))
            .await?
            .is_empty()
    );
    assert!(db.store.history(f.angeline, 10).await?.is_empty());
    Ok(())
}

async fn the_job_books_new_weeks_but_not_a_cancelled_day(db: &TestDb) -> anyhow::Result<()> {
    let (service, f) = town(db).await?;
    usual_weeks::set(&service, f.angeline, &the_pattern(), "parent", set_at()).await?;
    // A pass an hour later books nothing: today's meal closed yesterday at 10:00, the
    // other cells left are holidays and the closed Monday.
    let early = book_usual_weeks(&service, RunTrigger::Startup, paris(2026, 12, 3, 10)).await?;
    assert_eq!((early.booked, early.skipped), (0, 10));
    assert!(
        !db.store
            .is_booked(f.angeline, d(2026, 12, 3), &svc("REPAS"))
            .await?,
        "never past a deadline"
    );
    // The parent cancels Tuesday 12 January's meal the next day: the pattern is kept.
    let cancel = service
        .change(
            f.angeline,
            d(2027, 1, 12),
            &svc("REPAS"),
            Action::Cancel,
            Channel::Web,
            "parent",
            paris(2026, 12, 4, 9),
        )
        .await?;
    assert_eq!(cancel, BookingOutcome::Cancelled);
    assert_eq!(db.store.active_usual_weeks(d(2026, 12, 4)).await?.len(), 1);

    // The night of 1 January: February comes into reach.
    let night = paris(2027, 1, 1, 1);
    let run = book_usual_weeks(&service, RunTrigger::Night, night).await?;
    assert_eq!(run.patterns, 1);
    assert_eq!(
        run.booked, 16,
        "February's Mondays, Tuesdays (meal and evening) and Thursdays"
    );
    assert_eq!(run.kept_cancelled, 1, "12 January stays cancelled");
    assert_eq!(run.skipped, 1, "the closed 11 January");
    assert_eq!(run.failed, 0);
    assert!(
        !db.store
            .is_booked(f.angeline, d(2027, 1, 12), &svc("REPAS"))
            .await?
    );
    assert_eq!(
        db.store
            .bookings_between(f.angeline, d(2027, 2, 1), d(2027, 2, 28))
            .await?
            .len(),
        16
    );
    assert!(
        db.store
            .bookings_between(f.angeline, d(2027, 3, 1), d(2027, 6, 30))
            .await?
            .is_empty()
    );
    // Staff see the pass.
    let last = db.store.last_usual_week_run().await?.expect("recorded");
    assert_eq!((last.trigger.as_str(), last.booked), ("nuit", 16));

    // A second pass books nothing more; a closure added meanwhile is respected.
    service.add_closure(d(2027, 3, 1), "Pont").await?;
    let again = book_usual_weeks(&service, RunTrigger::Closure, night).await?;
    assert_eq!((again.booked, again.kept_cancelled), (0, 1));
    assert_eq!(db.store.history(f.angeline, 100).await?.len(), 23 + 1 + 16);
    // A month later March comes, without its closed Monday nor Easter Monday (29th).
    let run = book_usual_weeks(&service, RunTrigger::Night, paris(2027, 2, 1, 1)).await?;
    assert_eq!(
        run.booked,
        5 + 5 + 5 + 4 - 2,
        "March 2027's cells, bar the 1st and the 29th"
    );
    assert!(
        !db.store
            .is_booked(f.angeline, d(2027, 3, 1), &svc("REPAS"))
            .await?
    );
    Ok(())
}

async fn stopping_cancels_only_when_asked_and_only_its_own(db: &TestDb) -> anyhow::Result<()> {
    let (service, f) = town(db).await?;
    usual_weeks::set(&service, f.angeline, &the_pattern(), "parent", set_at()).await?;
    let night = paris(2027, 1, 1, 1);
    book_usual_weeks(&service, RunTrigger::Night, night).await?;
    // Friday 5 February booked by hand: not the pattern's.
    service
        .change(
            f.angeline,
            d(2027, 2, 5),
            &svc("REPAS"),
            Action::Book,
            Channel::Web,
            "parent",
            night,
        )
        .await?;
    let future = |db: &TestDb| {
        let store = db.store.clone();
        let child = f.angeline;
        async move {
            store
                .bookings_between(child, d(2027, 1, 1), d(2027, 6, 30))
                .await
        }
    };
    let before = future(db).await?;
    assert_eq!(before.len(), 15 + 16 + 1);

    let stopped = usual_weeks::stop(&service, f.angeline, false, night).await?;
    assert!(stopped.was_running && stopped.cancelled.is_empty());
    assert_eq!(future(db).await?, before, "stopping cancels nothing");
    assert!(db.store.active_usual_weeks(d(2027, 1, 1)).await?.is_empty());
    let run = book_usual_weeks(&service, RunTrigger::Night, paris(2027, 2, 1, 1)).await?;
    assert_eq!(
        (run.patterns, run.booked),
        (0, 0),
        "a stopped pattern books no more"
    );

    // Asked: its future bookings go, each against its deadline; the hand-made one stays.
    usual_weeks::set(&service, f.angeline, &the_pattern(), "parent", night).await?;
    let stopped = usual_weeks::stop(&service, f.angeline, true, night).await?;
    assert!(stopped.was_running);
    assert_eq!(
        stopped.kept.len(),
        1,
        "Monday 4 January closed on 31 December at 10:00"
    );
    assert_eq!(stopped.kept[0].0, d(2027, 1, 4));
    assert_eq!(stopped.cancelled.len(), 14 + 16);
    assert_eq!(
        future(db).await?,
        vec![(d(2027, 1, 4), svc("REPAS")), (d(2027, 2, 5), svc("REPAS"))]
    );
    Ok(())
}

async fn every_other_week_books_one_week_in_two_from_the_first_days(
    db: &TestDb,
) -> anyhow::Result<()> {
    let (service, f) = town(db).await?;
    let pattern = UsualWeek {
        first_day: d(2027, 1, 4),
        last_day: Some(d(2027, 1, 31)),
        rhythm: Rhythm::EveryOtherWeek,
        ..the_pattern()
    };
    let applied = usual_weeks::set(&service, f.theo, &pattern, "parent", set_at()).await?;
    assert!(applied.cells.iter().all(|c| c.result == CellResult::Booked));
    let booked = db
        .store
        .bookings_between(f.theo, d(2026, 12, 1), d(2027, 6, 30))
        .await?;
    let days: Vec<u32> = booked
        .iter()
        .map(|(day, _)| chrono::Datelike::day(day))
        .collect();
    // The weeks of 4 and 18 January; not those of 11 and 25 January.
    assert_eq!(days, [4, 5, 5, 7, 18, 19, 19, 21]);
    assert!(
        db.store
            .bookings_between(f.angeline, d(2027, 1, 1), d(2027, 1, 31))
            .await?
            .is_empty()
    );
    Ok(())
}
