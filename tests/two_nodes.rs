//! Two nodes over one database (issue 15): each node its own booking service, web state and
//! connection pool (`TestDb::other_node`), as two `ivr serve` behind the proxies. A web
//! session begun on one node goes on on the other, the planning's recap included; the same
//! meal booked 50 times at once from both (by phone on one, on the web on the other) is one
//! booking with one history line, and every other attempt is told it is already booked.

mod web_support;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::NaiveDate;
use ivr::booking::calendar::Calendar;
use ivr::booking::model::{Action, Channel, ServiceCode};
use ivr::booking::rules::Rules;
use ivr::service::booking::{BookingOutcome, BookingService};
use ivr::service::login::LoginConfig;
use ivr::store::Store;
use ivr::store::testing::TestDb;
use ivr::web::{AppState, Invoicing, WebConfig};
use web_support::{Client, Portal, default_now, planning_state, submit_planning};

/// The first node (seeds the demo families) and the second: its own pool on the same
/// database, its own booking service and web state, the same clock.
async fn two_nodes(db: TestDb) -> (Portal, AppState) {
    let second: Store = db.other_node().await.expect("second node's pool");
    let a = Portal::on(db, WebConfig::default(), Invoicing::default()).await;
    let service = BookingService::new(
        second,
        Rules::default(),
        Calendar::default(),
        LoginConfig::default(),
    )
    .await
    .expect("second node's booking service");
    let b = AppState::new(service, "Mezcalito", WebConfig::default(), a.clock.clone())
        .with_voice(web_support::shipped_prompts());
    (a, b)
}

/// Logged in on node A; the planning shown by node B; the form posted to B; its recap
/// shown by A; logged out on B, and A knows it.
async fn a_session_begun_on_one_node_goes_on_on_the_other(db: TestDb) {
    let (a, b) = two_nodes(db).await;
    let mut on_a = a.parent().await;
    let mut on_b = Client {
        app: ivr::web::router(b.clone()),
        cookie: on_a.cookie.clone(),
    };
    let page = on_b.get("/planning?du=2026-05-04").await;
    assert_eq!(page.status, StatusCode::OK, "node B knows the session");
    page.assert_has(&["Angéline"]);
    let (_, mut want) = planning_state(&page);
    want.push("2026-05-07.REPAS".into());
    let r = submit_planning(&mut on_b, &page, "2026-05-04", &want).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // The page after the form, from the other node: the recap is there, once.
    on_a.cookie = on_b.cookie.clone();
    let after = on_a.get(r.location()).await;
    after.assert_has(&[
        "Modifications enregistrées",
        "inscription, 07/05/2026, Cantine",
    ]);
    on_b.cookie = on_a.cookie.clone();
    on_b.get("/planning")
        .await
        .assert_lacks(&["Modifications enregistrées"]);
    // Logging out on one node ends the session on both.
    let csrf = on_b.get("/planning").await.csrf();
    on_b.post_csrf("/deconnexion", &csrf, &[]).await;
    on_a.cookie = on_b.cookie.clone();
    assert_eq!(on_a.get("/planning").await.location(), "/");
}

/// 25 phone bookings on node A and 25 web bookings on node B of one meal, all at once.
async fn the_same_meal_booked_from_both_nodes_at_once_is_one_booking(db: TestDb) {
    let (a, b) = two_nodes(db).await;
    let child = a.fam.angeline;
    let date = NaiveDate::from_ymd_opt(2026, 5, 7).unwrap();
    let meal = ServiceCode::parse("REPAS").unwrap();
    let services = [
        Arc::new(a.state.service().clone()),
        Arc::new(b.service().clone()),
    ];
    let start = Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let service = services[i % 2].clone();
        let (meal, start) = (meal.clone(), start.clone());
        let channel = if i % 2 == 0 {
            Channel::Phone
        } else {
            Channel::Web
        };
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            service
                .change(
                    child,
                    date,
                    &meal,
                    Action::Book,
                    channel,
                    "parent",
                    default_now(),
                )
                .await
        }));
    }
    let (mut booked, mut already) = (0, 0);
    for t in tasks {
        match t.await.expect("task").expect("no technical failure") {
            BookingOutcome::Booked => booked += 1,
            BookingOutcome::AlreadyBooked => already += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((booked, already), (1, 49));
    let stored =
        a.db.store
            .bookings_between(child, date, date)
            .await
            .unwrap();
    assert_eq!(stored, vec![(date, meal.clone())]);
    let lines: Vec<_> =
        a.db.store
            .history(child, 40)
            .await
            .unwrap()
            .into_iter()
            .filter(|h| h.date == date && h.service == meal)
            .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].action, Action::Book);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_begun_on_one_node_goes_on_on_the_other_on_sqlite() {
    a_session_begun_on_one_node_goes_on_on_the_other(TestDb::sqlite().await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
async fn a_session_begun_on_one_node_goes_on_on_the_other_on_postgres() {
    let Some(db) = TestDb::postgres().await.unwrap() else {
        return;
    };
    a_session_begun_on_one_node_goes_on_on_the_other(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_meal_booked_from_both_nodes_at_once_is_one_booking_on_sqlite() {
    the_same_meal_booked_from_both_nodes_at_once_is_one_booking(TestDb::sqlite().await.unwrap())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
async fn the_same_meal_booked_from_both_nodes_at_once_is_one_booking_on_postgres() {
    let Some(db) = TestDb::postgres().await.unwrap() else {
        return;
    };
    the_same_meal_booked_from_both_nodes_at_once_is_one_booking(db).await;
}
