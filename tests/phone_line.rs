//! The voice line's shared state without calls: reloading the dialplans and prompts (a
//! dialplan that fails its checks is refused and the running set kept; a good change is
//! picked up by the watcher without a restart) and the staff PIN's guard.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow};
use ivr::booking::service::BookingService;
use ivr::config::Config;
use ivr::dialplan::DialplanConfig;
use ivr::phone::{EventSink, PhoneConfig, PhoneEvent, PhoneLine, SystemClock, reload};
use ivr::store::Store;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

async fn line(
    dir: &Path,
    poll_ms: u64,
) -> Result<(Arc<PhoneLine>, mpsc::UnboundedReceiver<PhoneEvent>)> {
    let plans = dir.join("dialplans");
    std::fs::create_dir_all(&plans)?;
    std::fs::copy(
        root().join("dialplans/default.toml"),
        plans.join("default.toml"),
    )?;
    let url = format!("sqlite://{}", dir.join("ivr.sqlite").display());
    let service = BookingService::from_config(Store::open(&url).await?, &Config::default()).await?;
    let (sink, events) = EventSink::channel();
    let line = PhoneLine::load(
        service,
        DialplanConfig {
            dialplans_dir: plans,
            prompts_dir: root().join("prompts/fr"),
        },
        PhoneConfig {
            data_dir: dir.join("data"),
            staff_prompts_dir: root().join("prompts/staff"),
            reload_poll_ms: poll_ms,
            ..PhoneConfig::default()
        },
        Arc::new(SystemClock),
        sink,
    )?;
    Ok((line, events))
}

/// A second line for the number 04 76 54 99 80, as a town adds one.
const SECOND_LINE: &str = "[dialplan]\nnumbers = [\"04 76 54 99 80\"]\nstart = \"bye\"\n\
    timezone = \"Europe/Paris\"\n\n[nodes.bye]\nkind = \"play\"\nprompts = [\"bienvenue\"]\n\
    barge_in = false\nnext = \"end\"\n\n[nodes.end]\nkind = \"hangup\"\n";

#[tokio::test]
async fn a_dialplan_failing_its_checks_is_refused_and_the_old_one_kept() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (line, _events) = line(dir.path(), 0).await?;
    let plans = dir.path().join("dialplans");
    assert_eq!(line.dialplans().plans().len(), 1);

    // An unknown prompt: refused, with the file and node named.
    std::fs::write(
        plans.join("second.toml"),
        SECOND_LINE.replace("\"bienvenue\"", "\"pas_un_message\""),
    )?;
    let err = line.reload().expect_err("an unknown prompt is refused");
    let text = err.to_string();
    assert!(
        text.contains("second.toml") && text.contains("pas_un_message"),
        "{text}"
    );
    assert_eq!(line.dialplans().plans().len(), 1, "the running set stays");
    assert_eq!(line.dialplans().select("0476549980").name(), "default");

    // Fixed: taken at the next reload.
    std::fs::write(plans.join("second.toml"), SECOND_LINE)?;
    line.reload()?;
    assert_eq!(line.dialplans().select("0476549980").name(), "second");
    assert_eq!(line.dialplans().select("0476549985").name(), "default");
    Ok(())
}

#[tokio::test]
async fn the_watcher_reloads_when_a_file_changes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (line, mut events) = line(dir.path(), 50).await?;
    let stop = CancellationToken::new();
    let watcher = reload::spawn(line.clone(), stop.clone());
    let reloaded = async |events: &mut mpsc::UnboundedReceiver<PhoneEvent>| -> Result<bool> {
        tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(ev) = events.recv().await {
                if let PhoneEvent::Reloaded { ok } = ev {
                    return Ok(ok);
                }
            }
            Err(anyhow!("events closed"))
        })
        .await
        .map_err(|_| anyhow!("no reload seen"))?
    };

    let plans = dir.path().join("dialplans");
    std::fs::write(plans.join("second.toml"), "not toml [")?;
    assert!(!reloaded(&mut events).await?, "a broken file is refused");
    assert_eq!(line.dialplans().plans().len(), 1);
    std::fs::write(plans.join("second.toml"), SECOND_LINE)?;
    assert!(reloaded(&mut events).await?);
    assert_eq!(line.dialplans().select("04 76 54 99 80").name(), "second");

    stop.cancel();
    watcher.await?;
    Ok(())
}

#[tokio::test]
async fn the_staff_line_locks_a_caller_after_five_wrong_pins_not_the_others() -> Result<()> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    use ivr::phone::ManualClock;
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("ivr.sqlite").display());
    let service = BookingService::from_config(Store::open(&url).await?, &Config::default()).await?;
    let hash = argon2::Argon2::default()
        .hash_password(b"2468", &SaltString::generate(&mut OsRng))
        .map_err(|e| anyhow!("{e}"))?
        .to_string();
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-03-09T08:00:00+01:00")?.to_utc();
    let clock = Arc::new(ManualClock::new(t0));
    let line = PhoneLine::load(
        service,
        DialplanConfig {
            dialplans_dir: root().join("dialplans"),
            prompts_dir: root().join("prompts/fr"),
        },
        PhoneConfig {
            data_dir: dir.path().join("data"),
            staff_prompts_dir: root().join("prompts/staff"),
            staff_number: Some("8000".into()),
            staff_pin_hash: Some(hash.clone()),
            ..PhoneConfig::default()
        },
        clock.clone(),
        EventSink::default(),
    )?;
    assert!(line.staff_pin_matches("2468") && !line.staff_pin_matches("1111"));
    let (first, second) = (Some("0476112233"), Some("0476445566"));
    for _ in 0..4 {
        line.staff_pin_result(first, false);
        assert!(!line.staff_locked(first));
    }
    line.staff_pin_result(first, false);
    assert!(
        line.staff_locked(first),
        "the fifth wrong PIN locks that caller"
    );
    assert!(
        !line.staff_locked(second) && !line.staff_locked(None),
        "another caller is not locked out by the first one's failures"
    );
    // The second caller has their own count: four mistakes and a good PIN leave them free.
    for _ in 0..4 {
        line.staff_pin_result(second, false);
    }
    line.staff_pin_result(second, true);
    line.staff_pin_result(second, false);
    assert!(
        !line.staff_locked(second),
        "a success forgets the caller's failures"
    );
    clock.set(t0 + chrono::Duration::minutes(16));
    assert!(!line.staff_locked(first), "the lock passes");

    // Guessing spread over many numbers meets the global ceiling: everybody is locked.
    let t1 = t0 + chrono::Duration::minutes(40);
    clock.set(t1);
    let mut global_lock_after = None;
    for n in 0..200 {
        line.staff_pin_result(Some(&format!("06000{n:05}")), false);
        if line.staff_locked(second) {
            global_lock_after = Some(n + 1);
            break;
        }
    }
    let tries = global_lock_after.expect("a distributed guess locks the line");
    assert!(
        tries > 20,
        "the global ceiling is far above one caller's: {tries}"
    );
    assert!(line.staff_locked(first) && line.staff_locked(None));
    clock.set(t1 + chrono::Duration::minutes(16));
    assert!(!line.staff_locked(second), "the global lock passes too");

    // The hash is never shown, and a PIN alone (no number) is a configuration error.
    assert!(!format!("{line:?}").contains(&hash));
    let err = PhoneLine::load(
        BookingService::from_config(Store::open(&url).await?, &Config::default()).await?,
        DialplanConfig {
            dialplans_dir: root().join("dialplans"),
            prompts_dir: root().join("prompts/fr"),
        },
        PhoneConfig {
            staff_pin_hash: Some(hash),
            ..PhoneConfig::default()
        },
        clock,
        EventSink::default(),
    )
    .expect_err("a PIN without a number");
    assert!(err.to_string().contains("staff_number"), "{err}");
    Ok(())
}
