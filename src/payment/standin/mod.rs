//! Local stand-ins of the payment providers, for tests and `ivr demo`; never the real services.
//!
//! Each is an axum [`Router`] that can be mounted in another app or served on its own (e.g.
//! on `127.0.0.1:0` with [`serve`]); `ivr fake-provider` serves both on a configured address.
//! They behave as PAYMENTS.md describes the real ones: SystemPay checks the signature and the
//! transaction number's uniqueness, then notifies and redirects; PayFiP shows the classic page
//! and answers the two SOAP calls.

pub mod fake_provider;
pub mod payfip;
pub mod systempay;

use std::fmt::Write as _;
use std::net::SocketAddr;

use axum::Router;
use axum::response::Html;
use quick_xml::escape::escape;
use rand::Rng as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A fresh random SystemPay test key (32 hexadecimal digits), for a stand-in and the portal
/// that talks to it (`ivr demo`, `ivr fake-provider` without a configured key).
pub fn fresh_test_key() -> String {
    random_hex(16)
}

/// Serves `router` on `addr` (use port 0 for a free port); returns the bound address and the
/// server task (abort it to stop).
pub async fn serve(
    router: Router,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "simulateur de paiement arrêté");
        }
    });
    Ok((local, task))
}

/// Decodes an `application/x-www-form-urlencoded` body or query, keeping order and repeats.
pub fn decode_form(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

/// A random lowercase hexadecimal string of `bytes` random bytes.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut rng = rand::thread_rng();
    let mut s = String::with_capacity(bytes * 2);
    for _ in 0..bytes {
        let b: u8 = rng.r#gen();
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// HTML-escapes text for element content and double-quoted attributes.
pub(crate) fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    escape(s)
}

/// Hidden inputs carrying `fields`.
pub(crate) fn hidden_inputs<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut html = String::new();
    for (name, value) in fields {
        let _ = writeln!(
            html,
            r#"<input type="hidden" name="{}" value="{}">"#,
            esc(name),
            esc(value)
        );
    }
    html
}

/// A complete French page with a banner saying it is a simulator.
pub(crate) fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body><p role="note"><strong>Simulateur local : aucun paiement réel n'est effectué.</strong></p>
<h1>{title}</h1>
{body}
</body></html>"#,
        title = esc(title),
    ))
}
