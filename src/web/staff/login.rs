//! The staff login (accounts made with `ivr staff add`).

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::{Markup, html};
use serde::Deserialize;

use crate::booking::french::{date_fr, time_fr};
use crate::service::login::{LoginError, Origin};
use crate::service::staff_accounts::{self, StaffError};
use crate::web::device;
use crate::web::error::WebError;
use crate::web::extract::{MaybeSession, SecureCookies, Source, session_cookie};
use crate::web::layout::{Area, Shell, csrf_field, page};
use crate::web::session::Who;
use crate::web::state::AppState;

/// GET /mairie/connexion
pub async fn get(
    State(state): State<AppState>,
    MaybeSession(s): MaybeSession,
    SecureCookies(secure): SecureCookies,
    jar: CookieJar,
) -> Result<Response, WebError> {
    Ok(match s {
        Some((_, d)) if matches!(d.who, Who::Staff { .. }) => {
            Redirect::to("/mairie/message").into_response()
        }
        Some((_, d)) if d.who == Who::Anonymous => {
            (StatusCode::OK, render(&state, &d.csrf, None)).into_response()
        }
        _ => {
            let (id, d) = state.sessions().create(Who::Anonymous, state.now()).await?;
            (
                jar.add(session_cookie(id, secure)),
                render(&state, &d.csrf, None),
            )
                .into_response()
        }
    })
}

fn render(state: &AppState, csrf: &str, error: Option<&str>) -> Markup {
    let shell = Shell {
        title: "Espace mairie",
        town: state.town_name(),
        area: Area::Public,
        csrf: None,
    };
    page(
        &shell,
        html! {
            h1 { "Espace mairie – connexion" }
            div.card {
                @if let Some(e) = error { p.alert role="alert" { (e) } }
                form method="post" action="/mairie/connexion" {
                    (csrf_field(csrf))
                    label for="user" { "Nom d'utilisateur" }
                    input type="text" id="user" name="user" autocomplete="username" required maxlength="64";
                    label for="password" { "Mot de passe" }
                    input type="password" id="password" name="password" autocomplete="current-password" required;
                    button type="submit" { "Se connecter" }
                }
            }
        },
    )
}

/// The staff login form.
#[derive(Deserialize)]
pub struct StaffLoginForm {
    csrf: String,
    user: String,
    password: String,
}

/// POST /mairie/connexion
pub async fn post(
    State(state): State<AppState>,
    session: MaybeSession,
    Source(source): Source,
    SecureCookies(secure): SecureCookies,
    jar: CookieJar,
    Form(form): Form<StaffLoginForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let Some((old_id, old)) = session.0 else {
        return Err(WebError::Csrf);
    };
    let now = state.now();
    let user = form.user.trim();
    let guard = state.service().login_guard();
    let policy = state.staff_policy();
    // The browser's device id: the one its signed cookie carries, else a fresh one that
    // becomes known if the password is right.
    let device_id = device::from_jar(&jar, guard).unwrap_or_else(device::fresh_id);
    let origin = Origin {
        sources: vec![source.clone()],
        device: Some(device::origin_name(&device_id)),
    };
    // The throttle is checked, and the attempt counted, before argon2 runs: a locked
    // source or account costs no hashing.
    let attempt = match guard
        .staff_begin(state.store(), &policy, &origin, user, now)
        .await
    {
        Ok(attempt) => attempt,
        Err(LoginError::TooManyAttempts { retry_after }) => {
            let l = retry_after.with_timezone(&chrono_tz::Europe::Paris);
            let msg = format!(
                "Trop d'essais infructueux : la connexion est bloquée jusqu'au {} à {}.",
                date_fr(l.date_naive()),
                time_fr(l.time())
            );
            tracing::warn!(source = %source, "staff login locked out");
            return Ok((
                StatusCode::TOO_MANY_REQUESTS,
                render(&state, &old.csrf, Some(&msg)),
            )
                .into_response());
        }
        Err(e) => return Err(WebError::Internal(format!("staff login: {e:?}"))),
    };
    let ok = match staff_accounts::check(state.store(), user, &form.password).await {
        Ok(ok) => ok,
        Err(StaffError::Busy) => {
            guard
                .staff_unchecked(state.store(), attempt, now)
                .await
                .map_err(|e| WebError::Internal(format!("staff login: {e:?}")))?;
            tracing::warn!(source = %source, "staff login refused: password checks saturated");
            return Ok((
                StatusCode::SERVICE_UNAVAILABLE,
                render(
                    &state,
                    &old.csrf,
                    Some("Trop de connexions en cours : veuillez réessayer dans un instant."),
                ),
            )
                .into_response());
        }
        Err(e) => return Err(WebError::Internal(format!("staff login: {e:?}"))),
    };
    guard
        .staff_finish(state.store(), attempt, ok, now)
        .await
        .map_err(|e| WebError::Internal(format!("staff login: {e:?}")))?;
    if !ok {
        tracing::info!(source = %source, "staff login refused");
        return Ok((
            StatusCode::UNAUTHORIZED,
            render(
                &state,
                &old.csrf,
                Some("Nom d'utilisateur ou mot de passe incorrect."),
            ),
        )
            .into_response());
    }
    state.sessions().remove(&old_id).await?;
    let (id, _) = state
        .sessions()
        .create(
            Who::Staff {
                user: user.to_owned(),
            },
            now,
        )
        .await?;
    tracing::info!(source = %source, user = %user, "staff logged in");
    // Known from now on: failures from elsewhere no longer lock this browser out.
    let days = policy.known_device_days;
    Ok((
        jar.add(session_cookie(id, secure))
            .add(device::cookie(guard, &device_id, secure, days)),
        Redirect::to("/mairie/message"),
    )
        .into_response())
}
