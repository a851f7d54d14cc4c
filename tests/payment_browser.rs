//! Both payment stand-ins in a real browser: headless Chromium driven through chromedriver
//! (WebDriver), as a parent clicks through them. A small "town site" on 127.0.0.1:0 posts the
//! SystemPay form and redirects to PayFiP, receives the notifications, and shows the result.
//!
//! Needs Debian's `chromium` and `chromium-driver` (as the web tests do). When they are
//! missing the test FAILS with a sentence saying so; set `IVR_SKIP_BROWSER_TEST=1` to skip
//! it knowingly on a machine without them.

mod web_support;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{TimeZone, Utc};
use fantoccini::Locator;
use ivr::payment::payfip::classic::{ClassicRequest, ClassicReturn};
use ivr::payment::settle::{Settlement, settle};
use ivr::payment::standin::decode_form;
use ivr::payment::systempay::{MemoryTransIdCounter, ReturnUrls, SystemPay};
use ivr::payment::{PaymentError, PaymentOutcome};
use web_support::chrome::{Chrome, skipped};
use web_support::standins::{
    Order, classic_request, return_only, serve_payfip, serve_systempay, shop, signed_form, test_key,
};

/// The town site's state: what the providers told it, and the outcome per transaction.
struct Site {
    base: String,
    /// The shop, its form going to the SystemPay stand-in.
    systempay: SystemPay,
    payfip_base: String,
    counter: MemoryTransIdCounter,
    ipn_count: usize,
    payfip_posts: usize,
    /// (transaction, outcome) with the paid-once rule applied.
    outcomes: Vec<(String, PaymentOutcome)>,
    paid_changes: usize,
}

type Shared = Arc<Mutex<Site>>;

/// The debt the town site sends to PayFiP's classic page, the browser back at `/tipi/retour`.
fn tipi_request(site: &Site) -> ClassicRequest {
    classic_request(
        "Facture 2014-003-000162",
        5830,
        format!("{}/tipi/retour", site.base),
    )
    .unwrap()
}

fn apply(site: &mut Site, transaction: String, outcome: PaymentOutcome) {
    let stored = site
        .outcomes
        .iter()
        .find(|(t, _)| *t == transaction)
        .map(|(_, o)| *o);
    match settle(stored, outcome) {
        Settlement::MarkPaid => {
            site.paid_changes += 1;
            site.outcomes.push((transaction, outcome));
        }
        Settlement::RecordFailure => site.outcomes.push((transaction, outcome)),
        Settlement::AlreadyDone
        | Settlement::Wait
        | Settlement::Conflict
        | Settlement::Duplicate => {}
    }
}

fn result_page(outcome: Result<PaymentOutcome, PaymentError>) -> Html<String> {
    Html(match outcome {
        Ok(o) => format!(
            "<!doctype html><html lang=\"fr\"><body><p id=\"outcome\">{}</p></body></html>",
            o.label_fr()
        ),
        Err(e) => format!(
            "<!doctype html><html lang=\"fr\"><body><p id=\"outcome\">{}</p></body></html>",
            e.user_message()
        ),
    })
}

async fn pay_page(State(site): State<Shared>) -> Html<String> {
    let s = site.lock().unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap();
    let order = Order {
        order_id: "P-000001",
        amount: 5830,
        customer_email: Some("parent@example.org"),
        urls: ReturnUrls {
            notification: Some(format!("{}/ipn", s.base)),
            ..return_only(format!("{}/retour", s.base))
        },
    };
    let form = signed_form(&s.systempay, &s.counter, now, order).unwrap();
    let inputs: String = form
        .fields
        .iter()
        .map(|(n, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                quick_xml::escape::escape(n.as_str()),
                quick_xml::escape::escape(v.as_str())
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"fr\"><body><form method=\"post\" action=\"{}\">{inputs}<button id=\"pay\" type=\"submit\">Payer</button></form></body></html>",
        quick_xml::escape::escape(form.action.as_str())
    ))
}

async fn ipn(State(site): State<Shared>, body: Bytes) -> StatusCode {
    let mut s = site.lock().unwrap();
    s.ipn_count += 1;
    match s.systempay.verify(&decode_form(&body)) {
        Ok(n) if n.is_server_notification() => {
            apply(&mut s, n.transaction_key(), n.outcome);
            StatusCode::OK
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

async fn systempay_return(State(site): State<Shared>, RawQuery(q): RawQuery) -> Html<String> {
    let s = site.lock().unwrap();
    let fields = decode_form(q.unwrap_or_default().as_bytes());
    // Display only: the IPN decided.
    result_page(s.systempay.verify(&fields).map(|n| n.outcome))
}

async fn tipi_redirect(State(site): State<Shared>) -> Response {
    let s = site.lock().unwrap();
    let url = tipi_request(&s)
        .redirect_url(&format!("{}/tpa/paiement.web", s.payfip_base))
        .unwrap();
    (StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response()
}

async fn tipi_return(State(site): State<Shared>, body: Bytes) -> Html<String> {
    let mut s = site.lock().unwrap();
    s.payfip_posts += 1;
    let stored = tipi_request(&s);
    let checked = ClassicReturn::parse(&decode_form(&body))
        .and_then(|r| r.check_against(&stored).map(|()| r));
    let outcome = checked.map(|r| {
        apply(&mut s, format!("payfip-{}", r.refdet), r.outcome);
        r.outcome
    });
    result_page(outcome)
}

#[tokio::test]
async fn a_parent_pays_with_both_stand_ins_in_a_browser() {
    if skipped() {
        return;
    }

    // The providers' stand-ins and the town site, each on its own ephemeral port.
    let (_, sp_addr) = serve_systempay(test_key()).await.unwrap();
    let (_, pf_addr) = serve_payfip().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let site: Shared = Arc::new(Mutex::new(Site {
        base: base.clone(),
        systempay: shop(sp_addr),
        payfip_base: format!("http://{pf_addr}"),
        counter: MemoryTransIdCounter::default(),
        ipn_count: 0,
        payfip_posts: 0,
        outcomes: Vec::new(),
        paid_changes: 0,
    }));
    let app = Router::new()
        .route("/payer", get(pay_page))
        .route("/ipn", post(ipn))
        .route("/retour", get(systempay_return))
        .route("/tipi", get(tipi_redirect))
        .route("/tipi/retour", post(tipi_return))
        .with_state(site.clone());
    let _server = tokio::spawn(async move { axum::serve(listener, app).await });

    let chrome = Chrome::start(&base).await;

    // SystemPay: our page posts the signed form; the stand-in shows the card page.
    chrome.open("open /payer", "/payer").await;
    chrome.wait_click("click Payer", Locator::Css("#pay")).await;
    let heading = chrome.wait_text("stand-in page", Locator::Css("h1")).await;
    assert_eq!(heading, "Paiement par carte (SystemPay)");
    chrome
        .wait_click("click Accepter", Locator::Css("button[value=accept]"))
        .await;
    let shown = chrome
        .wait_text("return page", Locator::Css("#outcome"))
        .await;
    assert_eq!(shown, "Paiement accepté.");
    assert!(
        chrome
            .url("url")
            .await
            .as_str()
            .starts_with(&format!("{base}/retour?"))
    );
    {
        let s = site.lock().unwrap();
        assert_eq!(
            s.ipn_count, 1,
            "the IPN arrived before the browser came back"
        );
        assert_eq!(s.paid_changes, 1);
    }

    // PayFiP classic: redirect, pay, then the browser's own way back to urlcl.
    chrome.open("open /tipi", "/tipi").await;
    let heading = chrome.wait_text("PayFiP page", Locator::Css("h1")).await;
    assert_eq!(heading, "Paiement des services locaux (PayFiP)");
    chrome
        .wait_click("click Payer", Locator::Css("button[value=pay]"))
        .await;
    chrome
        .wait_click(
            "click Retour au site",
            Locator::XPath("//button[contains(., 'Retour au site de la collectivit')]"),
        )
        .await;
    let shown = chrome
        .wait_text("town page", Locator::Css("#outcome"))
        .await;
    assert_eq!(shown, "Paiement accepté.");
    {
        let s = site.lock().unwrap();
        assert_eq!(
            s.payfip_posts, 2,
            "server-to-server post, then the browser's"
        );
        assert_eq!(
            s.paid_changes, 2,
            "the PayFiP debt was paid once despite two returns"
        );
    }
    chrome.close().await;
}
