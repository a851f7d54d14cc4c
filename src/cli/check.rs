//! `ivr check`: lists the prompts that are missing or unreadable and the dialplan errors,
//! so that a town's edits are caught before a caller hears them.

use std::path::{Path, PathBuf};

use clap::Args;

use ivr::dialplan::{DialplanError, DialplanSet, PromptManifest, builtin};

/// Arguments of `ivr check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The prompt directory (its `manifest.toml` and WAV files).
    #[arg(long, default_value = "prompts/fr")]
    pub prompts: PathBuf,
    /// The dialplan directory (`default.toml` and one file per other line).
    #[arg(long, default_value = "dialplans")]
    pub dialplans: PathBuf,
}

/// What `ivr check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// One French line per problem, with its file (and node or prompt id).
    pub problems: Vec<String>,
    /// How many prompts the manifest lists.
    pub prompts: usize,
    /// How many dialplans passed their checks (0 when any failed).
    pub dialplans: usize,
}

/// Checks the prompts and dialplans of the given directories.
pub fn check(prompts_dir: &Path, dialplans_dir: &Path) -> CheckReport {
    let mut report = CheckReport::default();
    let manifest = match PromptManifest::load(prompts_dir) {
        Ok(m) => m,
        Err(e) => {
            push_error(&mut report, &e);
            report
                .problems
                .push("les plans d'appel ne peuvent pas être vérifiés sans manifeste".into());
            return report;
        }
    };
    report.prompts = manifest.ids().count();
    report
        .problems
        .extend(manifest.check_files().iter().map(ToString::to_string));
    match DialplanSet::load_dir(dialplans_dir, &manifest) {
        Ok(set) => report.dialplans = set.plans().len(),
        Err(e) => push_error(&mut report, &e),
    }
    report
}

fn push_error(report: &mut CheckReport, error: &DialplanError) {
    match error {
        DialplanError::Invalid(problems) => report
            .problems
            .extend(problems.iter().map(ToString::to_string)),
        other => report.problems.push(other.to_string()),
    }
}

/// Runs `ivr check`, printing which folders it reads and its report; `true` when all is in
/// order. A shipped folder absent here is the built-in copy the server would use (written
/// out in the system's temporary folder).
pub fn run(args: &CheckArgs) -> bool {
    let cache = std::env::temp_dir().join("ivr");
    let mut folders = Vec::new();
    for (what, configured) in [
        ("Messages", &args.prompts),
        ("Plans d'appel", &args.dialplans),
    ] {
        match builtin::resolve(configured, &cache) {
            Ok(source) => {
                println!("{what} : {}", source.describe(configured));
                folders.push(source.path().to_owned());
            }
            Err(e) => {
                println!(
                    "{what} : copie intégrée impossible à écrire dans {} : {e}",
                    cache.display()
                );
                return false;
            }
        }
    }
    let report = check(&folders[0], &folders[1]);
    for p in &report.problems {
        println!("{p}");
    }
    if report.problems.is_empty() {
        println!(
            "{} messages et {} plan(s) d'appel vérifiés : tout est en ordre.",
            report.prompts, report.dialplans
        );
        true
    } else {
        println!("{} problème(s) trouvé(s).", report.problems.len());
        false
    }
}
