//! Payment requests (what was asked of a provider), payments (what it answered, once per
//! provider transaction), and SystemPay's daily transaction counter.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::invoices::InvoiceId;
use super::{StoreError, StoreTx, on_tx};
use crate::booking::model::{Cents, PayerId};
use crate::payment::Outcome;
use crate::payment::settle::{Provider, Settlement, settle};

/// The database id of a payment request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaymentRequestId(pub i64);

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

    /// Stores a payment request and its invoices.
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
        }
        Ok(PaymentRequestId(id))
    }

    /// The request with this order id, if any.
    pub async fn payment_request_by_order(
        &mut self,
        order_id: &str,
    ) -> Result<Option<StoredPaymentRequest>, StoreError> {
        on_tx!(self, c => {
            let row = sqlx::query(
                "SELECT id, provider, payer_id, amount_cents, trans_id, trans_day, refdet \
                 FROM payment_requests WHERE order_id = $1",
            )
            .bind(order_id)
            .fetch_optional(&mut **c)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let provider: String = row.try_get("provider")?;
            let trans_id: Option<String> = row.try_get("trans_id")?;
            let trans_day: Option<NaiveDate> = row.try_get("trans_day")?;
            Ok(Some(StoredPaymentRequest {
                id: PaymentRequestId(row.try_get("id")?),
                provider: Provider::from_stored(&provider)
                    .ok_or_else(|| StoreError::Corrupt(format!("prestataire « {provider} »")))?,
                payer: PayerId(row.try_get("payer_id")?),
                amount: Cents(row.try_get("amount_cents")?),
                trans: trans_id.zip(trans_day),
                refdet: row.try_get("refdet")?,
            }))
        })
    }

    /// Applies a verified provider result to the payment row of (provider, transaction):
    /// the row is created or locked first, so concurrent repeats follow each other; then
    /// [`settle`] decides from the stored outcome. `MarkPaid` marks the request's unpaid
    /// invoices paid at `now`; nothing is ever paid twice.
    pub async fn apply_payment_result(
        &mut self,
        provider: Provider,
        transaction: &str,
        request: PaymentRequestId,
        outcome: Outcome,
        raw_status: &str,
        now: DateTime<Utc>,
    ) -> Result<Settlement, StoreError> {
        // A new transaction starts as 'unknown' (settle treats it as never seen).
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
        let (stored, stored_request): (String, i64) = on_tx!(self, c => {
            let row = sqlx::query(
                "UPDATE payments SET outcome = outcome \
                 WHERE provider = $1 AND transaction_ref = $2 RETURNING outcome, request_id",
            )
            .bind(provider.as_str())
            .bind(transaction)
            .fetch_one(&mut **c)
            .await?;
            (row.try_get("outcome")?, row.try_get("request_id")?)
        });
        if stored_request != request.0 {
            return Err(StoreError::Corrupt(format!(
                "transaction {transaction} rattachée à une autre demande"
            )));
        }
        let stored = Outcome::from_stored(&stored)
            .ok_or_else(|| StoreError::Corrupt(format!("issue « {stored} »")))?;
        let decision = settle(Some(stored), outcome);
        match decision {
            Settlement::MarkPaid | Settlement::RecordFailure => {
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
            }
            Settlement::AlreadyDone | Settlement::Wait | Settlement::Conflict => {}
        }
        if decision == Settlement::MarkPaid {
            on_tx!(self, c => sqlx::query(
                "UPDATE invoices SET paid_at = $2 WHERE paid_at IS NULL AND id IN \
                 (SELECT invoice_id FROM payment_request_invoices WHERE request_id = $1)",
            )
            .bind(request.0)
            .bind(now)
            .execute(&mut **c)
            .await
            .map(drop)?);
        }
        Ok(decision)
    }
}
