//! The parents' "Factures" tab through the router (`oneshot`): invoices to pay with check
//! boxes and PDF links, paid ones apart, each payer sees and downloads only their own, and
//! the e-mail opt-in form (CSRF-checked).

mod web_support;

use std::process::Command;

use axum::http::StatusCode;
use ivr::booking::model::PayerId;
use ivr::invoice::generate::InvoiceMonth;
use ivr::store::StoredInvoice;
use ivr::web::WebConfig;
use web_support::Portal;
use web_support::billing::{book_april_meals, invoicing};

const INVOICE_CONFIG: &str = r#"
regie_code = 3
label = "CANTINE ET GARDERIE"
[town]
name = "Mairie de Mezcalito"
address = ["1 place de la Mairie"]
service = "Service scolaire"
[[tariffs]]
service = "REPAS"
label = "Repas (cantine)"
price_cents = 365
"#;

/// A portal with the invoice settings and no online payment, where Angéline has her meals
/// on these days of April and the other family's child on the 1st.
async fn portal_with_april_meals(angeline: &[u32]) -> Portal {
    let invoicing = invoicing(INVOICE_CONFIG, None, None);
    let portal = Portal::with_settings(WebConfig::default(), invoicing).await;
    let store = &portal.db.store;
    book_april_meals(store, portal.fam.angeline, angeline).await;
    book_april_meals(store, portal.fam.other_child, &[1]).await;
    portal
}

/// A portal where both families have an April 2026 invoice; returns (mine, other's).
async fn portal_with_invoices() -> (Portal, StoredInvoice, StoredInvoice) {
    let portal = portal_with_april_meals(&[1, 2, 3]).await;
    portal.invoice_april().await;
    let mine = portal.first_invoice_of(portal.fam.payer).await;
    let other = portal.first_invoice_of(portal.fam.other_payer).await;
    (portal, mine, other)
}

/// Whether `payer` asked to be told by e-mail of new invoices.
async fn opted_in(portal: &Portal, payer: PayerId) -> bool {
    portal
        .db
        .store
        .payer(payer)
        .await
        .unwrap()
        .unwrap()
        .invoice_email_opt_in
}

#[tokio::test]
async fn invoices_tab_lists_what_to_pay_with_boxes_and_pdf_links() {
    let (portal, mine, other) = portal_with_invoices().await;
    let mut c = portal.parent().await;
    let page = c.get("/factures").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let b = &page.body;
    assert!(b.contains("Mes factures à payer"), "{b}");
    assert!(b.contains("Mes factures déjà payées"));
    // The seed's columns, each value under its name for the phone's cards.
    for column in [
        "PDF",
        "Numéro de facture",
        "Date d'échéance",
        "Régie, libellé",
        "Montant",
    ] {
        assert!(
            b.contains(&format!("scope=\"col\">{column}</th>")),
            "{column}: {b}"
        );
    }
    assert!(b.contains(&format!(
        "<td class=\"number\" data-label=\"Numéro\">{}</td>",
        mine.number
    )));
    assert!(b.contains("Régie: restauration et garderie, CANTINE ET GARDERIE"));
    assert!(b.contains(&format!(
        "PDF<span class=\"sr-only\"> de la facture {}</span>",
        mine.number
    )));
    assert!(
        b.contains("data-label=\"Montant\">10,95 €"),
        "3 meals at 3,65 €: {b}"
    );
    assert!(b.contains("avril 2026"));
    assert!(b.contains(&format!(
        "type=\"checkbox\" name=\"invoice\" value=\"{}\"",
        mine.id.0
    )));
    assert!(b.contains(&format!("/factures/{}/facture.pdf", mine.id.0)));
    assert!(b.contains("Procéder au paiement"));
    assert!(b.contains("Aucune facture payée en ligne"));
    assert!(
        !b.contains(&other.number.to_string()),
        "another family's invoice shown"
    );
    assert!(b.contains("href=\"/factures\""), "the Factures tab");
}

#[tokio::test]
async fn pdf_is_served_for_the_payers_own_invoices_only() {
    let (portal, mine, other) = portal_with_invoices().await;
    // Not logged in: no PDF.
    let mut anon = portal.client();
    let page = anon
        .get(&format!("/factures/{}/facture.pdf", mine.id.0))
        .await;
    assert_ne!(page.status, StatusCode::OK);
    assert!(!page.body.starts_with("%PDF"));

    let mut c = portal.parent().await;
    let req = axum::http::Request::get(format!("/factures/{}/facture.pdf", mine.id.0))
        .header(axum::http::header::COOKIE, c.cookie.clone().unwrap())
        .body(axum::body::Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(c.app.clone(), req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[axum::http::header::CONTENT_TYPE],
        "application/pdf"
    );
    let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
        .await
        .unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        mine.number.to_string().as_str(),
        "Mairie de Mezcalito",
        "Laurence MARSONE",
        "Angéline MARSONE",
        "10,95",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }

    // Another family's invoice, or no invoice at all: the same "not yours" answer.
    let page = c
        .get(&format!("/factures/{}/facture.pdf", other.id.0))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.starts_with("%PDF"));
    let page = c.get("/factures/999999/facture.pdf").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = c.get("/factures/abc/facture.pdf").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn email_opt_in_is_saved_with_csrf() {
    let (portal, _, _) = portal_with_invoices().await;
    let mut c = portal.parent().await;
    let page = c.get("/factures").await;
    // The box inside its label, on one line, with what it does said beside it.
    page.assert_has(&[
        "<label class=\"check\" for=\"opt_in\"><input type=\"checkbox\" name=\"opt_in\"",
        "<span>Me prévenir par mail de la mise en ligne de ma facture</span></label>",
        "aria-describedby=\"opt_in_aide\"",
        "de la part de la mairie",
        "Adresse : laurence.marsone@example.org",
    ]);
    assert!(page.body.contains("Enregistrer"));
    let csrf = page.csrf();

    // A forged form (no token) changes nothing.
    let r = c
        .post("/factures/avis", &[("csrf", "x"), ("opt_in", "1")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!opted_in(&portal, portal.fam.payer).await);

    let r = c
        .post("/factures/avis", &[("csrf", &csrf), ("opt_in", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/factures");
    assert!(opted_in(&portal, portal.fam.payer).await);
    let page = c.get("/factures").await;
    assert!(
        page.body.contains("vous serez prévenu par e-mail"),
        "{}",
        page.body
    );
    assert!(page.body.contains("checked"));
    assert!(!opted_in(&portal, portal.fam.other_payer).await);

    // Unticked box: the browser sends no field, and the opt-in is removed.
    let r = c.post("/factures/avis", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!opted_in(&portal, portal.fam.payer).await);
}

#[tokio::test]
async fn staff_button_generates_the_months_invoices_once() {
    let portal = portal_with_april_meals(&[1, 2]).await;
    let store = portal.db.store.clone();
    let mut staff = portal.staff().await;
    let page = staff.get("/mairie/factures").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Générer les factures du mois"));
    assert!(
        page.body.contains("value=\"2026-04\""),
        "last month by default"
    );
    let csrf = page.csrf();
    // A parent cannot generate invoices.
    let mut parent = portal.parent().await;
    let pcsrf = parent.get("/factures").await.csrf();
    let r = parent
        .post("/mairie/factures", &[("csrf", &pcsrf), ("mois", "2026-04")])
        .await;
    assert_ne!(r.status, StatusCode::SEE_OTHER);
    let month = InvoiceMonth::parse("2026-04").unwrap();
    assert!(store.invoices_of_month(month).await.unwrap().is_empty());

    let r = staff
        .post("/mairie/factures", &[("csrf", &csrf), ("mois", "2026-04")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = staff.get(r.location()).await;
    assert!(
        page.body.contains("2 créée(s), 0 déjà existante(s)"),
        "{}",
        page.body
    );
    assert!(page.body.contains("2026-003-000001"));
    assert!(page.body.contains("2026-003-000002"));
    let r = staff
        .post("/mairie/factures", &[("csrf", &csrf), ("mois", "2026-04")])
        .await;
    let page = staff.get(r.location()).await;
    assert!(
        page.body.contains("0 créée(s), 2 déjà existante(s)"),
        "{}",
        page.body
    );
    assert_eq!(store.invoices_of_month(month).await.unwrap().len(), 2);
    let r = staff
        .post("/mairie/factures", &[("csrf", &csrf), ("mois", "avril")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
