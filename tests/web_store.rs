//! The web's own tables (staff accounts, announcements) on SQLite and on PostgreSQL
//! (`TEST_DATABASE_URL`; skipped with a message when unset), the same checks on both.

use chrono::{NaiveDate, TimeZone, Utc};
use ivr::media::upload as wav;
use ivr::service::announcements::{self, AnnouncementRefused};
use ivr::service::staff_accounts::{self, StaffError};
use ivr::store::testing::TestDb;
use ivr::store::{AnnouncementId, NewAnnouncement, Store, Validity};

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

/// The announcement current on 2026-`m`-`day`.
async fn current_on(store: &Store, m: u32, day: u32) -> Option<AnnouncementId> {
    announcements::current(store, d(m, day))
        .await
        .unwrap()
        .map(|x| x.0)
}

/// Switches announcement `id` off, its dates as in `validity`; asserts the service agrees.
async fn switch_off(store: &Store, id: AnnouncementId, validity: Validity) {
    let off = Validity {
        enabled: false,
        ..validity
    };
    assert!(announcements::set_validity(store, id, off).await.is_ok());
}

async fn suite(db: &TestDb) {
    let store = &db.store;
    let now = Utc.with_ymd_and_hms(2026, 5, 6, 7, 0, 0).unwrap();
    // Staff accounts: unique names, hashes verified, unknown users refused.
    staff_accounts::add(store, "amelie", "mot de passe solide", now)
        .await
        .unwrap();
    assert!(matches!(
        staff_accounts::add(store, "amelie", "un autre mot de passe", now).await,
        Err(StaffError::Exists(_))
    ));
    assert!(
        staff_accounts::check(store, "amelie", "mot de passe solide")
            .await
            .unwrap()
    );
    assert!(
        !staff_accounts::check(store, "amelie", "mot de passe faux!")
            .await
            .unwrap()
    );
    assert!(
        !staff_accounts::check(store, "inconnu", "mot de passe solide")
            .await
            .unwrap()
    );

    // Announcements: the newest enabled one valid today is current.
    assert!(current_on(store, 5, 6).await.is_none());
    let audio = wav::to_phone(&wav::sine_wav(16_000, 1, 16, 440.0, 300)).unwrap();
    let always = Validity {
        from: None,
        until: None,
        enabled: true,
    };
    let new = |label, validity| NewAnnouncement {
        wav: &audio.wav,
        duration_ms: audio.duration_ms() as i64,
        label,
        by: "amelie",
        at: now,
        validity,
    };
    let a = announcements::add(store, &new("permanente", always))
        .await
        .unwrap();
    let may = Validity {
        from: Some(d(5, 10)),
        until: Some(d(5, 31)),
        enabled: true,
    };
    let b = announcements::add(store, &new("mai", may)).await.unwrap();
    for (m, day, id) in [(5, 6, a), (5, 10, b), (6, 1, a)] {
        assert_eq!(current_on(store, m, day).await, Some(id), "{m}/{day}");
    }
    let (_, bytes) = announcements::current(store, d(5, 20))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bytes, audio.wav);
    // Switching the newest off falls back to the older one; both off: none.
    switch_off(store, b, may).await;
    assert_eq!(current_on(store, 5, 20).await, Some(a));
    switch_off(store, a, always).await;
    assert!(current_on(store, 5, 20).await.is_none());
    assert!(matches!(
        announcements::set_validity(store, ivr::store::AnnouncementId(9999), always).await,
        Err(AnnouncementRefused::Unknown)
    ));
    // Dates in the wrong order are refused by the service with a clear sentence, and by
    // the database itself when a write skips the service.
    let bad = Validity {
        from: Some(d(5, 31)),
        until: Some(d(5, 1)),
        enabled: true,
    };
    let refused = announcements::add(store, &new("à l'envers", bad)).await;
    assert!(
        matches!(refused, Err(AnnouncementRefused::EndBeforeStart)),
        "{refused:?}"
    );
    assert!(
        store
            .insert_announcement(&new("à l'envers", bad))
            .await
            .is_err()
    );
    let list = store.announcements().await.unwrap();
    assert_eq!(
        list.iter().map(|x| x.label.as_str()).collect::<Vec<_>>(),
        ["mai", "permanente"]
    );
    assert_eq!(
        list[0].validity,
        Validity {
            enabled: false,
            ..may
        }
    );
    assert_eq!(list[0].uploaded_at, now);
    assert_eq!(list[0].duration_ms, audio.duration_ms() as i64);
}

#[tokio::test]
async fn web_tables_on_sqlite() {
    let db = TestDb::sqlite().await.unwrap();
    suite(&db).await;
    db.store.close().await;
}

#[tokio::test]
#[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
async fn web_tables_on_postgres() {
    let Some(db) = TestDb::postgres().await.unwrap() else {
        return;
    };
    suite(&db).await;
    db.store.close().await;
}
