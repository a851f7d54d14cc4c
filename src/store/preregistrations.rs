//! Pre-registration requests ("préinscriptions"): a parent asks, staff decide once.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, on_pool};
use crate::booking::model::{ChildId, PayerId, ServiceCode};

/// The database id of a pre-registration request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PreregistrationId(pub i64);

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreregStatus {
    /// Not decided yet.
    Pending,
    /// Accepted by staff.
    Accepted,
    /// Refused by staff, with a reason.
    Refused,
}

impl PreregStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            PreregStatus::Pending => "pending",
            PreregStatus::Accepted => "accepted",
            PreregStatus::Refused => "refused",
        }
    }

    /// The French label shown to parents and staff.
    pub fn label_fr(self) -> &'static str {
        match self {
            PreregStatus::Pending => "en attente",
            PreregStatus::Accepted => "acceptée",
            PreregStatus::Refused => "refusée",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "pending" => PreregStatus::Pending,
            "accepted" => PreregStatus::Accepted,
            "refused" => PreregStatus::Refused,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "statut de préinscription {other}"
                )));
            }
        })
    }
}

/// A staff decision on a pending request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreregDecision {
    /// Accept it.
    Accept,
    /// Refuse it (the caller checks that a reason is given; the table refuses none).
    Refuse,
}

impl PreregDecision {
    /// The status the request gets.
    pub fn status(self) -> PreregStatus {
        match self {
            PreregDecision::Accept => PreregStatus::Accepted,
            PreregDecision::Refuse => PreregStatus::Refused,
        }
    }
}

/// A request to store (already checked by the caller: names not empty, child the payer's).
#[derive(Debug, Clone)]
pub struct NewPreregistration<'a> {
    /// The family asking.
    pub payer: PayerId,
    /// The child, when already known to the town.
    pub child: Option<ChildId>,
    /// The child's first name.
    pub first_name: &'a str,
    /// The child's last name.
    pub last_name: &'a str,
    /// One service, or `None` for the whole school year.
    pub service: Option<&'a ServiceCode>,
    /// The school year asked for, "2027-2028".
    pub school_year: &'a str,
    /// The parent's comment (may be empty).
    pub comment: &'a str,
}

/// A stored request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preregistration {
    /// Its id.
    pub id: PreregistrationId,
    /// The family asking.
    pub payer: PayerId,
    /// The child, when already known.
    pub child: Option<ChildId>,
    /// The child's first name.
    pub first_name: String,
    /// The child's last name.
    pub last_name: String,
    /// The service code, or `None` for the whole school year.
    pub service: Option<String>,
    /// The school year asked for.
    pub school_year: String,
    /// The parent's comment.
    pub comment: String,
    /// Where it stands.
    pub status: PreregStatus,
    /// The staff's reason (required for a refusal, optional otherwise).
    pub staff_reason: String,
    /// When it was asked.
    pub created_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// The staff user who decided.
    pub decided_by: Option<String>,
}

const COLUMNS: &str = "id, payer_id, child_id, child_first_name, child_last_name, service, \
     school_year, comment, status, staff_reason, created_at, decided_at, decided_by";

macro_rules! prereg_from_row {
    ($row:expr) => {{
        let row = $row;
        let status: String = row.try_get("status")?;
        Preregistration {
            id: PreregistrationId(row.try_get("id")?),
            payer: PayerId(row.try_get("payer_id")?),
            child: row.try_get::<Option<i64>, _>("child_id")?.map(ChildId),
            first_name: row.try_get("child_first_name")?,
            last_name: row.try_get("child_last_name")?,
            service: row.try_get("service")?,
            school_year: row.try_get("school_year")?,
            comment: row.try_get("comment")?,
            status: PreregStatus::parse(&status)?,
            staff_reason: row.try_get("staff_reason")?,
            created_at: row.try_get("created_at")?,
            decided_at: row.try_get("decided_at")?,
            decided_by: row.try_get("decided_by")?,
        }
    }};
}

impl Store {
    /// Stores a new pending request.
    pub async fn insert_preregistration(
        &self,
        req: &NewPreregistration<'_>,
        now: DateTime<Utc>,
    ) -> Result<PreregistrationId, StoreError> {
        let id: i64 = on_pool!(self, p => sqlx::query_scalar(
            "INSERT INTO preregistrations (payer_id, child_id, child_first_name, \
             child_last_name, service, school_year, comment, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8) RETURNING id",
        )
        .bind(req.payer.0)
        .bind(req.child.map(|c| c.0))
        .bind(req.first_name)
        .bind(req.last_name)
        .bind(req.service.map(|s| s.to_string()))
        .bind(req.school_year)
        .bind(req.comment)
        .bind(now)
        .fetch_one(p)
        .await?);
        Ok(PreregistrationId(id))
    }

    /// One family's requests, newest first.
    pub async fn preregistrations_of(
        &self,
        payer: PayerId,
    ) -> Result<Vec<Preregistration>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM preregistrations WHERE payer_id = $1 ORDER BY id DESC"
            ))
            .bind(payer.0)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(prereg_from_row!(&row));
            }
            Ok(out)
        })
    }

    /// Every request for staff: pending ones first (oldest first, the order they came in),
    /// then decided ones (latest decision first).
    pub async fn preregistrations_for_staff(&self) -> Result<Vec<Preregistration>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM preregistrations \
                 ORDER BY CASE WHEN status = 'pending' THEN 0 ELSE 1 END, \
                 CASE WHEN status = 'pending' THEN id ELSE -id END"
            ))
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(prereg_from_row!(&row));
            }
            Ok(out)
        })
    }

    /// Decides a pending request once: `Ok(false)` when it does not exist or was already
    /// decided (the `WHERE status = 'pending'` makes two concurrent decisions one).
    pub async fn decide_preregistration(
        &self,
        id: PreregistrationId,
        decision: PreregDecision,
        reason: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE preregistrations SET status = $1, staff_reason = $2, decided_at = $3, \
             decided_by = $4 WHERE id = $5 AND status = 'pending'",
        )
        .bind(decision.status().as_str())
        .bind(reason)
        .bind(now)
        .bind(by)
        .bind(id.0)
        .execute(p)
        .await?
        .rows_affected());
        Ok(done == 1)
    }
}
