//! `ivr check`: lists the prompts that are missing or unreadable (the voice line's and the
//! staff line's), the dialplan errors, and a town hall without any staff account, so that a
//! town's edits are caught before a caller or a clerk meets them; and names the prompts the
//! town recorded itself (the staff's voice page), which callers hear instead of the files.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use ivr::config::Config;
use ivr::dialplan::{DialplanError, DialplanSet, PromptManifest, builtin};
use ivr::store::Store;

/// Arguments of `ivr check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The prompt directory (its `manifest.toml` and WAV files) [default: `[dialplan]
    /// prompts_dir`]
    #[arg(long)]
    pub prompts: Option<PathBuf>,
    /// The dialplan directory (`default.toml` and one file per other line) [default:
    /// `[dialplan] dialplans_dir`]
    #[arg(long)]
    pub dialplans: Option<PathBuf>,
    /// The staff line's prompt directory [default: `[phone] staff_prompts_dir`]
    #[arg(long)]
    pub staff_prompts: Option<PathBuf>,
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
    /// The prompts the town recorded itself, by id (read from the database).
    pub town_prompts: Vec<String>,
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

/// Runs `ivr check` on the folders of `config` (or those the arguments name), printing which
/// folders it reads and its report; `true` when all is in order. A shipped folder absent
/// here is the built-in copy the server would use (written out in the system's temporary
/// folder).
pub fn run(config: &Config, args: &CheckArgs) -> anyhow::Result<bool> {
    let cache = std::env::temp_dir().join("ivr");
    let configured = [
        (
            "Messages",
            args.prompts
                .clone()
                .unwrap_or(config.dialplan.prompts_dir.clone()),
        ),
        (
            "Plans d'appel",
            args.dialplans
                .clone()
                .unwrap_or(config.dialplan.dialplans_dir.clone()),
        ),
        (
            "Messages de la ligne de la mairie",
            args.staff_prompts
                .clone()
                .unwrap_or(config.phone.staff_prompts_dir.clone()),
        ),
    ];
    let mut folders = Vec::new();
    for (what, folder) in &configured {
        let source = builtin::resolve(folder, &cache).with_context(|| {
            format!(
                "{what} : copie intégrée impossible à écrire dans {}",
                cache.display()
            )
        })?;
        println!("{what} : {}", source.describe(folder));
        folders.push(source.path().to_owned());
    }
    let mut report = check(&folders[0], &folders[1]);
    check_staff_prompts(&folders[2], &mut report);
    check_database(config, &folders[0], &mut report)?;
    for p in &report.problems {
        println!("{p}");
    }
    if report.problems.is_empty() {
        println!(
            "{} messages et {} plan(s) d'appel vérifiés, ligne de la mairie et comptes \
             compris : tout est en ordre.",
            report.prompts, report.dialplans
        );
        Ok(true)
    } else {
        println!("{} problème(s) trouvé(s).", report.problems.len());
        Ok(false)
    }
}

/// The staff line's prompts, when its folder is there (the line runs without it).
fn check_staff_prompts(dir: &Path, report: &mut CheckReport) {
    if !dir.is_dir() {
        println!(
            "Pas de dossier {} : la ligne de la mairie n'est pas servie.",
            dir.display()
        );
        return;
    }
    if let Err(e) = ivr::phone::line::check_staff_prompts(dir) {
        report.problems.push(e.to_string());
    }
}

/// What the database holds that the line depends on: a town hall needs at least one staff
/// account for its pages; the prompts the town recorded are named, and one whose id the
/// manifest no longer lists is said (callers never hear it; it waits harmlessly in case the
/// id comes back, so it fails nothing).
fn check_database(
    config: &Config,
    prompts_dir: &Path,
    report: &mut CheckReport,
) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let (accounts, town) = rt
        .block_on(async {
            let store = Store::open(&config.server.database_url).await?;
            let n = store.staff_account_count().await;
            let town = ivr::service::voice::town_prompts(&store).await;
            store.close().await;
            anyhow::Ok((n?, town?))
        })
        .context("lecture des comptes et des messages de la mairie")?;
    if accounts == 0 {
        report.problems.push(
            "aucun compte pour les pages de la mairie : « ivr staff add NOM » en crée un".into(),
        );
    }
    report.town_prompts = town.into_iter().map(|o| o.prompt_id).collect();
    if report.town_prompts.is_empty() {
        println!(
            "Messages enregistrés par la mairie : aucun, tous les messages sont ceux d'origine."
        );
    } else {
        println!(
            "Messages enregistrés par la mairie ({}) : {}",
            report.town_prompts.len(),
            report.town_prompts.join(", ")
        );
    }
    if let Ok(manifest) = PromptManifest::load(prompts_dir) {
        for id in report
            .town_prompts
            .iter()
            .filter(|id| !manifest.contains(id))
        {
            println!(
                "Remarque : le message « {id} » enregistré par la mairie n'est plus dans {} ; \
                 aucun appelant ne l'entend.",
                manifest
                    .dir()
                    .join(ivr::dialplan::manifest::MANIFEST_FILE)
                    .display()
            );
        }
    }
    Ok(())
}
