//! The SystemPay stand-in: accepts the signed form, shows Accept / Refuse / Cancel, then
//! notifies the shop (IPN, retried) and sends the browser back, as the real gateway does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{NaiveDate, NaiveDateTime};
use url::Url;

use super::{decode_form, esc, page, random_hex};
use crate::booking::model::Cents;
use crate::payment::PaymentError;
use crate::payment::systempay::{
    CURRENCY_EURO, Keys, SIGNATURE_FIELD, ShopKey, SiteId, TransId, sign, verify_signature,
};

/// Settings of the SystemPay stand-in.
#[derive(Debug, Clone)]
pub struct SystemPayStandinConfig {
    /// The test key it checks forms with and signs notifications with; required (no
    /// built-in key: `ivr demo` makes a fresh one and gives it to both sides).
    pub test_key: String,
    /// The notification URL "set in the Back Office", used when a form has no `vads_url_check`.
    pub notification_url: Option<String>,
    /// How many times a failed notification is retried (the real gateway: 4).
    pub max_retries: u32,
    /// The wait between two attempts (the real gateway waits minutes; tests want milliseconds).
    pub retry_delay: Duration,
}

impl Default for SystemPayStandinConfig {
    fn default() -> Self {
        Self {
            test_key: String::new(),
            notification_url: None,
            max_retries: 4,
            retry_delay: Duration::from_secs(2),
        }
    }
}

/// Sessions kept at most (a stand-in for tests and demos, not a long-running service).
const MAX_SESSIONS: usize = 10_000;

/// The payer's choice on the stand-in's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Card accepted: `AUTHORISED`, result `00`.
    Accept,
    /// Card refused: `REFUSED`, result `05`.
    Refuse,
    /// Payer cancels: `ABANDONED`, result `17`.
    Cancel,
}

impl Choice {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "accept" => Some(Choice::Accept),
            "refuse" => Some(Choice::Refuse),
            "cancel" => Some(Choice::Cancel),
            _ => None,
        }
    }

    fn status_and_result(self) -> (&'static str, &'static str) {
        match self {
            Choice::Accept => ("AUTHORISED", "00"),
            Choice::Refuse => ("REFUSED", "05"),
            Choice::Cancel => ("ABANDONED", "17"),
        }
    }

    /// The return URL field for this outcome (falls back to `vads_url_return`).
    fn return_field(self) -> &'static str {
        match self {
            Choice::Accept => "vads_url_success",
            Choice::Refuse => "vads_url_refused",
            Choice::Cancel => "vads_url_cancel",
        }
    }
}

#[derive(Debug)]
struct Session {
    /// The `vads_` fields of the accepted form.
    form: BTreeMap<String, String>,
    /// The notification sent (signed), once the payer has chosen.
    notification: Option<Vec<(String, String)>>,
}

/// The SystemPay stand-in's state; [`SystemPayStandin::router`] serves it.
#[derive(Debug)]
pub struct SystemPayStandin {
    /// Its test key, which signs the notifications.
    key: ShopKey,
    /// The same, as [`verify_signature`] takes it.
    keys: Keys,
    config: SystemPayStandinConfig,
    /// (site, UTC day, transaction id) of every accepted form: reuse is error 03.
    used: Mutex<HashSet<(String, NaiveDate, TransId)>>,
    sessions: Mutex<HashMap<String, Session>>,
    http: reqwest::Client,
}

/// How a notification went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Attempts made so far (1 when the first one succeeded).
    pub attempts: u32,
    /// True once the shop answered 2xx.
    pub delivered: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn error_page(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!("<p>Erreur {}&nbsp;: {}</p>", esc(code), esc(message));
    (status, page("Paiement impossible", &body)).into_response()
}

impl SystemPayStandin {
    /// A stand-in with its own HTTP client for notifications.
    pub fn new(config: SystemPayStandinConfig) -> Result<Arc<Self>, PaymentError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| PaymentError::Transport(e.to_string()))?;
        let key = ShopKey::new(&config.test_key)?;
        Ok(Arc::new(Self {
            keys: Keys {
                test: Some(key.clone()),
                production: None,
            },
            key,
            config,
            used: Mutex::default(),
            sessions: Mutex::default(),
            http,
        }))
    }

    /// The routes: `POST /vads-payment/` (the form), `POST /vads-payment/session/{id}` (the
    /// payer's choice), `POST /vads-payment/session/{id}/repeat` (send the notification again).
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/vads-payment/", post(accept_form))
            .route("/vads-payment/session/{id}", post(choose))
            .route("/vads-payment/session/{id}/repeat", post(repeat))
            .with_state(self.clone())
    }

    /// Checks a posted form; returns the new session's id or the error code and message.
    fn open_session(&self, fields: &[(String, String)]) -> Result<String, (&'static str, String)> {
        let (_, signed) = verify_signature(fields, &self.keys).map_err(|e| match e {
            PaymentError::BadSignature => ("signature", "signature invalide".to_owned()),
            other => ("30", other.to_string()),
        })?;
        let get = |name: &'static str| -> Result<&str, (&'static str, String)> {
            signed
                .get(name)
                .copied()
                .filter(|v| !v.is_empty())
                .ok_or(("30", format!("champ {name} absent")))
        };
        let expect = |name: &'static str, value: &str| -> Result<(), (&'static str, String)> {
            if get(name)? == value {
                Ok(())
            } else {
                Err(("30", format!("{name} doit valoir {value}")))
            }
        };
        let site = SiteId::parse(get("vads_site_id")?).map_err(|e| ("30", e.to_string()))?;
        let trans_id = TransId::parse(get("vads_trans_id")?).map_err(|e| ("30", e.to_string()))?;
        let date = NaiveDateTime::parse_from_str(get("vads_trans_date")?, "%Y%m%d%H%M%S")
            .map_err(|_| ("30", "vads_trans_date invalide".to_owned()))?;
        let amount: i64 = get("vads_amount")?
            .parse()
            .map_err(|_| ("30", "vads_amount invalide".to_owned()))?;
        if amount <= 0 {
            return Err(("30", "vads_amount invalide".to_owned()));
        }
        expect("vads_currency", CURRENCY_EURO)?;
        expect("vads_action_mode", "INTERACTIVE")?;
        expect("vads_page_action", "PAYMENT")?;
        expect("vads_payment_config", "SINGLE")?;
        expect("vads_version", "V2")?;
        if !lock(&self.used).insert((site.as_str().to_owned(), date.date(), trans_id)) {
            return Err((
                "03",
                format!("le numéro de transaction {trans_id} a déjà été utilisé ce jour"),
            ));
        }
        if lock(&self.sessions).len() >= MAX_SESSIONS {
            return Err(("96", "simulateur saturé, redémarrez-le".to_owned()));
        }
        let id = random_hex(16);
        let form = signed
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        lock(&self.sessions).insert(
            id.clone(),
            Session {
                form,
                notification: None,
            },
        );
        Ok(id)
    }

    fn signed(&self, mut fields: BTreeMap<String, String>) -> Vec<(String, String)> {
        let signature = sign(
            fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &self.key,
        )
        .expect("a map has no duplicate names");
        fields.insert(SIGNATURE_FIELD.to_owned(), signature);
        fields.into_iter().collect()
    }

    fn notification_url(&self, form: &BTreeMap<String, String>) -> Option<String> {
        form.get("vads_url_check")
            .filter(|u| !u.is_empty())
            .cloned()
            .or_else(|| self.config.notification_url.clone())
    }

    async fn post_once(&self, url: &str, fields: &[(String, String)]) -> bool {
        let body = serde_urlencoded::to_string(fields).unwrap_or_default();
        match self
            .http
            .post(url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => true,
            Ok(r) => {
                tracing::warn!(status = %r.status(), "notification SystemPay refusée par la boutique");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "notification SystemPay non remise");
                false
            }
        }
    }

    /// Sends a notification: one attempt now; on failure, up to `max_retries` more in the
    /// background, each marked `vads_url_check_src=RETRY` and signed again.
    async fn notify(self: &Arc<Self>, url: String, fields: Vec<(String, String)>) -> Delivery {
        if self.post_once(&url, &fields).await {
            return Delivery {
                attempts: 1,
                delivered: true,
            };
        }
        let this = self.clone();
        tokio::spawn(async move {
            let mut retry: BTreeMap<String, String> = fields
                .into_iter()
                .filter(|(k, _)| k != SIGNATURE_FIELD)
                .collect();
            retry.insert("vads_url_check_src".into(), "RETRY".into());
            let retry = this.signed(retry);
            for _ in 0..this.config.max_retries {
                tokio::time::sleep(this.config.retry_delay).await;
                if this.post_once(&url, &retry).await {
                    return;
                }
            }
            tracing::error!("notification SystemPay abandonnée après les nouvelles tentatives");
        });
        Delivery {
            attempts: 1,
            delivered: false,
        }
    }

    /// Sends the notification of a finished session again, unchanged (a repeated IPN).
    pub async fn repeat_notification(self: &Arc<Self>, session: &str) -> Option<Delivery> {
        let (url, fields) = {
            let sessions = lock(&self.sessions);
            let s = sessions.get(session)?;
            (self.notification_url(&s.form)?, s.notification.clone()?)
        };
        let delivered = self.post_once(&url, &fields).await;
        Some(Delivery {
            attempts: 1,
            delivered,
        })
    }
}

async fn accept_form(State(s): State<Arc<SystemPayStandin>>, body: Bytes) -> Response {
    let fields = decode_form(&body);
    let id = match s.open_session(&fields) {
        Ok(id) => id,
        Err((code, message)) => return error_page(StatusCode::BAD_REQUEST, code, &message),
    };
    let sessions = lock(&s.sessions);
    let form = &sessions[&id].form;
    let amount = form
        .get("vads_amount")
        .and_then(|a| a.parse().ok())
        .map(Cents)
        .unwrap_or_default();
    let order = form.get("vads_order_id").map(String::as_str).unwrap_or("");
    let body = format!(
        r#"<p>Commande <strong>{order}</strong> : <strong>{amount}</strong></p>
<form method="post" action="session/{id}">
<p>Carte de test 4970 1000 0000 0003</p>
<button type="submit" name="choice" value="accept">Accepter</button>
<button type="submit" name="choice" value="refuse">Refuser</button>
<button type="submit" name="choice" value="cancel">Annuler</button>
</form>"#,
        order = esc(order),
        amount = esc(&amount.to_string()),
    );
    page("Paiement par carte (SystemPay)", &body).into_response()
}

async fn choose(
    State(s): State<Arc<SystemPayStandin>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = decode_form(&body);
    let Some(choice) = fields
        .iter()
        .find(|(k, _)| k == "choice")
        .and_then(|(_, v)| Choice::parse(v))
    else {
        return error_page(StatusCode::BAD_REQUEST, "30", "choix inconnu");
    };
    let (notification, url, form) = {
        let mut sessions = lock(&s.sessions);
        let Some(session) = sessions.get_mut(&id) else {
            return error_page(StatusCode::NOT_FOUND, "30", "session inconnue");
        };
        if session.notification.is_some() {
            return error_page(StatusCode::CONFLICT, "30", "paiement déjà traité");
        }
        let (status, result) = choice.status_and_result();
        let mut n = session.form.clone();
        n.insert("vads_trans_status".into(), status.into());
        n.insert("vads_result".into(), result.into());
        n.insert(
            "vads_auth_result".into(),
            if choice == Choice::Accept { "00" } else { "" }.into(),
        );
        n.insert("vads_operation_type".into(), "DEBIT".into());
        let amount = n.get("vads_amount").cloned().unwrap_or_default();
        n.insert("vads_effective_amount".into(), amount);
        n.insert("vads_trans_uuid".into(), random_hex(16));
        n.insert("vads_url_check_src".into(), "PAY".into());
        n.insert("vads_hash".into(), random_hex(32));
        let notification = s.signed(n);
        session.notification = Some(notification.clone());
        (
            notification,
            s.notification_url(&session.form),
            session.form.clone(),
        )
    };
    if let Some(url) = url {
        s.notify(url, notification.clone()).await;
    } else {
        tracing::warn!("aucune URL de notification : IPN non envoyée");
    }
    // The browser's return: the same fields minus the IPN-only ones, signed again.
    let back: BTreeMap<String, String> = notification
        .into_iter()
        .filter(|(k, _)| k != SIGNATURE_FIELD && k != "vads_hash" && k != "vads_url_check_src")
        .collect();
    let back = s.signed(back);
    let target = form
        .get(choice.return_field())
        .or_else(|| form.get("vads_url_return"))
        .filter(|u| !u.is_empty())
        .and_then(|u| Url::parse(u).ok());
    match target {
        Some(mut url) => {
            url.query_pairs_mut().extend_pairs(back.iter());
            (StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response()
        }
        None => {
            let body = format!(
                "<p>Paiement terminé.</p><form method=\"post\" action=\"{id}/repeat\"><button>Renvoyer la notification</button></form>",
                id = esc(&id)
            );
            page("Paiement terminé", &body).into_response()
        }
    }
}

async fn repeat(State(s): State<Arc<SystemPayStandin>>, Path(id): Path<String>) -> Response {
    match s.repeat_notification(&id).await {
        Some(Delivery {
            delivered: true, ..
        }) => page("Notification renvoyée", "<p>La boutique a répondu.</p>").into_response(),
        Some(_) => error_page(
            StatusCode::BAD_GATEWAY,
            "96",
            "la boutique n'a pas accepté la notification",
        ),
        None => error_page(
            StatusCode::NOT_FOUND,
            "30",
            "aucune notification à renvoyer",
        ),
    }
}
