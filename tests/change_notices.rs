//! Changes pushed by PostgreSQL (LISTEN/NOTIFY) to another node sharing the database: its
//! caches of the active announcement and of the town's voice are read again only after a
//! change, and everything is read again once the listener's lost connection is back.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use ivr::media::upload::{sine_wav, to_phone};
use ivr::media::{PromptLibrary, SharedPrompts};
use ivr::phone::announcement::Announcements;
use ivr::phone::town_voice::TownVoice;
use ivr::store::testing::TestDb;
use ivr::store::{NewAnnouncement, NewPromptOverride, Store, Topic, Validity};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date")
}

/// Stores an enabled announcement of `millis` through `store` (another node's).
async fn announce(store: &Store, millis: u32) -> Result<()> {
    let audio = to_phone(&sine_wav(8_000, 1, 16, 600.0, millis))?;
    ivr::service::announcements::add(
        store,
        &NewAnnouncement {
            wav: &audio.wav,
            duration_ms: i64::from(millis),
            label: "test",
            by: "amelie",
            at: DateTime::<Utc>::UNIX_EPOCH,
            validity: Validity {
                from: None,
                until: None,
                enabled: true,
            },
        },
    )
    .await?;
    Ok(())
}

async fn heard(node: &Announcements, day: NaiveDate) -> Result<Option<u128>> {
    Ok(node.current(day).await?.map(|p| p.duration().as_millis()))
}

/// Calls `current` until it gives `millis` (the notice takes a moment to arrive).
async fn until_heard(node: &Announcements, millis: u128) -> Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = heard(node, today()).await?;
        if now == Some(millis) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("still {now:?} ms, not {millis} ms");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `store`'s listener listens (its generation is given).
async fn until_listening(store: &Store) -> Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    while store.change_generation(Topic::Announcements).is_none() {
        if tokio::time::Instant::now() > deadline {
            bail!("the listener never listened");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// The backends listening on this database, by pid.
async fn listeners(db: &TestDb) -> Result<Vec<String>> {
    Ok(db
        .query_texts(
            "SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() \
             AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
        )
        .await?)
}

struct Node {
    store: Store,
    announcements: Announcements,
    voice: TownVoice,
    prompts: Arc<SharedPrompts>,
    _dir: tempfile::TempDir,
}

/// Node B: its own connections to `db`, listening for changes until `stop`.
async fn node_b(db: &TestDb, stop: &CancellationToken) -> Result<Node> {
    let store = db.other_node().await?;
    store
        .spawn_change_listener(stop.clone())
        .context("a listener on PostgreSQL")?;
    until_listening(&store).await?;
    let dir = tempfile::tempdir()?;
    let prompts = Arc::new(SharedPrompts::new(PromptLibrary::new()));
    Ok(Node {
        announcements: Announcements::new(store.clone(), dir.path(), prompts.clone()),
        voice: TownVoice::new(store.clone(), prompts.clone()),
        store,
        prompts,
        _dir: dir,
    })
}

#[tokio::test]
#[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
async fn a_change_on_one_node_is_pushed_to_the_next_call_of_another_which_reads_nothing_meanwhile()
-> Result<()> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    let a = db.store.clone();
    let stop = CancellationToken::new();
    // Before B listens, so that no notice of it arrives after B's first read.
    announce(&a, 600).await?;
    let b = node_b(&db, &stop).await?;
    // The first call reads (nothing is known yet); the next ones of the day do not.
    until_heard(&b.announcements, 600).await?;
    let reads = b.announcements.validity_reads();
    for _ in 0..5 {
        assert_eq!(heard(&b.announcements, today()).await?, Some(600));
    }
    assert_eq!(b.announcements.validity_reads(), reads, "nothing changed");

    // A newer one on node A: node B's next call hears it, having read once more.
    announce(&a, 900).await?;
    until_heard(&b.announcements, 900).await?;
    let reads = b.announcements.validity_reads();
    assert_eq!(heard(&b.announcements, today()).await?, Some(900));
    assert_eq!(b.announcements.validity_reads(), reads);
    // Validity is by date: another day is read again.
    let tomorrow = today().succ_opt().context("a date")?;
    assert_eq!(heard(&b.announcements, tomorrow).await?, Some(900));
    assert_eq!(b.announcements.validity_reads(), reads + 1);

    // The town's voice: the counter is read once, then only after a change.
    b.voice.refresh().await?;
    let reads = b.voice.version_reads();
    b.voice.refresh().await?;
    b.voice.refresh().await?;
    assert_eq!(b.voice.version_reads(), reads, "nothing changed");
    let audio = to_phone(&sine_wav(8_000, 1, 16, 700.0, 300))?;
    a.upsert_prompt_override(&NewPromptOverride {
        prompt_id: "bienvenue",
        wav: &audio.wav,
        duration_ms: 300,
        by: "amelie",
        at: DateTime::<Utc>::UNIX_EPOCH,
    })
    .await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    while b.prompts.get("bienvenue").is_none() {
        if tokio::time::Instant::now() > deadline {
            bail!("node B never played the town's recording");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        b.voice.refresh().await?;
    }
    assert!(b.voice.version_reads() > reads);

    stop.cancel();
    b.store.close().await;
    Ok(())
}

#[tokio::test]
#[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
async fn a_change_made_while_the_listener_was_disconnected_is_heard_once_it_listens_again()
-> Result<()> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    let a = db.store.clone();
    let stop = CancellationToken::new();
    announce(&a, 600).await?;
    let b = node_b(&db, &stop).await?;
    until_heard(&b.announcements, 600).await?;
    let reads = b.announcements.validity_reads();
    assert_eq!(heard(&b.announcements, today()).await?, Some(600));
    assert_eq!(b.announcements.validity_reads(), reads, "cached");

    // The listener's connection is killed, and gone before the change: its notice
    // reaches nobody.
    let old = listeners(&db).await?;
    assert_eq!(old.len(), 1, "node B's listener: {old:?}");
    db.execute_raw(&format!("SELECT pg_terminate_backend({})", old[0]))
        .await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    while listeners(&db).await?.contains(&old[0]) {
        if tokio::time::Instant::now() > deadline {
            bail!("the listener's backend never ended");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    announce(&a, 900).await?;

    // Listening again (a new backend, and the generation given again): the cache is stale.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = listeners(&db).await?;
        if now.iter().any(|pid| *pid != old[0])
            && b.store.change_generation(Topic::Announcements).is_some()
        {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the listener never listened again: {now:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(heard(&b.announcements, today()).await?, Some(900));
    assert_eq!(b.announcements.validity_reads(), reads + 1);

    stop.cancel();
    b.store.close().await;
    Ok(())
}
