//! Whatever the caller presses and whatever the booking service answers, the default flow
//! never reads a variable it has not set, never plays a prompt the manifest lacks, never
//! reports an error to a driver that follows the contract, and stops after a hang-up.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use chrono::{NaiveDate, TimeZone, Utc};
use ivr::booking::model::{ChildId, ServiceCode};
use ivr::core::Digit;
use ivr::dialplan::{
    ActionRequest, ActionResult, Dialplan, Event, Interpreter, OtherOutcome, Output, PlaybackId,
    PromptManifest, PromptRef, SpokenReason, SpokenRefusal, TimerId, WeekBooking,
};
use proptest::prelude::*;

static LOADED: LazyLock<(PromptManifest, Arc<Dialplan>)> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = PromptManifest::load(&root.join("prompts/fr")).unwrap();
    let plan = Dialplan::load(&root.join("dialplans/default.toml"), &manifest).unwrap();
    (manifest, Arc::new(plan))
});

#[derive(Debug, Clone)]
enum Step {
    Key(char),
    Played,
    Timeout,
    Answer(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        // Menu choices and "#" often enough that calls get past the login and the menus.
        6 => proptest::sample::select(vec!['1', '2', '3', '4']).prop_map(Step::Key),
        2 => Just(Step::Key('#')),
        1 => proptest::sample::select(vec!['0', '5', '9', '*']).prop_map(Step::Key),
        3 => Just(Step::Played),
        1 => Just(Step::Timeout),
        2 => (0usize..8).prop_map(Step::Answer),
    ]
}

fn d(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 5, day).unwrap()
}

/// A result that answers `request`, chosen by `n`.
fn answer(request: &ActionRequest, n: usize) -> ActionResult {
    let deadline = Utc.with_ymd_and_hms(2025, 5, 2, 8, 0, 0).unwrap();
    let mut options = match request {
        ActionRequest::Login { .. } => vec![
            ActionResult::LoggedIn {
                child: ChildId(1),
                children: vec![ChildId(1), ChildId(2), ChildId(3)],
            },
            ActionResult::LoggedIn {
                child: ChildId(1),
                children: vec![ChildId(1)],
            },
            ActionResult::WrongCodes,
            ActionResult::Locked,
        ],
        ActionRequest::NextServiceDay { .. } => vec![
            ActionResult::NextServiceDay(Some(d(5))),
            ActionResult::NextServiceDay(None),
        ],
        ActionRequest::Book { .. } => vec![
            ActionResult::Booked,
            ActionResult::AlreadyBooked,
            ActionResult::Refused(SpokenRefusal {
                reason: SpokenReason::BookingClosed,
                deadline: Some(deadline),
            }),
            ActionResult::Refused(SpokenRefusal {
                reason: SpokenReason::NoService,
                deadline: None,
            }),
        ],
        ActionRequest::Cancel { .. } => vec![
            ActionResult::Cancelled,
            ActionResult::NotBooked,
            ActionResult::Refused(SpokenRefusal {
                reason: SpokenReason::CancellationClosed,
                deadline: Some(deadline),
            }),
        ],
        ActionRequest::HearWeek { .. } => vec![
            ActionResult::Week(vec![
                WeekBooking {
                    date: d(5),
                    service: ServiceCode::parse("REPAS").unwrap(),
                },
                WeekBooking {
                    date: d(6),
                    service: ServiceCode::parse("SOIR").unwrap(),
                },
            ]),
            ActionResult::Week(Vec::new()),
        ],
        ActionRequest::SwitchChild { .. } => vec![ActionResult::Switched],
        ActionRequest::SameForOthers { children, .. } => vec![
            ActionResult::Others(children.iter().map(|_| OtherOutcome::Booked).collect()),
            ActionResult::Others(
                children
                    .iter()
                    .map(|_| {
                        OtherOutcome::Refused(SpokenRefusal {
                            reason: SpokenReason::BookingClosed,
                            deadline: Some(deadline),
                        })
                    })
                    .collect(),
            ),
            ActionResult::Others(children.iter().map(|_| OtherOutcome::Failed).collect()),
        ],
    };
    options.push(ActionResult::Failed);
    options.swap_remove(n % options.len())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn the_default_flow_holds_for_any_caller(steps in proptest::collection::vec(step(), 1..250)) {
        let (manifest, plan) = &*LOADED;
        let plan = Arc::clone(plan);
        let now = Utc.with_ymd_and_hms(2025, 5, 4, 9, 0, 0).unwrap();
        let mut it = Interpreter::new(plan);
        // What a well-behaved driver tracks.
        let mut playing: Option<PlaybackId> = None;
        let mut timer: Option<TimerId> = None;
        let mut pending: Option<ActionRequest> = None;
        let mut hung_up = false;

        let mut events = vec![Event::CallStarted { announcement_active: true }];
        let mut steps = steps.into_iter();
        loop {
            for event in events.drain(..) {
                prop_assert_eq!(it.handle(now, event), Ok(()));
            }
            while let Some(out) = it.poll() {
                prop_assert!(!hung_up, "output after hang-up: {:?}", out);
                match out {
                    Output::Play { id, prompts, .. } => {
                        prop_assert!(playing.is_none(), "play over a play");
                        prop_assert!(!prompts.is_empty());
                        for p in &prompts {
                            if let PromptRef::Prompt(id) = p {
                                prop_assert!(manifest.contains(id.as_str()), "unknown prompt {}", id);
                            }
                        }
                        playing = Some(id);
                        timer = None;
                    }
                    Output::StopPlayback => {
                        prop_assert!(playing.is_some(), "stop with nothing playing");
                        playing = None;
                    }
                    Output::StartTimer { id, after } => {
                        prop_assert!(playing.is_none(), "timer while playing");
                        prop_assert!(after.as_millis() >= 500);
                        timer = Some(id);
                    }
                    Output::Action(a) => {
                        prop_assert!(pending.is_none());
                        pending = Some(a);
                        timer = None;
                    }
                    Output::Hangup => {
                        prop_assert!(playing.is_none(), "hang-up during a prompt");
                        hung_up = true;
                    }
                }
            }
            if hung_up {
                prop_assert!(it.is_ended());
                break;
            }
            let Some(step) = steps.next() else { break };
            match step {
                Step::Key(c) => events.push(Event::Key(Digit::from_char(c).unwrap())),
                Step::Played => {
                    if let Some(id) = playing.take() {
                        events.push(Event::PromptsFinished(id));
                    }
                }
                Step::Timeout => {
                    if let Some(id) = timer.take() {
                        events.push(Event::Timeout(id));
                    }
                }
                Step::Answer(n) => {
                    if let Some(request) = pending.take() {
                        events.push(Event::ActionResult(answer(&request, n)));
                    }
                }
            }
        }
    }
}
