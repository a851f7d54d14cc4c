//! Reloading the dialplans and prompts when their files change or on SIGHUP, without
//! dropping calls: [`crate::phone::PhoneLine::reload`] checks the new set before swapping it
//! in, and keeps the old one on error (logged with its place).
//!
//! Changes are found by polling: a fingerprint of every file's name, size and modification
//! time in the watched directories. Polling every two seconds costs a few `stat` calls and
//! needs no platform watcher.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::phone::events::PhoneEvent;
use crate::phone::line::PhoneLine;

/// What the watched files looked like.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint(Vec<(PathBuf, u64, Option<SystemTime>)>);

impl Fingerprint {
    /// Reads the name, size and modification time of the files directly in `dirs`.
    pub fn of(dirs: &[&Path]) -> Self {
        let mut files = Vec::new();
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if let Ok(meta) = entry.metadata()
                    && meta.is_file()
                {
                    files.push((entry.path(), meta.len(), meta.modified().ok()));
                }
            }
        }
        files.sort();
        Self(files)
    }
}

/// What changed on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// Only dialplan files: the prompts already loaded are kept.
    Dialplans,
    /// Prompts (or on SIGHUP): everything is loaded again.
    All,
}

/// Reloads `line` and logs the outcome; `true` when the new files are in use.
pub fn reload_and_log(line: &PhoneLine, what: Reload) -> bool {
    let result = match what {
        Reload::Dialplans => line.reload_dialplans(),
        Reload::All => line.reload(),
    };
    let ok = match result {
        Ok(()) => true,
        Err(e) => {
            error!(error = %e, "dialplans or prompts refused; the previous ones stay in use");
            false
        }
    };
    line.events().emit(|| PhoneEvent::Reloaded { ok });
    ok
}

/// Watches the line's directories (every `reload_poll_ms`) and SIGHUP until `stop`.
pub fn spawn(line: Arc<PhoneLine>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    let plans_dir = line.dialplan_config().dialplans_dir.clone();
    let prompt_dirs = [
        line.dialplan_config().prompts_dir.clone(),
        line.config().staff_prompts_dir.clone(),
    ];
    let fingerprint = move || {
        (
            Fingerprint::of(&[plans_dir.as_path()]),
            Fingerprint::of(&prompt_dirs.iter().map(PathBuf::as_path).collect::<Vec<_>>()),
        )
    };
    // Taken now, not in the task: a change made right after `spawn` returns is seen.
    let mut seen = fingerprint();
    tokio::spawn(async move {
        let poll = Duration::from_millis(line.config().reload_poll_ms);
        let mut hup = hangup_signal();
        loop {
            let hup_fired = async {
                match hup.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let tick = async {
                if poll.is_zero() {
                    std::future::pending::<()>().await
                } else {
                    tokio::time::sleep(poll).await
                }
            };
            tokio::select! {
                () = stop.cancelled() => break,
                () = hup_fired => {
                    info!("SIGHUP: reloading dialplans and prompts");
                    seen = fingerprint();
                    reload_and_log(&line, Reload::All);
                }
                () = tick => {
                    let now = fingerprint();
                    if now != seen {
                        let what = if now.1 == seen.1 { Reload::Dialplans } else { Reload::All };
                        seen = now;
                        info!(?what, "dialplan or prompt files changed: reloading");
                        reload_and_log(&line, what);
                    }
                }
            }
        }
    })
}

/// SIGHUP, the operators' usual "reload your files" (none if it cannot be installed).
fn hangup_signal() -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_changes_with_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = Fingerprint::of(&[dir.path()]);
        std::fs::write(dir.path().join("x.toml"), "a").unwrap();
        let b = Fingerprint::of(&[dir.path()]);
        assert_ne!(a, b);
        std::fs::write(dir.path().join("x.toml"), "ab").unwrap();
        assert_ne!(b, Fingerprint::of(&[dir.path()]));
        assert_eq!(
            Fingerprint::of(&[&dir.path().join("none")]),
            Fingerprint::default()
        );
    }
}
