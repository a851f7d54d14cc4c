//! The voice line end to end over loopback: real SIP calls from the rsipstack test caller,
//! digits by RFC 4733, the default French dialplan, the booking service on a fresh SQLite
//! file with the demo families, and the server's clock set by the test. What the caller
//! hears is observed through the line's event hook (prompt ids played, action results).
//!
//! The dialplan is the shipped `dialplans/default.toml` with its timeouts shortened, so
//! that silence tests take seconds; its nodes, prompts and order are unchanged.

mod common;
#[path = "web_support/mod.rs"]
mod web_support;

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use common::*;
use ivr::booking::model::{Action, Channel, ChildCode, PayerCode, ServiceCode};
use ivr::clock::ManualClock;
use ivr::config::Config;
use ivr::dialplan::DialplanConfig;
use ivr::metrics::Metrics;
use ivr::phone::{EventSink, PhoneConfig, PhoneEvent, PhoneLine, VoiceLine};
use ivr::service::booking::BookingService;
use ivr::service::demo;
use ivr::store::{CallOutcome, CallRecord, EndedBy, Store};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, Transport};
use tokio::sync::mpsc;

const TE: (u8, u32) = (101, 8000);

type SipConfigT = ivr::sip::config::SipConfig;

/// Monday 9 March 2026, 08:00 in Paris: tomorrow's meal closes today at 10:00.
fn monday_8am() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-09T08:00:00+01:00")
        .unwrap()
        .to_utc()
}

/// The same Monday at 10:30: tomorrow's meal is closed since 10:00.
fn monday_1030() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-09T10:30:00+01:00")
        .unwrap()
        .to_utc()
}

fn tuesday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
}

/// A server with the demo data, the default dialplan (short timeouts) and a set clock.
struct Env {
    voice: Option<VoiceLine>,
    service: BookingService,
    clock: Arc<ManualClock>,
    events: mpsc::UnboundedReceiver<PhoneEvent>,
    dir: tempfile::TempDir,
}

impl Env {
    async fn start(now: DateTime<Utc>) -> Result<Self> {
        Self::start_with(now, PhoneConfig::default()).await
    }

    /// As [`Env::start`], with `phone` for the staff line (its directories are set here).
    async fn start_with(now: DateTime<Utc>, phone: PhoneConfig) -> Result<Self> {
        Self::start_full(now, phone, test_config()).await
    }

    /// As [`Env::start_with`], with `sip` as the SIP settings.
    async fn start_full(now: DateTime<Utc>, phone: PhoneConfig, sip: SipConfigT) -> Result<Self> {
        Self::node(now, phone, sip, None).await
    }

    /// One node of the voice line on `store`, shared with other nodes (the demo families are
    /// seeded by the first: `seed`); or, without a store, on a fresh SQLite file, seeded.
    async fn node(
        now: DateTime<Utc>,
        phone: PhoneConfig,
        sip: SipConfigT,
        shared: Option<(Store, bool)>,
    ) -> Result<Self> {
        init_logs();
        let dir = tempfile::tempdir()?;
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        // The shipped flow, with seconds instead of several seconds of patience.
        let plans = dir.path().join("dialplans");
        std::fs::create_dir(&plans)?;
        let default = std::fs::read_to_string(root.join("dialplans/default.toml"))?;
        let short = default
            .replace(
                "first_digit_timeout_ms = 8000",
                "first_digit_timeout_ms = 1500",
            )
            .replace(
                "first_digit_timeout_ms = 7000",
                "first_digit_timeout_ms = 1500",
            )
            .replace(
                "inter_digit_timeout_ms = 5000",
                "inter_digit_timeout_ms = 1500",
            )
            .replace("timeout_ms = 7000", "timeout_ms = 1500");
        std::fs::write(plans.join("default.toml"), short)?;

        let config = Config::default();
        let (store, seed) = match shared {
            Some(shared) => shared,
            None => {
                let url = format!("sqlite://{}", dir.path().join("ivr.sqlite").display());
                (Store::open(&url).await?, true)
            }
        };
        let service = config.booking_service(store).await?;
        if seed {
            demo::seed(&service, &config.town.name, &config.town.message, now).await?;
        }
        let clock = Arc::new(ManualClock::new(now));
        let (sink, events) = EventSink::channel();
        let line = PhoneLine::load(
            service.clone(),
            DialplanConfig {
                dialplans_dir: plans,
                prompts_dir: root.join("prompts/fr"),
            },
            PhoneConfig {
                data_dir: dir.path().join("data"),
                staff_prompts_dir: root.join("prompts/staff"),
                ..phone
            },
            clock.clone(),
            sink,
        )?;
        let voice = VoiceLine::start(sip, line, Metrics::new()).await?;
        Ok(Self {
            voice: Some(voice),
            service,
            clock,
            events,
            dir,
        })
    }

    fn addr(&self) -> std::net::SocketAddr {
        self.voice.as_ref().expect("running").sip().udp_addr()
    }

    /// Waits for the next event of `call_id` that `pick` accepts; events of other kinds
    /// are recorded in `seen` (prompts played) so tests can check what was heard.
    async fn until<T>(
        &mut self,
        call_id: &str,
        seen: &mut Vec<String>,
        mut pick: impl FnMut(&PhoneEvent) -> Option<T>,
    ) -> Result<T> {
        guard("a voice line event", async {
            while let Some(ev) = self.events.recv().await {
                let mine = match &ev {
                    PhoneEvent::Played {
                        call_id: c,
                        prompts,
                    } => {
                        if c == call_id {
                            seen.extend(prompts.iter().cloned());
                        }
                        c == call_id
                    }
                    PhoneEvent::Action { call_id: c, .. }
                    | PhoneEvent::AnnouncementSaved { call_id: c }
                    | PhoneEvent::RecordingStarted { call_id: c }
                    | PhoneEvent::Ended { call_id: c }
                    | PhoneEvent::Recorded { call_id: c } => c == call_id,
                    PhoneEvent::Reloaded { .. } => false,
                };
                if mine && let Some(t) = pick(&ev) {
                    return Ok(t);
                }
            }
            bail!("event channel closed")
        })
        .await?
    }

    async fn played(&mut self, call_id: &str, seen: &mut Vec<String>, id: &str) -> Result<()> {
        self.until(call_id, seen, |e| match e {
            PhoneEvent::Played { prompts, .. } if prompts.iter().any(|p| p == id) => Some(()),
            _ => None,
        })
        .await
        .with_context(|| format!("prompt {id}"))
    }

    async fn action(&mut self, call_id: &str, seen: &mut Vec<String>) -> Result<&'static str> {
        self.until(call_id, seen, |e| match e {
            PhoneEvent::Action { result, .. } => Some(*result),
            _ => None,
        })
        .await
    }

    async fn ended(&mut self, call_id: &str, seen: &mut Vec<String>) -> Result<()> {
        self.until(call_id, seen, |e| {
            matches!(e, PhoneEvent::Ended { .. }).then_some(())
        })
        .await
    }

    /// Waits until the call's record is written, then reads every record of the day.
    async fn records_after(&mut self, call_id: &str) -> Result<Vec<CallRecord>> {
        let mut seen = Vec::new();
        self.until(call_id, &mut seen, |e| {
            matches!(e, PhoneEvent::Recorded { .. }).then_some(())
        })
        .await
        .context("the call's record")?;
        let day = chrono::Duration::days(1);
        Ok(self
            .service
            .store()
            .call_records_between(monday_8am() - day, monday_8am() + day)
            .await?)
    }

    async fn stop(mut self) {
        if let Some(v) = self.voice.take() {
            v.shutdown().await;
        }
    }
}

/// A caller on the line.
struct Caller {
    _phone: Phone,
    media: Media,
    out: RtpOut,
    dialog: InviteDialog,
    call_id: String,
}

impl Caller {
    /// Calls `dialled` from the usual test phone.
    async fn call(env: &Env, dialled: &str) -> Result<Self> {
        Self::dial(Phone::new().await?, env, dialled).await
    }

    /// Calls the line from an address (one of the loopback network's), a From number and a
    /// P-Asserted-Identity the test chooses: a trunk relaying a caller, or anyone writing
    /// headers.
    async fn relayed(env: &Env, bind: &str, from: &str, asserted: Option<&str>) -> Result<Self> {
        let headers = asserted
            .map(|n| {
                vec![Header::Other(
                    "P-Asserted-Identity".into(),
                    format!("\"Appelant\" <sip:{n}@trunk.example>"),
                )]
            })
            .unwrap_or_default();
        let phone = Phone::relaying(bind, from, headers).await?;
        Self::dial(phone, env, "0476549985").await
    }

    async fn dial(phone: Phone, env: &Env, dialled: &str) -> Result<Self> {
        let media = Media::new().await?;
        let offer = media.offer(Offer::Pcmu, Some(TE), "");
        let call = phone
            .answered(env.addr(), Transport::Udp, dialled, offer)
            .await?;
        Ok(Self {
            out: call.sender(TE.1),
            call_id: call.call_id(),
            dialog: call.dialog,
            _phone: phone,
            media,
        })
    }

    /// Types `codes` during the welcome and returns the login's result.
    async fn try_codes(&mut self, env: &mut Env, codes: &str) -> Result<&'static str> {
        let mut seen = Vec::new();
        env.played(&self.call_id, &mut seen, "bienvenue").await?;
        self.keys(codes).await?;
        let result = env.action(&self.call_id, &mut seen).await?;
        self.dialog.bye().await.ok();
        Ok(result)
    }

    /// Goes through a menu: for each step, types its keys and waits until the prompt it
    /// names is played; `seen` gathers what was played.
    async fn walk(
        &mut self,
        env: &mut Env,
        seen: &mut Vec<String>,
        steps: &[(&str, &str)],
    ) -> Result<()> {
        for (keys, prompt) in steps {
            self.keys(keys).await?;
            env.played(&self.call_id, seen, prompt).await?;
        }
        Ok(())
    }

    /// Types `keys` by RFC 4733.
    async fn keys(&mut self, keys: &str) -> Result<()> {
        for k in keys.chars() {
            self.out.press(&self.media.socket, TE.0, k).await?;
        }
        Ok(())
    }

    async fn hang_up(&self) {
        self.dialog.bye().await.ok();
    }
}

fn child_code() -> ChildCode {
    ChildCode::parse("3011").unwrap()
}

fn payer_code() -> PayerCode {
    PayerCode::parse("770021").unwrap()
}

/// Logs in by typing both codes during the welcome (barge-in), as regular callers do.
async fn log_in(env: &mut Env, caller: &mut Caller, seen: &mut Vec<String>) -> Result<()> {
    env.played(&caller.call_id, seen, "bienvenue").await?;
    caller.keys("3011#770021#").await?;
    assert_eq!(env.action(&caller.call_id, seen).await?, "logged_in");
    env.played(&caller.call_id, seen, "menu_principal").await?;
    Ok(())
}

#[tokio::test]
async fn caller_logs_in_books_tomorrows_meal_and_it_is_in_the_history_as_phone() -> Result<()> {
    let mut env = Env::start(monday_8am()).await?;
    // A call of 500 days ago: past the default retention (400 days), the next recorded
    // call takes it away.
    let old = monday_8am() - chrono::Duration::days(500);
    env.service
        .store()
        .insert_call_record(&CallRecord {
            started_at: old,
            ended_at: old,
            line: "0476549985".into(),
            caller: String::new(),
            dialplan: "default".into(),
            outcome: CallOutcome::NoLogin,
            logins_failed: 0,
            booked: 0,
            cancelled: 0,
            refused: 0,
            failed: 0,
            last_step: String::new(),
            ended_by: EndedBy::Caller,
        })
        .await?;
    let mut caller = Caller::call(&env, "0476549985").await?;
    let id = caller.call_id.clone();
    let mut seen = Vec::new();
    log_in(&mut env, &mut caller, &mut seen).await?;
    // Barge-in: the keys typed during the welcome were the codes, so the question for the
    // child code was never asked.
    assert!(
        !seen.iter().any(|p| p == "demande_code_enfant"),
        "the caller typed ahead: {seen:?}"
    );

    // The demo family has Tuesday's meal booked: 2 cancel, 1 tomorrow, 1 meal, 1 confirm.
    caller
        .walk(
            &mut env,
            &mut seen,
            &[
                ("2", "choix_date"),
                ("1", "choix_service"),
                ("1", "vous_demandez_annulation"),
            ],
        )
        .await?;
    caller.keys("1").await?;
    assert_eq!(env.action(&id, &mut seen).await?, "cancelled");
    env.played(&id, &mut seen, "annulation_enregistree").await?;
    // Not for the other child too (the family has two).
    caller.keys("2").await?;

    // Then 1 book, 1 tomorrow, 1 meal: the read-back says the service and the date.
    caller
        .walk(
            &mut env,
            &mut seen,
            &[("1", "choix_date"), ("1", "choix_service")],
        )
        .await?;
    caller.keys("1").await?;
    let mut readback = Vec::new();
    env.played(&id, &mut readback, "confirmer").await?;
    for word in [
        "vous_demandez_inscription",
        "svc_repas",
        "day_mardi",
        "n_10",
        "month_mars",
    ] {
        assert!(readback.iter().any(|p| p == word), "{word} in {readback:?}");
    }
    caller.keys("1").await?;
    assert_eq!(env.action(&id, &mut seen).await?, "booked");
    env.played(&id, &mut seen, "inscription_enregistree")
        .await?;

    // In the database: the booking, and its history line with channel phone.
    let (_, child) = env
        .service
        .store()
        .find_login(&child_code(), &payer_code())
        .await?
        .context("demo child")?;
    let history = env.service.history(child, 40).await?;
    let phone_lines: Vec<_> = history
        .iter()
        .filter(|h| h.date == tuesday() && h.channel == Channel::Phone)
        .map(|h| (h.action, h.service.clone(), h.actor.as_str(), h.at))
        .collect();
    let meal = ServiceCode::parse("REPAS")?;
    // Newest first: the booking, then the cancellation.
    assert_eq!(
        phone_lines,
        [
            (Action::Book, meal.clone(), "parent", monday_8am()),
            (Action::Cancel, meal, "parent", monday_8am()),
        ]
    );
    let week = env.service.week(child, tuesday(), 1, monday_8am()).await?;
    let cell = week.weeks[0]
        .days
        .iter()
        .find(|d| d.date == tuesday())
        .and_then(|d| d.cells.iter().find(|c| c.service.as_str() == "REPAS"))
        .context("Tuesday's meal cell")?;
    assert!(cell.booked);

    // 3: hear the week, the new booking among them (after 2: not for the other child).
    caller.keys("23").await?;
    assert_eq!(env.action(&id, &mut seen).await?, "week");
    env.played(&id, &mut seen, "semaine_intro").await?;

    caller.hang_up().await;
    env.ended(&id, &mut seen).await?;

    // The call's record: how far it got, who hung up, where; the caller's number hashed,
    // and no code anywhere in it.
    let records = env.records_after(&id).await?;
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(
        (r.outcome, r.booked, r.cancelled, r.logins_failed, r.refused),
        (CallOutcome::Changed, 1, 1, 0, 0)
    );
    assert_eq!(
        (r.ended_by, r.line.as_str(), r.started_at),
        (EndedBy::Caller, "0476549985", monday_8am())
    );
    assert!(!r.last_step.is_empty(), "{r:?}");
    assert!(r.caller.starts_with("h:") && r.caller.len() == 18, "{r:?}");
    let text = format!("{r:?}");
    assert!(!text.contains("3011") && !text.contains("770021"), "{text}");
    let past = env
        .service
        .store()
        .call_records_between(
            old - chrono::Duration::days(1),
            monday_8am() - chrono::Duration::days(1),
        )
        .await?;
    assert!(
        past.is_empty(),
        "the record past retention stayed: {past:?}"
    );
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn booking_after_the_deadline_is_refused_with_the_deadline_spoken() -> Result<()> {
    let mut env = Env::start(monday_8am()).await?;
    // Tuesday's meal is not booked (the demo booked it; the web cancels it in time)...
    let (_, child) = env
        .service
        .store()
        .find_login(&child_code(), &payer_code())
        .await?
        .context("demo child")?;
    let meal = ServiceCode::parse("REPAS")?;
    env.service
        .change(
            child,
            tuesday(),
            &meal,
            Action::Cancel,
            Channel::Web,
            "parent",
            monday_8am(),
        )
        .await?;
    // ...and the server's clock moves past Monday 10:00.
    env.clock.set(monday_1030());
    let mut caller = Caller::call(&env, "0476549985").await?;
    let id = caller.call_id.clone();
    let mut seen = Vec::new();
    log_in(&mut env, &mut caller, &mut seen).await?;
    caller
        .walk(
            &mut env,
            &mut seen,
            &[
                ("1", "choix_date"),
                ("1", "choix_service"),
                ("1", "confirmer"),
            ],
        )
        .await?;
    caller.keys("1").await?;
    assert_eq!(env.action(&id, &mut seen).await?, "refused");
    let mut refusal = Vec::new();
    env.played(&id, &mut refusal, "refus_inscriptions_closes")
        .await?;
    // "... closes depuis lundi neuf mars à dix heures".
    let want = [
        "refus_inscriptions_closes",
        "depuis",
        "day_lundi",
        "n_9",
        "month_mars",
        "a",
        "n_10",
        "heures",
    ];
    let mut at = 0;
    for w in want {
        at += refusal[at..]
            .iter()
            .position(|p| p == w)
            .with_context(|| format!("{w} in order in {refusal:?}"))?;
    }
    // Nothing was written.
    assert!(
        env.service
            .history(child, 40)
            .await?
            .iter()
            .all(|h| h.channel != Channel::Phone)
    );
    caller.hang_up().await;
    env.ended(&id, &mut seen).await?;
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn three_wrong_pairs_end_the_call_and_the_next_call_is_locked_out() -> Result<()> {
    let mut env = Env::start(monday_8am()).await?;
    let mut caller = Caller::call(&env, "0476549985").await?;
    let id = caller.call_id.clone();
    let mut seen = Vec::new();
    env.played(&id, &mut seen, "bienvenue").await?;
    for round in 0..3 {
        caller.keys("3011#111111#").await?;
        assert_eq!(
            env.action(&id, &mut seen).await?,
            "wrong_codes",
            "round {round}"
        );
    }
    env.played(&id, &mut seen, "codes_incorrects_au_revoir")
        .await?;
    env.ended(&id, &mut seen).await?;
    guard("the BYE", caller._phone.ended(&id)).await??;
    assert_eq!(
        seen.iter().filter(|p| *p == "codes_incorrects").count(),
        2,
        "{seen:?}"
    );

    // Same caller again, right away, with the right codes this time: locked out.
    let mut again = Caller::call(&env, "0476549985").await?;
    let id2 = again.call_id.clone();
    let mut seen2 = Vec::new();
    env.played(&id2, &mut seen2, "bienvenue").await?;
    again.keys("3011#770021#").await?;
    assert_eq!(env.action(&id2, &mut seen2).await?, "locked");
    env.played(&id2, &mut seen2, "acces_bloque").await?;
    env.ended(&id2, &mut seen2).await?;

    // Both calls' records: three wrong pairs, then the lockout; the line hung up both.
    let records = env.records_after(&id2).await?;
    let got: Vec<_> = records
        .iter()
        .map(|r| (r.outcome, r.logins_failed, r.ended_by))
        .collect();
    assert_eq!(
        got,
        [
            (CallOutcome::LoginFailed, 3, EndedBy::Line),
            (CallOutcome::Locked, 0, EndedBy::Line),
        ]
    );

    // Once the lock has passed (the clock moves on), the right codes open the planning.
    env.clock.set(monday_8am() + chrono::Duration::minutes(30));
    let mut later = Caller::call(&env, "0476549985").await?;
    let mut seen3 = Vec::new();
    log_in(&mut env, &mut later, &mut seen3).await?;
    later.hang_up().await;
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn silence_repeats_the_question_twice_then_ends_politely() -> Result<()> {
    let mut env = Env::start(monday_8am()).await?;
    let caller = Caller::call(&env, "0476549985").await?;
    let id = caller.call_id.clone();
    let mut seen = Vec::new();
    // Each wait is guarded on its own: the whole takes longer than one guard.
    env.played(&id, &mut seen, "demande_code_enfant").await?;
    env.played(&id, &mut seen, "pas_entendu").await?;
    env.played(&id, &mut seen, "pas_entendu").await?;
    env.played(&id, &mut seen, "au_revoir_sans_reponse").await?;
    env.ended(&id, &mut seen).await?;
    guard("the BYE", caller._phone.ended(&id)).await??;
    assert_eq!(
        seen,
        [
            "bienvenue",
            "demande_code_enfant",
            "pas_entendu",
            "demande_code_enfant",
            "pas_entendu",
            "demande_code_enfant",
            "au_revoir_sans_reponse",
        ]
    );
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_key_interrupts_the_menu_and_is_its_answer() -> Result<()> {
    let mut env = Env::start(monday_8am()).await?;
    let mut caller = Caller::call(&env, "0476549985").await?;
    let id = caller.call_id.clone();
    let mut seen = Vec::new();
    log_in(&mut env, &mut caller, &mut seen).await?;
    // The main menu is long; "3" during it stops it and hears the week at once.
    caller.keys("3").await?;
    assert_eq!(env.action(&id, &mut seen).await?, "week");
    env.played(&id, &mut seen, "semaine_intro").await?;
    caller.hang_up().await;
    env.stop().await;
    Ok(())
}

/// Issue 15: a node that shuts down ends its last calls with a sentence, not a bare BYE: a
/// caller still in the main menu when the grace period is over hears the line's
/// `fin_de_service` from its first word, then the line hangs up.
#[tokio::test]
async fn at_the_end_of_the_grace_a_caller_is_told_then_hung_up() -> Result<()> {
    let mut sip = test_config();
    sip.shutdown_grace_secs = 0;
    let mut env = Env::start_full(monday_8am(), PhoneConfig::default(), sip).await?;
    let mut caller = Caller::call(&env, "0476549985").await?;
    let id = caller.call_id.clone();
    let mut seen = Vec::new();
    log_in(&mut env, &mut caller, &mut seen).await?;
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let farewell = ivr::media::Prompt::from_wav_file(&root.join("prompts/fr/fin_de_service.wav"))?;
    let expected = first_pcmu_packets(&farewell, 5);
    let stopping = tokio::spawn(env.voice.take().expect("running").shutdown());
    // The menu stops where it was and the farewell follows at once: its first five packets
    // come in a row, byte for byte.
    let mut buf = vec![0u8; 2048];
    let mut last: std::collections::VecDeque<Vec<u8>> = Default::default();
    guard("the farewell's first words", async {
        while last.iter().ne(expected.iter()) {
            let n = caller.media.socket.recv(&mut buf).await?;
            let rtp = rtp_rs::RtpReader::new(&buf[..n]).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            last.push_back(rtp.payload().to_vec());
            if last.len() > expected.len() {
                last.pop_front();
            }
        }
        Ok::<_, anyhow::Error>(())
    })
    .await??;
    let reason = guard("the BYE", caller._phone.ended(&id)).await??;
    assert!(reason.contains("UasBye"), "{reason}");
    guard("the node's exit", stopping).await??;
    Ok(())
}

/// 1.2 s of a 440 Hz tone in PCMU packets of 20 ms: what the staff member says.
fn spoken_announcement() -> Vec<Vec<u8>> {
    let pcm: Vec<i16> = (0..9_600)
        .map(|i| ((i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 8000.0).sin() * 8000.0) as i16)
        .collect();
    pcm.chunks(160)
        .map(|c| ivr::media::g711::Law::Ulaw.encode(c))
        .collect()
}

/// A line whose staff line is 8000, PIN 2468.
async fn with_staff_line() -> Result<Env> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let hash = argon2::Argon2::default()
        .hash_password(b"2468", &SaltString::generate(&mut OsRng))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .to_string();
    Env::start_with(
        monday_8am(),
        PhoneConfig {
            staff_number: Some("8000".into()),
            staff_pin_hash: Some(hash),
            ..PhoneConfig::default()
        },
    )
    .await
}

#[tokio::test]
async fn staff_records_an_announcement_and_the_next_caller_hears_it() -> Result<()> {
    let mut env = with_staff_line().await?;

    // Nobody has recorded anything: the welcome goes straight to the question.
    let first = Caller::call(&env, "0476549985").await?;
    let mut seen = Vec::new();
    env.played(&first.call_id, &mut seen, "demande_code_enfant")
        .await?;
    assert!(!seen.iter().any(|p| p == "announcement"), "{seen:?}");
    first.hang_up().await;

    let mut staff = Caller::call(&env, "8000").await?;
    let id = staff.call_id.clone();
    let mut seen = Vec::new();
    env.played(&id, &mut seen, "staff_accueil").await?;
    // A wrong PIN first: refused, asked again.
    staff
        .walk(
            &mut env,
            &mut seen,
            &[
                ("1111#", "staff_code_incorrect"),
                ("2468#", "staff_menu"),
                ("1", "bip"),
            ],
        )
        .await?;
    env.until(&id, &mut seen, |e| {
        matches!(e, PhoneEvent::RecordingStarted { .. }).then_some(())
    })
    .await?;
    // Speak at a phone's pace (one packet per 20 ms), then # stops the recording.
    let mut pace = tokio::time::interval(std::time::Duration::from_millis(20));
    for packet in spoken_announcement() {
        pace.tick().await;
        staff.out.audio(&staff.media.socket, 0, &packet).await?;
    }
    staff.keys("#").await?;
    let mut playback = Vec::new();
    env.played(&id, &mut playback, "staff_garder").await?;
    assert_eq!(playback, ["staff_ecoute", "recording", "staff_garder"]);
    staff.keys("1").await?;
    env.until(&id, &mut seen, |e| {
        matches!(e, PhoneEvent::AnnouncementSaved { .. }).then_some(())
    })
    .await?;
    env.played(&id, &mut seen, "staff_annonce_enregistree")
        .await?;
    env.ended(&id, &mut seen).await?;

    // Kept: a file under the data directory.
    let files: Vec<_> =
        std::fs::read_dir(env.dir.path().join("data/announcements"))?.collect::<Result<_, _>>()?;
    assert_eq!(files.len(), 1);
    let wav = hound::WavReader::open(files[0].path())?;
    assert_eq!((wav.spec().sample_rate, wav.spec().channels), (8000, 1));
    assert!(wav.duration() >= 8_000, "about a second of speech kept");

    // The very next call hears it after the welcome.
    let next = Caller::call(&env, "0476549985").await?;
    let mut heard = Vec::new();
    env.played(&next.call_id, &mut heard, "announcement")
        .await?;
    assert_eq!(heard, ["bienvenue", "announcement"]);
    next.hang_up().await;
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn caller_switches_to_the_other_child_and_books_for_him() -> Result<()> {
    let mut env = Env::start(monday_8am()).await?;
    // Théo's Thursday meal is free (whatever the demo booked).
    let (_, theo) = env
        .service
        .store()
        .find_login(&ChildCode::parse("3012")?, &payer_code())
        .await?
        .context("Théo")?;
    let thursday = NaiveDate::from_ymd_opt(2026, 3, 12).unwrap();
    let meal = ServiceCode::parse("REPAS")?;
    env.service
        .change(
            theo,
            thursday,
            &meal,
            Action::Cancel,
            Channel::Web,
            "parent",
            monday_8am(),
        )
        .await?;
    let mut caller = Caller::call(&env, "0476549985").await?;
    let id = caller.call_id.clone();
    let mut seen = Vec::new();
    log_in(&mut env, &mut caller, &mut seen).await?;
    // 4: another child. The family has two: "Ce compte regroupe deux enfants...".
    caller.keys("4").await?;
    let mut asked = Vec::new();
    env.played(&id, &mut asked, "choix_enfant").await?;
    assert!(asked.iter().any(|p| p == "n_2"), "{asked:?}");
    caller.keys("2").await?;
    assert_eq!(env.action(&id, &mut seen).await?, "switched");
    env.played(&id, &mut seen, "enfant_choisi").await?;

    // Théo's Thursday meal, typed as a date: 1 book, 3 type a date, 1203, 1 meal, 1 confirm.
    caller
        .walk(
            &mut env,
            &mut seen,
            &[("1", "choix_date"), ("31203", "choix_service")],
        )
        .await?;
    caller.keys("1").await?;
    let mut readback = Vec::new();
    env.played(&id, &mut readback, "confirmer").await?;
    assert!(
        readback.iter().any(|p| p == "day_jeudi") && readback.iter().any(|p| p == "n_12"),
        "{readback:?}"
    );
    caller.keys("1").await?;
    assert_eq!(env.action(&id, &mut seen).await?, "booked");

    // The change is Théo's, by phone.
    let last = env.service.history(theo, 1).await?;
    assert_eq!(
        last.iter()
            .map(|h| (h.date, h.action, h.channel))
            .collect::<Vec<_>>(),
        [(thursday, Action::Book, Channel::Phone)]
    );
    let week = env.service.week(theo, thursday, 1, monday_8am()).await?;
    assert!(
        week.weeks[0]
            .days
            .iter()
            .filter(|d| d.date == thursday)
            .flat_map(|d| &d.cells)
            .any(|c| c.service.as_str() == "REPAS" && c.booked)
    );
    caller.hang_up().await;
    env.stop().await;
    Ok(())
}

/// Issue 18, point 2: after booking for one child, a payer of two books the same for the
/// other with one key ("pour faire la même demande pour vos autres enfants, tapez 1"); the
/// other child is answered by its number and both bookings are in the history as phone.
#[tokio::test]
async fn one_key_makes_the_same_booking_for_the_other_child() -> Result<()> {
    let mut env = Env::start(monday_8am()).await?;
    let thursday = NaiveDate::from_ymd_opt(2026, 3, 12).unwrap();
    let meal = ServiceCode::parse("REPAS")?;
    let mut children = Vec::new();
    for code in ["3011", "3012"] {
        let (_, child) = env
            .service
            .store()
            .find_login(&ChildCode::parse(code)?, &payer_code())
            .await?
            .context("a demo child")?;
        // Thursday's meal is free for both, whatever the demo booked.
        env.service
            .change(
                child,
                thursday,
                &meal,
                Action::Cancel,
                Channel::Web,
                "parent",
                monday_8am(),
            )
            .await?;
        children.push(child);
    }
    let mut caller = Caller::call(&env, "0476549985").await?;
    let id = caller.call_id.clone();
    let mut seen = Vec::new();
    log_in(&mut env, &mut caller, &mut seen).await?;
    // 1 book, 3 type a date, 1203, 1 meal, 1 confirm.
    caller
        .walk(
            &mut env,
            &mut seen,
            &[
                ("1", "choix_date"),
                ("31203", "choix_service"),
                ("1", "confirmer"),
            ],
        )
        .await?;
    caller.keys("1").await?;
    assert_eq!(env.action(&id, &mut seen).await?, "booked");
    env.played(&id, &mut seen, "meme_pour_les_autres").await?;
    caller.keys("1").await?;
    assert_eq!(env.action(&id, &mut seen).await?, "others");
    // "Enfant numéro deux : c'est enregistré, votre enfant est inscrit."
    let mut said = Vec::new();
    env.played(&id, &mut said, "enfant_numero").await?;
    assert_eq!(said, ["enfant_numero", "n_2", "inscription_enregistree"]);
    env.played(&id, &mut said, "menu_principal").await?;
    caller.hang_up().await;
    for child in children {
        let last = env.service.history(child, 1).await?;
        assert_eq!(
            last.iter()
                .map(|h| (h.date, h.action, h.channel))
                .collect::<Vec<_>>(),
            [(thursday, Action::Book, Channel::Phone)],
            "child {child:?}"
        );
    }
    // The call's record (the only call of this line) counts both bookings.
    let records = env.records_after(&id).await?;
    assert_eq!(records.iter().map(|r| r.booked).collect::<Vec<_>>(), [2]);
    env.stop().await;
    Ok(())
}

/// One booking, two channels: a meal cancelled by phone is unticked on the web portal, with
/// the phone's line in the web's last changes; booked again on the web, the phone finds it
/// already booked.
#[tokio::test]
async fn phone_and_web_see_the_same_bookings() -> Result<()> {
    let mut env = Env::start(monday_8am()).await?;
    let tuesday_meal = format!("{}.REPAS", tuesday());

    // Phone: cancel Tuesday's meal (the demo booked it): 2 cancel, 1 tomorrow, 1 meal, 1 confirm.
    let mut caller = Caller::call(&env, "0476549985").await?;
    let id = caller.call_id.clone();
    let mut seen = Vec::new();
    log_in(&mut env, &mut caller, &mut seen).await?;
    caller
        .walk(
            &mut env,
            &mut seen,
            &[
                ("2", "choix_date"),
                ("1", "choix_service"),
                ("1", "vous_demandez_annulation"),
            ],
        )
        .await?;
    caller.keys("1").await?;
    assert_eq!(env.action(&id, &mut seen).await?, "cancelled");
    caller.hang_up().await;

    // The web portal over the same booking service, at the same instant.
    let state = ivr::web::AppState::new(
        env.service.clone(),
        "Mezcalito",
        ivr::web::WebConfig::default(),
        env.clock.clone(),
    );
    let mut web = web_support::parent_client(ivr::web::router(state)).await;
    let du = "2026-03-09";
    let page = web.get(&format!("/planning?du={du}")).await;
    let (shown, want) = web_support::planning_state(&page);
    assert!(shown.contains(&tuesday_meal), "{tuesday_meal} shown");
    assert!(
        !want.contains(&tuesday_meal),
        "cancelled by phone, unticked on the web"
    );
    let changes = web.get("/historique").await;
    assert!(
        changes.body.contains("téléphone"),
        "the phone's change is listed"
    );

    // Web: tick it again and validate.
    let mut ticked = want.clone();
    ticked.push(tuesday_meal.clone());
    let posted = web_support::submit_planning(&mut web, &page, du, &ticked).await;
    let recap = web.get(posted.location()).await;
    assert!(
        recap.body.contains("Modifications enregistrées"),
        "{}",
        recap.body
    );

    // Phone: booking the same meal finds it already booked.
    let mut caller = Caller::call(&env, "0476549985").await?;
    let id = caller.call_id.clone();
    let mut seen = Vec::new();
    log_in(&mut env, &mut caller, &mut seen).await?;
    caller
        .walk(
            &mut env,
            &mut seen,
            &[
                ("1", "choix_date"),
                ("1", "choix_service"),
                ("1", "vous_demandez_inscription"),
            ],
        )
        .await?;
    caller.keys("1").await?;
    assert_eq!(env.action(&id, &mut seen).await?, "already_booked");
    caller.hang_up().await;

    let (_, child) = env
        .service
        .store()
        .find_login(&child_code(), &payer_code())
        .await?
        .context("demo child")?;
    let channels: Vec<_> = env
        .service
        .history(child, 40)
        .await?
        .iter()
        .filter(|h| h.date == tuesday())
        .map(|h| (h.action, h.channel))
        .collect();
    assert_eq!(
        channels[..2],
        [
            (Action::Book, Channel::Web),
            (Action::Cancel, Channel::Phone)
        ]
    );
    Ok(())
}

/// Issue 13, finding 7 on the phone: the login source was the From number, which the
/// caller writes, so each new From was a fresh start. The address the INVITE came from is
/// counted too now: three wrong pairs from one address slow the next caller from that
/// address down whatever From it claims.
#[tokio::test]
async fn a_new_from_number_is_no_fresh_start() -> Result<()> {
    let mut env = Env::start(monday_8am()).await?;
    // Three wrong pairs at three unknown child codes: only the source counters grow.
    for (i, from) in ["0611111111", "0622222222", "0633333333"]
        .iter()
        .enumerate()
    {
        let mut c = Caller::relayed(&env, "127.0.0.1", from, None).await?;
        let result = c.try_codes(&mut env, &format!("900{i}#111111#")).await?;
        assert_eq!(result, "wrong_codes", "attempt {i}");
    }
    let mut c = Caller::relayed(&env, "127.0.0.1", "0644444444", None).await?;
    assert_eq!(
        c.try_codes(&mut env, "3011#770021#").await?,
        "locked",
        "a fourth From number from the same address is slowed down"
    );
    env.stop().await;
    Ok(())
}

/// Issue 13, finding 8 on the phone: ten wrong pairs from anywhere locked child 3011, so
/// its family could not log in for 15 minutes. A number asserted by a trusted trunk that
/// has logged in for 3011 before is a known device now: it still gets in, while unknown
/// callers stay locked, and a P-Asserted-Identity from an untrusted address, or a From
/// header, proves nothing.
#[tokio::test]
async fn an_asserted_caller_known_for_the_child_is_not_locked_out_by_others() -> Result<()> {
    let trunk = "127.0.0.2";
    let sip = SipConfigT {
        trusted_trunks: vec![trunk.parse()?],
        ..test_config()
    };
    let mut env = Env::start_full(monday_8am(), PhoneConfig::default(), sip).await?;
    let family = "+33611111111";
    let mut c = Caller::relayed(&env, trunk, "anonymous", Some(family)).await?;
    assert_eq!(c.try_codes(&mut env, "3011#770021#").await?, "logged_in");

    // Ten wrong payer codes for 3011 from ten other places, a minute apart.
    let mut now = monday_8am();
    for i in 0..10 {
        now += chrono::Duration::seconds(61);
        let err = env
            .service
            .login(
                &format!("phone:ip:198.51.100.{i}"),
                &child_code(),
                &PayerCode::parse(&format!("10000{i}"))?,
                now,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, ivr::service::login::LoginError::WrongCodes),
            "{err:?}"
        );
    }
    env.clock.set(now + chrono::Duration::minutes(1));

    // The family's number, asserted by the trunk: in.
    let mut c = Caller::relayed(&env, trunk, "anonymous", Some(family)).await?;
    assert_eq!(c.try_codes(&mut env, "3011#770021#").await?, "logged_in");
    // Another number through the trunk, with the right codes: still locked.
    let mut c = Caller::relayed(&env, trunk, "anonymous", Some("+33622222222")).await?;
    assert_eq!(c.try_codes(&mut env, "3011#770021#").await?, "locked");
    // The family's number in a From header, or in a P-Asserted-Identity sent by an
    // address that is not a trusted trunk: locked.
    let mut c = Caller::relayed(&env, "127.0.0.1", family, None).await?;
    assert_eq!(c.try_codes(&mut env, "3011#770021#").await?, "locked");
    let mut c = Caller::relayed(&env, "127.0.0.1", family, Some(family)).await?;
    assert_eq!(c.try_codes(&mut env, "3011#770021#").await?, "locked");
    env.stop().await;
    Ok(())
}

/// The µ-law payloads of the first `n` packets (20 ms) of `prompt`: what a PCMU caller
/// receives when it starts playing.
fn first_pcmu_packets(prompt: &ivr::media::Prompt, n: usize) -> Vec<Vec<u8>> {
    let pcmu = prompt
        .g711(ivr::media::Codec::Pcmu)
        .expect("G.711 is encoded at load");
    pcmu.chunks(160).take(n).map(<[u8]>::to_vec).collect()
}

/// What a new call hears first (the welcome, after the answer's silence): the first `n`
/// packets of its first talk-spurt.
async fn first_words(env: &Env, n: usize) -> Result<Vec<Vec<u8>>> {
    let caller = Caller::call(env, "0476549985").await?;
    let (pt, spurt, _) = receive_spurt(&caller.media.socket, n).await?;
    assert_eq!(pt, 0, "PCMU");
    caller.hang_up().await;
    Ok(spurt)
}

/// Two nodes of the voice line on one database: the town replaces the welcome on the web
/// (the service the staff page calls), and the next call on either node hears the town's
/// recording, byte for byte; back to the shipped prompt, the next call hears the file again.
async fn town_voice_on_every_node(a: Store, b: Store) -> Result<()> {
    let now = monday_8am();
    let node_a = Env::node(
        now,
        PhoneConfig::default(),
        test_config(),
        Some((a.clone(), true)),
    )
    .await?;
    let node_b = Env::node(now, PhoneConfig::default(), test_config(), Some((b, false))).await?;
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shipped = ivr::media::Prompt::from_wav_file(&root.join("prompts/fr/bienvenue.wav"))?;
    const N: usize = 20;
    assert_eq!(
        first_words(&node_a, N).await?,
        first_pcmu_packets(&shipped, N)
    );

    let manifest = web_support::shipped_prompts();
    let recording = ivr::media::upload::sine_wav(16_000, 1, 16, 1_000.0, 900);
    ivr::service::voice::replace(&a, &manifest, "bienvenue", recording, "amelie", now).await?;
    let stored = a
        .prompt_override_wav("bienvenue")
        .await?
        .context("stored")?;
    let town = ivr::media::Prompt::from_wav_reader(
        "bienvenue",
        std::io::Cursor::new(stored),
        std::path::Path::new("<test>"),
    )?;
    let expected = first_pcmu_packets(&town, N);
    assert_ne!(expected, first_pcmu_packets(&shipped, N));
    assert_eq!(first_words(&node_a, N).await?, expected, "node A");
    assert_eq!(first_words(&node_b, N).await?, expected, "node B");
    // The other prompts stay the shipped ones in the library calls take.
    let lib = node_b
        .voice
        .as_ref()
        .expect("running")
        .line()
        .prompts()
        .current();
    assert_eq!(
        lib.get("bienvenue").map(|p| p.duration().as_millis()),
        Some(900)
    );
    let menu = ivr::media::Prompt::from_wav_file(&root.join("prompts/fr/menu_principal.wav"))?;
    assert_eq!(
        lib.get("menu_principal").map(|p| p.duration()),
        Some(menu.duration())
    );

    // A reload of the files (SIGHUP, an edited prompt) keeps the town's recording over them.
    let line = node_b.voice.as_ref().expect("running").line();
    line.reload()?;
    let reloaded = line.prompts().current();
    assert_eq!(
        reloaded.get("bienvenue").map(|p| p.duration().as_millis()),
        Some(900)
    );

    ivr::service::voice::restore(&a, &manifest, "bienvenue").await?;
    assert_eq!(
        first_words(&node_b, N).await?,
        first_pcmu_packets(&shipped, N)
    );
    node_a.stop().await;
    node_b.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_call_after_an_upload_hears_the_town_s_recording_on_every_node_on_sqlite() -> Result<()> {
    let db = ivr::store::testing::TestDb::sqlite().await?;
    town_voice_on_every_node(db.store.clone(), db.store.clone()).await
}

#[tokio::test]
#[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
async fn a_call_after_an_upload_hears_the_town_s_recording_on_every_node_on_postgres() -> Result<()>
{
    let Some(db) = ivr::store::testing::TestDb::postgres().await? else {
        return Ok(());
    };
    town_voice_on_every_node(db.store.clone(), db.store.clone()).await
}

#[tokio::test]
async fn staff_records_a_prompt_by_phone_and_the_next_caller_hears_it() -> Result<()> {
    let mut env = with_staff_line().await?;
    let number = web_support::shipped_prompts()
        .ids()
        .position(|id| id == "bienvenue")
        .context("bienvenue in the manifest")?
        + 1;
    let mut staff = Caller::call(&env, "8000").await?;
    let id = staff.call_id.clone();
    let mut seen = Vec::new();
    env.played(&id, &mut seen, "staff_accueil").await?;
    // 2: a prompt; an unknown number is said so and asked again; then the welcome's.
    staff
        .walk(
            &mut env,
            &mut seen,
            &[
                ("2468#", "staff_menu"),
                ("2", "staff_numero_message"),
                ("999#", "staff_message_inconnu"),
                (&format!("{number}#"), "staff_enregistrez_message"),
            ],
        )
        .await?;
    let tail = &seen[seen.len() - 3..];
    assert_eq!(
        tail,
        [
            "staff_message_actuel",
            "bienvenue",
            "staff_enregistrez_message"
        ],
        "what it says now, then the question: {seen:?}"
    );
    env.played(&id, &mut seen, "bip").await?;
    env.until(&id, &mut seen, |e| {
        matches!(e, PhoneEvent::RecordingStarted { .. }).then_some(())
    })
    .await?;
    let mut pace = tokio::time::interval(std::time::Duration::from_millis(20));
    for packet in spoken_announcement() {
        pace.tick().await;
        staff.out.audio(&staff.media.socket, 0, &packet).await?;
    }
    staff.keys("#").await?;
    let mut playback = Vec::new();
    env.played(&id, &mut playback, "staff_garder_message")
        .await?;
    assert_eq!(
        playback,
        ["staff_ecoute_message", "recording", "staff_garder_message"]
    );
    staff.keys("1").await?;
    env.played(&id, &mut seen, "staff_message_enregistre")
        .await?;
    env.ended(&id, &mut seen).await?;

    // Kept in the database, as an upload on the web is, for every node; no announcement.
    let store = env.service.store().clone();
    let town = store.prompt_overrides().await?;
    assert_eq!(town.len(), 1);
    assert_eq!(town[0].prompt_id, "bienvenue");
    assert_eq!(town[0].uploaded_by, "téléphone (code personnel)");
    assert!(town[0].duration_ms >= 1_000, "{} ms", town[0].duration_ms);
    assert!(store.announcements().await?.is_empty());
    let stored = store
        .prompt_override_wav("bienvenue")
        .await?
        .context("stored")?;
    let prompt = ivr::media::Prompt::from_wav_reader(
        "bienvenue",
        std::io::Cursor::new(stored),
        std::path::Path::new("<test>"),
    )?;
    // The next caller's welcome is the staff member's voice, byte for byte.
    assert_eq!(
        first_words(&env, 20).await?,
        first_pcmu_packets(&prompt, 20)
    );
    env.stop().await;
    Ok(())
}

/// A trigger that makes the database refuse every new booking, as a disk or a server gone
/// would: SQLite's RAISE, PostgreSQL's RAISE EXCEPTION (which also counts its calls in a
/// sequence, which no rollback undoes, so the test sees how many times the write was tried).
const REFUSE_SQLITE: &str = "CREATE TRIGGER fault BEFORE INSERT ON bookings \
     BEGIN SELECT RAISE(ABORT, 'the disk is gone'); END";
const REFUSE_POSTGRES: [&str; 3] = [
    "CREATE SEQUENCE fault_tries",
    "CREATE FUNCTION fault() RETURNS trigger AS $$ BEGIN \
       IF nextval('fault_tries') <= (SELECT coalesce(max(n), 1000) FROM fault_budget) THEN \
         RAISE EXCEPTION 'the server is gone'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER fault BEFORE INSERT ON bookings FOR EACH ROW EXECUTE FUNCTION fault()",
];

/// A node of the line on `db`, seeded with the demo town, on Monday 08:00.
async fn demo_node_on(db: &ivr::store::testing::TestDb) -> Result<Env> {
    Env::node(
        monday_8am(),
        PhoneConfig::default(),
        test_config(),
        Some((db.store.clone(), true)),
    )
    .await
}

/// Installs [`REFUSE_POSTGRES`] on `db`: every new booking refused, or only the first
/// `budget` tries.
async fn refuse_bookings_on_postgres(
    db: &ivr::store::testing::TestDb,
    budget: Option<i64>,
) -> Result<()> {
    db.execute_raw("CREATE TABLE fault_budget (n BIGINT)")
        .await?;
    if let Some(n) = budget {
        db.execute_raw(&format!("INSERT INTO fault_budget VALUES ({n})"))
            .await?;
    }
    for sql in REFUSE_POSTGRES {
        db.execute_raw(sql).await?;
    }
    Ok(())
}

/// Logs in on `env`, cancels tomorrow's meal (the demo has it booked), asks to book it again
/// and confirms; returns what the booking's action answered and the call's record.
async fn cancel_then_book_again(env: &mut Env) -> Result<(&'static str, Vec<String>, CallRecord)> {
    let mut caller = Caller::call(env, "0476549985").await?;
    let id = caller.call_id.clone();
    let mut seen = Vec::new();
    log_in(env, &mut caller, &mut seen).await?;
    caller
        .walk(
            env,
            &mut seen,
            &[
                ("2", "choix_date"),
                ("1", "choix_service"),
                ("1", "vous_demandez_annulation"),
            ],
        )
        .await?;
    caller.keys("1").await?;
    assert_eq!(env.action(&id, &mut seen).await?, "cancelled");
    env.played(&id, &mut seen, "annulation_enregistree").await?;
    // Not for the other child too (the family has two).
    caller.keys("2").await?;
    caller
        .walk(
            env,
            &mut seen,
            &[
                ("1", "choix_date"),
                ("1", "choix_service"),
                ("1", "confirmer"),
            ],
        )
        .await?;
    caller.keys("1").await?;
    let booked = env.action(&id, &mut seen).await?;
    let mut heard = Vec::new();
    if booked == "failed" {
        // The polite end: said, then the line hangs up by itself.
        env.played(&id, &mut heard, "erreur_technique").await?;
    } else {
        env.played(&id, &mut heard, "inscription_enregistree")
            .await?;
        caller.hang_up().await;
    }
    env.ended(&id, &mut heard).await?;
    let mut records = env.records_after(&id).await?;
    let record = records.pop().context("the call's record")?;
    Ok((booked, heard, record))
}

/// Tuesday's meal in the database and its history (newest first), for the demo child.
async fn tuesday_meal(env: &Env) -> Result<(bool, Vec<Action>)> {
    let (_, child) = env
        .service
        .store()
        .find_login(&child_code(), &payer_code())
        .await?
        .context("demo child")?;
    let week = env.service.week(child, tuesday(), 1, monday_8am()).await?;
    let booked = week.weeks[0]
        .days
        .iter()
        .find(|d| d.date == tuesday())
        .and_then(|d| d.cells.iter().find(|c| c.service.as_str() == "REPAS"))
        .context("Tuesday's meal cell")?
        .booked;
    let history = env.service.history(child, 40).await?;
    let lines = history
        .iter()
        .filter(|h| h.date == tuesday() && h.channel == Channel::Phone)
        .map(|h| h.action)
        .collect();
    Ok((booked, lines))
}

/// A booking the database refuses twice (the try and its one retry) is answered "service
/// momentanément indisponible", never confirmed; nothing is booked and the history has the
/// cancellation only; the call's record counts the failure.
async fn a_booking_the_database_refuses_is_never_confirmed(env: &mut Env) -> Result<()> {
    let (answer, heard, record) = cancel_then_book_again(env).await?;
    assert_eq!(answer, "failed");
    assert!(
        !heard.iter().any(|p| p == "inscription_enregistree"),
        "{heard:?}"
    );
    assert_eq!(tuesday_meal(env).await?, (false, vec![Action::Cancel]));
    assert_eq!(
        (record.booked, record.cancelled, record.failed),
        (0, 1, 1),
        "{record:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_booking_the_database_refuses_is_never_confirmed_on_sqlite() -> Result<()> {
    let db = ivr::store::testing::TestDb::sqlite().await?;
    let mut env = demo_node_on(&db).await?;
    db.execute_raw(REFUSE_SQLITE).await?;
    a_booking_the_database_refuses_is_never_confirmed(&mut env).await?;
    env.stop().await;
    Ok(())
}

#[tokio::test]
#[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
async fn a_booking_the_database_refuses_is_tried_twice_never_confirmed_on_postgres() -> Result<()> {
    let Some(db) = ivr::store::testing::TestDb::postgres().await? else {
        return Ok(());
    };
    let mut env = demo_node_on(&db).await?;
    refuse_bookings_on_postgres(&db, None).await?;
    a_booking_the_database_refuses_is_never_confirmed(&mut env).await?;
    // Tried, then tried once more: not once, not three times.
    assert_eq!(
        db.query_texts("SELECT last_value::text FROM fault_tries")
            .await?,
        ["2"]
    );
    env.stop().await;
    Ok(())
}

/// A database that fails the first write only (a restart, a cut connection): the retry
/// books, the caller hears the confirmation, and the booking and its history are there once.
#[tokio::test]
#[cfg_attr(ivr_no_test_database, ignore = "TEST_DATABASE_URL is unset")]
async fn a_booking_whose_first_write_fails_is_retried_once_and_confirmed_on_postgres() -> Result<()>
{
    let Some(db) = ivr::store::testing::TestDb::postgres().await? else {
        return Ok(());
    };
    let mut env = demo_node_on(&db).await?;
    refuse_bookings_on_postgres(&db, Some(1)).await?;
    let (answer, heard, record) = cancel_then_book_again(&mut env).await?;
    assert_eq!(answer, "booked", "{heard:?}");
    assert_eq!(
        tuesday_meal(&env).await?,
        (true, vec![Action::Book, Action::Cancel])
    );
    assert_eq!((record.booked, record.failed), (1, 0), "{record:?}");
    assert_eq!(
        db.query_texts("SELECT last_value::text FROM fault_tries")
            .await?,
        ["2"]
    );
    env.stop().await;
    Ok(())
}

/// The database is away when a call ends (its record's write refused), and back a moment
/// later: the record is written by a later try, not lost.
#[tokio::test]
async fn a_call_record_refused_when_the_call_ends_is_written_when_the_database_is_back()
-> Result<()> {
    let db = ivr::store::testing::TestDb::sqlite().await?;
    let mut env = demo_node_on(&db).await?;
    db.execute_raw(
        "CREATE TRIGGER fault BEFORE INSERT ON call_records \
         BEGIN SELECT RAISE(ABORT, 'the disk is gone'); END",
    )
    .await?;
    let mut caller = Caller::call(&env, "0476549985").await?;
    let id = caller.call_id.clone();
    let mut seen = Vec::new();
    log_in(&mut env, &mut caller, &mut seen).await?;
    caller.hang_up().await;
    env.ended(&id, &mut seen).await?;
    // The first write has failed by now or will; the database comes back.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    db.execute_raw("DROP TRIGGER fault").await?;
    let records = env.records_after(&id).await?;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].outcome, CallOutcome::Consulted, "{records:?}");
    env.stop().await;
    Ok(())
}
