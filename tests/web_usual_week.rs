//! The "Semaine type" page through the router (`oneshot`): the form, its CSRF check, a
//! forged box refused whole with a clear sentence and nothing written, a pattern set and
//! its recap (booked, skipped and why), next month filled, the staff's line, and the stop
//! that keeps what was booked. Fresh SQLite database with the demo families; the clock on
//! Wednesday 6 May 2026, 09:00.

mod web_support;

use axum::http::StatusCode;
use chrono::NaiveDate;
use web_support::Portal;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

/// The boxes of "Cantine lundi, mardi, jeudi; Accueil Soir mardi", from today, every week.
const PATTERN: [(&str, &str); 7] = [
    ("cell", "REPAS.1"),
    ("cell", "REPAS.2"),
    ("cell", "REPAS.4"),
    ("cell", "SOIR.2"),
    ("du", "2026-05-06"),
    ("au", ""),
    ("rythme", "chaque"),
];

async fn nothing_written(p: &Portal) {
    assert_eq!(p.db.store.usual_week(p.fam.angeline).await.unwrap(), None);
    assert!(
        p.db.store
            .bookings_between(p.fam.angeline, d(5, 1), d(8, 31))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_form_offers_only_the_days_each_service_runs_and_is_linked_from_the_planning() {
    let p = Portal::new().await;
    let (mut c, planning) = p.parent_at("/planning").await;
    planning.assert_has(&["href=\"/semaine-type\""]);
    let page = c.get("/semaine-type").await;
    page.assert_status(StatusCode::OK);
    page.assert_has(&[
        "Semaine type – Angéline MARSONE",
        "Définir une semaine type",
        "value=\"REPAS.1\"",
        "value=\"SOIR.5\"",
        "Cantine le lundi",
        "une semaine sur deux",
        "Enregistrer et réserver",
    ]);
    page.assert_shows("vide : fin de l'année scolaire");
    // No service runs on Wednesday: no such column, let alone a box.
    page.assert_lacks(&["value=\"REPAS.3\"", "mercredi"]);
    // The help page says what it does.
    c.get("/aide")
        .await
        .assert_has(&["id=\"aide-semaine-type\"", "une semaine sur deux"]);
    // Logged out, the page is not shown.
    let r = p.client().get("/semaine-type").await;
    assert_eq!(r.location(), "/");
}

#[tokio::test]
async fn a_post_without_the_forms_token_or_with_a_forged_box_writes_nothing() {
    let p = Portal::new().await;
    let (mut c, page) = p.parent_at("/semaine-type").await;
    // Without the token the form is not even read (422), with another one it is refused.
    let r = c.post("/semaine-type", &PATTERN).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .post_csrf("/semaine-type", &"0".repeat(64), &PATTERN)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    nothing_written(&p).await;

    let csrf = page.csrf();
    let with = |extra: (&'static str, &'static str)| {
        let mut f = PATTERN.to_vec();
        f.push(extra);
        f
    };
    for (extra, sentence) in [
        (
            ("cell", "REPAS.3"),
            "Semaine type non enregistrée : pas de cantine le mercredi : cette prestation n'a pas lieu ce jour-là.",
        ),
        (
            ("cell", "PISCINE.1"),
            "Semaine type non enregistrée : la prestation « PISCINE » n'existe pas.",
        ),
        (
            ("cell", "REPAS.9"),
            "Semaine type non enregistrée : case invalide.",
        ),
        (
            ("cell", "REPAS"),
            "Semaine type non enregistrée : case invalide.",
        ),
    ] {
        let r = c.post_csrf("/semaine-type", &csrf, &with(extra)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{extra:?}");
        r.assert_shows(sentence);
        nothing_written(&p).await;
    }
    let mut never = PATTERN.to_vec();
    never[6] = ("rythme", "jamais");
    let r = c.post_csrf("/semaine-type", &csrf, &never).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    r.assert_shows("Semaine type non enregistrée : rythme invalide.");
    let mut backwards = PATTERN.to_vec();
    backwards[5] = ("au", "2026-05-01");
    let r = c.post_csrf("/semaine-type", &csrf, &backwards).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    r.assert_shows("la date de fin est avant la date de début");
    let r = c
        .post_csrf(
            "/semaine-type",
            &csrf,
            &[("du", "2026-05-06"), ("rythme", "chaque")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    r.assert_shows("cochez au moins une prestation");
    nothing_written(&p).await;
}

#[tokio::test]
async fn a_usual_week_books_next_month_shows_what_it_skipped_and_stops_keeping_its_bookings() {
    let p = Portal::new().await;
    let (mut c, page) = p.parent_at("/semaine-type").await;
    let r = c.post_csrf("/semaine-type", &page.csrf(), &PATTERN).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/semaine-type");
    let recap = c.get("/semaine-type").await;
    recap.assert_has(&[
        "Semaine type appliquée",
        "Jours réservés du 06/05/2026 au 30/06/2026.",
        // Thursday's meal is open until 10:00 today.
        "inscription, 07/05/2026, Cantine",
        "inscription, 30/06/2026, Accueil Soir",
        "Jours non réservés",
        // Tuesday 12 May's meal? Open. Thursday 14 May is Ascension, 25 May Whit Monday.
        "14/05/2026, Cantine : Pas de cantine le jeudi 14 mai, jour férié (Ascension).",
        "25/05/2026, Cantine : Pas de cantine le lundi 25 mai, jour férié (Lundi de Pentecôte).",
        "Semaine type en cours",
        "Cantine lundi, mardi et jeudi ; Accueil Soir mardi",
        "Arrêter la semaine type",
    ]);
    recap.assert_shows("à la fin de l'année scolaire, chaque semaine.");
    // Shown once.
    c.get("/semaine-type")
        .await
        .assert_lacks(&["Semaine type appliquée"]);

    // Next month is filled: June's Mondays, Tuesdays and Thursdays, and Tuesday evenings.
    let june =
        p.db.store
            .bookings_between(p.fam.angeline, d(6, 1), d(6, 30))
            .await
            .unwrap();
    assert_eq!(june.len(), 5 + 5 + 4 + 5);
    assert!(june.iter().all(|(day, s)| {
        use chrono::Datelike;
        let wd = day.weekday().number_from_monday();
        (s.as_str() == "REPAS" && [1, 2, 4].contains(&wd)) || (s.as_str() == "SOIR" && wd == 2)
    }));
    let planning = c.get("/planning?du=2026-06-01").await;
    planning.assert_has(&["value=\"2026-06-01.REPAS\" checked"]);
    // The history says the pattern did it.
    c.get("/historique")
        .await
        .assert_has(&["par internet (semaine type)"]);

    // Staff see the running pattern.
    let (_, staff) = p.staff_at("/mairie/delais").await;
    staff.assert_has(&[
        "Semaines types des familles",
        "1 semaine(s) type(s) en cours.",
    ]);

    // Stopped without asking: every booking stays.
    let csrf = c.get("/semaine-type").await.csrf();
    let r = c.post_csrf("/semaine-type/arreter", &csrf, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.get("/semaine-type").await;
    page.assert_has(&[
        "Semaine type arrêtée. Les inscriptions déjà faites sont gardées.",
        "Définir une semaine type",
    ]);
    page.assert_lacks(&["Semaine type en cours"]);
    let after =
        p.db.store
            .bookings_between(p.fam.angeline, d(6, 1), d(6, 30))
            .await
            .unwrap();
    assert_eq!(after, june);
}

#[tokio::test]
async fn stopping_with_the_box_ticked_cancels_the_patterns_future_bookings() {
    let p = Portal::new().await;
    let (mut c, page) = p.parent_at("/semaine-type").await;
    c.post_csrf("/semaine-type", &page.csrf(), &PATTERN).await;
    let csrf = c.get("/semaine-type").await.csrf();
    let r = c
        .post_csrf("/semaine-type/arreter", &csrf, &[("annuler", "oui")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    c.get("/semaine-type")
        .await
        .assert_has(&["Semaine type arrêtée.", "inscription(s) à venir annulée(s)"]);
    assert!(
        p.db.store
            .bookings_between(p.fam.angeline, d(5, 7), d(6, 30))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_closure_removed_by_staff_lets_the_job_book_the_day_at_once_and_staff_see_the_pass() {
    let p = Portal::new().await;
    let mut staff = p.staff().await;
    let csrf = staff.get("/mairie/delais").await.csrf();
    staff
        .post_csrf(
            "/mairie/delais/fermeture",
            &csrf,
            &[("date", "2026-06-04"), ("label", "Grève")],
        )
        .await;
    staff
        .get("/mairie/delais")
        .await
        .assert_has(&["Semaines types : 0 inscription(s) ajoutée(s)"]);
    // The pattern is set while Thursday 4 June is closed: that day is skipped, and said so.
    let (mut c, page) = p.parent_at("/semaine-type").await;
    c.post_csrf("/semaine-type", &page.csrf(), &PATTERN).await;
    c.get("/semaine-type").await.assert_shows(
        "04/06/2026, Cantine : Pas de cantine le jeudi 4 juin : la mairie est fermée ce jour-là.",
    );
    let thursday = || async {
        p.db.store
            .is_booked(
                p.fam.angeline,
                d(6, 4),
                &ivr::booking::model::ServiceCode::parse("REPAS").unwrap(),
            )
            .await
            .unwrap()
    };
    assert!(!thursday().await);
    // Staff reopen the day: the usual weeks are booked right away, not at night.
    let r = staff
        .post_csrf("/mairie/delais/fermeture/2026-06-04/supprimer", &csrf, &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(thursday().await, "4 June booked by the job");
    let page = staff.get("/mairie/delais").await;
    page.assert_has(&[
        "Fermeture supprimée. Semaines types : 1 inscription(s) ajoutée(s)",
        "1 semaine(s) type(s) en cours.",
        "(fermeture) : 1 semaine(s) type(s), 1 inscription(s) faite(s)",
    ]);
}
