//! Paying an invoice by card through the portal, end to end over loopback: the parent ticks
//! an invoice, gets the signed form, the SystemPay stand-in (served on 127.0.0.1:0) takes
//! the "card" and notifies the portal's IPN endpoint (the portal served on 127.0.0.1:0),
//! then sends the browser back. The invoice is paid once whatever is repeated; a refused
//! payment leaves it to pay; a forged notification changes nothing.

mod web_support;

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use axum::http::StatusCode;
use ivr::payment::standin::systempay::SystemPayStandinConfig;
use ivr::payment::systempay::{SystemPay, SystemPayConfig};
use ivr::store::testing::TestDb;
use ivr::store::{InvoiceId, Store, StoredInvoice};
use web_support::billing::{book_april_meals, invoicing};
use web_support::http::no_redirects;
use web_support::standins::{
    pay_by_card, repeat_notification, serve_systempay, shop, test_key, with_signature,
};
use web_support::{Client, Page, Portal, default_now};

const INVOICE_CONFIG: &str = r#"
regie_code = 3
[[tariffs]]
service = "REPAS"
label = "Repas (cantine)"
price_cents = 365
"#;

struct Setup {
    portal: Portal,
    standin_addr: std::net::SocketAddr,
    portal_addr: std::net::SocketAddr,
    http: reqwest::Client,
    mine: StoredInvoice,
}

/// A card shop on the SystemPay stand-in (its notifications retried once, quickly), the
/// portal served with it, and the family's invoice for two April meals.
async fn setup() -> Result<Setup> {
    let (_, standin_addr) = serve_systempay(SystemPayStandinConfig {
        retry_delay: Duration::from_millis(20),
        max_retries: 1,
        ..test_key()
    })
    .await?;
    let invoicing = invoicing(INVOICE_CONFIG, Some(shop(standin_addr)), None);
    let (portal, portal_addr, mine) =
        Portal::served_with_an_invoice(TestDb::sqlite().await?, invoicing, &[1, 2]).await;
    Ok(Setup {
        portal,
        standin_addr,
        portal_addr,
        http: no_redirects(),
        mine,
    })
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The bank form of the page: its action and its hidden `vads_*`/`signature` fields.
fn bank_form(page: &str) -> Result<(String, Vec<(String, String)>)> {
    let action = page
        .split("<form method=\"post\" action=\"")
        .map(|rest| rest.split('"').next().unwrap_or(""))
        .find(|a| a.starts_with("http://"))
        .context("no form to the bank")?
        .to_owned();
    let mut fields = Vec::new();
    for tag in page.split("<input type=\"hidden\" name=\"").skip(1) {
        let (name, rest) = tag.split_once('"').context("name")?;
        let value = rest
            .split_once("value=\"")
            .and_then(|(_, v)| v.split_once('"'))
            .map(|(v, _)| v)
            .context("value")?;
        if name.starts_with("vads_") || name == "signature" {
            fields.push((name.to_owned(), unescape(value)));
        }
    }
    Ok((unescape(&action), fields))
}

impl Setup {
    fn store(&self) -> &Store {
        &self.portal.db.store
    }

    async fn invoice(&self, id: InvoiceId) -> Result<StoredInvoice> {
        self.store()
            .invoice_of_payer(self.portal.fam.payer, id)
            .await?
            .context("invoice")
    }

    /// Ticks `id`, chooses the card, posts the bank form and clicks `choice` on the
    /// stand-in's page; returns the stand-in session and the return URL (path and query).
    async fn pay(&self, c: &mut Client, id: InvoiceId, choice: &str) -> Result<(String, String)> {
        let csrf = c.get("/factures").await.csrf();
        let id = id.0.to_string();
        let ticked = [("csrf", csrf.as_str()), ("invoice", id.as_str())];
        let page = c.post("/factures/paiement", &ticked).await;
        ensure!(page.status == StatusCode::OK, "{}", page.body);
        ensure!(
            page.body.contains("Payer par carte bancaire"),
            "{}",
            page.body
        );
        let page = c.post("/factures/paiement/carte", &ticked).await;
        ensure!(page.status == StatusCode::OK, "{}", page.body);
        let csp = page.headers["content-security-policy"].to_str()?;
        ensure!(
            csp.contains(&format!("form-action 'self' http://{}", self.standin_addr)),
            "{csp}"
        );
        let (action, fields) = bank_form(&page.body)?;
        ensure!(action == format!("http://{}/vads-payment/", self.standin_addr));
        let (session, location) =
            pay_by_card(&self.http, self.standin_addr, &action, &fields, choice).await?;
        ensure!(location.host_str() == Some("127.0.0.1"));
        ensure!(location.port() == Some(self.portal_addr.port()));
        let back = format!("{}?{}", location.path(), location.query().unwrap_or(""));
        Ok((session, back))
    }

    /// The parent logged in, who pays the family's invoice by card ([`Setup::pay`]),
    /// clicking `choice`; the parent's client, the stand-in session and the return URL.
    async fn parent_pays(&self, choice: &str) -> Result<(Client, String, String)> {
        let mut c = self.portal.parent().await;
        let (session, back) = self.pay(&mut c, self.mine.id, choice).await?;
        Ok((c, session, back))
    }

    /// The parent logged in, the CSRF token of their invoices page, and the answer (a card
    /// form, checked) to their first card request for their invoice from that page.
    async fn first_card_request(&self) -> (Client, String, Page) {
        let mut c = self.portal.parent().await;
        let csrf = c.get("/factures").await.csrf();
        let first = self.card_request(&mut c, &csrf).await;
        first.assert_status(StatusCode::OK);
        (c, csrf, first)
    }

    /// Asks for a card payment of the family's invoice behind `csrf`.
    async fn card_request(&self, c: &mut Client, csrf: &str) -> Page {
        let id = self.mine.id.0.to_string();
        c.post_csrf("/factures/paiement/carte", csrf, &[("invoice", &id)])
            .await
    }

    /// Accepts the bank form of `page` on the stand-in (which notifies the portal).
    async fn accept(&self, page: &str) -> Result<()> {
        let (action, fields) = bank_form(page)?;
        pay_by_card(&self.http, self.standin_addr, &action, &fields, "accept").await?;
        Ok(())
    }
}

#[tokio::test]
async fn ticked_invoice_paid_by_card_once_whatever_is_repeated() -> Result<()> {
    let s = setup().await?;
    let (mut c, session, back) = s.parent_pays("accept").await?;
    // The stand-in delivers the IPN before sending the browser back.
    let paid = s.invoice(s.mine.id).await?;
    let paid_at = paid.paid_at.context("the IPN marked the invoice paid")?;
    assert_eq!(paid_at, default_now());

    // The return page shows the verified outcome.
    assert!(back.starts_with("/factures/paiement/retour?"), "{back}");
    let page = c.get(&back).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Paiement accepté."), "{}", page.body);
    let page = c.get("/factures").await;
    assert!(
        page.body.contains("Aucune facture à payer."),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("data-label=\"Numéro\">{}<", s.mine.number))
    );

    // The provider repeats the notification later: nothing changes.
    s.portal
        .clock
        .set(default_now() + chrono::Duration::minutes(5));
    let r = repeat_notification(&s.http, s.standin_addr, &session).await?;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the portal acknowledged the repeat"
    );
    assert_eq!(s.invoice(s.mine.id).await?.paid_at, Some(paid_at));

    // Paying it again is refused before anything reaches the bank.
    let id = s.mine.id.0.to_string();
    let r = c
        .submit("/factures", "/factures/paiement/carte", &[("invoice", &id)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.get("/factures").await;
    assert!(page.body.contains("déjà payée"), "{}", page.body);
    Ok(())
}

#[tokio::test]
async fn refused_payment_leaves_the_invoice_to_pay_and_forgery_changes_nothing() -> Result<()> {
    let s = setup().await?;
    let (mut c, _, back) = s.parent_pays("refuse").await?;
    assert!(s.invoice(s.mine.id).await?.paid_at.is_none());
    let page = c.get(&back).await;
    assert!(page.body.contains("Paiement refusé."), "{}", page.body);

    // A forged IPN: the browser's signed return turned into an "AUTHORISED" notification.
    let mut fields: Vec<(String, String)> = url::Url::parse(&format!("http://x{back}"))?
        .query_pairs()
        .into_owned()
        .collect();
    for (name, value) in &mut fields {
        if name == "vads_trans_status" {
            *value = "AUTHORISED".into();
        }
    }
    fields.push(("vads_hash".into(), "0".repeat(64)));
    let ipn = format!("http://{}/paiement/systempay/ipn", s.portal_addr);
    let r = s.http.post(&ipn).form(&fields).send().await?;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        s.invoice(s.mine.id).await?.paid_at.is_none(),
        "forgery paid the invoice"
    );
    // The browser's return itself (signed, but no vads_hash) is not a notification either.
    let fields: Vec<(String, String)> = url::Url::parse(&format!("http://x{back}"))?
        .query_pairs()
        .into_owned()
        .collect();
    let r = s.http.post(&ipn).form(&fields).send().await?;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(s.invoice(s.mine.id).await?.paid_at.is_none());

    // Still to pay: a second attempt, accepted this time, pays it.
    let page = c.get("/factures").await;
    assert!(
        page.body
            .contains(&format!("data-label=\"Numéro\">{}<", s.mine.number))
    );
    assert!(!page.body.contains("Aucune facture à payer."));
    s.pay(&mut c, s.mine.id, "accept").await?;
    assert!(s.invoice(s.mine.id).await?.paid_at.is_some());
    Ok(())
}

#[tokio::test]
async fn another_familys_invoice_cannot_be_paid_and_nothing_ticked_is_explained() -> Result<()> {
    let s = setup().await?;
    book_april_meals(s.store(), s.portal.fam.other_child, &[6]).await;
    s.portal.invoice_april().await;
    let other = s.portal.first_invoice_of(s.portal.fam.other_payer).await;
    let mut c = s.portal.parent().await;
    let page = c.get("/factures").await;
    let csrf = page.csrf();
    for path in ["/factures/paiement", "/factures/paiement/carte"] {
        let r = c
            .post(
                path,
                &[("csrf", &csrf), ("invoice", &other.id.0.to_string())],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        let page = c.get("/factures").await;
        assert!(
            page.body.contains("n'est pas rattachée à votre compte"),
            "{}",
            page.body
        );
    }
    let r = c.post("/factures/paiement", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.get("/factures").await;
    assert!(
        page.body.contains("Cochez au moins une facture"),
        "{}",
        page.body
    );
    // Without the CSRF token: refused.
    let r = c
        .post(
            "/factures/paiement/carte",
            &[("csrf", "x"), ("invoice", &s.mine.id.0.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    Ok(())
}

/// Issue 13, finding 3 (two card requests for the same invoice were both accepted and both
/// recorded as paid): the second request is refused with a clear sentence while the first
/// holds the invoice, and the first one still pays it.
#[tokio::test]
async fn a_second_card_request_for_an_invoice_being_paid_is_refused() -> Result<()> {
    let s = setup().await?;
    let (mut c, csrf, first) = s.first_card_request().await;
    let second = s.card_request(&mut c, &csrf).await;
    second.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(second.location(), "/factures");
    let page = c.get("/factures").await;
    assert!(
        page.body
            .contains("Un paiement de cette facture est déjà en cours"),
        "{}",
        page.body
    );
    // The first request's form still pays the invoice, once.
    s.accept(&first.body).await?;
    assert!(s.invoice(s.mine.id).await?.paid_at.is_some());
    Ok(())
}

/// Issue 13, finding 2 replayed: with `[systempay]` left out of the configuration, a
/// notification signed with the provider's public example key was accepted and the invoice
/// marked paid. Now the portal has no shop without a configured key: no card payment is
/// offered and the notification is refused.
#[tokio::test]
async fn without_a_configured_key_there_is_no_card_payment() -> Result<()> {
    use ivr::payment::systempay::EXAMPLE_TEST_KEY;
    let shop = SystemPay::from_config(&SystemPayConfig::default()).ok();
    assert!(shop.is_none(), "a shop without a configured key");
    let (portal, portal_addr, mine) = Portal::served_with_an_invoice(
        TestDb::sqlite().await?,
        invoicing(INVOICE_CONFIG, shop, None),
        &[1, 2],
    )
    .await;
    let store = &portal.db.store;
    let mut c = portal.parent().await;
    let csrf = c.get("/factures").await.csrf();
    let id = mine.id.0.to_string();
    let ticked = [("csrf", csrf.as_str()), ("invoice", id.as_str())];
    let page = c.post("/factures/paiement", &ticked).await;
    assert!(
        !page.body.contains("Payer par carte bancaire"),
        "{}",
        page.body
    );
    assert!(page.body.contains("n'est pas disponible"), "{}", page.body);
    let r = c.post("/factures/paiement/carte", &ticked).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A notice signed with the public example key, as the attack sent it.
    let fields: Vec<(String, String)> = [
        ("vads_site_id", "12345678"),
        ("vads_ctx_mode", "TEST"),
        ("vads_trans_id", "000000"),
        ("vads_trans_date", "20260502100000"),
        ("vads_amount", &mine.total.0.to_string()),
        ("vads_currency", "978"),
        ("vads_order_id", "SP20260502000000"),
        ("vads_trans_status", "AUTHORISED"),
        ("vads_result", "00"),
        ("vads_url_check_src", "PAY"),
        ("vads_hash", &"ab".repeat(32)),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let fields = with_signature(fields, EXAMPLE_TEST_KEY)?;
    let r = reqwest::Client::new()
        .post(format!("http://{portal_addr}/paiement/systempay/ipn"))
        .form(&fields)
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let after = store.invoices_of(portal.fam.payer).await?.remove(0);
    assert!(after.paid_at.is_none());
    Ok(())
}

/// A provider that confirms a second payment for a paid invoice (the first form was left
/// open past the hold, then both were paid): the invoice is paid once and the second
/// payment is listed for staff to refund, who note the refund.
#[tokio::test]
async fn a_second_confirmed_payment_is_listed_for_staff_to_refund() -> Result<()> {
    let s = setup().await?;
    let (mut c, csrf, first) = s.first_card_request().await;
    s.portal
        .clock
        .set(default_now() + ivr::payment::settle::HOLD + chrono::Duration::minutes(1));
    let second = s.card_request(&mut c, &csrf).await;
    second.assert_status(StatusCode::OK);
    s.accept(&first.body).await?;
    let paid_at = s.invoice(s.mine.id).await?.paid_at.context("paid")?;
    s.accept(&second.body).await?;
    assert_eq!(s.invoice(s.mine.id).await?.paid_at, Some(paid_at));

    let mut staff = s.portal.staff().await;
    let page = staff.get("/mairie/factures?mois=2026-04").await;
    assert!(
        page.body.contains("Paiements en double à rembourser"),
        "{}",
        page.body
    );
    assert!(page.body.contains("SystemPay (carte)"), "{}", page.body);
    let payment = page
        .body
        .split("name=\"paiement\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("no refund form")?
        .to_owned();
    let staff_csrf = page.csrf();
    let r = staff
        .post(
            "/mairie/factures/doubles",
            &[("csrf", &staff_csrf), ("paiement", &payment)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = staff.get("/mairie/factures?mois=2026-04").await;
    assert!(page.body.contains("Remboursement noté."), "{}", page.body);
    assert!(page.body.contains("remboursé le"), "{}", page.body);
    Ok(())
}
