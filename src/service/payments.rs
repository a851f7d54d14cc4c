//! Paying invoices online: starting a card (SystemPay) or PayFiP payment, and applying what
//! the provider itself says, each in one store transaction under the paid-once rule.
//!
//! - A payment starts only for the payer's own unpaid invoices, and holds them for
//!   [`HOLD`]: a second request for any of them is refused while the first may still be
//!   paid ([`StartRefused::InProgress`]).
//! - Money is recorded only on the provider's own word: a SystemPay notification whose
//!   signature the web handler verified, or PayFiP's web service asked by the server for an
//!   `idOp` we created. [`settle`] decides from what is recorded, so repeats are harmless,
//!   a late failure never unpays, and a second payment for a paid invoice is kept as a
//!   duplicate for staff to refund.

use chrono::{DateTime, Utc};
use thiserror::Error;
use url::Url;

use crate::booking::model::{Cents, PayerId};
use crate::payment::payfip::soap::{CreerPaiement, IdOp};
use crate::payment::payfip::ws::PayFipWsClient;
use crate::payment::payfip::{Exer, NumCli, Objet, PayFipConfig};
use crate::payment::settle::{HOLD, Provider, Settlement, check_amount, settle};
use crate::payment::systempay::{
    Notification, PaymentForm, PaymentRequest, ReturnUrls, SystemPay, TransId, trans_day,
};
use crate::payment::{PaymentError, PaymentOutcome};
use crate::store::{
    InvoiceId, NewPaymentRequest, PaymentRequestId, Store, StoreError, StoreTx, StoredInvoice,
    StoredPaymentRequest,
};

/// Why a payment was not started; each says what the parent reads.
#[derive(Debug, Error)]
pub enum StartRefused {
    /// No invoice chosen, or one is paid already or is not the payer's.
    #[error("Une des factures choisies est déjà payée ou n'est pas rattachée à votre compte.")]
    NotPayable,
    /// Another request holds one of the invoices.
    #[error(
        "Un paiement de cette facture est déjà en cours. Terminez-le, ou attendez 20 minutes \
         avant de recommencer : vous ne serez pas débité deux fois."
    )]
    InProgress,
    /// PayFiP pays one invoice per request.
    #[error("PayFiP règle une facture à la fois : cochez-en une seule")]
    OneInvoiceOnly,
    /// The provider refused to create the payment, or could not be reached.
    #[error("{}", .0.user_message())]
    Provider(PaymentError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Our own settings or data could not make a request (logged, never shown as is).
    #[error("{0}")]
    Internal(String),
}

/// A card payment ready for the browser: the signed form it posts to the bank's page.
#[derive(Debug)]
pub struct CardPayment {
    /// The invoices it pays.
    pub invoices: Vec<StoredInvoice>,
    /// Their total.
    pub total: Cents,
    /// The signed SystemPay form.
    pub form: PaymentForm,
}

/// Holds the payer's unpaid `ids` in `tx` for a request; every one must be unpaid and theirs.
async fn unpaid(
    tx: &mut StoreTx,
    payer: PayerId,
    ids: &[InvoiceId],
) -> Result<Vec<StoredInvoice>, StartRefused> {
    let invoices = tx.unpaid_invoices(payer, ids).await?;
    if ids.is_empty() || invoices.len() != ids.len() {
        return Err(StartRefused::NotPayable);
    }
    Ok(invoices)
}

/// Stores a request holding its invoices, refusing it while another holds one of them.
async fn hold(
    tx: &mut StoreTx,
    request: &NewPaymentRequest<'_>,
    now: DateTime<Utc>,
) -> Result<PaymentRequestId, StartRefused> {
    match tx.insert_payment_request(request, now).await {
        Ok(id) => Ok(id),
        Err(StoreError::PaymentInProgress) => Err(StartRefused::InProgress),
        Err(e) => Err(e.into()),
    }
}

/// Runs `body` in one transaction, committed only when it succeeds.
macro_rules! in_tx {
    ($store:expr, $tx:ident => $body:expr) => {{
        let mut $tx = $store.begin().await?;
        match $body {
            Ok(v) => {
                $tx.commit().await?;
                Ok(v)
            }
            Err(e) => {
                $tx.rollback().await?;
                Err(e)
            }
        }
    }};
}

/// Starts a card payment of the payer's invoices `ids`: allocates SystemPay's transaction
/// id and stores the request in one transaction, and signs the form the browser posts.
/// `base` is the portal's public address (return and notification URLs).
pub async fn start_card(
    store: &Store,
    shop: &SystemPay,
    payer: PayerId,
    ids: &[InvoiceId],
    base: &str,
    now: DateTime<Utc>,
) -> Result<CardPayment, StartRefused> {
    let email = store
        .payer(payer)
        .await?
        .map(|p| p.email)
        .unwrap_or_default();
    let day = trans_day(now);
    in_tx!(store, tx => async {
        let invoices = unpaid(&mut tx, payer, ids).await?;
        let total = Cents(invoices.iter().map(|i| i.total.0).sum());
        let counter = tx.next_systempay_counter(shop.site_id().as_str(), day).await?;
        let trans_id = TransId::from_daily_counter(counter)
            .map_err(|e| StartRefused::Internal(format!("systempay: {e}")))?;
        // Unique because (UTC day, trans id) is: our reference for this request.
        let order_id = format!("SP{}{}", day.format("%Y%m%d"), trans_id);
        let request = NewPaymentRequest {
            provider: Provider::SystemPay,
            order_id: &order_id,
            payer,
            amount: total,
            trans: Some((trans_id.to_string(), day)),
            refdet: None,
            invoices: ids,
            hold_until: now + HOLD,
        };
        hold(&mut tx, &request, now).await?;
        let return_url = format!("{base}/factures/paiement/retour");
        let form = shop
            .form(&PaymentRequest {
                trans_id,
                trans_date: now,
                amount: total,
                order_id: order_id.clone(),
                customer_email: (!email.is_empty()).then_some(email),
                urls: ReturnUrls {
                    return_url: return_url.clone(),
                    success: Some(return_url.clone()),
                    refused: Some(return_url.clone()),
                    cancel: Some(return_url),
                    notification: Some(format!("{base}/paiement/systempay/ipn")),
                },
            })
            .map_err(|e| StartRefused::Internal(format!("systempay form: {e}")))?;
        Ok::<_, StartRefused>(CardPayment { invoices, total, form })
    }.await)
}

/// Starts a PayFiP payment of one invoice through its web service: the request is stored
/// and holds the invoice, `creerPaiementSecurise` gives its `idOp`, and the answer is the
/// PayFiP page to send the browser to. On the provider's refusal the hold is released.
pub async fn start_payfip(
    store: &Store,
    config: &PayFipConfig,
    payer: PayerId,
    ids: &[InvoiceId],
    base: &str,
    now: DateTime<Utc>,
) -> Result<Url, StartRefused> {
    if ids.len() != 1 {
        return Err(StartRefused::OneInvoiceOnly);
    }
    let email = store
        .payer(payer)
        .await?
        .map(|p| p.email)
        .unwrap_or_default();
    // The invoice is held before PayFiP is called, so a second click cannot start a second
    // payment; the hold is committed first so the call does not keep a transaction open.
    let (stored, request) = in_tx!(store, tx => async {
        let inv = unpaid(&mut tx, payer, ids).await?.remove(0);
        let refdet = inv.number.refdet();
        let order_id = format!("PW{}{:012x}", refdet.as_str(), rand::random::<u64>() >> 16);
        let stored = hold(
            &mut tx,
            &NewPaymentRequest {
                provider: Provider::PayFipWs,
                order_id: &order_id,
                payer,
                amount: inv.total,
                trans: None,
                refdet: Some(refdet.as_str()),
                invoices: ids,
                hold_until: now + HOLD,
            },
            now,
        )
        .await?;
        let request = payfip_request(
            config,
            &inv,
            &email,
            &format!("{base}/paiement/payfip/notif"),
            &format!("{base}/paiement/payfip/retour?demande={order_id}"),
        )
        .map_err(|e| StartRefused::Internal(format!("payfip: {e}")))?;
        Ok::<_, StartRefused>((stored, request))
    }.await)?;
    let created = match PayFipWsClient::from_config(config) {
        Ok(client) => client
            .create_payment(&request)
            .await
            .map(|id| (client.payment_page(&id), id)),
        Err(e) => Err(e),
    };
    match created {
        Ok((page, id_op)) => {
            let mut tx = store.begin().await?;
            tx.set_payment_id_op(stored, id_op.as_str()).await?;
            tx.commit().await?;
            Ok(page)
        }
        Err(e) => {
            tracing::warn!(error = %e, "PayFiP creerPaiementSecurise failed");
            let mut tx = store.begin().await?;
            tx.release_payment_request(stored).await?;
            tx.commit().await?;
            Err(StartRefused::Provider(e))
        }
    }
}

/// The `creerPaiementSecurise` arguments for one invoice.
fn payfip_request(
    config: &PayFipConfig,
    inv: &StoredInvoice,
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

/// Applies a verified provider result to the payment of (provider, transaction) in `tx`:
/// the row is created or locked first, so concurrent repeats follow each other; then
/// [`settle`] decides from the recorded outcome. `MarkPaid` marks the request's unpaid
/// invoices paid at `now`, or records a duplicate when another payment settled them.
pub async fn apply_result(
    tx: &mut StoreTx,
    provider: Provider,
    transaction: &str,
    request: PaymentRequestId,
    outcome: PaymentOutcome,
    raw_status: &str,
    now: DateTime<Utc>,
) -> Result<Settlement, StoreError> {
    let (payment, recorded) = tx.lock_payment(provider, transaction, request, now).await?;
    let mut decision = settle(Some(recorded), outcome);
    if matches!(decision, Settlement::MarkPaid | Settlement::RecordFailure) {
        tx.record_payment_outcome(provider, transaction, outcome, raw_status, now)
            .await?;
    }
    if decision == Settlement::RecordFailure {
        // A failed attempt frees its invoices for the next one at once.
        tx.release_invoice_claims(request).await?;
    }
    if decision == Settlement::MarkPaid && tx.settle_invoices(payment, request, now).await? {
        decision = Settlement::Duplicate;
    }
    Ok(decision)
}

/// Runs [`apply_result`] in its own transaction, committed when it wrote something.
async fn apply_in_tx(
    store: &Store,
    provider: Provider,
    transaction: &str,
    request: PaymentRequestId,
    outcome: PaymentOutcome,
    raw_status: &str,
    now: DateTime<Utc>,
) -> Result<Settlement, StoreError> {
    let mut tx = store.begin().await?;
    let settlement = apply_result(
        &mut tx,
        provider,
        transaction,
        request,
        outcome,
        raw_status,
        now,
    )
    .await?;
    finish(tx, settlement).await
}

/// Commits `tx` when `settlement` wrote something, rolls it back otherwise.
async fn finish(tx: StoreTx, settlement: Settlement) -> Result<Settlement, StoreError> {
    if settlement.writes() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(settlement)
}

/// Why a verified provider message was not applied: it does not match what we asked.
pub type Mismatch = &'static str;

/// Applies a SystemPay notification whose signature was verified: checked against the
/// stored request (provider, transaction, amount) and settled in one transaction.
pub async fn apply_systempay(
    store: &Store,
    n: &Notification,
    now: DateTime<Utc>,
) -> Result<Result<Settlement, Mismatch>, StoreError> {
    let mut tx = store.begin().await?;
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
    let settlement = apply_result(
        &mut tx,
        Provider::SystemPay,
        &n.transaction_key(),
        req.id,
        n.outcome,
        &n.status,
        now,
    )
    .await?;
    Ok(Ok(finish(tx, settlement).await?))
}

/// What asking PayFiP about one of our requests gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    /// PayFiP's answer was applied (or repeated what is recorded).
    Settled(Settlement, PaymentOutcome),
    /// PayFiP does not know the result yet (`P5`).
    Pending,
}

/// Why a confirmation could not be made now (try again later).
#[derive(Debug, Error)]
pub enum ConfirmError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// PayFiP could not be asked, or gave an unusable answer.
    #[error(transparent)]
    Provider(PaymentError),
}

/// Asks PayFiP, server to server, for the result of `req` (by the `idOp` we stored when we
/// created it, never one a browser brings), checks it is about the debt we asked, and
/// applies it in one transaction.
pub async fn confirm_payfip(
    store: &Store,
    config: &PayFipConfig,
    req: &StoredPaymentRequest,
    now: DateTime<Utc>,
) -> Result<Result<Confirmed, Mismatch>, ConfirmError> {
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
    let settlement = apply_in_tx(
        store,
        Provider::PayFipWs,
        id_op.as_str(),
        req.id,
        outcome,
        &detail.resultrans,
        now,
    )
    .await?;
    Ok(Ok(Confirmed::Settled(settlement, outcome)))
}

/// The PayFiP request we created with this `idOp`, if any.
pub async fn payfip_request_by_id_op(
    store: &Store,
    id_op: &IdOp,
) -> Result<Option<StoredPaymentRequest>, StoreError> {
    in_tx!(store, tx => tx.payment_request_by_id_op(id_op.as_str()).await)
}

/// The request of our reference `order_id` (what PayFiP's return names), if any.
pub async fn request_by_order(
    store: &Store,
    order_id: &str,
) -> Result<Option<StoredPaymentRequest>, StoreError> {
    in_tx!(store, tx => tx.payment_request_by_order(order_id).await)
}

/// The outcome recorded for a request (paid wins over any failure), if any.
pub async fn recorded_outcome(
    store: &Store,
    request: PaymentRequestId,
) -> Result<Option<PaymentOutcome>, StoreError> {
    in_tx!(store, tx => tx.payment_outcome(request).await)
}
