//! The booking service every channel uses: login and its throttling, book and cancel with
//! the deadline check in the same transaction, idempotent outcomes, history, planning,
//! staff functions and the demo seeding. Each test runs on SQLite and on PostgreSQL.

mod store_support;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ivr::booking::calendar::{ActionScope, Override, SchoolHoliday, ServiceScope};
use ivr::booking::deadline::{Decision, RefusalReason};
use ivr::booking::model::{Action, Channel, ChildCode, ChildId, PayerCode, PayerId, ServiceCode};
use ivr::service::booking::{BookingError, BookingOutcome, BookingService, CellChange};
use ivr::service::login::LoginError;
use ivr::store::testing::TestDb;
use store_support::{Families, assert_head_counts, default_service, seed_families};

ivr::both_backends!(
    login_opens_the_childs_planning,
    wrong_pairs_look_the_same,
    failures_slow_down_then_lock_out,
    child_code_is_locked_across_sources,
    success_keeps_the_failures,
    book_and_cancel_are_idempotent,
    past_deadline_is_refused_and_writes_nothing,
    database_closure_moves_the_deadline,
    database_override_refuses_with_its_sentence,
    batch_is_one_transaction_at_one_instant,
    batch_rolls_back_on_error,
    planning_shows_state_and_decisions,
    children_are_only_the_payers,
    staff_functions,
    demo_seed_is_idempotent,
    database_school_holiday_refuses_with_its_name,
    demo_seeds_the_school_year_and_books_around_it,
    changes_and_refused_logins_are_counted_by_channel,
    the_configured_region_reaches_every_channel,
);

/// The instant most tests run at: Monday 4 May 2026, 09:00 in Paris.
fn monday_9h() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 7, 0, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn svc(s: &str) -> ServiceCode {
    ServiceCode::parse(s).unwrap()
}

fn codes(child: &str, payer: &str) -> (ChildCode, PayerCode) {
    (
        ChildCode::parse(child).unwrap(),
        PayerCode::parse(payer).unwrap(),
    )
}

/// `action` on `service` for `child` on `day` through `channel`, at `at`: by the parent on
/// the web, or by phone.
async fn change(
    s: &BookingService,
    channel: Channel,
    child: ChildId,
    day: NaiveDate,
    service: &str,
    action: Action,
    at: DateTime<Utc>,
) -> Result<BookingOutcome, BookingError> {
    let actor = if channel == Channel::Phone {
        "téléphone"
    } else {
        "parent"
    };
    s.change(child, day, &svc(service), action, channel, actor, at)
        .await
}

struct Family {
    service: BookingService,
    payer: PayerId,
    angeline: ChildId,
    theo: ChildId,
    other_child: ChildId,
}

/// The seed's two families ([`seed_families`]) and the default booking service.
async fn family(db: &TestDb) -> anyhow::Result<Family> {
    let service = default_service(&db.store).await?;
    let Families {
        payer,
        angeline,
        theo,
        other_child,
        ..
    } = seed_families(&db.store).await?;
    Ok(Family {
        service,
        payer,
        angeline,
        theo,
        other_child,
    })
}

async fn login_opens_the_childs_planning(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let (c, p) = codes("3012", "770021");
    let session = f.service.login("ip:127.0.0.1", &c, &p, monday_9h()).await?;
    assert_eq!((session.payer, session.child), (f.payer, f.theo));
    Ok(())
}

async fn wrong_pairs_look_the_same(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let now = monday_9h();
    let mut messages = Vec::new();
    for (child, payer) in [("9999", "770021"), ("3011", "880000"), ("4000", "770021")] {
        let (c, p) = codes(child, payer);
        let err = f
            .service
            .login(&format!("ip:{child}"), &c, &p, now)
            .await
            .unwrap_err();
        assert!(matches!(err, LoginError::WrongCodes), "{err:?}");
        messages.push(err.to_string());
    }
    assert!(
        messages
            .iter()
            .all(|m| m == "Code enfant ou code payeur incorrect.")
    );
    // The counters never hold a code in clear.
    let keys = db
        .query_texts("SELECT key_hash FROM login_failures")
        .await?;
    assert_eq!(keys.len(), 6, "one per source and one per child code");
    // (A digit run inside a random hex key proves nothing: 64 hex characters hold "3011"
    // about once in a thousand keys, so the keys are checked for what they are instead.)
    for k in &keys {
        assert_eq!(k.len(), 64, "an HMAC-SHA-256 in hex");
        assert!(
            k.chars().all(|c| c.is_ascii_hexdigit()),
            "hex only: no code nor source in clear"
        );
    }
    // Keyed, not a bare SHA-256 of a code, which anyone could reverse over 10,000 codes.
    for secret in ["9999", "3011", "4000", "770021", "880000"] {
        use sha2::{Digest, Sha256};
        let bare: String = Sha256::digest(secret.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(!keys.contains(&bare), "{secret} hashed without a key");
    }
    Ok(())
}

async fn failures_slow_down_then_lock_out(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let (good_c, good_p) = codes("3011", "770021");
    let src = "phone:0476549985";
    let mut now = monday_9h();
    // Different child codes, so only the source counter grows.
    for i in 1..=3 {
        let (c, p) = codes(&format!("90{i}"), "770021");
        let err = f.service.login(src, &c, &p, now).await.unwrap_err();
        assert!(
            matches!(err, LoginError::WrongCodes),
            "attempt {i}: {err:?}"
        );
    }
    // Third failure: wait 2 s, even with the right codes.
    let err = f
        .service
        .login(src, &good_c, &good_p, now + Duration::seconds(1))
        .await
        .unwrap_err();
    match err {
        LoginError::TooManyAttempts { retry_after } => {
            assert_eq!(retry_after, now + Duration::seconds(2))
        }
        other => panic!("expected a slow-down, got {other:?}"),
    }
    // Failures 4 to 10, each after the previous wait.
    for i in 4..=10 {
        now += Duration::seconds(61);
        let (c, p) = codes(&format!("90{i}"), "770021");
        let err = f.service.login(src, &c, &p, now).await.unwrap_err();
        assert!(
            matches!(err, LoginError::WrongCodes),
            "attempt {i}: {err:?}"
        );
    }
    let locked_at = now;
    let err = f
        .service
        .login(src, &good_c, &good_p, now + Duration::minutes(14))
        .await
        .unwrap_err();
    match err {
        LoginError::TooManyAttempts { retry_after } => {
            assert_eq!(retry_after, locked_at + Duration::minutes(15))
        }
        other => panic!("expected a lockout, got {other:?}"),
    }
    // Another source is not concerned.
    f.service
        .login(
            "phone:0600000000",
            &good_c,
            &good_p,
            now + Duration::minutes(1),
        )
        .await?;
    // After the lockout, the right codes open again.
    f.service
        .login(src, &good_c, &good_p, locked_at + Duration::minutes(15))
        .await?;
    Ok(())
}

async fn child_code_is_locked_across_sources(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let mut now = monday_9h();
    // Ten sources each try one wrong payer code for child 3011, a minute apart (attempts
    // refused during a slow-down are not even looked at, so they are not counted).
    for i in 0..10 {
        now += Duration::seconds(61);
        let (c, p) = codes("3011", &format!("1{i}"));
        let err = f
            .service
            .login(&format!("ip:10.0.0.{i}"), &c, &p, now)
            .await
            .unwrap_err();
        assert!(
            matches!(err, LoginError::WrongCodes),
            "attempt {i}: {err:?}"
        );
    }
    let (c, p) = codes("3011", "770021");
    let err = f
        .service
        .login("ip:10.9.9.9", &c, &p, now + Duration::minutes(1))
        .await
        .unwrap_err();
    match err {
        LoginError::TooManyAttempts { retry_after } => {
            assert_eq!(retry_after, now + Duration::minutes(15))
        }
        other => panic!("expected a lockout, got {other:?}"),
    }
    // Théo, same payer, is not locked.
    let (c, p) = codes("3012", "770021");
    f.service
        .login("ip:10.9.9.9", &c, &p, now + Duration::minutes(1))
        .await?;
    Ok(())
}

/// Issue 13, finding 7: wrong ×2, a valid login, wrong ×2… used to go on forever because
/// the success cleared the source's counter. Now the failures stay: the third one starts
/// the slow-down whatever logins came between.
async fn success_keeps_the_failures(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let mut now = monday_9h();
    let src = "ip:192.0.2.1";
    let (good_c, good_p) = codes("3011", "770021");
    for _ in 0..2 {
        let (c, p) = codes("3011", "1");
        let err = f.service.login(src, &c, &p, now).await.unwrap_err();
        assert!(matches!(err, LoginError::WrongCodes), "{err:?}");
    }
    f.service.login(src, &good_c, &good_p, now).await?;
    // The third failure is counted as the third: the slow-down starts.
    let (c, p) = codes("3011", "1");
    let err = f.service.login(src, &c, &p, now).await.unwrap_err();
    assert!(matches!(err, LoginError::WrongCodes), "{err:?}");
    let err = f.service.login(src, &c, &p, now).await.unwrap_err();
    assert!(
        matches!(err, LoginError::TooManyAttempts { .. }),
        "the success did not reset the count: {err:?}"
    );
    let err = f
        .service
        .login(src, &good_c, &good_p, now)
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::TooManyAttempts { .. }), "{err:?}");
    // Failures long ago are forgotten.
    now += Duration::hours(2);
    let err = f.service.login(src, &c, &p, now).await.unwrap_err();
    assert!(matches!(err, LoginError::WrongCodes), "{err:?}");
    f.service.login(src, &good_c, &good_p, now).await?;
    Ok(())
}

async fn book_and_cancel_are_idempotent(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let s = &f.service;
    let now = monday_9h();
    let tue = date(2026, 5, 5);
    let repas = svc("REPAS");
    let ch = |a| s.change(f.angeline, tue, &repas, a, Channel::Web, "parent", now);
    assert_eq!(ch(Action::Book).await?, BookingOutcome::Booked);
    assert_eq!(ch(Action::Book).await?, BookingOutcome::AlreadyBooked);
    assert_eq!(
        s.change(
            f.angeline,
            tue,
            &repas,
            Action::Cancel,
            Channel::Phone,
            "téléphone",
            now + Duration::minutes(5)
        )
        .await?,
        BookingOutcome::Cancelled
    );
    assert_eq!(ch(Action::Cancel).await?, BookingOutcome::NotBooked);
    let history = s.history(f.angeline, 40).await?;
    assert_eq!(history.len(), 2, "only real changes are recorded");
    assert_eq!(history[0].action, Action::Cancel);
    assert_eq!(history[0].channel, Channel::Phone);
    assert_eq!(history[0].actor, "téléphone");
    assert_eq!(history[0].at, now + Duration::minutes(5));
    assert_eq!(history[1].action, Action::Book);
    assert_eq!(history[1].channel, Channel::Web);
    assert_eq!((history[1].date, &history[1].service), (tue, &repas));
    assert!(s.history(f.theo, 40).await?.is_empty());
    Ok(())
}

async fn past_deadline_is_refused_and_writes_nothing(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let s = &f.service;
    // Monday 4 May 10:00 in Paris = 08:00 UTC: Tuesday's meal closes then.
    let ten = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
    let out = change(
        s,
        Channel::Web,
        f.angeline,
        date(2026, 5, 5),
        "REPAS",
        Action::Book,
        ten,
    )
    .await?;
    let BookingOutcome::Refused(r) = &out else {
        panic!("expected a refusal, got {out:?}")
    };
    assert_eq!(r.reason, RefusalReason::DeadlinePassed);
    assert_eq!(r.deadline, Some(ten));
    assert_eq!(
        out.sentence_fr(Action::Book),
        "Les inscriptions pour le mardi 5 mai sont closes depuis le lundi 4 mai à 10h00."
    );
    // Wednesday: no service.
    let out = change(
        s,
        Channel::Phone,
        f.angeline,
        date(2026, 5, 6),
        "REPAS",
        Action::Book,
        ten,
    )
    .await?;
    assert!(matches!(&out, BookingOutcome::Refused(r) if r.reason == RefusalReason::NotServiceDay));
    assert!(
        !db.store
            .is_booked(f.angeline, date(2026, 5, 5), &svc("REPAS"))
            .await?
    );
    assert!(s.history(f.angeline, 40).await?.is_empty());
    // Evening care the same day is still open until 16:00.
    let out = change(
        s,
        Channel::Web,
        f.angeline,
        date(2026, 5, 4),
        "SOIR",
        Action::Book,
        ten,
    )
    .await?;
    assert_eq!(out, BookingOutcome::Booked);
    Ok(())
}

async fn database_closure_moves_the_deadline(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let s = &f.service;
    let monday = date(2026, 6, 8);
    // Thursday 4 June, 11:00 in Paris: Monday's meal normally closes on Friday at 10:00.
    let thursday_11h = Utc.with_ymd_and_hms(2026, 6, 4, 9, 0, 0).unwrap();
    let planning = s.week(f.angeline, monday, 1, thursday_11h).await?;
    assert!(planning.weeks[0].days[0].cells[0].decision.is_open());
    // Staff close Friday 5 June: the deadline moves back to Thursday 10:00.
    s.add_closure(date(2026, 6, 5), "Pont").await?;
    let out = change(
        s,
        Channel::Web,
        f.angeline,
        monday,
        "REPAS",
        Action::Book,
        thursday_11h,
    )
    .await?;
    let BookingOutcome::Refused(r) = out else {
        panic!("expected a refusal")
    };
    assert_eq!(r.reason, RefusalReason::DeadlinePassed);
    assert_eq!(
        r.deadline,
        Some(Utc.with_ymd_and_hms(2026, 6, 4, 8, 0, 0).unwrap())
    );
    // The closed Friday itself has no service.
    let out = change(
        s,
        Channel::Web,
        f.angeline,
        date(2026, 6, 5),
        "SOIR",
        Action::Book,
        thursday_11h,
    )
    .await?;
    assert!(matches!(out, BookingOutcome::Refused(r) if r.reason == RefusalReason::TownClosed));
    assert!(s.remove_closure(date(2026, 6, 5)).await?);
    let out = change(
        s,
        Channel::Web,
        f.angeline,
        monday,
        "REPAS",
        Action::Book,
        thursday_11h,
    )
    .await?;
    assert_eq!(out, BookingOutcome::Booked);
    Ok(())
}

async fn database_override_refuses_with_its_sentence(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let s = &f.service;
    // The seed's case, in 2020: Ascension on Thursday 21 May, cancellations for Monday 25
    // May closed since Wednesday 20 May at 10:15.
    let monday = date(2020, 5, 25);
    let sentence = "ATTENTION! En raison du week-end de l'Ascension, les annulations pour le \
                    lundi 25 mai NE SONT PLUS POSSIBLES depuis mercredi 20 mai à 10H15.";
    let booked_at = Utc.with_ymd_and_hms(2020, 5, 18, 7, 0, 0).unwrap();
    assert_eq!(
        change(
            s,
            Channel::Web,
            f.angeline,
            monday,
            "REPAS",
            Action::Book,
            booked_at
        )
        .await?,
        BookingOutcome::Booked
    );
    let id = s
        .add_override(&Override {
            date: monday,
            services: ServiceScope::All,
            actions: ActionScope::Cancel,
            deadline: Utc.with_ymd_and_hms(2020, 5, 20, 8, 15, 0).unwrap(),
            message: sentence.into(),
        })
        .await?;
    let wednesday_11h = Utc.with_ymd_and_hms(2020, 5, 20, 9, 0, 0).unwrap();
    let out = change(
        s,
        Channel::Phone,
        f.angeline,
        monday,
        "REPAS",
        Action::Cancel,
        wednesday_11h,
    )
    .await?;
    assert_eq!(out.sentence_fr(Action::Cancel), sentence);
    // Booking is not concerned by this override: Théo can still book.
    assert_eq!(
        change(
            s,
            Channel::Phone,
            f.theo,
            monday,
            "REPAS",
            Action::Book,
            wednesday_11h
        )
        .await?,
        BookingOutcome::Booked
    );
    let listed = s.overrides(monday, monday).await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    assert!(s.remove_override(id).await?);
    assert_eq!(
        change(
            s,
            Channel::Phone,
            f.angeline,
            monday,
            "REPAS",
            Action::Cancel,
            wednesday_11h
        )
        .await?,
        BookingOutcome::Cancelled
    );
    // An override naming a service the town does not have is refused.
    let err = s
        .add_override(&Override {
            date: monday,
            services: ServiceScope::Only(vec![svc("PISCINE")]),
            actions: ActionScope::Both,
            deadline: wednesday_11h,
            message: "x".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, BookingError::Invalid(_)));
    assert!(err.to_string().contains("PISCINE"), "{err}");
    Ok(())
}

async fn batch_is_one_transaction_at_one_instant(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let s = &f.service;
    let now = monday_9h();
    change(
        s,
        Channel::Phone,
        f.angeline,
        date(2026, 5, 11),
        "MIDI",
        Action::Book,
        now,
    )
    .await?;
    let changes = vec![
        CellChange {
            date: date(2026, 5, 11),
            service: svc("MIDI"),
            action: Action::Cancel,
        },
        CellChange {
            date: date(2026, 5, 12),
            service: svc("REPAS"),
            action: Action::Book,
        },
        CellChange {
            date: date(2026, 5, 12),
            service: svc("REPAS"),
            action: Action::Book,
        },
        CellChange {
            date: date(2026, 5, 13),
            service: svc("REPAS"),
            action: Action::Book,
        },
        CellChange {
            date: date(2026, 5, 4),
            service: svc("REPAS"),
            action: Action::Book,
        },
        CellChange {
            date: date(2026, 5, 15),
            service: svc("SOIR"),
            action: Action::Cancel,
        },
    ];
    let out = s
        .change_many(f.angeline, &changes, Channel::Web, "parent", now)
        .await?;
    assert_eq!(out[0], BookingOutcome::Cancelled);
    assert_eq!(out[1], BookingOutcome::Booked);
    assert_eq!(
        out[2],
        BookingOutcome::AlreadyBooked,
        "the batch sees its own writes"
    );
    assert!(
        matches!(&out[3], BookingOutcome::Refused(r) if r.reason == RefusalReason::NotServiceDay)
    );
    assert!(
        matches!(&out[4], BookingOutcome::Refused(r) if r.reason == RefusalReason::DeadlinePassed)
    );
    assert_eq!(out[5], BookingOutcome::NotBooked);
    let history = s.history(f.angeline, 40).await?;
    assert_eq!(history.len(), 3);
    assert!(
        history[..2]
            .iter()
            .all(|h| h.at == now && h.channel == Channel::Web)
    );
    assert!(
        s.change_many(f.angeline, &[], Channel::Web, "parent", now)
            .await?
            .is_empty()
    );
    Ok(())
}

async fn batch_rolls_back_on_error(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let s = &f.service;
    let now = monday_9h();
    // A child id that does not exist: the foreign key refuses the second write, and the
    // first one (for the same unknown child) must not remain either.
    let ghost = ChildId(f.other_child.0 + 1000);
    let changes = vec![
        CellChange {
            date: date(2026, 5, 11),
            service: svc("REPAS"),
            action: Action::Book,
        },
        CellChange {
            date: date(2026, 5, 12),
            service: svc("REPAS"),
            action: Action::Book,
        },
    ];
    assert!(
        s.change_many(ghost, &changes, Channel::Web, "parent", now)
            .await
            .is_err()
    );
    assert!(
        db.query_texts("SELECT service FROM bookings")
            .await?
            .is_empty()
    );
    assert!(
        db.query_texts("SELECT actor FROM history")
            .await?
            .is_empty()
    );
    Ok(())
}

async fn planning_shows_state_and_decisions(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let s = &f.service;
    let now = monday_9h();
    change(
        s,
        Channel::Web,
        f.angeline,
        date(2026, 5, 12),
        "REPAS",
        Action::Book,
        now,
    )
    .await?;
    // Any day of the week gives that week; two weeks from Wednesday 6 May.
    let p = s.week(f.angeline, date(2026, 5, 6), 2, now).await?;
    assert_eq!(p.weeks.len(), 2);
    assert_eq!(p.weeks[0].monday, date(2026, 5, 4));
    assert_eq!(p.weeks[0].iso_week, 19);
    assert_eq!(p.weeks[1].monday, date(2026, 5, 11));
    assert_eq!(
        p.weeks[0].days.len(),
        5,
        "Monday to Friday: no weekend service"
    );
    let codes: Vec<_> = p.weeks[0].days[0]
        .cells
        .iter()
        .map(|c| c.service.as_str())
        .collect();
    assert_eq!(codes, ["REPAS", "MATIN", "MIDI", "SOIR"]);
    // Monday 4 May at 9:00: meal closed (Friday 10:00), evening care open until 16:00.
    let monday = &p.weeks[0].days[0];
    assert!(
        matches!(&monday.cells[0].decision, Decision::Refused(r) if r.reason == RefusalReason::DeadlinePassed)
    );
    assert_eq!(
        monday.cells[3].decision,
        Decision::Open {
            deadline: Utc.with_ymd_and_hms(2026, 5, 4, 14, 0, 0).unwrap()
        }
    );
    // Wednesday greyed, Friday 8 May a public holiday.
    let wednesday = &p.weeks[0].days[2];
    assert!(wednesday.cells.iter().all(
        |c| matches!(&c.decision, Decision::Refused(r) if r.reason == RefusalReason::NotServiceDay)
    ));
    let friday = &p.weeks[0].days[4];
    assert!(
        matches!(&friday.cells[0].decision, Decision::Refused(r) if matches!(r.reason, RefusalReason::PublicHoliday { .. }))
    );
    // Tuesday 12 May: booked, so the cell's action is a cancellation, open.
    let tuesday = &p.weeks[1].days[1];
    assert!(tuesday.cells[0].booked);
    assert_eq!(tuesday.cells[0].toggle_action(), Action::Cancel);
    assert!(tuesday.cells[0].decision.is_open());
    assert!(!tuesday.cells[1].booked);
    let booked: usize = p
        .weeks
        .iter()
        .flat_map(|w| &w.days)
        .flat_map(|d| &d.cells)
        .filter(|c| c.booked)
        .count();
    assert_eq!(booked, 1);
    Ok(())
}

async fn children_are_only_the_payers(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let kids = f.service.children(f.payer).await?;
    assert_eq!(
        kids.iter().map(|c| c.full_name()).collect::<Vec<_>>(),
        ["Angéline MARSONE", "Théo MARSONE"]
    );
    assert_eq!(kids[0].class_line(), "CE1 - Mme Formatrice");
    assert_eq!(
        f.service.child(f.payer, f.theo).await?.map(|c| c.id),
        Some(f.theo)
    );
    assert_eq!(f.service.child(f.payer, f.other_child).await?, None);
    Ok(())
}

async fn staff_functions(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let s = &f.service;
    let now = monday_9h();
    assert_eq!(s.town_message().await?, None);
    s.set_town_message(Some("  RAPPEL des délais d'inscriptions  "))
        .await?;
    assert_eq!(
        s.town_message().await?.as_deref(),
        Some("RAPPEL des délais d'inscriptions")
    );
    s.set_town_message(Some("   ")).await?;
    assert_eq!(s.town_message().await?, None);
    let d = date(2026, 5, 12);
    for child in [f.angeline, f.theo, f.other_child] {
        s.change(
            child,
            d,
            &svc("REPAS"),
            Action::Book,
            Channel::Staff,
            "amelie",
            now,
        )
        .await?;
    }
    s.change(
        f.theo,
        d,
        &svc("SOIR"),
        Action::Book,
        Channel::Staff,
        "amelie",
        now,
    )
    .await?;
    assert_head_counts(
        s.head_counts(d).await?,
        &[
            ("École Jules Ferry", "REPAS", 3),
            ("École Jules Ferry", "SOIR", 1),
        ],
    );
    assert!(s.add_closure(d, " ").await.is_err());
    s.add_closure(d, "Grève").await?;
    let err = s.add_closure(d, "Grève").await.unwrap_err();
    assert_eq!(err.to_string(), "la fermeture du 12/05/2026 existe déjà");
    assert_eq!(s.closures(d, d).await?.len(), 1);
    Ok(())
}

async fn demo_seed_is_idempotent(db: &TestDb) -> anyhow::Result<()> {
    use ivr::service::demo;
    let service = default_service(&db.store).await?;
    let now = monday_9h();
    let first = demo::seed(&service, "Mezcalito", "Bienvenue", now).await?;
    assert_eq!((first.payers, first.children), (4, 6));
    assert!(first.bookings > 10, "{first:?}");
    assert_eq!(first.calendar_entries, 2);
    assert_eq!(first.school_holidays, 6, "zone A, 2025-2026");
    let again = demo::seed(&service, "Mezcalito", "Autre", now).await?;
    assert_eq!(
        again,
        demo::DemoSummary::default(),
        "nothing added the second time"
    );
    assert_eq!(service.town_message().await?.as_deref(), Some("Bienvenue"));
    assert_eq!(service.town_name().await?.as_deref(), Some("Mezcalito"));
    let (c, p) = codes("3011", "770021");
    let session = service.login("ip:127.0.0.1", &c, &p, now).await?;
    let angeline = service.child(session.payer, session.child).await?.unwrap();
    assert_eq!(angeline.full_name(), "Angéline MARSONE");
    assert_eq!(angeline.class_line(), "CE1 - Mme Formatrice");
    assert_eq!(angeline.school, "École Jules Ferry");
    assert_eq!(service.children(session.payer).await?.len(), 2);
    let payer = db.store.payer(session.payer).await?.unwrap();
    assert_eq!(payer.email, "laurence.marsone@example.org");
    let planning = service
        .week(session.child, date(2026, 5, 4), 2, now)
        .await?;
    let booked: Vec<_> = planning
        .weeks
        .iter()
        .flat_map(|w| &w.days)
        .flat_map(|d| {
            d.cells
                .iter()
                .filter(|c| c.booked)
                .map(move |c| (d.date, c.service.to_string()))
        })
        .collect();
    // Meals and evening care on Mon, Tue, Thu of this week (Friday 8 May is a holiday),
    // and Mon, Tue of the next (Thursday 14 is Ascension, Friday 15 the demo's bridge).
    assert!(booked.contains(&(date(2026, 5, 4), "REPAS".to_string())));
    assert!(booked.contains(&(date(2026, 5, 12), "SOIR".to_string())));
    assert!(!booked.iter().any(|(d, _)| *d == date(2026, 5, 8)
        || *d == date(2026, 5, 14)
        || *d == date(2026, 5, 15)));
    assert_eq!(booked.len(), 10);
    // Friday 15 May is in the seeded "Pont de l'Ascension" (and the town's closure).
    let friday = &planning.weeks[1].days[4];
    assert_eq!(friday.date, date(2026, 5, 15));
    assert!(friday.cells.iter().all(|c| matches!(&c.decision,
    Decision::Refused(r) if r.reason == RefusalReason::SchoolHoliday {
        name: "Pont de l'Ascension".into()
    })));
    // The bridge and the override for Monday 18 May.
    assert_eq!(
        service
            .closures(date(2026, 5, 15), date(2026, 5, 15))
            .await?
            .len(),
        1
    );
    let o = service
        .overrides(date(2026, 5, 18), date(2026, 5, 18))
        .await?;
    assert_eq!(
        o[0].rule.message,
        "ATTENTION! En raison du week-end de l'Ascension, les annulations pour le lundi 18 mai \
         NE SONT PLUS POSSIBLES depuis mercredi 13 mai à 10H15."
    );
    assert_eq!(
        o[0].rule.deadline,
        Utc.with_ymd_and_hms(2026, 5, 13, 8, 15, 0).unwrap()
    );
    Ok(())
}

async fn database_school_holiday_refuses_with_its_name(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let s = &f.service;
    let now = monday_9h();
    let thursday = date(2026, 5, 21);
    let name = "Vacances de la Pentecôte";
    let repas = svc("REPAS");
    let book = |date| {
        s.change(
            f.angeline,
            date,
            &repas,
            Action::Book,
            Channel::Phone,
            "parent",
            now,
        )
    };
    let planning = s.week(f.angeline, thursday, 1, now).await?;
    assert!(planning.weeks[0].days[3].cells[0].decision.is_open());

    // A bad period refuses the whole batch: the good one is not stored either.
    let period = SchoolHoliday {
        name: name.into(),
        first: date(2026, 5, 20),
        last: date(2026, 5, 22),
    };
    let unnamed = SchoolHoliday {
        name: " ".into(),
        first: date(2026, 6, 1),
        last: date(2026, 6, 5),
    };
    let err = s
        .add_school_holidays(&[period.clone(), unnamed])
        .await
        .unwrap_err();
    assert!(matches!(err, BookingError::Invalid(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "vacances scolaires du 2026-06-01 : `name` est vide"
    );
    assert!(
        s.school_holidays(date(2026, 1, 1), date(2026, 12, 31))
            .await?
            .is_empty()
    );

    assert_eq!(
        s.add_school_holidays(std::slice::from_ref(&period)).await?,
        1
    );
    assert_eq!(
        s.add_school_holidays(std::slice::from_ref(&period)).await?,
        0
    );
    assert_eq!(
        s.school_holidays(thursday, thursday).await?,
        vec![period.clone()]
    );

    // The phone, the web and the staff pages see it through the same engine.
    let out = book(thursday).await?;
    let BookingOutcome::Refused(r) = &out else {
        panic!("expected a refusal, got {out:?}")
    };
    assert_eq!(r.reason, RefusalReason::SchoolHoliday { name: name.into() });
    let sentence = out.sentence_fr(Action::Book);
    assert!(sentence.ends_with(&format!(": {name}.")), "{sentence}");
    assert!(sentence.contains("jeudi 21 mai"), "{sentence}");
    let planning = s.week(f.angeline, thursday, 1, now).await?;
    let days = &planning.weeks[0].days;
    assert!(
        days[3..5]
            .iter()
            .all(|d| d.cells.iter().all(|c| matches!(&c.decision,
        Decision::Refused(r) if r.reason == RefusalReason::SchoolHoliday { name: name.into() })))
    );
    assert!(
        days[1].cells[0].decision.is_open(),
        "Tuesday 19 May still runs"
    );
    assert!(
        s.history(f.angeline, 40).await?.is_empty(),
        "nothing written"
    );

    // The day before the holidays still books.
    assert_eq!(book(date(2026, 5, 19)).await?, BookingOutcome::Booked);
    Ok(())
}

async fn demo_seeds_the_school_year_and_books_around_it(db: &TestDb) -> anyhow::Result<()> {
    use ivr::service::demo;
    let service = default_service(&db.store).await?;
    // Monday 12 October 2026, 09:00 in Paris: the Toussaint holidays start on Saturday 17.
    let now = Utc.with_ymd_and_hms(2026, 10, 12, 7, 0, 0).unwrap();
    let first = demo::seed(&service, "Mezcalito", "Bienvenue", now).await?;
    assert_eq!(first.school_holidays, 2, "2026-2027: Toussaint and Noël");
    let again = demo::seed(&service, "Mezcalito", "Bienvenue", now).await?;
    assert_eq!(again, demo::DemoSummary::default());
    assert_eq!(
        service
            .school_holidays(date(2026, 9, 1), date(2027, 8, 31))
            .await?
            .iter()
            .map(|h| (h.name.as_str(), h.first, h.last))
            .collect::<Vec<_>>(),
        vec![
            (
                "Vacances de la Toussaint",
                date(2026, 10, 17),
                date(2026, 11, 1)
            ),
            ("Vacances de Noël", date(2026, 12, 19), date(2027, 1, 3)),
        ]
    );
    let (c, p) = codes("3011", "770021");
    let session = service.login("ip:127.0.0.1", &c, &p, now).await?;
    let planning = service
        .week(session.child, date(2026, 10, 12), 2, now)
        .await?;
    let booked: Vec<NaiveDate> = planning
        .weeks
        .iter()
        .flat_map(|w| &w.days)
        .filter(|d| d.cells.iter().any(|c| c.booked))
        .map(|d| d.date)
        .collect();
    // Angéline's meals and evening care this week only: next week is the Toussaint.
    assert_eq!(
        booked,
        vec![
            date(2026, 10, 12),
            date(2026, 10, 13),
            date(2026, 10, 15),
            date(2026, 10, 16)
        ]
    );
    let monday_19 = &planning.weeks[1].days[0];
    assert!(matches!(&monday_19.cells[0].decision,
    Decision::Refused(r) if r.reason == RefusalReason::SchoolHoliday {
        name: "Vacances de la Toussaint".into()
    }));

    // Seeding in another school year adds that year's holidays; the others stay.
    let may = monday_9h();
    assert_eq!(
        demo::seed(&service, "Mezcalito", "Bienvenue", may)
            .await?
            .school_holidays,
        6
    );
    assert_eq!(
        service
            .school_holidays(date(2025, 9, 1), date(2027, 8, 31))
            .await?
            .len(),
        8
    );
    Ok(())
}

/// The counters `/metrics` serves: changes by channel and action once written (not a
/// refusal, not a no-op), refused logins by channel and reason.
async fn changes_and_refused_logins_are_counted_by_channel(db: &TestDb) -> anyhow::Result<()> {
    let f = family(db).await?;
    let metrics = ivr::metrics::Metrics::new();
    let s = f.service.clone().with_metrics(metrics.clone());
    let now = monday_9h();
    // Tuesday 5 May: its meal closes today at 10:00, so at 09:00 it is open.
    let tuesday = date(2026, 5, 5);
    change(
        &s,
        Channel::Web,
        f.angeline,
        tuesday,
        "REPAS",
        Action::Book,
        now,
    )
    .await?;
    change(
        &s,
        Channel::Web,
        f.angeline,
        tuesday,
        "REPAS",
        Action::Book,
        now,
    )
    .await?;
    change(
        &s,
        Channel::Phone,
        f.theo,
        tuesday,
        "REPAS",
        Action::Book,
        now,
    )
    .await?;
    change(
        &s,
        Channel::Phone,
        f.theo,
        tuesday,
        "REPAS",
        Action::Cancel,
        now,
    )
    .await?;
    // Monday 4 May's meal closed on Friday: refused, not counted.
    change(
        &s,
        Channel::Web,
        f.angeline,
        date(2026, 5, 4),
        "REPAS",
        Action::Book,
        now,
    )
    .await?;
    let (c, wrong) = codes("3011", "999999");
    for _ in 0..2 {
        s.login("phone:0612345678", &c, &wrong, now)
            .await
            .unwrap_err();
    }
    s.login("ip:192.0.2.9", &c, &wrong, now).await.unwrap_err();
    let text = metrics.render();
    for line in [
        r#"ivr_booking_changes_total{channel="web",action="booked"} 1"#,
        r#"ivr_booking_changes_total{channel="phone",action="booked"} 1"#,
        r#"ivr_booking_changes_total{channel="phone",action="cancelled"} 1"#,
        r#"ivr_logins_refused_total{channel="phone",reason="wrong_codes"} 2"#,
        r#"ivr_logins_refused_total{channel="web",reason="wrong_codes"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    assert!(
        !text.contains(r#"channel="web",action="cancelled""#),
        "{text}"
    );
    Ok(())
}

/// `[calendar] region = "alsace-moselle"` from the configuration to the phone and the web:
/// Good Friday is refused with its name, and the deadline of the Tuesday after Easter
/// Monday steps back over it to Thursday. A town in metropolitan France books both.
async fn the_configured_region_reaches_every_channel(db: &TestDb) -> anyhow::Result<()> {
    let config =
        ivr::config::Config::from_toml("[calendar]\nregion = \"alsace-moselle\"\n", "ivr.toml")?;
    let alsace = config.booking_service(db.store.clone()).await?;
    let metropole = default_service(&db.store).await?;
    let Families { angeline, .. } = seed_families(&db.store).await?;
    let good_friday = date(2026, 4, 3);
    // Thursday 2 April 2026, 11:00 in Paris (UTC+2).
    let thursday_11h = Utc.with_ymd_and_hms(2026, 4, 2, 9, 0, 0).unwrap();

    let out = change(
        &alsace,
        Channel::Phone,
        angeline,
        good_friday,
        "REPAS",
        Action::Book,
        thursday_11h,
    )
    .await?;
    let BookingOutcome::Refused(r) = &out else {
        panic!("expected a refusal, got {out:?}")
    };
    let holiday = RefusalReason::PublicHoliday {
        name: "Vendredi saint".into(),
    };
    assert_eq!(r.reason, holiday);
    assert_eq!(
        out.sentence_fr(Action::Book),
        "Pas de cantine le vendredi 3 avril, jour férié (Vendredi saint)."
    );
    let planning = alsace.week(angeline, good_friday, 1, thursday_11h).await?;
    let friday = &planning.weeks[0].days[4];
    assert_eq!(friday.date, good_friday);
    assert!(
        friday
            .cells
            .iter()
            .all(|c| matches!(&c.decision, Decision::Refused(r) if r.reason == holiday)),
        "{friday:?}"
    );

    // Tuesday 7 April: Monday is Easter Monday and Friday Good Friday, so the meal closed on
    // Thursday at 10:00, an hour ago.
    let tuesday = date(2026, 4, 7);
    let out = change(
        &alsace,
        Channel::Web,
        angeline,
        tuesday,
        "REPAS",
        Action::Book,
        thursday_11h,
    )
    .await?;
    let BookingOutcome::Refused(r) = out else {
        panic!("expected a refusal, got {out:?}")
    };
    assert_eq!(r.reason, RefusalReason::DeadlinePassed);
    assert_eq!(
        r.deadline,
        Some(Utc.with_ymd_and_hms(2026, 4, 2, 8, 0, 0).unwrap())
    );

    // Without the region both days book: Good Friday's evening care (same day, 16:00) and
    // Tuesday's meal (closing on Friday).
    for (day, service) in [(good_friday, "SOIR"), (tuesday, "REPAS")] {
        let out = change(
            &metropole,
            Channel::Web,
            angeline,
            day,
            service,
            Action::Book,
            thursday_11h,
        )
        .await?;
        assert_eq!(out, BookingOutcome::Booked, "{day} {service}");
    }
    Ok(())
}
