//! Pre-registration: a parent asks to register a child (one of theirs, or one the town does
//! not know yet) for a service or a whole school year; staff accept or refuse it once, a
//! refusal with a reason the family reads. The rules are here; the store keeps the rows
//! (one decision per request is its conditional update).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use thiserror::Error;

use crate::booking::model::{ChildId, PayerId, ServiceCode};
use crate::service::booking::{BookingError, BookingService};
use crate::store::{NewPreregistration, PreregDecision, PreregistrationId, Store, StoreError};

/// The longest child name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;
/// The longest reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 2000;

/// Why a request or a decision was refused; each says what to correct.
#[derive(Debug, Error)]
pub enum PreregRefused {
    /// A new child without both names.
    #[error("indiquez le prénom et le nom de l'enfant")]
    NameMissing,
    /// A name too long.
    #[error("le prénom et le nom ne doivent pas dépasser {MAX_NAME_CHARS} caractères")]
    NameTooLong,
    /// A child that is not the payer's.
    #[error("cet enfant n'est pas rattaché à votre compte")]
    NotYourChild,
    /// A service the town does not offer.
    #[error("ce service n'est pas proposé par la commune")]
    UnknownService,
    /// A school year other than this one and the next.
    #[error("choisissez l'année scolaire en cours ou la suivante")]
    SchoolYear,
    /// A comment too long.
    #[error("le commentaire dépasse {MAX_COMMENT_CHARS} caractères")]
    CommentTooLong,
    /// A refusal without a reason.
    #[error("indiquez le motif du refus : la famille le lira")]
    ReasonMissing,
    /// A reason too long.
    #[error("le motif dépasse {MAX_REASON_CHARS} caractères")]
    ReasonTooLong,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The booking service failed to read the child.
    #[error(transparent)]
    Booking(#[from] BookingError),
}

/// The school years a request may name: the current one and the next ("2026-2027"); a
/// school year starts in September.
pub fn school_years(today: NaiveDate) -> [String; 2] {
    let start = if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    };
    [
        format!("{}-{}", start, start + 1),
        format!("{}-{}", start + 1, start + 2),
    ]
}

/// Which child a request is for.
#[derive(Debug, Clone, Copy)]
pub enum ForChild<'a> {
    /// One of the payer's children.
    Known(ChildId),
    /// A child the town does not know yet.
    New {
        /// First name.
        first_name: &'a str,
        /// Last name.
        last_name: &'a str,
    },
}

/// A parent's request, as the form gave it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Who asks.
    pub payer: PayerId,
    /// For whom.
    pub child: ForChild<'a>,
    /// The service's code, or `None` for the whole school year.
    pub service: Option<&'a str>,
    /// "2026-2027".
    pub school_year: &'a str,
    /// Free text for staff.
    pub comment: &'a str,
}

/// Checks a request whole, then stores it pending.
pub async fn request(
    booking: &BookingService,
    req: &Request<'_>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<PreregistrationId, PreregRefused> {
    let (child, first_name, last_name) = match req.child {
        ForChild::New {
            first_name,
            last_name,
        } => {
            let (first, last) = (first_name.trim(), last_name.trim());
            if first.is_empty() || last.is_empty() {
                return Err(PreregRefused::NameMissing);
            }
            if first.chars().count() > MAX_NAME_CHARS || last.chars().count() > MAX_NAME_CHARS {
                return Err(PreregRefused::NameTooLong);
            }
            (None, first.to_owned(), last.to_owned())
        }
        ForChild::Known(id) => {
            let c = booking
                .child(req.payer, id)
                .await?
                .ok_or(PreregRefused::NotYourChild)?;
            (Some(c.id), c.first_name, c.last_name)
        }
    };
    let service = match req.service {
        None => None,
        Some(code) => {
            let known = ServiceCode::parse(code)
                .ok()
                .filter(|code| booking.rules().service(code).is_some());
            Some(known.ok_or(PreregRefused::UnknownService)?)
        }
    };
    if !school_years(today).iter().any(|y| y == req.school_year) {
        return Err(PreregRefused::SchoolYear);
    }
    let comment = req.comment.replace("\r\n", "\n");
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(PreregRefused::CommentTooLong);
    }
    Ok(booking
        .store()
        .insert_preregistration(
            &NewPreregistration {
                payer: req.payer,
                child,
                first_name: &first_name,
                last_name: &last_name,
                service: service.as_ref(),
                school_year: req.school_year,
                comment: comment.trim(),
            },
            now,
        )
        .await?)
}

/// Accepts or refuses a pending request, once; a refusal needs a reason. False when the
/// request was decided already or does not exist (nothing changed).
pub async fn decide(
    store: &Store,
    id: PreregistrationId,
    decision: PreregDecision,
    reason: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool, PreregRefused> {
    let reason = reason.trim();
    if decision == PreregDecision::Refuse && reason.is_empty() {
        return Err(PreregRefused::ReasonMissing);
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(PreregRefused::ReasonTooLong);
    }
    Ok(store
        .decide_preregistration(id, decision, reason, by, now)
        .await?)
}
