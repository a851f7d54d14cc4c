//! The staff line: records the town's announcement by phone.
//!
//! Behind the staff PIN (checked against its argon2 hash; never logged), the caller records
//! after a beep, `#` stops, the recording is played back, 1 keeps it, 2 records again. A
//! kept recording is normalised, stored and swapped into the prompt library: the very next
//! call hears it. This flow is edge code over the call API; the choices it makes are few
//! and each is awaited with the call's own timeouts.

use std::sync::Arc;
use std::time::Duration;

use tracing::{Instrument, info, warn};

use crate::call::{Call, CallError, CollectSpec, Collected, Digit, Played, RecordSpec};
use crate::media::{Prompt, PromptLibrary};
use crate::phone::announcement::PreparedRecording;
use crate::phone::events::PhoneEvent;
use crate::phone::line::PhoneLine;
use crate::phone::prompt_ids::BEEP_PROMPT;
use crate::service::login::LoginError;

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
    extra: Option<&Arc<Prompt>>,
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
    if let Some(p) = extra {
        // The recording goes before the question that follows it.
        let at = prompts.len().saturating_sub(1);
        prompts.insert(at, p.clone());
        names.insert(names.len().saturating_sub(1), "recording".into());
    }
    line.events().emit(|| PhoneEvent::Played {
        call_id: call.info().call_id.clone(),
        prompts: names,
    });
    call.play(prompts, barge_in).await
}

async fn flow(line: &PhoneLine, call: &Call) -> Result<(), CallError> {
    let library = line.prompts().current();
    if !pin_accepted(line, call, &library).await? {
        say(line, call, &library, &["staff_au_revoir"], None, false).await?;
        return Ok(());
    }
    info!("staff PIN accepted: recording the announcement");
    let max_len = Duration::from_secs(line.config().max_announcement_secs.max(5));
    for _ in 0..ATTEMPTS {
        say(
            line,
            call,
            &library,
            &["staff_enregistrez", BEEP_PROMPT],
            None,
            false,
        )
        .await?;
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
        let recorded = match prepared {
            Ok(r) => r,
            Err(e) => {
                info!(error = %e, "recording not kept");
                say(line, call, &library, &["staff_rien_entendu"], None, true).await?;
                continue;
            }
        };
        match keep_or_again(line, call, &library, &recorded).await? {
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
                            &library,
                            &["staff_annonce_enregistree"],
                            None,
                            false,
                        )
                        .await
                        .map(drop)
                    }
                    Err(e) => {
                        warn!(error = %e, "announcement not saved");
                        say(line, call, &library, &["staff_erreur"], None, false)
                            .await
                            .map(drop)
                    }
                };
            }
            Some(false) => continue,
            None => break,
        }
    }
    say(line, call, &library, &["staff_au_revoir"], None, false).await?;
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
) -> Result<Option<bool>, CallError> {
    for _ in 0..ATTEMPTS {
        say(
            line,
            call,
            library,
            &["staff_ecoute", "staff_garder"],
            Some(&recorded.prompt),
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
