//! The "Factures" tab (seed, part 3): "Mes factures à payer" with check boxes, PDF links
//! and "Procéder au paiement"; "Mes factures déjà payées"; and the e-mail opt-in ("Me
//! prévenir par mail de la mise en ligne de ma facture").
//!
//! Every invoice is looked up with the session's payer, so a parent only ever sees,
//! downloads or pays their own.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::parent_page;
use crate::invoice::generate::InvoiceMonth;
use crate::invoice::pdf::{InvoiceDocument, render};
use crate::store::InvoiceId;
use crate::web::error::WebError;
use crate::web::extract::ParentSession;
use crate::web::layout::{ParentTab, csrf_field, flash};
use crate::web::session::Flash;
use crate::web::state::AppState;

/// GET /factures
pub async fn get(State(state): State<AppState>, s: ParentSession) -> Result<Response, WebError> {
    let store = state.store();
    let payer = store
        .payer(s.payer)
        .await?
        .ok_or_else(|| WebError::NotFound("compte introuvable".to_owned()))?;
    let invoices = store.invoices_of(s.payer).await?;
    let (paid, to_pay): (Vec<_>, Vec<_>) = invoices.iter().partition(|i| i.paid_at.is_some());
    let tz = state.tz();
    let message = state.sessions().take_flash(&s.id).await?;
    let period = |month: &str| {
        InvoiceMonth::parse(month)
            .map(InvoiceMonth::label_fr)
            .unwrap_or_else(|_| month.to_owned())
    };
    let regie = state.invoicing().invoice.regie_label();
    // The seed's columns: PDF, number, due date, régie and label, amount. On a phone each
    // invoice becomes a card, every value under its column's name (`data-label`, see the
    // stylesheet's `table.stack`).
    let pdf_link = |inv: &crate::store::StoredInvoice| {
        html! {
            a.pdf href=(format!("/factures/{}/facture.pdf", inv.id.0)) {
                "PDF" span.sr-only { " de la facture " (inv.number) }
            }
        }
    };
    let libelle = |inv: &crate::store::StoredInvoice| {
        // One box, so the phone's card keeps the period under the label.
        html! { div { (regie) br; span.muted { (period(&inv.month)) } } }
    };
    let body = html! {
        h1 { "Règlement de mes factures" }
        (flash(&message))
        section.card aria-labelledby="a-payer" {
            h2 id="a-payer" { "Mes factures à payer" }
            @if to_pay.is_empty() {
                p { "Aucune facture à payer." }
            } @else {
                p { "Cochez les factures que vous désirez régler, puis cliquez sur « Procéder au paiement »." }
                form method="post" action="/factures/paiement" {
                    (csrf_field(&s.data.csrf))
                    table.list.stack.invoices aria-labelledby="a-payer" {
                        thead { tr {
                            th scope="col" { "Payer" } th scope="col" { "PDF" }
                            th scope="col" { "Numéro de facture" } th scope="col" { "Date d'échéance" }
                            th scope="col" { "Régie, libellé" } th.amount scope="col" { "Montant" }
                        } }
                        tbody {
                            @for inv in &to_pay {
                                tr {
                                    td.pick data-label="Payer" {
                                        input type="checkbox" name="invoice" value=(inv.id.0)
                                            id=(format!("facture-{}", inv.id.0))
                                            aria-label=(format!("Payer la facture {}", inv.number));
                                    }
                                    td data-label="PDF" { (pdf_link(inv)) }
                                    td.number data-label="Numéro" { (inv.number) }
                                    td.nowrap data-label="Échéance" { (inv.due.format("%d/%m/%Y")) }
                                    td data-label="Régie, libellé" { (libelle(inv)) }
                                    td.amount data-label="Montant" { (inv.total) }
                                }
                            }
                        }
                    }
                    button type="submit" { "Procéder au paiement" }
                }
            }
        }
        section.card aria-labelledby="payees" {
            h2 id="payees" { "Mes factures déjà payées" }
            @if paid.is_empty() {
                p { "Aucune facture payée en ligne pour l'instant." }
            } @else {
                table.list.stack.invoices aria-labelledby="payees" {
                    thead { tr {
                        th scope="col" { "PDF" } th scope="col" { "Numéro de facture" }
                        th scope="col" { "Régie, libellé" } th.amount scope="col" { "Montant" }
                        th scope="col" { "Payée le" }
                    } }
                    tbody {
                        @for inv in &paid {
                            tr {
                                td data-label="PDF" { (pdf_link(inv)) }
                                td.number data-label="Numéro" { (inv.number) }
                                td data-label="Régie, libellé" { (libelle(inv)) }
                                td.amount data-label="Montant" { (inv.total) }
                                td.nowrap data-label="Payée le" {
                                    @if let Some(at) = inv.paid_at { (at.with_timezone(&tz).format("%d/%m/%Y")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="avis" {
            h2 id="avis" { "Avis par e-mail" }
            form method="post" action="/factures/avis" {
                (csrf_field(&s.data.csrf))
                label.check for="opt_in" {
                    input type="checkbox" name="opt_in" value="1" id="opt_in"
                        aria-describedby="opt_in_aide" checked[payer.invoice_email_opt_in];
                    span { "Me prévenir par mail de la mise en ligne de ma facture" }
                }
                p.muted id="opt_in_aide" {
                    "Ces e-mails vous avertissent (de la part de la mairie) dès qu'une nouvelle facture est disponible sur ce portail."
                    @if payer.email.is_empty() {
                        " Aucune adresse e-mail n'est enregistrée pour votre compte : adressez-vous à la mairie."
                    } @else {
                        " Adresse : " (payer.email)
                    }
                }
                button type="submit" { "Enregistrer" }
            }
        }
    };
    Ok(parent_page(&state, &s, Some(ParentTab::Invoices), "Factures", body).into_response())
}

/// The opt-in form.
#[derive(Deserialize)]
pub struct OptInForm {
    csrf: String,
    #[serde(default)]
    opt_in: Option<String>,
}

/// POST /factures/avis: records the e-mail opt-in.
pub async fn opt_in(
    State(state): State<AppState>,
    s: ParentSession,
    Form(form): Form<OptInForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let wanted = match form.opt_in.as_deref() {
        None => false,
        Some("1") => true,
        Some(_) => {
            return Err(WebError::BadRequest(
                "choix d'avis par e-mail invalide".into(),
            ));
        }
    };
    state
        .store()
        .set_invoice_email_opt_in(s.payer, wanted)
        .await?;
    let text = if wanted {
        "Enregistré : vous serez prévenu par e-mail de la mise en ligne de vos factures."
    } else {
        "Enregistré : vous ne serez plus prévenu par e-mail."
    };
    state
        .sessions()
        .set_flash(&s.id, Flash::Notice(text.to_owned()))
        .await?;
    Ok(Redirect::to("/factures").into_response())
}

/// GET /factures/{id}/facture.pdf: the PDF of one of the session payer's invoices.
pub async fn pdf(
    State(state): State<AppState>,
    s: ParentSession,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let unknown = || WebError::NotFound("cette facture n'est pas rattachée à votre compte".into());
    let id: i64 = id.parse().map_err(|_| unknown())?;
    let store = state.store();
    let inv = store
        .invoice_of_payer(s.payer, InvoiceId(id))
        .await?
        .ok_or_else(unknown)?;
    let payer = store.payer(s.payer).await?.ok_or_else(unknown)?;
    let lines = store.invoice_lines(inv.id).await?;
    let config = &state.invoicing().invoice;
    let period = InvoiceMonth::parse(&inv.month)
        .map(InvoiceMonth::label_fr)
        .map_err(|e| WebError::Internal(format!("invoice {}: {e}", inv.number)))?;
    let regie_label = config.regie_label();
    let doc = InvoiceDocument {
        town: &config.town,
        number: inv.number,
        issued: inv.issued,
        due: inv.due,
        regie_label: &regie_label,
        period: &period,
        payer_name: &payer.name,
        payer_address: &[],
        lines: &lines,
        total: inv.total,
    };
    let bytes = render(&doc).map_err(|e| WebError::Internal(format!("pdf {}: {e}", inv.number)))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"facture-{}.pdf\"", inv.number),
            ),
        ],
        bytes,
    )
        .into_response())
}
