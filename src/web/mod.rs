//! The web portal: the parents' pages of the seed (login, planning, recap, last changes,
//! other child, help) and the staff's essentials (town message, recorded announcement,
//! deadline overrides and closures, head-count), plus pre-registration requests (parents ask,
//! staff accept or refuse), served by axum with maud templates.
//!
//! No page needs JavaScript. Every form is a POST carrying the session's CSRF token;
//! codes and passwords never appear in a URL or a log line.

pub mod chart;
pub mod config;
pub mod device;
pub mod error;
pub mod extract;
pub mod layout;
pub mod parent;
pub mod payment_ipn;
pub mod session;
pub mod staff;
pub mod state;
pub mod url_date;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::net::TcpListener;

pub use config::WebConfig;
pub use state::{AppState, Invoicing};

/// The stylesheet, compiled in (one file, no build step).
const STYLE_CSS: &str = include_str!("../../static/style.css");

async fn health() -> &'static str {
    "ok"
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE_CSS,
    )
}

async fn not_found() -> error::WebError {
    error::WebError::NotFound("cette page n'existe pas".to_owned())
}

/// Security headers on every response: no framing (clickjacking), no MIME sniffing, no
/// referrer leaving the site, and a CSP that allows only our own stylesheet and audio.
async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // A page may set a stricter or specific policy (the payment form posts to the bank).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; media-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages show a family's bookings: not for shared caches or the back button's
        // copy after logout.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// The portal's routes over `state`.
pub fn router(state: AppState) -> Router {
    let upload_limit = state.config().max_upload_bytes;
    Router::new()
        .route("/health", get(health))
        .route("/static/style.css", get(style))
        // Parents.
        .route("/", get(parent::login::get))
        .route("/connexion", post(parent::login::post))
        .route("/deconnexion", post(parent::login::logout))
        .route("/aide", get(parent::help::get))
        .route(
            "/planning",
            get(parent::planning::get).post(parent::planning::post),
        )
        .route("/historique", get(parent::history::get))
        .route(
            "/semaine-type",
            get(parent::usual_week::get).post(parent::usual_week::post),
        )
        .route("/semaine-type/arreter", post(parent::usual_week::stop))
        .route(
            "/enfants",
            get(parent::children::get).post(parent::children::post),
        )
        .route("/factures", get(parent::invoices::get))
        .route(
            "/preinscription",
            get(parent::preregistration::get).post(parent::preregistration::post),
        )
        .route("/factures/avis", post(parent::invoices::opt_in))
        .route("/factures/{id}/facture.pdf", get(parent::invoices::pdf))
        .route("/factures/paiement", post(parent::pay::choose))
        .route(
            "/factures/paiement/carte",
            post(parent::pay::systempay_form),
        )
        .route("/factures/paiement/retour", get(parent::pay::back))
        .route("/paiement/systempay/ipn", post(payment_ipn::systempay))
        .route(
            "/factures/paiement/payfip",
            post(parent::pay::payfip_redirect),
        )
        .route(
            "/paiement/payfip/retour",
            get(payment_ipn::payfip_return).post(payment_ipn::payfip_return),
        )
        .route(
            "/paiement/payfip/notif",
            post(payment_ipn::payfip_notification),
        )
        // Staff.
        .route(
            "/mairie",
            get(|| async { axum::response::Redirect::to("/mairie/message") }),
        )
        .route(
            "/mairie/connexion",
            get(staff::login::get).post(staff::login::post),
        )
        .route("/mairie/deconnexion", post(parent::login::logout))
        .route(
            "/mairie/message",
            get(staff::message::get).post(staff::message::post),
        )
        .route(
            "/mairie/annonce",
            get(staff::announcement::get)
                .post(staff::announcement::upload)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/mairie/annonce/{id}",
            post(staff::announcement::set_validity),
        )
        .route(
            "/mairie/annonce/{id}/ecouter.wav",
            get(staff::announcement::listen),
        )
        .route(
            "/mairie/voix",
            get(staff::voice::get)
                .post(staff::voice::upload)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/mairie/voix/{id}/origine", post(staff::voice::restore))
        .route("/mairie/voix/{id}/ecouter.wav", get(staff::voice::listen))
        .route("/mairie/delais", get(staff::deadlines::get))
        .route(
            "/mairie/delais/derogation",
            post(staff::deadlines::add_override),
        )
        .route(
            "/mairie/delais/derogation/{id}/supprimer",
            post(staff::deadlines::remove_override),
        )
        .route(
            "/mairie/delais/fermeture",
            post(staff::deadlines::add_closure),
        )
        .route(
            "/mairie/delais/fermeture/{date}/supprimer",
            post(staff::deadlines::remove_closure),
        )
        .route("/mairie/tableau-de-bord", get(staff::dashboard::get))
        .route("/mairie/effectifs", get(staff::headcount::get))
        .route("/mairie/effectifs.csv", get(staff::headcount::csv))
        .route(
            "/mairie/factures",
            get(staff::invoices::get).post(staff::invoices::generate),
        )
        .route("/mairie/factures/doubles", post(staff::invoices::refunded))
        .route("/mairie/preinscriptions", get(staff::preregistrations::get))
        .route(
            "/mairie/preinscriptions/{id}",
            post(staff::preregistrations::decide),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Serves the portal on `listener` until the task is dropped or the server fails.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}
