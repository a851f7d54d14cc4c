//! SystemPay's instant payment notification (IPN): server to server, so no session and no
//! CSRF; the HMAC-SHA-256 signature is what is trusted. A verified notification is applied
//! with [`settle`](crate::payment::settle::settle) in one transaction (an invoice is paid
//! once whatever the provider repeats); anything forged or inconsistent is refused and
//! logged, and changes nothing.
//!
//! PayFiP signs nothing the browser carries, so its result is applied only as PayFiP's web
//! service tells it to the server (`recupererDetailPaiementSecurise`, for an `idOp` we
//! created); its notification and the browser's return only make the server ask.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;

use crate::payment::payfip::soap::{CreerPaiement, IdOp};
use crate::payment::payfip::ws::{PayFipWsClient, notified_id_op_from};
use crate::payment::payfip::{Exer, NumCli, Objet, PayFipConfig};
use crate::payment::settle::{Provider, Settlement, check_amount};
use crate::payment::{Outcome, PaymentError};
use crate::store::StoredPaymentRequest;
use crate::web::state::AppState;

/// POST /paiement/systempay/ipn
pub async fn systempay(State(state): State<AppState>, body: Bytes) -> (StatusCode, &'static str) {
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let Some(shop) = state.invoicing().systempay.as_ref() else {
        tracing::warn!("SystemPay notification received but SystemPay is not configured");
        return (StatusCode::NOT_FOUND, "boutique non configurée");
    };
    let n = match shop.verify(&fields) {
        Ok(n) if n.is_server_notification() => n,
        Ok(_) => {
            tracing::warn!("SystemPay message without vads_hash posted to the IPN: refused");
            return (StatusCode::BAD_REQUEST, "pas une notification");
        }
        Err(e) => {
            tracing::warn!(error = %e, "SystemPay notification refused");
            return (StatusCode::BAD_REQUEST, "notification refusée");
        }
    };
    match apply(&state, &n).await {
        Ok(Ok(settlement)) => {
            log_for_staff(settlement, &n.order_id);
            tracing::info!(order = %n.order_id, status = %n.status, ?settlement, "SystemPay notification applied");
            (StatusCode::OK, "OK")
        }
        Ok(Err(why)) => {
            tracing::warn!(order = %n.order_id, why, "SystemPay notification refused");
            (StatusCode::BAD_REQUEST, "notification refusée")
        }
        Err(e) => {
            tracing::error!(error = ?e, "SystemPay notification not applied");
            // A 5xx makes SystemPay retry later.
            (StatusCode::INTERNAL_SERVER_ERROR, "erreur temporaire")
        }
    }
}

/// Checks the notification against the stored request and settles it, in one transaction.
/// The inner error names why a verified notification does not match what we asked.
async fn apply(
    state: &AppState,
    n: &crate::payment::systempay::Notification,
) -> Result<Result<Settlement, &'static str>, crate::store::StoreError> {
    let mut tx = state.store().begin().await?;
    let Some(req) = tx.payment_request_by_order(&n.order_id).await? else {
        tx.rollback().await?;
        return Ok(Err("unknown order"));
    };
    let expected_trans = (n.trans_id.to_string(), n.trans_day);
    if req.provider != Provider::SystemPay || req.trans.as_ref() != Some(&expected_trans) {
        tx.rollback().await?;
        return Ok(Err("transaction does not match the request"));
    }
    if check_amount(req.amount, n.amount).is_err() {
        tx.rollback().await?;
        return Ok(Err("amount does not match the request"));
    }
    let settlement = tx
        .apply_payment_result(
            Provider::SystemPay,
            &n.transaction_key(),
            req.id,
            n.outcome,
            &n.status,
            state.now(),
        )
        .await?;
    if settlement.writes() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(Ok(settlement))
}

/// Says in the log what staff must look at: a failure reported for a paid transaction, or
/// money taken twice for the same invoices (listed on the staff invoices page to refund).
fn log_for_staff(settlement: Settlement, order: &str) {
    match settlement {
        Settlement::Conflict => tracing::error!(
            order,
            "provider reports a failure for a paid transaction: left paid, check it"
        ),
        Settlement::Duplicate => tracing::error!(
            order,
            "second payment confirmed for invoices already paid: recorded for refund"
        ),
        _ => {}
    }
}

/// The `creerPaiementSecurise` arguments for one invoice.
pub fn payfip_request(
    config: &PayFipConfig,
    inv: &crate::store::StoredInvoice,
    mel: &str,
    urlnotif: &str,
    urlredirect: &str,
) -> Result<CreerPaiement, PaymentError> {
    Ok(CreerPaiement {
        exer: Exer::new(i32::from(inv.number.year()))?,
        mel: mel.to_owned(),
        montant: inv.total,
        numcli: NumCli::parse(&config.numcli)?,
        objet: Objet::sanitize(&format!("Facture {} {}", inv.number, inv.label))?,
        refdet: inv.number.refdet(),
        saisie: config.saisie,
        urlnotif: urlnotif.to_owned(),
        urlredirect: urlredirect.to_owned(),
    })
}

/// What asking PayFiP about one of our requests gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirmed {
    /// PayFiP's answer was applied (or repeated what is recorded).
    Settled(Settlement, Outcome),
    /// PayFiP does not know the result yet (`P5`).
    Pending,
}

/// Asks PayFiP, server to server, for the result of `req` (by the `idOp` we stored when we
/// created it, never one a browser brings), checks it is about the debt we asked, and
/// applies it in one transaction. The inner error names why the answer was not applied.
async fn confirm_payfip(
    state: &AppState,
    config: &PayFipConfig,
    req: &StoredPaymentRequest,
) -> Result<Result<Confirmed, &'static str>, ConfirmError> {
    let (Some(id_op), Some(refdet)) = (req.id_op.as_deref(), req.refdet.as_deref()) else {
        return Ok(Err("request without idOp"));
    };
    let id_op = IdOp::parse(id_op).map_err(ConfirmError::Provider)?;
    let client = PayFipWsClient::from_config(config).map_err(ConfirmError::Provider)?;
    let detail = match client.payment_detail(&id_op).await {
        Ok(d) => d,
        Err(PaymentError::Pending) => return Ok(Ok(Confirmed::Pending)),
        Err(e) => return Err(ConfirmError::Provider(e)),
    };
    // The exercice is the invoice number's year, the first four digits of refdet.
    let same_debt = detail.numcli == config.numcli
        && detail.refdet == refdet
        && detail.montant == req.amount
        && refdet.get(..4).and_then(|y| Exer::parse(y).ok()) == Exer::parse(&detail.exer).ok();
    if !same_debt {
        return Ok(Err("detail does not match the stored request"));
    }
    let outcome = detail.outcome();
    let mut tx = state.store().begin().await?;
    let settlement = tx
        .apply_payment_result(
            Provider::PayFipWs,
            id_op.as_str(),
            req.id,
            outcome,
            &detail.resultrans,
            state.now(),
        )
        .await?;
    if settlement.writes() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    log_for_staff(settlement, &req.order_id);
    Ok(Ok(Confirmed::Settled(settlement, outcome)))
}

/// Why a confirmation could not be made now (try again later).
#[derive(Debug, thiserror::Error)]
enum ConfirmError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Provider(PaymentError),
}

/// POST /paiement/payfip/notif: PayFiP's `urlnotif`, server to server, naming the `idOp`
/// that ended (in the query or the body). It is only a hint: the result applied is the one
/// the server then asks PayFiP for, and only for an `idOp` we created. 503 while the result
/// is not known (or PayFiP cannot be reached), so the notification is sent again.
pub async fn payfip_notification(
    State(state): State<AppState>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let Some(config) = state.invoicing().payfip.as_ref() else {
        tracing::warn!("PayFiP notification received but PayFiP is not configured");
        return (StatusCode::NOT_FOUND, "service non configuré");
    };
    let id_op = match notified_id_op_from(query.as_deref(), &body) {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!(error = %e, "PayFiP notification unreadable: refused");
            return (StatusCode::BAD_REQUEST, "notification illisible");
        }
    };
    let req = match state.store().begin().await {
        Ok(mut tx) => {
            let r = tx.payment_request_by_id_op(id_op.as_str()).await;
            let _ = tx.rollback().await;
            r
        }
        Err(e) => Err(e),
    };
    let req = match req {
        Ok(Some(r)) => r,
        Ok(None) => {
            tracing::warn!("PayFiP notification for an idOp we did not create: refused");
            return (StatusCode::BAD_REQUEST, "opération inconnue");
        }
        Err(e) => {
            tracing::error!(error = ?e, "PayFiP notification not applied");
            return (StatusCode::SERVICE_UNAVAILABLE, "erreur temporaire");
        }
    };
    match confirm_payfip(&state, config, &req).await {
        Ok(Ok(Confirmed::Settled(settlement, _))) => {
            tracing::info!(order = %req.order_id, ?settlement, "PayFiP result applied");
            (StatusCode::OK, "OK")
        }
        Ok(Ok(Confirmed::Pending)) => {
            (StatusCode::SERVICE_UNAVAILABLE, "résultat pas encore connu")
        }
        Ok(Err(why)) => {
            tracing::warn!(order = %req.order_id, why, "PayFiP result refused");
            (StatusCode::BAD_REQUEST, "notification refusée")
        }
        Err(e) => {
            tracing::warn!(order = %req.order_id, error = %e, "PayFiP result not known yet");
            (StatusCode::SERVICE_UNAVAILABLE, "erreur temporaire")
        }
    }
}

/// `?demande=ORDER` on PayFiP's `urlredirect`.
#[derive(serde::Deserialize)]
pub struct PayFipReturnQuery {
    #[serde(default)]
    demande: String,
}

/// The sentence of the return page while the server has no answer from PayFiP itself.
pub const BEING_CHECKED: &str = "Paiement en cours de vérification : la facture apparaîtra \
     comme payée dès que le Trésor public nous l'aura confirmé.";

/// GET or POST /paiement/payfip/retour?demande=ORDER: where PayFiP sends the browser back.
/// Display only: nothing the browser brings is read but our own order reference. The page
/// says what PayFiP answered the server (asked now, server to server, for the `idOp` we
/// stored), or [`BEING_CHECKED`] while it has not answered.
pub async fn payfip_return(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<PayFipReturnQuery>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let page = |status: StatusCode, text: &str| {
        let body = maud::html! {
            h1 { "Paiement PayFiP" }
            p role="status" { (text) }
            p { a href="/factures" { "Voir mes factures" } }
        };
        let shell = crate::web::layout::Shell {
            title: "Paiement",
            town: state.town_name(),
            area: crate::web::layout::Area::Public,
            csrf: None,
        };
        (status, crate::web::layout::page(&shell, body)).into_response()
    };
    let Some(config) = state.invoicing().payfip.as_ref() else {
        return page(
            StatusCode::NOT_FOUND,
            "Le paiement PayFiP n'est pas disponible.",
        );
    };
    let req = match state.store().begin().await {
        Ok(mut tx) => {
            let r = tx.payment_request_by_order(&q.demande).await;
            let _ = tx.rollback().await;
            r
        }
        Err(e) => Err(e),
    };
    let req = match req {
        Ok(Some(r)) if r.provider == Provider::PayFipWs => r,
        Ok(_) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Ce retour de paiement ne correspond à aucune demande.",
            );
        }
        Err(e) => {
            tracing::error!(error = ?e, "PayFiP return: request not read");
            return page(StatusCode::SERVICE_UNAVAILABLE, BEING_CHECKED);
        }
    };
    match confirm_payfip(&state, config, &req).await {
        Ok(Ok(Confirmed::Settled(_, outcome))) => {
            let recorded = match state.store().begin().await {
                Ok(mut tx) => {
                    let o = tx.payment_outcome(req.id).await.ok().flatten();
                    let _ = tx.rollback().await;
                    o
                }
                Err(_) => None,
            };
            page(StatusCode::OK, recorded.unwrap_or(outcome).label_fr())
        }
        Ok(Ok(Confirmed::Pending)) => page(StatusCode::OK, BEING_CHECKED),
        Ok(Err(why)) => {
            tracing::warn!(order = %req.order_id, why, "PayFiP return: result refused");
            page(StatusCode::OK, BEING_CHECKED)
        }
        Err(e) => {
            tracing::warn!(order = %req.order_id, error = %e, "PayFiP return: result not known");
            page(StatusCode::OK, BEING_CHECKED)
        }
    }
}
