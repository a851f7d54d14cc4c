//! Storage: one [`Store`] over SQLite (the embedded default) or PostgreSQL (several nodes).
//!
//! The backend is chosen by the database URL (`sqlite://…` or `postgres://…`). Both run
//! the same SQL text (SQLite accepts PostgreSQL's `$1` placeholders), written once: the
//! [`on_pool!`] and [`on_tx!`] macros expand a body for each backend's concrete types, so
//! there is no second copy to keep in step and no `dyn` over async methods. Only the
//! migrations differ (`migrations/sqlite`, `migrations/postgres`), in column types only.
//!
//! Reads go through [`Store`]; writes go through a [`StoreTx`] so that the booking service
//! can check a deadline and write in one transaction. Uniqueness that matters (codes, one
//! booking per child, date and service) is a database constraint.

mod announcements;
mod calendar;
mod call_records;
mod changes;
mod connect;
mod error;
mod families;
mod invoices;
mod login;
mod outbox;
mod payments;
mod preregistrations;
mod prompt_overrides;
mod records;
mod school_holidays;
mod sessions;
mod settings;
mod staff_accounts;
pub mod testing;
mod tx;
mod usual_weeks;

pub use announcements::{Announcement, AnnouncementId, NewAnnouncement, Validity};
pub use call_records::{CallOutcome, CallRecord, ChannelChanges, EndedBy, day_range};
pub use changes::{CHANNEL, Topic};
pub use error::StoreError;
pub use invoices::{InvoiceId, MonthBookings, NewInvoice, StoredInvoice};
pub use login::LoginKeyKind;
pub use outbox::{NoticeSubject, PendingNotice};
pub use payments::{
    DuplicatePayment, NewPaymentRequest, PaymentId, PaymentRequestId, StoredPaymentRequest,
};
pub use preregistrations::{
    NewPreregistration, PreregDecision, PreregOutcome, PreregStatus, Preregistration,
    PreregistrationId,
};
pub use prompt_overrides::{NewPromptOverride, PromptOverride};
pub use records::{
    Child, Closure, HeadCount, HistoryEntry, LoginCounter, NewChild, NewPayer, OverrideId, Payer,
    StoredOverride,
};
pub use sessions::{SessionOwner, StoredSession};
pub use tx::StoreTx;
pub use usual_weeks::{StoredUsualWeek, UsualWeekRun};

use sqlx::{PgPool, SqlitePool};

/// Runs `$body` with `$p` bound to the concrete pool of `$store`, once per backend.
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($p) => $body,
            $crate::store::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Runs `$body` with `$c` bound to the concrete `&mut Transaction` of `$tx`, once per
/// backend; use `&mut **$c` as the executor.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match &mut $tx.inner {
            $crate::store::tx::TxInner::Sqlite($c) => $body,
            $crate::store::tx::TxInner::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_tx;

/// The connection pool of one backend.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database: a cheap-to-clone handle on a connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: Pool,
    /// Changes pushed by PostgreSQL, shared by the clones of this store.
    pub(crate) changes: std::sync::Arc<changes::ChangeNotices>,
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, one file (the embedded default).
    Sqlite,
    /// PostgreSQL, shared by several nodes.
    Postgres,
}

impl Store {
    /// A store on `pool`, no change heard yet.
    pub(crate) fn on(pool: Pool) -> Store {
        Store {
            pool,
            changes: std::sync::Arc::default(),
        }
    }

    /// The backend behind this store.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a write transaction.
    ///
    /// On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken at once (waiting up to the
    /// busy timeout), so a transaction that reads then writes cannot fail half-way on a lock
    /// upgrade. On PostgreSQL it is READ COMMITTED: writers of one cell serialise on the
    /// row and on the unique index (`INSERT … ON CONFLICT`, `DELETE`), and the outcome is
    /// decided by what the write did, not by an earlier read.
    pub async fn begin(&self) -> Result<StoreTx, StoreError> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => tx::TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => tx::TxInner::Postgres(p.begin().await?),
        };
        Ok(StoreTx { inner })
    }

    /// Closes every connection (tests call it before dropping their database).
    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }
}
