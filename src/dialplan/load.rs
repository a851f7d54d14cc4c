//! Loading a dialplan file and checking it once, before any call uses it.
//!
//! Every problem is collected (not just the first), each naming the file and the node:
//! an unknown prompt, a branch to a node that does not exist, a result or case without a
//! branch, an unreachable node, a loop that never waits for the caller, a value out of
//! range, a spoken value of the wrong type.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use crate::booking::model::MAX_CODE_DIGITS;
use crate::core::Digit;
use crate::dialplan::error::{DialplanError, Problem};
use crate::dialplan::format::{DialplanFile, Node, PlayItem, SayKind, Var};
use crate::dialplan::manifest::PromptManifest;
use crate::dialplan::number::normalize_number;
use crate::dialplan::speak;

/// Timeouts accepted in a dialplan, in milliseconds (half a second to a minute).
pub const TIMEOUT_RANGE_MS: std::ops::RangeInclusive<u32> = 500..=60_000;
/// Attempts accepted for an input node.
pub const ATTEMPTS_RANGE: std::ops::RangeInclusive<u8> = 1..=10;
/// The most digits a collect node may take.
pub const MAX_COLLECT_DIGITS: u8 = 20;

/// A dialplan that passed its checks: the only kind the interpreter runs.
#[derive(Debug, Clone)]
pub struct Dialplan {
    name: String,
    file: PathBuf,
    numbers: Vec<String>,
    start: String,
    timezone: Tz,
    nodes: BTreeMap<String, Node>,
}

impl Dialplan {
    /// Reads and checks a dialplan file against the prompts of `manifest`.
    pub fn load(file: &Path, manifest: &PromptManifest) -> Result<Dialplan, DialplanError> {
        let text = std::fs::read_to_string(file).map_err(|source| DialplanError::Io {
            path: file.to_owned(),
            reason: source,
        })?;
        Dialplan::parse(file, &text, manifest)
    }

    /// Checks dialplan text; `file` names it in errors and gives its name (the file stem).
    pub fn parse(
        file: &Path,
        text: &str,
        manifest: &PromptManifest,
    ) -> Result<Dialplan, DialplanError> {
        let parsed: DialplanFile = toml::from_str(text).map_err(|e| {
            DialplanError::Invalid(vec![Problem {
                file: file.to_owned(),
                node: None,
                message: format!("TOML invalide : {e}"),
            }])
        })?;
        let mut checker = Checker {
            file,
            plan: &parsed,
            manifest,
            problems: Vec::new(),
        };
        let (timezone, numbers) = checker.check_header();
        for (name, node) in &parsed.nodes {
            checker.check_node(name, node);
        }
        checker.check_reachable();
        checker.check_loops_wait();
        if !checker.problems.is_empty() {
            return Err(DialplanError::Invalid(checker.problems));
        }
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Dialplan {
            name,
            file: file.to_owned(),
            numbers,
            start: parsed.dialplan.start,
            timezone: timezone.unwrap_or(chrono_tz::Europe::Paris),
            nodes: parsed.nodes,
        })
    }

    /// The name: the file stem (`default` for `default.toml`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file it was read from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The dialled numbers it answers, normalised to the national form (`0476549985`).
    pub fn numbers(&self) -> &[String] {
        &self.numbers
    }

    /// The first node of a call.
    pub fn start(&self) -> &str {
        &self.start
    }

    /// The town's time zone.
    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// A node by name; every target of a checked dialplan names one.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.get(name)
    }

    /// The nodes, by name.
    pub fn nodes(&self) -> &BTreeMap<String, Node> {
        &self.nodes
    }
}

struct Checker<'a> {
    file: &'a Path,
    plan: &'a DialplanFile,
    manifest: &'a PromptManifest,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, node: Option<&str>, message: String) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            node: node.map(str::to_owned),
            message,
        });
    }

    fn check_header(&mut self) -> (Option<Tz>, Vec<String>) {
        let header = &self.plan.dialplan;
        if !self.plan.nodes.contains_key(&header.start) {
            self.problem(
                None,
                format!("le nœud de départ « {} » n'existe pas", header.start),
            );
        }
        let tz = match header.timezone.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                self.problem(
                    None,
                    format!("fuseau horaire inconnu « {} »", header.timezone),
                );
                None
            }
        };
        let mut numbers = Vec::new();
        for n in &header.numbers {
            match normalize_number(n) {
                Some(norm) if !numbers.contains(&norm) => numbers.push(norm),
                Some(_) => self.problem(None, format!("numéro « {n} » répété")),
                None => self.problem(None, format!("numéro appelé « {n} » invalide")),
            }
        }
        (tz, numbers)
    }

    fn check_node(&mut self, name: &str, node: &Node) {
        for (field, target) in node.targets() {
            if !self.plan.nodes.contains_key(target) {
                self.problem(
                    Some(name),
                    format!("« {field} » mène au nœud inconnu « {target} »"),
                );
            }
        }
        match node {
            Node::Play(n) => {
                if n.prompts.is_empty() {
                    self.problem(Some(name), "aucun message à jouer".into());
                }
                self.check_items(name, &n.prompts);
            }
            Node::Collect(n) => {
                self.check_items(name, &n.prompts);
                self.check_items(name, &n.timeout_prompts);
                self.check_items(name, &n.invalid_prompts);
                self.check_timeout(name, "first_digit_timeout_ms", n.first_digit_timeout_ms);
                self.check_timeout(name, "inter_digit_timeout_ms", n.inter_digit_timeout_ms);
                self.check_attempts(name, n.attempts);
                if n.min_digits == 0 || n.min_digits > n.max_digits {
                    self.problem(
                        Some(name),
                        format!(
                            "min_digits ({}) doit être entre 1 et max_digits ({})",
                            n.min_digits, n.max_digits
                        ),
                    );
                }
                if n.max_digits > MAX_COLLECT_DIGITS {
                    self.problem(
                        Some(name),
                        format!("max_digits ({}) dépasse {MAX_COLLECT_DIGITS}", n.max_digits),
                    );
                }
                if n.terminator
                    .is_some_and(|k| k != Digit::POUND && k != Digit::STAR)
                {
                    self.problem(
                        Some(name),
                        "la touche de fin (terminator) doit être « # » ou « * »".into(),
                    );
                }
                match n.into {
                    Var::ChildCode | Var::PayerCode
                        if usize::from(n.max_digits) > MAX_CODE_DIGITS =>
                    {
                        self.problem(
                            Some(name),
                            format!("un code a au plus {MAX_CODE_DIGITS} chiffres (max_digits)"),
                        )
                    }
                    Var::Date if (n.min_digits, n.max_digits) != (4, 4) => self.problem(
                        Some(name),
                        "une date se tape en 4 chiffres JJMM : min_digits et max_digits \
                         doivent valoir 4"
                            .into(),
                    ),
                    Var::Service | Var::ChildrenCount => self.problem(
                        Some(name),
                        format!("la variable « {} » ne se saisit pas", n.into.name()),
                    ),
                    _ => {}
                }
            }
            Node::Menu(n) => {
                self.check_items(name, &n.prompts);
                self.check_items(name, &n.timeout_prompts);
                self.check_items(name, &n.invalid_prompts);
                self.check_timeout(name, "timeout_ms", n.timeout_ms);
                self.check_attempts(name, n.attempts);
                if n.keys.is_empty() {
                    self.problem(Some(name), "un menu a au moins une touche".into());
                }
                if let Some(k) = n.repeat_key
                    && n.keys.contains_key(&k)
                {
                    self.problem(
                        Some(name),
                        format!(
                            "la touche « {} » sert déjà à réécouter (repeat_key)",
                            k.to_char()
                        ),
                    );
                }
                // A to D are DTMF keys no phone of a parent has; the line drops them.
                for k in n.keys.keys().chain(&n.repeat_key) {
                    if !k.on_phone_keypad() {
                        self.problem(
                            Some(name),
                            format!(
                                "la touche « {} » n'est pas sur un téléphone (0 à 9, * ou #)",
                                k.to_char()
                            ),
                        );
                    }
                }
            }
            Node::Action(n) => {
                let results = n.action.results();
                for r in results {
                    if !n.on.contains_key(*r) {
                        self.problem(
                            Some(name),
                            format!("pas de suite pour le résultat « {r} » (on.{r})"),
                        );
                    }
                }
                for r in n.on.keys() {
                    if !results.contains(&r.as_str()) {
                        self.problem(
                            Some(name),
                            format!(
                                "résultat « {r} » inconnu pour cette action (possibles : {})",
                                results.join(", ")
                            ),
                        );
                    }
                }
                if let Some(limit) = &n.limit {
                    if !results.contains(&limit.result.as_str()) {
                        self.problem(
                            Some(name),
                            format!(
                                "limit.result « {} » n'est pas un résultat de cette action",
                                limit.result
                            ),
                        );
                    }
                    if limit.max == 0 {
                        self.problem(Some(name), "limit.max doit valoir au moins 1".into());
                    }
                }
            }
            Node::Set(n) => {
                if n.date.is_none() && n.service.is_none() && n.intent.is_none() {
                    self.problem(Some(name), "rien à régler (date, service ou intent)".into());
                }
            }
            Node::Branch(n) => {
                let outcomes = n.test.outcomes();
                for o in outcomes {
                    if !n.cases.contains_key(*o) {
                        self.problem(
                            Some(name),
                            format!("pas de suite pour le cas « {o} » (cases.{o})"),
                        );
                    }
                }
                for c in n.cases.keys() {
                    if !outcomes.contains(&c.as_str()) {
                        self.problem(
                            Some(name),
                            format!("cas « {c} » inconnu (possibles : {})", outcomes.join(", ")),
                        );
                    }
                }
            }
            Node::Hangup(_) => {}
        }
    }

    fn check_timeout(&mut self, node: &str, field: &str, ms: u32) {
        if !TIMEOUT_RANGE_MS.contains(&ms) {
            self.problem(
                Some(node),
                format!(
                    "{field} ({ms}) doit être entre {} et {} millisecondes",
                    TIMEOUT_RANGE_MS.start(),
                    TIMEOUT_RANGE_MS.end()
                ),
            );
        }
    }

    fn check_attempts(&mut self, node: &str, attempts: u8) {
        if !ATTEMPTS_RANGE.contains(&attempts) {
            self.problem(
                Some(node),
                format!(
                    "attempts ({attempts}) doit être entre {} et {}",
                    ATTEMPTS_RANGE.start(),
                    ATTEMPTS_RANGE.end()
                ),
            );
        }
    }

    fn check_items(&mut self, node: &str, items: &[PlayItem]) {
        for item in items {
            match item {
                PlayItem::Prompt(id) => {
                    if !self.manifest.contains(id) {
                        self.problem(
                            Some(node),
                            format!("message inconnu « {id} » (absent du manifeste des messages)"),
                        );
                    }
                }
                PlayItem::Say(say) => {
                    let expected: &[Var] = match say.say {
                        SayKind::Number => &[Var::ChildNumber, Var::ChildrenCount],
                        SayKind::Date => &[Var::Date],
                        SayKind::Service => &[Var::Service],
                        SayKind::Refusal
                        | SayKind::Week
                        | SayKind::Announcement
                        | SayKind::Others => &[],
                    };
                    match (say.value, expected.is_empty()) {
                        (Some(v), true) => self.problem(
                            Some(node),
                            format!(
                                "« say = \"{}\" » ne prend pas de valeur (value = « {} »)",
                                say.say.name(),
                                v.name()
                            ),
                        ),
                        (None, false) => self.problem(
                            Some(node),
                            format!(
                                "« say = \"{}\" » demande une valeur (value)",
                                say.say.name()
                            ),
                        ),
                        (Some(v), false) if !expected.contains(&v) => self.problem(
                            Some(node),
                            format!(
                                "« say = \"{}\" » ne peut pas dire la variable « {} »",
                                say.say.name(),
                                v.name()
                            ),
                        ),
                        _ => {}
                    }
                    for id in speak::fixed_prompts(say.say) {
                        if !self.manifest.contains(id) {
                            self.problem(
                                Some(node),
                                format!("message « {id} » absent du manifeste (nécessaire pour say = \"{}\")", say.say.name()),
                            );
                        }
                    }
                }
            }
        }
    }

    /// Every node can be reached from the start (an unreachable node is a mistake: a typo
    /// in a branch, or a leftover).
    fn check_reachable(&mut self) {
        let nodes = &self.plan.nodes;
        if !nodes.contains_key(&self.plan.dialplan.start) {
            return;
        }
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut todo = vec![self.plan.dialplan.start.as_str()];
        while let Some(name) = todo.pop() {
            if !seen.insert(name) {
                continue;
            }
            if let Some(node) = nodes.get(name) {
                todo.extend(node.targets().into_iter().map(|(_, t)| t));
            }
        }
        let unreachable: Vec<String> = nodes
            .keys()
            .filter(|n| !seen.contains(n.as_str()))
            .cloned()
            .collect();
        for name in unreachable {
            self.problem(Some(&name), "nœud inaccessible depuis le départ".into());
        }
    }

    /// No loop of nodes that never wait for the caller (it would spin or call the booking
    /// service forever): every cycle must pass through a collect or a menu.
    fn check_loops_wait(&mut self) {
        let nodes = &self.plan.nodes;
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let mut mark: HashMap<&str, Mark> = nodes.keys().map(|k| (k.as_str(), Mark::New)).collect();
        let mut found: Vec<(String, Vec<String>)> = Vec::new();
        fn visit<'n>(
            name: &'n str,
            nodes: &'n BTreeMap<String, Node>,
            mark: &mut HashMap<&'n str, Mark>,
            path: &mut Vec<&'n str>,
            found: &mut Vec<(String, Vec<String>)>,
        ) {
            mark.insert(name, Mark::OnPath);
            path.push(name);
            if let Some(node) = nodes.get(name) {
                for (_, target) in node.targets() {
                    let Some((target_name, target_node)) = nodes.get_key_value(target) else {
                        continue;
                    };
                    if target_node.waits_for_input() {
                        continue;
                    }
                    match mark.get(target_name.as_str()).copied() {
                        Some(Mark::New) => visit(target_name, nodes, mark, path, found),
                        Some(Mark::OnPath) => {
                            let from = path.iter().position(|p| *p == target).unwrap_or(0);
                            let cycle = path[from..].iter().map(|s| (*s).to_owned()).collect();
                            found.push((target_name.clone(), cycle));
                        }
                        _ => {}
                    }
                }
            }
            path.pop();
            mark.insert(name, Mark::Done);
        }
        for (name, node) in nodes {
            if !node.waits_for_input() && mark[name.as_str()] == Mark::New {
                visit(name, nodes, &mut mark, &mut Vec::new(), &mut found);
            }
        }
        for (name, cycle) in found {
            self.problem(
                Some(&name),
                format!(
                    "boucle sans attente de l'appelant : {} → {name} (ajoutez une saisie ou un menu)",
                    cycle.join(" → ")
                ),
            );
        }
    }
}
