//! `ivr invoices generate`: a month's invoices made and stored in one transaction.
//!
//! The transaction first takes the (year, régie) sequence row, so two runs for the same
//! month follow each other; it then reads the month's bookings and the payers already
//! invoiced, drafts the missing invoices with [`draft_invoices`], numbers them from the
//! stored last value (no gaps, no duplicates), stores them with their lines, queues one
//! e-mail notice per payer who opted in, and commits. A second run finds every payer
//! invoiced and creates nothing.

use chrono::{DateTime, NaiveDate, Utc};
use thiserror::Error;

use crate::invoice::generate::{InvoiceMonth, draft_invoices};
use crate::invoice::{InvoiceConfig, InvoiceError, InvoiceNumber};
use crate::store::{NewInvoice, Store, StoreError};

/// Why generating a month's invoices failed; nothing was stored.
#[derive(Debug, Error)]
pub enum IssueError {
    /// The configuration or the bookings do not make invoices (no tariff, bad régie...).
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueReport {
    /// The numbers of the invoices this run created, in order.
    pub created: Vec<InvoiceNumber>,
    /// Payers of the month who already had their invoice (left untouched).
    pub already_invoiced: usize,
    /// E-mail notices queued for payers who opted in.
    pub notices_queued: usize,
}

/// The outbox key of an invoice's notice: one notice per invoice, ever.
pub fn notice_key(number: &InvoiceNumber) -> String {
    format!("facture-{number}")
}

/// Makes and stores the month's missing invoices, issued on `today`, in one transaction.
pub async fn generate_month(
    store: &Store,
    config: &InvoiceConfig,
    month: InvoiceMonth,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<IssueReport, IssueError> {
    let regie = config.regie()?;
    let tariffs = config.tariffs()?;
    let year = month.year();
    let mut tx = store.begin().await?;
    let mut last = tx.lock_invoice_sequence(year, regie).await?;
    let month_bookings = tx.month_bookings(month).await?;
    let already = tx.invoiced_payers(month, regie).await?;
    let drafts = draft_invoices(
        month,
        &month_bookings.bookings,
        &month_bookings.quotients,
        &tariffs,
    )?;
    let mut report = IssueReport::default();
    for draft in drafts {
        if already.contains(&draft.payer) {
            report.already_invoiced += 1;
            continue;
        }
        let sequence = last + 1;
        let number = InvoiceNumber::new(year, regie, sequence)?;
        let id = tx
            .insert_invoice(
                &NewInvoice {
                    number,
                    payer: draft.payer,
                    month,
                    label: &config.label,
                    issued: today,
                    due: month.due_date(config.due_days),
                    lines: &draft.lines,
                    total: draft.total,
                },
                now,
            )
            .await?;
        last = sequence;
        if tx.payer_opted_in(draft.payer).await?
            && tx
                .queue_invoice_notice(&notice_key(&number), draft.payer, id, now)
                .await?
        {
            report.notices_queued += 1;
        }
        report.created.push(number);
    }
    if !report.created.is_empty() {
        tx.set_invoice_sequence(year, regie, last).await?;
    }
    tx.commit().await?;
    Ok(report)
}
