//! Changes pushed from the database (PostgreSQL): what lets a node keep caches of rows that
//! other nodes change, without asking the database at every call.
//!
//! Triggers (`migrations/postgres/20261204120000_change_notices.sql`) send a notice on
//! [`CHANNEL`] when a row of a [`Topic`] changes; [`Store::spawn_change_listener`] listens
//! and bumps that topic's generation. A cache keeps the generation it read at and is good
//! while [`Store::change_generation`] still gives that number: one atomic load per call, no
//! lock. Notices sent while the listener is disconnected are lost, so while it is not
//! listening the generation is `None` (every call reads, as without notices), and once it
//! listens again every generation moves (every cache is read again once).
//!
//! On SQLite the generation is always `None`: `ivr web` and `ivr serve` may be two
//! processes on one file, so a change made by one could not be pushed to the other, and a
//! read of a local file at each call costs little.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{Pool, Store};

/// The channel the triggers notify on.
pub const CHANNEL: &str = "ivr_changes";

/// How long the listener waits before connecting again after a failure.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// What changed: the payload of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// The announcements (which one is active, their audio).
    Announcements,
    /// The town's recordings of prompts.
    Prompts,
}

impl Topic {
    const ALL: [Topic; 2] = [Topic::Announcements, Topic::Prompts];

    fn index(self) -> usize {
        match self {
            Topic::Announcements => 0,
            Topic::Prompts => 1,
        }
    }

    /// The topic a notice's payload names; `None` for one this version does not know (a
    /// newer node's), which moves every topic.
    fn of_payload(payload: &str) -> Option<Topic> {
        match payload {
            "announcements" => Some(Topic::Announcements),
            "prompts" => Some(Topic::Prompts),
            _ => None,
        }
    }
}

/// Whether notices are being received, and a generation per topic.
#[derive(Debug, Default)]
pub(crate) struct ChangeNotices {
    listening: AtomicBool,
    generations: [AtomicU64; 2],
}

impl ChangeNotices {
    fn generation(&self, topic: Topic) -> Option<u64> {
        // Acquire pairs with `listening_again`: a reader that sees `true` sees the
        // generations moved before it.
        self.listening
            .load(Ordering::Acquire)
            .then(|| self.generations[topic.index()].load(Ordering::Acquire))
    }

    pub(crate) fn changed(&self, topic: Topic) {
        self.generations[topic.index()].fetch_add(1, Ordering::AcqRel);
    }

    fn notice(&self, payload: &str) {
        match Topic::of_payload(payload) {
            Some(topic) => self.changed(topic),
            None => Topic::ALL.iter().for_each(|t| self.changed(*t)),
        }
    }

    /// The connection is gone: from now on every call reads.
    fn lost(&self) {
        self.listening.store(false, Ordering::Release);
    }

    /// Listening (again): whatever changed meanwhile was not told, so everything is stale.
    fn listening_again(&self) {
        Topic::ALL.iter().for_each(|t| self.changed(*t));
        self.listening.store(true, Ordering::Release);
    }
}

impl Store {
    /// The generation of `topic` while changes are pushed to this node: a cache filled
    /// when it was `Some(g)` (read before the rows) is good while it still is `Some(g)`.
    /// `None` on SQLite and while the listener is not connected: read at every use.
    pub fn change_generation(&self, topic: Topic) -> Option<u64> {
        self.changes.generation(topic)
    }

    /// Marks `topic` changed on this node at once, for a write made through this store
    /// (its own notice arrives a moment later).
    pub(crate) fn changed_here(&self, topic: Topic) {
        self.changes.changed(topic);
    }

    /// Starts listening for changes (PostgreSQL; `None` on SQLite, where there is nothing
    /// to listen to) until `stop` or the pool closes. A lost connection is made again
    /// every [`RECONNECT_PAUSE`]; meanwhile calls read the database as without notices.
    pub fn spawn_change_listener(
        &self,
        stop: CancellationToken,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let Pool::Postgres(pool) = &self.pool else {
            return None;
        };
        let (pool, store) = (pool.clone(), self.clone());
        Some(tokio::spawn(async move {
            tokio::select! {
                () = listen(&pool, &store.changes) => {}
                () = stop.cancelled() => {}
            }
            store.changes.lost();
        }))
    }
}

/// Connects, listens and counts notices; connects again whenever the connection is lost.
/// Returns when the pool is closed.
async fn listen(pool: &PgPool, changes: &ChangeNotices) {
    let mut first = true;
    loop {
        if !first {
            tokio::time::sleep(RECONNECT_PAUSE).await;
        }
        first = false;
        if pool.is_closed() {
            return;
        }
        let mut listener = match PgListener::connect_with(pool).await {
            Ok(l) => l,
            Err(e) => {
                warn!(error = %e, "change notices: no connection; calls read the database");
                continue;
            }
        };
        // Told at once when the connection is lost (not after reconnecting inside
        // `try_recv`), so that calls read the database for as long as nothing is heard.
        listener.eager_reconnect(false);
        if let Err(e) = listener.listen(CHANNEL).await {
            warn!(error = %e, "change notices: LISTEN failed; calls read the database");
            continue;
        }
        changes.listening_again();
        info!(channel = CHANNEL, "change notices: listening");
        loop {
            match listener.try_recv().await {
                Ok(Some(notice)) => changes.notice(notice.payload()),
                Ok(None) => {
                    changes.lost();
                    warn!("change notices: connection lost; calls read the database");
                    break;
                }
                Err(sqlx::Error::PoolClosed) => return,
                Err(e) => {
                    changes.lost();
                    warn!(error = %e, "change notices: connection failed; calls read the database");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generation_is_given_only_while_listening_and_moves_on_reconnection() {
        let c = ChangeNotices::default();
        assert_eq!(c.generation(Topic::Prompts), None, "not listening yet");
        c.listening_again();
        let (a, p) = (
            c.generation(Topic::Announcements).unwrap(),
            c.generation(Topic::Prompts).unwrap(),
        );
        c.notice("announcements");
        assert_eq!(c.generation(Topic::Announcements), Some(a + 1));
        assert_eq!(
            c.generation(Topic::Prompts),
            Some(p),
            "the other topic stays"
        );
        c.notice("something newer");
        assert_eq!(c.generation(Topic::Prompts), Some(p + 1));
        c.lost();
        assert_eq!(c.generation(Topic::Announcements), None);
        c.listening_again();
        assert_eq!(c.generation(Topic::Announcements), Some(a + 3));
        assert_eq!(c.generation(Topic::Prompts), Some(p + 2));
    }
}
