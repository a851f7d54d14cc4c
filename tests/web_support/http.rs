//! The portal served for real on 127.0.0.1 (port 0), and browsers that talk HTTP to it:
//! for what `oneshot` cannot show (the peer's address, requests really in parallel).

use std::net::SocketAddr;

use axum::http::StatusCode;
use ivr::web::AppState;

use super::{Page, keep_cookie};

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
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
            cookie: None,
            headers: Vec::new(),
        }
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
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }
}
