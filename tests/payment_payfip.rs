//! PayFiP end to end over loopback: the classic redirect and the web service, each against
//! the local stand-in, with a small "town site" receiving what PayFiP sends back.

mod web_support;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use ivr::payment::payfip::PayFipConfig;
use ivr::payment::payfip::classic::{ClassicRequest, ClassicReturn};
use ivr::payment::payfip::soap::{CreerPaiement, IdOp};
use ivr::payment::payfip::ws::{PayFipWsClient, notified_id_op};
use ivr::payment::standin::decode_form;
use ivr::payment::standin::payfip::PayFipStandin;
use ivr::payment::{PaymentError, PaymentOutcome};
use std::sync::Arc;
use tokio::sync::mpsc;
use web_support::http::no_redirects;
use web_support::standins::{
    creer, hidden_inputs, on_loopback, payfip_config, see_other, serve_payfip,
};

const GUARD: Duration = Duration::from_secs(10);

type Fields = Vec<(String, String)>;

async fn receive(State(tx): State<mpsc::UnboundedSender<Fields>>, body: Bytes) -> StatusCode {
    let _ = tx.send(decode_form(&body));
    StatusCode::OK
}

struct Setup {
    standin: Arc<PayFipStandin>,
    standin_addr: SocketAddr,
    site_addr: SocketAddr,
    received: mpsc::UnboundedReceiver<Fields>,
    http: reqwest::Client,
}

async fn setup() -> Result<Setup> {
    let (standin, standin_addr) = serve_payfip().await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let site = Router::new()
        .route("/payfip/retour", post(receive))
        .route("/payfip/notif", post(receive))
        .with_state(tx);
    let site_addr = on_loopback(site).await?;
    Ok(Setup {
        standin,
        standin_addr,
        site_addr,
        received: rx,
        http: no_redirects(),
    })
}

impl Setup {
    async fn next(&mut self) -> Result<Fields> {
        tokio::time::timeout(GUARD, self.received.recv())
            .await
            .map_err(|_| anyhow!("nothing arrived"))?
            .context("closed")
    }

    fn config(&self) -> PayFipConfig {
        payfip_config(&format!("http://{}", self.standin_addr))
    }
}

/// The demo debt for the classic page, the browser back at `site`'s `/payfip/retour`.
fn classic_request(site: SocketAddr, montant: i64) -> Result<ClassicRequest> {
    web_support::standins::classic_request(
        "Régie: restauration et garderie, CANTINE ET GARDERIE",
        montant,
        format!("http://{site}/payfip/retour"),
    )
}

/// Opens the classic page and clicks `choice`; returns the final page.
async fn classic_pay(s: &Setup, req: &ClassicRequest, choice: &str) -> Result<String> {
    let url = req.redirect_url(&s.config().classic_url)?;
    let r = s.http.get(url).send().await?;
    anyhow::ensure!(r.status() == StatusCode::OK, "{}", r.status());
    let page = r.text().await?;
    let mut fields = hidden_inputs(&page);
    fields.push(("choice".into(), choice.into()));
    let r = s
        .http
        .post(format!("http://{}/tpa/paiement.web/choice", s.standin_addr))
        .form(&fields)
        .send()
        .await?;
    anyhow::ensure!(r.status() == StatusCode::OK, "{}", r.status());
    Ok(r.text().await?)
}

#[tokio::test]
async fn classic_payment_comes_back_to_urlcl_and_matches_the_request() -> Result<()> {
    let mut s = setup().await?;
    let req = classic_request(s.site_addr, 5830)?;
    let last_page = classic_pay(&s, &req, "pay").await?;
    let back = ClassicReturn::parse(&s.next().await?)?;
    back.check_against(&req)?;
    assert_eq!(back.outcome, PaymentOutcome::Paid);
    assert_eq!(back.resultrans, "P");
    assert!(back.numauto.is_some());
    assert!(back.at.is_some());
    // The browser's way back carries the same result to urlcl.
    let browser = hidden_inputs(&last_page);
    assert_eq!(ClassicReturn::parse(&browser)?, back);
    assert!(last_page.contains(&format!("action=\"http://{}/payfip/retour\"", s.site_addr)));

    for (choice, outcome) in [
        ("refuse", PaymentOutcome::Refused),
        ("abandon", PaymentOutcome::Abandoned),
    ] {
        classic_pay(&s, &req, choice).await?;
        let back = ClassicReturn::parse(&s.next().await?)?;
        back.check_against(&req)?;
        assert_eq!(back.outcome, outcome);
        assert_eq!(back.numauto, None);
    }
    Ok(())
}

#[tokio::test]
async fn classic_forged_return_does_not_match_the_stored_request() -> Result<()> {
    let mut s = setup().await?;
    // A payer pays 1 cent for another request, then replays the return for the real debt.
    let cheap = classic_request(s.site_addr, 1)?;
    classic_pay(&s, &cheap, "pay").await?;
    let back = ClassicReturn::parse(&s.next().await?)?;
    let stored = classic_request(s.site_addr, 5830)?;
    assert_eq!(
        back.check_against(&stored),
        Err(PaymentError::Mismatch("montant"))
    );
    Ok(())
}

#[tokio::test]
async fn classic_page_refuses_bad_requests() -> Result<()> {
    let s = setup().await?;
    let base = s.config().classic_url;
    // The classic page asked for this debt by hand.
    let page_for = |refdet: &str, saisie: &str| -> Result<url::Url> {
        let mut url = url::Url::parse(&base)?;
        url.query_pairs_mut().extend_pairs([
            ("numcli", "123456"),
            ("exer", "2014"),
            ("refdet", refdet),
            ("objet", "Cantine"),
            ("montant", "100"),
            ("mel", "a@b.c"),
            ("urlcl", "http://127.0.0.1:9/"),
            ("saisie", saisie),
        ]);
        Ok(url)
    };
    // The web-service production code W is not a classic code.
    let url = page_for("2014003000162", "W")?;
    assert_eq!(
        s.http.get(url).send().await?.status(),
        StatusCode::BAD_REQUEST
    );
    // refdet with dashes (the invoice number as printed, not as PayFiP wants it).
    let r = s.http.get(page_for("2014-003-000162", "T")?).send().await?;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await?.contains("refdet"));
    Ok(())
}

/// Creates an operation, opens its page and clicks `choice`; returns the idOp and the
/// browser's redirect.
async fn ws_pay(
    s: &Setup,
    client: &PayFipWsClient,
    args: &CreerPaiement,
    choice: &str,
) -> Result<(IdOp, String)> {
    let id = client.create_payment(args).await?;
    let r = s.http.get(client.payment_page(&id)).send().await?;
    anyhow::ensure!(r.status() == StatusCode::OK, "{}", r.status());
    let mut fields = hidden_inputs(&r.text().await?);
    fields.push(("choice".into(), choice.into()));
    let r = s
        .http
        .post(format!(
            "http://{}/tpa/paiementws.web/choice",
            s.standin_addr
        ))
        .form(&fields)
        .send()
        .await?;
    Ok((id, see_other(&r)?))
}

#[tokio::test]
async fn web_service_payment_is_confirmed_by_the_detail_call() -> Result<()> {
    let mut s = setup().await?;
    let client = PayFipWsClient::from_config(&s.config())?;
    let args = creer(s.site_addr, 5830)?;

    // Before the payer chooses: P5.
    let id = client.create_payment(&args).await?;
    assert_eq!(client.payment_detail(&id).await, Err(PaymentError::Pending));

    let (id, redirect) = ws_pay(&s, &client, &args, "pay").await?;
    assert!(redirect.starts_with(&format!("http://{}/payfip/fin?idOp=", s.site_addr)));
    let notified = notified_id_op(&s.next().await?)?;
    assert_eq!(notified, id);
    let detail = client.payment_detail(&notified).await?;
    detail.check_against(&args)?;
    assert_eq!(detail.outcome(), PaymentOutcome::Paid);
    assert!(detail.numauto.is_some() && detail.at().is_some());

    // The "result not consolidated yet" switch answers P5 even for a decided operation.
    s.standin.set_hold_results(true);
    assert_eq!(client.payment_detail(&id).await, Err(PaymentError::Pending));
    s.standin.set_hold_results(false);
    assert_eq!(
        client.payment_detail(&id).await?.outcome(),
        PaymentOutcome::Paid
    );

    // An id PayFiP never gave: P1.
    assert_eq!(
        client.payment_detail(&IdOp::parse("nope")?).await,
        Err(PaymentError::UnknownOperation)
    );
    assert_eq!(s.standin.operation_count(), 2);
    Ok(())
}

#[tokio::test]
async fn web_service_refusal_and_abandonment() -> Result<()> {
    let mut s = setup().await?;
    let client = PayFipWsClient::from_config(&s.config())?;
    for (choice, outcome, code) in [
        ("refuse", PaymentOutcome::Refused, "R"),
        ("abandon", PaymentOutcome::Abandoned, "A"),
    ] {
        let args = creer(s.site_addr, 1200)?;
        let (id, _) = ws_pay(&s, &client, &args, choice).await?;
        assert_eq!(notified_id_op(&s.next().await?)?, id);
        let d = client.payment_detail(&id).await?;
        assert_eq!((d.outcome(), d.resultrans.as_str()), (outcome, code));
        assert_eq!(d.numauto, None);
    }
    Ok(())
}

#[tokio::test]
async fn expired_operations_cannot_be_paid() -> Result<()> {
    let standin = PayFipStandin::with_lifetime(Duration::ZERO)?;
    let addr = on_loopback(standin.router()).await?;
    let client = PayFipWsClient::from_config(&payfip_config(&format!("http://{addr}")))?;
    let id = client
        .create_payment(&creer("127.0.0.1:9".parse()?, 100)?)
        .await?;
    let r = reqwest::get(client.payment_page(&id)).await?;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await?.contains("expirée"));
    // Never paid: the detail stays "not known".
    assert_eq!(client.payment_detail(&id).await, Err(PaymentError::Pending));
    Ok(())
}

#[tokio::test]
async fn web_service_unreachable_is_a_transport_error() -> Result<()> {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let client = PayFipWsClient::from_config(&PayFipConfig {
        ws_endpoint: format!("http://127.0.0.1:{port}/tpa/services/securite"),
        ws_timeout_secs: 2,
        ..Default::default()
    })?;
    let args = creer("127.0.0.1:9".parse()?, 100)?;
    assert!(matches!(
        client.create_payment(&args).await,
        Err(PaymentError::Transport(_))
    ));
    Ok(())
}
