//! Paying invoices (seed, part 3): the selection ("Procéder au paiement"), the choice of
//! payment method, the signed SystemPay form the browser posts to the bank's page, and the
//! return page. The return is for display only: the invoice is marked paid by the
//! server-to-server notification ([`crate::web::payment_ipn`]); starting a payment is
//! [`crate::service::payments`].

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use maud::html;
use serde::Deserialize;

use super::parent_page;
use crate::booking::model::Cents;
use crate::service::payments::{self, StartRefused};
use crate::store::{InvoiceId, StoredInvoice};
use crate::web::error::WebError;
use crate::web::extract::ParentSession;
use crate::web::layout::csrf_field;
use crate::web::session::Flash;
use crate::web::state::AppState;

/// The ticked invoices.
#[derive(Deserialize)]
pub struct SelectionForm {
    csrf: String,
    #[serde(default)]
    invoice: Vec<String>,
}

fn parse_ids(raw: &[String]) -> Result<Vec<InvoiceId>, WebError> {
    let mut ids = Vec::with_capacity(raw.len());
    for r in raw {
        let id: i64 = r
            .trim()
            .parse()
            .map_err(|_| WebError::BadRequest("facture choisie invalide".into()))?;
        if !ids.contains(&InvoiceId(id)) {
            ids.push(InvoiceId(id));
        }
    }
    Ok(ids)
}

/// The session payer's unpaid invoices among the ticked ones; every one must be.
async fn selected(
    state: &AppState,
    s: &ParentSession,
    form: &SelectionForm,
) -> Result<Option<(Vec<StoredInvoice>, Cents)>, WebError> {
    let ids = parse_ids(&form.invoice)?;
    if ids.is_empty() {
        state
            .sessions()
            .set_flash(
                &s.id,
                Flash::Error("Cochez au moins une facture à payer.".into()),
            )
            .await?;
        return Ok(None);
    }
    let mut tx = state.store().begin().await?;
    let invoices = tx.unpaid_invoices(s.payer, &ids).await?;
    tx.rollback().await?;
    if invoices.len() != ids.len() {
        state.sessions().set_flash(
            &s.id,
            Flash::Error(
                "Une des factures choisies est déjà payée ou n'est pas rattachée à votre compte."
                    .into(),
            ),
        ).await?;
        return Ok(None);
    }
    let total = invoices.iter().map(|i| i.total.0).sum();
    Ok(Some((invoices, Cents(total))))
}

/// POST /factures/paiement: step 2, the choice of payment method for the ticked invoices.
pub async fn choose(
    State(state): State<AppState>,
    s: ParentSession,
    Form(form): Form<SelectionForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let Some((invoices, total)) = selected(&state, &s, &form).await? else {
        return Ok(Redirect::to("/factures").into_response());
    };
    let card = state.invoicing().systempay.is_some() && !base_url(&state).is_empty();
    let body = html! {
        h1 { "Paiement – choix du moyen de paiement" }
        p { "Étape 2 sur 4 : vous allez payer les factures suivantes." }
        ul {
            @for inv in &invoices { li { "Facture n° " (inv.number) " : " (inv.total) } }
        }
        p { strong { "Total : " (total) } }
        @if state.invoicing().payfip.is_some() && !base_url(&state).is_empty() && invoices.len() == 1 {
            form method="post" action="/factures/paiement/payfip" {
                (csrf_field(&s.data.csrf))
                @for inv in &invoices { input type="hidden" name="invoice" value=(inv.id.0); }
                button type="submit" { "Payer par PayFiP (Trésor public)" }
            }
        }
        @if card {
            form method="post" action="/factures/paiement/carte" {
                (csrf_field(&s.data.csrf))
                @for inv in &invoices { input type="hidden" name="invoice" value=(inv.id.0); }
                button type="submit" { "Payer par carte bancaire" }
            }
        } @else {
            p.alert role="alert" { "Le paiement en ligne n'est pas disponible pour le moment." }
        }
        p { a href="/factures" { "← Retour à mes factures" } }
    };
    Ok(parent_page(&state, &s, None, "Paiement", body).into_response())
}

fn base_url(state: &AppState) -> &str {
    state.config().public_base_url.trim_end_matches('/')
}

/// POST /factures/paiement/carte: step 3. Allocates the SystemPay transaction id and
/// stores the request in one transaction, then shows the signed form, which the browser
/// posts to the bank's page (no JavaScript: the payer presses the button).
pub async fn systempay_form(
    State(state): State<AppState>,
    s: ParentSession,
    Form(form): Form<SelectionForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let unavailable = || WebError::BadRequest("le paiement en ligne n'est pas disponible".into());
    let shop = state
        .invoicing()
        .systempay
        .as_ref()
        .ok_or_else(unavailable)?;
    let base = base_url(&state);
    if base.is_empty() {
        return Err(unavailable());
    }
    let ids = parse_ids(&form.invoice)?;
    let payment =
        match payments::start_card(state.store(), shop, s.payer, &ids, base, state.now()).await {
            Ok(p) => p,
            Err(refused) => return refused_to_parent(&state, &s, refused).await,
        };
    let (invoices, total, signed) = (payment.invoices, payment.total, payment.form);
    let body = html! {
        h1 { "Paiement par carte bancaire" }
        p { "Étape 3 sur 4 : le paiement se fait sur la page sécurisée de la banque." }
        ul {
            @for inv in &invoices { li { "Facture n° " (inv.number) " : " (inv.total) } }
        }
        p { strong { "Total : " (total) } }
        form method="post" action=(signed.action) {
            @for (name, value) in &signed.fields {
                input type="hidden" name=(name) value=(value);
            }
            button type="submit" { "Continuer vers le paiement sécurisé" }
        }
        p { a href="/factures" { "Annuler" } }
    };
    let mut res = parent_page(&state, &s, None, "Paiement", body).into_response();
    // This one form goes to the bank's page: allow it, and only it, in the CSP.
    let origin = url::Url::parse(&signed.action)
        .map(|u| u.origin().ascii_serialization())
        .map_err(|e| WebError::Internal(format!("systempay url: {e}")))?;
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' {origin}; frame-ancestors 'none'; base-uri 'none'"
    );
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp).map_err(|e| WebError::Internal(format!("csp: {e}")))?,
    );
    Ok(res)
}

/// GET /factures/paiement/retour: step 4, what the bank's page says, for display only
/// (verified; an unverifiable return shows nothing as certain).
pub async fn back(
    State(state): State<AppState>,
    s: ParentSession,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let shown = state
        .invoicing()
        .systempay
        .as_ref()
        .and_then(|shop| match shop.verify(&fields) {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(error = %e, "SystemPay return not verified");
                None
            }
        });
    let body = html! {
        h1 { "Paiement – confirmation" }
        p { "Étape 4 sur 4." }
        @match &shown {
            Some(n) => {
                p role="status" { (n.outcome.label_fr()) " Montant : " (n.amount) "." }
                @if n.outcome.is_paid() {
                    p { "La facture apparaîtra comme payée dès que la banque nous aura confirmé le paiement." }
                }
            }
            None => p.alert role="alert" { "Le résultat du paiement n'a pas pu être vérifié. Consultez vos factures dans quelques instants." },
        }
        p { a href="/factures" { "Voir mes factures" } }
    };
    Ok(parent_page(&state, &s, None, "Paiement", body).into_response())
}

/// Sends the parent back to the invoices with the sentence of a refusal they can act on
/// (already paid, being paid, PayFiP unreachable...); our own failures stay errors.
async fn refused_to_parent(
    state: &AppState,
    s: &ParentSession,
    refused: StartRefused,
) -> Result<Response, WebError> {
    match refused {
        StartRefused::Store(e) => Err(e.into()),
        StartRefused::Internal(why) => Err(WebError::Internal(why)),
        StartRefused::OneInvoiceOnly => Err(WebError::BadRequest(refused.to_string())),
        StartRefused::NotPayable | StartRefused::InProgress | StartRefused::Provider(_) => {
            state
                .sessions()
                .set_flash(&s.id, Flash::Error(refused.to_string()))
                .await?;
            Ok(Redirect::to("/factures").into_response())
        }
    }
}

/// POST /factures/paiement/payfip: PayFiP for one invoice, through the web service. The
/// request is stored and holds the invoice, `creerPaiementSecurise` gives its `idOp`, and
/// the browser is sent to PayFiP's page for it. The invoice is marked paid only once the
/// server has asked PayFiP itself ([`crate::web::payment_ipn::payfip_notification`]).
pub async fn payfip_redirect(
    State(state): State<AppState>,
    s: ParentSession,
    Form(form): Form<SelectionForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&form.csrf)?;
    let unavailable = || WebError::BadRequest("le paiement PayFiP n'est pas disponible".into());
    let config = state.invoicing().payfip.as_ref().ok_or_else(unavailable)?;
    let base = base_url(&state);
    if base.is_empty() {
        return Err(unavailable());
    }
    let ids = parse_ids(&form.invoice)?;
    match payments::start_payfip(state.store(), config, s.payer, &ids, base, state.now()).await {
        Ok(page) => Ok(Redirect::to(page.as_str()).into_response()),
        Err(refused) => refused_to_parent(&state, &s, refused).await,
    }
}
