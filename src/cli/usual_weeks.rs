//! The usual weeks' nightly job, at the edge: the loop that reads the server's clock,
//! runs [`book_usual_weeks`] once at start-up (a server down over a night misses no
//! week) and then each night at [`NIGHT_RUN_AT`], town time.
//!
//! [`NIGHT_RUN_AT`]: ivr::service::usual_weeks::NIGHT_RUN_AT

use std::sync::Arc;

use ivr::clock::Clock;
use ivr::service::booking::BookingService;
use ivr::service::usual_weeks::{RunTrigger, book_usual_weeks, next_night_run};

/// Runs the job at start and each night until the task is dropped. A failed pass is
/// logged; the next one tries again.
pub async fn nightly(service: BookingService, clock: Arc<dyn Clock>) {
    let mut trigger = RunTrigger::Startup;
    loop {
        if let Err(e) = book_usual_weeks(&service, trigger, clock.now()).await {
            tracing::warn!(error = %e, "usual weeks' pass failed; tried again next night");
        }
        trigger = RunTrigger::Night;
        let now = clock.now();
        let next = next_night_run(service.rules().timezone(), now);
        let wait = (next - now).to_std().unwrap_or_default();
        // At least a minute: a clock that jumps back cannot make the loop spin.
        tokio::time::sleep(wait.max(std::time::Duration::from_secs(60))).await;
    }
}
