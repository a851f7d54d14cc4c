//! The operator's commands on a real binary: `ivr migrate` creates the SQLite file and its
//! folder, `ivr demo --seed-only` is idempotent, `ivr import` is all or nothing and names
//! the line and column of a bad value.

use std::path::Path;
use std::process::{Command, Output};

use ivr::booking::model::{ChildCode, PayerCode};
use ivr::store::Store;

fn ivr(dir: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ivr"))
        .current_dir(dir)
        .env_remove("IVR_CONFIG")
        .env("RUST_LOG", "warn")
        .arg("--database-url")
        .arg(url)
        .args(args)
        .output()
        .expect("the ivr binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn migrate_demo_and_import_on_a_fresh_sqlite_file() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("data").join("ivr.sqlite");
    let url = format!("sqlite://{}", db.display());

    let out = ivr(dir.path(), &url, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(db.exists(), "the file and its folder are created");
    assert!(text(&out.stdout).contains("à jour (SQLite)"));

    let out = ivr(dir.path(), &url, &["demo", "--seed-only"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("4 payeur(s), 6 enfant(s)"),
        "{}",
        text(&out.stdout)
    );
    let out = ivr(dir.path(), &url, &["demo", "--seed-only"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("0 payeur(s), 0 enfant(s), 0 inscription(s)"));

    let out = ivr(
        dir.path(),
        &url,
        &["import", &fixture("families_bad_code.csv")],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("rien n'a été importé"), "{err}");
    assert!(
        err.contains("ligne 3, colonne child_code : un code se compose de 1 à 12 chiffres"),
        "{err}"
    );
    let out = ivr(dir.path(), &url, &["import", &fixture("families.csv")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "3 payeur(s) et 4 enfant(s) importés."
    );
    // 4301 is now taken: the second line of this file is refused, and its first line
    // (a new payer and child) is not written either.
    let out = ivr(
        dir.path(),
        &url,
        &["import", &fixture("families_existing_child.csv")],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("ligne 3, colonne child_code : ce code enfant existe déjà dans la base"),
        "{err}"
    );
    assert!(!err.contains("4301"), "codes are never printed: {err}");

    let store = Store::open(&url).await?;
    assert_eq!(store.family_counts().await?, (7, 10));
    let found = store
        .find_login(&ChildCode::parse("4901")?, &PayerCode::parse("890001")?)
        .await?;
    assert_eq!(found, None);
    let found = store
        .find_login(&ChildCode::parse("3011")?, &PayerCode::parse("770021")?)
        .await?;
    assert!(found.is_some(), "the demo's login works");
    store.close().await;

    let out = ivr(dir.path(), &url, &["import", &fixture("no_such_file.csv")]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("impossible d'ouvrir"));
    Ok(())
}
