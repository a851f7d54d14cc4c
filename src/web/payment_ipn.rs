//! SystemPay's instant payment notification (IPN): server to server, so no session and no
//! CSRF; the HMAC-SHA-256 signature is what is trusted. A verified notification is applied
//! by [`crate::service::payments`] in one transaction (an invoice is paid once whatever the
//! provider repeats); anything forged or inconsistent is refused and logged, and changes
//! nothing.
//!
//! PayFiP signs nothing the browser carries, so its result is applied only as PayFiP's web
//! service tells it to the server (`recupererDetailPaiementSecurise`, for an `idOp` we
//! created); its notification and the browser's return only make the server ask.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;

use crate::payment::payfip::ws::notified_id_op_from;
use crate::payment::settle::{Provider, Settlement};
use crate::service::payments::{self, Confirmed};
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
    match payments::apply_systempay(state.store(), &n, state.now()).await {
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
    let req = match payments::payfip_request_by_id_op(state.store(), &id_op).await {
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
    match payments::confirm_payfip(state.store(), config, &req, state.now()).await {
        Ok(Ok(Confirmed::Settled(settlement, _))) => {
            log_for_staff(settlement, &req.order_id);
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
    let req = match payments::request_by_order(state.store(), &q.demande).await {
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
    match payments::confirm_payfip(state.store(), config, &req, state.now()).await {
        Ok(Ok(Confirmed::Settled(settlement, outcome))) => {
            log_for_staff(settlement, &req.order_id);
            let recorded = payments::recorded_outcome(state.store(), req.id)
                .await
                .ok()
                .flatten();
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
