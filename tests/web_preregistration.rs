//! Pre-registration ("Préinscription") through the router (`oneshot`): the parent asks,
//! staff decide once, the parent reads the answer. Fresh SQLite database per test.

mod web_support;

use axum::http::StatusCode;
use ivr::store::PreregStatus;
use web_support::{Client, Portal};

/// Posts a request for a new child from `c`'s Préinscription page.
async fn ask_new_child(
    c: &mut Client,
    first: &str,
    last: &str,
    service: &str,
) -> web_support::Page {
    let page = c.get("/preinscription").await;
    assert_eq!(page.status, StatusCode::OK);
    c.post(
        "/preinscription",
        &[
            ("csrf", &page.csrf()),
            ("child", "nouveau"),
            ("first_name", first),
            ("last_name", last),
            ("service", service),
            ("school_year", "2026-2027"),
            ("comment", "Entrée en petite section"),
        ],
    )
    .await
}

/// Decides request `id` as staff.
async fn decide(c: &mut Client, id: i64, decision: &str, reason: &str) -> web_support::Page {
    let page = c.get("/mairie/preinscriptions").await;
    c.post(
        &format!("/mairie/preinscriptions/{id}"),
        &[
            ("csrf", &page.csrf()),
            ("decision", decision),
            ("reason", reason),
        ],
    )
    .await
}

#[tokio::test]
async fn a_refused_request_shows_refusee_and_the_reason_to_the_parent() {
    let p = Portal::new().await;
    let mut parent = p.parent().await;
    let page = parent.get("/preinscription").await;
    assert!(page.body.contains("Préinscription"));
    assert!(
        page.body.contains("Angéline MARSONE"),
        "the payer's children are offered"
    );
    let r = ask_new_child(&mut parent, "Lou", "MARSONE", "annee").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/preinscription");
    let page = parent.get("/preinscription").await;
    assert!(page.body.contains("Lou MARSONE"));
    assert!(page.body.contains("en attente"));
    assert!(page.body.contains("toute l'année scolaire"));

    let mut staff = p.staff().await;
    let list = staff.get("/mairie/preinscriptions").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Lou MARSONE (nouvel enfant)"));
    assert!(list.body.contains("Entrée en petite section"));
    let id = p.db.store.preregistrations_of(p.fam.payer).await.unwrap()[0]
        .id
        .0;

    // A refusal without a reason is refused and changes nothing.
    let r = decide(&mut staff, id, "refuser", "   ").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("indiquez le motif du refus"), "{}", r.body);
    let stored = p.db.store.preregistrations_of(p.fam.payer).await.unwrap();
    assert_eq!(stored[0].status, PreregStatus::Pending);

    let r = decide(&mut staff, id, "refuser", "Plus de place en maternelle").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let list = staff.get("/mairie/preinscriptions").await;
    assert!(list.body.contains("Demande refusée."));
    assert!(list.body.contains("Aucune demande en attente."));
    assert!(list.body.contains("par amelie"));

    let page = parent.get("/preinscription").await;
    assert!(page.body.contains("refusée"));
    assert!(page.body.contains("Plus de place en maternelle"));
    assert!(!page.body.contains("en attente"));
}

#[tokio::test]
async fn an_accepted_request_for_a_known_child_and_a_service() {
    let p = Portal::new().await;
    let mut parent = p.parent().await;
    let page = parent.get("/preinscription").await;
    let theo = p.fam.theo.0.to_string();
    let r = parent
        .post(
            "/preinscription",
            &[
                ("csrf", &page.csrf()),
                ("child", &theo),
                ("first_name", ""),
                ("last_name", ""),
                ("service", "REPAS"),
                ("school_year", "2026-2027"),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let stored = p.db.store.preregistrations_of(p.fam.payer).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].child, Some(p.fam.theo));
    assert_eq!(stored[0].first_name, "Théo");
    assert_eq!(stored[0].service.as_deref(), Some("REPAS"));

    let mut staff = p.staff().await;
    let r = decide(&mut staff, stored[0].id.0, "accepter", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = parent.get("/preinscription").await;
    assert!(page.body.contains("Théo MARSONE"));
    assert!(page.body.contains("acceptée"), "{}", page.body);
}

#[tokio::test]
async fn a_forged_token_writes_nothing_and_empty_names_get_a_sentence() {
    let p = Portal::new().await;
    let mut parent = p.parent().await;
    let r = parent
        .post(
            "/preinscription",
            &[
                (
                    "csrf",
                    "0000000000000000000000000000000000000000000000000000000000000000",
                ),
                ("child", "nouveau"),
                ("first_name", "Lou"),
                ("last_name", "MARSONE"),
                ("service", "annee"),
                ("school_year", "2026-2027"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = ask_new_child(&mut parent, "  ", "MARSONE", "annee").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("indiquez le prénom et le nom de l'enfant"),
        "{}",
        r.body
    );
    let r = ask_new_child(&mut parent, "Lou", "MARSONE", "PISCINE").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body
            .contains("ce service n'est pas proposé par la commune")
    );
    assert!(
        p.db.store
            .preregistrations_of(p.fam.payer)
            .await
            .unwrap()
            .is_empty()
    );

    // Staff: a forged token decides nothing.
    ask_new_child(&mut parent, "Lou", "MARSONE", "annee").await;
    let id = p.db.store.preregistrations_of(p.fam.payer).await.unwrap()[0]
        .id
        .0;
    let mut staff = p.staff().await;
    let r = staff
        .post(
            &format!("/mairie/preinscriptions/{id}"),
            &[("csrf", "forged"), ("decision", "accepter"), ("reason", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let stored = p.db.store.preregistrations_of(p.fam.payer).await.unwrap();
    assert_eq!(stored[0].status, PreregStatus::Pending);
}

#[tokio::test]
async fn a_parent_never_sees_nor_names_another_familys_children_or_requests() {
    let p = Portal::new().await;
    let mut parent = p.parent().await;
    ask_new_child(&mut parent, "Lou", "MARSONE", "annee").await;

    let mut other = web_support::Client {
        app: p.app(),
        cookie: None,
    };
    let page = other.get("/").await;
    let r = other
        .post(
            "/connexion",
            &[
                ("csrf", &page.csrf()),
                ("child_code", "4000"),
                ("payer_code", "880000"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = other.get("/preinscription").await;
    assert!(page.body.contains("Vous n'avez fait aucune demande."));
    assert!(!page.body.contains("Lou MARSONE"));
    // Asking for a child of another family is refused.
    let angeline = p.fam.angeline.0.to_string();
    let r = other
        .post(
            "/preinscription",
            &[
                ("csrf", &page.csrf()),
                ("child", &angeline),
                ("service", "annee"),
                ("school_year", "2026-2027"),
            ],
        )
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
    let id = p.db.store.preregistrations_of(p.fam.payer).await.unwrap()[0]
        .id
        .0;
    let mut staff = p.staff().await;
    let r = decide(&mut staff, id, "accepter", "Bienvenue").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = decide(&mut staff, id, "refuser", "Finalement non").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let list = staff.get("/mairie/preinscriptions").await;
    assert!(list.body.contains("déjà été traitée"), "{}", list.body);
    let stored = p.db.store.preregistrations_of(p.fam.payer).await.unwrap();
    assert_eq!(stored[0].status, PreregStatus::Accepted);
    assert_eq!(stored[0].staff_reason, "Bienvenue");
    // Staff pages need a staff session.
    let r = parent
        .post(
            &format!("/mairie/preinscriptions/{id}"),
            &[("csrf", "x"), ("decision", "refuser"), ("reason", "x")],
        )
        .await;
    assert_ne!(r.status, StatusCode::SEE_OTHER);
}
