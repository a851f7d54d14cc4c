//! Dialplans are checked once at load: every error names its file and node. Also the
//! choice of a dialplan by the dialled number, and `ivr check` on real and broken files.

use std::path::{Path, PathBuf};
use std::process::Command;

use ivr::dialplan::{
    Dialplan, DialplanError, DialplanSet, Interpreter, Problem, PromptManifest, normalize_number,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn manifest() -> PromptManifest {
    PromptManifest::load(&root().join("prompts/fr")).expect("shipped manifest")
}

fn problems(file: &str) -> Vec<Problem> {
    let path = root().join("tests/dialplans/errors").join(file);
    match Dialplan::load(&path, &manifest()) {
        Ok(_) => panic!("{file} was accepted"),
        Err(DialplanError::Invalid(p)) => {
            for problem in &p {
                assert_eq!(problem.file, path, "{problem}");
            }
            p
        }
        Err(e) => panic!("{file}: {e}"),
    }
}

/// Asserts that one problem is about `node` and says `needle`.
fn assert_has(problems: &[Problem], node: Option<&str>, needle: &str) {
    assert!(
        problems
            .iter()
            .any(|p| p.node.as_deref() == node && p.message.contains(needle)),
        "no problem at {node:?} saying {needle:?} in:\n{}",
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn shipped_dialplans_pass_their_checks() {
    let set = DialplanSet::load_dir(&root().join("dialplans"), &manifest())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.default_plan().name(), "default");
    assert_eq!(set.default_plan().start(), "welcome");
}

#[test]
fn unknown_prompt_is_named_with_its_node() {
    let p = problems("unknown_prompt.toml");
    assert_eq!(p.len(), 1, "{p:?}");
    assert_has(&p, Some("hello"), "bienvenu_typo");
    let text = p[0].to_string();
    assert!(
        text.contains("unknown_prompt.toml") && text.contains("« hello »"),
        "{text}"
    );
}

#[test]
fn missing_targets_and_start_are_errors() {
    let p = problems("missing_target.toml");
    assert_has(&p, Some("hello"), "nowhere");
    assert_has(&p, None, "« begin » n'existe pas");
}

#[test]
fn unreachable_node_is_an_error() {
    let p = problems("unreachable.toml");
    assert_eq!(p.len(), 1, "{p:?}");
    assert_has(&p, Some("orphan"), "inaccessible");
}

#[test]
fn loop_without_input_is_an_error() {
    let p = problems("loop_without_input.toml");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].message.contains("boucle sans attente"), "{}", p[0]);
    assert!(
        p[0].message.contains("spin") && p[0].message.contains("again"),
        "{}",
        p[0]
    );
}

#[test]
fn bad_values_are_each_reported() {
    let p = problems("bad_values.toml");
    assert_has(&p, None, "Europe/Lutece");
    assert_has(&p, None, "« 0476549985 » répété");
    assert_has(&p, None, "« not a number » invalide");
    assert_has(&p, Some("code"), "min_digits (5)");
    assert_has(&p, Some("code"), "terminator");
    assert_has(&p, Some("code"), "first_digit_timeout_ms (10)");
    assert_has(&p, Some("code"), "attempts (0)");
    assert_has(&p, Some("date"), "4 chiffres JJMM");
    assert_has(&p, Some("menu"), "réécouter");
    assert_has(&p, Some("menu"), "« A » n'est pas sur un téléphone");
}

#[test]
fn unknown_fields_are_refused() {
    let p = problems("unknown_field.toml");
    assert_eq!(p.len(), 1);
    assert!(p[0].message.contains("promts"), "{}", p[0]);
}

#[test]
fn spoken_values_are_type_checked() {
    let p = problems("say_types.toml");
    assert_has(
        &p,
        Some("hello"),
        "ne peut pas dire la variable « service »",
    );
    assert_has(
        &p,
        Some("hello"),
        "ne prend pas de valeur (value = « date »)",
    );
    assert_has(
        &p,
        Some("hello"),
        "ne peut pas dire la variable « payer_code »",
    );
    assert_has(&p, Some("hello"), "demande une valeur");
}

#[test]
fn results_and_cases_need_exactly_their_branches() {
    let p = problems("missing_result.toml");
    assert_has(&p, Some("book"), "« refused »");
    assert_has(&p, Some("book"), "« maybe » inconnu");
    assert_has(&p, Some("book"), "limit.result « wrong_codes »");
    assert_has(&p, Some("which"), "« cancel »");
    // `which` is also unreachable: all problems are reported, not only the first.
    assert_has(&p, Some("which"), "inaccessible");
}

#[test]
fn the_dialled_number_chooses_the_dialplan() {
    let set = DialplanSet::load_dir(&root().join("tests/dialplans/set_two_lines"), &manifest())
        .unwrap_or_else(|e| panic!("{e}"));
    for dialled in [
        "0476549985",
        "+33476549985",
        "+33 4 76 54 99 85",
        "0033476549985",
        "100",
    ] {
        assert_eq!(set.select(dialled).name(), "mezcalito", "{dialled}");
    }
    for dialled in ["0476549986", "101", "", "anonymous", "+41221234567"] {
        assert_eq!(set.select(dialled).name(), "default", "{dialled}");
    }
    assert_eq!(
        normalize_number("+33 4 76 54 99 85").as_deref(),
        Some("0476549985")
    );
}

#[test]
fn a_number_served_twice_is_refused() {
    let err = DialplanSet::load_dir(&root().join("tests/dialplans/set_duplicate"), &manifest())
        .unwrap_err();
    let p = err.problems();
    assert_eq!(p.len(), 1, "{err}");
    assert!(p[0].file.ends_with("b.toml"), "{}", p[0]);
    assert!(
        p[0].message.contains("0476549985") && p[0].message.contains("a.toml"),
        "{}",
        p[0]
    );
}

#[test]
fn the_default_dialplan_is_required() {
    let err = DialplanSet::load_dir(&root().join("tests/dialplans/set_no_default"), &manifest())
        .unwrap_err();
    assert!(err.to_string().contains("default.toml"), "{err}");
}

#[test]
fn a_call_keeps_its_dialplan_across_a_reload() {
    let dir = root().join("tests/dialplans/set_two_lines");
    let first = DialplanSet::load_dir(&dir, &manifest()).unwrap();
    let interp = Interpreter::new(first.select("100").clone());
    let reloaded = DialplanSet::load_dir(&dir, &manifest()).unwrap();
    drop(first);
    assert_eq!(interp.dialplan().name(), "mezcalito");
    assert_eq!(reloaded.select("100").name(), "mezcalito");
}

/// `ivr check` of these folders, on a town hall (a fresh database) with one clerk's
/// account, so that only the folders are in question; whether it passed, and what it said.
fn ivr_check(prompts: &Path, dialplans: &Path) -> (bool, String) {
    let town = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", town.path().join("ivr.sqlite").display());
    add_clerk(&url);
    ivr_check_on(&url, prompts, dialplans)
}

/// `ivr check` of these folders on the database at `url`.
fn ivr_check_on(url: &str, prompts: &Path, dialplans: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ivr"))
        .args(["--database-url", url, "check", "--prompts"])
        .arg(prompts)
        .arg("--dialplans")
        .arg(dialplans)
        .output()
        .expect("run ivr check");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `ivr staff add amelie` on the database at `url`, the password given on standard input.
fn add_clerk(url: &str) {
    use std::io::Write as _;
    let mut add = Command::new(env!("CARGO_BIN_EXE_ivr"))
        .args(["--database-url", url, "staff", "add", "amelie"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run ivr staff add");
    let mut stdin = add.stdin.take().unwrap();
    stdin.write_all(b"un mot de passe assez long\n").unwrap();
    drop(stdin);
    assert!(add.wait().unwrap().success(), "ivr staff add");
}

#[test]
fn ivr_check_wants_a_staff_account_and_checks_the_staff_line() {
    let town = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", town.path().join("ivr.sqlite").display());
    let out = Command::new(env!("CARGO_BIN_EXE_ivr"))
        .args(["--database-url", &url, "check"])
        .current_dir(root())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("aucun compte pour les pages de la mairie"),
        "{text}"
    );
    assert!(
        text.contains("Messages de la ligne de la mairie : dossier prompts/staff"),
        "{text}"
    );
    // A staff prompt gone from the staff line's folder is named.
    let staff = town.path().join("staff");
    std::fs::create_dir(&staff).unwrap();
    for entry in std::fs::read_dir(root().join("prompts/staff")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "staff_accueil.wav" {
            std::fs::copy(&path, staff.join(path.file_name().unwrap())).unwrap();
        }
    }
    add_clerk(&url);
    let out = Command::new(env!("CARGO_BIN_EXE_ivr"))
        .args(["--database-url", &url, "check", "--staff-prompts"])
        .arg(&staff)
        .current_dir(root())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("staff_accueil"), "{text}");
    assert!(!text.contains("aucun compte"), "{text}");
}

#[test]
fn ivr_check_passes_on_the_shipped_files() {
    let (ok, out) = ivr_check(&root().join("prompts/fr"), &root().join("dialplans"));
    assert!(ok, "{out}");
    assert!(out.contains("tout est en ordre"), "{out}");
}

#[test]
fn ivr_check_lists_missing_unreadable_and_wrong_prompts_and_dialplan_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let prompts = tmp.path().join("fr");
    std::fs::create_dir(&prompts).unwrap();
    for entry in std::fs::read_dir(root().join("prompts/fr")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, prompts.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::remove_file(prompts.join("bienvenue.wav")).unwrap();
    std::fs::write(prompts.join("confirmer.wav"), b"not a wav file").unwrap();
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 22_050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(prompts.join("depuis.wav"), spec).unwrap();
    for _ in 0..100 {
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();

    let dialplans = tmp.path().join("dialplans");
    std::fs::create_dir(&dialplans).unwrap();
    std::fs::copy(
        root().join("dialplans/default.toml"),
        dialplans.join("default.toml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("tests/dialplans/errors/unknown_prompt.toml"),
        dialplans.join("other.toml"),
    )
    .unwrap();

    let (ok, out) = ivr_check(&prompts, &dialplans);
    assert!(!ok, "{out}");
    assert!(out.contains("bienvenue.wav : fichier absent"), "{out}");
    assert!(out.contains("confirmer.wav : fichier illisible"), "{out}");
    assert!(
        out.contains("depuis.wav : format 22050 Hz, 2 canal"),
        "{out}"
    );
    assert!(
        out.contains("other.toml, nœud « hello »") && out.contains("bienvenu_typo"),
        "{out}"
    );
    assert!(out.contains("4 problème(s)"), "{out}");
}

#[test]
fn ivr_check_names_the_prompts_the_town_recorded() {
    let town = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", town.path().join("ivr.sqlite").display());
    add_clerk(&url);
    let (prompts, dialplans) = (root().join("prompts/fr"), root().join("dialplans"));
    let (ok, out) = ivr_check_on(&url, &prompts, &dialplans);
    assert!(ok, "{out}");
    assert!(
        out.contains(
            "Messages enregistrés par la mairie : aucun, tous les messages sont ceux d'origine."
        ),
        "{out}"
    );
    // Two prompts recorded by the town on the staff page (the service it calls).
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = ivr::store::Store::open(&url).await.unwrap();
        let manifest = PromptManifest::load(&prompts).unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-05-06T09:00:00+02:00")
            .unwrap()
            .to_utc();
        for id in ["menu_principal", "bienvenue"] {
            let wav = ivr::media::upload::sine_wav(8_000, 1, 16, 500.0, 300);
            ivr::service::voice::replace(&store, &manifest, id, wav, "amelie", now)
                .await
                .unwrap();
        }
        store.close().await;
    });
    let (ok, out) = ivr_check_on(&url, &prompts, &dialplans);
    assert!(ok, "the town's prompts are no problem: {out}");
    assert!(
        out.contains("Messages enregistrés par la mairie (2) : bienvenue, menu_principal"),
        "{out}"
    );
    // A manifest that no longer lists one: said, without failing the check.
    let fewer = town.path().join("prompts");
    std::fs::create_dir(&fewer).unwrap();
    for entry in std::fs::read_dir(&prompts).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, fewer.join(path.file_name().unwrap())).unwrap();
    }
    let manifest = std::fs::read_to_string(fewer.join("manifest.toml")).unwrap();
    let menu = manifest
        .lines()
        .find(|l| l.starts_with("menu_principal ="))
        .unwrap()
        .to_owned();
    std::fs::write(
        fewer.join("manifest.toml"),
        manifest.replace(&format!("{menu}\n"), ""),
    )
    .unwrap();
    let plans = town.path().join("dialplans");
    std::fs::create_dir(&plans).unwrap();
    let (_, out) = ivr_check_on(&url, &fewer, &plans);
    assert!(
        out.contains("le message « menu_principal » enregistré par la mairie n'est plus dans"),
        "{out}"
    );
}
