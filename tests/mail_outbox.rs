//! The e-mail outbox on SQLite and PostgreSQL (`TEST_DATABASE_URL`): generating invoices
//! queues one notice per opted-in payer; the worker sends each once over SMTP (a real SMTP
//! server in process), retries after a temporary refusal, and gives up on a permanent one.

mod store_support;

use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ivr::invoice::InvoiceConfig;
use ivr::invoice::generate::InvoiceMonth;
use ivr::mail::Mailer;
use ivr::mail::outbox::{OutboxReport, OutboxSettings, send_due};
use ivr::mail::test_smtp::{RcptPolicy, TestSmtpServer};
use ivr::service::invoices::generate_month;
use ivr::store::Store;
use ivr::store::testing::TestDb;
use store_support::{book_days, numbered_family, smtp_config};

ivr::both_backends!(
    each_opted_in_payer_gets_one_mail,
    temporary_refusal_is_retried_later,
    permanent_refusal_is_given_up,
);

const GUARD: Duration = Duration::from_secs(10);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
}

fn settings() -> OutboxSettings {
    OutboxSettings {
        service_labels: Vec::new(),
        portal_url: "https://portail.mezcalito.example".into(),
        town_name: "Mezcalito".into(),
        retry_after: chrono::Duration::minutes(10),
        batch: 50,
    }
}

fn mailer(server: &TestSmtpServer) -> Result<Mailer> {
    Ok(Mailer::from_config(&smtp_config(server))?)
}

/// What a pass of the worker did.
fn report(sent: usize, retry: usize, given_up: usize) -> OutboxReport {
    OutboxReport {
        sent,
        retry,
        given_up,
    }
}

/// Payers 0, 1, 2… who each booked one meal on 3 November 2026, invoiced for November;
/// `opted` says who wants e-mails.
async fn invoiced(store: &Store, opted: &[bool]) -> Result<()> {
    let day = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
    for (n, opt_in) in (0..).zip(opted) {
        let (_, child) = numbered_family(store, n, *opt_in, None).await?;
        book_days(store, child, &[day], "REPAS", now()).await?;
    }
    let cfg: InvoiceConfig =
        toml::from_str("[[tariffs]]\nservice = \"REPAS\"\nlabel = \"Repas\"\nprice_cents = 365\n")?;
    generate_month(
        store,
        &cfg,
        InvoiceMonth::parse("2026-11")?,
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        now(),
    )
    .await?;
    Ok(())
}

async fn each_opted_in_payer_gets_one_mail(db: &TestDb) -> Result<()> {
    let store = &db.store;
    invoiced(store, &[true, false, true]).await?;
    let mut server = TestSmtpServer::start(RcptPolicy::AcceptAll).await?;
    let m = mailer(&server)?;
    let r = send_due(store, &m, &settings(), now()).await?;
    assert_eq!(r, report(2, 0, 0));
    let mut to = Vec::new();
    for _ in 0..2 {
        let mail = server.next_mail(GUARD).await.context("a mail arrived")?;
        let text = String::from_utf8_lossy(&mail.data).into_owned();
        assert!(text.contains("Message-ID: <facture-2026-003-"), "{text}");
        to.extend(
            mail.rcpt_to
                .iter()
                .map(|r| r.trim_matches(['<', '>']).to_owned()),
        );
    }
    to.sort();
    assert_eq!(to, ["parent0@example.org", "parent2@example.org"]);
    // Later passes send nothing again.
    let later = now() + chrono::Duration::days(1);
    let r = send_due(store, &m, &settings(), later).await?;
    assert_eq!(r, OutboxReport::default());
    assert!(server.next_mail(Duration::from_millis(200)).await.is_none());
    assert_eq!(store.pending_notices().await?, 0);
    Ok(())
}

async fn temporary_refusal_is_retried_later(db: &TestDb) -> Result<()> {
    let store = &db.store;
    invoiced(store, &[true]).await?;
    let busy = TestSmtpServer::start(RcptPolicy::RejectTemporarily).await?;
    let r = send_due(store, &mailer(&busy)?, &settings(), now()).await?;
    assert_eq!(r, report(0, 1, 0));
    let mut good = TestSmtpServer::start(RcptPolicy::AcceptAll).await?;
    let m = mailer(&good)?;
    // Not before the retry time.
    let r = send_due(store, &m, &settings(), now() + chrono::Duration::minutes(5)).await?;
    assert_eq!(r, OutboxReport::default());
    let r = send_due(
        store,
        &m,
        &settings(),
        now() + chrono::Duration::minutes(10),
    )
    .await?;
    assert_eq!(r, report(1, 0, 0));
    assert!(good.next_mail(GUARD).await.is_some());
    let r = send_due(store, &m, &settings(), now() + chrono::Duration::hours(2)).await?;
    assert_eq!(r, OutboxReport::default());
    assert!(good.next_mail(Duration::from_millis(200)).await.is_none());
    Ok(())
}

async fn permanent_refusal_is_given_up(db: &TestDb) -> Result<()> {
    let store = &db.store;
    invoiced(store, &[true]).await?;
    let server = TestSmtpServer::start(RcptPolicy::RejectPermanently).await?;
    let m = mailer(&server)?;
    let r = send_due(store, &m, &settings(), now()).await?;
    assert_eq!(r, report(0, 0, 1));
    let r = send_due(store, &m, &settings(), now() + chrono::Duration::days(1)).await?;
    assert_eq!(r, OutboxReport::default(), "never tried again");
    Ok(())
}
