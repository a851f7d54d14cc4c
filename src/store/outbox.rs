//! The e-mail outbox: one row per message to send (an invoice online, a pre-registration
//! decision), claimed by a worker before it is sent so that two workers never send it twice.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::{Store, StoreError, on_pool};
use crate::booking::model::Cents;
use crate::invoice::InvoiceNumber;

impl Store {
    /// The number of pending notices in the outbox (for operators and tests).
    pub async fn pending_notices(&self) -> Result<i64, StoreError> {
        on_pool!(self, p => Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL",
        )
        .fetch_one(p)
        .await?))
    }
}

/// An e-mail notice due for sending, with what its message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingNotice {
    /// The outbox row.
    pub id: i64,
    /// Its unique key (Message-ID, file name).
    pub key: String,
    /// The payer's name.
    pub payer_name: String,
    /// The payer's address.
    pub email: String,
    /// Attempts made so far.
    pub attempts: i32,
    /// What it is about.
    pub subject: NoticeSubject,
}

/// What an outbox row is about: one invoice or one pre-registration decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeSubject {
    /// "Votre facture est en ligne".
    Invoice {
        /// The invoice.
        number: InvoiceNumber,
        /// Its month, `YYYY-MM`.
        month: String,
        /// Its amount.
        total: Cents,
        /// Its due date.
        due: NaiveDate,
    },
    /// The staff's answer to a pre-registration request.
    Preregistration {
        /// The child's first name.
        first_name: String,
        /// The child's last name.
        last_name: String,
        /// The service code asked for, `None` for the whole school year.
        service: Option<String>,
        /// The school year.
        school_year: String,
        /// Accepted (else refused).
        accepted: bool,
        /// The staff's reason (always there for a refusal).
        reason: String,
        /// Whether the acceptance created the child.
        child_created: bool,
    },
}

impl Store {
    /// Notices not sent nor given up whose next attempt is due at `now`, oldest first.
    pub async fn due_notices(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PendingNotice>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT o.id AS id, o.key AS key, o.attempts AS attempts, p.name AS name, \
                        p.email AS email, o.invoice_id AS invoice_id, i.number AS number, \
                        i.month AS month, i.total_cents AS total_cents, i.due_on AS due_on, \
                        r.child_first_name AS first_name, r.child_last_name AS last_name, \
                        r.service AS service, r.school_year AS school_year, \
                        r.status AS status, r.staff_reason AS reason, \
                        r.created_child_id AS created_child_id \
                 FROM mail_outbox o JOIN payers p ON p.id = o.payer_id \
                 LEFT JOIN invoices i ON i.id = o.invoice_id \
                 LEFT JOIN preregistrations r ON r.id = o.preregistration_id \
                 WHERE o.sent_at IS NULL AND o.gave_up_at IS NULL AND o.next_attempt_at <= $1 \
                 ORDER BY o.id LIMIT $2",
            )
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                // The table's CHECK says each row is about exactly one of the two.
                let subject = if row.try_get::<Option<i64>, _>("invoice_id")?.is_some() {
                    let number: String = row.try_get("number")?;
                    NoticeSubject::Invoice {
                        number: InvoiceNumber::parse(&number)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        month: row.try_get("month")?,
                        total: Cents(row.try_get("total_cents")?),
                        due: row.try_get("due_on")?,
                    }
                } else {
                    let status: String = row.try_get("status")?;
                    NoticeSubject::Preregistration {
                        first_name: row.try_get("first_name")?,
                        last_name: row.try_get("last_name")?,
                        service: row.try_get("service")?,
                        school_year: row.try_get("school_year")?,
                        accepted: status == "accepted",
                        reason: row.try_get("reason")?,
                        child_created: row
                            .try_get::<Option<i64>, _>("created_child_id")?
                            .is_some(),
                    }
                };
                out.push(PendingNotice {
                    id: row.try_get("id")?,
                    key: row.try_get("key")?,
                    payer_name: row.try_get("name")?,
                    email: row.try_get("email")?,
                    attempts: row.try_get("attempts")?,
                    subject,
                });
            }
            Ok(out)
        })
    }

    /// Claims a due notice until `until` (true when this caller got it): the conditional
    /// update lets one worker only take it.
    pub async fn claim_notice(
        &self,
        id: i64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, p => sqlx::query(
            "UPDATE mail_outbox SET next_attempt_at = $3, attempts = attempts + 1 \
             WHERE id = $1 AND sent_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $2",
        )
        .bind(id)
        .bind(now)
        .bind(until)
        .execute(p)
        .await?
        .rows_affected());
        Ok(n == 1)
    }

    /// Records that the notice went out.
    pub async fn notice_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "UPDATE mail_outbox SET sent_at = $2, last_error = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .execute(p)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Records a failed attempt: retried at `retry_at`, or never again when `None`.
    pub async fn notice_failed(
        &self,
        id: i64,
        error: &str,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => match retry_at {
            Some(at) => sqlx::query(
                "UPDATE mail_outbox SET last_error = $2, next_attempt_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(error)
            .bind(at)
            .execute(p)
            .await
            .map(drop)?,
            None => sqlx::query(
                "UPDATE mail_outbox SET last_error = $2, gave_up_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(error)
            .bind(now)
            .execute(p)
            .await
            .map(drop)?,
        });
        Ok(())
    }
}
