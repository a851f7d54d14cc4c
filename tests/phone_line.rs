//! The voice line's shared state without calls: reloading the dialplans and prompts (a
//! dialplan that fails its checks is refused and the running set kept; a good change is
//! picked up by the watcher without a restart) and the staff PIN's guard.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow};
use ivr::clock::SystemClock;
use ivr::config::Config;
use ivr::dialplan::DialplanConfig;
use ivr::phone::{EventSink, PhoneConfig, PhoneEvent, PhoneLine, reload};
use ivr::service::booking::BookingService;
use ivr::service::login::{LoginError, Origin};
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
    let service = Config::default()
        .booking_service(Store::open(&url).await?)
        .await?;
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
async fn the_staff_line_locks_a_caller_after_five_wrong_pins_not_the_others_and_remembers()
-> Result<()> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    use ivr::clock::ManualClock;
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("ivr.sqlite").display());
    let service = Config::default()
        .booking_service(Store::open(&url).await?)
        .await?;
    let hash = argon2::Argon2::default()
        .hash_password(b"2468", &SaltString::generate(&mut OsRng))
        .map_err(|e| anyhow!("{e}"))?
        .to_string();
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-03-09T08:00:00+01:00")?.to_utc();
    let clock = Arc::new(ManualClock::new(t0));
    let load = |service: BookingService| {
        PhoneLine::load(
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
        )
    };
    let line = load(service)?;
    assert!(line.staff_pin_matches("2468") && !line.staff_pin_matches("1111"));
    // One wrong (false) or right (true) PIN from `origin`; None when the line refused to
    // check it.
    async fn pin(line: &PhoneLine, origin: &Origin, ok: bool) -> Result<Option<bool>> {
        match line.staff_pin_begin(origin).await {
            Ok(attempt) => {
                line.staff_pin_finish(attempt, ok).await?;
                Ok(Some(ok))
            }
            Err(LoginError::TooManyAttempts { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    let caller = |ip: &str, from: &str| Origin {
        sources: vec![format!("phone:ip:{ip}"), format!("phone:{from}")],
        device: None,
    };
    let first = caller("192.0.2.1", "0476112233");
    let second = caller("192.0.2.2", "0476445566");
    for _ in 0..5 {
        assert_eq!(pin(&line, &first, false).await?, Some(false));
    }
    assert_eq!(
        pin(&line, &first, true).await?,
        None,
        "the fifth wrong PIN locks that caller"
    );
    assert_eq!(
        pin(&line, &caller("192.0.2.1", "0699999999"), true).await?,
        None,
        "a new From number from the same address is no fresh start"
    );
    // The counters are in the database: after a restart the caller is still locked.
    let restarted = load(
        Config::default()
            .booking_service(Store::open(&url).await?)
            .await?,
    )?;
    assert_eq!(
        pin(&restarted, &first, true).await?,
        None,
        "kept across a restart"
    );
    // Another caller is not locked out by the first one's failures, and a right PIN does
    // not erase their own: four mistakes, a good PIN, one more mistake locks them too.
    for _ in 0..4 {
        assert_eq!(pin(&line, &second, false).await?, Some(false));
    }
    assert_eq!(pin(&line, &second, true).await?, Some(true));
    assert_eq!(pin(&line, &second, false).await?, Some(false));
    assert_eq!(
        pin(&line, &second, true).await?,
        None,
        "a success keeps the failures"
    );
    clock.set(t0 + chrono::Duration::minutes(16));
    assert_eq!(
        pin(&line, &first, true).await?,
        Some(true),
        "the lock passes"
    );

    // Guessing spread over many callers meets the global ceiling: everybody is locked.
    let t1 = t0 + chrono::Duration::minutes(40);
    clock.set(t1);
    let mut global_lock_after = None;
    for n in 0..200 {
        let guesser = caller(&format!("198.51.100.{}", n % 250), &format!("06000{n:05}"));
        if pin(&line, &guesser, false).await?.is_none() {
            global_lock_after = Some(n);
            break;
        }
    }
    let tries = global_lock_after.expect("a distributed guess locks the line");
    assert!(
        tries > 20,
        "the global ceiling is far above one caller's: {tries}"
    );
    assert_eq!(
        pin(&line, &caller("203.0.113.9", "0611"), true).await?,
        None
    );
    clock.set(t1 + chrono::Duration::minutes(16));
    assert_eq!(
        pin(&line, &caller("203.0.113.9", "0611"), true).await?,
        Some(true),
        "the global lock passes too"
    );

    // The hash is never shown, and a PIN alone (no number) is a configuration error.
    assert!(!format!("{line:?}").contains(&hash));
    let err = PhoneLine::load(
        Config::default()
            .booking_service(Store::open(&url).await?)
            .await?,
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
