//! The payment providers' stand-ins served on 127.0.0.1:0, the shop's side of them (a
//! SystemPay shop with the public test key, PayFiP settings pointing at the stand-in), and
//! what a browser does on their pages.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result, ensure};
use axum::Router;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ivr::booking::model::Cents;
use ivr::payment::payfip::classic::ClassicRequest;
use ivr::payment::payfip::soap::CreerPaiement;
use ivr::payment::payfip::{Exer, NumCli, Objet, PayFipConfig, RefDet, Saisie};
use ivr::payment::standin::payfip::PayFipStandin;
use ivr::payment::standin::serve;
use ivr::payment::standin::systempay::{SystemPayStandin, SystemPayStandinConfig};
use ivr::payment::systempay::{
    EXAMPLE_TEST_KEY, MemoryTransIdCounter, PaymentForm, PaymentRequest, ReturnUrls, SystemPay,
    SystemPayConfig, allocate_trans_id,
};

/// The SystemPay stand-in's settings with the public example key (the shops' test key);
/// the rest as the caller says, e.g. `SystemPayStandinConfig { retry_delay, ..test_key() }`.
pub fn test_key() -> SystemPayStandinConfig {
    SystemPayStandinConfig {
        test_key: EXAMPLE_TEST_KEY.into(),
        ..Default::default()
    }
}

/// Serves `app` (a stand-in's router, a small shop) on 127.0.0.1:0 until the test ends;
/// returns its address.
pub async fn on_loopback(app: Router) -> Result<SocketAddr> {
    let (addr, _task) = serve(app, "127.0.0.1:0".parse()?).await?;
    Ok(addr)
}

/// Serves a SystemPay stand-in with `config` on 127.0.0.1:0; returns it and its address.
pub async fn serve_systempay(
    config: SystemPayStandinConfig,
) -> Result<(Arc<SystemPayStandin>, SocketAddr)> {
    let standin = SystemPayStandin::new(config)?;
    let addr = on_loopback(standin.router()).await?;
    Ok((standin, addr))
}

/// Serves a PayFiP stand-in (`PayFipStandin::new`) on 127.0.0.1:0; returns it and its
/// address.
pub async fn serve_payfip() -> Result<(Arc<PayFipStandin>, SocketAddr)> {
    let standin = PayFipStandin::new()?;
    let addr = on_loopback(standin.router()).await?;
    Ok((standin, addr))
}

/// A SystemPay shop in TEST mode with the example key, whose form goes to the stand-in
/// served at `standin`.
pub fn shop(standin: SocketAddr) -> SystemPay {
    SystemPay::from_config(&SystemPayConfig {
        test_key: EXAMPLE_TEST_KEY.into(),
        payment_url: format!("http://{standin}/vads-payment/"),
        ..Default::default()
    })
    .expect("a shop with the test key")
}

/// PayFiP settings (classic page, web service, payment page) pointing at `base`
/// (`http://host:port` of a stand-in).
pub fn payfip_config(base: &str) -> PayFipConfig {
    PayFipConfig {
        classic_url: format!("{base}/tpa/paiement.web"),
        ws_endpoint: format!("{base}/tpa/services/securite"),
        ws_payment_url: format!("{base}/tpa/paiementws.web"),
        ..Default::default()
    }
}

/// Return addresses with only the browser's return, `url`.
pub fn return_only(url: impl Into<String>) -> ReturnUrls {
    ReturnUrls {
        return_url: url.into(),
        success: None,
        refused: None,
        cancel: None,
        notification: None,
    }
}

/// What a shop asks SystemPay for: `amount` cents for `order_id`, answered at `urls`.
pub struct Order<'a> {
    pub order_id: &'a str,
    pub amount: i64,
    pub customer_email: Option<&'a str>,
    pub urls: ReturnUrls,
}

/// `shop`'s signed form for `order`, made at `now` with the next transaction number of
/// `counter`.
pub fn signed_form(
    shop: &SystemPay,
    counter: &MemoryTransIdCounter,
    now: DateTime<Utc>,
    order: Order<'_>,
) -> Result<PaymentForm> {
    Ok(shop.form(&PaymentRequest {
        trans_id: allocate_trans_id(counter, shop.site_id(), now)?,
        trans_date: now,
        amount: Cents(order.amount),
        order_id: order.order_id.into(),
        customer_email: order.customer_email.map(str::to_owned),
        urls: order.urls,
    })?)
}

/// The stand-in's card page's session (`action="session/…"`).
pub fn card_session(bank_page: &str) -> Result<String> {
    Ok(bank_page
        .split("action=\"session/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("no session in the bank page")?
        .to_owned())
}

/// Clicks `choice` ("accept", "refuse", "cancel") on the stand-in's card page
/// `bank_page`: the stand-in notifies the shop, then answers with the browser's way back
/// (a 303, checked here). Returns the session and that `Location`.
pub async fn choose_on_card_page(
    http: &reqwest::Client,
    standin: SocketAddr,
    bank_page: &str,
    choice: &str,
) -> Result<(String, url::Url)> {
    let session = card_session(bank_page)?;
    let r = http
        .post(format!("http://{standin}/vads-payment/session/{session}"))
        .form(&[("choice", choice)])
        .send()
        .await?;
    let location = see_other(&r)?;
    Ok((session, url::Url::parse(&location)?))
}

/// The `Location` of a 303 answer (checked here).
pub fn see_other(r: &reqwest::Response) -> Result<String> {
    ensure!(r.status() == StatusCode::SEE_OTHER, "{}", r.status());
    let location = r
        .headers()
        .get("location")
        .context("no Location")?
        .to_str()?;
    Ok(location.to_owned())
}

/// Asks the SystemPay stand-in at `standin` to send the notification of `session` again
/// (its "repeat" button); the stand-in's answer.
pub async fn repeat_notification(
    http: &reqwest::Client,
    standin: SocketAddr,
    session: &str,
) -> Result<reqwest::Response> {
    let url = format!("http://{standin}/vads-payment/session/{session}/repeat");
    Ok(http.post(url).send().await?)
}

/// `fields` signed with `key` as a SystemPay shop signs: their `signature` added.
pub fn with_signature(
    mut fields: Vec<(String, String)>,
    key: &str,
) -> Result<Vec<(String, String)>> {
    let sig = ivr::payment::systempay::sign(
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &ivr::payment::systempay::ShopKey::new(key)?,
    )?;
    fields.push(("signature".into(), sig));
    Ok(fields)
}

/// Posts `fields` to the bank at `action` as a browser does, then clicks `choice` on the
/// card page it shows (see [`choose_on_card_page`]).
pub async fn pay_by_card(
    http: &reqwest::Client,
    standin: SocketAddr,
    action: &str,
    fields: &[(String, String)],
    choice: &str,
) -> Result<(String, url::Url)> {
    let r = http.post(action).form(fields).send().await?;
    ensure!(r.status() == StatusCode::OK, "bank refused the form");
    let bank_page = r.text().await?;
    choose_on_card_page(http, standin, &bank_page, choice).await
}

/// The hidden inputs of a page, unescaped, as a browser would submit them.
pub fn hidden_inputs(page: &str) -> Vec<(String, String)> {
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

/// The demo debt (invoice 2014-003-000162 of customer 123456, in TEST) for the classic
/// PayFiP page: `montant` cents, described as `objet`, the browser back at `urlcl`.
pub fn classic_request(objet: &str, montant: i64, urlcl: String) -> Result<ClassicRequest> {
    Ok(ClassicRequest {
        numcli: NumCli::parse("123456")?,
        exer: Exer::new(2014)?,
        refdet: RefDet::parse("2014003000162")?,
        objet: Objet::sanitize(objet)?,
        montant: Cents(montant),
        mel: "parent@example.org".into(),
        urlcl,
        saisie: Saisie::Test,
    })
}

/// The same debt for PayFiP's web service, notified at `site`'s `/payfip/notif` and the
/// browser sent to its `/payfip/fin`.
pub fn creer(site: SocketAddr, montant: i64) -> Result<CreerPaiement> {
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
