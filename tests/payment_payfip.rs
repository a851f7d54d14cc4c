//! PayFiP end to end over loopback: the classic redirect and the web service, each against
//! the local stand-in, with a small "town site" receiving what PayFiP sends back.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use ivr::booking::model::Cents;
use ivr::payment::payfip::classic::{ClassicRequest, ClassicReturn};
use ivr::payment::payfip::soap::{CreerPaiement, IdOp};
use ivr::payment::payfip::ws::{PayFipWsClient, notified_id_op};
use ivr::payment::payfip::{Exer, NumCli, Objet, PayFipConfig, RefDet, Saisie};
use ivr::payment::standin::payfip::PayFipStandin;
use ivr::payment::standin::{decode_form, serve};
use ivr::payment::{PaymentError, PaymentOutcome};
use std::sync::Arc;
use tokio::sync::mpsc;

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
    let standin = PayFipStandin::new()?;
    let (standin_addr, _t) = serve(standin.router(), "127.0.0.1:0".parse()?).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let site = Router::new()
        .route("/payfip/retour", post(receive))
        .route("/payfip/notif", post(receive))
        .with_state(tx);
    let (site_addr, _s) = serve(site, "127.0.0.1:0".parse()?).await?;
    Ok(Setup {
        standin,
        standin_addr,
        site_addr,
        received: rx,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
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
        let base = format!("http://{}", self.standin_addr);
        PayFipConfig {
            classic_url: format!("{base}/tpa/paiement.web"),
            ws_endpoint: format!("{base}/tpa/services/securite"),
            ws_payment_url: format!("{base}/tpa/paiementws.web"),
            ..Default::default()
        }
    }
}

/// The hidden inputs of a page, unescaped, as a browser would submit them.
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

fn classic_request(site: SocketAddr, montant: i64) -> Result<ClassicRequest> {
    Ok(ClassicRequest {
        numcli: NumCli::parse("123456")?,
        exer: Exer::new(2014)?,
        refdet: RefDet::parse("2014003000162")?,
        objet: Objet::sanitize("Régie: restauration et garderie, CANTINE ET GARDERIE")?,
        montant: Cents(montant),
        mel: "parent@example.org".into(),
        urlcl: format!("http://{site}/payfip/retour"),
        saisie: Saisie::Test,
    })
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
    // The web-service production code W is not a classic code.
    let mut url = url::Url::parse(&base)?;
    url.query_pairs_mut().extend_pairs([
        ("numcli", "123456"),
        ("exer", "2014"),
        ("refdet", "2014003000162"),
        ("objet", "Cantine"),
        ("montant", "100"),
        ("mel", "a@b.c"),
        ("urlcl", "http://127.0.0.1:9/"),
        ("saisie", "W"),
    ]);
    assert_eq!(
        s.http.get(url).send().await?.status(),
        StatusCode::BAD_REQUEST
    );
    // refdet with dashes (the invoice number as printed, not as PayFiP wants it).
    let mut url = url::Url::parse(&base)?;
    url.query_pairs_mut().extend_pairs([
        ("numcli", "123456"),
        ("exer", "2014"),
        ("refdet", "2014-003-000162"),
        ("objet", "Cantine"),
        ("montant", "100"),
        ("mel", "a@b.c"),
        ("urlcl", "http://127.0.0.1:9/"),
        ("saisie", "T"),
    ]);
    let r = s.http.get(url).send().await?;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await?.contains("refdet"));
    Ok(())
}

fn creer(site: SocketAddr, montant: i64) -> Result<CreerPaiement> {
    Ok(CreerPaiement {
        exer: Exer::new(2014)?,
        mel: "parent@example.org".into(),
        montant: Cents(montant),
        numcli: NumCli::parse("123456")?,
        objet: Objet::sanitize("Facture 2014-003-000162")?,
        refdet: RefDet::parse("2014003000162")?,
        saisie: Saisie::Test,
        urlnotif: format!("http://{site}/payfip/notif"),
        urlredirect: format!("http://{site}/payfip/fin"),
    })
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
    anyhow::ensure!(r.status() == StatusCode::SEE_OTHER, "{}", r.status());
    let location = r
        .headers()
        .get("location")
        .context("no Location")?
        .to_str()?;
    Ok((id, location.to_owned()))
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
    let (addr, _t) = serve(standin.router(), "127.0.0.1:0".parse()?).await?;
    let client = PayFipWsClient::from_config(&PayFipConfig {
        ws_endpoint: format!("http://{addr}/tpa/services/securite"),
        ws_payment_url: format!("http://{addr}/tpa/paiementws.web"),
        ..Default::default()
    })?;
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
