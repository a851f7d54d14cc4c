//! The dialplan file format (TOML), as documented in `dialplans/README.md`.
//!
//! These types are what serde reads; [`crate::dialplan::load`] checks them once (targets,
//! prompts, reachability, loops without input, value ranges) before any call uses them.
//! Every table refuses unknown fields so that a typo is an error, not a silent default.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::booking::model::ServiceCode;
use crate::core::Digit;

/// A whole dialplan file: its header and its named nodes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialplanFile {
    /// The `[dialplan]` header.
    pub dialplan: Header,
    /// The nodes, by name (`[nodes.menu]`...).
    pub nodes: BTreeMap<String, Node>,
}

/// The `[dialplan]` header.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// What the flow is for, for the people who edit it.
    #[serde(default)]
    pub description: String,
    /// The dialled numbers answered with this dialplan (national or `+33` form). The file
    /// `default.toml` answers every number no other file lists.
    #[serde(default)]
    pub numbers: Vec<String>,
    /// The node a call starts at.
    pub start: String,
    /// The town's time zone, for "tomorrow" and the deadlines spoken (IANA name).
    #[serde(default = "default_timezone")]
    pub timezone: String,
}

fn default_timezone() -> String {
    "Europe/Paris".to_owned()
}

/// One step of the call flow, chosen by its `kind` field.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Node {
    /// Play prompts, then go on.
    Play(PlayNode),
    /// Collect several digits into a variable.
    Collect(CollectNode),
    /// Wait for one key and branch on it.
    Menu(MenuNode),
    /// Ask the booking service and branch on its answer.
    Action(ActionNode),
    /// Set a variable to a fixed value (the date "tomorrow", a service, the intent).
    Set(SetNode),
    /// Branch on a condition of the call.
    Branch(BranchNode),
    /// End the call.
    Hangup(HangupNode),
}

impl Node {
    /// Whether the node waits for the caller (so a loop through it is not a busy loop).
    pub fn waits_for_input(&self) -> bool {
        matches!(self, Node::Collect(_) | Node::Menu(_))
    }

    /// Every node this one can lead to, with the field that names it.
    pub fn targets(&self) -> Vec<(String, &str)> {
        let mut t: Vec<(String, &str)> = Vec::new();
        match self {
            Node::Play(n) => t.push(("next".into(), &n.next)),
            Node::Collect(n) => {
                t.push(("next".into(), &n.next));
                t.push(("on_max_attempts".into(), &n.on_max_attempts));
                if let Some(x) = &n.on_timeout {
                    t.push(("on_timeout".into(), x));
                }
                if let Some(x) = &n.on_invalid {
                    t.push(("on_invalid".into(), x));
                }
            }
            Node::Menu(n) => {
                for (k, x) in &n.keys {
                    t.push((format!("keys.\"{}\"", k.to_char()), x));
                }
                t.push(("on_max_attempts".into(), &n.on_max_attempts));
                if let Some(x) = &n.on_timeout {
                    t.push(("on_timeout".into(), x));
                }
                if let Some(x) = &n.on_invalid {
                    t.push(("on_invalid".into(), x));
                }
            }
            Node::Action(n) => {
                for (r, x) in &n.on {
                    t.push((format!("on.{r}"), x));
                }
                if let Some(l) = &n.limit {
                    t.push(("limit.goto".into(), &l.goto));
                }
            }
            Node::Set(n) => t.push(("next".into(), &n.next)),
            Node::Branch(n) => {
                for (c, x) in &n.cases {
                    t.push((format!("cases.{c}"), x));
                }
            }
            Node::Hangup(_) => {}
        }
        t
    }
}

/// One item of a prompt list: a fixed prompt id, or a value spoken with word prompts.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PlayItem {
    /// A prompt of the manifest, by id (`"bienvenue"`).
    Prompt(String),
    /// A spoken value (`{ say = "date", value = "date" }`).
    Say(SayItem),
}

/// A value spoken with word prompts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SayItem {
    /// What kind of value to say.
    pub say: SayKind,
    /// The variable holding it, for `number`, `date` and `service`.
    #[serde(default)]
    pub value: Option<Var>,
}

/// Kinds of spoken values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SayKind {
    /// A number variable, masculine: "trois".
    Number,
    /// A date variable with its weekday: "lundi cinq mai".
    Date,
    /// A service variable: "cantine".
    Service,
    /// The reason of the last refusal and, when it has one, its deadline: "les inscriptions
    /// pour cette date sont closes depuis vendredi deux mai à dix heures".
    Refusal,
    /// The bookings of the week last heard: each day and its services, or "none".
    Week,
    /// The town's recorded announcement (nothing when none is active).
    Announcement,
    /// What the last "same for the others" did for each other child, by its number:
    /// "enfant numéro deux : c'est enregistré, votre enfant est inscrit".
    Others,
}

impl SayKind {
    /// The name used in dialplan files.
    pub fn name(self) -> &'static str {
        match self {
            SayKind::Number => "number",
            SayKind::Date => "date",
            SayKind::Service => "service",
            SayKind::Refusal => "refusal",
            SayKind::Week => "week",
            SayKind::Announcement => "announcement",
            SayKind::Others => "others",
        }
    }
}

/// The variables of a call. Their types are fixed, so the checker can tell at load time
/// that `{ say = "date", value = "service" }` is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Var {
    /// The child code typed (secret; forgotten once sent to login).
    ChildCode,
    /// The payer code typed (secret; forgotten once sent to login).
    PayerCode,
    /// The date chosen: typed as DDMM, set to tomorrow, or the next service day.
    Date,
    /// The service chosen.
    Service,
    /// The number of the child to switch to, 1 to the number of children.
    ChildNumber,
    /// How many children the payer has (set by login).
    ChildrenCount,
}

impl Var {
    /// The name used in dialplan files.
    pub fn name(self) -> &'static str {
        match self {
            Var::ChildCode => "child_code",
            Var::PayerCode => "payer_code",
            Var::Date => "date",
            Var::Service => "service",
            Var::ChildNumber => "child_number",
            Var::ChildrenCount => "children_count",
        }
    }
}

/// `kind = "play"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlayNode {
    /// What to play, in order.
    pub prompts: Vec<PlayItem>,
    /// Whether a key stops the prompts (the key is kept as the next input). Default true.
    #[serde(default = "yes")]
    pub barge_in: bool,
    /// Where to go once played.
    pub next: String,
}

/// `kind = "collect"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectNode {
    /// The variable that receives the digits (`child_code`, `payer_code`, `date` as DDMM,
    /// `child_number`).
    pub into: Var,
    /// The question, played on entry and before each new attempt.
    #[serde(default)]
    pub prompts: Vec<PlayItem>,
    /// Played before the question again after silence.
    #[serde(default)]
    pub timeout_prompts: Vec<PlayItem>,
    /// Played before the question again after a wrong entry.
    #[serde(default)]
    pub invalid_prompts: Vec<PlayItem>,
    /// Fewest digits accepted.
    #[serde(default = "one")]
    pub min_digits: u8,
    /// Most digits accepted; reaching it ends the entry.
    #[serde(default = "twelve")]
    pub max_digits: u8,
    /// The key that ends the entry (`"#"`); it is not part of the value.
    #[serde(default)]
    pub terminator: Option<Digit>,
    /// Silence allowed after the question before the first digit, in milliseconds.
    #[serde(default = "first_digit_ms")]
    pub first_digit_timeout_ms: u32,
    /// Silence allowed between two digits, in milliseconds; then the entry ends.
    #[serde(default = "inter_digit_ms")]
    pub inter_digit_timeout_ms: u32,
    /// Tries in all (silence or wrong entry) before `on_max_attempts`.
    #[serde(default = "three")]
    pub attempts: u8,
    /// Whether a key stops the question. Default true.
    #[serde(default = "yes")]
    pub barge_in: bool,
    /// Where to go after silence instead of asking again (attempts still count).
    #[serde(default)]
    pub on_timeout: Option<String>,
    /// Where to go after a wrong entry instead of asking again (attempts still count).
    #[serde(default)]
    pub on_invalid: Option<String>,
    /// Where to go when the attempts are used up.
    pub on_max_attempts: String,
    /// Where to go with a valid entry.
    pub next: String,
}

/// `kind = "menu"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenuNode {
    /// The choices read to the caller, on entry and before each new attempt.
    pub prompts: Vec<PlayItem>,
    /// Played before the choices again after silence.
    #[serde(default)]
    pub timeout_prompts: Vec<PlayItem>,
    /// Played before the choices again after a key with no choice.
    #[serde(default)]
    pub invalid_prompts: Vec<PlayItem>,
    /// Key → node.
    pub keys: BTreeMap<Digit, String>,
    /// The key that reads the choices again without counting an attempt. Default `*`.
    #[serde(default = "star")]
    pub repeat_key: Option<Digit>,
    /// Silence allowed after the choices, in milliseconds.
    #[serde(default = "first_digit_ms")]
    pub timeout_ms: u32,
    /// Tries in all (silence or a key with no choice) before `on_max_attempts`.
    #[serde(default = "three")]
    pub attempts: u8,
    /// Whether a key stops the prompts. Default true.
    #[serde(default = "yes")]
    pub barge_in: bool,
    /// Where to go after silence instead of asking again (attempts still count).
    #[serde(default)]
    pub on_timeout: Option<String>,
    /// Where to go after a key with no choice instead of asking again.
    #[serde(default)]
    pub on_invalid: Option<String>,
    /// Where to go when the attempts are used up.
    pub on_max_attempts: String,
}

/// `kind = "action"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionNode {
    /// What to ask the booking service.
    pub action: ActionKind,
    /// Result name → node; every result of the action needs one.
    pub on: BTreeMap<String, String>,
    /// Go elsewhere after some result came back too many times in the call
    /// (three wrong code pairs → goodbye).
    #[serde(default)]
    pub limit: Option<Limit>,
}

/// A cap on how often one result of an action node may come back in a call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// The result counted (`wrong_codes`).
    pub result: String,
    /// How many times it may come back; the last one goes to `goto` instead of its branch.
    pub max: u8,
    /// Where to go then.
    pub goto: String,
}

/// The booking actions a dialplan can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Log in with `child_code` and `payer_code`: `ok`, `wrong_codes`, `locked`, `error`.
    Login,
    /// Find the next service day after today into `date`: `ok`, `none`, `error`.
    NextServiceDay,
    /// Book `service` on `date`: `booked`, `already`, `refused`, `error`.
    Book,
    /// Cancel `service` on `date`: `cancelled`, `not_booked`, `refused`, `error`.
    Cancel,
    /// Fetch this week's bookings (next week's on a weekend): `ok`, `error`.
    HearWeek,
    /// Switch to child number `child_number` of the payer: `ok`, `error`.
    SwitchChild,
    /// Make the same request (the intent, `service` on `date`) for every other child of the
    /// payer, each by its own rules: `ok` (each child's outcome, for `{ say = "others" }`),
    /// `error`.
    SameForOthers,
}

impl ActionKind {
    /// The results this action can give, each needing a branch.
    pub fn results(self) -> &'static [&'static str] {
        match self {
            ActionKind::Login => &["ok", "wrong_codes", "locked", "error"],
            ActionKind::NextServiceDay => &["ok", "none", "error"],
            ActionKind::Book => &["booked", "already", "refused", "error"],
            ActionKind::Cancel => &["cancelled", "not_booked", "refused", "error"],
            ActionKind::HearWeek | ActionKind::SwitchChild | ActionKind::SameForOthers => {
                &["ok", "error"]
            }
        }
    }
}

/// `kind = "set"`: at least one of the fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetNode {
    /// Set `date` relative to today.
    #[serde(default)]
    pub date: Option<DateChoice>,
    /// Set `service`.
    #[serde(default)]
    pub service: Option<ServiceCode>,
    /// Set what the caller is doing (booking or cancelling).
    #[serde(default)]
    pub intent: Option<Intent>,
    /// Where to go next.
    pub next: String,
}

/// A date relative to today, in the town's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateChoice {
    /// Today.
    Today,
    /// The day after today.
    Tomorrow,
}

/// What the caller is doing with the date and service chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Inscription.
    Book,
    /// Annulation.
    Cancel,
}

/// `kind = "branch"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchNode {
    /// The condition tested.
    pub test: Test,
    /// Outcome → node; every outcome needs one.
    pub cases: BTreeMap<String, String>,
}

/// Conditions a branch can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// Whether the town has an active recorded announcement: `yes`, `no`.
    AnnouncementActive,
    /// Whether the payer has more than one child: `yes`, `no`.
    SeveralChildren,
    /// The intent set earlier: `book`, `cancel`.
    Intent,
}

impl Test {
    /// The outcomes of the test, each needing a case.
    pub fn outcomes(self) -> &'static [&'static str] {
        match self {
            Test::AnnouncementActive | Test::SeveralChildren => &["yes", "no"],
            Test::Intent => &["book", "cancel"],
        }
    }
}

/// `kind = "hangup"`: no fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HangupNode {}

fn yes() -> bool {
    true
}
fn one() -> u8 {
    1
}
fn three() -> u8 {
    3
}
fn twelve() -> u8 {
    12
}
fn first_digit_ms() -> u32 {
    7000
}
fn inter_digit_ms() -> u32 {
    5000
}
#[allow(clippy::unnecessary_wraps)]
fn star() -> Option<Digit> {
    Some(Digit::STAR)
}
