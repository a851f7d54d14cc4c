//! Invoices, their lines and sequence numbers, and the queuing of their e-mail notices.
//!
//! Generating a month is one transaction ([`crate::service::invoices`]): it first takes the
//! (year, régie) row of `invoice_sequences` ([`StoreTx::lock_invoice_sequence`]), which
//! serialises two runs on PostgreSQL (row lock) as `BEGIN IMMEDIATE` does on SQLite; then it
//! reads what is already invoiced, so a second run sees the first one's invoices and creates
//! nothing, and the numbers it gives follow the stored last value without gaps.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::tx::service_code;
use super::{Store, StoreError, StoreTx, on_pool, on_tx};
use crate::booking::model::{Cents, ChildId, PayerId};
use crate::invoice::InvoiceNumber;
use crate::invoice::generate::{BookedService, InvoiceLine, InvoiceMonth};
use crate::invoice::number::RegieCode;
use crate::invoice::tariff::QuotientFamilial;

/// The database id of an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InvoiceId(pub i64);

/// An invoice to store (its number already allocated).
#[derive(Debug, Clone)]
pub struct NewInvoice<'a> {
    /// Its number.
    pub number: InvoiceNumber,
    /// Who pays it.
    pub payer: PayerId,
    /// The month invoiced.
    pub month: InvoiceMonth,
    /// The label ("Restauration scolaire et accueil périscolaire").
    pub label: &'a str,
    /// The day it is issued.
    pub issued: NaiveDate,
    /// The day it is due.
    pub due: NaiveDate,
    /// Its lines.
    pub lines: &'a [InvoiceLine],
    /// The sum of the lines.
    pub total: Cents,
}

/// A stored invoice, without its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInvoice {
    /// Its id.
    pub id: InvoiceId,
    /// Its number.
    pub number: InvoiceNumber,
    /// Who pays it.
    pub payer: PayerId,
    /// The month invoiced, `YYYY-MM`.
    pub month: String,
    /// Its label.
    pub label: String,
    /// The day it was issued.
    pub issued: NaiveDate,
    /// The day it is due.
    pub due: NaiveDate,
    /// The amount to pay.
    pub total: Cents,
    /// When it was paid, if it was.
    pub paid_at: Option<DateTime<Utc>>,
}

/// A month's bookings with what invoicing needs of their payers.
#[derive(Debug, Clone, Default)]
pub struct MonthBookings {
    /// Every booking of the month, with child name and payer.
    pub bookings: Vec<BookedService>,
    /// The quotient familial of every payer who booked (None = unknown, full price).
    pub quotients: BTreeMap<PayerId, Option<QuotientFamilial>>,
}

const INVOICE_COLUMNS: &str =
    "id, number, payer_id, month, label, issued_on, due_on, total_cents, paid_at";

macro_rules! invoice_from_row {
    ($row:expr) => {{
        let row = $row;
        let number: String = row.try_get("number")?;
        StoredInvoice {
            id: InvoiceId(row.try_get("id")?),
            number: InvoiceNumber::parse(&number)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            payer: PayerId(row.try_get("payer_id")?),
            month: row.try_get("month")?,
            label: row.try_get("label")?,
            issued: row.try_get("issued_on")?,
            due: row.try_get("due_on")?,
            total: Cents(row.try_get("total_cents")?),
            paid_at: row.try_get("paid_at")?,
        }
    }};
}

macro_rules! line_from_row {
    ($row:expr) => {{
        let row = $row;
        let quantity: i32 = row.try_get("quantity")?;
        InvoiceLine {
            child: ChildId(row.try_get("child_id")?),
            child_name: row.try_get("child_name")?,
            service: service_code(row.try_get("service")?)?,
            label: row.try_get("label")?,
            quantity: u32::try_from(quantity)
                .map_err(|_| StoreError::Corrupt(format!("quantité {quantity}")))?,
            unit_price: Cents(row.try_get("unit_price_cents")?),
            amount: Cents(row.try_get("amount_cents")?),
        }
    }};
}

impl StoreTx {
    /// Takes the (year, régie) sequence row (creating it at 0) and returns its last value.
    /// Until this transaction ends, another one asking for the same row waits.
    pub async fn lock_invoice_sequence(
        &mut self,
        year: i32,
        regie: RegieCode,
    ) -> Result<u32, StoreError> {
        // The no-op update is what takes the row lock on PostgreSQL.
        let last: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO invoice_sequences (year, regie, last_value) VALUES ($1, $2, 0) \
             ON CONFLICT (year, regie) DO UPDATE SET last_value = invoice_sequences.last_value \
             RETURNING last_value",
        )
        .bind(year)
        .bind(i32::from(regie.value()))
        .fetch_one(&mut **c)
        .await?);
        u32::try_from(last).map_err(|_| StoreError::Corrupt(format!("séquence {last}")))
    }

    /// Records the last sequence value given for (year, régie).
    pub async fn set_invoice_sequence(
        &mut self,
        year: i32,
        regie: RegieCode,
        last: u32,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "UPDATE invoice_sequences SET last_value = $3 WHERE year = $1 AND regie = $2",
        )
        .bind(year)
        .bind(i32::from(regie.value()))
        .bind(i64::from(last))
        .execute(&mut **c)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Every booking of the month with its child's name and payer, and the payers'
    /// quotients, as this transaction sees them.
    pub async fn month_bookings(
        &mut self,
        month: InvoiceMonth,
    ) -> Result<MonthBookings, StoreError> {
        let mut out = MonthBookings::default();
        on_tx!(self, c => {
            let rows = sqlx::query(
                "SELECT c.payer_id AS payer_id, b.child_id AS child_id, \
                        c.first_name AS first_name, c.last_name AS last_name, \
                        b.date AS date, b.service AS service, \
                        p.quotient_familial AS quotient \
                 FROM bookings b JOIN children c ON c.id = b.child_id \
                 JOIN payers p ON p.id = c.payer_id \
                 WHERE b.date >= $1 AND b.date <= $2 \
                 ORDER BY c.payer_id, b.child_id, b.date, b.service",
            )
            .bind(month.first_day())
            .bind(month.last_day())
            .fetch_all(&mut **c)
            .await?;
            for row in rows {
                let payer = PayerId(row.try_get("payer_id")?);
                let first: String = row.try_get("first_name")?;
                let last: String = row.try_get("last_name")?;
                let quotient: Option<i32> = row.try_get("quotient")?;
                let quotient = quotient
                    .map(|q| u32::try_from(q).map(QuotientFamilial))
                    .transpose()
                    .map_err(|_| StoreError::Corrupt("quotient familial négatif".into()))?;
                out.quotients.insert(payer, quotient);
                out.bookings.push(BookedService {
                    payer,
                    child: ChildId(row.try_get("child_id")?),
                    child_name: format!("{first} {last}"),
                    date: row.try_get("date")?,
                    service: service_code(row.try_get("service")?)?,
                });
            }
        });
        Ok(out)
    }

    /// The payers who already have an invoice of this month and régie.
    pub async fn invoiced_payers(
        &mut self,
        month: InvoiceMonth,
        regie: RegieCode,
    ) -> Result<BTreeSet<PayerId>, StoreError> {
        let ids: Vec<i64> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT payer_id FROM invoices WHERE month = $1 AND regie = $2",
        )
        .bind(month.to_string())
        .bind(i32::from(regie.value()))
        .fetch_all(&mut **c)
        .await?);
        Ok(ids.into_iter().map(PayerId).collect())
    }

    /// Stores an invoice and its lines. An invoice of the same payer, month and régie, or
    /// the same number, is [`StoreError::Duplicate`] (the constraints decide).
    pub async fn insert_invoice(
        &mut self,
        invoice: &NewInvoice<'_>,
        now: DateTime<Utc>,
    ) -> Result<InvoiceId, StoreError> {
        let number = invoice.number.to_string();
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO invoices (number, year, regie, sequence, payer_id, month, label, \
             issued_on, due_on, total_cents, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(&number)
        .bind(i32::from(invoice.number.year()))
        .bind(i32::from(invoice.number.regie().value()))
        .bind(i64::from(invoice.number.sequence()))
        .bind(invoice.payer.0)
        .bind(invoice.month.to_string())
        .bind(invoice.label)
        .bind(invoice.issued)
        .bind(invoice.due)
        .bind(invoice.total.0)
        .bind(now)
        .fetch_one(&mut **c)
        .await
        .map_err(|e| StoreError::duplicate_as(e, || format!("la facture {number}")))?);
        for (position, line) in invoice.lines.iter().enumerate() {
            let position = i32::try_from(position)
                .map_err(|_| StoreError::Corrupt("trop de lignes".into()))?;
            let quantity = i32::try_from(line.quantity)
                .map_err(|_| StoreError::Corrupt(format!("quantité {}", line.quantity)))?;
            on_tx!(self, c => sqlx::query(
                "INSERT INTO invoice_lines (invoice_id, position, child_id, child_name, service, \
                 label, quantity, unit_price_cents, amount_cents) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(id)
            .bind(position)
            .bind(line.child.0)
            .bind(&line.child_name)
            .bind(line.service.as_str())
            .bind(&line.label)
            .bind(quantity)
            .bind(line.unit_price.0)
            .bind(line.amount.0)
            .execute(&mut **c)
            .await
            .map(drop)?);
        }
        Ok(InvoiceId(id))
    }

    /// Queues the "invoice online" e-mail of an invoice; false when the key was queued
    /// already (the UNIQUE key decides).
    pub async fn queue_invoice_notice(
        &mut self,
        key: &str,
        payer: PayerId,
        invoice: InvoiceId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_tx!(self, c => sqlx::query(
            "INSERT INTO mail_outbox (key, payer_id, invoice_id, attempts, next_attempt_at, \
             created_at) VALUES ($1, $2, $3, 0, $4, $4) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(payer.0)
        .bind(invoice.0)
        .bind(now)
        .execute(&mut **c)
        .await?
        .rows_affected());
        Ok(done == 1)
    }

    /// The invoices among `ids` that `payer` owes and has not paid, as this transaction
    /// sees them (ids of other payers or paid invoices are left out).
    pub async fn unpaid_invoices(
        &mut self,
        payer: PayerId,
        ids: &[InvoiceId],
    ) -> Result<Vec<StoredInvoice>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            on_tx!(self, c => {
                let row = sqlx::query(&format!(
                    "SELECT {INVOICE_COLUMNS} FROM invoices \
                     WHERE id = $1 AND payer_id = $2 AND paid_at IS NULL"
                ))
                .bind(id.0)
                .bind(payer.0)
                .fetch_optional(&mut **c)
                .await?;
                if let Some(row) = row {
                    out.push(invoice_from_row!(&row));
                }
            });
        }
        Ok(out)
    }

    /// Whether the payer wants an e-mail when an invoice is online (and has an address).
    pub async fn payer_opted_in(&mut self, payer: PayerId) -> Result<bool, StoreError> {
        let row: Option<bool> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT invoice_email_opt_in FROM payers WHERE id = $1 AND email <> ''",
        )
        .bind(payer.0)
        .fetch_optional(&mut **c)
        .await?);
        Ok(row.unwrap_or(false))
    }

    /// Sets a payer's quotient familial (None = unknown: full price).
    pub async fn set_quotient_familial(
        &mut self,
        payer: PayerId,
        quotient: Option<QuotientFamilial>,
    ) -> Result<(), StoreError> {
        let q = quotient
            .map(|q| i32::try_from(q.0))
            .transpose()
            .map_err(|_| StoreError::Corrupt("quotient familial trop grand".into()))?;
        let done = on_tx!(self, c => sqlx::query(
            "UPDATE payers SET quotient_familial = $1 WHERE id = $2",
        )
        .bind(q)
        .bind(payer.0)
        .execute(&mut **c)
        .await?
        .rows_affected());
        if done == 0 {
            return Err(StoreError::NotFound {
                what: "le payeur".into(),
            });
        }
        Ok(())
    }
}

impl Store {
    /// The invoices of a payer, newest month first.
    pub async fn invoices_of(&self, payer: PayerId) -> Result<Vec<StoredInvoice>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(&format!(
                "SELECT {INVOICE_COLUMNS} FROM invoices WHERE payer_id = $1 \
                 ORDER BY month DESC, number DESC"
            ))
            .bind(payer.0)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(invoice_from_row!(&row));
            }
            Ok(out)
        })
    }

    /// Every invoice of a month, by number.
    pub async fn invoices_of_month(
        &self,
        month: InvoiceMonth,
    ) -> Result<Vec<StoredInvoice>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(&format!(
                "SELECT {INVOICE_COLUMNS} FROM invoices WHERE month = $1 ORDER BY number"
            ))
            .bind(month.to_string())
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(invoice_from_row!(&row));
            }
            Ok(out)
        })
    }

    /// An invoice by id, only if `payer` pays it (a parent never reaches another's).
    pub async fn invoice_of_payer(
        &self,
        payer: PayerId,
        id: InvoiceId,
    ) -> Result<Option<StoredInvoice>, StoreError> {
        on_pool!(self, p => {
            let row = sqlx::query(&format!(
                "SELECT {INVOICE_COLUMNS} FROM invoices WHERE id = $1 AND payer_id = $2"
            ))
            .bind(id.0)
            .bind(payer.0)
            .fetch_optional(p)
            .await?;
            match row {
                Some(row) => Ok(Some(invoice_from_row!(&row))),
                None => Ok(None),
            }
        })
    }

    /// The lines of an invoice, in order.
    pub async fn invoice_lines(&self, id: InvoiceId) -> Result<Vec<InvoiceLine>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT child_id, child_name, service, label, quantity, unit_price_cents, \
                 amount_cents FROM invoice_lines WHERE invoice_id = $1 ORDER BY position",
            )
            .bind(id.0)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(line_from_row!(&row));
            }
            Ok(out)
        })
    }
}
