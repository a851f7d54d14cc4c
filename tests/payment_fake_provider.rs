//! `ivr fake-provider` as a process: it binds, prints its address, and serves both stand-ins.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{TimeZone, Utc};
use ivr::booking::model::Cents;
use ivr::payment::payfip::soap::CreerPaiement;
use ivr::payment::payfip::ws::PayFipWsClient;
use ivr::payment::payfip::{Exer, NumCli, Objet, PayFipConfig, RefDet, Saisie};
use ivr::payment::systempay::{
    MemoryTransIdCounter, PaymentRequest, ReturnUrls, SystemPay, SystemPayConfig, allocate_trans_id,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn fake_provider_serves_both_stand_ins() -> Result<()> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ivr"))
        .args(["fake-provider", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    // No key is configured: the stand-in makes one and prints it first, for the portal.
    let mut next = async || -> Result<String> {
        tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("nothing printed in time")??
            .context("exited without printing")
    };
    let key_line = next().await?;
    let key = key_line
        .strip_prefix("clé de test SystemPay du simulateur (à mettre dans [systempay] test_key) : ")
        .with_context(|| format!("no key printed: {key_line:?}"))?
        .to_owned();
    assert_eq!(key.len(), 32);
    assert_ne!(key, ivr::payment::systempay::EXAMPLE_TEST_KEY);
    let first = next().await?;
    let addr = first
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected line {first:?}"))?
        .to_owned();
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();

    let index = http.get(format!("{base}/")).send().await?.text().await?;
    assert!(index.contains("Simulateurs de paiement"), "{index}");

    // PayFiP web service answers.
    let client = PayFipWsClient::from_config(&PayFipConfig {
        ws_endpoint: format!("{base}/tpa/services/securite"),
        ws_payment_url: format!("{base}/tpa/paiementws.web"),
        ..Default::default()
    })?;
    let id = client
        .create_payment(&CreerPaiement {
            exer: Exer::new(2026)?,
            mel: "a@example.org".into(),
            montant: Cents(1234),
            numcli: NumCli::parse("123456")?,
            objet: Objet::sanitize("Cantine")?,
            refdet: RefDet::parse("2026003000001")?,
            saisie: Saisie::Test,
            urlnotif: "http://127.0.0.1:9/notif".into(),
            urlredirect: "http://127.0.0.1:9/fin".into(),
        })
        .await?;
    let page = http
        .get(client.payment_page(&id))
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("Payer") && page.contains("12,34 €"), "{page}");

    // SystemPay accepts a form signed with the key it printed.
    let sp = SystemPay::from_config(&SystemPayConfig {
        test_key: key.clone(),
        payment_url: format!("{base}/vads-payment/"),
        ..Default::default()
    })?;
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
    let form = sp.form(&PaymentRequest {
        trans_id: allocate_trans_id(&MemoryTransIdCounter::default(), sp.site_id(), now)?,
        trans_date: now,
        amount: Cents(5830),
        order_id: "F1".into(),
        customer_email: None,
        urls: ReturnUrls {
            return_url: "http://127.0.0.1:9/retour".into(),
            success: None,
            refused: None,
            cancel: None,
            notification: None,
        },
    })?;
    let r = http.post(&form.action).form(&form.fields).send().await?;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let page = r.text().await?;
    assert!(
        page.contains("Accepter") && page.contains("58,30 €"),
        "{page}"
    );

    child.kill().await?;
    Ok(())
}
