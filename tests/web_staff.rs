//! The staff's pages through the router (`oneshot`), each test on a fresh SQLite database.

mod web_support;

use axum::http::StatusCode;
use chrono::NaiveDate;
use ivr::booking::model::{Action, Channel, ServiceCode};
use ivr::media::upload::sine_wav;
use ivr::service::announcements;
use ivr::store::AnnouncementId;
use web_support::http::Browser;
use web_support::{
    Portal, STAFF_PASSWORD, STAFF_USER, paris, planning_state, post_cells, submit_planning,
};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The announcement the phone plays on `day`, with its WAV.
async fn current(p: &Portal, day: NaiveDate) -> Option<(AnnouncementId, Vec<u8>)> {
    announcements::current(&p.db.store, day).await.unwrap()
}

/// The deadline overrides stored for the days from `from` to `to`.
async fn overrides(p: &Portal, from: NaiveDate, to: NaiveDate) -> Vec<ivr::store::StoredOverride> {
    p.state.service().overrides(from, to).await.unwrap()
}

/// How many closures are stored in May 2026.
async fn may_closures(p: &Portal) -> usize {
    let (from, to) = (d(2026, 5, 1), d(2026, 5, 31));
    p.state.service().closures(from, to).await.unwrap().len()
}

#[tokio::test]
async fn staff_login_refuses_wrong_passwords_then_locks_the_account() {
    let p = Portal::new().await;
    p.add_staff().await;
    let mut c = p.client();
    // Unknown users get the same answer as a wrong password (and count as a failure).
    let r = c.staff_login("personne", STAFF_PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    for i in 1..5 {
        let r = c.staff_login(STAFF_USER, "mauvais").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
        r.assert_shows("Nom d'utilisateur ou mot de passe incorrect");
    }
    // Five failures from this browser's address: even the right password is refused.
    let r = c.staff_login(STAFF_USER, STAFF_PASSWORD).await;
    r.assert_status(StatusCode::TOO_MANY_REQUESTS)
        .assert_has(&["la connexion est bloquée"]);
    // After the lockout, the right password works.
    p.clock.set(p.state.now() + chrono::Duration::minutes(16));
    let r = c.staff_login(STAFF_USER, STAFF_PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/mairie/message");
}

#[tokio::test]
async fn staff_accounts_need_a_real_password_and_unique_names() {
    let p = Portal::new().await;
    let store = &p.db.store;
    let now = p.state.now();
    assert!(
        ivr::service::staff_accounts::add(store, "amelie", "court", now)
            .await
            .is_err()
    );
    assert!(
        ivr::service::staff_accounts::add(store, "a b", "mot de passe solide", now)
            .await
            .is_err()
    );
    ivr::service::staff_accounts::add(store, "amelie", "mot de passe solide", now)
        .await
        .unwrap();
    let dup = ivr::service::staff_accounts::add(store, "amelie", "autre mot de passe", now)
        .await
        .unwrap_err();
    assert_eq!(dup.to_string(), "le compte « amelie » existe déjà");
    assert!(
        ivr::service::staff_accounts::check(store, "amelie", "mot de passe solide")
            .await
            .unwrap()
    );
    assert!(
        !ivr::service::staff_accounts::check(store, "amelie", "autre mot de passe")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_town_message_is_edited_by_staff_and_shown_escaped_on_the_login_page() {
    let p = Portal::new().await;
    let (mut c, page) = p.staff_at("/mairie/message").await;
    assert_eq!(page.status, StatusCode::OK);
    let msg = "ATTENTION! <script>alert(1)</script>\r\nRAPPEL des délais";
    let message = [("message", msg)];
    let r = c
        .post_csrf("/mairie/message", &"a".repeat(64), &message)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(p.state.service().town_message().await.unwrap(), None);
    let r = c.post_csrf("/mairie/message", &page.csrf(), &message).await;
    assert_eq!(r.location(), "/mairie/message");
    c.get("/mairie/message")
        .await
        .assert_has(&["Message enregistré."]);
    let login = p.client().get("/").await;
    login.assert_has(&["ATTENTION! &lt;script&gt;alert(1)&lt;/script&gt;\nRAPPEL des délais"]);
    login.assert_lacks(&["<script>"]);
}

#[tokio::test]
async fn an_uploaded_announcement_is_converted_listened_to_and_switched() {
    let p = Portal::new().await;
    let (mut c, page) = p.staff_at("/mairie/annonce").await;
    page.assert_has(&["Aucune annonce enregistrée"]);
    let wav44 = sine_wav(44_100, 2, 16, 440.0, 1500);
    let csrf = page.csrf();
    // Forged token: nothing stored.
    let r = c
        .post_multipart(
            "/mairie/annonce",
            &[
                ("csrf", None, b"0000"),
                ("file", Some("a.wav"), &wav44),
                ("enabled", None, b"1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Not a WAV: refused with a sentence, nothing stored.
    let r = c
        .post_multipart(
            "/mairie/annonce",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("a.wav"), b"RIFF? no"),
                ("enabled", None, b"1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.get("/mairie/annonce").await;
    page.assert_shows("Annonce refusée : le fichier n'est pas un enregistrement WAV lisible");
    assert!(p.db.store.announcements().await.unwrap().is_empty());
    // A real one, valid from today to the end of the month.
    let r = c
        .post_multipart(
            "/mairie/annonce",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("label", None, "Pont de l'Ascension".as_bytes()),
                ("file", Some("ascension.wav"), &wav44),
                ("valid_from", None, b"2026-05-06"),
                ("valid_until", None, b"2026-05-31"),
                ("enabled", None, b"1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get("/mairie/annonce").await;
    page.assert_shows("Annonce « Pont de l'Ascension » enregistrée");
    page.assert_shows("en service aujourd'hui");
    let (id, wav) = current(&p, d(2026, 5, 6)).await.expect("current");
    let spec = hound::WavReader::new(std::io::Cursor::new(&wav))
        .unwrap()
        .spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16)
    );
    assert!(
        current(&p, d(2026, 6, 1)).await.is_none(),
        "past its last day"
    );
    assert!(
        current(&p, d(2026, 5, 5)).await.is_none(),
        "before its first day"
    );
    // The listen link serves the stored file.
    let listen = c
        .get(&format!("/mairie/annonce/{}/ecouter.wav", id.0))
        .await;
    assert_eq!(listen.status, StatusCode::OK);
    assert_eq!(listen.headers["content-type"], "audio/wav");
    assert_eq!(listen.body.len(), String::from_utf8_lossy(&wav).len());
    assert_eq!(
        c.get("/mairie/annonce/9999/ecouter.wav").await.status,
        StatusCode::NOT_FOUND
    );
    // Switched off: the next call plays none.
    let edit = format!("/mairie/annonce/{}", id.0);
    let off = [("valid_from", "2026-05-06"), ("valid_until", "2026-05-31")];
    let r = c.post_csrf(&edit, &csrf, &off).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(current(&p, d(2026, 5, 6)).await.is_none());
    // Dates in the wrong order are refused.
    let backwards = [
        ("valid_from", "2026-05-31"),
        ("valid_until", "2026-05-06"),
        ("enabled", "1"),
    ];
    let r = c.post_csrf(&edit, &csrf, &backwards).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Back on.
    c.post_csrf(&edit, &csrf, &[("enabled", "1")]).await;
    assert_eq!(current(&p, d(2026, 9, 1)).await.map(|(i, _)| i), Some(id));
}

#[tokio::test]
async fn the_seeds_ascension_override_is_entered_as_written_and_applied_to_parents() {
    let p = Portal::new().await;
    let sentence = "ATTENTION! En raison du week-end de l'Ascension, les annulations pour le lundi 25 mai NE SONT PLUS POSSIBLES depuis mercredi 20 mai à 10H15.";
    // 2020 is a year where the seed's words fit: Ascension on Thursday 21 May, Monday 25
    // May an ordinary school day (in 2026 it is Whit Monday). Its meal was booked earlier.
    let repas = ServiceCode::parse("REPAS").unwrap();
    p.clock.set(paris(2020, 5, 6, 9, 0));
    let (child, monday) = (p.fam.angeline, d(2020, 5, 25));
    let booked_at = paris(2020, 5, 6, 8, 0);
    p.earlier(
        child,
        monday,
        "REPAS",
        Action::Book,
        Channel::Web,
        booked_at,
    )
    .await;
    let mut c = p.staff().await;
    let page = c.get("/mairie/delais").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf();
    let all = [
        ("services", "REPAS"),
        ("services", "MATIN"),
        ("services", "MIDI"),
        ("services", "SOIR"),
    ];
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("date", "2020-05-25"),
        ("applies_to", "cancelling"),
        ("deadline_date", "2020-05-20"),
        ("deadline_time", "10:15"),
        ("sentence", sentence),
    ];
    fields.extend(all);
    let r = c.post("/mairie/delais/derogation", &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let list = c.get("/mairie/delais").await;
    list.assert_has(&[
        "lundi 25 mai 2020",
        "20/05/2020 à 10h15",
        ">annulations<",
        ">toutes<",
    ]);
    let stored = overrides(&p, d(2020, 5, 25), d(2020, 5, 25)).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].rule.deadline, paris(2020, 5, 20, 10, 15));
    assert_eq!(stored[0].rule.message, sentence);

    // A parent on Wednesday 20 May at 11:00: cancelling Monday's meal is refused with the
    // staff's sentence; booking Monday's morning care is still open (rule: Friday 16:00).
    p.clock.set(paris(2020, 5, 20, 11, 0));
    let mut parent = p.parent().await;
    let page = parent.get("/planning?du=2020-05-25").await;
    page.assert_has(&["NE SONT PLUS POSSIBLES"]);
    let (shown, want) = planning_state(&page);
    assert!(!shown.contains(&"2020-05-25.REPAS".to_owned()));
    assert!(shown.contains(&"2020-05-25.MATIN".to_owned()));
    let shown = ["2020-05-25.REPAS", "2020-05-25.MATIN"];
    let csrf = page.csrf();
    let r = post_cells(
        &mut parent,
        &csrf,
        "2020-05-25",
        &shown,
        &["2020-05-25.MATIN"],
    )
    .await;
    let recap = parent.get(r.location()).await;
    recap.assert_has(&[
        "inscription, 25/05/2020, Accueil Matin",
        "annulation, 25/05/2020, Cantine : ATTENTION! En raison du week-end de l",
    ]);
    assert!(
        p.db.store
            .is_booked(p.fam.angeline, d(2020, 5, 25), &repas)
            .await
            .unwrap()
    );
    let _ = (want, submit_planning);

    // Removal (the staff session has long expired since 6 May: log in again).
    let mut c = p.staff().await;
    let csrf = c.get("/mairie/delais").await.csrf();
    let remove = format!("/mairie/delais/derogation/{}/supprimer", stored[0].id.0);
    let r = c.post_csrf(&remove, &csrf, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        overrides(&p, d(2020, 5, 1), d(2020, 5, 31))
            .await
            .is_empty()
    );
    let r = c.post_csrf(&remove, &csrf, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_override_forms_are_refused_with_a_sentence_and_store_nothing() {
    let p = Portal::new().await;
    let mut c = p.staff().await;
    let csrf = c.get("/mairie/delais").await.csrf();
    let add = "/mairie/delais/derogation";
    let base = [
        ("date", "2026-05-25"),
        ("applies_to", "both"),
        ("deadline_date", "2026-05-20"),
        ("deadline_time", "10:15"),
        ("sentence", "Fermé."),
        ("services", "REPAS"),
    ];
    for (key, bad) in [
        ("date", "25/05/2026"),
        ("applies_to", "tout"),
        ("deadline_time", "10h15"),
        ("sentence", " "),
        ("services", "PISCINE"),
    ] {
        let fields: Vec<(&str, &str)> = base
            .iter()
            .map(|&(k, v)| if k == key { (k, bad) } else { (k, v) })
            .collect();
        let r = c.post_csrf(add, &csrf, &fields).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{key}={bad}");
    }
    let no_service: Vec<(&str, &str)> = base
        .iter()
        .copied()
        .filter(|(k, _)| *k != "services")
        .collect();
    let r = c.post_csrf(add, &csrf, &no_service).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        overrides(&p, d(2026, 1, 1), d(2026, 12, 31))
            .await
            .is_empty()
    );
    // One service only is stored as such.
    let r = c.post_csrf(add, &csrf, &base).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let o = overrides(&p, d(2026, 5, 25), d(2026, 5, 25)).await;
    assert_eq!(
        o[0].rule.services,
        ivr::booking::calendar::ServiceScope::Only(vec![ServiceCode::parse("REPAS").unwrap()])
    );
}

#[tokio::test]
async fn closures_are_added_once_and_removed() {
    let p = Portal::new().await;
    let mut c = p.staff().await;
    let csrf = c.get("/mairie/delais").await.csrf();
    let close = |label| [("date", "2026-05-15"), ("label", label)];
    let add = "/mairie/delais/fermeture";
    let r = c.post_csrf(add, &csrf, &close("Pont de l'Ascension")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.get("/mairie/delais").await;
    page.assert_has(&[
        "Fermeture du vendredi 15 mai 2026 enregistrée.",
        "vendredi 15 mai 2026 – Pont de l",
    ]);
    let r = c.post_csrf(add, &csrf, &close("encore")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let dup = c.get("/mairie/delais").await;
    dup.assert_has(&["enregistré : la fermeture du 15/05/2026 existe déjà."]);
    assert_eq!(may_closures(&p).await, 1);
    // The closed Friday greys the parent's cell.
    let mut parent = p.parent().await;
    let page = parent.get("/planning?du=2026-05-11").await;
    let (shown, _) = planning_state(&page);
    assert!(!shown.iter().any(|k| k.starts_with("2026-05-15")));
    let remove = "/mairie/delais/fermeture/2026-05-15/supprimer";
    let r = c.post_csrf(remove, &csrf, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(may_closures(&p).await, 0);
    let r = c.post_csrf(remove, &csrf, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = c.post_csrf(add, &csrf, &close("  ")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn head_count_per_school_and_service_with_csv() {
    let p = Portal::new().await;
    let t = paris(2026, 5, 4, 8, 0);
    for (child, svc) in [
        (p.fam.angeline, "REPAS"),
        (p.fam.theo, "REPAS"),
        (p.fam.theo, "SOIR"),
        (p.fam.other_child, "REPAS"),
    ] {
        p.earlier(child, d(2026, 5, 7), svc, Action::Book, Channel::Phone, t)
            .await;
    }
    let mut c = p.staff().await;
    // Default: tomorrow (Thursday 7 May).
    let page = c.get("/mairie/effectifs").await;
    page.assert_status(StatusCode::OK).assert_has(&[
        "Effectifs du jeudi 7 mai 2026",
        "École Jules Ferry",
        "<td>3</td>",
    ]);
    let csv = c.get("/mairie/effectifs.csv?date=2026-05-07").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("effectifs-2026-05-07.csv")
    );
    assert_eq!(
        csv.body,
        "date;ecole;prestation;libelle;nombre\n2026-05-07;École Jules Ferry;REPAS;Cantine;3\n2026-05-07;École Jules Ferry;SOIR;Accueil Soir;1\n"
    );
    let empty = c.get("/mairie/effectifs?date=2026-05-08").await;
    assert!(empty.body.contains("Aucune inscription ce jour-là."));
    assert_eq!(
        c.get("/mairie/effectifs?date=hier").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn staff_logout_and_staff_forms_without_a_session() {
    let p = Portal::new().await;
    let (mut c, page) = p.staff_at("/mairie/message").await;
    page.assert_has(&["action=\"/mairie/deconnexion\""]);
    let csrf = page.csrf();
    let r = c.post_csrf("/mairie/deconnexion", &csrf, &[]).await;
    assert_eq!(r.location(), "/");
    let login = "/mairie/connexion";
    assert_eq!(c.get("/mairie/message").await.location(), login);
    let r = c
        .post_csrf("/mairie/message", &csrf, &[("message", "x")])
        .await;
    assert_eq!(r.location(), login);
    assert_eq!(p.state.service().town_message().await.unwrap(), None);
}

/// Issue 13, finding 6 for staff: 20 wrong passwords posted at once over real HTTP from one
/// address. The throttle counts each attempt before argon2 runs, in one transaction with
/// the check, so exactly five passwords are looked at; the others are refused unhashed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_staff_passwords_get_exactly_five_checks() {
    let p = Portal::new().await;
    p.add_staff().await;
    let addr = web_support::http::serve(p.state.clone()).await;
    let browsers = (0..20).map(|_| Browser::new(addr)).collect();
    let statuses = staff_logins_at_once(browsers, |i| {
        (STAFF_USER.to_owned(), format!("mauvais mot de passe {i}"))
    })
    .await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    eprintln!("{checked} passwords checked, {refused} refused unhashed");
    assert_eq!((checked, refused), (5, 15), "{statuses:?}");
}

/// Issue 13, finding 9: argon2 verifications run behind a small gate, so parallel
/// unauthenticated attempts never hash more than its permits at once (each holds 19 MiB).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_password_checks_never_run_more_than_the_gate_allows() {
    use ivr::service::staff_accounts::{PASSWORD_CHECKS_AT_ONCE, PasswordGate, check};
    let p = Portal::new().await;
    p.add_staff().await;
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let store = p.db.store.clone();
            tokio::spawn(async move {
                let user = if i % 2 == 0 { "amelie" } else { "personne" };
                check(&store, user, "mauvais mot de passe").await
            })
        })
        .collect();
    for t in tasks {
        assert!(!t.await.unwrap().unwrap());
    }
    let max = PasswordGate::global().max_in_flight();
    eprintln!("at most {max} password checks ran at once");
    assert!((1..=PASSWORD_CHECKS_AT_ONCE).contains(&max), "{max}");
}

/// Issue 13, finding 10: the staff lockout lived in the server's memory, so a restart
/// forgot it. The counters are in the database now: locked before the restart, locked
/// after.
#[tokio::test]
async fn a_staff_lockout_survives_a_restart() {
    let mut p = Portal::new().await;
    p.add_staff().await;
    let mut c = p.client();
    for i in 0..5 {
        let r = c.staff_login(STAFF_USER, "mauvais").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    p.restart().await;
    let r = p.client().staff_login(STAFF_USER, STAFF_PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.location());
}

/// Issue 13, finding 8 for staff: five wrong passwords from anywhere locked the account.
/// A browser that logged in to it before (signed device cookie) is not locked out by them;
/// a browser never seen still is.
#[tokio::test]
async fn a_known_staff_browser_is_not_locked_out_by_failures_from_elsewhere() {
    let p = Portal::new().await;
    let mut amelie = p.staff().await;
    amelie
        .submit("/mairie/message", "/mairie/deconnexion", &[])
        .await;
    let login = |c: &mut web_support::Client, password: &'static str| {
        let mut c = std::mem::replace(c, p.client());
        async move {
            let r = c.staff_login(STAFF_USER, password).await;
            (c, r.status)
        }
    };
    let mut attacker = p.client();
    for i in 0..5 {
        let (c, status) = login(&mut attacker, "mauvais").await;
        attacker = c;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (_, status) = login(&mut amelie, STAFF_PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the known browser gets in");
    let mut fresh = p.client();
    let (_, status) = login(&mut fresh, STAFF_PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "an unknown one is locked"
    );
}

/// Opens the staff login page in every browser, one after the other, then posts its form
/// (with the CSRF token of that page) from all of them at the same instant, user and
/// password `form(i)` for the i-th; the answers, in order.
async fn staff_logins_at_once(
    browsers: Vec<Browser>,
    form: impl Fn(usize) -> (String, String),
) -> Vec<StatusCode> {
    let mut ready = Vec::new();
    for mut b in browsers {
        let csrf = b.get("/mairie/connexion").await.csrf();
        ready.push((b, csrf));
    }
    let browsers = ready;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(browsers.len()));
    let tasks: Vec<_> = browsers
        .into_iter()
        .enumerate()
        .map(|(i, (mut b, csrf))| {
            let barrier = barrier.clone();
            let (user, password) = form(i);
            tokio::spawn(async move {
                barrier.wait().await;
                b.post(
                    "/mairie/connexion",
                    &[("csrf", &csrf), ("user", &user), ("password", &password)],
                )
                .await
                .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

/// Issue 13, finding 9 over real HTTP: 32 staff logins posted at once from 32 addresses
/// (through the trusted proxy) at 32 user names, so no throttle stops them and each one
/// runs argon2; the gate lets no more than two run at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_staff_posts_hash_no_more_than_the_gate_allows() {
    use ivr::service::staff_accounts::{PASSWORD_CHECKS_AT_ONCE, PasswordGate};
    use web_support::http::serve;
    let p = Portal::with_config(ivr::web::WebConfig {
        behind_proxy: true,
        ..Default::default()
    })
    .await;
    let addr = serve(p.state.clone()).await;
    let browsers = (0..32)
        .map(|i| Browser::through_proxy(addr, format!("198.51.100.{i}")))
        .collect();
    let statuses = staff_logins_at_once(browsers, |i| {
        (format!("agent{i}"), "mauvais mot de passe".to_owned())
    })
    .await;
    for status in statuses {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let max = PasswordGate::global().max_in_flight();
    eprintln!("at most {max} argon2 verifications ran at once");
    assert!((1..=PASSWORD_CHECKS_AT_ONCE).contains(&max), "{max}");
}

/// What `/mairie/voix/{id}/ecouter.wav` must serve: a shipped prompt's file.
fn shipped_wav(id: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("prompts/fr")
        .join(format!("{id}.wav"));
    std::fs::read(path).unwrap()
}

/// The town's own voice on `p`: the page lists every prompt with its text and a player of
/// what callers hear; forged or missing tokens, an unknown prompt and a file that is no
/// WAV are refused and store nothing; an upload is the town's, listened to as stored; the
/// way back brings the shipped prompt again. Staff only.
async fn town_voice_suite(p: Portal) {
    let store = &p.db.store;
    let all = web_support::shipped_prompts().ids().count();
    let (mut c, page) = p.staff_at("/mairie/voix").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_has(&[
        "Voix du serveur vocal",
        &format!("Les {all} messages sont ceux d'origine."),
        "bienvenue – voix d'origine",
        "« Bonjour, bienvenue sur le serveur vocal des services scolaires. »",
        r#"src="/mairie/voix/bienvenue/ecouter.wav""#,
        r#"<option value="menu_principal">"#,
        r#"href="/mairie/voix" aria-current="page""#,
    ]);
    page.assert_lacks(&["Revenir au message d'origine"]);
    let listen = c.get("/mairie/voix/bienvenue/ecouter.wav").await;
    assert_eq!(listen.status, StatusCode::OK);
    assert_eq!(listen.headers["content-type"], "audio/wav");
    assert_eq!(
        listen.body,
        String::from_utf8_lossy(&shipped_wav("bienvenue"))
    );

    let csrf = page.csrf();
    let wav = sine_wav(44_100, 2, 16, 660.0, 1200);
    // No token, then a forged one: refused, nothing stored.
    let r = c
        .post_multipart(
            "/mairie/voix",
            &[
                ("prompt", None, b"bienvenue"),
                ("file", Some("voix.wav"), &wav),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .post_multipart(
            "/mairie/voix",
            &[
                ("csrf", None, b"0000"),
                ("prompt", None, b"bienvenue"),
                ("file", Some("voix.wav"), &wav),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A prompt the manifest does not list: refused with a sentence.
    let r = c
        .post_multipart(
            "/mairie/voix",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("prompt", None, b"bonjour_inconnu"),
                ("file", Some("voix.wav"), &wav),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    r.assert_shows("« bonjour_inconnu » n'est pas un message du serveur vocal");
    // Not a WAV: said on the page.
    let r = c
        .post_multipart(
            "/mairie/voix",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("prompt", None, b"bienvenue"),
                ("file", Some("voix.wav"), b"RIFF? no"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    c.get("/mairie/voix")
        .await
        .assert_shows("Enregistrement refusé : le fichier n'est pas un enregistrement WAV lisible");
    assert!(store.prompt_overrides().await.unwrap().is_empty());
    assert_eq!(store.prompt_overrides_version().await.unwrap(), 0);

    // A real recording (44.1 kHz stereo): converted, the town's from now on.
    let r = c
        .post_multipart(
            "/mairie/voix",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("prompt", None, b"bienvenue"),
                ("file", Some("voix.wav"), &wav),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/mairie/voix#message-bienvenue");
    let page = c.get("/mairie/voix").await;
    page.assert_shows("Message « bienvenue » remplacé par votre enregistrement (1,2 s");
    page.assert_has(&[
        &format!("1 message sur {all} est dit par la mairie."),
        "bienvenue – <strong>voix de la mairie</strong>",
        "envoyé par amelie le 06/05/2026 à 09h00",
        r#"action="/mairie/voix/bienvenue/origine""#,
        "Revenir au message d'origine",
    ]);
    let stored = store
        .prompt_override_wav("bienvenue")
        .await
        .unwrap()
        .unwrap();
    let spec = hound::WavReader::new(std::io::Cursor::new(&stored))
        .unwrap()
        .spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16)
    );
    let listen = c.get("/mairie/voix/bienvenue/ecouter.wav").await;
    assert_eq!(listen.body, String::from_utf8_lossy(&stored));
    assert_ne!(
        listen.body,
        String::from_utf8_lossy(&shipped_wav("bienvenue"))
    );
    // The other prompts are still the shipped ones.
    let other = c.get("/mairie/voix/menu_principal/ecouter.wav").await;
    assert_eq!(
        other.body,
        String::from_utf8_lossy(&shipped_wav("menu_principal"))
    );
    assert_eq!(
        c.get("/mairie/voix/inconnu/ecouter.wav").await.status,
        StatusCode::NOT_FOUND
    );

    // Staff only: a visitor is sent to the staff login, a parent refused.
    let anon = p.client().get("/mairie/voix/bienvenue/ecouter.wav").await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert_eq!(anon.location(), "/mairie/connexion");
    let mut parent = p.parent().await;
    let refused = parent.get("/mairie/voix/bienvenue/ecouter.wav").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        parent.get("/mairie/voix").await.status,
        StatusCode::FORBIDDEN
    );

    // Back to the shipped prompt: a forged token changes nothing, the real one does.
    let back = "/mairie/voix/bienvenue/origine";
    let r = c.post_csrf(back, "0000", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(store.prompt_overrides().await.unwrap().len(), 1);
    let r = c.post_csrf(back, &csrf, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.get("/mairie/voix").await;
    page.assert_shows("Message « bienvenue » : la voix d'origine est de retour");
    page.assert_has(&["bienvenue – voix d'origine"]);
    assert!(store.prompt_overrides().await.unwrap().is_empty());
    let listen = c.get("/mairie/voix/bienvenue/ecouter.wav").await;
    assert_eq!(
        listen.body,
        String::from_utf8_lossy(&shipped_wav("bienvenue"))
    );
    // Twice, or a prompt that does not exist: a clear refusal.
    let again = c.post_csrf(back, &csrf, &[]).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    again.assert_shows("le message « bienvenue » est déjà celui d'origine");
    let unknown = c
        .post_csrf("/mairie/voix/inconnu/origine", &csrf, &[])
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    // One upload and one removal: the voice line's counter moved twice.
    assert_eq!(store.prompt_overrides_version().await.unwrap(), 2);
}

#[tokio::test]
async fn the_town_replaces_a_prompt_listens_to_it_and_goes_back_on_sqlite() {
    town_voice_suite(Portal::new().await).await;
}

#[tokio::test]
#[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
async fn the_town_replaces_a_prompt_listens_to_it_and_goes_back_on_postgres() {
    let Some(db) = ivr::store::testing::TestDb::postgres().await.unwrap() else {
        return;
    };
    town_voice_suite(Portal::on(db, Default::default(), Default::default()).await).await;
}
