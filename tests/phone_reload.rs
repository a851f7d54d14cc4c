//! Reloading the voice line's dialplans and prompts: a dialplan that fails its checks is
//! refused and the running set kept; a good change is picked up by the watcher (polling
//! the files) without a restart.

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
