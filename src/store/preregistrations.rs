//! Pre-registration requests ("préinscriptions"): a parent asks, staff decide once.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, StoreTx, on_pool, on_tx};
use crate::booking::model::{ChildCode, ChildId, PayerId, ServiceCode};

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
    /// The child its acceptance created (a request for a child the town did not know).
    pub created_child: Option<ChildId>,
}

impl Preregistration {
    /// What its acceptance did beyond the status, for staff: a child created or an
    /// enrolment recorded; `None` while not accepted, and for a known child accepted for
    /// the whole school year (the status says it all).
    pub fn outcome(&self) -> Option<PreregOutcome> {
        if self.status != PreregStatus::Accepted {
            return None;
        }
        match (self.created_child, self.child, &self.service) {
            (Some(_), _, _) => Some(PreregOutcome::ChildCreated),
            (None, Some(_), Some(_)) => Some(PreregOutcome::Enrolled),
            _ => None,
        }
    }
}

/// What an accepted request did beyond its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreregOutcome {
    /// A new child row, with a fresh code, for the payer.
    ChildCreated,
    /// The known child's enrolment in the service for the school year.
    Enrolled,
}

impl PreregOutcome {
    /// The French label shown to staff.
    pub fn label_fr(self) -> &'static str {
        match self {
            PreregOutcome::ChildCreated => "enfant créé",
            PreregOutcome::Enrolled => "inscription enregistrée",
        }
    }
}

const COLUMNS: &str = "id, payer_id, child_id, child_first_name, child_last_name, service, \
     school_year, comment, status, staff_reason, created_at, decided_at, decided_by, \
     created_child_id";

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
            created_child: row
                .try_get::<Option<i64>, _>("created_child_id")?
                .map(ChildId),
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
}

impl StoreTx {
    /// Decides a pending request once and returns it as decided; `None` when it does not
    /// exist or was already decided. The `WHERE status = 'pending'` makes two concurrent
    /// decisions one: on PostgreSQL the second waits on the row, then finds it decided.
    pub async fn decide_preregistration(
        &mut self,
        id: PreregistrationId,
        decision: PreregDecision,
        reason: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Preregistration>, StoreError> {
        on_tx!(self, c => {
            let row = sqlx::query(&format!(
                "UPDATE preregistrations SET status = $1, staff_reason = $2, decided_at = $3, \
                 decided_by = $4 WHERE id = $5 AND status = 'pending' RETURNING {COLUMNS}"
            ))
            .bind(decision.status().as_str())
            .bind(reason)
            .bind(now)
            .bind(by)
            .bind(id.0)
            .fetch_optional(&mut **c)
            .await?;
            match row {
                Some(row) => Ok(Some(prereg_from_row!(&row))),
                None => Ok(None),
            }
        })
    }

    /// The longest child code in use, in digits (`None` with no child yet).
    pub async fn longest_child_code(&mut self) -> Result<Option<usize>, StoreError> {
        let n: Option<i64> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT CAST(MAX(LENGTH(code)) AS BIGINT) FROM children",
        )
        .fetch_one(&mut **c)
        .await?);
        Ok(n.and_then(|n| usize::try_from(n).ok()))
    }

    /// Records the child an accepted request created.
    pub async fn set_created_child(
        &mut self,
        id: PreregistrationId,
        child: ChildId,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "UPDATE preregistrations SET created_child_id = $1 WHERE id = $2",
        )
        .bind(child.0)
        .bind(id.0)
        .execute(&mut **c)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Records the enrolment of a known child in a service for a school year; false when
    /// it was recorded already (an earlier accepted request: the UNIQUE triple decides).
    pub async fn insert_enrolment(
        &mut self,
        child: ChildId,
        service: &ServiceCode,
        school_year: &str,
        request: PreregistrationId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_tx!(self, c => sqlx::query(
            "INSERT INTO enrolments (child_id, service, school_year, preregistration_id, \
             created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (child_id, service, school_year) DO NOTHING",
        )
        .bind(child.0)
        .bind(service.as_str())
        .bind(school_year)
        .bind(request.0)
        .bind(now)
        .execute(&mut **c)
        .await?
        .rows_affected());
        Ok(done == 1)
    }

    /// Queues the e-mail telling the family of a decision, if the payer has an address;
    /// false when it has none or the key was queued already (the UNIQUE key decides).
    pub async fn queue_preregistration_notice(
        &mut self,
        key: &str,
        payer: PayerId,
        request: PreregistrationId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_tx!(self, c => sqlx::query(
            "INSERT INTO mail_outbox (key, payer_id, preregistration_id, attempts, \
             next_attempt_at, created_at) SELECT $1, id, $3, 0, $4, $4 FROM payers \
             WHERE id = $2 AND length(trim(email)) > 0 ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(payer.0)
        .bind(request.0)
        .bind(now)
        .execute(&mut **c)
        .await?
        .rows_affected());
        Ok(done == 1)
    }
}

impl Store {
    /// The (child, service, school year) enrolments recorded for a child.
    pub async fn enrolments_of(
        &self,
        child: ChildId,
    ) -> Result<Vec<(ServiceCode, String)>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT service, school_year FROM enrolments WHERE child_id = $1 \
                 ORDER BY school_year, service",
            )
            .bind(child.0)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((
                    super::tx::service_code(row.try_get("service")?)?,
                    row.try_get("school_year")?,
                ));
            }
            Ok(out)
        })
    }

    /// The code of a child, for its own family's portal page only (codes are secrets:
    /// never log it, never put it in an e-mail).
    pub async fn child_code(&self, child: ChildId) -> Result<Option<ChildCode>, StoreError> {
        let code: Option<String> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT code FROM children WHERE id = $1",
        )
        .bind(child.0)
        .fetch_optional(p)
        .await?);
        code.map(|c| ChildCode::parse(&c).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }
}
