//! The interpreter's contract with its driver, beyond the golden transcripts: misuse is
//! reported, a flow that reads an unset variable hangs up, and typed codes never show in
//! `Debug` output (they must never reach a log).

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use ivr::booking::model::ChildId;
use ivr::core::Digit;
use ivr::dialplan::{
    ActionRequest, ActionResult, Dialplan, Event, Interpreter, Output, PromptManifest, StepError,
};

fn manifest() -> PromptManifest {
    PromptManifest::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/fr")).unwrap()
}

fn plan(toml: &str) -> Arc<Dialplan> {
    Arc::new(
        Dialplan::parse(Path::new("inline.toml"), toml, &manifest())
            .unwrap_or_else(|e| panic!("{e}")),
    )
}

fn default_plan() -> Arc<Dialplan> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Arc::new(Dialplan::load(&root.join("dialplans/default.toml"), &manifest()).unwrap())
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 5, 4, 9, 0, 0).unwrap()
}

/// The default plan's interpreter, its call started without an announcement.
fn started() -> Interpreter {
    let mut i = Interpreter::new(default_plan());
    i.handle(
        now(),
        Event::CallStarted {
            announcement_active: false,
        },
    )
    .unwrap();
    i
}

fn drain(i: &mut Interpreter) -> Vec<Output> {
    std::iter::from_fn(|| i.poll()).collect()
}

fn keys(i: &mut Interpreter, s: &str) {
    for c in s.chars() {
        i.handle(now(), Event::Key(Digit::from_char(c).unwrap()))
            .unwrap();
    }
}

#[test]
fn typed_codes_never_show_in_debug() {
    let mut i = started();
    // Half-typed child code: held as keys.
    keys(&mut i, "98765");
    let half = format!("{i:?}");
    assert!(
        half.contains("Digits(5 digits)"),
        "typed keys are held redacted: {half}"
    );
    assert!(!half.contains("98765"), "{half}");
    keys(&mut i, "4#");
    // Complete child code, payer code half-typed.
    keys(&mut i, "55443");
    let both = format!("{i:?}");
    assert!(
        !both.contains("987654") && !both.contains("55443"),
        "{both}"
    );
    keys(&mut i, "3#");
    let outputs = drain(&mut i);
    let login = outputs
        .iter()
        .find_map(|o| match o {
            Output::Action(a @ ActionRequest::Login { .. }) => Some(a.clone()),
            _ => None,
        })
        .expect("login asked");
    let shown = format!("{login:?}");
    assert!(
        !shown.contains("987654") && !shown.contains("554433"),
        "{shown}"
    );
    match login {
        ActionRequest::Login {
            child_code,
            payer_code,
        } => {
            assert_eq!(child_code.expose(), "987654");
            assert_eq!(payer_code.expose(), "554433");
        }
        other => panic!("{other:?}"),
    }
    // Sent to login, the codes are forgotten by the interpreter.
    let after = format!("{i:?}");
    assert!(
        after.contains("child_code: None") && after.contains("payer_code: None"),
        "{after}"
    );
}

#[test]
fn misuse_is_reported() {
    let mut i = Interpreter::new(default_plan());
    let start = Event::CallStarted {
        announcement_active: false,
    };
    i.handle(now(), start.clone()).unwrap();
    assert_eq!(i.handle(now(), start), Err(StepError::AlreadyStarted));
    assert_eq!(
        i.handle(now(), Event::ActionResult(ActionResult::Booked)),
        Err(StepError::NoActionPending("booked"))
    );
}

#[test]
fn a_result_for_another_action_takes_the_error_branch() {
    let mut i = started();
    keys(&mut i, "1#2#");
    drain(&mut i);
    let err = i
        .handle(now(), Event::ActionResult(ActionResult::Booked))
        .unwrap_err();
    assert!(
        matches!(err, StepError::UnexpectedResult { got: "booked", .. }),
        "{err}"
    );
    let outputs = drain(&mut i);
    assert!(
        matches!(&outputs[..], [Output::Play { prompts, barge_in: false, .. }]
            if prompts[0].name() == "erreur_technique"),
        "{outputs:?}"
    );
}

#[test]
fn reading_an_unset_variable_hangs_up_with_an_error() {
    // The checker cannot see that no path sets the date before it is said.
    let mut i = Interpreter::new(plan(
        r#"
        [dialplan]
        start = "say_date"
        [nodes.say_date]
        kind = "play"
        prompts = ["vous_demandez_inscription", { say = "date", value = "date" }]
        next = "bye"
        [nodes.bye]
        kind = "hangup"
        "#,
    ));
    let err = i
        .handle(
            now(),
            Event::CallStarted {
                announcement_active: false,
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        StepError::Unset {
            node: "say_date".into(),
            var: "date"
        }
    );
    assert_eq!(drain(&mut i), vec![Output::Hangup]);
    assert!(i.is_ended());
}

#[test]
fn tomorrow_is_taken_in_the_towns_zone() {
    // 23:30 UTC on Sunday 4 May is already Monday 5 May in Paris: tomorrow is Tuesday.
    let late = Utc.with_ymd_and_hms(2025, 5, 4, 22, 30, 0).unwrap();
    let mut i = Interpreter::new(plan(
        r#"
        [dialplan]
        start = "tomorrow"
        [nodes.tomorrow]
        kind = "set"
        date = "tomorrow"
        next = "say"
        [nodes.say]
        kind = "play"
        prompts = [{ say = "date", value = "date" }]
        next = "bye"
        [nodes.bye]
        kind = "hangup"
        "#,
    ));
    i.handle(
        late,
        Event::CallStarted {
            announcement_active: false,
        },
    )
    .unwrap();
    let outputs = drain(&mut i);
    let Output::Play { prompts, .. } = &outputs[0] else {
        panic!("{outputs:?}")
    };
    let names: Vec<&str> = prompts.iter().map(|p| p.name()).collect();
    assert_eq!(names, ["day_mardi", "n_6", "month_mai"]);
}

#[test]
fn the_logged_in_child_is_always_among_the_children() {
    let mut i = started();
    keys(&mut i, "1#2#");
    drain(&mut i);
    // A service that lists only the other children still lets the caller come back.
    i.handle(
        now(),
        Event::ActionResult(ActionResult::LoggedIn {
            child: ChildId(5),
            children: vec![ChildId(6)],
        }),
    )
    .unwrap();
    keys(&mut i, "4");
    let outputs = drain(&mut i);
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, Output::Play { prompts, .. }
            if prompts.iter().map(|p| p.name()).collect::<Vec<_>>()
                == ["nombre_enfants", "n_2", "choix_enfant"])),
        "{outputs:?}"
    );
}
