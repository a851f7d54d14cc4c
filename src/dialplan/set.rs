//! The dialplans of a server and the choice of one by the dialled number.
//!
//! A [`DialplanSet`] is built whole from a directory and never changed afterwards: a reload
//! builds a new set and swaps an `Arc` (calls in progress keep the [`Dialplan`] they
//! started with); a set that fails its checks is never built, so the old one stays.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::dialplan::error::{DialplanError, Problem};
use crate::dialplan::load::Dialplan;
use crate::dialplan::manifest::PromptManifest;
use crate::dialplan::number::normalize_number;

/// The name (file stem) of the dialplan that answers the numbers no other one lists.
pub const DEFAULT_DIALPLAN: &str = "default";

/// Every dialplan of the server, with the dialled number → dialplan map.
#[derive(Debug, Clone)]
pub struct DialplanSet {
    plans: Vec<Arc<Dialplan>>,
    by_number: HashMap<String, usize>,
    default: usize,
}

impl DialplanSet {
    /// Loads and checks every `*.toml` file directly in `dir` (sorted by name). All problems
    /// of all files are reported together.
    pub fn load_dir(dir: &Path, manifest: &PromptManifest) -> Result<DialplanSet, DialplanError> {
        let io = |source| DialplanError::Io {
            path: dir.to_owned(),
            reason: source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.is_file() && path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
        files.sort();
        let mut plans = Vec::new();
        let mut problems = Vec::new();
        for file in &files {
            match Dialplan::load(file, manifest) {
                Ok(plan) => plans.push(plan),
                Err(DialplanError::Invalid(p)) => problems.extend(p),
                Err(e) => return Err(e),
            }
        }
        if !problems.is_empty() {
            return Err(DialplanError::Invalid(problems));
        }
        DialplanSet::from_plans(dir, plans)
    }

    /// Builds the set from checked dialplans: one must be named [`DEFAULT_DIALPLAN`], and a
    /// number may be listed by one dialplan only. `dir` names the place in errors.
    pub fn from_plans(dir: &Path, plans: Vec<Dialplan>) -> Result<DialplanSet, DialplanError> {
        let mut problems = Vec::new();
        let mut by_number: HashMap<String, usize> = HashMap::new();
        for (i, plan) in plans.iter().enumerate() {
            for number in plan.numbers() {
                if let Some(&other) = by_number.get(number) {
                    problems.push(Problem {
                        file: plan.file().to_owned(),
                        node: None,
                        message: format!(
                            "le numéro {number} est déjà servi par {}",
                            plans[other].file().display()
                        ),
                    });
                } else {
                    by_number.insert(number.clone(), i);
                }
            }
        }
        let default = plans.iter().position(|p| p.name() == DEFAULT_DIALPLAN);
        if default.is_none() {
            problems.push(Problem {
                file: dir.to_owned(),
                node: None,
                message: format!(
                    "il manque le plan d'appel par défaut « {DEFAULT_DIALPLAN}.toml »"
                ),
            });
        }
        match default {
            Some(default) if problems.is_empty() => Ok(DialplanSet {
                plans: plans.into_iter().map(Arc::new).collect(),
                by_number,
                default,
            }),
            _ => Err(DialplanError::Invalid(problems)),
        }
    }

    /// The dialplan for a dialled number (any form [`normalize_number`] reads); the default
    /// one for a number no dialplan lists or that cannot be read.
    pub fn select(&self, dialled: &str) -> &Arc<Dialplan> {
        let index = normalize_number(dialled)
            .and_then(|n| self.by_number.get(&n).copied())
            .unwrap_or(self.default);
        &self.plans[index]
    }

    /// The default dialplan.
    pub fn default_plan(&self) -> &Arc<Dialplan> {
        &self.plans[self.default]
    }

    /// Every dialplan, sorted by file name.
    pub fn plans(&self) -> &[Arc<Dialplan>] {
        &self.plans
    }
}
