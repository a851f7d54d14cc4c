//! Golden tests of the dialplan interpreter (DESIGN.md, habit 7): a dialplan plus a script
//! of caller input gives exactly the expected prompts played and actions asked.
//!
//! Each transcript in `tests/dialplans/golden/*.txt` is a list of lines:
//! - `dialplan NAME`: run `dialplans/NAME.toml` (default: `default`), or `NAME.toml` when
//!   NAME starts with `tests/`, with the prompts of `prompts/fr`;
//! - `clock RFC3339`: the instant passed with the following events;
//! - `> EVENT`: one input (see `parse_event`); `> keys 12#` is one key event per character,
//!   `> played` and `> timeout` answer the last play and timer, `> played stale` and
//!   `> timeout stale` an id never issued;
//! - `< OUTPUT`: the outputs expected after the previous `>` line, in order and complete
//!   (see `render`); `< error` when `handle` must report a `StepError`.
//!
//! Every output must be expected: after the last line, nothing may be left to poll.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use ivr::booking::model::{ChildId, ServiceCode};
use ivr::core::Digit;
use ivr::dialplan::{
    ActionRequest, ActionResult, Dialplan, Event, Interpreter, OtherOutcome, Output, PlaybackId,
    PromptManifest, PromptRef, SpokenReason, SpokenRefusal, TimerId, WeekBooking,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(name: &str) -> Arc<Dialplan> {
    let manifest = PromptManifest::load(&root().join("prompts/fr")).expect("manifest");
    let file = if name.starts_with("tests/") {
        root().join(format!("{name}.toml"))
    } else {
        root().join(format!("dialplans/{name}.toml"))
    };
    Arc::new(Dialplan::load(&file, &manifest).unwrap_or_else(|e| panic!("{e}")))
}

/// One output as a transcript line. Codes are shown here, in a test, to check that the
/// typed digits reach the login request; the library never prints them.
fn render(out: &Output) -> String {
    match out {
        Output::Play {
            prompts, barge_in, ..
        } => {
            let names: Vec<&str> = prompts.iter().map(PromptRef::name).collect();
            let verb = if *barge_in {
                "play"
            } else {
                "play-no-barge-in"
            };
            format!("{verb} {}", names.join(" "))
        }
        Output::StopPlayback => "stop".into(),
        Output::StartTimer { after, .. } => format!("timer {}", after.as_millis()),
        Output::Action(a) => match a {
            ActionRequest::Login {
                child_code,
                payer_code,
            } => format!(
                "action login {} {}",
                child_code.expose(),
                payer_code.expose()
            ),
            ActionRequest::NextServiceDay { after } => format!("action next_service_day {after}"),
            ActionRequest::Book {
                child,
                date,
                service,
            } => format!("action book {} {date} {service}", child.0),
            ActionRequest::Cancel {
                child,
                date,
                service,
            } => format!("action cancel {} {date} {service}", child.0),
            ActionRequest::HearWeek { child, monday } => {
                format!("action hear_week {} {monday}", child.0)
            }
            ActionRequest::SwitchChild { child } => format!("action switch_child {}", child.0),
            ActionRequest::SameForOthers {
                children,
                action,
                date,
                service,
            } => format!(
                "action same_for_others {} {} {date} {service}",
                action.as_str(),
                children
                    .iter()
                    .map(|c| c.0.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        },
        Output::Hangup => "hangup".into(),
    }
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap_or_else(|e| panic!("date {s}: {e}"))
}

fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("instant {s}: {e}"))
        .with_timezone(&Utc)
}

fn result(words: &[&str]) -> ActionResult {
    match words {
        ["logged_in", child, children] => ActionResult::LoggedIn {
            child: ChildId(child.parse().unwrap()),
            children: children
                .split(',')
                .map(|c| ChildId(c.parse().unwrap()))
                .collect(),
        },
        ["wrong_codes"] => ActionResult::WrongCodes,
        ["locked"] => ActionResult::Locked,
        ["next_service_day", "none"] => ActionResult::NextServiceDay(None),
        ["next_service_day", d] => ActionResult::NextServiceDay(Some(date(d))),
        ["booked"] => ActionResult::Booked,
        ["already_booked"] => ActionResult::AlreadyBooked,
        ["cancelled"] => ActionResult::Cancelled,
        ["not_booked"] => ActionResult::NotBooked,
        ["refused", reason, rest @ ..] => ActionResult::Refused(SpokenRefusal {
            reason: match *reason {
                "booking_closed" => SpokenReason::BookingClosed,
                "cancellation_closed" => SpokenReason::CancellationClosed,
                "no_service" => SpokenReason::NoService,
                "past_date" => SpokenReason::PastDate,
                "other" => SpokenReason::Other,
                r => panic!("unknown refusal reason {r}"),
            },
            deadline: rest.first().map(|s| instant(s)),
        }),
        ["week", bookings @ ..] => ActionResult::Week(
            bookings
                .iter()
                .map(|b| {
                    let (d, s) = b.split_once(':').expect("DATE:SERVICE");
                    WeekBooking {
                        date: date(d),
                        service: ServiceCode::parse(s).unwrap(),
                    }
                })
                .collect(),
        ),
        ["switched"] => ActionResult::Switched,
        ["others", outcomes @ ..] => ActionResult::Others(
            outcomes
                .iter()
                .map(|o| match *o {
                    "booked" => OtherOutcome::Booked,
                    "already_booked" => OtherOutcome::AlreadyBooked,
                    "cancelled" => OtherOutcome::Cancelled,
                    "not_booked" => OtherOutcome::NotBooked,
                    "refused_closed" => OtherOutcome::Refused(SpokenRefusal {
                        reason: SpokenReason::BookingClosed,
                        deadline: Some(instant("2025-05-04T08:00:00Z")),
                    }),
                    "failed" => OtherOutcome::Failed,
                    o => panic!("unknown outcome {o}"),
                })
                .collect(),
        ),
        ["failed"] => ActionResult::Failed,
        other => panic!("unknown result {other:?}"),
    }
}

/// The events of one `>` line.
fn parse_event(
    line: &str,
    last_play: Option<PlaybackId>,
    last_timer: Option<TimerId>,
) -> Vec<Event> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["start"] => vec![Event::CallStarted {
            announcement_active: false,
        }],
        ["start", "announcement"] => vec![Event::CallStarted {
            announcement_active: true,
        }],
        ["played"] => vec![Event::PromptsFinished(
            last_play.expect("no play to finish"),
        )],
        ["timeout"] => vec![Event::Timeout(last_timer.expect("no timer to fire"))],
        // Ids start at 1: 0 stands for a report about something long replaced.
        ["played", "stale"] => vec![Event::PromptsFinished(PlaybackId(0))],
        ["timeout", "stale"] => vec![Event::Timeout(TimerId(0))],
        ["keys", keys] => keys
            .chars()
            .map(|c| Event::Key(Digit::from_char(c).expect("key")))
            .collect(),
        ["hungup"] => vec![Event::HungUp],
        ["result", rest @ ..] => vec![Event::ActionResult(result(rest))],
        _ => panic!("unknown event line: {line}"),
    }
}

fn run_transcript(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut plan_name = "default".to_owned();
    let mut now = instant("2025-05-04T09:00:00Z");
    let mut interp: Option<Interpreter> = None;
    let mut last_play = None;
    let mut last_timer = None;
    // The outputs (and error) of the last event line, waiting to be matched.
    let mut pending: Vec<String> = Vec::new();
    let mut expected: Vec<String> = Vec::new();
    let mut transcript: Vec<String> = Vec::new();
    let mut failures: Vec<String> = Vec::new();

    let settle = |pending: &mut Vec<String>,
                  expected: &mut Vec<String>,
                  at: usize,
                  failures: &mut Vec<String>| {
        if pending != expected {
            failures.push(format!(
                "{name}:{at}: expected\n    {}\n  got\n    {}",
                expected.join("\n    "),
                pending.join("\n    ")
            ));
        }
        pending.clear();
        expected.clear();
    };

    let mut event_line = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("dialplan ") {
            plan_name = rest.trim().to_owned();
        } else if let Some(rest) = line.strip_prefix("clock ") {
            now = instant(rest.trim());
        } else if let Some(rest) = line.strip_prefix("< ") {
            expected.push(rest.trim().to_owned());
        } else if let Some(rest) = line.strip_prefix("> ") {
            if event_line > 0 {
                settle(&mut pending, &mut expected, event_line, &mut failures);
            }
            event_line = i + 1;
            let it = interp.get_or_insert_with(|| Interpreter::new(load(&plan_name)));
            transcript.push(format!("> {}", rest.trim()));
            for event in parse_event(rest, last_play, last_timer) {
                if let Err(e) = it.handle(now, event) {
                    pending.push("error".into());
                    transcript.push(format!("< error ({e})"));
                }
            }
            while let Some(out) = it.poll() {
                match &out {
                    Output::Play { id, .. } => last_play = Some(*id),
                    Output::StartTimer { id, .. } => last_timer = Some(*id),
                    _ => {}
                }
                let line = render(&out);
                transcript.push(format!("< {line}"));
                pending.push(line);
            }
        } else {
            panic!("{name}:{}: unknown line {line:?}", i + 1);
        }
    }
    settle(&mut pending, &mut expected, event_line, &mut failures);
    assert!(
        failures.is_empty(),
        "{}\n\nwhole run:\n{}",
        failures.join("\n"),
        transcript.join("\n")
    );
}

macro_rules! golden {
    ($($test:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                run_transcript(&root().join(concat!(
                    "tests/dialplans/golden/",
                    stringify!($test),
                    ".txt"
                )));
            }
        )*
    };
}

golden!(
    login_ok,
    announcement,
    wrong_codes_three_times,
    locked,
    book_tomorrow,
    book_refused_after_deadline,
    book_typed_date,
    cancel_next_service_day,
    hear_week,
    switch_child,
    star_repeats,
    silence,
    barge_in,
    abandon_and_errors,
    branches,
    same_for_others,
);

/// Every transcript in the directory is run by one of the tests above.
#[test]
fn every_transcript_has_a_test() {
    let known = [
        "login_ok",
        "announcement",
        "wrong_codes_three_times",
        "locked",
        "book_tomorrow",
        "book_refused_after_deadline",
        "book_typed_date",
        "cancel_next_service_day",
        "hear_week",
        "switch_child",
        "star_repeats",
        "silence",
        "barge_in",
        "abandon_and_errors",
        "branches",
        "same_for_others",
    ];
    for entry in std::fs::read_dir(root().join("tests/dialplans/golden")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(known.contains(&stem.as_str()), "{stem}.txt has no test");
    }
}
