//! Both payment stand-ins in a real browser: headless Chromium driven through chromedriver
//! (WebDriver), as a parent clicks through them. A small "town site" on 127.0.0.1:0 posts the
//! SystemPay form and redirects to PayFiP, receives the notifications, and shows the result.
//!
//! Needs Debian's `chromium` and `chromium-driver` (as the web tests do). When they are
//! missing the test FAILS with a sentence saying so; set `IVR_SKIP_BROWSER_TEST=1` to skip
//! it knowingly on a machine without them.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{TimeZone, Utc};
use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use ivr::booking::model::Cents;
use ivr::payment::payfip::classic::{ClassicRequest, ClassicReturn};
use ivr::payment::payfip::{Exer, NumCli, Objet, RefDet, Saisie};
use ivr::payment::settle::{Settlement, settle};
use ivr::payment::standin::payfip::PayFipStandin;
use ivr::payment::standin::systempay::{SystemPayStandin, SystemPayStandinConfig};
use ivr::payment::standin::{decode_form, serve};
use ivr::payment::systempay::{
    MemoryTransIdCounter, PaymentRequest, ReturnUrls, SystemPay, SystemPayConfig, allocate_trans_id,
};
use ivr::payment::{PaymentError, PaymentOutcome};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Every browser step is bounded.
const STEP: Duration = Duration::from_secs(30);

/// The town site's state: what the providers told it, and the outcome per transaction.
#[derive(Default)]
struct Site {
    base: String,
    systempay_base: String,
    payfip_base: String,
    counter: MemoryTransIdCounter,
    ipn_count: usize,
    payfip_posts: usize,
    /// (transaction, outcome) with the paid-once rule applied.
    outcomes: Vec<(String, PaymentOutcome)>,
    paid_changes: usize,
}

type Shared = Arc<Mutex<Site>>;

fn systempay(site: &Site) -> SystemPay {
    SystemPay::from_config(&SystemPayConfig {
        test_key: ivr::payment::systempay::EXAMPLE_TEST_KEY.into(),
        payment_url: format!("{}/vads-payment/", site.systempay_base),
        ..Default::default()
    })
    .expect("default config")
}

fn classic_request(site: &Site) -> ClassicRequest {
    ClassicRequest {
        numcli: NumCli::parse("123456").unwrap(),
        exer: Exer::new(2014).unwrap(),
        refdet: RefDet::parse("2014003000162").unwrap(),
        objet: Objet::sanitize("Facture 2014-003-000162").unwrap(),
        montant: Cents(5830),
        mel: "parent@example.org".into(),
        urlcl: format!("{}/tipi/retour", site.base),
        saisie: Saisie::Test,
    }
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
    let sp = systempay(&s);
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap();
    let form = sp
        .form(&PaymentRequest {
            trans_id: allocate_trans_id(&s.counter, sp.site_id(), now).unwrap(),
            trans_date: now,
            amount: Cents(5830),
            order_id: "P-000001".into(),
            customer_email: Some("parent@example.org".into()),
            urls: ReturnUrls {
                return_url: format!("{}/retour", s.base),
                success: None,
                refused: None,
                cancel: None,
                notification: Some(format!("{}/ipn", s.base)),
            },
        })
        .unwrap();
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
    match systempay(&s).verify(&decode_form(&body)) {
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
    result_page(systempay(&s).verify(&fields).map(|n| n.outcome))
}

async fn tipi_redirect(State(site): State<Shared>) -> Response {
    let s = site.lock().unwrap();
    let url = classic_request(&s)
        .redirect_url(&format!("{}/tpa/paiement.web", s.payfip_base))
        .unwrap();
    (StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response()
}

async fn tipi_return(State(site): State<Shared>, body: Bytes) -> Html<String> {
    let mut s = site.lock().unwrap();
    s.payfip_posts += 1;
    let stored = classic_request(&s);
    let checked = ClassicReturn::parse(&decode_form(&body))
        .and_then(|r| r.check_against(&stored).map(|()| r));
    let outcome = checked.map(|r| {
        apply(&mut s, format!("payfip-{}", r.refdet), r.outcome);
        r.outcome
    });
    result_page(outcome)
}

/// Starts chromedriver on a free port and waits for its "started successfully" line.
async fn start_chromedriver() -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let ready = tokio::time::timeout(STEP, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("started successfully") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ready, Ok(true), "chromedriver did not start");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, port)
}

async fn step<T, E: std::fmt::Debug>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> T {
    match tokio::time::timeout(STEP, f).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("browser step « {what} » failed: {e:?}"),
        Err(_) => panic!("browser step « {what} » timed out"),
    }
}

#[tokio::test]
async fn a_parent_pays_with_both_stand_ins_in_a_browser() {
    if std::env::var_os("IVR_SKIP_BROWSER_TEST").is_some() {
        eprintln!("browser test skipped: IVR_SKIP_BROWSER_TEST is set");
        return;
    }
    for bin in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: install Debian's chromium and chromium-driver (or set IVR_SKIP_BROWSER_TEST=1 to skip knowingly)"
        );
    }

    // The providers' stand-ins and the town site, each on its own ephemeral port.
    let sp = SystemPayStandin::new(SystemPayStandinConfig {
        test_key: ivr::payment::systempay::EXAMPLE_TEST_KEY.into(),
        ..Default::default()
    })
    .unwrap();
    let (sp_addr, _a) = serve(sp.router(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let pf = PayFipStandin::new().unwrap();
    let (pf_addr, _b) = serve(pf.router(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let site: Shared = Arc::new(Mutex::new(Site {
        base: base.clone(),
        systempay_base: format!("http://{sp_addr}"),
        payfip_base: format!("http://{pf_addr}"),
        ..Default::default()
    }));
    let app = Router::new()
        .route("/payer", get(pay_page))
        .route("/ipn", post(ipn))
        .route("/retour", get(systempay_return))
        .route("/tipi", get(tipi_redirect))
        .route("/tipi/retour", post(tipi_return))
        .with_state(site.clone());
    let _server = tokio::spawn(async move { axum::serve(listener, app).await });

    let (_driver, port) = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--lang=fr-FR",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let client = step(
        "connect to chromedriver",
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}")),
    )
    .await;

    // SystemPay: our page posts the signed form; the stand-in shows the card page.
    step("open /payer", client.goto(&format!("{base}/payer"))).await;
    step("click Payer", async {
        client
            .wait()
            .for_element(Locator::Css("#pay"))
            .await?
            .click()
            .await
    })
    .await;
    let heading = step("stand-in page", async {
        client
            .wait()
            .for_element(Locator::Css("h1"))
            .await?
            .text()
            .await
    })
    .await;
    assert_eq!(heading, "Paiement par carte (SystemPay)");
    step("click Accepter", async {
        client
            .wait()
            .for_element(Locator::Css("button[value=accept]"))
            .await?
            .click()
            .await
    })
    .await;
    let shown = step("return page", async {
        client
            .wait()
            .for_element(Locator::Css("#outcome"))
            .await?
            .text()
            .await
    })
    .await;
    assert_eq!(shown, "Paiement accepté.");
    assert!(
        step("url", client.current_url())
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
    step("open /tipi", client.goto(&format!("{base}/tipi"))).await;
    let heading = step("PayFiP page", async {
        client
            .wait()
            .for_element(Locator::Css("h1"))
            .await?
            .text()
            .await
    })
    .await;
    assert_eq!(heading, "Paiement des services locaux (PayFiP)");
    step("click Payer", async {
        client
            .wait()
            .for_element(Locator::Css("button[value=pay]"))
            .await?
            .click()
            .await
    })
    .await;
    step("click Retour au site", async {
        client
            .wait()
            .for_element(Locator::XPath(
                "//button[contains(., 'Retour au site de la collectivit')]",
            ))
            .await?
            .click()
            .await
    })
    .await;
    let shown = step("town page", async {
        client
            .wait()
            .for_element(Locator::Css("#outcome"))
            .await?
            .text()
            .await
    })
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
    step("close", client.close()).await;
}
