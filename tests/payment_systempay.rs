//! SystemPay end to end over loopback: our form → the stand-in → our IPN endpoint and return.
//!
//! The "shop" here is a small axum app that verifies every notification with
//! `SystemPay::verify` and applies it idempotently (paid once per transaction), as the
//! portal will once the payments table exists.

mod web_support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{TimeZone, Utc};
use ivr::booking::model::Cents;
use ivr::payment::standin::decode_form;
use ivr::payment::standin::systempay::{SystemPayStandin, SystemPayStandinConfig};
use ivr::payment::systempay::EXAMPLE_TEST_KEY as STANDIN_TEST_KEY;
use ivr::payment::systempay::{
    MemoryTransIdCounter, Notification, PaymentForm, ReturnUrls, SystemPay, SystemPayConfig,
};
use ivr::payment::{PaymentError, PaymentOutcome};
use tokio::sync::mpsc;
use web_support::http::no_redirects;
use web_support::standins::{
    Order, choose_on_card_page, on_loopback, repeat_notification, return_only, serve_systempay,
    shop, signed_form, test_key, with_signature,
};

const GUARD: Duration = Duration::from_secs(10);

#[derive(Default)]
struct ShopState {
    /// Answer 500 to this many notifications before accepting.
    fail_first: usize,
    received: Vec<Vec<(String, String)>>,
    /// PaymentOutcome per provider transaction: the "paid once" rule.
    applied: HashMap<String, PaymentOutcome>,
    /// How many times a notification changed something.
    changes: usize,
    rejected: Vec<PaymentError>,
}

struct Shop {
    systempay: SystemPay,
    state: Mutex<ShopState>,
    arrivals: mpsc::UnboundedSender<Result<Notification, PaymentError>>,
}

async fn ipn(State(shop): State<Arc<Shop>>, body: Bytes) -> (StatusCode, &'static str) {
    let fields = decode_form(&body);
    let mut st = shop.state.lock().unwrap();
    st.received.push(fields.clone());
    if st.fail_first > 0 {
        st.fail_first -= 1;
        let _ = shop
            .arrivals
            .send(Err(PaymentError::Transport("500".into())));
        return (StatusCode::INTERNAL_SERVER_ERROR, "indisponible");
    }
    match shop.systempay.verify(&fields) {
        Ok(n) if n.is_server_notification() => {
            if !st.applied.contains_key(&n.transaction_key())
                && n.outcome != PaymentOutcome::Unknown
            {
                st.applied.insert(n.transaction_key(), n.outcome);
                st.changes += 1;
            }
            let _ = shop.arrivals.send(Ok(n));
            (StatusCode::OK, "OK")
        }
        Ok(_) => (StatusCode::BAD_REQUEST, "pas une notification"),
        Err(e) => {
            st.rejected.push(e.clone());
            let _ = shop.arrivals.send(Err(e));
            (StatusCode::BAD_REQUEST, "refusée")
        }
    }
}

struct Setup {
    shop: Arc<Shop>,
    shop_addr: SocketAddr,
    standin_addr: SocketAddr,
    standin: Arc<SystemPayStandin>,
    arrivals: mpsc::UnboundedReceiver<Result<Notification, PaymentError>>,
    http: reqwest::Client,
    counter: MemoryTransIdCounter,
}

async fn setup(fail_first: usize) -> Result<Setup> {
    let (standin, standin_addr) = serve_systempay(SystemPayStandinConfig {
        retry_delay: Duration::from_millis(20),
        ..test_key()
    })
    .await?;
    let systempay = shop(standin_addr);
    let (tx, rx) = mpsc::unbounded_channel();
    let shop = Arc::new(Shop {
        systempay,
        state: Mutex::new(ShopState {
            fail_first,
            ..Default::default()
        }),
        arrivals: tx,
    });
    let app = Router::new()
        .route("/ipn", post(ipn))
        .with_state(shop.clone());
    let shop_addr = on_loopback(app).await?;
    Ok(Setup {
        shop,
        shop_addr,
        standin_addr,
        standin,
        arrivals: rx,
        http: no_redirects(),
        counter: MemoryTransIdCounter::default(),
    })
}

impl Setup {
    fn form(&self, order: &str, amount: i64) -> Result<PaymentForm> {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 30, 0).unwrap();
        let base = format!("http://{}", self.shop_addr);
        let order = Order {
            order_id: order,
            amount,
            customer_email: Some("parent@example.org"),
            urls: ReturnUrls {
                return_url: format!("{base}/retour"),
                success: Some(format!("{base}/retour/ok")),
                refused: Some(format!("{base}/retour/refus")),
                cancel: Some(format!("{base}/retour/annule")),
                notification: Some(format!("{base}/ipn")),
            },
        };
        signed_form(&self.shop.systempay, &self.counter, now, order)
    }

    /// Posts the form as a browser would; returns the status and the page.
    async fn post_form(&self, form: &PaymentForm) -> Result<(StatusCode, String)> {
        let r = self
            .http
            .post(&form.action)
            .form(&form.fields)
            .send()
            .await?;
        Ok((r.status(), r.text().await?))
    }

    /// Posts the form, then clicks `choice`; returns the redirect's Location.
    async fn pay(&self, form: &PaymentForm, choice: &str) -> Result<(String, url::Url)> {
        let (status, page) = self.post_form(form).await?;
        anyhow::ensure!(status == StatusCode::OK, "form refused: {page}");
        choose_on_card_page(&self.http, self.standin_addr, &page, choice).await
    }

    async fn next_arrival(&mut self) -> Result<Result<Notification, PaymentError>> {
        tokio::time::timeout(GUARD, self.arrivals.recv())
            .await
            .map_err(|_| anyhow!("no notification arrived"))?
            .context("channel closed")
    }
}

fn query(url: &url::Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn accepted_payment_notifies_once_and_returns_to_success_page() -> Result<()> {
    let mut s = setup(0).await?;
    let form = s.form("F2014003000162", 5830)?;
    let (_, back) = s.pay(&form, "accept").await?;

    // The IPN was delivered before the browser was sent back.
    let n = s.next_arrival().await??;
    assert_eq!(n.outcome, PaymentOutcome::Paid);
    assert_eq!(n.status, "AUTHORISED");
    assert_eq!(n.result.as_deref(), Some("00"));
    assert_eq!(n.source.as_deref(), Some("PAY"));
    assert_eq!(n.amount, Cents(5830));
    assert_eq!(n.order_id, "F2014003000162");
    assert_eq!(n.trans_id.to_string(), "000000");

    // The browser's return: success URL, verifiable, but not a server notification.
    assert_eq!(back.path(), "/retour/ok");
    let shown = s.shop.systempay.verify(&query(&back))?;
    assert_eq!(shown.outcome, PaymentOutcome::Paid);
    assert!(!shown.is_server_notification());
    assert_eq!(s.shop.state.lock().unwrap().changes, 1);
    Ok(())
}

#[tokio::test]
async fn refused_and_cancelled_payments_go_to_their_pages() -> Result<()> {
    let mut s = setup(0).await?;
    for (order, choice, path, outcome, status, result) in [
        (
            "A1",
            "refuse",
            "/retour/refus",
            PaymentOutcome::Refused,
            "REFUSED",
            "05",
        ),
        (
            "A2",
            "cancel",
            "/retour/annule",
            PaymentOutcome::Abandoned,
            "ABANDONED",
            "17",
        ),
    ] {
        let (_, back) = s.pay(&s.form(order, 100)?, choice).await?;
        assert_eq!(back.path(), path);
        let n = s.next_arrival().await??;
        assert_eq!((n.outcome, n.status.as_str()), (outcome, status));
        assert_eq!(n.result.as_deref(), Some(result));
    }
    Ok(())
}

#[tokio::test]
async fn repeated_notification_changes_nothing() -> Result<()> {
    let mut s = setup(0).await?;
    let (session, _) = s.pay(&s.form("R1", 2000)?, "accept").await?;
    let first = s.next_arrival().await??;
    let r = repeat_notification(&s.http, s.standin_addr, &session).await?;
    assert_eq!(r.status(), StatusCode::OK);
    let second = s.next_arrival().await??;
    assert_eq!(first, second);
    // The same, asked through the stand-in's API.
    let d = s
        .standin
        .repeat_notification(&session)
        .await
        .context("no session")?;
    assert!(d.delivered);
    assert_eq!(s.next_arrival().await??, first);
    let st = s.shop.state.lock().unwrap();
    assert_eq!(st.received.len(), 3);
    assert_eq!(st.changes, 1, "a repeated IPN must not pay twice");
    Ok(())
}

#[tokio::test]
async fn failed_notification_is_retried() -> Result<()> {
    let mut s = setup(2).await?;
    s.pay(&s.form("T1", 990)?, "accept").await?;
    assert!(s.next_arrival().await?.is_err());
    assert!(s.next_arrival().await?.is_err());
    let n = s.next_arrival().await??;
    assert_eq!(n.source.as_deref(), Some("RETRY"));
    assert_eq!(n.outcome, PaymentOutcome::Paid);
    assert_eq!(s.shop.state.lock().unwrap().changes, 1);
    // No fourth delivery once accepted: the standin got its 200.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), s.arrivals.recv())
            .await
            .is_err()
    );
    Ok(())
}

#[tokio::test]
async fn reused_trans_id_is_error_03() -> Result<()> {
    let s = setup(0).await?;
    let form = s.form("D1", 500)?;
    let (status, _) = s.post_form(&form).await?;
    assert_eq!(status, StatusCode::OK);
    let (status, page) = s.post_form(&form).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Erreur 03"), "{page}");
    Ok(())
}

#[tokio::test]
async fn tampered_or_production_forms_are_refused() -> Result<()> {
    let s = setup(0).await?;
    let mut form = s.form("X1", 500)?;
    for (name, value) in &mut form.fields {
        if name == "vads_amount" {
            *value = "1".into();
        }
    }
    let (status, page) = s.post_form(&form).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("signature invalide"), "{page}");

    // A shop in PRODUCTION signs with its production key: the stand-in only knows TEST.
    let prod = SystemPay::from_config(&SystemPayConfig {
        mode: ivr::payment::systempay::CtxMode::Production,
        production_key: "prod-key".into(),
        payment_url: format!("http://{}/vads-payment/", s.standin_addr),
        ..Default::default()
    })?;
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
    let order = Order {
        order_id: "P1",
        amount: 500,
        customer_email: None,
        urls: return_only("http://127.0.0.1:9/r"),
    };
    let form = signed_form(&prod, &s.counter, now, order)?;
    let (status, _) = s.post_form(&form).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn forged_notifications_are_rejected_and_change_nothing() -> Result<()> {
    let mut s = setup(0).await?;
    s.pay(&s.form("G1", 4200)?, "refuse").await?;
    let _ = s.next_arrival().await??;
    let genuine = s.shop.state.lock().unwrap().received[0].clone();
    let ipn_url = format!("http://{}/ipn", s.shop_addr);

    // Turn the refusal into a payment without the key.
    let forged: Vec<(String, String)> = genuine
        .iter()
        .map(|(k, v)| {
            let v = if k == "vads_trans_status" {
                "AUTHORISED".to_owned()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    let r = s.http.post(&ipn_url).form(&forged).send().await?;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s.next_arrival().await?, Err(PaymentError::BadSignature));

    // Signed with a key that is not ours.
    let unsigned_forgery = forged
        .iter()
        .filter(|(k, _)| k != "signature")
        .cloned()
        .collect();
    let resigned = with_signature(unsigned_forgery, "not-the-key")?;
    s.http.post(&ipn_url).form(&resigned).send().await?;
    assert_eq!(s.next_arrival().await?, Err(PaymentError::BadSignature));

    // No signature, unknown mode, missing status.
    let unsigned: Vec<_> = genuine
        .iter()
        .filter(|(k, _)| k != "signature")
        .cloned()
        .collect();
    s.http.post(&ipn_url).form(&unsigned).send().await?;
    assert_eq!(
        s.next_arrival().await?,
        Err(PaymentError::MissingField("signature".into()))
    );
    let mode: Vec<_> = genuine
        .iter()
        .map(|(k, v)| {
            let v = if k == "vads_ctx_mode" { "DEMO" } else { v };
            (k.clone(), v.to_owned())
        })
        .collect();
    s.http.post(&ipn_url).form(&mode).send().await?;
    assert_eq!(
        s.next_arrival().await?,
        Err(PaymentError::UnknownMode("DEMO".into()))
    );

    // Correctly signed (the shop's test key is the stand-in's) but without a status.
    let no_status = genuine
        .iter()
        .filter(|(k, _)| k != "signature" && k != "vads_trans_status")
        .cloned()
        .collect();
    let no_status = with_signature(no_status, STANDIN_TEST_KEY)?;
    s.http.post(&ipn_url).form(&no_status).send().await?;
    assert_eq!(
        s.next_arrival().await?,
        Err(PaymentError::MissingField("vads_trans_status".into()))
    );

    let st = s.shop.state.lock().unwrap();
    assert_eq!(st.changes, 1, "only the genuine refusal was applied");
    assert_eq!(st.applied.values().next(), Some(&PaymentOutcome::Refused));
    Ok(())
}
