//! The dialplan interpreter: a pure step function over one call (DESIGN.md, habits 1 and 7).
//!
//! The call's driver feeds [`Event`]s to [`Interpreter::handle`] with the current instant
//! and drains [`Output`]s from [`Interpreter::poll`]; the interpreter never touches a socket,
//! a file or the clock. It collects digits with the core's [`Entry`] (min/max, terminator,
//! first-digit and inter-digit timeouts) and counts the attempts itself, so the driver only
//! plays, times and asks the booking service.
//!
//! Barge-in: a key during an interruptible prompt stops it and counts as input. A key during
//! a plain `play` node stops it too and is kept as type-ahead for the next collect or menu
//! (interruptible `play` nodes met on the way are skipped: the caller is already answering).
//! Keys typed while the booking service works are dropped: its answer must be heard.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use thiserror::Error;

use crate::booking::model::{Action, ChildCode, ChildId, PayerCode, ServiceCode};
use crate::core::{CollectSpec, Collected, Digit, Entry};
use crate::dialplan::event::{ActionResult, Event};
use crate::dialplan::format::{ActionKind, DateChoice, Intent, Node, PlayItem, Test, Var};
use crate::dialplan::load::Dialplan;
use crate::dialplan::output::{ActionRequest, Output, PlaybackId, PromptRef, TimerId};
use crate::dialplan::speak::{self, Context};
use crate::dialplan::vars::{Vars, date_from_ddmm, week_monday};

/// Keys kept ahead of the flow; more are dropped (a stuck key must not grow memory).
const MAX_TYPEAHEAD: usize = 32;
/// Nodes run without waiting in one step; the checker forbids loops without input, this
/// only guards against a bug.
const MAX_STEPS: usize = 256;

/// A misuse of the interpreter by its driver, or a flow that reads a variable it never
/// set. The interpreter stays usable (or, for an unset variable, hangs up politely): these
/// are for the logs. They never contain typed digits.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StepError {
    /// `CallStarted` came twice.
    #[error("call already started")]
    AlreadyStarted,
    /// An `ActionResult` came with no action pending.
    #[error("action result {0} with no action pending")]
    NoActionPending(&'static str),
    /// The result does not answer the pending action; the flow took its `error` branch.
    #[error("result {got} does not answer action {action:?}; took its error branch")]
    UnexpectedResult {
        /// The pending action.
        action: ActionKind,
        /// The result's name.
        got: &'static str,
    },
    /// The flow used a variable before setting it; the call was hung up.
    #[error("node {node}: variable {var} has no value; call hung up")]
    Unset {
        /// The node.
        node: String,
        /// The variable.
        var: &'static str,
    },
    /// Too many nodes without waiting; the call was hung up.
    #[error("node {0}: too many steps without waiting; call hung up")]
    Runaway(String),
    /// The dialplan does not have what its checks promised (a bug); the call was hung up.
    #[error("node {0}: not as the checks promised; call hung up")]
    Inconsistent(String),
}

/// Where the call is.
#[derive(Debug)]
enum State {
    NotStarted,
    /// A `play` node is playing.
    Playing {
        node: String,
        play: PlaybackId,
        barge_in: bool,
    },
    /// A `collect` or `menu` node: asking, then waiting for keys.
    Input {
        node: String,
        phase: Phase,
        /// The entry of a collect node (none for a menu). Its Debug is redacted.
        entry: Option<Entry>,
    },
    /// Waiting for the booking service.
    Acting {
        node: String,
        action: ActionKind,
        /// For a switch: the child chosen, adopted on success.
        switch_to: Option<crate::booking::model::ChildId>,
    },
    Ended,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// The question is playing.
    Asking { play: PlaybackId, barge_in: bool },
    /// Waiting for a key until this timer.
    Waiting { timer: TimerId },
    /// Keys typed ahead are being fed; no timer yet.
    Feeding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Timeout,
    Invalid,
}

/// One call's run through a dialplan.
pub struct Interpreter {
    plan: Arc<Dialplan>,
    state: State,
    vars: Vars,
    announcement_active: bool,
    /// Keys typed ahead of the flow; `Digit`'s Debug is redacted.
    typeahead: VecDeque<Digit>,
    /// Failed tries per input node, reset on a valid entry.
    attempts: HashMap<String, u8>,
    /// Per action node, how often its limited result came back.
    limits: HashMap<String, u8>,
    /// Bumped at every change of state, so a loop can tell it was left.
    epoch: u64,
    next_id: u64,
    today: Option<NaiveDate>,
    out: VecDeque<Output>,
}

impl fmt::Debug for Interpreter {
    /// The dialplan by name only; variables and typed keys redact the codes and digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interpreter")
            .field("dialplan", &self.plan.name())
            .field("state", &self.state)
            .field("vars", &self.vars)
            .field("typeahead", &self.typeahead.len())
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl Interpreter {
    /// A call about to start on `plan` (held for the whole call: a reload does not change
    /// a call in progress).
    pub fn new(plan: Arc<Dialplan>) -> Interpreter {
        Interpreter {
            plan,
            state: State::NotStarted,
            vars: Vars::default(),
            announcement_active: false,
            typeahead: VecDeque::new(),
            attempts: HashMap::new(),
            limits: HashMap::new(),
            epoch: 0,
            next_id: 0,
            today: None,
            out: VecDeque::new(),
        }
    }

    /// The dialplan this call runs.
    pub fn dialplan(&self) -> &Arc<Dialplan> {
        &self.plan
    }

    /// Whether the call is over (hung up by either side); no more outputs will come.
    pub fn is_ended(&self) -> bool {
        matches!(self.state, State::Ended)
    }

    /// The node the call is at (playing, asking or waiting for the booking service), for
    /// the call record; none before the start and after the end.
    pub fn node(&self) -> Option<&str> {
        match &self.state {
            State::Playing { node, .. }
            | State::Input { node, .. }
            | State::Acting { node, .. } => Some(node),
            _ => None,
        }
    }

    /// The next thing to do, in order; `None` once everything asked so far was taken.
    pub fn poll(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Feeds one event at `now` (used for "today" in the dialplan's zone: tomorrow, DDMM,
    /// this week). Outputs are then available from [`Interpreter::poll`].
    pub fn handle(&mut self, now: DateTime<Utc>, event: Event) -> Result<(), StepError> {
        self.today = Some(now.with_timezone(&self.plan.timezone()).date_naive());
        match event {
            Event::CallStarted {
                announcement_active,
            } => {
                if !matches!(self.state, State::NotStarted) {
                    return Err(StepError::AlreadyStarted);
                }
                self.announcement_active = announcement_active;
                let start = self.plan.start().to_owned();
                self.goto(start)
            }
            Event::HungUp => {
                self.end();
                Ok(())
            }
            Event::PromptsFinished(id) => self.prompts_finished(id),
            Event::Key(key) => self.key(key),
            Event::Timeout(id) => self.timeout(id),
            Event::ActionResult(result) => self.action_result(result),
        }
    }

    fn today(&self) -> NaiveDate {
        // `handle` sets it before any step runs.
        self.today.unwrap_or_default()
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn set_state(&mut self, state: State) {
        self.epoch += 1;
        self.state = state;
    }

    fn end(&mut self) {
        self.vars.forget_codes();
        self.typeahead.clear();
        self.set_state(State::Ended);
    }

    fn hang_up(&mut self) {
        self.out.push_back(Output::Hangup);
        self.end();
    }

    /// Ends the call on a flow error and reports it.
    fn abort(&mut self, error: StepError) -> Result<(), StepError> {
        self.hang_up();
        Err(error)
    }

    fn render(&self, node: &str, items: &[PlayItem]) -> Result<Vec<PromptRef>, StepError> {
        let ctx = Context {
            vars: &self.vars,
            announcement_active: self.announcement_active,
            timezone: self.plan.timezone(),
        };
        let mut prompts = Vec::new();
        speak::render(items, &ctx, &mut prompts).map_err(|u| StepError::Unset {
            node: node.to_owned(),
            var: u.0,
        })?;
        Ok(prompts)
    }

    /// Runs nodes from `name` until one waits (for the end of a prompt, a key, a result).
    fn goto(&mut self, name: String) -> Result<(), StepError> {
        let plan = Arc::clone(&self.plan);
        let mut current = name;
        for _ in 0..MAX_STEPS {
            let Some(node) = plan.node(&current) else {
                // The checker guarantees every target exists.
                return self.abort(StepError::Inconsistent(current));
            };
            match node {
                Node::Play(p) => {
                    if p.barge_in && !self.typeahead.is_empty() {
                        current.clone_from(&p.next);
                        continue;
                    }
                    if !p.barge_in {
                        self.typeahead.clear();
                    }
                    let prompts = match self.render(&current, &p.prompts) {
                        Ok(p) => p,
                        Err(e) => return self.abort(e),
                    };
                    if prompts.is_empty() {
                        current.clone_from(&p.next);
                        continue;
                    }
                    let play = PlaybackId(self.fresh_id());
                    self.out.push_back(Output::Play {
                        id: play,
                        prompts,
                        barge_in: p.barge_in,
                    });
                    self.set_state(State::Playing {
                        node: current,
                        play,
                        barge_in: p.barge_in,
                    });
                    return Ok(());
                }
                Node::Collect(_) | Node::Menu(_) => return self.enter_input(current, None),
                Node::Action(a) => return self.request(current, a.action),
                Node::Set(s) => {
                    if let Some(choice) = s.date {
                        let today = self.today();
                        self.vars.date = Some(match choice {
                            DateChoice::Today => today,
                            DateChoice::Tomorrow => today + chrono::Days::new(1),
                        });
                    }
                    if let Some(service) = &s.service {
                        self.vars.service = Some(service.clone());
                    }
                    if let Some(intent) = s.intent {
                        self.vars.intent = Some(intent);
                    }
                    current.clone_from(&s.next);
                }
                Node::Branch(b) => {
                    let outcome = match b.test {
                        Test::AnnouncementActive => yes_no(self.announcement_active),
                        Test::SeveralChildren => yes_no(self.vars.children.len() > 1),
                        Test::Intent => match self.vars.intent {
                            Some(Intent::Book) => "book",
                            Some(Intent::Cancel) => "cancel",
                            None => {
                                return self.abort(StepError::Unset {
                                    node: current,
                                    var: "intent",
                                });
                            }
                        },
                    };
                    match b.cases.get(outcome) {
                        Some(next) => current.clone_from(next),
                        None => return self.abort(StepError::Inconsistent(current)),
                    }
                }
                Node::Hangup(_) => {
                    self.hang_up();
                    return Ok(());
                }
            }
        }
        self.abort(StepError::Runaway(current))
    }

    /// Enters a collect or menu node: asks (after `preface`, on a retry) or feeds the keys
    /// typed ahead.
    fn enter_input(&mut self, name: String, preface: Option<Failure>) -> Result<(), StepError> {
        let plan = Arc::clone(&self.plan);
        let (prompts, retry_prompts, barge_in) = match plan.node(&name) {
            Some(Node::Collect(c)) => (
                &c.prompts,
                match preface {
                    Some(Failure::Timeout) => &c.timeout_prompts[..],
                    Some(Failure::Invalid) => &c.invalid_prompts[..],
                    None => &[],
                },
                c.barge_in,
            ),
            Some(Node::Menu(m)) => (
                &m.prompts,
                match preface {
                    Some(Failure::Timeout) => &m.timeout_prompts[..],
                    Some(Failure::Invalid) => &m.invalid_prompts[..],
                    None => &[],
                },
                m.barge_in,
            ),
            _ => return self.abort(StepError::Inconsistent(name)),
        };
        let entry = match plan.node(&name) {
            Some(Node::Collect(c)) => Some(Entry::new(CollectSpec {
                min: usize::from(c.min_digits),
                max: usize::from(c.max_digits),
                terminator: c.terminator,
                first_digit_timeout: Duration::from_millis(u64::from(c.first_digit_timeout_ms)),
                inter_digit_timeout: Duration::from_millis(u64::from(c.inter_digit_timeout_ms)),
            })),
            _ => None,
        };
        if barge_in && !self.typeahead.is_empty() {
            self.set_state(State::Input {
                node: name,
                phase: Phase::Feeding,
                entry,
            });
            return self.feed_typeahead();
        }
        self.typeahead.clear();
        let mut all = match self.render(&name, retry_prompts) {
            Ok(p) => p,
            Err(e) => return self.abort(e),
        };
        match self.render(&name, prompts) {
            Ok(p) => all.extend(p),
            Err(e) => return self.abort(e),
        }
        if all.is_empty() {
            self.set_state(State::Input {
                node: name,
                phase: Phase::Feeding,
                entry,
            });
            self.start_wait_timer();
            return Ok(());
        }
        let play = PlaybackId(self.fresh_id());
        self.out.push_back(Output::Play {
            id: play,
            prompts: all,
            barge_in,
        });
        self.set_state(State::Input {
            node: name,
            phase: Phase::Asking { play, barge_in },
            entry,
        });
        Ok(())
    }

    /// Feeds the keys typed ahead to the input node just entered, while it stays current.
    fn feed_typeahead(&mut self) -> Result<(), StepError> {
        let epoch = self.epoch;
        while self.epoch == epoch {
            let Some(key) = self.typeahead.pop_front() else {
                break;
            };
            self.input_key(key)?;
        }
        if self.epoch == epoch {
            self.start_wait_timer();
        }
        Ok(())
    }

    /// Starts the timer of the current input node: first-digit (or menu) timeout when
    /// nothing was typed, inter-digit otherwise.
    fn start_wait_timer(&mut self) {
        let State::Input { node, entry, .. } = &self.state else {
            return;
        };
        let after = match (entry, self.plan.node(node)) {
            (Some(entry), _) => entry.wait(),
            (None, Some(Node::Menu(m))) => Duration::from_millis(u64::from(m.timeout_ms)),
            _ => return,
        };
        let timer = TimerId(self.fresh_id());
        self.out.push_back(Output::StartTimer { id: timer, after });
        if let State::Input { phase, .. } = &mut self.state {
            *phase = Phase::Waiting { timer };
        }
    }

    fn prompts_finished(&mut self, id: PlaybackId) -> Result<(), StepError> {
        match &self.state {
            State::Playing { node, play, .. } if *play == id => {
                let next = match self.plan.node(node) {
                    Some(Node::Play(p)) => p.next.clone(),
                    _ => return self.abort(StepError::Inconsistent(node.clone())),
                };
                self.goto(next)
            }
            State::Input {
                phase: Phase::Asking { play, .. },
                ..
            } if *play == id => {
                self.start_wait_timer();
                Ok(())
            }
            // A late report of a playback already stopped or replaced.
            _ => Ok(()),
        }
    }

    fn key(&mut self, key: Digit) -> Result<(), StepError> {
        match &self.state {
            State::Playing { node, barge_in, .. } => {
                if !barge_in {
                    return Ok(());
                }
                let next = match self.plan.node(node) {
                    Some(Node::Play(p)) => p.next.clone(),
                    _ => return self.abort(StepError::Inconsistent(node.clone())),
                };
                self.out.push_back(Output::StopPlayback);
                self.push_typeahead(key);
                self.goto(next)
            }
            State::Input { phase, .. } => match *phase {
                Phase::Asking {
                    barge_in: false, ..
                } => Ok(()),
                Phase::Asking { barge_in: true, .. } => {
                    self.out.push_back(Output::StopPlayback);
                    self.input_key(key)?;
                    Ok(())
                }
                Phase::Waiting { .. } | Phase::Feeding => self.input_key(key),
            },
            // The answer of the booking service is news the caller has not heard yet (a
            // refusal and its deadline, a failure): keys typed before it cannot be answers
            // to what follows, and must not skip it.
            State::Acting { .. } => Ok(()),
            State::NotStarted | State::Ended => Ok(()),
        }
    }

    fn push_typeahead(&mut self, key: Digit) {
        if self.typeahead.len() < MAX_TYPEAHEAD {
            self.typeahead.push_back(key);
        }
    }

    /// One key for the current input node.
    fn input_key(&mut self, key: Digit) -> Result<(), StepError> {
        let plan = Arc::clone(&self.plan);
        let State::Input {
            node, entry, phase, ..
        } = &mut self.state
        else {
            return Ok(());
        };
        let feeding = matches!(phase, Phase::Feeding);
        match plan.node(node) {
            Some(Node::Menu(m)) => {
                let name = node.clone();
                if Some(key) == m.repeat_key {
                    // Reading the choices again is not a failed try. (Keys typed ahead
                    // after the repeat key answer at once, as with any question.)
                    return self.enter_input(name, None);
                }
                match m.keys.get(&key) {
                    Some(target) => {
                        self.attempts.remove(&name);
                        self.goto(target.clone())
                    }
                    None => self.fail(name, Failure::Invalid),
                }
            }
            Some(Node::Collect(_)) => {
                let Some(entry) = entry else {
                    let name = node.clone();
                    return self.abort(StepError::Inconsistent(name));
                };
                match entry.key(key) {
                    Some(ended) => self.finish_entry(ended),
                    None if feeding => Ok(()),
                    None => {
                        self.start_wait_timer();
                        Ok(())
                    }
                }
            }
            _ => Ok(()),
        }
    }

    fn timeout(&mut self, id: TimerId) -> Result<(), StepError> {
        let State::Input {
            node,
            phase: Phase::Waiting { timer },
            entry,
        } = &mut self.state
        else {
            return Ok(());
        };
        if *timer != id {
            return Ok(());
        }
        match entry {
            Some(entry) => {
                let ended = entry.silence();
                self.finish_entry(ended)
            }
            None => {
                let name = node.clone();
                self.fail(name, Failure::Timeout)
            }
        }
    }

    /// The entry of a collect node ended: check it, store it, go on, or count a failure.
    fn finish_entry(&mut self, ended: Collected) -> Result<(), StepError> {
        let plan = Arc::clone(&self.plan);
        let State::Input { node, .. } = &self.state else {
            return Ok(());
        };
        let name = node.clone();
        let Some(Node::Collect(c)) = plan.node(&name) else {
            return Ok(());
        };
        let digits = match ended {
            Collected::Digits { digits, .. } => digits,
            Collected::Timeout { digits } if digits.is_empty() => {
                return self.fail(name, Failure::Timeout);
            }
            // Too few digits before the silence or the terminator, or a key that is no digit.
            Collected::Timeout { .. } | Collected::Invalid => {
                return self.fail(name, Failure::Invalid);
            }
        };
        let digits = digits.expose();
        let valid = match c.into {
            Var::ChildCode => ChildCode::parse(digits)
                .map(|code| self.vars.child_code = Some(code))
                .is_ok(),
            Var::PayerCode => PayerCode::parse(digits)
                .map(|code| self.vars.payer_code = Some(code))
                .is_ok(),
            Var::Date => date_from_ddmm(digits, self.today())
                .map(|d| self.vars.date = Some(d))
                .is_some(),
            Var::ChildNumber => {
                let count = self.vars.children_count().unwrap_or(0);
                digits
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=count).contains(n))
                    .map(|n| self.vars.child_number = Some(n))
                    .is_some()
            }
            // The checker refuses collecting these.
            Var::Service | Var::ChildrenCount => false,
        };
        if valid {
            self.attempts.remove(&name);
            self.goto(c.next.clone())
        } else {
            self.fail(name, Failure::Invalid)
        }
    }

    /// A failed try at an input node: ask again, branch, or give up after the attempts.
    fn fail(&mut self, name: String, failure: Failure) -> Result<(), StepError> {
        let plan = Arc::clone(&self.plan);
        let (max, on_timeout, on_invalid, on_max) = match plan.node(&name) {
            Some(Node::Collect(c)) => {
                (c.attempts, &c.on_timeout, &c.on_invalid, &c.on_max_attempts)
            }
            Some(Node::Menu(m)) => (m.attempts, &m.on_timeout, &m.on_invalid, &m.on_max_attempts),
            _ => return self.abort(StepError::Inconsistent(name)),
        };
        let count = self.attempts.entry(name.clone()).or_insert(0);
        *count += 1;
        if *count >= max {
            self.attempts.remove(&name);
            self.typeahead.clear();
            return self.goto(on_max.clone());
        }
        let branch = match failure {
            Failure::Timeout => on_timeout,
            Failure::Invalid => on_invalid,
        };
        match branch {
            Some(target) => self.goto(target.clone()),
            None => self.enter_input(name, Some(failure)),
        }
    }

    /// Sends an action node's request.
    fn request(&mut self, name: String, action: ActionKind) -> Result<(), StepError> {
        let unset = |node: &str, var: &'static str| StepError::Unset {
            node: node.to_owned(),
            var,
        };
        let child = self.vars.child;
        let mut switch_to = None;
        let request = match action {
            ActionKind::Login => {
                // The codes leave the interpreter with the request and are forgotten here.
                match (self.vars.child_code.take(), self.vars.payer_code.take()) {
                    (Some(child_code), Some(payer_code)) => ActionRequest::Login {
                        child_code,
                        payer_code,
                    },
                    (None, _) => return self.abort(unset(&name, Var::ChildCode.name())),
                    (_, None) => return self.abort(unset(&name, Var::PayerCode.name())),
                }
            }
            ActionKind::NextServiceDay => ActionRequest::NextServiceDay {
                after: self.today(),
            },
            ActionKind::Book | ActionKind::Cancel => {
                let (child, date, service) = match self.cell() {
                    Ok(cell) => cell,
                    Err(var) => return self.abort(unset(&name, var)),
                };
                if action == ActionKind::Book {
                    ActionRequest::Book {
                        child,
                        date,
                        service,
                    }
                } else {
                    ActionRequest::Cancel {
                        child,
                        date,
                        service,
                    }
                }
            }
            ActionKind::HearWeek => {
                let Some(child) = child else {
                    return self.abort(unset(&name, "child"));
                };
                ActionRequest::HearWeek {
                    child,
                    monday: week_monday(self.today()),
                }
            }
            ActionKind::SwitchChild => {
                let chosen = self.vars.child_number.and_then(|n| {
                    self.vars
                        .children
                        .get((n as usize).checked_sub(1)?)
                        .copied()
                });
                let Some(chosen) = chosen else {
                    return self.abort(unset(&name, Var::ChildNumber.name()));
                };
                switch_to = Some(chosen);
                ActionRequest::SwitchChild { child: chosen }
            }
            ActionKind::SameForOthers => {
                let (child, date, service) = match self.cell() {
                    Ok(cell) => cell,
                    Err(var) => return self.abort(unset(&name, var)),
                };
                let action = match self.vars.intent {
                    Some(Intent::Book) => Action::Book,
                    Some(Intent::Cancel) => Action::Cancel,
                    None => return self.abort(unset(&name, "intent")),
                };
                ActionRequest::SameForOthers {
                    children: self
                        .vars
                        .children
                        .iter()
                        .copied()
                        .filter(|c| *c != child)
                        .collect(),
                    action,
                    date,
                    service,
                }
            }
        };
        self.out.push_back(Output::Action(request));
        self.set_state(State::Acting {
            node: name,
            action,
            switch_to,
        });
        Ok(())
    }

    /// The cell a change is about: the child, the date and the service chosen, or the
    /// name of the first not set yet.
    fn cell(&self) -> Result<(ChildId, NaiveDate, ServiceCode), &'static str> {
        let child = self.vars.child.ok_or("child")?;
        let date = self.vars.date.ok_or(Var::Date.name())?;
        let service = self.vars.service.clone().ok_or(Var::Service.name())?;
        Ok((child, date, service))
    }

    fn action_result(&mut self, result: ActionResult) -> Result<(), StepError> {
        let State::Acting {
            node,
            action,
            switch_to,
        } = &self.state
        else {
            if matches!(self.state, State::Ended) {
                // The caller hung up while the booking service worked: nothing to say.
                return Ok(());
            }
            return Err(StepError::NoActionPending(result.name()));
        };
        let (name, action, switch_to) = (node.clone(), *action, *switch_to);
        let got = result.name();
        let branch = match (action, result) {
            (ActionKind::Login, ActionResult::LoggedIn { child, children }) => {
                self.vars.child = Some(child);
                self.vars.children = if children.contains(&child) {
                    children
                } else {
                    // The logged-in child always belongs to the list the caller picks from.
                    let mut all = vec![child];
                    all.extend(children);
                    all
                };
                Some("ok")
            }
            (ActionKind::Login, ActionResult::WrongCodes) => Some("wrong_codes"),
            (ActionKind::Login, ActionResult::Locked) => Some("locked"),
            (ActionKind::NextServiceDay, ActionResult::NextServiceDay(Some(d))) => {
                self.vars.date = Some(d);
                Some("ok")
            }
            (ActionKind::NextServiceDay, ActionResult::NextServiceDay(None)) => Some("none"),
            (ActionKind::Book, ActionResult::Booked) => Some("booked"),
            (ActionKind::Book, ActionResult::AlreadyBooked) => Some("already"),
            (ActionKind::Cancel, ActionResult::Cancelled) => Some("cancelled"),
            (ActionKind::Cancel, ActionResult::NotBooked) => Some("not_booked"),
            (ActionKind::Book | ActionKind::Cancel, ActionResult::Refused(r)) => {
                self.vars.refusal = Some(r);
                Some("refused")
            }
            (ActionKind::HearWeek, ActionResult::Week(w)) => {
                self.vars.week = Some(w);
                Some("ok")
            }
            (ActionKind::SwitchChild, ActionResult::Switched) => {
                self.vars.child = switch_to;
                Some("ok")
            }
            (ActionKind::SameForOthers, ActionResult::Others(outcomes)) => {
                // Each outcome named by the child's number, as the caller picks children.
                let child = self.vars.child;
                let numbers = (1u32..)
                    .zip(&self.vars.children)
                    .filter(|(_, c)| Some(**c) != child)
                    .map(|(n, _)| n);
                self.vars.others = Some(numbers.zip(outcomes).collect());
                Some("ok")
            }
            (_, ActionResult::Failed) => Some("error"),
            _ => None,
        };
        let plan = Arc::clone(&self.plan);
        let Some(Node::Action(a)) = plan.node(&name) else {
            return self.abort(StepError::Inconsistent(name));
        };
        let outcome = branch.unwrap_or("error");
        let mut target = a.on.get(outcome).cloned();
        if let Some(limit) = &a.limit
            && limit.result == outcome
        {
            let count = self.limits.entry(name.clone()).or_insert(0);
            *count += 1;
            if *count >= limit.max {
                self.limits.remove(&name);
                target = Some(limit.goto.clone());
            }
        }
        let Some(target) = target else {
            return self.abort(StepError::Inconsistent(name));
        };
        self.goto(target)?;
        match branch {
            Some(_) => Ok(()),
            None => Err(StepError::UnexpectedResult { action, got }),
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
