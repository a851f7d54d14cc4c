//! The PayFiP stand-in: the classic page (`/tpa/paiement.web`) with Pay / Refuse / Abandon,
//! and the web service (`/tpa/services/securite`, SOAP) with its payment page
//! (`/tpa/paiementws.web?idop=`), keeping each operation's state.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use url::Url;

use super::{decode_form, esc, hidden_inputs, page, random_hex};
use crate::booking::model::Cents;
use crate::payment::PaymentError;
use crate::payment::payfip::classic::{field_ci, parse_montant};
use crate::payment::payfip::soap::{self, CreerPaiement, DetailPaiement, IdOp, SoapCall};
use crate::payment::payfip::{Exer, NumCli, Objet, RefDet};

/// The payer's choice on the stand-in's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayFipChoice {
    /// Paid by card: `resultrans=P`.
    Pay,
    /// Refused: `resultrans=R`.
    Refuse,
    /// Abandoned: `resultrans=A`.
    Abandon,
}

impl PayFipChoice {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "pay" => Some(Self::Pay),
            "refuse" => Some(Self::Refuse),
            "abandon" => Some(Self::Abandon),
            _ => None,
        }
    }

    fn resultrans(self) -> &'static str {
        match self {
            Self::Pay => "P",
            Self::Refuse => "R",
            Self::Abandon => "A",
        }
    }
}

#[derive(Debug, Clone)]
struct Operation {
    args: CreerPaiement,
    /// When `creerPaiementSecurise` made it: the payment page refuses it after the lifetime.
    created: Instant,
    /// `resultrans`, `numauto`, `dattrans`, `heurtrans` once the payer has chosen.
    result: Option<(String, Option<String>, String, String)>,
}

/// The PayFiP stand-in's state; [`PayFipStandin::router`] serves it.
#[derive(Debug)]
pub struct PayFipStandin {
    operations: Mutex<HashMap<IdOp, Operation>>,
    /// When set, `recupererDetailPaiementSecurise` answers `P5` even for decided operations,
    /// as PayFiP does while it has not consolidated the result.
    hold_results: AtomicBool,
    /// How long an `idOp` can be paid (PayFiP: 15 minutes).
    lifetime: Duration,
    http: reqwest::Client,
}

/// Operations kept at most (a stand-in for tests and demos, not a long-running service).
const MAX_OPERATIONS: usize = 10_000;

/// The instant an operation is made, read at the edge (this is a simulated server).
#[allow(clippy::disallowed_methods)] // the stand-in is an edge: it times idOp lifetimes
fn instant_now() -> Instant {
    Instant::now()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn error_page(status: StatusCode, message: &str) -> Response {
    (
        status,
        page("Paiement impossible", &format!("<p>{}</p>", esc(message))),
    )
        .into_response()
}

/// The instant of a decision, read at the edge (this is a simulated server).
#[allow(clippy::disallowed_methods)] // the stand-in is an edge: it stamps results like PayFiP
fn now() -> DateTime<Utc> {
    Utc::now()
}

/// `dattrans` and `heurtrans` of `at`, in Paris time as the DGFiP writes them.
fn stamp(at: DateTime<Utc>) -> (String, String) {
    let local = at.with_timezone(&chrono_tz::Europe::Paris);
    (
        local.format("%d%m%Y").to_string(),
        local.format("%H%M").to_string(),
    )
}

impl PayFipStandin {
    /// A stand-in with no operation, whose `idOp`s live 15 minutes.
    pub fn new() -> Result<Arc<Self>, PaymentError> {
        Self::with_lifetime(Duration::from_secs(15 * 60))
    }

    /// A stand-in whose `idOp`s can be paid for `lifetime` (tests use a short one).
    pub fn with_lifetime(lifetime: Duration) -> Result<Arc<Self>, PaymentError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| PaymentError::Transport(e.to_string()))?;
        Ok(Arc::new(Self {
            operations: Mutex::default(),
            hold_results: AtomicBool::new(false),
            lifetime,
            http,
        }))
    }

    /// The routes: `GET /tpa/paiement.web` and `POST /tpa/paiement.web/choice` (classic),
    /// `POST /tpa/services/securite` (SOAP), `GET /tpa/paiementws.web` and
    /// `POST /tpa/paiementws.web/choice` (web-service payment page).
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/tpa/paiement.web", get(classic_page))
            .route("/tpa/paiement.web/choice", post(classic_choice))
            .route("/tpa/services/securite", post(soap_endpoint))
            .route("/tpa/paiementws.web", get(ws_page))
            .route("/tpa/paiementws.web/choice", post(ws_choice))
            .with_state(self.clone())
    }

    /// Turns the "answer P5" switch on or off.
    pub fn set_hold_results(&self, hold: bool) {
        self.hold_results.store(hold, Ordering::SeqCst);
    }

    /// The number of operations created through the web service.
    pub fn operation_count(&self) -> usize {
        lock(&self.operations).len()
    }

    async fn post_form(&self, url: &str, fields: &[(String, String)]) -> bool {
        let body = serde_urlencoded::to_string(fields).unwrap_or_default();
        match self
            .http
            .post(url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
        {
            Ok(r) => r.status().is_success(),
            Err(e) => {
                tracing::warn!(error = %e, "retour PayFiP non remis");
                false
            }
        }
    }

    fn answer(&self, call: SoapCall) -> String {
        match call {
            SoapCall::Creer(args) => {
                let mut ops = lock(&self.operations);
                if ops.len() >= MAX_OPERATIONS {
                    return soap::fault_response("T1", "Simulateur saturé");
                }
                let id = IdOp::parse(&random_hex(16)).expect("hex is a valid idOp");
                ops.insert(
                    id.clone(),
                    Operation {
                        args,
                        created: instant_now(),
                        result: None,
                    },
                );
                soap::creer_response(&id)
            }
            SoapCall::Detail(id) => {
                let ops = lock(&self.operations);
                let Some(op) = ops.get(&id) else {
                    return soap::fault_response("P1", "IdOp incorrect");
                };
                match (&op.result, self.hold_results.load(Ordering::SeqCst)) {
                    (Some((resultrans, numauto, dattrans, heurtrans)), false) => {
                        soap::detail_response(&DetailPaiement {
                            id_op: id.clone(),
                            numcli: op.args.numcli.as_str().to_owned(),
                            exer: op.args.exer.to_string(),
                            refdet: op.args.refdet.as_str().to_owned(),
                            montant: op.args.montant,
                            mel: op.args.mel.clone(),
                            objet: op.args.objet.as_str().to_owned(),
                            saisie: op.args.saisie.ws_code().to_owned(),
                            resultrans: resultrans.clone(),
                            numauto: numauto.clone(),
                            dattrans: Some(dattrans.clone()),
                            heurtrans: Some(heurtrans.clone()),
                        })
                    }
                    _ => soap::fault_response("P5", "Résultat de la transaction non connu"),
                }
            }
        }
    }
}

/// The classic request, checked like PayFiP does before showing its page.
fn classic_request(fields: &[(String, String)]) -> Result<Vec<(String, String)>, PaymentError> {
    let req = |name: &str| match field_ci(fields, name)? {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(PaymentError::MissingField(name.to_owned())),
    };
    let numcli = req("numcli")?;
    NumCli::parse(&numcli)?;
    let exer = req("exer")?;
    Exer::parse(&exer)?;
    let refdet = req("refdet")?;
    RefDet::parse(&refdet)?;
    let objet = req("objet")?;
    Objet::parse(&objet)?;
    let montant = req("montant")?;
    if parse_montant(&montant)?.0 <= 0 {
        return Err(PaymentError::bad("montant", "montant positif attendu"));
    }
    let mel = req("mel")?;
    let urlcl = req("urlcl")?;
    Url::parse(&urlcl).map_err(|e| PaymentError::bad("urlcl", e.to_string()))?;
    let saisie = req("saisie")?;
    if !matches!(saisie.as_str(), "T" | "X" | "A") {
        return Err(PaymentError::bad(
            "saisie",
            "T, X ou A attendu (W : service web)",
        ));
    }
    Ok([
        ("numcli", numcli),
        ("exer", exer),
        ("refdet", refdet),
        ("objet", objet),
        ("montant", montant),
        ("mel", mel),
        ("urlcl", urlcl),
        ("saisie", saisie),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect())
}

fn choice_buttons() -> &'static str {
    r#"<button type="submit" name="choice" value="pay">Payer</button>
<button type="submit" name="choice" value="refuse">Refuser</button>
<button type="submit" name="choice" value="abandon">Abandonner</button>"#
}

fn debt_summary(refdet: &str, montant: &str) -> String {
    let amount = parse_montant(montant).unwrap_or(Cents(0));
    format!(
        "<p>Référence de la dette : <strong>{}</strong><br>Montant : <strong>{}</strong></p>",
        esc(refdet),
        esc(&amount.to_string())
    )
}

async fn classic_page(RawQuery(query): RawQuery) -> Response {
    let fields = decode_form(query.unwrap_or_default().as_bytes());
    let request = match classic_request(&fields) {
        Ok(r) => r,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let get = |n: &str| {
        request
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let body = format!(
        "{}<form method=\"post\" action=\"paiement.web/choice\">\n{}{}</form>",
        debt_summary(get("refdet"), get("montant")),
        hidden_inputs(request.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        choice_buttons()
    );
    page("Paiement des services locaux (PayFiP)", &body).into_response()
}

async fn classic_choice(State(s): State<Arc<PayFipStandin>>, body: Bytes) -> Response {
    let fields = decode_form(&body);
    let choice = match field_ci(&fields, "choice") {
        Ok(Some(c)) => PayFipChoice::parse(c),
        _ => None,
    };
    let (Some(choice), Ok(mut result)) = (choice, classic_request(&fields)) else {
        return error_page(StatusCode::BAD_REQUEST, "demande incomplète");
    };
    let urlcl = result
        .iter()
        .find(|(k, _)| k == "urlcl")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let (dattrans, heurtrans) = stamp(now());
    result.retain(|(k, _)| k != "urlcl");
    result.push(("resultrans".into(), choice.resultrans().into()));
    result.push((
        "numauto".into(),
        if choice == PayFipChoice::Pay {
            random_hex(3).to_uppercase()
        } else {
            String::new()
        },
    ));
    result.push(("dattrans".into(), dattrans));
    result.push(("heurtrans".into(), heurtrans));
    // Server to server first (what the town's site must act on), then the browser's way back.
    let delivered = s.post_form(&urlcl, &result).await;
    let body = format!(
        "<p>{}</p>{}<form method=\"post\" action=\"{}\">\n{}<button type=\"submit\">Retour au site de la collectivité</button></form>",
        match choice {
            PayFipChoice::Pay => "Paiement accepté.",
            PayFipChoice::Refuse => "Paiement refusé.",
            PayFipChoice::Abandon => "Paiement abandonné.",
        },
        if delivered {
            ""
        } else {
            "<p>Le site de la collectivité n'a pas répondu.</p>"
        },
        esc(&urlcl),
        hidden_inputs(result.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    );
    page("Paiement terminé (PayFiP)", &body).into_response()
}

async fn soap_endpoint(State(s): State<Arc<PayFipStandin>>, body: Bytes) -> Response {
    let xml = String::from_utf8_lossy(&body);
    let (status, answer) = match soap::parse_call(&xml) {
        Ok(call) => {
            let answer = s.answer(call);
            // SOAP 1.1 (§6.2): a fault goes with HTTP 500.
            let status = if answer.contains("Fault") {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            };
            (status, answer)
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            soap::fault_response("R1", &e.to_string()),
        ),
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        answer,
    )
        .into_response()
}

async fn ws_page(State(s): State<Arc<PayFipStandin>>, RawQuery(query): RawQuery) -> Response {
    let fields = decode_form(query.unwrap_or_default().as_bytes());
    let id = match field_ci(&fields, "idop") {
        Ok(Some(v)) => IdOp::parse(v).ok(),
        _ => None,
    };
    let Some(id) = id else {
        return error_page(StatusCode::BAD_REQUEST, "idop absent ou invalide");
    };
    let ops = lock(&s.operations);
    let Some(op) = ops.get(&id) else {
        return error_page(StatusCode::NOT_FOUND, "opération inconnue ou expirée");
    };
    if op.result.is_some() {
        return error_page(StatusCode::CONFLICT, "opération déjà traitée");
    }
    if op.created.elapsed() >= s.lifetime {
        return error_page(StatusCode::GONE, "opération expirée (15 minutes)");
    }
    let body = format!(
        "{}<form method=\"post\" action=\"paiementws.web/choice\">\n{}{}</form>",
        debt_summary(op.args.refdet.as_str(), &op.args.montant.0.to_string()),
        hidden_inputs([("idop", id.as_str())]),
        choice_buttons()
    );
    page("Paiement des services locaux (PayFiP)", &body).into_response()
}

async fn ws_choice(State(s): State<Arc<PayFipStandin>>, body: Bytes) -> Response {
    let fields = decode_form(&body);
    let choice = match field_ci(&fields, "choice") {
        Ok(Some(c)) => PayFipChoice::parse(c),
        _ => None,
    };
    let id = match field_ci(&fields, "idop") {
        Ok(Some(v)) => IdOp::parse(v).ok(),
        _ => None,
    };
    let (Some(choice), Some(id)) = (choice, id) else {
        return error_page(StatusCode::BAD_REQUEST, "demande incomplète");
    };
    let (urlnotif, urlredirect) = {
        let mut ops = lock(&s.operations);
        let Some(op) = ops.get_mut(&id) else {
            return error_page(StatusCode::NOT_FOUND, "opération inconnue ou expirée");
        };
        if op.result.is_some() {
            return error_page(StatusCode::CONFLICT, "opération déjà traitée");
        }
        if op.created.elapsed() >= s.lifetime {
            return error_page(StatusCode::GONE, "opération expirée (15 minutes)");
        }
        let (dattrans, heurtrans) = stamp(now());
        let numauto = (choice == PayFipChoice::Pay).then(|| random_hex(3).to_uppercase());
        op.result = Some((choice.resultrans().into(), numauto, dattrans, heurtrans));
        (op.args.urlnotif.clone(), op.args.urlredirect.clone())
    };
    // PayFiP tells the site which operation ended; the site must then ask for the detail.
    let notice = [("idOp".to_owned(), id.as_str().to_owned())];
    if !s.post_form(&urlnotif, &notice).await {
        tracing::warn!("notification PayFiP non remise");
    }
    match Url::parse(&urlredirect) {
        Ok(mut url) => {
            url.query_pairs_mut().append_pair("idOp", id.as_str());
            (StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response()
        }
        Err(_) => page("Paiement terminé (PayFiP)", "<p>Paiement terminé.</p>").into_response(),
    }
}
