//! Both stand-ins on one address: what `ivr fake-provider` and `ivr demo` serve.
//!
//! Paths: SystemPay `POST /vads-payment/`; PayFiP classic `GET /tpa/paiement.web`, web
//! service `POST /tpa/services/securite`, payment page `GET /tpa/paiementws.web?idop=`.
//! They match the defaults of `SystemPayConfig` and `PayFipConfig` on `127.0.0.1:8089`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use tokio::task::JoinHandle;

use super::payfip::PayFipStandin;
use super::serve;
use super::systempay::{SystemPayStandin, SystemPayStandinConfig};
use crate::payment::PaymentError;
pub use crate::payment::standin_settings::FakeProviderConfig;

/// Both stand-ins in one router, with an index page at `/`.
pub fn router(config: &FakeProviderConfig) -> Result<Router, PaymentError> {
    let systempay = SystemPayStandin::new(SystemPayStandinConfig {
        test_key: config.systempay_test_key.clone(),
        notification_url: config.notification_url.clone(),
        retry_delay: Duration::from_millis(config.retry_delay_ms),
        ..Default::default()
    })?;
    let payfip = PayFipStandin::new()?;
    Ok(Router::new()
        .route("/", get(index))
        .merge(systempay.router())
        .merge(payfip.router()))
}

async fn index() -> Html<&'static str> {
    Html(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Simulateurs de paiement</title></head>\
         <body><h1>Simulateurs de paiement (local)</h1><ul>\
         <li>SystemPay : <code>POST /vads-payment/</code></li>\
         <li>PayFiP classique : <code>GET /tpa/paiement.web</code></li>\
         <li>PayFiP service web : <code>POST /tpa/services/securite</code>, <code>GET /tpa/paiementws.web?idop=</code></li>\
         </ul></body></html>",
    )
}

/// Binds `config.listen` and serves both stand-ins; returns the bound address and the task.
pub async fn start(
    config: &FakeProviderConfig,
) -> Result<(SocketAddr, JoinHandle<()>), PaymentError> {
    if !config.listen.ip().is_loopback() {
        tracing::warn!(addr = %config.listen, "simulateurs de paiement exposés hors de la boucle locale");
    }
    serve(router(config)?, config.listen)
        .await
        .map_err(|e| PaymentError::Transport(format!("écoute sur {} : {e}", config.listen)))
}
