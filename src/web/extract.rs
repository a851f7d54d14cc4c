//! Request extractors: the session behind the cookie, the kind of user a page requires,
//! the browser's address (for login throttling) and how to set cookies.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use super::error::WebError;
use super::session::{COOKIE_NAME, SessionData, Who};
use super::state::AppState;
use crate::booking::model::{ChildId, PayerId};

/// The live session of the request, if its cookie names one.
pub struct MaybeSession(pub Option<(String, SessionData)>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(id) = jar.get(COOKIE_NAME).map(|c| c.value().to_owned()) else {
            return Ok(MaybeSession(None));
        };
        match state.sessions().get(&id, state.now()).await {
            Ok(found) => Ok(MaybeSession(found.map(|d| (id, d)))),
            Err(e) => {
                // The page then behaves as for a visitor without a session (login page,
                // CSRF refusal): nothing is shown or changed on a guess.
                tracing::warn!(error = %e, "session lookup failed");
                Ok(MaybeSession(None))
            }
        }
    }
}

impl MaybeSession {
    /// Checks a form's CSRF token against this session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        match &self.0 {
            Some((_, d)) if d.csrf_ok(submitted) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }
}

/// A parent's session; other visitors are sent to the login page (or refused, for staff).
pub struct ParentSession {
    /// Session id (cookie value).
    pub id: String,
    /// The session.
    pub data: SessionData,
    /// The family account.
    pub payer: PayerId,
    /// The child shown.
    pub child: ChildId,
}

impl ParentSession {
    /// Checks a form's CSRF token.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        if self.data.csrf_ok(submitted) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

impl FromRequestParts<AppState> for ParentSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let MaybeSession(s) = MaybeSession::from_request_parts(parts, state)
            .await
            .unwrap_or(MaybeSession(None));
        match s {
            Some((id, data)) => match data.who.clone() {
                Who::Parent { payer, child } => Ok(ParentSession {
                    id,
                    data,
                    payer,
                    child,
                }),
                Who::Staff { .. } => Err(WebError::Forbidden(
                    "cette page est réservée aux familles ; déconnectez-vous de l'espace mairie",
                )
                .into_response()),
                Who::Anonymous => Err(Redirect::to("/").into_response()),
            },
            None => Err(Redirect::to("/").into_response()),
        }
    }
}

/// A staff member's session; others are sent to the staff login (or refused, for parents).
pub struct StaffSession {
    /// Session id (cookie value).
    pub id: String,
    /// The session.
    pub data: SessionData,
    /// The staff user name.
    pub user: String,
}

impl StaffSession {
    /// Checks a form's CSRF token.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        if self.data.csrf_ok(submitted) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let MaybeSession(s) = MaybeSession::from_request_parts(parts, state)
            .await
            .unwrap_or(MaybeSession(None));
        match s {
            Some((id, data)) => match data.who.clone() {
                Who::Staff { user } => Ok(StaffSession { id, data, user }),
                Who::Parent { .. } => Err(WebError::Forbidden(
                    "cette page est réservée au personnel de la mairie",
                )
                .into_response()),
                Who::Anonymous => Err(Redirect::to("/mairie/connexion").into_response()),
            },
            None => Err(Redirect::to("/mairie/connexion").into_response()),
        }
    }
}

/// The address of the socket's peer, if the server was started with connect info.
fn peer_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

/// The browser's address as the booking service names sources (`ip:192.0.2.7`), for login
/// throttling: the socket's peer, or, when the peer is a trusted proxy, the rightmost
/// `X-Forwarded-For` hop that is not one (see [`super::config::WebConfig::client_ip`]).
pub struct Source(pub String);

impl FromRequestParts<AppState> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        let ip = state.config().client_ip(peer_ip(parts), forwarded);
        Ok(Source(match ip {
            Some(ip) => format!("ip:{ip}"),
            None => "ip:inconnue".to_owned(),
        }))
    }
}

/// Whether cookies set by this response get `Secure`.
pub struct SecureCookies(pub bool);

impl FromRequestParts<AppState> for SecureCookies {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Only a trusted proxy's word counts: anyone can write the header.
        let https = state.config().trusts_proxy(peer_ip(parts))
            && parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"));
        Ok(SecureCookies(state.config().cookies_secure(https)))
    }
}

/// The session cookie: HttpOnly (no script reads it), SameSite=Lax (not sent on other
/// sites' POSTs), Secure over HTTPS, for the whole site, ending with the browser.
pub fn session_cookie(id: String, secure: bool) -> Cookie<'static> {
    Cookie::build((COOKIE_NAME, id))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .build()
}

/// A cookie that erases the session cookie.
pub fn removal_cookie(secure: bool) -> Cookie<'static> {
    let mut c = session_cookie(String::new(), secure);
    c.make_removal();
    c
}
