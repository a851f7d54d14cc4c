//! The portal served for real on 127.0.0.1 (port 0), and browsers that talk HTTP to it:
//! for what `oneshot` cannot show (the peer's address, requests really in parallel).

use std::net::SocketAddr;

use axum::http::StatusCode;
use ivr::web::AppState;

use super::{Page, form_body, keep_cookie, with_csrf};

/// Serves `state` on 127.0.0.1 until the test ends; returns the address.
pub async fn serve(state: AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(ivr::web::serve(listener, state));
    addr
}

/// One browser: its own cookies, optional extra headers (e.g. `X-Forwarded-For`).
#[derive(Clone)]
pub struct Browser {
    base: String,
    http: reqwest::Client,
    pub cookie: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl Browser {
    /// A browser with no cookie, talking to the portal at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            base: format!("http://{addr}"),
            http: no_redirects(),
            cookie: None,
            headers: Vec::new(),
        }
    }

    /// A browser whose requests carry `X-Forwarded-For: forwarded`, as if they came
    /// through the proxy (the test's own connection from 127.0.0.1).
    pub fn through_proxy(addr: SocketAddr, forwarded: String) -> Self {
        let mut b = Self::new(addr);
        b.headers = vec![("x-forwarded-for".into(), forwarded)];
        b
    }

    async fn send(&mut self, mut req: reqwest::RequestBuilder) -> Page {
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let res = req.send().await.expect("portal answers");
        let status = StatusCode::from_u16(res.status().as_u16()).expect("status");
        let mut headers = axum::http::HeaderMap::new();
        for (k, v) in res.headers() {
            if let (Ok(k), Ok(v)) = (
                axum::http::HeaderName::from_bytes(k.as_str().as_bytes()),
                axum::http::HeaderValue::from_bytes(v.as_bytes()),
            ) {
                headers.append(k, v);
            }
        }
        for sc in res.headers().get_all("set-cookie") {
            if let Ok(sc) = sc.to_str() {
                self.cookie = keep_cookie(self.cookie.take(), sc);
            }
        }
        let body = res.text().await.expect("body");
        Page {
            status,
            headers,
            body,
        }
    }

    /// GET `path`.
    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// POST `fields` as a form to `path`.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(fields));
        self.send(req).await
    }

    /// The parents' login form of a fresh `/` page, posted with these codes.
    pub async fn parent_login(&mut self, child: &str, payer: &str) -> Page {
        let csrf = self.get("/").await.csrf();
        let fields = [("child_code", child), ("payer_code", payer)];
        self.post("/connexion", &with_csrf(&csrf, &fields)).await
    }
}

/// An HTTP client that follows no redirect (the tests look at each `Location`), with no
/// cookie: what a provider's server, or an attacker, is.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}
