//! The login page (seed, part 1): the two codes, the town's message, the help link; and
//! the logout.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::{Markup, html};
use serde::Deserialize;

use crate::booking::french::{date_fr, time_fr};
use crate::booking::model::{ChildCode, PayerCode};
use crate::service::login::{LoginError, Origin};
use crate::web::device;
use crate::web::error::WebError;
use crate::web::extract::{MaybeSession, SecureCookies, Source, removal_cookie, session_cookie};
use crate::web::layout::{Area, Shell, csrf_field, page};
use crate::web::session::Who;
use crate::web::state::AppState;

/// GET /: the login page, or the planning when already logged in as a parent.
pub async fn get(
    State(state): State<AppState>,
    MaybeSession(s): MaybeSession,
    SecureCookies(secure): SecureCookies,
    jar: CookieJar,
) -> Result<Response, WebError> {
    match s {
        Some((_, d)) if matches!(d.who, Who::Parent { .. }) => {
            Ok(Redirect::to("/planning").into_response())
        }
        Some((_, d)) if d.who == Who::Anonymous => {
            Ok(render(&state, &d.csrf, None, StatusCode::OK)
                .await?
                .into_response())
        }
        _ => {
            // A fresh anonymous session carries the login form's CSRF token.
            let (id, d) = state.sessions().create(Who::Anonymous, state.now()).await?;
            let jar = jar.add(session_cookie(id, secure));
            Ok((jar, render(&state, &d.csrf, None, StatusCode::OK).await?).into_response())
        }
    }
}

async fn render(
    state: &AppState,
    csrf: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<(StatusCode, Markup), WebError> {
    let message = state.service().town_message().await?.unwrap_or_default();
    let config = state.config();
    let shell = Shell {
        title: "Connexion",
        town: state.town_name(),
        area: Area::Public,
        csrf: None,
    };
    let body = html! {
        h1 { "Bienvenue," br; small { "Les Parents Services – " (state.town_name()) } }
        div.card {
            @if let Some(e) = &error { p.alert role="alert" id="erreur-connexion" { (e) } }
            form method="post" action="/connexion" {
                (csrf_field(csrf))
                label for="child_code" { "Code enfant :" }
                input type="password" id="child_code" name="child_code" inputmode="numeric"
                    autocomplete="off" required maxlength="12" pattern="[0-9]*";
                label for="payer_code" { "Code payeur :" }
                input type="password" id="payer_code" name="payer_code" inputmode="numeric"
                    autocomplete="off" required maxlength="12" pattern="[0-9]*";
                button type="submit" { "Connexion" }
            }
            p { a href="/aide" { "Besoin d'aide ? Consultez notre aide en ligne" } }
        }
        @if !message.trim().is_empty() {
            section.card aria-labelledby="message-mairie" {
                h2 id="message-mairie" { "Message de votre mairie" }
                div.message { (message) }
            }
        }
        @if !config.phone_number.is_empty() {
            p { "Vous pouvez également réserver sur le serveur vocal, accessible 24h/24 : "
                strong { (config.phone_number) } }
        }
        p.locked-list { a href="/mairie/connexion" { "Espace mairie" } }
    };
    Ok((status, page(&shell, body)))
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    child_code: String,
    payer_code: String,
}

/// The one sentence for any wrong pair: it never says which code was wrong.
pub const WRONG_CODES: &str = "Codes incorrects : vérifiez le code enfant et le code payeur.";

/// POST /connexion
pub async fn post(
    State(state): State<AppState>,
    session: MaybeSession,
    Source(source): Source,
    SecureCookies(secure): SecureCookies,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let Some((old_id, old)) = session.0 else {
        return Err(WebError::Csrf);
    };
    let codes = (
        ChildCode::parse(form.child_code.trim()),
        PayerCode::parse(form.payer_code.trim()),
    );
    let now = state.now();
    // The browser's device id: the one its signed cookie carries, else a fresh one that
    // becomes known if these codes are right.
    let guard = state.service().login_guard();
    let device_id = device::from_jar(&jar, guard).unwrap_or_else(device::fresh_id);
    let origin = Origin {
        sources: vec![source.clone()],
        device: Some(device::origin_name(&device_id)),
    };
    let result = match codes {
        (Ok(child), Ok(payer)) => {
            state
                .service()
                .login_from(&origin, &child, &payer, now)
                .await
        }
        // Not digits: cannot be anyone's codes; same sentence as a wrong pair.
        _ => Err(LoginError::WrongCodes),
    };
    match result {
        Ok(s) => {
            // A new session id at login: a cookie planted before cannot ride the login.
            state.sessions().remove(&old_id).await?;
            let (id, _) = state
                .sessions()
                .create(
                    Who::Parent {
                        payer: s.payer,
                        child: s.child,
                    },
                    now,
                )
                .await?;
            tracing::info!(source = %source, "parent logged in on the web");
            let days = guard.config().known_device_days;
            Ok((
                jar.add(session_cookie(id, secure))
                    .add(device::cookie(guard, &device_id, secure, days)),
                Redirect::to("/planning"),
            )
                .into_response())
        }
        Err(LoginError::WrongCodes) => {
            tracing::info!(source = %source, "web login refused: wrong codes");
            Ok(render(
                &state,
                &old.csrf,
                Some(WRONG_CODES.to_owned()),
                StatusCode::UNAUTHORIZED,
            )
            .await?
            .into_response())
        }
        Err(LoginError::TooManyAttempts { retry_after }) => {
            let local = retry_after.with_timezone(&chrono_tz::Europe::Paris);
            let msg = format!(
                "Trop d'essais infructueux : la connexion est bloquée jusqu'au {} à {}.",
                date_fr(local.date_naive()),
                time_fr(local.time())
            );
            tracing::warn!(source = %source, "web login locked out");
            Ok(
                render(&state, &old.csrf, Some(msg), StatusCode::TOO_MANY_REQUESTS)
                    .await?
                    .into_response(),
            )
        }
        Err(e) => Err(WebError::Internal(format!("login: {e:?}"))),
    }
}

/// The logout form.
#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

/// POST /deconnexion (parents) and /mairie/deconnexion (staff): ends the session.
pub async fn logout(
    State(state): State<AppState>,
    session: MaybeSession,
    SecureCookies(secure): SecureCookies,
    jar: CookieJar,
    Form(form): Form<LogoutForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    if let Some((id, _)) = &session.0 {
        state.sessions().remove(id).await?;
    }
    Ok((jar.add(removal_cookie(secure)), Redirect::to("/")).into_response())
}
