//! The parents' pages through the router (`oneshot`), each test on a fresh SQLite
//! database with the demo families and a fixed clock (Wednesday 6 May 2026, 09:00).

mod web_support;

use axum::http::StatusCode;
use chrono::NaiveDate;
use ivr::booking::model::{Action, Channel, ChildCode, PayerCode, ServiceCode};
use ivr::web::WebConfig;
use web_support::{Portal, paris, planning_state, post_cells, submit_planning};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn svc(s: &str) -> ServiceCode {
    ServiceCode::parse(s).unwrap()
}

/// How many changes Angéline's history lists.
async fn history_len(p: &Portal) -> usize {
    p.db.store.history(p.fam.angeline, 40).await.unwrap().len()
}

/// Angéline's bookings from `from` to `to`.
async fn bookings(p: &Portal, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, ServiceCode)> {
    p.db.store
        .bookings_between(p.fam.angeline, from, to)
        .await
        .unwrap()
}

/// The demo parent's codes.
const CODES: [(&str, &str); 2] = [("child_code", "3011"), ("payer_code", "770021")];

#[tokio::test]
async fn health_and_stylesheet_answer() {
    let p = Portal::new().await;
    let mut c = p.client();
    let h = c.get("/health").await;
    assert_eq!((h.status, h.body.as_str()), (StatusCode::OK, "ok"));
    let css = c.get("/static/style.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.body.contains("td.booked"));
    let missing = c.get("/nulle-part").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("cette page n'existe pas"));
}

#[tokio::test]
async fn login_page_shows_codes_message_and_help_escaped_and_sets_a_safe_cookie() {
    let p = Portal::new().await;
    p.state
        .service()
        .set_town_message(Some("Fermé <script>alert('x')</script> jeudi"))
        .await
        .unwrap();
    let mut c = p.client();
    let page = c.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "Code enfant :",
        "Code payeur :",
        "Connexion",
        "Besoin d'aide ? Consultez notre aide en ligne",
        "Message de votre mairie",
    ] {
        assert!(page.body.contains(text), "missing {text}");
    }
    assert!(
        page.body
            .contains("Fermé &lt;script&gt;alert('x')&lt;/script&gt; jeudi")
    );
    assert!(!page.body.contains("<script>"));
    let cookie = page.set_cookie().expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: {cookie}"
    );
    assert!(page.headers.get("content-security-policy").is_some());
    // The form posts; codes never go in a URL.
    assert!(page.body.contains("method=\"post\" action=\"/connexion\""));

    let secure = Portal::with_config(WebConfig {
        public_base_url: "https://portail.example.fr".into(),
        ..WebConfig::default()
    })
    .await;
    let page = secure.client().get("/").await;
    assert!(page.set_cookie().unwrap().contains("Secure"));
}

#[tokio::test]
async fn good_codes_open_the_planning_with_a_new_session_id() {
    let p = Portal::new().await;
    let mut c = p.client();
    let page = c.get("/").await;
    let anon = c.cookie.clone().unwrap();
    let r = c.post_csrf("/connexion", &page.csrf(), &CODES).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/planning");
    assert_ne!(
        c.cookie.as_deref(),
        Some(anon.as_str()),
        "session id renewed at login"
    );
    assert!(!r.location().contains("3011") && !r.location().contains("770021"));
    c.get("/planning")
        .await
        .assert_status(StatusCode::OK)
        .assert_has(&["Angéline MARSONE", "CE1 - Mme Formatrice"]);
    // The old anonymous session is gone.
    let mut old = p.client();
    old.cookie = Some(anon);
    assert_eq!(old.get("/planning").await.location(), "/");
}

#[tokio::test]
async fn wrong_codes_get_one_sentence_whichever_is_wrong() {
    let p = Portal::new().await;
    let mut bodies = Vec::new();
    for (child, payer) in [
        ("3011", "770022"),
        ("3019", "770021"),
        ("4000", "770021"),
        ("30a1", "770021"),
    ] {
        let mut c = p.client();
        let r = c.parent_login(child, payer).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{child}/{payer}");
        let start = r.body.find("id=\"erreur-connexion\"").expect("error shown");
        bodies.push(r.body[start..start + 150].to_owned());
        assert!(r.body.contains("Codes incorrects"));
        assert!(!r.body.contains(child) || child == "30a1" && !r.body.contains("value=\"30a1\""));
        assert_eq!(c.get("/planning").await.location(), "/");
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
}

#[tokio::test]
async fn repeated_failures_lock_the_web_login_as_the_phone_does() {
    let p = Portal::new().await;
    let mut c = p.client();
    let mut last = StatusCode::OK;
    for _ in 0..12 {
        last = c.parent_login("3011", "111111").await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // Even the right codes are refused now, for this child code.
    let r = c.parent_login("3011", "770021").await;
    r.assert_status(StatusCode::TOO_MANY_REQUESTS)
        .assert_has(&["bloquée jusqu'au"]);
    // The phone sees the same lockout (shared counters).
    let phone = p
        .state
        .service()
        .login(
            "phone:+33600000000",
            &ChildCode::parse("3011").unwrap(),
            &PayerCode::parse("770021").unwrap(),
            p.state.now(),
        )
        .await;
    assert!(matches!(
        phone,
        Err(ivr::service::login::LoginError::TooManyAttempts { .. })
    ));
}

#[tokio::test]
async fn login_with_a_forged_or_missing_csrf_token_is_refused() {
    let p = Portal::new().await;
    let mut c = p.client();
    let page = c.get("/").await;
    let mut forged = page.csrf().into_bytes();
    forged[0] = if forged[0] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged).unwrap();
    let r = c.post_csrf("/connexion", &forged, &CODES).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    r.assert_has(&["le formulaire a expiré"]);
    // No cookie at all: refused too.
    let r = p
        .client()
        .post_csrf("/connexion", &page.csrf(), &CODES)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn planning_shows_weeks_booked_locked_and_greyed_cells() {
    let p = Portal::new().await;
    // Booked earlier by phone: Tuesday 5 May (now locked) and Monday 11 May (open).
    let at = paris(2026, 5, 1, 8, 0);
    for date in [d(2026, 5, 5), d(2026, 5, 11)] {
        let o = p
            .earlier(
                p.fam.angeline,
                date,
                "REPAS",
                Action::Book,
                Channel::Phone,
                at,
            )
            .await;
        assert!(o.changed());
    }
    let (mut c, page) = p.parent_at("/planning").await;
    let b = &page.body;
    for text in [
        "Semaine N° 19",
        "Semaine N° 20",
        "Semaine N° 21",
        "Semaine N° 22",
        ">Lu<",
        ">Ma<",
        ">Me<",
        ">Je<",
        ">Ve<",
        "Accueil Matin",
        "Accueil 12h15",
        "Accueil Soir",
        "Cantine",
        "Précédent",
        "Aujourd'hui",
        "Suivant",
        "Validez vos modifications",
        "Voir les dernières modifications",
        "Choisir un autre enfant",
        "Déconnexion",
    ] {
        assert!(b.contains(text), "missing {text}");
    }
    // Tuesday's booked meal: green and locked, deadline written in the cell.
    let (shown, want) = planning_state(&page);
    assert!(
        !shown.contains(&"2026-05-05.REPAS".to_owned()),
        "locked cell is not editable"
    );
    assert!(
        b.contains("<span class=\"sr-only\">depuis le </span>04/05 10h00"),
        "deadline readable in the cell"
    );
    assert!(b.contains(
        "Les annulations pour le mardi 5 mai sont closes depuis le lundi 4 mai à 10h00."
    ));
    // Under the week, what is locked: one line per service, naming it, each day's deadline
    // (the meal's 10h beside the morning care's 16h, never two sentences that read alike).
    for line in [
        "<li>Cantine : closes depuis le jeudi 30/04 à 10h00 pour le lundi 04/05 ; depuis le lundi 04/05 à 10h00 pour le mardi 05/05.</li>",
        "<li>Accueil Matin : closes depuis le jeudi 30/04 à 16h00 pour le lundi 04/05 ; depuis le lundi 04/05 à 16h00 pour le mardi 05/05.</li>",
    ] {
        assert!(b.contains(line), "missing {line}: {b}");
    }
    assert!(
        !b.contains("<li>Les "),
        "a locked cell's sentence without its service"
    );
    assert!(b.contains("class=\"booked locked\""));
    // Monday 11: booked and open.
    assert!(want.contains(&"2026-05-11.REPAS".to_owned()));
    // Thursday 7 meal open until today 10:00; Wednesday greyed; Friday 8 May a holiday.
    assert!(shown.contains(&"2026-05-07.REPAS".to_owned()));
    assert!(!shown.iter().any(|k| k.starts_with("2026-05-06")));
    assert!(b.contains("pas de service"));
    assert!(b.contains("férié"));
    // Paging.
    assert!(b.contains("href=\"/planning?du=2026-04-06\""));
    assert!(b.contains("href=\"/planning?du=2026-06-01\""));
    let next = c.get("/planning?du=2026-06-01").await;
    next.assert_has(&["Semaine N° 23"]);
    let bad = c.get("/planning?du=demain").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn validating_submits_only_real_changes_and_shows_the_recap() {
    let p = Portal::new().await;
    let (mut c, page) = p.parent_at("/planning").await;
    let (_, mut want) = planning_state(&page);
    want.push("2026-05-07.REPAS".into());
    want.push("2026-05-11.MATIN".into());
    let r = submit_planning(&mut c, &page, "2026-05-04", &want).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/planning?du=2026-05-04");
    let after = c.get(r.location()).await;
    after.assert_has(&[
        "Modifications enregistrées",
        "inscription, 07/05/2026, Cantine",
        "inscription, 11/05/2026, Accueil Matin",
    ]);
    after.assert_lacks(&["Modifications refusées"]);
    let booked = bookings(&p, d(2026, 5, 4), d(2026, 5, 31)).await;
    assert_eq!(
        booked,
        vec![
            (d(2026, 5, 7), svc("REPAS")),
            (d(2026, 5, 11), svc("MATIN"))
        ]
    );
    // The recap is shown once.
    c.get("/planning")
        .await
        .assert_lacks(&["Modifications enregistrées"]);

    // Submitting the page as it is changes nothing.
    let page = c.get("/planning").await;
    let (_, want) = planning_state(&page);
    let r = submit_planning(&mut c, &page, "2026-05-04", &want).await;
    let again = c.get(r.location()).await;
    again.assert_has(&["Aucune modification."]);
    assert_eq!(history_len(&p).await, 2);

    // Unticking cancels.
    let want: Vec<String> = want
        .into_iter()
        .filter(|k| k != "2026-05-11.MATIN")
        .collect();
    let r = submit_planning(&mut c, &page, "2026-05-04", &want).await;
    let after = c.get(r.location()).await;
    after.assert_has(&["annulation, 11/05/2026, Accueil Matin"]);
}

#[tokio::test]
async fn a_hand_made_post_ticking_a_locked_cell_is_refused_reported_and_writes_nothing() {
    let p = Portal::new().await;
    let (mut c, page) = p.parent_at("/planning").await;
    // Tuesday 5 May's meal closed on Monday at 10:00; Wednesday has no service.
    let shown = ["2026-05-05.REPAS"];
    let want = ["2026-05-05.REPAS", "2026-05-06.MATIN"];
    let r = post_cells(&mut c, &page.csrf(), "2026-05-04", &shown, &want).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after = c.get(r.location()).await;
    after.assert_has(&[
        "Modifications refusées",
        "inscription, 05/05/2026, Cantine : Les inscriptions pour le mardi 5 mai sont closes depuis le lundi 4 mai à 10h00.",
    ]);
    after.assert_shows(
        "inscription, 06/05/2026, Accueil Matin : Pas d'accueil matin le mercredi 6 mai.",
    );
    after.assert_has(&["Aucune modification."]);
    assert!(bookings(&p, d(2026, 5, 1), d(2026, 5, 31)).await.is_empty());
    assert_eq!(history_len(&p).await, 0);
}

#[tokio::test]
async fn planning_post_with_forged_csrf_or_junk_cells_writes_nothing() {
    let p = Portal::new().await;
    let mut c = p.parent().await;
    let week = |want| [("du", "2026-05-04"), ("want", want)];
    let r = c
        .post_csrf("/planning", &"0".repeat(64), &week("2026-05-07.REPAS"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let csrf = c.get("/planning").await.csrf();
    for junk in [
        "2026-05-07.repas",
        "2026-05-07",
        "2027-01-07.REPAS",
        "<b>.REPAS",
    ] {
        let r = c.post_csrf("/planning", &csrf, &week(junk)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{junk}");
    }
    assert_eq!(history_len(&p).await, 0);
}

#[tokio::test]
async fn last_changes_list_bookings_green_cancellations_orange_with_channel() {
    let p = Portal::new().await;
    let t = paris(2026, 5, 4, 8, 0);
    let (angeline, thursday) = (p.fam.angeline, d(2026, 5, 7));
    // Staff booked the morning care an hour before.
    let before = paris(2026, 5, 4, 7, 0);
    p.earlier(
        angeline,
        d(2026, 5, 11),
        "MATIN",
        Action::Book,
        Channel::Staff,
        before,
    )
    .await;
    p.earlier(angeline, thursday, "REPAS", Action::Book, Channel::Phone, t)
        .await;
    p.earlier(angeline, thursday, "REPAS", Action::Cancel, Channel::Web, t)
        .await;
    // Theo's change is not Angéline's.
    p.earlier(
        p.fam.theo,
        d(2026, 5, 11),
        "SOIR",
        Action::Book,
        Channel::Web,
        t,
    )
    .await;
    let (mut c, planning) = p.parent_at("/planning").await;
    planning.assert_has(&["href=\"/historique\""]);
    let h = c.get("/historique").await;
    assert_eq!(h.status, StatusCode::OK);
    let cancel = h
        .body
        .find("class=\"cancel\"")
        .expect("orange cancellation");
    let book = h.body.find("class=\"book\"").expect("green booking");
    assert!(cancel < book, "newest first");
    h.assert_has(&[
        "annulation</strong>, 07/05/2026, Cantine – par internet",
        "inscription</strong>, 07/05/2026, Cantine – par téléphone",
        "inscription</strong>, 11/05/2026, Accueil Matin – par la mairie",
    ]);
    h.assert_lacks(&["Accueil Soir", "par mairie"]);
    // The last changes are not the planning: no tab is marked as the page shown.
    h.assert_has(&["<a href=\"/planning\">Planning</a>"]);
    h.assert_lacks(&["aria-current"]);
    planning.assert_has(&["<a href=\"/planning\" aria-current=\"page\">Planning</a>"]);
}

#[tokio::test]
async fn choosing_another_child_only_among_the_payers_children() {
    let p = Portal::new().await;
    let (mut c, list) = p.parent_at("/enfants").await;
    list.assert_has(&["Théo MARSONE", "Angéline MARSONE"]);
    list.assert_lacks(&["Léa"]);
    let csrf = list.csrf();
    // Another family's child, an unknown id, junk: refused, still on Angéline.
    for id in [
        p.fam.other_child.0.to_string(),
        "999999".into(),
        "abc".into(),
    ] {
        let r = c.post_csrf("/enfants", &csrf, &[("child", &id)]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
        r.assert_shows("cet enfant n'est pas rattaché");
    }
    c.get("/planning").await.assert_has(&["Angéline MARSONE"]);
    let theo = p.fam.theo.0.to_string();
    let r = c
        .post_csrf("/enfants", &"f".repeat(64), &[("child", &theo)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c.post_csrf("/enfants", &csrf, &[("child", &theo)]).await;
    assert_eq!(r.location(), "/planning");
    let page = c.get("/planning").await;
    page.assert_has(&["Théo MARSONE", "CP - M. Lecteur"]);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let p = Portal::new().await;
    let (mut c, page) = p.parent_at("/planning").await;
    let cookie = c.cookie.clone();
    let r = c.post_csrf("/deconnexion", &page.csrf(), &[]).await;
    assert_eq!(r.location(), "/");
    assert!(
        r.set_cookie().unwrap().contains("Max-Age=0")
            || r.set_cookie().unwrap().contains("Expires")
    );
    let mut replay = p.client();
    replay.cookie = cookie;
    assert_eq!(replay.get("/planning").await.location(), "/");
    assert_eq!(replay.get("/historique").await.location(), "/");
}

#[tokio::test]
async fn parents_cannot_open_staff_pages_and_staff_cannot_open_parents_pages() {
    let p = Portal::new().await;
    let mut parent = p.parent().await;
    for path in [
        "/mairie/message",
        "/mairie/annonce",
        "/mairie/delais",
        "/mairie/effectifs",
        "/mairie/effectifs.csv",
    ] {
        let r = parent.get(path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    let mut staff = p.staff().await;
    for path in ["/planning", "/historique", "/enfants"] {
        let r = staff.get(path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    // Nobody: sent to the right login.
    let mut nobody = p.client();
    assert_eq!(nobody.get("/planning").await.location(), "/");
    assert_eq!(
        nobody.get("/mairie/delais").await.location(),
        "/mairie/connexion"
    );
}

#[tokio::test]
async fn help_page_is_public_and_follows_the_seed() {
    let p = Portal::new().await;
    let page = p.client().get("/aide").await;
    page.assert_status(StatusCode::OK).assert_has(&[
        "Connexion",
        "Le planning",
        "surlignées en vert",
        "Validez vos modifications",
        "Choisir un autre enfant",
        "40 dernières actions",
        "Déconnexion",
    ]);
}

#[tokio::test]
async fn behind_a_trusted_proxy_https_makes_the_cookie_secure() {
    let p = Portal::with_config(WebConfig {
        behind_proxy: true,
        ..WebConfig::default()
    })
    .await;
    let from = |peer: [u8; 4]| {
        let mut req = axum::http::Request::get("/")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-for", "192.0.2.7")
            .body(axum::body::Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                peer, 40000,
            ))));
        req
    };
    let page = p.client().send(from([127, 0, 0, 1])).await;
    assert!(page.set_cookie().unwrap().contains("Secure"));
    // The same headers from a peer that is no trusted proxy: not believed.
    let page = p.client().send(from([192, 0, 2, 99])).await;
    assert!(!page.set_cookie().unwrap().contains("Secure"));
    // Without the proxy's word, plain HTTP: no Secure (the cookie would never come back).
    let page = p.client().get("/").await;
    assert!(!page.set_cookie().unwrap().contains("Secure"));
}

/// Issue 13, finding 10: sessions lived in the server's memory, so a restart logged every
/// parent out. They are in the database now: the same cookie opens the planning on a new
/// server (new state, same database).
#[tokio::test]
async fn a_session_survives_a_restart() {
    session_survives_a_restart(Portal::new().await).await;
}

/// The same on PostgreSQL (when `TEST_DATABASE_URL` is set).
#[tokio::test]
#[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
async fn postgres_a_session_survives_a_restart() {
    if let Some(db) = ivr::store::testing::TestDb::postgres().await.unwrap() {
        let p = Portal::on(db, Default::default(), Default::default()).await;
        session_survives_a_restart(p).await;
    }
}

async fn session_survives_a_restart(mut p: Portal) {
    let mut c = p.parent().await;
    assert_eq!(c.get("/planning").await.status, StatusCode::OK);
    p.restart().await;
    c.app = p.app();
    let page = c.get("/planning").await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "still logged in: {}",
        page.location()
    );
    page.assert_has(&["Angéline MARSONE"]);
    // "Choisir un autre enfant" is written to the stored session too.
    let theo = p.fam.theo.0.to_string();
    let r = c.submit("/enfants", "/enfants", &[("child", &theo)]).await;
    assert_eq!(r.location(), "/planning");
    p.restart().await;
    c.app = p.app();
    let page = c.get("/planning").await;
    page.assert_has(&["Théo MARSONE"]);
    // Its forms still carry a token the new server accepts.
    let r = c.post_csrf("/deconnexion", &page.csrf(), &[]).await;
    assert_eq!(r.location(), "/");
    assert_eq!(c.get("/planning").await.location(), "/");
}

/// Issue 13, finding 8: ten wrong tries from anywhere locked child 3011 for 15 minutes,
/// and the family's right codes were refused. A browser that logged in for 3011 before
/// carries a signed device cookie now, and failures from elsewhere never lock it out;
/// a browser without one (or with a forged one) is still locked.
#[tokio::test]
async fn a_known_browser_is_not_locked_out_by_failures_from_elsewhere() {
    let p = Portal::new().await;
    let mut family = p.client();
    let r = family.parent_login("3011", "770021").await;
    assert_eq!(r.location(), "/planning");
    let device = r.cookie_named("ivr_device");
    family.submit("/planning", "/deconnexion", &[]).await;

    // Ten wrong payer codes for 3011 from another browser, a minute apart.
    let mut attacker = p.client();
    for i in 0..10 {
        p.clock.set(p.state.now() + chrono::Duration::seconds(61));
        let r = attacker.parent_login("3011", &format!("10000{i}")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    p.clock.set(p.state.now() + chrono::Duration::minutes(1));

    // The family's browser: in.
    let r = family.parent_login("3011", "770021").await;
    assert_eq!(r.location(), "/planning", "{}", r.body);
    // A browser never seen, with the right codes: locked.
    let mut fresh = p.client();
    let r = fresh.parent_login("3011", "770021").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // The cookie: HttpOnly, SameSite=Lax, 180 days, no code in it.
    let device = device.expect("a device cookie");
    assert!(
        device.contains("HttpOnly") && device.contains("SameSite=Lax"),
        "{device}"
    );
    assert!(device.contains("Max-Age=15552000"), "180 days: {device}");
    assert!(!device.contains("3011") && !device.contains("770021"));
    // A forged device cookie is no device: locked.
    let value = device.split(';').next().unwrap();
    let (id, _sig) = value.split_once('.').unwrap();
    let mut forger = p.client();
    forger.cookie = Some(format!("{id}.{}", "0".repeat(64)));
    let r = forger.parent_login("3011", "770021").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

/// The device cookie is Secure when the portal is served over HTTPS.
#[tokio::test]
async fn the_device_cookie_is_secure_over_https() {
    let p = Portal::with_config(ivr::web::WebConfig {
        public_base_url: "https://portail.mezcalito.fr".into(),
        ..Default::default()
    })
    .await;
    let mut c = p.client();
    let r = c.parent_login("3011", "770021").await;
    let device = r.cookie_named("ivr_device").expect("a device cookie");
    assert!(device.contains("Secure"), "{device}");
}

/// Issue 13, finding 10 (behind a proxy): the first `X-Forwarded-For` entry was taken as
/// the browser's address, and a proxy that appends lets the client write that entry, so
/// each guess came from a "new" source. The rightmost entry that is not a trusted proxy
/// is the source now: three wrong guesses under three spoofed entries slow the real
/// address down, and only it.
#[tokio::test]
async fn a_spoofed_leftmost_forwarded_for_is_no_fresh_source() {
    use web_support::http::{Browser, serve};
    async fn attempt(b: &mut Browser, child: &str, payer: &str) -> StatusCode {
        b.parent_login(child, payer).await.status
    }
    let p = Portal::with_config(WebConfig {
        behind_proxy: true,
        ..WebConfig::default()
    })
    .await;
    // The proxy is this test's own connection from 127.0.0.1 (a trusted proxy by
    // default); it appended the client's real address, 192.0.2.66.
    let addr = serve(p.state.clone()).await;
    let through_proxy = |forwarded: String| Browser::through_proxy(addr, forwarded);
    // Wrong codes at three unknown child codes: only the source counters count them.
    for i in 0..3 {
        let mut b = through_proxy(format!("203.0.113.{i}, 192.0.2.66"));
        let status = attempt(&mut b, &format!("900{i}"), "111111").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let mut b = through_proxy("203.0.113.99, 192.0.2.66".into());
    assert_eq!(
        attempt(&mut b, "3011", "770021").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a new leftmost entry is no new source"
    );
    // Another browser behind the same proxy is not concerned.
    let mut other = through_proxy("192.0.2.66, 198.51.100.5".into());
    assert_eq!(
        attempt(&mut other, "3011", "770021").await,
        StatusCode::SEE_OTHER
    );
}
