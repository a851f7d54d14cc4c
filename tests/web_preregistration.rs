//! Pre-registration ("Préinscription") through the router (`oneshot`): the parent asks,
//! staff decide once and see what the acceptance did, the parent reads the answer and, for
//! a new child, its code. Fresh SQLite database per test.

mod web_support;

use axum::http::StatusCode;
use ivr::store::{PreregStatus, Preregistration};
use web_support::{Client, Page, Portal};

/// Posts `fields` as a request from `c`'s Préinscription page (which opens).
async fn ask(c: &mut Client, fields: &[(&str, &str)]) -> Page {
    let page = c.get("/preinscription").await;
    assert_eq!(page.status, StatusCode::OK);
    c.post_csrf("/preinscription", &page.csrf(), fields).await
}

/// Posts a request for a new child from `c`'s Préinscription page.
async fn ask_new_child(c: &mut Client, first: &str, last: &str, service: &str) -> Page {
    let fields = [
        ("child", "nouveau"),
        ("first_name", first),
        ("last_name", last),
        ("service", service),
        ("school_year", "2026-2027"),
        ("comment", "Entrée en petite section"),
    ];
    ask(c, &fields).await
}

/// The address where staff decide request `id`.
fn decision_path(id: i64) -> String {
    format!("/mairie/preinscriptions/{id}")
}

/// Decides request `id` as staff.
async fn decide(c: &mut Client, id: i64, decision: &str, reason: &str) -> Page {
    let fields = [("decision", decision), ("reason", reason)];
    c.submit("/mairie/preinscriptions", &decision_path(id), &fields)
        .await
}

/// The demo payer's requests, as stored.
async fn requests(p: &Portal) -> Vec<Preregistration> {
    p.db.store.preregistrations_of(p.fam.payer).await.unwrap()
}

#[tokio::test]
async fn a_refused_request_shows_refusee_and_the_reason_to_the_parent() {
    let p = Portal::new().await;
    let mut parent = p.parent().await;
    let page = parent.get("/preinscription").await;
    page.assert_has(&["Préinscription"]);
    assert!(
        page.body.contains("Angéline MARSONE"),
        "the payer's children are offered"
    );
    let r = ask_new_child(&mut parent, "Lou", "MARSONE", "annee").await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/preinscription");
    let page = parent.get("/preinscription").await;
    page.assert_has(&["Lou MARSONE", "en attente", "toute l'année scolaire"]);

    let (mut staff, list) = p.staff_at("/mairie/preinscriptions").await;
    list.assert_status(StatusCode::OK)
        .assert_has(&["Lou MARSONE (nouvel enfant)", "Entrée en petite section"]);
    let id = requests(&p).await[0].id.0;

    // A refusal without a reason is refused and changes nothing.
    let r = decide(&mut staff, id, "refuser", "   ").await;
    r.assert_status(StatusCode::BAD_REQUEST)
        .assert_has(&["indiquez le motif du refus"]);
    assert_eq!(requests(&p).await[0].status, PreregStatus::Pending);

    let r = decide(&mut staff, id, "refuser", "Plus de place en maternelle").await;
    r.assert_status(StatusCode::SEE_OTHER);
    let list = staff.get("/mairie/preinscriptions").await;
    list.assert_has(&[
        "Demande refusée.",
        "Aucune demande en attente.",
        "par amelie",
    ]);

    let page = parent.get("/preinscription").await;
    page.assert_has(&["refusée", "Plus de place en maternelle"]);
    page.assert_lacks(&["en attente", "Enfant inscrit"]);
    // Refused: no child, nothing done to show.
    list.assert_lacks(&["enfant créé"]);
    parent.get("/enfants").await.assert_lacks(&["Lou MARSONE"]);
}

#[tokio::test]
async fn an_accepted_new_child_is_created_and_its_family_alone_sees_its_code() {
    let p = Portal::new().await;
    let mut parent = p.parent().await;
    ask_new_child(&mut parent, "Lou", "MARSONE", "REPAS").await;
    let id = requests(&p).await[0].id.0;
    let mut staff = p.staff().await;
    decide(&mut staff, id, "accepter", "")
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let list = staff.get("/mairie/preinscriptions").await;
    list.assert_has(&["Demande acceptée.", "enfant créé"]);

    let lou = requests(&p).await[0].created_child.expect("Lou created");
    let code = p.db.store.child_code(lou).await.unwrap().expect("a code");
    // The code as the page shows it: searched with its markup, so that digits elsewhere
    // (the CSRF token, a date) cannot stand for it.
    let shown = |code: &str| format!("<strong>{code}</strong>");
    let page = parent.get("/preinscription").await;
    page.assert_has(&["acceptée", "Enfant inscrit", "« Choisir un autre enfant »"]);
    page.assert_lacks(&[&shown(code.expose())]);
    let page = parent.get("/enfants").await;
    page.assert_has(&[
        "Lou MARSONE",
        "Nouvel enfant inscrit : son code enfant est",
        &shown(code.expose()),
    ]);
    // Seed children imported by the town do not have their codes shown.
    page.assert_lacks(&[&shown("3011"), &shown("3012")]);

    // The new code opens Lou's planning with the family's payer code.
    let mut lou_login = p.client();
    let r = lou_login.parent_login(code.expose(), "770021").await;
    r.assert_status(StatusCode::SEE_OTHER);
    lou_login
        .get("/planning")
        .await
        .assert_has(&["Lou MARSONE"]);

    // Another family sees neither Lou nor the code.
    let mut other = p.client();
    other.parent_login("4000", "880000").await;
    other
        .get("/enfants")
        .await
        .assert_lacks(&["Lou MARSONE", &shown(code.expose())]);
}

#[tokio::test]
async fn an_accepted_request_for_a_known_child_and_a_service() {
    let p = Portal::new().await;
    let mut parent = p.parent().await;
    let theo = p.fam.theo.0.to_string();
    let fields = [
        ("child", theo.as_str()),
        ("first_name", ""),
        ("last_name", ""),
        ("service", "REPAS"),
        ("school_year", "2026-2027"),
        ("comment", ""),
    ];
    ask(&mut parent, &fields)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let stored = requests(&p).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].child, Some(p.fam.theo));
    assert_eq!(stored[0].first_name, "Théo");
    assert_eq!(stored[0].service.as_deref(), Some("REPAS"));

    let mut staff = p.staff().await;
    let r = decide(&mut staff, stored[0].id.0, "accepter", "").await;
    r.assert_status(StatusCode::SEE_OTHER);
    let page = parent.get("/preinscription").await;
    page.assert_has(&["Théo MARSONE", "acceptée"]);
    let list = staff.get("/mairie/preinscriptions").await;
    list.assert_has(&["inscription enregistrée"]);
    list.assert_lacks(&["enfant créé"]);
}

#[tokio::test]
async fn a_forged_token_writes_nothing_and_empty_names_get_a_sentence() {
    let p = Portal::new().await;
    let mut parent = p.parent().await;
    let forged = "0".repeat(64);
    let lou = [
        ("child", "nouveau"),
        ("first_name", "Lou"),
        ("last_name", "MARSONE"),
        ("service", "annee"),
        ("school_year", "2026-2027"),
    ];
    let r = parent.post_csrf("/preinscription", &forged, &lou).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for (first, service, sentence) in [
        ("  ", "annee", "indiquez le prénom et le nom de l'enfant"),
        (
            "Lou",
            "PISCINE",
            "ce service n'est pas proposé par la commune",
        ),
    ] {
        let r = ask_new_child(&mut parent, first, "MARSONE", service).await;
        r.assert_status(StatusCode::BAD_REQUEST)
            .assert_has(&[sentence]);
    }
    assert!(requests(&p).await.is_empty());

    // Staff: a forged token decides nothing.
    ask_new_child(&mut parent, "Lou", "MARSONE", "annee").await;
    let id = requests(&p).await[0].id.0;
    let mut staff = p.staff().await;
    let accept = [("decision", "accepter"), ("reason", "")];
    let r = staff.post_csrf(&decision_path(id), "forged", &accept).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(requests(&p).await[0].status, PreregStatus::Pending);
}

#[tokio::test]
async fn a_parent_never_sees_nor_names_another_familys_children_or_requests() {
    let p = Portal::new().await;
    let mut parent = p.parent().await;
    ask_new_child(&mut parent, "Lou", "MARSONE", "annee").await;

    let mut other = p.client();
    let r = other.parent_login("4000", "880000").await;
    r.assert_status(StatusCode::SEE_OTHER);
    let page = other.get("/preinscription").await;
    page.assert_has(&["Vous n'avez fait aucune demande."]);
    page.assert_lacks(&["Lou MARSONE"]);
    // Asking for a child of another family is refused.
    let angeline = p.fam.angeline.0.to_string();
    let fields = [
        ("child", angeline.as_str()),
        ("service", "annee"),
        ("school_year", "2026-2027"),
    ];
    let r = other
        .post_csrf("/preinscription", &page.csrf(), &fields)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        p.db.store
            .preregistrations_of(p.fam.other_payer)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn staff_cannot_decide_twice() {
    let p = Portal::new().await;
    let mut parent = p.parent().await;
    ask_new_child(&mut parent, "Lou", "MARSONE", "annee").await;
    let id = requests(&p).await[0].id.0;
    let mut staff = p.staff().await;
    let r = decide(&mut staff, id, "accepter", "Bienvenue").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = decide(&mut staff, id, "refuser", "Finalement non").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let list = staff.get("/mairie/preinscriptions").await;
    list.assert_has(&["déjà été traitée"]);
    let stored = requests(&p).await;
    assert_eq!(stored[0].status, PreregStatus::Accepted);
    assert_eq!(stored[0].staff_reason, "Bienvenue");
    // Staff pages need a staff session.
    let refuse = [("decision", "refuser"), ("reason", "x")];
    let r = parent.post_csrf(&decision_path(id), "x", &refuse).await;
    assert_ne!(r.status, StatusCode::SEE_OTHER);
}
