//! `ivr demo` as an operator starts it: one data folder, named in its banner and kept from
//! one start to the next (`--fresh` starts again), the database `--database-url` names
//! honoured, and logs without colour codes when they go to a file.

mod store_support;

use std::path::Path;
use std::process::Output;

use store_support::cli::{ivr_in, stderr, succeeded};

/// `ivr demo` for one second on free ports, its data in `data`, with `extra` arguments.
fn demo(data: &Path, extra: &[&str]) -> Output {
    ivr_in(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env_remove("RUST_LOG")
        .args(["demo", "--run-for", "1"])
        .args(["--sip-listen", "127.0.0.1:0", "--web-listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data)
        .args(extra)
        .output()
        .expect("the ivr binary runs")
}

#[test]
fn the_demo_keeps_one_data_folder_and_starts_again_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let first = demo(&data, &[]);
    let out = succeeded(&first);
    let folder = std::fs::canonicalize(&data).unwrap();
    assert!(
        out.contains(&format!(
            "Données de la démonstration : {}",
            folder.display()
        )),
        "{out}"
    );
    assert!(out.contains("ivr.sqlite (neuve)"), "{out}");
    assert!(out.contains("4 famille(s)"), "{out}");
    // Written to a pipe, the logs carry no colour codes.
    let logs = stderr(&first);
    assert!(logs.contains("INFO"), "{logs}");
    assert!(!logs.contains('\u{1b}'), "colour codes in:\n{logs}");
    // The usual weeks' job ran once at start-up (then it runs each night).
    assert!(
        logs.contains("usual weeks booked") && logs.contains("trigger=\"démarrage\""),
        "no start-up pass of the usual weeks in:\n{logs}"
    );

    // Started again: the same folder, the same database, nothing seeded twice.
    let out = succeeded(&demo(&data, &[]));
    assert!(out.contains("ivr.sqlite (reprise"), "{out}");
    assert!(out.contains("0 famille(s)"), "{out}");
    let out = succeeded(&demo(&data, &["--fresh"]));
    assert!(out.contains("ivr.sqlite (neuve)"), "{out}");
    assert!(out.contains("4 famille(s)"), "{out}");
    let beside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(
        beside.len(),
        1,
        "one folder, whatever the starts: {beside:?}"
    );
}

#[test]
fn the_demo_runs_on_the_database_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere.sqlite");
    let url = format!("sqlite://{}", elsewhere.display());
    let out = succeeded(&demo(&dir.path().join("demo"), &["--database-url", &url]));
    assert!(out.contains(&format!("base {url}")), "{out}");
    assert!(elsewhere.exists(), "the named database was used");
    assert!(
        !dir.path().join("demo/ivr.sqlite").exists(),
        "no database of its own beside it"
    );
}

#[test]
fn a_missing_prompt_folder_is_named_with_its_setting_and_the_folder_it_is_read_from() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ivr.toml");
    std::fs::write(&config, "[dialplan]\nprompts_dir = \"absent/fr\"\n").unwrap();
    let o = demo(
        &dir.path().join("demo"),
        &["--config", config.to_str().unwrap()],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    for part in [
        "prompts_dir = « absent/fr »",
        &format!("dossier courant {}", env!("CARGO_MANIFEST_DIR")),
        "lecture de absent/fr/manifest.toml impossible",
    ] {
        assert!(err.contains(part), "{part:?} missing from:\n{err}");
    }
    assert_eq!(
        err.matches("os error 2").count(),
        1,
        "the reason once, not twice:\n{err}"
    );
}

/// Issue 19: an installed binary, started away from the repository, found no prompts. The
/// shipped prompts and dialplans are built in: from an empty folder the demo starts on
/// them, says so, and writes their copy in its own data folder; `ivr check` checks them.
#[test]
fn the_demo_and_the_check_run_from_any_folder_on_the_built_in_files() {
    let elsewhere = tempfile::tempdir().unwrap();
    let o = ivr_in(elsewhere.path())
        .env_remove("RUST_LOG")
        .args(["demo", "--run-for", "1", "--data-dir", "demo"])
        .args(["--sip-listen", "127.0.0.1:0", "--web-listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let out = succeeded(&o);
    assert!(out.contains("4 famille(s)"), "{out}");
    let logs = stderr(&o);
    for setting in ["dialplans_dir", "prompts_dir", "staff_prompts_dir"] {
        assert!(
            logs.contains(&format!("setting=\"[dialplan] {setting}\""))
                || logs.contains(&format!("setting=\"[phone] {setting}\"")),
            "{setting} not said to be built in:\n{logs}"
        );
    }
    let beside: Vec<_> = std::fs::read_dir(elsewhere.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["demo"], "everything in the demo's folder");
    // On the demo's database, which has its clerk's account.
    let demo_db = format!(
        "sqlite://{}",
        elsewhere.path().join("demo/ivr.sqlite").display()
    );
    let check = succeeded(
        &ivr_in(elsewhere.path())
            .args(["--database-url", &demo_db, "check"])
            .output()
            .unwrap(),
    );
    assert!(check.contains("Messages : copie intégrée"), "{check}");
    assert!(check.contains("tout est en ordre"), "{check}");
}
