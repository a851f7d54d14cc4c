//! Payment requests (what was asked of a provider), payments (what it answered, once per
//! provider transaction), and SystemPay's daily transaction counter.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::invoices::InvoiceId;
use super::{StoreError, StoreTx, on_tx};
use crate::booking::model::{Cents, PayerId};
use crate::payment::PaymentOutcome;
use crate::payment::settle::Provider;

/// The database id of a payment request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaymentRequestId(pub i64);

/// The database id of a payment (one provider transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaymentId(pub i64);

/// A payment confirmed for invoices another payment had already settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicatePayment {
    /// The payment.
    pub payment: PaymentId,
    /// Which provider took the money.
    pub provider: Provider,
    /// The provider's transaction (what its Back Office shows, for the refund).
    pub transaction: String,
    /// Our reference of the request.
    pub order_id: String,
    /// Who paid.
    pub payer: PayerId,
    /// How much to refund.
    pub amount: Cents,
    /// When the duplicate was recorded.
    pub detected_at: DateTime<Utc>,
    /// When staff recorded the refund.
    pub refunded_at: Option<DateTime<Utc>>,
}

/// A payment request to store.
#[derive(Debug, Clone)]
pub struct NewPaymentRequest<'a> {
    /// Which provider.
    pub provider: Provider,
    /// Our reference sent to the provider (`vads_order_id`...), unique.
    pub order_id: &'a str,
    /// Who pays.
    pub payer: PayerId,
    /// The amount asked.
    pub amount: Cents,
    /// SystemPay's `vads_trans_id` and its UTC day.
    pub trans: Option<(String, NaiveDate)>,
    /// PayFiP's `refdet` (the debt's reference).
    pub refdet: Option<&'a str>,
    /// The invoices paid by it.
    pub invoices: &'a [InvoiceId],
    /// Until when the invoices are held for this request: another request for any of them
    /// is refused until then (or until this one fails).
    pub hold_until: DateTime<Utc>,
}

/// A stored payment request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPaymentRequest {
    /// Its id.
    pub id: PaymentRequestId,
    /// Which provider.
    pub provider: Provider,
    /// Who pays.
    pub payer: PayerId,
    /// The amount asked.
    pub amount: Cents,
    /// SystemPay's transaction id and UTC day.
    pub trans: Option<(String, NaiveDate)>,
    /// PayFiP's `refdet`.
    pub refdet: Option<String>,
    /// Our reference sent to the provider.
    pub order_id: String,
    /// PayFiP web service's `idOp`, once `creerPaiementSecurise` gave it.
    pub id_op: Option<String>,
}

/// The columns [`request_from_row`] reads.
const REQUEST_COLUMNS: &str =
    "id, provider, payer_id, amount_cents, trans_id, trans_day, refdet, order_id, id_op";

macro_rules! request_from_row {
    ($row:expr) => {{
        let row = $row;
        let provider: String = row.try_get("provider")?;
        let trans_id: Option<String> = row.try_get("trans_id")?;
        let trans_day: Option<NaiveDate> = row.try_get("trans_day")?;
        StoredPaymentRequest {
            id: PaymentRequestId(row.try_get("id")?),
            provider: Provider::from_stored(&provider)
                .ok_or_else(|| StoreError::Corrupt(format!("prestataire « {provider} »")))?,
            payer: PayerId(row.try_get("payer_id")?),
            amount: Cents(row.try_get("amount_cents")?),
            trans: trans_id.zip(trans_day),
            refdet: row.try_get("refdet")?,
            order_id: row.try_get("order_id")?,
            id_op: row.try_get("id_op")?,
        }
    }};
}

impl StoreTx {
    /// The next value (0-based) of SystemPay's transaction counter for (site, UTC day); the
    /// row update is atomic, so two forms never share a `vads_trans_id`.
    pub async fn next_systempay_counter(
        &mut self,
        site_id: &str,
        day: NaiveDate,
    ) -> Result<u64, StoreError> {
        let next: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO systempay_trans_counters (site_id, day, next_value) VALUES ($1, $2, 1) \
             ON CONFLICT (site_id, day) DO UPDATE \
             SET next_value = systempay_trans_counters.next_value + 1 RETURNING next_value",
        )
        .bind(site_id)
        .bind(day)
        .fetch_one(&mut **c)
        .await?);
        u64::try_from(next - 1).map_err(|_| StoreError::Corrupt(format!("compteur {next}")))
    }

    /// Stores a payment request and its invoices, and holds each invoice for it until
    /// `req.hold_until`. [`StoreError::PaymentInProgress`] when an invoice is already held
    /// by another live request (the caller rolls back); the hold is one conditional upsert
    /// on the invoice's row, so two parallel requests never both get it.
    pub async fn insert_payment_request(
        &mut self,
        req: &NewPaymentRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<PaymentRequestId, StoreError> {
        let (trans_id, trans_day) = match &req.trans {
            Some((id, day)) => (Some(id.as_str()), Some(*day)),
            None => (None, None),
        };
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO payment_requests (provider, order_id, payer_id, amount_cents, \
             trans_id, trans_day, refdet, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             RETURNING id",
        )
        .bind(req.provider.as_str())
        .bind(req.order_id)
        .bind(req.payer.0)
        .bind(req.amount.0)
        .bind(trans_id)
        .bind(trans_day)
        .bind(req.refdet)
        .bind(now)
        .fetch_one(&mut **c)
        .await
        .map_err(|e| StoreError::duplicate_as(e, || "la demande de paiement".into()))?);
        for inv in req.invoices {
            on_tx!(self, c => sqlx::query(
                "INSERT INTO payment_request_invoices (request_id, invoice_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(inv.0)
            .execute(&mut **c)
            .await
            .map(drop)?);
            let held: Option<i64> = on_tx!(self, c => sqlx::query_scalar(
                "INSERT INTO invoice_claims (invoice_id, request_id, expires_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (invoice_id) DO UPDATE \
                 SET request_id = excluded.request_id, expires_at = excluded.expires_at \
                 WHERE invoice_claims.expires_at <= $4 RETURNING request_id",
            )
            .bind(inv.0)
            .bind(id)
            .bind(req.hold_until)
            .bind(now)
            .fetch_optional(&mut **c)
            .await?);
            if held != Some(id) {
                return Err(StoreError::PaymentInProgress);
            }
        }
        Ok(PaymentRequestId(id))
    }

    /// The request with this order id, if any.
    pub async fn payment_request_by_order(
        &mut self,
        order_id: &str,
    ) -> Result<Option<StoredPaymentRequest>, StoreError> {
        on_tx!(self, c => {
            let row = sqlx::query(&format!(
                "SELECT {REQUEST_COLUMNS} FROM payment_requests WHERE order_id = $1"
            ))
            .bind(order_id)
            .fetch_optional(&mut **c)
            .await?;
            Ok(match row {
                Some(row) => Some(request_from_row!(&row)),
                None => None,
            })
        })
    }

    /// The PayFiP web-service request that `creerPaiementSecurise` numbered `id_op`, if we
    /// made one: a notification about any other `idOp` is not ours.
    pub async fn payment_request_by_id_op(
        &mut self,
        id_op: &str,
    ) -> Result<Option<StoredPaymentRequest>, StoreError> {
        on_tx!(self, c => {
            let row = sqlx::query(&format!(
                "SELECT {REQUEST_COLUMNS} FROM payment_requests \
                 WHERE id_op = $1 AND provider = 'payfip-ws'"
            ))
            .bind(id_op)
            .fetch_optional(&mut **c)
            .await?;
            Ok(match row {
                Some(row) => Some(request_from_row!(&row)),
                None => None,
            })
        })
    }

    /// Stores the `idOp` PayFiP gave the request (once).
    pub async fn set_payment_id_op(
        &mut self,
        request: PaymentRequestId,
        id_op: &str,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "UPDATE payment_requests SET id_op = $2 WHERE id = $1 AND id_op IS NULL",
        )
        .bind(request.0)
        .bind(id_op)
        .execute(&mut **c)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Frees the invoices a request holds (it could not be sent to the provider).
    pub async fn release_payment_request(
        &mut self,
        request: PaymentRequestId,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query("DELETE FROM invoice_claims WHERE request_id = $1")
            .bind(request.0)
            .execute(&mut **c)
            .await
            .map(drop)?);
        Ok(())
    }

    /// The outcome recorded for a request (paid wins over any failure), or `None` while
    /// the provider has not confirmed anything.
    pub async fn payment_outcome(
        &mut self,
        request: PaymentRequestId,
    ) -> Result<Option<PaymentOutcome>, StoreError> {
        let outcomes: Vec<String> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT outcome FROM payments WHERE request_id = $1",
        )
        .bind(request.0)
        .fetch_all(&mut **c)
        .await?);
        let outcomes: Vec<PaymentOutcome> = outcomes
            .iter()
            .filter_map(|o| PaymentOutcome::from_stored(o))
            .filter(|o| *o != PaymentOutcome::Unknown)
            .collect();
        Ok(outcomes
            .iter()
            .find(|o| o.is_paid())
            .or(outcomes.first())
            .copied())
    }

    /// The payment row of (provider, transaction), created for `request` if new and locked
    /// for the rest of the transaction (concurrent repeats of one notification follow each
    /// other), with its recorded outcome ([`PaymentOutcome::Unknown`] when new).
    pub async fn lock_payment(
        &mut self,
        provider: Provider,
        transaction: &str,
        request: PaymentRequestId,
        now: DateTime<Utc>,
    ) -> Result<(PaymentId, PaymentOutcome), StoreError> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO payments (provider, transaction_ref, request_id, outcome, raw_status, \
             received_at) VALUES ($1, $2, $3, 'unknown', '', $4) \
             ON CONFLICT (provider, transaction_ref) DO NOTHING",
        )
        .bind(provider.as_str())
        .bind(transaction)
        .bind(request.0)
        .bind(now)
        .execute(&mut **c)
        .await
        .map(drop)?);
        // The no-op update takes the row lock and reads the newest committed outcome.
        let (payment, stored, stored_request): (i64, String, i64) = on_tx!(self, c => {
            let row = sqlx::query(
                "UPDATE payments SET outcome = outcome \
                 WHERE provider = $1 AND transaction_ref = $2 RETURNING id, outcome, request_id",
            )
            .bind(provider.as_str())
            .bind(transaction)
            .fetch_one(&mut **c)
            .await?;
            (row.try_get("id")?, row.try_get("outcome")?, row.try_get("request_id")?)
        });
        if stored_request != request.0 {
            return Err(StoreError::Corrupt(format!(
                "transaction {transaction} rattachée à une autre demande"
            )));
        }
        let stored = PaymentOutcome::from_stored(&stored)
            .ok_or_else(|| StoreError::Corrupt(format!("issue « {stored} »")))?;
        Ok((PaymentId(payment), stored))
    }

    /// Records the outcome the provider gave for (provider, transaction).
    pub async fn record_payment_outcome(
        &mut self,
        provider: Provider,
        transaction: &str,
        outcome: PaymentOutcome,
        raw_status: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "UPDATE payments SET outcome = $3, raw_status = $4, received_at = $5 \
             WHERE provider = $1 AND transaction_ref = $2",
        )
        .bind(provider.as_str())
        .bind(transaction)
        .bind(outcome.as_str())
        .bind(raw_status)
        .bind(now)
        .execute(&mut **c)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Frees the invoices `request` held, so a new request may pay them.
    pub async fn release_invoice_claims(
        &mut self,
        request: PaymentRequestId,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query("DELETE FROM invoice_claims WHERE request_id = $1")
            .bind(request.0)
            .execute(&mut **c)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Links the request's invoices to `payment` and marks them paid; an invoice already
    /// settled by another payment keeps it (the primary key of `invoice_payments` says so
    /// whatever the code does), and `payment` is then recorded as a duplicate to refund.
    /// Returns whether it was one.
    pub async fn settle_invoices(
        &mut self,
        payment: PaymentId,
        request: PaymentRequestId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let asked: i64 = on_tx!(self, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM payment_request_invoices WHERE request_id = $1",
        )
        .bind(request.0)
        .fetch_one(&mut **c)
        .await?);
        let settled = on_tx!(self, c => sqlx::query(
            "INSERT INTO invoice_payments (invoice_id, payment_id) \
             SELECT invoice_id, $2 FROM payment_request_invoices WHERE request_id = $1 \
             ON CONFLICT (invoice_id) DO NOTHING",
        )
        .bind(request.0)
        .bind(payment.0)
        .execute(&mut **c)
        .await?
        .rows_affected());
        on_tx!(self, c => sqlx::query(
            "UPDATE invoices SET paid_at = $2 WHERE paid_at IS NULL AND id IN \
             (SELECT invoice_id FROM invoice_payments WHERE payment_id = $1)",
        )
        .bind(payment.0)
        .bind(now)
        .execute(&mut **c)
        .await
        .map(drop)?);
        let duplicate = u64::try_from(asked).unwrap_or(0) > settled;
        if duplicate {
            on_tx!(self, c => sqlx::query(
                "INSERT INTO duplicate_payments (payment_id, detected_at) VALUES ($1, $2) \
                 ON CONFLICT (payment_id) DO NOTHING",
            )
            .bind(payment.0)
            .bind(now)
            .execute(&mut **c)
            .await
            .map(drop)?);
        }
        Ok(duplicate)
    }

    /// Payments confirmed for invoices another payment had already settled, newest first:
    /// what staff must refund (refunded ones included, with their date).
    pub async fn duplicate_payments(&mut self) -> Result<Vec<DuplicatePayment>, StoreError> {
        on_tx!(self, c => {
            let rows = sqlx::query(
                "SELECT d.payment_id, d.detected_at, d.refunded_at, p.provider, \
                 p.transaction_ref, r.order_id, r.payer_id, r.amount_cents \
                 FROM duplicate_payments d JOIN payments p ON p.id = d.payment_id \
                 JOIN payment_requests r ON r.id = p.request_id \
                 ORDER BY d.detected_at DESC, d.payment_id DESC",
            )
            .fetch_all(&mut **c)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let provider: String = row.try_get("provider")?;
                out.push(DuplicatePayment {
                    payment: PaymentId(row.try_get("payment_id")?),
                    provider: Provider::from_stored(&provider)
                        .ok_or_else(|| StoreError::Corrupt(format!("prestataire « {provider} »")))?,
                    transaction: row.try_get("transaction_ref")?,
                    order_id: row.try_get("order_id")?,
                    payer: PayerId(row.try_get("payer_id")?),
                    amount: Cents(row.try_get("amount_cents")?),
                    detected_at: row.try_get("detected_at")?,
                    refunded_at: row.try_get("refunded_at")?,
                });
            }
            Ok(out)
        })
    }

    /// Records that staff refunded a duplicate payment (once: a second call changes
    /// nothing). Returns whether it was recorded now.
    pub async fn mark_duplicate_refunded(
        &mut self,
        payment: PaymentId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE duplicate_payments SET refunded_at = $2 \
             WHERE payment_id = $1 AND refunded_at IS NULL",
        )
        .bind(payment.0)
        .bind(now)
        .execute(&mut **c)
        .await?
        .rows_affected());
        Ok(n == 1)
    }
}
