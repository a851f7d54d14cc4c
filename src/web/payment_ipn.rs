//! SystemPay's instant payment notification (IPN): server to server, so no session and no
//! CSRF; the HMAC-SHA-256 signature is what is trusted. A verified notification is applied
//! with [`settle`](crate::payment::settle::settle) in one transaction (an invoice is paid
//! once whatever the provider repeats); anything forged or inconsistent is refused and
//! logged, and changes nothing.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;

use crate::payment::settle::{Provider, Settlement, check_amount};
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
            if settlement == Settlement::Conflict {
                tracing::error!(order = %n.order_id, status = %n.status,
                    "SystemPay reports a failure for a paid transaction: left paid, check it");
            }
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
    match settlement {
        Settlement::MarkPaid | Settlement::RecordFailure => tx.commit().await?,
        _ => tx.rollback().await?,
    }
    Ok(Ok(settlement))
}

/// `?demande=ORDER` on PayFiP's `urlcl`.
#[derive(serde::Deserialize)]
pub struct PayFipReturnQuery {
    #[serde(default)]
    demande: String,
}

/// POST /paiement/payfip/retour: PayFiP classic's result, posted server to server and then
/// by the browser. Nothing is signed, so it is applied only where numcli, exer, refdet and
/// amount match the stored request; repeats change nothing. Answers a short page.
pub async fn payfip_return(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<PayFipReturnQuery>,
    body: Bytes,
) -> axum::response::Response {
    use crate::payment::payfip::classic::ClassicReturn;
    use axum::response::IntoResponse;
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
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
    let ret = match ClassicReturn::parse(&fields) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "PayFiP return unreadable: refused");
            return page(StatusCode::BAD_REQUEST, "Résultat de paiement illisible.");
        }
    };
    match apply_payfip(&state, &q.demande, &ret).await {
        Ok(Ok(settlement)) => {
            if settlement == Settlement::Conflict {
                tracing::error!(order = %q.demande, "PayFiP reports a failure for a paid debt: left paid, check it");
            }
            page(StatusCode::OK, ret.outcome.label_fr())
        }
        Ok(Err(why)) => {
            tracing::warn!(order = %q.demande, why, "PayFiP return refused");
            page(
                StatusCode::BAD_REQUEST,
                "Ce résultat de paiement ne correspond à aucune demande.",
            )
        }
        Err(e) => {
            tracing::error!(error = ?e, "PayFiP return not applied");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Le service est momentanément indisponible.",
            )
        }
    }
}

async fn apply_payfip(
    state: &AppState,
    order_id: &str,
    ret: &crate::payment::payfip::classic::ClassicReturn,
) -> Result<Result<Settlement, &'static str>, crate::store::StoreError> {
    use crate::payment::payfip::classic::ClassicRequest;
    use crate::payment::payfip::{Exer, NumCli, Objet, RefDet};
    let Some(config) = state.invoicing().payfip.as_ref() else {
        return Ok(Err("PayFiP not configured"));
    };
    let mut tx = state.store().begin().await?;
    let Some(req) = tx.payment_request_by_order(order_id).await? else {
        tx.rollback().await?;
        return Ok(Err("unknown request"));
    };
    let (Some(refdet), Provider::PayFipClassic) = (req.refdet.as_deref(), req.provider) else {
        tx.rollback().await?;
        return Ok(Err("not a PayFiP classic request"));
    };
    // The stored request, rebuilt for the comparison (the exercice is the number's year,
    // its first four digits of refdet).
    let stored = (|| {
        Some(ClassicRequest {
            numcli: NumCli::parse(&config.numcli).ok()?,
            exer: Exer::parse(refdet.get(..4)?).ok()?,
            refdet: RefDet::parse(refdet).ok()?,
            objet: Objet::sanitize("facture").ok()?,
            montant: req.amount,
            mel: String::new(),
            urlcl: String::new(),
            saisie: config.saisie,
        })
    })();
    let Some(stored) = stored else {
        tx.rollback().await?;
        return Ok(Err("stored request unreadable"));
    };
    if ret.check_against(&stored).is_err() {
        tx.rollback().await?;
        return Ok(Err("return does not match the stored request"));
    }
    let transaction = format!("{refdet}-{order_id}");
    let settlement = tx
        .apply_payment_result(
            Provider::PayFipClassic,
            &transaction,
            req.id,
            ret.outcome,
            &ret.resultrans,
            state.now(),
        )
        .await?;
    match settlement {
        Settlement::MarkPaid | Settlement::RecordFailure => tx.commit().await?,
        _ => tx.rollback().await?,
    }
    Ok(Ok(settlement))
}
