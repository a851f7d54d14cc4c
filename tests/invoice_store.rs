//! Invoices in the database, on SQLite and PostgreSQL (`TEST_DATABASE_URL`; the PostgreSQL
//! half says it was skipped when unset): a month's generation stores invoices, lines and
//! outbox rows in one transaction, a second run creates nothing, numbers have no gaps and
//! no duplicates even when runs race, and the uniqueness lives in the database.

mod store_support;

use std::collections::BTreeSet;

use anyhow::ensure;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ivr::booking::model::{Cents, ChildId, PayerId};
use ivr::invoice::InvoiceConfig;
use ivr::invoice::generate::InvoiceMonth;
use ivr::service::invoices::{IssueError, generate_month};
use ivr::store::testing::TestDb;
use ivr::store::{Store, StoredInvoice};
use store_support::invoices::invoice_config;
use store_support::{book_days, numbered_family};

ivr::both_backends!(multi_thread:
    generation_stores_invoices_lines_and_notices_once,
    concurrent_runs_make_no_duplicates_and_no_gaps,
    invoice_uniqueness_is_a_constraint,
    missing_tariff_stores_nothing,
    concurrent_repeated_notifications_pay_once,
    one_invoice_one_payment_and_duplicates_kept_for_refund,
);

fn config() -> InvoiceConfig {
    invoice_config()
}

fn month(s: &str) -> InvoiceMonth {
    InvoiceMonth::parse(s).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
}

/// Bookings of `service` for `child` on `days`, recorded now.
async fn book(
    store: &Store,
    child: ChildId,
    days: &[NaiveDate],
    service: &str,
) -> anyhow::Result<()> {
    book_days(store, child, days, service, now()).await
}

/// One family with one meal on 2 November 2026, invoiced on 1 December: the payer and the
/// invoice.
async fn one_invoice(store: &Store) -> anyhow::Result<(PayerId, StoredInvoice)> {
    let (payer, child) = numbered_family(store, 1, false, None).await?;
    book(store, child, &[date(2026, 11, 2)], "REPAS").await?;
    generate_month(store, &config(), month("2026-11"), date(2026, 12, 1), now()).await?;
    let invoice = store.invoices_of(payer).await?.remove(0);
    Ok((payer, invoice))
}

async fn generation_stores_invoices_lines_and_notices_once(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let cfg = config();
    let (p1, c1) = numbered_family(store, 1, true, Some(650)).await?;
    let (p2, c2) = numbered_family(store, 2, false, None).await?;
    let (_p3, _c3) = numbered_family(store, 3, true, None).await?; // books nothing: no invoice
    book(store, c1, &[date(2026, 11, 2), date(2026, 11, 3)], "REPAS").await?;
    book(store, c1, &[date(2026, 11, 3)], "SOIR").await?;
    book(store, c2, &[date(2026, 11, 5)], "REPAS").await?;
    // Outside the month: not invoiced in November.
    book(store, c2, &[date(2026, 12, 1)], "REPAS").await?;

    let nov = month("2026-11");
    let report = generate_month(store, &cfg, nov, date(2026, 12, 1), now()).await?;
    let numbers: Vec<String> = report.created.iter().map(|n| n.to_string()).collect();
    assert_eq!(numbers, ["2026-003-000001", "2026-003-000002"]);
    assert_eq!(
        report.notices_queued, 1,
        "only payer 1 opted in and was invoiced"
    );
    assert_eq!(report.already_invoiced, 0);

    let mine = store.invoices_of(p1).await?;
    assert_eq!(mine.len(), 1);
    let inv = &mine[0];
    assert_eq!(inv.number.to_string(), "2026-003-000001");
    assert_eq!(
        inv.total,
        Cents(2 * 265 + 183),
        "bracket price for quotient 650"
    );
    assert_eq!(inv.due, date(2026, 12, 31));
    assert_eq!(inv.issued, date(2026, 12, 1));
    assert_eq!(inv.month, "2026-11");
    assert!(inv.paid_at.is_none());
    let lines = store.invoice_lines(inv.id).await?;
    let summary: Vec<(&str, u32, i64)> = lines
        .iter()
        .map(|l| (l.service.as_str(), l.quantity, l.amount.0))
        .collect();
    assert_eq!(summary, [("REPAS", 2, 530), ("SOIR", 1, 183)]);
    assert_eq!(lines[0].child_name, "Enfant1 MARSONE");
    assert_eq!(store.invoices_of(p2).await?[0].total, Cents(365));
    assert!(
        store.invoice_of_payer(p2, inv.id).await?.is_none(),
        "not p2's invoice"
    );
    assert_eq!(store.pending_notices().await?, 1);

    // A second run creates nothing and queues nothing.
    let again = generate_month(store, &cfg, nov, date(2026, 12, 2), now()).await?;
    assert!(again.created.is_empty(), "{again:?}");
    assert_eq!(again.already_invoiced, 2);
    assert_eq!(again.notices_queued, 0);
    assert_eq!(store.invoices_of_month(nov).await?.len(), 2);
    assert_eq!(store.pending_notices().await?, 1);

    // The next month of the same year continues the sequence.
    let dec = generate_month(store, &cfg, month("2026-12"), date(2027, 1, 4), now()).await?;
    let numbers: Vec<String> = dec.created.iter().map(|n| n.to_string()).collect();
    assert_eq!(numbers, ["2026-003-000003"]);
    Ok(())
}

async fn concurrent_runs_make_no_duplicates_and_no_gaps(db: &TestDb) -> anyhow::Result<()> {
    const PAYERS: u32 = 12;
    const RUNS: usize = 4;
    let store = &db.store;
    for n in 0..PAYERS {
        let (_, child) = numbered_family(store, n, n % 2 == 0, None).await?;
        book(store, child, &[date(2026, 11, 2 + n % 5)], "REPAS").await?;
    }
    let cfg = config();
    let nov = month("2026-11");
    let mut runs = tokio::task::JoinSet::new();
    for _ in 0..RUNS {
        let (store, cfg) = (store.clone(), cfg.clone());
        runs.spawn(
            async move { generate_month(&store, &cfg, nov, date(2026, 12, 1), now()).await },
        );
    }
    let mut created = Vec::new();
    let mut notices = 0;
    while let Some(res) = runs.join_next().await {
        let report = res??;
        notices += report.notices_queued;
        created.extend(report.created);
    }
    assert_eq!(
        created.len(),
        PAYERS as usize,
        "each payer invoiced exactly once"
    );
    assert_eq!(notices, PAYERS as usize / 2);
    let stored = store.invoices_of_month(nov).await?;
    let sequences: Vec<u32> = stored.iter().map(|i| i.number.sequence()).collect();
    assert_eq!(
        sequences,
        (1..=PAYERS).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );
    let payers: BTreeSet<PayerId> = stored.iter().map(|i| i.payer).collect();
    assert_eq!(payers.len(), PAYERS as usize);
    assert_eq!(store.pending_notices().await?, i64::from(PAYERS / 2));
    Ok(())
}

async fn invoice_uniqueness_is_a_constraint(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let (_, child) = numbered_family(store, 1, false, None).await?;
    book(store, child, &[date(2026, 11, 2)], "REPAS").await?;
    generate_month(store, &config(), month("2026-11"), date(2026, 12, 1), now()).await?;
    // The same payer, month and régie again under another number: refused by the database.
    let dup_payer = db
        .execute_raw(
            "INSERT INTO invoices (number, year, regie, sequence, payer_id, month, label, \
             issued_on, due_on, total_cents, created_at) \
             SELECT '2026-003-000099', year, regie, 99, payer_id, month, label, issued_on, \
             due_on, total_cents, created_at FROM invoices",
        )
        .await;
    ensure!(
        dup_payer.is_err(),
        "a second invoice for the payer's month was accepted"
    );
    // The same number for another month: refused too.
    let dup_number = db
        .execute_raw(
            "INSERT INTO invoices (number, year, regie, sequence, payer_id, month, label, \
             issued_on, due_on, total_cents, created_at) \
             SELECT number, year, regie, sequence, payer_id, '2026-10', label, issued_on, \
             due_on, total_cents, created_at FROM invoices",
        )
        .await;
    ensure!(
        dup_number.is_err(),
        "a duplicate invoice number was accepted"
    );
    let dup_key = db
        .execute_raw(
            "INSERT INTO mail_outbox (key, payer_id, invoice_id, attempts, next_attempt_at, \
             created_at) SELECT 'k', payer_id, id, 0, created_at, created_at FROM invoices \
             UNION ALL SELECT 'k', payer_id, id, 0, created_at, created_at FROM invoices",
        )
        .await;
    ensure!(
        dup_key.is_err(),
        "two outbox rows with one key were accepted"
    );
    Ok(())
}

async fn missing_tariff_stores_nothing(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.store;
    let (_, c1) = numbered_family(store, 1, true, None).await?;
    let (_, c2) = numbered_family(store, 2, true, None).await?;
    book(store, c1, &[date(2026, 11, 2)], "REPAS").await?;
    book(store, c2, &[date(2026, 11, 2)], "MATIN").await?; // no tariff for MATIN
    let err = generate_month(store, &config(), month("2026-11"), date(2026, 12, 1), now())
        .await
        .expect_err("a service without a tariff is an error");
    assert!(matches!(err, IssueError::Invoice(_)), "{err:?}");
    assert!(err.to_string().contains("MATIN"), "{err}");
    assert!(store.invoices_of_month(month("2026-11")).await?.is_empty());
    assert_eq!(store.pending_notices().await?, 0);
    // And the sequence did not move: the next successful run starts at 1.
    let cfg = InvoiceConfig {
        tariffs: {
            let mut t = config().tariffs;
            t.push(toml::from_str(
                "service = \"MATIN\"\nlabel = \"Matin\"\nprice_cents = 100",
            )?);
            t
        },
        ..config()
    };
    let report = generate_month(store, &cfg, month("2026-11"), date(2026, 12, 1), now()).await?;
    assert_eq!(report.created[0].sequence(), 1);
    Ok(())
}

async fn concurrent_repeated_notifications_pay_once(db: &TestDb) -> anyhow::Result<()> {
    use ivr::payment::PaymentOutcome;
    use ivr::payment::settle::{Provider, Settlement};
    use ivr::store::NewPaymentRequest;
    let store = &db.store;
    let (payer, inv) = one_invoice(store).await?;
    let day = date(2026, 12, 3);
    let mut tx = store.begin().await?;
    assert_eq!(tx.next_systempay_counter("12345678", day).await?, 0);
    assert_eq!(tx.next_systempay_counter("12345678", day).await?, 1);
    assert_eq!(
        tx.next_systempay_counter("12345678", date(2026, 12, 4))
            .await?,
        0
    );
    let unpaid = tx.unpaid_invoices(payer, &[inv.id]).await?;
    assert_eq!(unpaid.len(), 1);
    let request = tx
        .insert_payment_request(
            &NewPaymentRequest {
                provider: Provider::SystemPay,
                order_id: "SP20261203000001",
                payer,
                amount: inv.total,
                trans: Some(("000001".into(), day)),
                refdet: None,
                invoices: &[inv.id],
                hold_until: now() + ivr::payment::settle::HOLD,
            },
            now(),
        )
        .await?;
    tx.commit().await?;

    // A refusal first, then the same transaction reported paid by several deliveries at once.
    let mut tx = store.begin().await?;
    let first = ivr::service::payments::apply_result(
        &mut tx,
        Provider::SystemPay,
        "20261203-000001",
        request,
        PaymentOutcome::Refused,
        "REFUSED",
        now(),
    )
    .await?;
    tx.commit().await?;
    assert_eq!(first, Settlement::RecordFailure);
    assert!(store.invoices_of(payer).await?[0].paid_at.is_none());

    let mut runs = tokio::task::JoinSet::new();
    for i in 0..4 {
        let store = store.clone();
        runs.spawn(async move {
            let at = now() + chrono::Duration::minutes(i);
            let mut tx = store.begin().await?;
            let s = ivr::service::payments::apply_result(
                &mut tx,
                Provider::SystemPay,
                "20261203-000001",
                request,
                PaymentOutcome::Paid,
                "AUTHORISED",
                at,
            )
            .await?;
            tx.commit().await?;
            Ok::<_, ivr::store::StoreError>(s)
        });
    }
    let mut decisions = Vec::new();
    while let Some(r) = runs.join_next().await {
        decisions.push(r??);
    }
    decisions.sort_by_key(|d| format!("{d:?}"));
    assert_eq!(
        decisions,
        [
            Settlement::AlreadyDone,
            Settlement::AlreadyDone,
            Settlement::AlreadyDone,
            Settlement::MarkPaid
        ]
    );
    let paid = store.invoices_of(payer).await?.remove(0);
    assert!(paid.paid_at.is_some());
    let mut tx = store.begin().await?;
    assert!(tx.unpaid_invoices(payer, &[inv.id]).await?.is_empty());
    // A late refusal of a paid transaction never unpays it.
    let late = ivr::service::payments::apply_result(
        &mut tx,
        Provider::SystemPay,
        "20261203-000001",
        request,
        PaymentOutcome::Refused,
        "REFUSED",
        now(),
    )
    .await?;
    tx.commit().await?;
    assert_eq!(late, Settlement::Conflict);
    assert_eq!(store.invoices_of(payer).await?[0].paid_at, paid.paid_at);
    Ok(())
}

/// Issue 13, finding 3 (two card requests for one invoice were both accepted and both
/// recorded as paid): a second request while the first holds the invoice is refused, even
/// when both are made at once; when a provider confirms a second payment anyway (the hold had
/// expired), the invoice stays paid once and the payment is kept for staff to refund. The
/// database itself refuses a second payment row for an invoice.
async fn one_invoice_one_payment_and_duplicates_kept_for_refund(db: &TestDb) -> anyhow::Result<()> {
    use ivr::payment::PaymentOutcome;
    use ivr::payment::settle::{HOLD, Provider, Settlement};
    use ivr::store::{NewPaymentRequest, StoreError};
    let store = &db.store;
    let (payer, inv) = one_invoice(store).await?;
    let day = date(2026, 12, 3);
    let request = |n: u32, at: DateTime<Utc>| {
        let store = store.clone();
        let ids = [inv.id];
        async move {
            let mut tx = store.begin().await?;
            let order = format!("SP2026120300000{n}");
            let r = tx
                .insert_payment_request(
                    &NewPaymentRequest {
                        provider: Provider::SystemPay,
                        order_id: &order,
                        payer,
                        amount: inv.total,
                        trans: Some((format!("00000{n}"), day)),
                        refdet: None,
                        invoices: &ids,
                        hold_until: at + HOLD,
                    },
                    at,
                )
                .await;
            match r {
                Ok(id) => {
                    tx.commit().await?;
                    Ok(id)
                }
                Err(e) => {
                    tx.rollback().await?;
                    Err(e)
                }
            }
        }
    };
    // Two requests at once: exactly one holds the invoice.
    let (a, b) = tokio::join!(request(1, now()), request(2, now()));
    let (first, refused) = match (a, b) {
        (Ok(id), Err(e)) | (Err(e), Ok(id)) => (id, e),
        other => panic!("both or neither request accepted: {other:?}"),
    };
    assert!(
        matches!(refused, StoreError::PaymentInProgress),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        "un paiement de cette facture est déjà en cours"
    );
    // After the hold expires a new request may be made (the payer left the first page).
    let later = now() + HOLD + chrono::Duration::minutes(1);
    let second = request(3, later).await?;
    let pay = |request, transaction: &'static str, at| {
        let store = store.clone();
        async move {
            let mut tx = store.begin().await?;
            let s = ivr::service::payments::apply_result(
                &mut tx,
                Provider::SystemPay,
                transaction,
                request,
                PaymentOutcome::Paid,
                "AUTHORISED",
                at,
            )
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(s)
        }
    };
    // The provider confirms both anyway: the first pays, the second is a duplicate.
    assert_eq!(
        pay(first, "20261203-000001", now()).await?,
        Settlement::MarkPaid
    );
    let paid_at = store.invoices_of(payer).await?[0].paid_at;
    assert!(paid_at.is_some());
    assert_eq!(
        pay(second, "20261203-000003", later).await?,
        Settlement::Duplicate
    );
    // Repeated, the duplicate is the same one.
    assert_eq!(
        pay(second, "20261203-000003", later).await?,
        Settlement::AlreadyDone
    );
    assert_eq!(store.invoices_of(payer).await?[0].paid_at, paid_at);
    let mut tx = store.begin().await?;
    let dups = tx.duplicate_payments().await?;
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].transaction, "20261203-000003");
    assert_eq!(dups[0].amount, inv.total);
    assert_eq!(dups[0].payer, payer);
    assert!(dups[0].refunded_at.is_none());
    assert!(tx.mark_duplicate_refunded(dups[0].payment, later).await?);
    assert!(!tx.mark_duplicate_refunded(dups[0].payment, later).await?);
    tx.commit().await?;
    // The constraint holds below the code: a second payment row for the invoice is refused.
    let direct = db
        .execute_raw(&format!(
            "INSERT INTO invoice_payments (invoice_id, payment_id) VALUES ({}, {})",
            inv.id.0, dups[0].payment.0
        ))
        .await;
    assert!(direct.is_err(), "a second payment row was accepted");
    Ok(())
}
