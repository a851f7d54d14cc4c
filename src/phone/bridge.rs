//! The bridge: runs a dialplan [`Interpreter`] over a live [`Call`].
//!
//! It is the edge of the pure interpreter: it reads the clock, feeds the call's events in
//! (call started with or without an announcement, prompts finished, keys, timeouts, the
//! booking service's answers) and performs the outputs (play with barge-in, stop, start a
//! timer, ask the booking service, hang up). One `select!` waits for the next event; the
//! digit wait is one future kept across turns, so no digit is ever lost between them.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::time::Sleep;
use tracing::{Instrument, debug, warn};

use crate::call::{Call, CallInfo, Played};
use crate::dialplan::{Dialplan, Event, Interpreter, Output, PlaybackId, PromptRef, TimerId};
use crate::media::{Prompt, PromptLibrary};
use crate::phone::actions::CallSession;
use crate::phone::events::PhoneEvent;
use crate::phone::line::PhoneLine;
use crate::phone::record::{CallRecorder, caller_label};
use crate::service::login::Origin;

/// What woke the bridge up.
enum Wake {
    Played(Result<Played, oneshot::error::RecvError>),
    Digit(Result<Option<crate::call::Digit>, crate::call::CallError>),
    Timer,
}

/// Reports the end of the flow and writes the call's record however it ends (the driver
/// drops the flow when the caller hangs up).
struct EndGuard<'a> {
    line: &'a PhoneLine,
    call_id: &'a str,
    record: CallRecorder,
}

impl Drop for EndGuard<'_> {
    fn drop(&mut self) {
        self.line.events().emit(|| PhoneEvent::Ended {
            call_id: self.call_id.to_owned(),
        });
        let record = self.record.finish(self.line.clock().now());
        self.line.record_call(self.call_id, record);
    }
}

/// Where a call's logins come from, for the login throttle.
///
/// A caller number asserted by a trusted trunk (see [`CallInfo::asserted_caller`]) is the
/// source, and also the device that may be known for a child: once it has logged in
/// successfully for that child, failures from elsewhere no longer lock it out. The
/// trunk's own address is not a source then, since every caller of the carrier shares it.
///
/// Any other call counts against the address the INVITE came from and against its From
/// number (or a hash of its Call-ID when it has none): the From header is the caller's to
/// write, so a new one is no fresh start while the address stays the same. The booking
/// service keys its counters by an HMAC of these names, never by the values.
pub fn login_origin(info: &CallInfo) -> Origin {
    if let Some(asserted) = info.asserted_caller.as_deref().filter(|c| !c.is_empty()) {
        let name = format!("phone:{asserted}");
        return Origin {
            sources: vec![name.clone()],
            device: Some(name),
        };
    }
    let caller = match info.caller.as_deref().filter(|c| !c.is_empty()) {
        Some(caller) => format!("phone:{caller}"),
        None => {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(info.call_id.as_bytes());
            let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("phone:call-{hex}")
        }
    };
    let mut sources: Vec<String> = info
        .source_ip
        .map(|ip| format!("phone:ip:{ip}"))
        .into_iter()
        .collect();
    sources.push(caller);
    Origin {
        sources,
        device: None,
    }
}

/// Runs the dialplan chosen by the dialled number over `call` until either side hangs up.
pub(crate) async fn run(line: Arc<PhoneLine>, call: Call) {
    let info = call.info().clone();
    let plan = line.dialplans().select(&info.dialled).clone();
    let span = tracing::info_span!("dialplan", call_id = %info.call_id, dialplan = plan.name());
    run_plan(&line, &call, &info, plan).instrument(span).await;
}

async fn run_plan(line: &Arc<PhoneLine>, call: &Call, info: &CallInfo, plan: Arc<Dialplan>) {
    let caller = caller_label(info, line.config().keep_caller_numbers, |n| {
        line.service().caller_pseudonym(n)
    });
    let mut end = EndGuard {
        line,
        call_id: &info.call_id,
        record: CallRecorder::new(line.clock().now(), &info.dialled, caller, plan.name()),
    };
    let tz = plan.timezone();
    let mut interp = Interpreter::new(plan);
    // The town's recordings changed since the last call (on any node)? Then the library
    // is rebuilt first, so that this call hears them.
    line.town_voice().refresh_or_warn().await;
    // One library for the whole call: a reload does not change a call in progress.
    let library = line.prompts().current();
    let now = line.clock().now();
    let announcement = match line
        .announcements()
        .current(now.with_timezone(&tz).date_naive())
        .await
    {
        Ok(a) => a,
        Err(e) => {
            warn!(error = %e, "announcement unavailable; the call goes on without it");
            None
        }
    };
    let mut session = CallSession::new(login_origin(info));
    step(
        &mut interp,
        line,
        Event::CallStarted {
            announcement_active: announcement.is_some(),
        },
    );
    end.record.at(interp.node());
    let mut play: Option<(PlaybackId, oneshot::Receiver<Played>)> = None;
    let mut timer: Option<(TimerId, Pin<Box<Sleep>>)> = None;
    let mut digit = Box::pin(call.next_digit(None));
    loop {
        while let Some(output) = interp.poll() {
            match output {
                Output::Play {
                    id,
                    prompts,
                    barge_in,
                } => {
                    let ready = resolve(&library, announcement.as_ref(), &prompts);
                    line.events().emit(|| PhoneEvent::Played {
                        call_id: info.call_id.clone(),
                        prompts: prompts.iter().map(|p| p.name().to_owned()).collect(),
                    });
                    match call.start_play(ready, barge_in) {
                        Ok(rx) => play = Some((id, rx)),
                        Err(_) => return,
                    }
                }
                Output::StopPlayback => {
                    call.stop_play().ok();
                    play = None;
                }
                Output::StartTimer { id, after } => {
                    timer = Some((id, Box::pin(tokio::time::sleep(after))));
                }
                Output::Action(request) => {
                    let result = session
                        .perform(line.service(), request, line.clock().now())
                        .await;
                    line.events().emit(|| PhoneEvent::Action {
                        call_id: info.call_id.clone(),
                        result: result.name(),
                    });
                    end.record.action(&result);
                    step(&mut interp, line, Event::ActionResult(result));
                    end.record.at(interp.node());
                }
                Output::Hangup => {
                    debug!("dialplan hangs up");
                    end.record.line_hung_up();
                    call.hangup().ok();
                    return;
                }
            }
        }
        if interp.is_ended() {
            end.record.line_hung_up();
            call.hangup().ok();
            return;
        }
        let wake = tokio::select! {
            r = async { (&mut play.as_mut().expect("guarded").1).await }, if play.is_some() => {
                Wake::Played(r)
            }
            d = &mut digit => Wake::Digit(d),
            () = async { timer.as_mut().expect("guarded").1.as_mut().await }, if timer.is_some() => {
                Wake::Timer
            }
        };
        let event = match wake {
            Wake::Played(r) => {
                let (id, _) = play.take().expect("it woke us");
                match r {
                    Ok(Played::Finished) => Event::PromptsFinished(id),
                    // Stopped by a key: the key itself comes as a digit.
                    Ok(Played::Interrupted) => continue,
                    Err(_) => Event::HungUp,
                }
            }
            Wake::Digit(Ok(Some(d))) => {
                digit.set(call.next_digit(None));
                // A to D are on no parent's phone: noise the in-band detector may hear.
                if !d.on_phone_keypad() {
                    continue;
                }
                Event::Key(d)
            }
            Wake::Digit(_) => Event::HungUp,
            Wake::Timer => {
                let (id, _) = timer.take().expect("it woke us");
                Event::Timeout(id)
            }
        };
        let hung_up = event == Event::HungUp;
        step(&mut interp, line, event);
        end.record.at(interp.node());
        if hung_up {
            return;
        }
    }
}

/// Feeds one event at the clock's instant; a flow error is logged (the interpreter has
/// already hung up or taken the error branch).
fn step(interp: &mut Interpreter, line: &PhoneLine, event: Event) {
    if let Err(e) = interp.handle(line.clock().now(), event) {
        warn!(error = %e, "dialplan step failed");
    }
}

/// The prompts ready to send; a missing one (a file removed since the checks) is skipped
/// and logged rather than silencing the whole list.
fn resolve(
    library: &PromptLibrary,
    announcement: Option<&Arc<Prompt>>,
    prompts: &[PromptRef],
) -> Vec<Arc<Prompt>> {
    prompts
        .iter()
        .filter_map(|p| {
            let found = match p {
                PromptRef::Prompt(id) => library.get(id.as_str()).cloned(),
                PromptRef::Announcement => announcement.cloned(),
            };
            if found.is_none() {
                warn!(
                    prompt = p.name(),
                    "prompt missing from the library: skipped"
                );
            }
            found
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::Codec;

    fn info(caller: Option<&str>) -> CallInfo {
        CallInfo {
            call_id: "abc@host".into(),
            dialled: "0476549985".into(),
            caller: caller.map(Into::into),
            source_ip: Some("192.0.2.7".parse().unwrap()),
            asserted_caller: None,
            codec: Codec::Pcmu,
        }
    }

    #[test]
    fn a_call_counts_against_its_address_and_its_from_number() {
        let o = login_origin(&info(Some("0612345678")));
        assert_eq!(o.sources, ["phone:ip:192.0.2.7", "phone:0612345678"]);
        assert_eq!(o.device, None, "a From number proves nothing");
        let anon = login_origin(&info(None));
        assert_eq!(anon.sources[0], "phone:ip:192.0.2.7");
        assert!(
            anon.sources[1].starts_with("phone:call-") && !anon.sources[1].contains("abc"),
            "{anon:?}"
        );
        assert_eq!(anon, login_origin(&info(Some(""))));
    }

    #[test]
    fn an_asserted_caller_is_its_own_source_and_device() {
        let mut i = info(Some("0600000000"));
        i.asserted_caller = Some("+33476549985".into());
        let o = login_origin(&i);
        assert_eq!(o.sources, ["phone:+33476549985"]);
        assert_eq!(o.device.as_deref(), Some("phone:+33476549985"));
    }
}
