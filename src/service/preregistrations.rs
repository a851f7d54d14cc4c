//! Pre-registration: a parent asks to register a child (one of theirs, or one the town does
//! not know yet) for a service or a whole school year; staff accept or refuse it once, a
//! refusal with a reason the family reads. The rules are here; the store keeps the rows
//! (one decision per request is its conditional update).
//!
//! A decision finishes the job in one transaction: accepting a request for a new child
//! creates the child (with a fresh, random code); accepting one for a known child and a
//! service records the enrolment; and the family's e-mail is queued in the outbox. So two
//! staff deciding at once make one decision and one child, a failure leaves nothing
//! behind, and no decision is ever without its message.
//!
//! Enrolments do not change booking: every child may book every service, as before; they
//! record what the town agreed to.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rand::Rng;
use rand::rngs::OsRng;
use thiserror::Error;

use crate::booking::model::{ChildCode, ChildId, MAX_CODE_DIGITS, PayerId, ServiceCode};
use crate::service::booking::{BookingError, BookingService};
use crate::store::{
    NewChild, NewPreregistration, PreregDecision, Preregistration, PreregistrationId, Store,
    StoreError, StoreTx,
};

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
    /// Every code drawn for a new child was taken (the codes of that length are nearly all
    /// given): the import should move to longer codes.
    #[error("aucun code enfant libre n'a été trouvé : réessayez, ou passez à des codes plus longs")]
    NoFreeChildCode,
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

/// The codes of the payer's children that an accepted request created, for the family's
/// own portal page: the e-mail never carries them, so the portal is where the family
/// learns them.
pub async fn created_child_codes(
    store: &Store,
    payer: PayerId,
) -> Result<Vec<(ChildId, ChildCode)>, PreregRefused> {
    let mut out = Vec::new();
    for created in store
        .preregistrations_of(payer)
        .await?
        .iter()
        .filter_map(|r| r.created_child)
    {
        if let Some(code) = store.child_code(created).await? {
            out.push((created, code));
        }
    }
    Ok(out)
}

/// A new child code has as many digits as the longest code the town gave (so it is typed
/// like the others on the phone), and never fewer than this: a short code is easy to guess.
pub const MIN_NEW_CHILD_CODE_DIGITS: usize = 4;

/// Codes drawn before giving up: with 4 digits and 90 % of them given, all 100 taken has a
/// chance of 0.9^100, about 3 in 100,000.
const CODE_DRAWS: usize = 100;

/// Accepts or refuses a pending request, once; a refusal needs a reason. False when the
/// request was decided already or does not exist (nothing changed).
///
/// In the same transaction as the decision: an accepted request for a new child creates
/// it for the payer; one for a known child and a service records the enrolment; the
/// family's e-mail is queued when the payer has an address.
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
    // Dropped on any error before the commit, the transaction rolls back: no child without
    // its decision, no decision without its message.
    let mut tx = store.begin().await?;
    let Some(request) = tx
        .decide_preregistration(id, decision, reason, by, now)
        .await?
    else {
        return Ok(false);
    };
    if decision == PreregDecision::Accept {
        finish_acceptance(&mut tx, &request, now).await?;
    }
    tx.queue_preregistration_notice(&format!("preinscription-{}", id.0), request.payer, id, now)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// What accepting does beyond the status.
async fn finish_acceptance(
    tx: &mut StoreTx,
    request: &Preregistration,
    now: DateTime<Utc>,
) -> Result<(), PreregRefused> {
    match (request.child, &request.service) {
        (None, _) => {
            let child = create_child(tx, request).await?;
            tx.set_created_child(request.id, child).await?;
        }
        (Some(child), Some(service)) => {
            let service =
                ServiceCode::parse(service).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            tx.insert_enrolment(child, &service, &request.school_year, request.id, now)
                .await?;
        }
        // A known child for the whole school year: the status says it all.
        (Some(_), None) => {}
    }
    Ok(())
}

/// Creates the requested child for the payer, drawing codes until one is free.
async fn create_child(
    tx: &mut StoreTx,
    request: &Preregistration,
) -> Result<ChildId, PreregRefused> {
    let digits = tx
        .longest_child_code()
        .await?
        .unwrap_or(0)
        .clamp(MIN_NEW_CHILD_CODE_DIGITS, MAX_CODE_DIGITS);
    for _ in 0..CODE_DRAWS {
        let child = NewChild {
            code: draw_child_code(digits),
            payer: request.payer,
            first_name: request.first_name.clone(),
            last_name: request.last_name.clone(),
            // Staff complete school and class later, as for an imported child without them.
            school: String::new(),
            class_label: String::new(),
            teacher: String::new(),
        };
        if let Some(id) = tx.insert_child_if_code_free(&child).await? {
            return Ok(id);
        }
    }
    Err(PreregRefused::NoFreeChildCode)
}

/// A random code of `digits` digits, not starting with 0 (so it keeps its length however
/// it is typed or read), from the operating system's CSPRNG: codes are secrets.
fn draw_child_code(digits: usize) -> ChildCode {
    let mut rng = OsRng;
    let mut code = String::with_capacity(digits);
    code.push(char::from(b'0' + rng.gen_range(1..=9u8)));
    for _ in 1..digits {
        code.push(char::from(b'0' + rng.gen_range(0..=9u8)));
    }
    ChildCode::parse(&code).expect("digits only, within MAX_CODE_DIGITS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_codes_have_the_length_asked_and_vary() {
        let codes: std::collections::HashSet<String> = (0..50)
            .map(|_| draw_child_code(6).expose().to_owned())
            .collect();
        assert!(codes.iter().all(|c| c.len() == 6 && !c.starts_with('0')));
        assert!(codes.len() > 40, "random: {} distinct of 50", codes.len());
    }
}
