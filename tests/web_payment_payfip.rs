//! Paying one invoice with PayFiP through the portal, over loopback with the PayFiP stand-in
//! and the portal both served on 127.0.0.1:0, on SQLite and on PostgreSQL.
//!
//! The portal uses PayFiP's web service: the invoice is marked paid only once the server has
//! asked PayFiP itself (`recupererDetailPaiementSecurise` for the `idOp` it created). The
//! attack of issue 13 (finding 1) is replayed first: a return POSTed with every value the
//! parent can see, from a client with no session, used to get "Paiement accepté" and the
//! invoice marked paid without PayFiP ever being visited.

mod web_support;

use anyhow::{Context, Result, ensure};
use axum::http::StatusCode;
use ivr::payment::standin::payfip::PayFipStandin;
use ivr::store::StoredInvoice;
use ivr::store::testing::TestDb;
use ivr::web::payment_ipn::BEING_CHECKED;
use web_support::billing::invoicing;
use web_support::http::no_redirects;
use web_support::standins::{payfip_config, serve_payfip};
use web_support::{Client, Portal, default_now};

type Fields = Vec<(String, String)>;

struct Setup {
    portal: Portal,
    portal_addr: std::net::SocketAddr,
    standin: std::sync::Arc<PayFipStandin>,
    standin_addr: std::net::SocketAddr,
    /// A client with no session and no cookie: what an attacker or PayFiP's server is.
    http: reqwest::Client,
    mine: StoredInvoice,
}

/// The PayFiP stand-in, the portal on `db` served with it, and the family's invoice for
/// three April meals.
async fn setup(db: TestDb) -> Result<Setup> {
    let (standin, standin_addr) = serve_payfip().await?;
    let invoicing = invoicing(
        "[[tariffs]]\nservice = \"REPAS\"\nlabel = \"Repas\"\nprice_cents = 365\n",
        None,
        Some(payfip_config(&format!("http://{standin_addr}"))),
    );
    let (portal, portal_addr, mine) =
        Portal::served_with_an_invoice(db, invoicing, &[1, 2, 3]).await;
    Ok(Setup {
        portal,
        portal_addr,
        standin,
        standin_addr,
        http: no_redirects(),
        mine,
    })
}

/// What the parent's browser was sent to by "Payer par PayFiP".
enum Started {
    /// PayFiP's page for this `idOp`.
    PayFip { id_op: String },
    /// Back to the invoices, with this message.
    Refused(String),
}

impl Setup {
    async fn paid_at(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        Ok(self
            .portal
            .db
            .store
            .invoice_of_payer(self.portal.fam.payer, self.mine.id)
            .await?
            .context("invoice")?
            .paid_at)
    }

    /// Ticks the invoice and presses "Payer par PayFiP".
    async fn start(&self, c: &mut Client) -> Result<Started> {
        let csrf = c.get("/factures").await.csrf();
        let id = self.mine.id.0.to_string();
        let ticked = [("csrf", csrf.as_str()), ("invoice", id.as_str())];
        let page = c.post("/factures/paiement", &ticked).await;
        ensure!(page.body.contains("Payer par PayFiP"), "{}", page.body);
        let r = c.post("/factures/paiement/payfip", &ticked).await;
        ensure!(r.status == StatusCode::SEE_OTHER, "{}", r.body);
        if r.location() == "/factures" {
            let page = c.get("/factures").await;
            return Ok(Started::Refused(page.body));
        }
        let to = url::Url::parse(r.location())?;
        ensure!(to.port() == Some(self.standin_addr.port()), "{to}");
        ensure!(to.path() == "/tpa/paiementws.web", "{to}");
        // Nothing about the debt is in the address any more: only PayFiP's operation id.
        let q: Fields = to.query_pairs().into_owned().collect();
        ensure!(q.len() == 1 && q[0].0 == "idop", "{to}");
        Ok(Started::PayFip {
            id_op: q[0].1.clone(),
        })
    }

    /// Presses `choice` on the stand-in's page for `id_op`: PayFiP records the result,
    /// notifies the portal, and sends the browser back; returns where to.
    async fn choose(&self, id_op: &str, choice: &str) -> Result<String> {
        let r = self
            .http
            .post(format!(
                "http://{}/tpa/paiementws.web/choice",
                self.standin_addr
            ))
            .form(&[("idop", id_op), ("choice", choice)])
            .send()
            .await?;
        ensure!(r.status() == StatusCode::SEE_OTHER, "{}", r.status());
        Ok(r.headers()["location"].to_str()?.to_owned())
    }

    /// Our order reference for the request PayFiP numbered `id_op`, as the database has it.
    async fn order_of(&self, id_op: &str) -> Result<String> {
        let mut tx = self.portal.db.store.begin().await?;
        let req = tx
            .payment_request_by_id_op(id_op)
            .await?
            .context("request")?;
        tx.rollback().await?;
        Ok(req.order_id)
    }

    fn portal_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.portal_addr)
    }

    /// Posts `fields` to the portal's PayFiP notification address, as PayFiP's server (or
    /// someone else) would; returns the answer's status.
    async fn notify(&self, fields: &[(&str, &str)]) -> Result<StatusCode> {
        let r = self
            .http
            .post(self.portal_url("/paiement/payfip/notif"))
            .form(fields)
            .send()
            .await?;
        Ok(r.status())
    }
}

async fn started(s: &Setup) -> Result<String> {
    let mut c = s.portal.parent().await;
    match s.start(&mut c).await? {
        Started::PayFip { id_op } => Ok(id_op),
        Started::Refused(page) => anyhow::bail!("refused: {page}"),
    }
}

/// Finding 1 replayed: every value the old return was checked against, POSTed to the
/// return address from a client with no session before PayFiP is visited; then a forged
/// notification naming our real `idOp`, and one naming an `idOp` we never created.
async fn forged_return_and_notification_mark_nothing_paid(db: TestDb) -> Result<()> {
    let s = setup(db).await?;
    let id_op = started(&s).await?;
    let order = s.order_of(&id_op).await?;
    let refdet = s.mine.number.refdet();
    let forged: Fields = [
        ("numcli", "123456"),
        ("exer", "2026"),
        ("refdet", refdet.as_str()),
        ("objet", "Facture"),
        ("montant", "1095"),
        ("mel", "laurence.marsone@example.org"),
        ("saisie", "T"),
        ("resultrans", "P"),
        ("numauto", "123456"),
        ("dattrans", "02052026"),
        ("heurtrans", "1000"),
        ("idOp", id_op.as_str()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let r = s
        .http
        .post(s.portal_url(&format!("/paiement/payfip/retour?demande={order}")))
        .form(&forged)
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await?;
    assert!(!page.contains("Paiement accepté"), "{page}");
    assert!(
        page.contains(&BEING_CHECKED.replace('\'', "&#39;"))
            || page.contains(BEING_CHECKED.split(':').next().unwrap()),
        "{page}"
    );
    assert!(
        s.paid_at().await?.is_none(),
        "a forged return paid the invoice"
    );

    // A notification is only a hint: the server asks PayFiP, which has no result yet (P5).
    assert_eq!(
        s.notify(&[("idOp", &id_op)]).await?,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(s.paid_at().await?.is_none());
    // An idOp the portal never created is refused without asking anyone.
    assert_eq!(
        s.notify(&[("idOp", "0123456789abcdef")]).await?,
        StatusCode::BAD_REQUEST
    );
    // A return for an order that does not exist says so.
    let r = s
        .http
        .post(s.portal_url("/paiement/payfip/retour?demande=PWX"))
        .form(&forged)
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(s.paid_at().await?.is_none());

    // The real payment still goes through afterwards.
    s.choose(&id_op, "pay").await?;
    assert!(s.paid_at().await?.is_some());
    Ok(())
}

/// Paid on PayFiP's page: PayFiP's notification makes the server ask, and the answer marks
/// the invoice paid once; the browser's return shows it; repeats change nothing.
async fn paid_once_on_the_providers_own_word(db: TestDb) -> Result<()> {
    let s = setup(db).await?;
    let id_op = started(&s).await?;
    let back = s.choose(&id_op, "pay").await?;
    let paid_at = s
        .paid_at()
        .await?
        .context("paid after PayFiP's notification")?;
    s.portal
        .clock
        .set(default_now() + chrono::Duration::minutes(3));
    let r = s.http.get(&back).send().await?;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await?.contains("Paiement accepté."));
    assert_eq!(s.notify(&[("idop", &id_op)]).await?, StatusCode::OK);
    assert_eq!(s.paid_at().await?, Some(paid_at));
    // Paid: it cannot be paid again.
    let mut c = s.portal.parent().await;
    let id = s.mine.id.0.to_string();
    let r = c
        .submit(
            "/factures",
            "/factures/paiement/payfip",
            &[("invoice", &id)],
        )
        .await;
    assert_eq!(r.location(), "/factures");
    assert_eq!(s.standin.operation_count(), 1);
    Ok(())
}

/// A second request while the first is in progress is refused with a clear sentence
/// (finding 3, for PayFiP); a refusal frees the invoice at once for a new attempt.
async fn one_payment_at_a_time_and_a_refusal_frees_the_invoice(db: TestDb) -> Result<()> {
    let s = setup(db).await?;
    let id_op = started(&s).await?;
    let mut c = s.portal.parent().await;
    match s.start(&mut c).await? {
        Started::Refused(page) => assert!(
            page.contains("Un paiement de cette facture est déjà en cours"),
            "{page}"
        ),
        Started::PayFip { .. } => panic!("a second payment of the same invoice was started"),
    }
    assert_eq!(s.standin.operation_count(), 1);
    let back = s.choose(&id_op, "refuse").await?;
    assert!(s.paid_at().await?.is_none());
    let page = s.http.get(&back).send().await?.text().await?;
    assert!(page.contains("Paiement refusé."), "{page}");
    let again = started(&s).await?;
    assert_ne!(again, id_op);
    s.choose(&again, "pay").await?;
    assert!(s.paid_at().await?.is_some());
    Ok(())
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() -> anyhow::Result<()> {
                    super::$name(ivr::store::testing::TestDb::sqlite().await?).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                #[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
                async fn $name() -> anyhow::Result<()> {
                    match ivr::store::testing::TestDb::postgres().await? {
                        Some(db) => super::$name(db).await,
                        None => Ok(()),
                    }
                }
            )*
        }
    };
}

on_both!(
    forged_return_and_notification_mark_nothing_paid,
    paid_once_on_the_providers_own_word,
    one_payment_at_a_time_and_a_refusal_frees_the_invoice,
);
