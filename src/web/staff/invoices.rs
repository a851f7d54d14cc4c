//! "Factures" for staff: the button that makes a month's invoices (the same transaction as
//! `ivr invoices generate`: one invoice per payer, numbered without gaps, nothing new when
//! run again) and the month's invoices with their state.

use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Months};
use maud::html;
use serde::Deserialize;

use super::staff_page;
use crate::invoice::generate::InvoiceMonth;
use crate::payment::settle::Provider;
use crate::service::invoices::{IssueError, generate_month};
use crate::store::PaymentId;
use crate::web::error::WebError;
use crate::web::extract::StaffSession;
use crate::web::layout::{StaffTab, csrf_field};
use crate::web::session::Flash;
use crate::web::state::AppState;

/// `?mois=YYYY-MM` (default: last month, the one invoiced at the start of this one).
#[derive(Deserialize)]
pub struct MonthQuery {
    #[serde(default)]
    mois: String,
}

fn month_or_last(state: &AppState, text: &str) -> Result<InvoiceMonth, WebError> {
    if text.trim().is_empty() {
        let last = state.today() - Months::new(1);
        InvoiceMonth::new(last.year(), last.month())
            .map_err(|e| WebError::Internal(format!("month: {e}")))
    } else {
        InvoiceMonth::parse(text.trim()).map_err(|e| WebError::BadRequest(e.to_string()))
    }
}

/// GET /mairie/factures
pub async fn get(
    State(state): State<AppState>,
    s: StaffSession,
    Query(q): Query<MonthQuery>,
) -> Result<Response, WebError> {
    let month = month_or_last(&state, &q.mois)?;
    let invoices = state.store().invoices_of_month(month).await?;
    let duplicates = {
        let mut tx = state.store().begin().await?;
        let d = tx.duplicate_payments().await?;
        tx.rollback().await?;
        d
    };
    let tz = state.tz();
    let body = html! {
        h1 { "Factures" }
        form.card method="post" action="/mairie/factures" {
            (csrf_field(&s.data.csrf))
            label for="mois" { "Mois facturé (AAAA-MM)" }
            input id="mois" name="mois" value=(month.to_string()) pattern="[0-9]{4}-[0-9]{2}" required;
            button type="submit" { "Générer les factures du mois" }
        }
        h2 { "Factures de " (month.label_fr()) }
        @if invoices.is_empty() { p { "Aucune facture pour ce mois." } }
        @else {
            table.list.stack {
                thead { tr { th scope="col" { "Facture" } th scope="col" { "Montant" } th scope="col" { "Échéance" } th scope="col" { "État" } } }
                tbody {
                    @for inv in &invoices {
                        tr {
                            td.number data-label="Facture" { (inv.number) }
                            td data-label="Montant" { (inv.total) }
                            td data-label="Échéance" { (inv.due.format("%d/%m/%Y")) }
                            td data-label="État" { @match inv.paid_at {
                                Some(at) => { "payée le " (at.with_timezone(&tz).format("%d/%m/%Y")) }
                                None => { "à payer" }
                            } }
                        }
                    }
                }
            }
        }
        @if !duplicates.is_empty() {
            h2 id="doubles" { "Paiements en double à rembourser" }
            p { "Le prestataire a confirmé ces paiements pour des factures déjà payées : \
                 remboursez-les depuis son espace, puis notez-le ici." }
            table.list.stack {
                thead { tr {
                    th scope="col" { "Reçu le" } th scope="col" { "Prestataire" } th scope="col" { "Transaction" }
                    th scope="col" { "Demande" } th scope="col" { "Montant" } th scope="col" { "État" }
                } }
                tbody {
                    @for d in &duplicates {
                        tr {
                            td data-label="Reçu le" { (d.detected_at.with_timezone(&tz).format("%d/%m/%Y %H:%M")) }
                            td data-label="Prestataire" { (match d.provider {
                                Provider::SystemPay => "SystemPay (carte)",
                                Provider::PayFipClassic | Provider::PayFipWs => "PayFiP",
                            }) }
                            td data-label="Transaction" { (d.transaction) }
                            td data-label="Demande" { (d.order_id) }
                            td data-label="Montant" { (d.amount) }
                            td data-label="État" { @match d.refunded_at {
                                Some(at) => { "remboursé le " (at.with_timezone(&tz).format("%d/%m/%Y")) }
                                None => {
                                    form method="post" action="/mairie/factures/doubles" {
                                        (csrf_field(&s.data.csrf))
                                        input type="hidden" name="paiement" value=(d.payment.0);
                                        button type="submit" { "Noter le remboursement" }
                                    }
                                }
                            } }
                        }
                    }
                }
            }
        }
    };
    Ok(staff_page(&state, &s, StaffTab::Invoices, "Factures", body)
        .await?
        .into_response())
}

/// The "refunded" form of a duplicate payment.
#[derive(Deserialize)]
pub struct RefundedForm {
    csrf: String,
    paiement: i64,
}

/// POST /mairie/factures/doubles: staff record that a duplicate payment was refunded.
pub async fn refunded(
    State(state): State<AppState>,
    s: StaffSession,
    Form(form): Form<RefundedForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let mut tx = state.store().begin().await?;
    let done = tx
        .mark_duplicate_refunded(PaymentId(form.paiement), state.now())
        .await?;
    tx.commit().await?;
    let flash = if done {
        Flash::Notice("Remboursement noté.".into())
    } else {
        Flash::Error("Ce paiement en double est inconnu ou déjà remboursé.".into())
    };
    state.sessions().set_flash(&s.id, flash).await?;
    Ok(Redirect::to("/mairie/factures#doubles").into_response())
}

/// The generation form.
#[derive(Deserialize)]
pub struct GenerateForm {
    csrf: String,
    mois: String,
}

/// POST /mairie/factures: makes the month's missing invoices.
pub async fn generate(
    State(state): State<AppState>,
    s: StaffSession,
    Form(form): Form<GenerateForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let month =
        InvoiceMonth::parse(form.mois.trim()).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let res = generate_month(
        state.store(),
        &state.invoicing().invoice,
        month,
        state.today(),
        state.now(),
    )
    .await;
    let flash = match res {
        Ok(r) => {
            tracing::info!(user = %s.user, %month, created = r.created.len(), "invoices generated");
            Flash::Notice(format!(
                "Factures de {} : {} créée(s), {} déjà existante(s), {} avis par e-mail à envoyer.",
                month.label_fr(),
                r.created.len(),
                r.already_invoiced,
                r.notices_queued
            ))
        }
        // The configuration or bookings do not make invoices: say why, nothing was stored.
        Err(IssueError::Invoice(e)) => Flash::Error(format!("Aucune facture créée : {e}.")),
        Err(IssueError::Store(e)) => return Err(e.into()),
    };
    state.sessions().set_flash(&s.id, flash).await?;
    Ok(Redirect::to(&format!("/mairie/factures?mois={month}")).into_response())
}
