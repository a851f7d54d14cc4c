//! The staff dashboard (`/mairie/tableau-de-bord`) over call records and the booking
//! history, on SQLite and on PostgreSQL: calls per quarter-hour in the town's time with
//! the peak named, outcomes, where callers hung up, changes by channel, logins refused,
//! head-counts beside the CSV; charts as SVG images with a name; staff only.

mod web_support;

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use ivr::booking::model::{Action, Channel, ServiceCode};
use ivr::store::testing::TestDb;
use ivr::store::{CallOutcome, CallRecord, EndedBy};
use web_support::{Portal, default_now, paris};

fn record(at: DateTime<Utc>, outcome: CallOutcome, ended_by: EndedBy, step: &str) -> CallRecord {
    CallRecord {
        started_at: at,
        ended_at: at + chrono::Duration::seconds(40),
        line: "0476549985".into(),
        caller: "h:0123456789abcdef".into(),
        dialplan: "default".into(),
        outcome,
        logins_failed: u32::from(outcome == CallOutcome::LoginFailed) * 2,
        booked: u32::from(outcome == CallOutcome::Changed),
        cancelled: 0,
        refused: 0,
        failed: 0,
        last_step: step.into(),
        ended_by,
    }
}

async fn suite(p: Portal) {
    let store = p.state.service().store();
    // Wednesday 6 May 2026 in Paris: two calls in 09:45-10:00, one at 10:01, one the day
    // before and one at 00:10 on the 7th (22:10 UTC on the 6th), which are not this day's.
    for (at, outcome, by, step) in [
        (
            paris(2026, 5, 6, 9, 50),
            CallOutcome::Changed,
            EndedBy::Line,
            "au_revoir",
        ),
        (
            paris(2026, 5, 6, 9, 58),
            CallOutcome::LoginFailed,
            EndedBy::Caller,
            "code_payeur",
        ),
        (
            paris(2026, 5, 6, 10, 1),
            CallOutcome::NoLogin,
            EndedBy::Caller,
            "bienvenue",
        ),
        (
            paris(2026, 5, 5, 9, 55),
            CallOutcome::Consulted,
            EndedBy::Caller,
            "menu",
        ),
        (
            paris(2026, 5, 7, 0, 10),
            CallOutcome::Consulted,
            EndedBy::Caller,
            "menu",
        ),
    ] {
        store
            .insert_call_record(&record(at, outcome, by, step))
            .await
            .unwrap();
    }
    let (from, to) = ivr::store::day_range(
        NaiveDate::from_ymd_opt(2026, 5, 6).unwrap(),
        chrono_tz::Europe::Paris,
    );
    assert_eq!(store.call_records_between(from, to).await.unwrap().len(), 3);

    // Thursday's meal booked on the web for Angéline and by phone for Théo.
    let meal = ServiceCode::parse("REPAS").unwrap();
    let thursday = NaiveDate::from_ymd_opt(2026, 5, 7).unwrap();
    for (child, channel) in [(p.fam.angeline, Channel::Web), (p.fam.theo, Channel::Phone)] {
        p.state
            .service()
            .change(
                child,
                thursday,
                &meal,
                Action::Book,
                channel,
                "parent",
                default_now(),
            )
            .await
            .unwrap();
    }

    // Two wrong pairs on the web and one by phone this morning.
    let (child, wrong) = (
        ivr::booking::model::ChildCode::parse("9999").unwrap(),
        ivr::booking::model::PayerCode::parse("999999").unwrap(),
    );
    for source in ["ip:192.0.2.8", "ip:192.0.2.9", "phone:0612345678"] {
        p.state
            .service()
            .login(source, &child, &wrong, default_now())
            .await
            .unwrap_err();
    }

    // Nobody but staff sees it.
    let anonymous = p.client().get("/mairie/tableau-de-bord").await;
    assert_ne!(anonymous.status, StatusCode::OK);
    let (_, parent_view) = p.parent_at("/mairie/tableau-de-bord").await;
    assert!(
        !parent_view.shows("Appels au serveur vocal"),
        "{}",
        parent_view.body
    );

    // Today by default.
    let (mut c, page) = p.staff_at("/mairie/tableau-de-bord").await;
    page.assert_status(StatusCode::OK);
    page.assert_has(&[
        "Tableau de bord du mercredi 6 mai 2026",
        "Appels au serveur vocal : 3",
        "3 appels ; le quart d'heure le plus chargé, 09h45 à 10h00, en compte 2.",
        r#"role="img" aria-labelledby="calls-chart-title calls-chart-desc""#,
        "<title>09h : 2</title>",
        "<title>10h : 1</title>",
        "Codes erronés au téléphone ce jour-là : <strong>2</strong>",
        "Appels arrêtés par le blocage : <strong>0</strong>",
        "<th scope=\"row\">portail</th><td>2</td><td>0</td>",
        "<th scope=\"row\">téléphone</th><td>1</td><td>0</td>",
        // Where the caller hung up (the line's own end is not counted there).
        "<code>code_payeur</code>",
        "<code>bienvenue</code>",
        // Changes: one by web and one by phone today, in the table and the legend.
        r#"aria-labelledby="changes-chart-title changes-chart-desc""#,
        "2 inscriptions et annulations du jeudi 30 avril au mercredi 6 mai, par canal.",
        "Aucune inscription ce jour-là.",
    ]);
    page.assert_lacks(&["<code>au_revoir</code>", "0123456789abcdef"]);
    assert!(
        page.shows("<td>1 / 0</td><td>1 / 0</td><td>0 / 0</td>"),
        "{}",
        page.body
    );

    // Thursday: its head-count as a chart beside the CSV; no calls yet but the one at 00:10.
    let page = c.get("/mairie/tableau-de-bord?date=2026-05-07").await;
    page.assert_has(&[
        "Appels au serveur vocal : 1",
        "2 inscriptions le jeudi 7 mai, par école et prestation.",
        r#"aria-labelledby="heads-chart-title heads-chart-desc""#,
        r#"href="/mairie/effectifs.csv?date=2026-05-07""#,
    ]);

    // A wrong date is a clear error, not a crash.
    let bad = c.get("/mairie/tableau-de-bord?date=2026-13-40").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    // Retention: records and daily figures before the limit go, the rest stays.
    let purged = store
        .purge_call_records(
            paris(2026, 5, 6, 0, 0),
            NaiveDate::from_ymd_opt(2026, 5, 6).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(purged, 1, "the call of the 5th");
    let kept = store
        .call_records_between(paris(2026, 5, 1, 0, 0), paris(2026, 5, 8, 0, 0))
        .await
        .unwrap();
    assert_eq!(kept.len(), 4);
    assert_eq!(
        store
            .login_refusals(NaiveDate::from_ymd_opt(2026, 5, 6).unwrap())
            .await
            .unwrap()
            .len(),
        2
    );
    store
        .purge_call_records(
            paris(2026, 5, 6, 0, 0),
            NaiveDate::from_ymd_opt(2026, 5, 7).unwrap(),
        )
        .await
        .unwrap();
    assert!(
        store
            .login_refusals(NaiveDate::from_ymd_opt(2026, 5, 6).unwrap())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_dashboard_shows_the_day_s_calls_changes_and_logins_on_sqlite() {
    suite(Portal::new().await).await;
}

#[tokio::test]
#[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
async fn the_dashboard_shows_the_day_s_calls_changes_and_logins_on_postgres() {
    let Some(db) = TestDb::postgres().await.unwrap() else {
        return;
    };
    suite(Portal::on(db, Default::default(), Default::default()).await).await;
}
