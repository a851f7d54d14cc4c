//! Pre-registration storage on both backends (SQLite always; PostgreSQL when
//! `TEST_DATABASE_URL` is set, the PostgreSQL half says it was skipped otherwise).

mod store_support;

use chrono::{DateTime, TimeZone, Utc};
use ivr::booking::model::ServiceCode;
use ivr::store::testing::TestDb;
use ivr::store::{NewPreregistration, PreregDecision, PreregStatus, PreregistrationId, Store};
use store_support::{Families, seed_families};

ivr::both_backends!(preregistrations_round_trip, constraints_refuse_bad_rows);

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

/// Amélie, a clerk, takes `decision` on request `id` at `now`, saying why; true when the
/// request was waiting for it.
async fn amelie_decides(
    store: &Store,
    id: PreregistrationId,
    decision: PreregDecision,
    why: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let mut tx = store.begin().await?;
    let decided = tx
        .decide_preregistration(id, decision, why, "amelie", now)
        .await?;
    tx.commit().await?;
    Ok(decided.is_some())
}

async fn preregistrations_round_trip(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let Families {
        payer,
        angeline: child,
        other_payer: other,
        ..
    } = seed_families(store).await?;

    let repas = ServiceCode::parse("REPAS")?;
    let first = store
        .insert_preregistration(
            &NewPreregistration {
                payer,
                child: Some(child),
                first_name: "Angéline",
                last_name: "MARSONE",
                service: Some(&repas),
                school_year: "2026-2027",
                comment: "le mardi seulement",
            },
            at(2026, 5, 6, 7),
        )
        .await?;
    let second = store
        .insert_preregistration(
            &NewPreregistration {
                payer,
                child: None,
                first_name: "Lou",
                last_name: "MARSONE",
                service: None,
                school_year: "2026-2027",
                comment: "",
            },
            at(2026, 5, 6, 8),
        )
        .await?;
    let mine = store.preregistrations_of(payer).await?;
    assert_eq!(
        mine.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![second, first]
    );
    assert_eq!(mine[1].child, Some(child));
    assert_eq!(mine[1].service.as_deref(), Some("REPAS"));
    assert_eq!(mine[1].comment, "le mardi seulement");
    assert_eq!(mine[1].created_at, at(2026, 5, 6, 7));
    assert_eq!(mine[0].child, None);
    assert_eq!(mine[0].service, None);
    assert_eq!(mine[0].status, PreregStatus::Pending);
    assert!(store.preregistrations_of(other).await?.is_empty());

    // Decided once: the second decision changes nothing.
    assert!(
        amelie_decides(
            store,
            first,
            PreregDecision::Refuse,
            "complet",
            at(2026, 5, 7, 9)
        )
        .await?
    );
    assert!(!amelie_decides(store, first, PreregDecision::Accept, "", at(2026, 5, 7, 10)).await?);
    assert!(
        !amelie_decides(
            store,
            PreregistrationId(9999),
            PreregDecision::Accept,
            "",
            at(2026, 5, 7, 10)
        )
        .await?
    );
    let staff = store.preregistrations_for_staff().await?;
    assert_eq!(staff[0].id, second, "pending first");
    assert_eq!(staff[1].id, first);
    assert_eq!(staff[1].status, PreregStatus::Refused);
    assert_eq!(staff[1].staff_reason, "complet");
    assert_eq!(staff[1].decided_at, Some(at(2026, 5, 7, 9)));
    assert_eq!(staff[1].decided_by.as_deref(), Some("amelie"));
    Ok(())
}

async fn constraints_refuse_bad_rows(db: &TestDb) -> anyhow::Result<()> {
    db.execute_raw(
        "INSERT INTO payers (code, name, email, invoice_email_opt_in) \
         VALUES ('770021', 'L', '', FALSE)",
    )
    .await?;
    let base = "INSERT INTO preregistrations (payer_id, child_first_name, child_last_name, \
                school_year, status, staff_reason, created_at, decided_at) VALUES ";
    for bad in [
        // Empty names.
        "((SELECT id FROM payers), '  ', 'X', '2026-2027', 'pending', '', '2026-05-06T07:00:00Z', NULL)",
        // Unknown status.
        "((SELECT id FROM payers), 'A', 'X', '2026-2027', 'maybe', '', '2026-05-06T07:00:00Z', NULL)",
        // Refused without a reason.
        "((SELECT id FROM payers), 'A', 'X', '2026-2027', 'refused', ' ', '2026-05-06T07:00:00Z', '2026-05-06T08:00:00Z')",
        // Decided without a date.
        "((SELECT id FROM payers), 'A', 'X', '2026-2027', 'accepted', '', '2026-05-06T07:00:00Z', NULL)",
    ] {
        assert!(
            db.execute_raw(&format!("{base}{bad}")).await.is_err(),
            "{bad}"
        );
    }
    // The same statement with good values goes in: the failures above are the checks'.
    db.execute_raw(&format!(
        "{base}((SELECT id FROM payers), 'A', 'X', '2026-2027', 'refused', 'complet', \
         '2026-05-06T07:00:00Z', '2026-05-06T08:00:00Z')"
    ))
    .await?;
    // The same statement with good values goes in: the failures above are the checks'.
    db.execute_raw(&format!(
        "{base}((SELECT id FROM payers), 'A', 'X', '2026-2027', 'refused', 'complet', \
         '2026-05-06T07:00:00Z', '2026-05-06T08:00:00Z')"
    ))
    .await?;
    Ok(())
}
