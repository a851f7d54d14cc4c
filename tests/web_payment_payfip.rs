//! Paying one invoice with PayFiP classic through the portal, over loopback with the PayFiP
//! stand-in: the redirect carries the stored request, the result posted back to `urlcl`
//! marks the invoice paid once, a refusal leaves it to pay, and a forged return (another
//! amount) changes nothing since the classic protocol signs nothing.

mod web_support;

use anyhow::{Context, Result, ensure};
use axum::http::StatusCode;
use chrono::NaiveDate;
use ivr::booking::model::ServiceCode;
use ivr::invoice::InvoiceConfig;
use ivr::invoice::generate::InvoiceMonth;
use ivr::invoice::issue::generate_month;
use ivr::payment::payfip::PayFipConfig;
use ivr::payment::standin::payfip::PayFipStandin;
use ivr::payment::standin::serve;
use ivr::store::StoredInvoice;
use ivr::web::{Invoicing, WebConfig};
use web_support::{Portal, default_now};

type Fields = Vec<(String, String)>;

fn hidden_inputs(page: &str) -> Fields {
    page.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|rest| {
            let name = rest.split("name=\"").nth(1)?.split('"').next()?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((
                quick_xml::escape::unescape(name).ok()?.into_owned(),
                quick_xml::escape::unescape(value).ok()?.into_owned(),
            ))
        })
        .collect()
}

struct Setup {
    portal: Portal,
    standin_addr: std::net::SocketAddr,
    http: reqwest::Client,
    mine: StoredInvoice,
}

async fn setup() -> Result<Setup> {
    let standin = PayFipStandin::new()?;
    let (standin_addr, _t) = serve(standin.router(), "127.0.0.1:0".parse()?).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let portal_addr = listener.local_addr()?;
    let invoicing = Invoicing {
        invoice: toml::from_str::<InvoiceConfig>(
            "[[tariffs]]\nservice = \"REPAS\"\nlabel = \"Repas\"\nprice_cents = 365\n",
        )?,
        systempay: None,
        payfip: Some(PayFipConfig {
            classic_url: format!("http://{standin_addr}/tpa/paiement.web"),
            ..Default::default()
        }),
    };
    let web = WebConfig {
        public_base_url: format!("http://{portal_addr}"),
        ..Default::default()
    };
    let portal = Portal::with_settings(web, invoicing).await;
    tokio::spawn(ivr::web::serve(listener, portal.state.clone()));
    let store = &portal.db.store;
    let mut tx = store.begin().await?;
    for d in [1, 2, 3] {
        let date = NaiveDate::from_ymd_opt(2026, 4, d).unwrap();
        tx.insert_booking(
            portal.fam.angeline,
            date,
            &ServiceCode::parse("REPAS")?,
            default_now(),
        )
        .await?;
    }
    tx.commit().await?;
    let cfg = portal.state.invoicing().invoice.clone();
    generate_month(
        store,
        &cfg,
        InvoiceMonth::parse("2026-04")?,
        NaiveDate::from_ymd_opt(2026, 5, 2).unwrap(),
        default_now(),
    )
    .await?;
    let mine = store.invoices_of(portal.fam.payer).await?.remove(0);
    Ok(Setup {
        portal,
        standin_addr,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
        mine,
    })
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

    /// Ticks the invoice, picks PayFiP, follows the redirect and clicks `choice`; returns
    /// the stand-in's final page (whose form is the browser's way back).
    async fn pay(&self, choice: &str) -> Result<String> {
        let mut c = self.portal.parent().await;
        let csrf = c.get("/factures").await.csrf();
        let id = self.mine.id.0.to_string();
        let page = c
            .post("/factures/paiement", &[("csrf", &csrf), ("invoice", &id)])
            .await;
        ensure!(page.body.contains("Payer par PayFiP"), "{}", page.body);
        let r = c
            .post(
                "/factures/paiement/payfip",
                &[("csrf", &csrf), ("invoice", &id)],
            )
            .await;
        ensure!(r.status == StatusCode::SEE_OTHER, "{}", r.body);
        let to = url::Url::parse(r.location())?;
        ensure!(to.port() == Some(self.standin_addr.port()));
        let q: Fields = to.query_pairs().into_owned().collect();
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        ensure!(get("refdet") == Some(self.mine.number.refdet().as_str()));
        ensure!(get("montant") == Some("1095"));
        ensure!(get("exer") == Some("2026"));
        ensure!(get("mel") == Some("laurence.marsone@example.org"));
        let page = self.http.get(to).send().await?.text().await?;
        let mut fields = hidden_inputs(&page);
        fields.push(("choice".into(), choice.into()));
        let r = self
            .http
            .post(format!(
                "http://{}/tpa/paiement.web/choice",
                self.standin_addr
            ))
            .form(&fields)
            .send()
            .await?;
        ensure!(r.status() == StatusCode::OK, "{}", r.status());
        Ok(r.text().await?)
    }
}

/// The browser's way back on the stand-in's final page: its action and fields.
fn way_back(page: &str) -> Result<(String, Fields)> {
    let action = page
        .split("<form method=\"post\" action=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("no way back")?;
    let action = quick_xml::escape::unescape(action)?.into_owned();
    Ok((action, hidden_inputs(page)))
}

#[tokio::test]
async fn payfip_pays_one_invoice_once_and_forgery_changes_nothing() -> Result<()> {
    let s = setup().await?;
    let page = s.pay("pay").await?;
    assert!(!page.contains("n'a pas répondu"), "{page}");
    let paid_at = s
        .paid_at()
        .await?
        .context("paid by the server-to-server return")?;

    // The browser's return repeats the same result: shown, nothing changes.
    let (action, fields) = way_back(&page)?;
    s.portal
        .clock
        .set(default_now() + chrono::Duration::minutes(3));
    let r = s.http.post(&action).form(&fields).send().await?;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await?.contains("Paiement accepté."));
    assert_eq!(s.paid_at().await?, Some(paid_at));

    // A forged return for a smaller amount is refused.
    let forged: Fields = fields
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                if k == "montant" {
                    "1".into()
                } else {
                    v.clone()
                },
            )
        })
        .collect();
    let r = s.http.post(&action).form(&forged).send().await?;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn refused_payfip_payment_leaves_the_invoice_to_pay() -> Result<()> {
    let s = setup().await?;
    let page = s.pay("refuse").await?;
    assert!(s.paid_at().await?.is_none());
    // A forged "paid" return with the right references but another amount: nothing.
    let (action, fields) = way_back(&page)?;
    let forged: Fields = fields
        .iter()
        .map(|(k, v)| match k.as_str() {
            "resultrans" => (k.clone(), "P".into()),
            "montant" => (k.clone(), "1".into()),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let r = s.http.post(&action).form(&forged).send().await?;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(s.paid_at().await?.is_none());
    // An unknown request: nothing.
    let other = action.replace("demande=", "demande=X");
    let r = s.http.post(&other).form(&fields).send().await?;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Paying again works.
    s.pay("pay").await?;
    assert!(s.paid_at().await?.is_some());
    Ok(())
}
