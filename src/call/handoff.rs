//! Hand-over of work to a thread that may run one real-time priority step above the
//! threads that hand it over: the RTP threads (new calls) and the load caller's RTP thread
//! (its calls' commands).
//!
//! Not a channel: std's channel makes a receiver spin (yielding) while a sender is half-way
//! through a send, and a receiver one priority step above the sender on the same core never
//! lets the sender finish: the core spins for ever. That froze the server twice under load.
//! Here the receiving thread takes what is there with `try_lock`, never waiting for a
//! sender (held now, taken next time), and blocks (a futex wait, which lets the holder run)
//! only when it has nothing else to do.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, TryLockError};

/// Items on their way to one thread.
pub(crate) struct Handoff<T> {
    pending: Mutex<Pending<T>>,
    arrived: Condvar,
}

struct Pending<T> {
    items: Vec<T>,
    /// No more items will come: a waiting thread wakes and ends.
    closed: bool,
}

impl<T> Default for Handoff<T> {
    fn default() -> Self {
        Handoff {
            pending: Mutex::new(Pending {
                items: Vec::new(),
                closed: false,
            }),
            arrived: Condvar::new(),
        }
    }
}

impl<T> Handoff<T> {
    /// A panic while the lock was held leaves the items usable: each is whole.
    fn lock(&self) -> MutexGuard<'_, Pending<T>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands `item` over (the sending side may wait for the lock: it is not the thread
    /// that must never wait).
    pub(crate) fn push(&self, item: T) {
        self.lock().items.push(item);
        self.arrived.notify_one();
    }

    /// No more items: a thread waiting in [`Handoff::wait_take`] ends.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.arrived.notify_one();
    }

    /// Moves what is there into `into`, unless a sender holds the lock right now (then it
    /// comes next time). Never waits.
    pub(crate) fn try_take(&self, into: &mut Vec<T>) {
        match self.pending.try_lock() {
            Ok(mut pending) => into.append(&mut pending.items),
            Err(TryLockError::Poisoned(e)) => into.append(&mut e.into_inner().items),
            Err(TryLockError::WouldBlock) => {}
        }
    }

    /// Waits until items come, and moves them into `into`; false once closed with nothing
    /// left.
    pub(crate) fn wait_take(&self, into: &mut Vec<T>) -> bool {
        let mut pending = self.lock();
        while pending.items.is_empty() && !pending.closed {
            pending = self
                .arrived
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if pending.items.is_empty() {
            return false;
        }
        into.append(&mut pending.items);
        true
    }

    /// Holds the lock as a stalled sender would (tests).
    #[cfg(test)]
    pub(crate) fn hold(&self) -> impl Drop + '_ {
        self.lock()
    }
}
