//! The web layer's error: each variant becomes a French page with the right status;
//! internal details go to the log only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use thiserror::Error;

use super::layout::{Area, Shell, page};

/// What can go wrong while serving a page.
#[derive(Debug, Error)]
pub enum WebError {
    /// The form's CSRF token is missing or not the session's.
    #[error("le formulaire a expiré ou ne vient pas de ce site ; rechargez la page et recommencez")]
    Csrf,
    /// Input that no form of ours sends.
    #[error("{0}")]
    BadRequest(String),
    /// Something asked for does not exist, or is not this user's.
    #[error("{0}")]
    NotFound(String),
    /// The page is for the other kind of user (parent vs staff).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The upload is larger than allowed.
    #[error("le fichier envoyé est trop volumineux")]
    TooLarge,
    /// A failure inside: database, booking service...
    #[error("le service est momentanément indisponible, merci de réessayer dans quelques instants")]
    Internal(String),
}

impl From<crate::store::StoreError> for WebError {
    fn from(e: crate::store::StoreError) -> Self {
        WebError::Internal(format!("store: {e:?}"))
    }
}

impl From<crate::service::booking::BookingError> for WebError {
    fn from(e: crate::service::booking::BookingError) -> Self {
        match e {
            crate::service::booking::BookingError::Invalid(msg) => WebError::BadRequest(msg),
            other => WebError::Internal(format!("booking: {other:?}")),
        }
    }
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::Csrf | WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Internal(detail) = &self {
            tracing::error!(%detail, "web request failed");
        }
        let shell = Shell {
            title: "Erreur",
            town: "",
            area: Area::Public,
            csrf: None,
        };
        let body = html! {
            h1 { "Impossible d'afficher cette page" }
            p.alert role="alert" { (self.to_string()) }
            p { a href="/" { "Retour à l'accueil" } " · " a href="/aide" { "Aide" } }
        };
        (self.status(), page(&shell, body)).into_response()
    }
}
