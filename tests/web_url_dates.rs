//! Issue 13, finding 10: `/planning?du=-262143-01-01` panicked in the handler (chrono reads
//! years down to -262143, where a week's arithmetic overflows). Every date an address or a
//! form can carry, at chrono's limits and just outside the service years, now gets a clear
//! 400, for parents and for staff, and the pages still answer afterwards.

mod web_support;

use axum::http::StatusCode;
use web_support::Portal;

/// Dates at chrono's limits, and just outside what a school service can mean.
const EXTREME: &[&str] = &[
    "-262143-01-01",
    "+262142-12-31",
    "262142-12-31",
    "0000-01-01",
    "1999-12-31",
    "2200-01-01",
];

#[tokio::test]
async fn extreme_dates_in_addresses_and_forms_are_a_clear_400() {
    let portal = Portal::new().await;
    let mut parent = portal.parent().await;
    for d in EXTREME {
        let page = parent.get(&format!("/planning?du={d}")).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "/planning?du={d}");
        assert!(
            page.body.contains("date de début invalide"),
            "{}",
            page.body
        );
    }
    let page = parent.get("/planning").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf();
    for d in EXTREME {
        let cell = format!("{d}.REPAS");
        let r = parent
            .post("/planning", &[("csrf", &csrf), ("du", d), ("want", &cell)])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "planning du={d}");
        let r = parent
            .post(
                "/planning",
                &[("csrf", &csrf), ("du", "2026-05-04"), ("want", &cell)],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "planning cell {d}");
    }

    let mut staff = portal.staff().await;
    for d in EXTREME {
        let page = staff.get(&format!("/mairie/effectifs?date={d}")).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "effectifs {d}");
        let page = staff.get(&format!("/mairie/effectifs.csv?date={d}")).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "effectifs.csv {d}");
    }
    let page = staff.get("/mairie/delais").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf();
    for d in EXTREME {
        let r = staff
            .post(
                "/mairie/delais/fermeture",
                &[("csrf", &csrf), ("date", d), ("label", "Pont")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "closure {d}: {}", r.body);
    }
    // Still answering.
    assert_eq!(parent.get("/planning").await.status, StatusCode::OK);
    assert_eq!(staff.get("/mairie/effectifs").await.status, StatusCode::OK);
}
