//! The staff line: records the town's announcement, or any prompt of the voice line in the
//! town's own voice, by phone.
//!
//! Behind the staff PIN (checked against its argon2 hash; never logged), 1 records the
//! announcement, 2 a prompt, chosen by its number on the staff page « Voix du serveur »
//! (what it says now is played first). The caller records after a beep, `#` stops, the
//! recording is played back, 1 keeps it, 2 records again. A kept recording is normalised,
//! stored and swapped into the prompt library: the very next call hears it (a prompt on
//! every node, like an upload on the web). A staff folder without the prompts of the
//! town's voice ([`STAFF_VOICE_PROMPTS`]) goes straight to the announcement, as before. This flow is edge code over the call API; the choices it makes are few
//! and each is awaited with the call's own timeouts.

use std::sync::Arc;
use std::time::Duration;

use tracing::{Instrument, info, warn};

use crate::call::{Call, CallError, CollectSpec, Collected, Digit, Played, RecordSpec};
use crate::media::upload::PHONE_RATE;
use crate::media::wav::write_wav;
use crate::media::{Prompt, PromptLibrary};
use crate::phone::announcement::{PreparedRecording, RECORDED_BY};
use crate::phone::events::PhoneEvent;
use crate::phone::line::PhoneLine;
use crate::phone::prompt_ids::{BEEP_PROMPT, STAFF_VOICE_PROMPTS};
use crate::service::login::LoginError;
use crate::service::voice;

/// Tries at the PIN, at recording and at the keep/again choice.
const ATTEMPTS: usize = 3;
/// Silence allowed before the first key.
const FIRST_KEY: Duration = Duration::from_secs(10);
/// Silence allowed between keys of the PIN.
const NEXT_KEY: Duration = Duration::from_secs(5);

/// Runs the staff line over `call`, then hangs up.
pub(crate) async fn run(line: Arc<PhoneLine>, call: Call) {
    let call_id = call.info().call_id.clone();
    let span = tracing::info_span!("staff_line", call_id = %call_id);
    async {
        match flow(&line, &call).await {
            Ok(()) | Err(CallError::Ended) => {}
            Err(e @ CallError::RecordingFailed) => {
                warn!(error = %e, "staff line stopped")
            }
        }
        call.hangup().ok();
        line.events().emit(|| PhoneEvent::Ended { call_id });
    }
    .instrument(span)
    .await;
}

/// Plays prompts by id (a missing one is logged and skipped), or a recording.
async fn say(
    line: &PhoneLine,
    call: &Call,
    library: &PromptLibrary,
    ids: &[&str],
    extra: Option<(&str, &Arc<Prompt>)>,
    barge_in: bool,
) -> Result<Played, CallError> {
    let mut prompts = Vec::with_capacity(ids.len() + 1);
    for id in ids {
        match library.get(id) {
            Some(p) => prompts.push(p.clone()),
            None => warn!(prompt = id, "staff prompt missing: skipped"),
        }
    }
    let mut names: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    if let Some((name, p)) = extra {
        // The recording goes before the question that follows it.
        let at = prompts.len().saturating_sub(1);
        prompts.insert(at, p.clone());
        names.insert(names.len().saturating_sub(1), name.into());
    }
    line.events().emit(|| PhoneEvent::Played {
        call_id: call.info().call_id.clone(),
        prompts: names,
    });
    call.play(prompts, barge_in).await
}

/// Why a prompt recorded by phone was not kept (said to the caller as `staff_erreur`).
#[derive(Debug, thiserror::Error)]
enum KeepError {
    /// The WAV could not be written.
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    /// The service refused it or the database failed.
    #[error(transparent)]
    Refused(#[from] voice::VoiceRefused),
}

/// What the staff member chose to record.
enum Choice {
    /// The announcement played after the welcome.
    Announcement,
    /// A prompt of the voice line, in the town's own voice.
    Prompt,
}

/// The words each kind of recording is asked, played back and kept with.
struct Wording {
    ask: &'static str,
    listen: &'static str,
    keep: &'static str,
}

const ANNOUNCEMENT_WORDS: Wording = Wording {
    ask: "staff_enregistrez",
    listen: "staff_ecoute",
    keep: "staff_garder",
};

const PROMPT_WORDS: Wording = Wording {
    ask: "staff_enregistrez_message",
    listen: "staff_ecoute_message",
    keep: "staff_garder_message",
};

async fn flow(line: &PhoneLine, call: &Call) -> Result<(), CallError> {
    // The town's recordings as every node has them, so that "the message now" is right.
    line.town_voice().refresh_or_warn().await;
    let library = line.prompts().current();
    if !pin_accepted(line, call, &library).await? {
        say(line, call, &library, &["staff_au_revoir"], None, false).await?;
        return Ok(());
    }
    // A staff folder without the prompts of the town's voice records the announcement only.
    let menu = STAFF_VOICE_PROMPTS
        .iter()
        .all(|id| library.get(id).is_some());
    let choice = if menu {
        choose(line, call, &library).await?
    } else {
        Some(Choice::Announcement)
    };
    match choice {
        Some(Choice::Announcement) => record_announcement(line, call, &library).await,
        Some(Choice::Prompt) => record_prompt(line, call, &library).await,
        None => say(line, call, &library, &["staff_au_revoir"], None, false)
            .await
            .map(drop),
    }
}

/// 1: the announcement, 2: a prompt; asked up to [`ATTEMPTS`] times.
async fn choose(
    line: &PhoneLine,
    call: &Call,
    library: &PromptLibrary,
) -> Result<Option<Choice>, CallError> {
    for _ in 0..ATTEMPTS {
        say(line, call, library, &["staff_menu"], None, true).await?;
        match call.collect(CollectSpec::one_key(FIRST_KEY)).await? {
            Collected::Digits { digits, .. } if digits.expose() == "1" => {
                return Ok(Some(Choice::Announcement));
            }
            Collected::Digits { digits, .. } if digits.expose() == "2" => {
                return Ok(Some(Choice::Prompt));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// Asks to speak after the beep (`ask`), records until `#` or the longest announcement, and
/// prepares the audio; `None` (said to the caller) when it held no speech.
async fn record_once(
    line: &PhoneLine,
    call: &Call,
    library: &PromptLibrary,
    ask: &str,
    before: Option<(&str, &Arc<Prompt>)>,
) -> Result<Option<PreparedRecording>, CallError> {
    let max_len = Duration::from_secs(line.config().max_announcement_secs.max(5));
    match before {
        // What is said now, then the question, then the beep on its own.
        Some(_) => {
            say(
                line,
                call,
                library,
                &["staff_message_actuel", ask],
                before,
                false,
            )
            .await?;
            say(line, call, library, &[BEEP_PROMPT], None, false).await?;
        }
        None => {
            say(line, call, library, &[ask, BEEP_PROMPT], None, false).await?;
        }
    }
    call.flush_digits()?;
    line.events().emit(|| PhoneEvent::RecordingStarted {
        call_id: call.info().call_id.clone(),
    });
    let recording = call
        .record(RecordSpec {
            max_len,
            stop_on: Some(Digit::POUND),
        })
        .await?;
    // Encoding (Opus included) is CPU work: keep it off the call's driver task.
    let audio = recording.audio;
    let prepared = tokio::task::spawn_blocking(move || {
        PreparedRecording::prepare(&audio.samples, audio.sample_rate)
    })
    .await
    .map_err(|_| CallError::Ended)?;
    match prepared {
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            info!(error = %e, "recording not kept");
            say(line, call, library, &["staff_rien_entendu"], None, true).await?;
            Ok(None)
        }
    }
}

/// Records the announcement: after the beep, `#` stops, it is played back, 1 keeps it.
async fn record_announcement(
    line: &PhoneLine,
    call: &Call,
    library: &PromptLibrary,
) -> Result<(), CallError> {
    info!("staff PIN accepted: recording the announcement");
    for _ in 0..ATTEMPTS {
        let w = &ANNOUNCEMENT_WORDS;
        let Some(recorded) = record_once(line, call, library, w.ask, None).await? else {
            continue;
        };
        match keep_or_again(line, call, library, &recorded, w).await? {
            Some(true) => {
                let now = line.clock().now();
                return match line.announcements().save(&recorded, now).await {
                    Ok(()) => {
                        info!("new announcement recorded by phone");
                        line.events().emit(|| PhoneEvent::AnnouncementSaved {
                            call_id: call.info().call_id.clone(),
                        });
                        say(
                            line,
                            call,
                            library,
                            &["staff_annonce_enregistree"],
                            None,
                            false,
                        )
                        .await
                        .map(drop)
                    }
                    Err(e) => {
                        warn!(error = %e, "announcement not saved");
                        say(line, call, library, &["staff_erreur"], None, false)
                            .await
                            .map(drop)
                    }
                };
            }
            Some(false) => continue,
            None => break,
        }
    }
    say(line, call, library, &["staff_au_revoir"], None, false).await?;
    Ok(())
}

/// The prompt whose number (as the staff page shows it) the caller types, then `#`.
async fn ask_prompt(
    line: &PhoneLine,
    call: &Call,
    library: &PromptLibrary,
) -> Result<Option<String>, CallError> {
    let manifest = line.manifest();
    for attempt in 0..ATTEMPTS {
        let ids: &[&str] = if attempt == 0 {
            &["staff_numero_message"]
        } else {
            &["staff_message_inconnu", "staff_numero_message"]
        };
        say(line, call, library, ids, None, true).await?;
        let collected = call
            .collect(CollectSpec {
                min: 1,
                max: 4,
                terminator: Some(Digit::POUND),
                first_digit_timeout: FIRST_KEY,
                inter_digit_timeout: NEXT_KEY,
            })
            .await?;
        if let Collected::Digits { digits, .. } = collected
            && let Some(id) = digits
                .expose()
                .parse()
                .ok()
                .and_then(|n| voice::by_number(&manifest, n))
        {
            return Ok(Some(id.to_owned()));
        }
    }
    Ok(None)
}

/// Records a prompt of the voice line in the town's voice: its number, what it says now,
/// the new recording after the beep, played back, 1 keeps it for every next call.
async fn record_prompt(
    line: &PhoneLine,
    call: &Call,
    library: &PromptLibrary,
) -> Result<(), CallError> {
    let Some(id) = ask_prompt(line, call, library).await? else {
        return say(line, call, library, &["staff_au_revoir"], None, false)
            .await
            .map(drop);
    };
    info!(prompt = %id, "staff PIN accepted: recording a prompt");
    let current = library.get(&id).cloned();
    for _ in 0..ATTEMPTS {
        let w = &PROMPT_WORDS;
        let before = current.as_ref().map(|p| (id.as_str(), p));
        let Some(recorded) = record_once(line, call, library, w.ask, before).await? else {
            continue;
        };
        match keep_or_again(line, call, library, &recorded, w).await? {
            Some(true) => {
                return match keep_prompt(line, &id, &recorded).await {
                    Ok(()) => {
                        info!(prompt = %id, "prompt recorded by phone");
                        say(
                            line,
                            call,
                            library,
                            &["staff_message_enregistre"],
                            None,
                            false,
                        )
                        .await
                        .map(drop)
                    }
                    Err(e) => {
                        warn!(error = %e, prompt = %id, "prompt recording not saved");
                        say(line, call, library, &["staff_erreur"], None, false)
                            .await
                            .map(drop)
                    }
                };
            }
            Some(false) => continue,
            None => break,
        }
    }
    say(line, call, library, &["staff_au_revoir"], None, false).await?;
    Ok(())
}

/// Stores a phone recording as the town's prompt `id` (the service the web page calls), then
/// brings this node's library up to date at once.
async fn keep_prompt(
    line: &PhoneLine,
    id: &str,
    recorded: &PreparedRecording,
) -> Result<(), KeepError> {
    let mut wav = std::io::Cursor::new(Vec::new());
    write_wav(&mut wav, &recorded.samples, PHONE_RATE)?;
    let duration_ms = recorded.samples.len() as u64 * 1000 / u64::from(PHONE_RATE);
    voice::keep(
        line.service().store(),
        &line.manifest(),
        id,
        &wav.into_inner(),
        duration_ms,
        RECORDED_BY,
        line.clock().now(),
    )
    .await?;
    line.town_voice().refresh_or_warn().await;
    Ok(())
}

/// Asks for the PIN up to [`ATTEMPTS`] times.
async fn pin_accepted(
    line: &PhoneLine,
    call: &Call,
    library: &PromptLibrary,
) -> Result<bool, CallError> {
    for attempt in 0..ATTEMPTS {
        let ids: &[&str] = if attempt == 0 {
            &["staff_accueil"]
        } else {
            &["staff_code_incorrect", "staff_accueil"]
        };
        say(line, call, library, ids, None, true).await?;
        let collected = call
            .collect(CollectSpec {
                min: 1,
                max: 12,
                terminator: Some(Digit::POUND),
                first_digit_timeout: FIRST_KEY,
                inter_digit_timeout: NEXT_KEY,
            })
            .await?;
        if let Collected::Digits { digits, .. } = collected {
            let origin = crate::phone::bridge::login_origin(call.info());
            let attempt = match line.staff_pin_begin(&origin).await {
                Ok(attempt) => attempt,
                Err(LoginError::TooManyAttempts { .. }) => {
                    info!("staff line locked: PIN not checked");
                    return Ok(false);
                }
                Err(e) => {
                    warn!(error = %e, "staff PIN throttle unavailable: PIN not checked");
                    return Ok(false);
                }
            };
            let pin = digits.expose().to_owned();
            let line_hash = line.staff_pin_checker();
            // argon2 is deliberately slow and takes 19 MiB: not on the call's driver task,
            // and only a few at once in the process, with the web's staff logins.
            let ok = crate::service::staff_accounts::PasswordGate::global()
                .run(move || line_hash(&pin))
                .await
                .unwrap_or(false);
            if let Err(e) = line.staff_pin_finish(attempt, ok).await {
                warn!(error = %e, "staff PIN result not recorded");
            }
            if ok {
                return Ok(true);
            }
            info!("staff PIN refused");
        }
    }
    Ok(false)
}

/// Plays the recording back and asks: `Some(true)` keep, `Some(false)` again, `None` no
/// valid answer.
async fn keep_or_again(
    line: &PhoneLine,
    call: &Call,
    library: &PromptLibrary,
    recorded: &PreparedRecording,
    words: &Wording,
) -> Result<Option<bool>, CallError> {
    for _ in 0..ATTEMPTS {
        say(
            line,
            call,
            library,
            &[words.listen, words.keep],
            Some(("recording", &recorded.prompt)),
            true,
        )
        .await?;
        match call.collect(CollectSpec::one_key(FIRST_KEY)).await? {
            Collected::Digits { digits, .. } if digits.expose() == "1" => return Ok(Some(true)),
            Collected::Digits { digits, .. } if digits.expose() == "2" => return Ok(Some(false)),
            _ => {}
        }
    }
    Ok(None)
}
