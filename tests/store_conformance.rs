//! The storage conformance suite: the same test functions run against SQLite and
//! PostgreSQL (`TEST_DATABASE_URL`; the PostgreSQL half says it was skipped when unset).

mod store_support;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ivr::booking::calendar::{ActionScope, Override, SchoolHoliday, ServiceScope};
use ivr::booking::model::{Action, Channel, ChildCode, PayerCode, ServiceCode};
use ivr::store::testing::TestDb;
use ivr::store::{
    Closure, HistoryEntry, LoginCounter, LoginKeyKind, NewChild, NewPayer, Store, StoreError,
};
use store_support::assert_head_counts;

/// Generates `sqlite_NAME` and `postgres_NAME` tests running `NAME(&TestDb)`.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() -> anyhow::Result<()> {
                    let db = ivr::store::testing::TestDb::sqlite().await?;
                    super::$name(&db).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                #[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
                async fn $name() -> anyhow::Result<()> {
                    let Some(db) = ivr::store::testing::TestDb::postgres().await? else {
                        return Ok(());
                    };
                    super::$name(&db).await
                }
            )*
        }
    };
}

conformance!(
    codes_are_unique,
    failed_transaction_leaves_nothing,
    booking_uniqueness_is_a_constraint,
    bookings_insert_and_delete_once,
    history_is_newest_first,
    closures_round_trip,
    overrides_round_trip,
    login_counters_round_trip,
    concurrent_login_failures_are_all_counted,
    settings_and_secrets,
    head_counts_per_school_and_service,
    children_belong_to_their_payer,
    school_holidays_round_trip,
    usual_weeks_round_trip,
);

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn svc(s: &str) -> ServiceCode {
    ServiceCode::parse(s).unwrap()
}

fn payer(code: &str, name: &str) -> NewPayer {
    NewPayer {
        code: PayerCode::parse(code).unwrap(),
        name: name.into(),
        email: format!("{}@example.org", name.to_lowercase().replace(' ', ".")),
        invoice_email_opt_in: false,
    }
}

fn child(code: &str, payer: ivr::booking::model::PayerId, first: &str) -> NewChild {
    NewChild {
        code: ChildCode::parse(code).unwrap(),
        payer,
        first_name: first.into(),
        last_name: "MARSONE".into(),
        school: "École Jules Ferry".into(),
        class_label: "CE1".into(),
        teacher: "Mme Formatrice".into(),
    }
}

/// One payer with one child, committed.
async fn family(
    store: &Store,
) -> anyhow::Result<(ivr::booking::model::PayerId, ivr::booking::model::ChildId)> {
    let mut tx = store.begin().await?;
    let p = tx
        .insert_payer(&payer("770021", "Laurence MARSONE"))
        .await?;
    let c = tx.insert_child(&child("3011", p, "Angéline")).await?;
    tx.commit().await?;
    Ok((p, c))
}

async fn codes_are_unique(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let (p, _) = family(store).await?;

    let mut tx = store.begin().await?;
    let err = tx
        .insert_payer(&payer("770021", "Autre Payeur"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err:?}");
    assert_eq!(err.to_string(), "ce code payeur existe déjà");
    drop(tx);

    let mut tx = store.begin().await?;
    let err = tx
        .insert_child(&child("3011", p, "Théo"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err:?}");
    assert_eq!(err.to_string(), "ce code enfant existe déjà");
    drop(tx);

    assert_eq!(store.family_counts().await?, (1, 1));
    Ok(())
}

async fn failed_transaction_leaves_nothing(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let (_, c) = family(store).await?;
    let mut tx = store.begin().await?;
    let p2 = tx.insert_payer(&payer("880000", "Paul DURAND")).await?;
    tx.insert_child(&child("4000", p2, "Léa")).await?;
    tx.insert_booking(c, date(2026, 5, 4), &svc("REPAS"), at(2026, 5, 1, 8, 0))
        .await?;
    // The third write fails: the whole transaction must vanish.
    assert!(tx.insert_child(&child("3011", p2, "Max")).await.is_err());
    drop(tx);
    assert_eq!(store.family_counts().await?, (1, 1));
    assert!(!store.is_booked(c, date(2026, 5, 4), &svc("REPAS")).await?);

    // An explicit rollback undoes as well.
    let mut tx = store.begin().await?;
    tx.insert_payer(&payer("880001", "Jeanne MARTIN")).await?;
    tx.rollback().await?;
    assert_eq!(store.family_counts().await?, (1, 1));
    Ok(())
}

async fn booking_uniqueness_is_a_constraint(db: &TestDb) -> anyhow::Result<()> {
    let (_, c) = family(&db.store).await?;
    let insert = format!(
        "INSERT INTO bookings (child_id, date, service, created_at) \
         VALUES ({}, '2026-05-04', 'REPAS', '2026-05-01T08:00:00+00:00')",
        c.0
    );
    assert_eq!(db.execute_raw(&insert).await?, 1);
    // A plain INSERT, without the store's ON CONFLICT, is refused by the database itself.
    let err = db.execute_raw(&insert).await.unwrap_err();
    match err {
        StoreError::Database(sqlx::Error::Database(e)) => assert!(e.is_unique_violation()),
        other => panic!("expected a unique violation, got {other:?}"),
    }
    Ok(())
}

async fn bookings_insert_and_delete_once(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let (_, c) = family(store).await?;
    let d = date(2026, 5, 4);
    let now = at(2026, 5, 1, 8, 0);
    let mut tx = store.begin().await?;
    assert!(!tx.is_booked(c, d, &svc("REPAS")).await?);
    assert!(tx.insert_booking(c, d, &svc("REPAS"), now).await?);
    assert!(!tx.insert_booking(c, d, &svc("REPAS"), now).await?);
    assert!(tx.is_booked(c, d, &svc("REPAS")).await?);
    assert!(tx.insert_booking(c, d, &svc("SOIR"), now).await?);
    tx.commit().await?;
    assert_eq!(
        store.bookings_between(c, d, d).await?,
        vec![(d, svc("REPAS")), (d, svc("SOIR"))]
    );
    let mut tx = store.begin().await?;
    assert!(tx.delete_booking(c, d, &svc("REPAS")).await?);
    assert!(!tx.delete_booking(c, d, &svc("REPAS")).await?);
    tx.commit().await?;
    assert_eq!(
        store.bookings_between(c, d, d).await?,
        vec![(d, svc("SOIR"))]
    );
    assert!(
        store
            .bookings_between(c, date(2026, 5, 5), date(2026, 5, 10))
            .await?
            .is_empty()
    );
    Ok(())
}

async fn history_is_newest_first(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let (_, c) = family(store).await?;
    let mut tx = store.begin().await?;
    let mut written = Vec::new();
    for i in 0..45u32 {
        let e = HistoryEntry {
            action: if i % 2 == 0 {
                Action::Book
            } else {
                Action::Cancel
            },
            date: date(2026, 5, 4) + Duration::days(i64::from(i)),
            service: svc("REPAS"),
            channel: [Channel::Web, Channel::Phone, Channel::Staff][i as usize % 3],
            actor: format!("acteur {i}"),
            at: at(2026, 5, 1, 8, 0) + Duration::milliseconds(i64::from(i) * 1234),
        };
        tx.push_history(c, &e).await?;
        written.push(e);
    }
    tx.commit().await?;
    let got = store.history(c, 40).await?;
    assert_eq!(got.len(), 40);
    let expected: Vec<_> = written.iter().rev().take(40).cloned().collect();
    assert_eq!(got, expected, "entries read back exactly, newest first");
    assert!(
        store
            .history(ivr::booking::model::ChildId(c.0 + 1), 40)
            .await?
            .is_empty()
    );
    Ok(())
}

async fn closures_round_trip(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let pont = Closure {
        date: date(2026, 5, 15),
        label: "Pont de l'Ascension".into(),
    };
    let mut tx = store.begin().await?;
    tx.add_closure(&pont).await?;
    tx.add_closure(&Closure {
        date: date(2026, 11, 10),
        label: "Pont du 11 novembre".into(),
    })
    .await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let err = tx.add_closure(&pont).await.unwrap_err();
    assert_eq!(err.to_string(), "la fermeture du 15/05/2026 existe déjà");
    drop(tx);
    assert_eq!(
        store
            .closures_between(date(2026, 5, 1), date(2026, 5, 31))
            .await?,
        vec![pont.clone()]
    );
    let mut tx = store.begin().await?;
    assert_eq!(
        tx.closures_between(date(2026, 1, 1), date(2026, 12, 31))
            .await?
            .len(),
        2
    );
    assert!(tx.remove_closure(pont.date).await?);
    assert!(!tx.remove_closure(pont.date).await?);
    tx.commit().await?;
    assert!(
        store
            .closures_between(date(2026, 5, 1), date(2026, 5, 31))
            .await?
            .is_empty()
    );
    Ok(())
}

async fn overrides_round_trip(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let seed = Override {
        date: date(2026, 5, 25),
        services: ServiceScope::All,
        actions: ActionScope::Cancel,
        deadline: at(2026, 5, 20, 8, 15),
        message: "ATTENTION! En raison du week-end de l'Ascension, les annulations pour le \
                   lundi 25 mai NE SONT PLUS POSSIBLES depuis mercredi 20 mai à 10H15."
            .into(),
    };
    let some = Override {
        date: date(2026, 5, 25),
        services: ServiceScope::Only(vec![svc("REPAS"), svc("MIDI")]),
        actions: ActionScope::Both,
        deadline: at(2026, 5, 19, 14, 30),
        message: "Repas et accueil de midi : délai avancé.".into(),
    };
    let mut tx = store.begin().await?;
    let a = tx.add_override(&seed).await?;
    let b = tx.add_override(&some).await?;
    tx.commit().await?;
    let got = store
        .overrides_between(date(2026, 5, 25), date(2026, 5, 25))
        .await?;
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].id, &got[0].rule), (a, &seed));
    assert_eq!((got[1].id, &got[1].rule), (b, &some));
    assert!(
        store
            .overrides_between(date(2026, 5, 26), date(2026, 6, 30))
            .await?
            .is_empty()
    );
    let mut tx = store.begin().await?;
    assert!(tx.remove_override(a).await?);
    assert!(!tx.remove_override(a).await?);
    tx.commit().await?;
    let got = store
        .overrides_between(date(2026, 5, 1), date(2026, 5, 31))
        .await?;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rule, some);
    Ok(())
}

async fn login_counters_round_trip(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let now = at(2026, 5, 4, 9, 0);
    assert_eq!(
        store.login_counter(LoginKeyKind::Source, "abc").await?,
        None
    );
    let mut tx = store.begin().await?;
    let fresh = tx
        .lock_login_counter(LoginKeyKind::Source, "abc", now)
        .await?;
    assert_eq!(
        fresh,
        LoginCounter {
            failures: 0,
            last_at: now,
            locked_until: None
        }
    );
    let locked = LoginCounter {
        failures: 10,
        last_at: now,
        locked_until: Some(now + Duration::minutes(15)),
    };
    tx.set_login_counter(LoginKeyKind::Source, "abc", &locked)
        .await?;
    tx.set_login_counter(
        LoginKeyKind::Child,
        "abc",
        &LoginCounter {
            failures: 1,
            last_at: now,
            locked_until: None,
        },
    )
    .await?;
    tx.commit().await?;
    assert_eq!(
        store.login_counter(LoginKeyKind::Source, "abc").await?,
        Some(locked)
    );
    assert_eq!(
        store
            .login_counter(LoginKeyKind::Child, "abc")
            .await?
            .unwrap()
            .failures,
        1
    );
    let mut tx = store.begin().await?;
    assert_eq!(
        tx.lock_login_counter(LoginKeyKind::Source, "abc", now + Duration::hours(1))
            .await?,
        locked
    );
    tx.clear_login_counter(LoginKeyKind::Source, "abc").await?;
    tx.commit().await?;
    assert_eq!(
        store.login_counter(LoginKeyKind::Source, "abc").await?,
        None
    );
    assert!(
        store
            .login_counter(LoginKeyKind::Child, "abc")
            .await?
            .is_some()
    );
    Ok(())
}

async fn concurrent_login_failures_are_all_counted(db: &TestDb) -> anyhow::Result<()> {
    let now = at(2026, 5, 4, 9, 0);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await?;
            let mut c = tx.lock_login_counter(LoginKeyKind::Child, "k", now).await?;
            c.failures += 1;
            tx.set_login_counter(LoginKeyKind::Child, "k", &c).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    assert_eq!(
        db.store
            .login_counter(LoginKeyKind::Child, "k")
            .await?
            .unwrap()
            .failures,
        20
    );
    Ok(())
}

async fn settings_and_secrets(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    assert_eq!(store.setting(Store::TOWN_MESSAGE).await?, None);
    store.set_setting(Store::TOWN_MESSAGE, "Bonjour").await?;
    store
        .set_setting(Store::TOWN_MESSAGE, "ATTENTION! Rentrée le 1er septembre.")
        .await?;
    assert_eq!(
        store.setting(Store::TOWN_MESSAGE).await?.as_deref(),
        Some("ATTENTION! Rentrée le 1er septembre.")
    );
    assert!(store.remove_setting(Store::TOWN_MESSAGE).await?);
    assert!(!store.remove_setting(Store::TOWN_MESSAGE).await?);
    let first = store.secret_or_insert("k", &[1, 2, 3]).await?;
    let second = store.secret_or_insert("k", &[9, 9]).await?;
    assert_eq!(first, vec![1, 2, 3]);
    assert_eq!(second, first, "the first value stays");
    Ok(())
}

async fn head_counts_per_school_and_service(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let d = date(2026, 5, 4);
    let now = at(2026, 5, 1, 8, 0);
    let mut tx = store.begin().await?;
    let p = tx.insert_payer(&payer("1", "A B")).await?;
    let mut kids = Vec::new();
    for (i, school) in ["École Jules Ferry", "École Jules Ferry", "École du Centre"]
        .iter()
        .enumerate()
    {
        let mut c = child(&format!("10{i}"), p, "X");
        c.school = (*school).into();
        kids.push(tx.insert_child(&c).await?);
    }
    for k in &kids {
        tx.insert_booking(*k, d, &svc("REPAS"), now).await?;
    }
    tx.insert_booking(kids[0], d, &svc("SOIR"), now).await?;
    tx.insert_booking(kids[1], d + Duration::days(1), &svc("SOIR"), now)
        .await?;
    tx.commit().await?;
    assert_head_counts(
        store.head_counts(d).await?,
        &[
            ("École Jules Ferry", "REPAS", 2),
            ("École Jules Ferry", "SOIR", 1),
            ("École du Centre", "REPAS", 1),
        ],
    );
    Ok(())
}

async fn children_belong_to_their_payer(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let mut tx = store.begin().await?;
    let p = tx
        .insert_payer(&payer("770021", "Laurence MARSONE"))
        .await?;
    let theo = tx.insert_child(&child("3012", p, "Théo")).await?;
    let ange = tx.insert_child(&child("3011", p, "Angéline")).await?;
    let other = tx.insert_payer(&payer("880000", "Paul DURAND")).await?;
    tx.insert_child(&child("4000", other, "Léa")).await?;
    tx.commit().await?;
    let kids = store.children_of(p).await?;
    assert_eq!(
        kids.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![ange, theo]
    );
    assert_eq!(kids[0].full_name(), "Angéline MARSONE");
    assert_eq!(kids[0].class_line(), "CE1 - Mme Formatrice");
    let codes = |c: &str, p: &str| (ChildCode::parse(c).unwrap(), PayerCode::parse(p).unwrap());
    let (c, pc) = codes("3011", "770021");
    assert_eq!(store.find_login(&c, &pc).await?, Some((p, ange)));
    let (c, pc) = codes("4000", "770021");
    assert_eq!(
        store.find_login(&c, &pc).await?,
        None,
        "another payer's child"
    );
    let (c, pc) = codes("9999", "770021");
    assert_eq!(store.find_login(&c, &pc).await?, None);
    let payer = store.payer(p).await?.unwrap();
    assert_eq!(payer.name, "Laurence MARSONE");
    assert!(!payer.invoice_email_opt_in);
    store.set_invoice_email_opt_in(p, true).await?;
    assert!(store.payer(p).await?.unwrap().invoice_email_opt_in);
    Ok(())
}

fn holiday(name: &str, first: NaiveDate, last: NaiveDate) -> SchoolHoliday {
    SchoolHoliday {
        name: name.into(),
        first,
        last,
    }
}

async fn school_holidays_round_trip(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let toussaint = holiday(
        "Vacances de la Toussaint",
        date(2025, 10, 18),
        date(2025, 11, 2),
    );
    let noel = holiday("Vacances de Noël", date(2025, 12, 20), date(2026, 1, 4));
    let mut tx = store.begin().await?;
    assert!(tx.add_school_holiday(&noel).await?);
    assert!(tx.add_school_holiday(&toussaint).await?);
    // The same days again, under any name: nothing is added.
    assert!(!tx.add_school_holiday(&toussaint).await?);
    assert!(
        !tx.add_school_holiday(&holiday("Toussaint", toussaint.first, toussaint.last))
            .await?
    );
    // The transaction sees its own writes.
    assert_eq!(
        tx.school_holidays_between(date(2025, 9, 1), date(2026, 8, 31))
            .await?,
        vec![toussaint.clone(), noel.clone()]
    );
    tx.commit().await?;

    // A period is found from any range that overlaps it, and only then.
    let between = |from, to| store.school_holidays_between(from, to);
    assert_eq!(
        between(date(2025, 11, 2), date(2025, 11, 8)).await?,
        vec![toussaint.clone()]
    );
    assert_eq!(
        between(date(2025, 10, 13), date(2025, 10, 18)).await?,
        vec![toussaint.clone()]
    );
    assert_eq!(
        between(date(2026, 1, 1), date(2026, 1, 1)).await?,
        vec![noel.clone()]
    );
    assert!(
        between(date(2025, 11, 3), date(2025, 12, 19))
            .await?
            .is_empty()
    );

    // The rules live in the database, not only in the code.
    for bad in [
        "INSERT INTO school_holidays (name, first_day, last_day) \
         VALUES ('Autre', '2025-10-18', '2025-11-02')",
        "INSERT INTO school_holidays (name, first_day, last_day) \
         VALUES ('À l''envers', '2026-02-22', '2026-02-07')",
        "INSERT INTO school_holidays (name, first_day, last_day) \
         VALUES ('  ', '2026-04-04', '2026-04-19')",
    ] {
        assert!(db.execute_raw(bad).await.is_err(), "{bad}");
    }

    // A failed transaction leaves nothing.
    let mut tx = store.begin().await?;
    assert!(
        tx.add_school_holiday(&holiday(
            "Vacances d'Hiver",
            date(2026, 2, 7),
            date(2026, 2, 22)
        ))
        .await?
    );
    assert!(
        tx.add_school_holiday(&holiday("", date(2026, 4, 4), date(2026, 4, 19)))
            .await
            .is_err()
    );
    drop(tx);
    assert_eq!(
        between(date(2025, 9, 1), date(2026, 8, 31)).await?,
        vec![toussaint, noel]
    );
    Ok(())
}

async fn usual_weeks_round_trip(db: &TestDb) -> anyhow::Result<()> {
    use chrono::Weekday;
    use ivr::booking::usual_week::{Day, Rhythm, UsualWeek};
    use ivr::store::UsualWeekRun;
    let store = &db.store;
    let (_, c) = family(store).await?;
    assert_eq!(store.usual_week(c).await?, None);
    let first = UsualWeek {
        cells: [
            (svc("REPAS"), Day(Weekday::Mon)),
            (svc("REPAS"), Day(Weekday::Thu)),
            (svc("SOIR"), Day(Weekday::Tue)),
        ]
        .into_iter()
        .collect(),
        first_day: date(2026, 12, 3),
        last_day: None,
        rhythm: Rhythm::EveryWeek,
    };
    let set_at = at(2026, 12, 3, 8, 0);
    let mut tx = store.begin().await?;
    tx.set_usual_week(c, &first, "parent", set_at).await?;
    tx.commit().await?;
    let stored = store.usual_week(c).await?.expect("set");
    assert_eq!(stored.pattern, first);
    assert_eq!((stored.created_at, stored.updated_at), (set_at, set_at));
    assert_eq!(
        (stored.set_by.as_str(), stored.stopped_at),
        ("parent", None)
    );

    // Replacing keeps one row, replaces the cells, keeps created_at.
    let second = UsualWeek {
        cells: [(svc("MATIN"), Day(Weekday::Fri))].into_iter().collect(),
        first_day: date(2027, 1, 4),
        last_day: Some(date(2027, 3, 31)),
        rhythm: Rhythm::EveryOtherWeek,
    };
    let replaced_at = at(2026, 12, 10, 8, 0);
    let mut tx = store.begin().await?;
    tx.set_usual_week(c, &second, "parent", replaced_at).await?;
    tx.commit().await?;
    let stored = store.usual_week(c).await?.expect("set");
    assert_eq!(stored.pattern, second);
    assert_eq!(
        (stored.created_at, stored.updated_at),
        (set_at, replaced_at)
    );
    let active = store.active_usual_weeks(date(2027, 3, 31)).await?;
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].pattern, second);
    assert!(
        store.active_usual_weeks(date(2027, 4, 1)).await?.is_empty(),
        "ended"
    );

    // The transaction sees whether it still runs as read.
    let mut tx = store.begin().await?;
    assert!(tx.usual_week_unchanged(c, replaced_at).await?);
    assert!(!tx.usual_week_unchanged(c, set_at).await?, "replaced since");
    assert!(tx.stop_usual_week(c, at(2026, 12, 11, 8, 0)).await?);
    assert!(
        !tx.stop_usual_week(c, at(2026, 12, 11, 9, 0)).await?,
        "stopped once"
    );
    assert!(!tx.usual_week_unchanged(c, replaced_at).await?, "stopped");
    tx.commit().await?;
    assert_eq!(
        store.usual_week(c).await?.expect("kept").stopped_at,
        Some(at(2026, 12, 11, 8, 0))
    );
    assert!(store.active_usual_weeks(date(2027, 1, 1)).await?.is_empty());

    // A cell with no weekday the database accepts is refused by its check.
    let bad = db
        .execute_raw(&format!(
            "INSERT INTO usual_week_cells (child_id, service, weekday) VALUES ({}, 'REPAS', 8)",
            c.0
        ))
        .await;
    assert!(bad.is_err(), "weekday 8 stored");

    // What the history says a pattern booked, and what was cancelled since an instant.
    let mut tx = store.begin().await?;
    let entry = |action, day, actor: &str, when| HistoryEntry {
        action,
        date: day,
        service: svc("REPAS"),
        channel: Channel::Web,
        actor: actor.into(),
        at: when,
    };
    let week = "parent (semaine type)";
    tx.push_history(
        c,
        &entry(Action::Book, date(2027, 1, 4), week, at(2026, 12, 3, 8, 0)),
    )
    .await?;
    tx.push_history(
        c,
        &entry(Action::Book, date(2027, 1, 7), week, at(2026, 12, 3, 8, 0)),
    )
    .await?;
    tx.push_history(
        c,
        &entry(
            Action::Cancel,
            date(2027, 1, 7),
            "parent",
            at(2026, 12, 4, 8, 0),
        ),
    )
    .await?;
    tx.push_history(
        c,
        &entry(
            Action::Book,
            date(2027, 1, 11),
            "parent",
            at(2026, 12, 4, 8, 0),
        ),
    )
    .await?;
    tx.push_history(
        c,
        &entry(
            Action::Cancel,
            date(2027, 1, 14),
            "parent",
            at(2026, 12, 1, 8, 0),
        ),
    )
    .await?;
    tx.commit().await?;
    assert_eq!(
        store
            .last_booked_by(c, date(2027, 1, 1), date(2027, 1, 31), week)
            .await?,
        vec![(date(2027, 1, 4), svc("REPAS"))],
        "7 January was cancelled after, 11 January booked by hand"
    );
    let since = store
        .cancelled_since(
            c,
            date(2027, 1, 1),
            date(2027, 1, 31),
            at(2026, 12, 3, 8, 0),
        )
        .await?;
    assert_eq!(
        since.into_iter().collect::<Vec<_>>(),
        vec![(date(2027, 1, 7), svc("REPAS"))],
        "14 January was cancelled before the instant"
    );

    // The job's passes: the last one is read back.
    assert_eq!(store.last_usual_week_run().await?, None);
    for (trigger, booked) in [("nuit", 3), ("fermeture", 5)] {
        store
            .record_usual_week_run(&UsualWeekRun {
                trigger: trigger.into(),
                started_at: at(2026, 12, 5, 0, 0),
                finished_at: at(2026, 12, 5, 0, 1),
                patterns: 2,
                booked,
                skipped: 1,
                kept_cancelled: 1,
                failed: 0,
            })
            .await?;
    }
    let last = store.last_usual_week_run().await?.expect("recorded");
    assert_eq!(
        (last.trigger.as_str(), last.booked, last.patterns),
        ("fermeture", 5, 2)
    );
    assert_eq!(last.finished_at, at(2026, 12, 5, 0, 1));
    Ok(())
}
