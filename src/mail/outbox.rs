//! The outbox worker: sends each pending notice (an invoice online, a pre-registration
//! decision) with [`Mailer`], once.
//!
//! A pass ([`send_due`]) takes the due rows, claims each one (a conditional update, so two
//! workers never both send it), sends it, and records the result: sent; retried after
//! `retry_after` on a retryable error (server busy, connection refused); given up on a
//! permanent one (address refused). The time is passed in; [`run`] is the loop that reads
//! the clock and waits between passes.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{InvoiceNotice, Mailer, Notice, NoticeAbout, PreregAnswer, PreregNotice};
use crate::invoice::generate::InvoiceMonth;
use crate::store::{NoticeSubject, Store, StoreError};

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxReport {
    /// Notices sent.
    pub sent: usize,
    /// Notices that failed for now and will be tried again.
    pub retry: usize,
    /// Notices refused for good.
    pub given_up: usize,
}

/// What the messages say besides each invoice or request.
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    /// The town's services as (code, label), to name the service a request was for; a
    /// code missing here is shown as is.
    pub service_labels: Vec<(String, String)>,
    /// The portal's address, given in the message.
    pub portal_url: String,
    /// The town's name, signing the message.
    pub town_name: String,
    /// The wait before trying a failed notice again.
    pub retry_after: chrono::Duration,
    /// At most this many notices per pass.
    pub batch: u32,
}

/// Sends the notices due at `now`, once each.
pub async fn send_due(
    store: &Store,
    mailer: &Mailer,
    settings: &OutboxSettings,
    now: DateTime<Utc>,
) -> Result<OutboxReport, StoreError> {
    let mut report = OutboxReport::default();
    for pending in store.due_notices(now, settings.batch).await? {
        // The claim lasts as long as a retry wait: a worker that dies mid-send lets
        // another try again after it.
        if !store
            .claim_notice(pending.id, now, now + settings.retry_after)
            .await?
        {
            continue;
        }
        let notice = Notice {
            key: pending.key.clone(),
            to_name: pending.payer_name.clone(),
            to_address: pending.email.clone(),
            portal_url: settings.portal_url.clone(),
            town_name: settings.town_name.clone(),
            about: about(&pending.subject, settings),
        };
        match mailer.send(&notice).await {
            Ok(()) => {
                store.notice_sent(pending.id, now).await?;
                report.sent += 1;
            }
            Err(e) if e.is_retryable() => {
                tracing::warn!(key = %pending.key, error = %e, "notice not sent: retry later");
                store
                    .notice_failed(
                        pending.id,
                        &e.to_string(),
                        now,
                        Some(now + settings.retry_after),
                    )
                    .await?;
                report.retry += 1;
            }
            Err(e) => {
                tracing::error!(key = %pending.key, error = %e, "notice refused: given up");
                store
                    .notice_failed(pending.id, &e.to_string(), now, None)
                    .await?;
                report.given_up += 1;
            }
        }
    }
    Ok(report)
}

/// What the message of an outbox row says, in the mail layer's words.
fn about(subject: &NoticeSubject, settings: &OutboxSettings) -> NoticeAbout {
    match subject {
        NoticeSubject::Invoice {
            number,
            month,
            total,
            due,
        } => NoticeAbout::Invoice(InvoiceNotice {
            number: *number,
            period: InvoiceMonth::parse(month)
                .map(InvoiceMonth::label_fr)
                .unwrap_or_else(|_| month.clone()),
            amount: *total,
            due: *due,
        }),
        NoticeSubject::Preregistration {
            first_name,
            last_name,
            service,
            school_year,
            accepted,
            reason,
            child_created,
        } => NoticeAbout::Preregistration(PreregNotice {
            first_name: first_name.clone(),
            last_name: last_name.clone(),
            service_label: service.as_ref().map(|code| {
                settings
                    .service_labels
                    .iter()
                    .find(|(c, _)| c == code)
                    .map_or_else(|| code.clone(), |(_, label)| label.clone())
            }),
            school_year: school_year.clone(),
            answer: match (accepted, child_created, service.is_some()) {
                (false, _, _) => PreregAnswer::Refused {
                    reason: reason.clone(),
                },
                (true, true, _) => PreregAnswer::ChildCreated,
                (true, false, true) => PreregAnswer::Enrolled,
                (true, false, false) => PreregAnswer::Accepted,
            },
        }),
    }
}

/// Runs [`send_due`] every `every` until the task is dropped; a database error is logged
/// and the next pass tries again.
pub async fn run(store: Store, mailer: Mailer, settings: OutboxSettings, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        // The edge: the worker's loop reads the wall clock once per pass.
        #[allow(clippy::disallowed_methods)]
        let now = Utc::now();
        match send_due(&store, &mailer, &settings, now).await {
            Ok(r) if r != OutboxReport::default() => tracing::info!(?r, "mail outbox pass"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = ?e, "mail outbox pass failed"),
        }
    }
}
