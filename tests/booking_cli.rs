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

#[tokio::test]
async fn calendar_import_writes_the_official_export_once() -> anyhow::Result<()> {
    use chrono::{NaiveDate, TimeZone, Utc};
    use ivr::booking::deadline::RefusalReason;
    use ivr::booking::model::{Action, Channel, ServiceCode};
    use ivr::config::Config;
    use ivr::service::booking::BookingOutcome;
    use ivr::store::{NewChild, NewPayer};

    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("ivr.sqlite").display());
    let csv = fixture("fr-en-calendrier-scolaire.csv");
    let import = |extra: &[&str]| {
        let mut args = vec!["calendar", "import", csv.as_str(), "--zone", "Zone A"];
        args.extend_from_slice(extra);
        ivr(dir.path(), &url, &args)
    };
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let stored = || async {
        let store = Store::open(&url).await?;
        let periods = store
            .school_holidays_between(day(2000, 1, 1), day(2100, 1, 1))
            .await?;
        store.close().await;
        anyhow::Ok(periods)
    };

    // A bad file writes nothing, and says so with its line.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&csv)?.replacen("2025-12-19T23:00:00+00:00", "19/12/2025", 1),
    )?;
    let out = ivr(
        dir.path(),
        &url,
        &[
            "calendar",
            "import",
            bad.to_str().unwrap(),
            "--zone",
            "Zone A",
            "--write",
        ],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("rien n'a été enregistré"), "{err}");
    assert!(
        err.contains("ligne 6 : « Date de début » : date illisible"),
        "{err}"
    );
    assert!(stored().await?.is_empty());

    // Without --write: the TOML, and nothing stored.
    let out = import(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("[[calendar.school_holidays]]"));
    assert!(stored().await?.is_empty());

    let out = import(&["--write"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "8 période(s) de vacances ajoutée(s) pour la zone « Zone A », 0 déjà présente(s)."
    );
    // The summer without an end date is reported, not guessed.
    assert!(text(&out.stderr).contains("ligne 17 (Vacances d'Été)"));
    let periods = stored().await?;
    assert_eq!(periods.len(), 8);
    assert_eq!(periods[0].name, "Vacances de la Toussaint");
    assert_eq!(
        (periods[0].first, periods[0].last),
        (day(2025, 10, 18), day(2025, 11, 2))
    );

    // Importing the same file again adds nothing.
    let out = import(&["--write"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "0 période(s) de vacances ajoutée(s) pour la zone « Zone A », 8 déjà présente(s)."
    );
    assert_eq!(stored().await?, periods);

    // The booking service, with no school holiday in its configuration, refuses a meal in
    // the stored Noël holidays with their name.
    let store = Store::open(&url).await?;
    let service = Config::default().booking_service(store.clone()).await?;
    let mut tx = store.begin().await?;
    let payer = tx
        .insert_payer(&NewPayer {
            code: PayerCode::parse("770021")?,
            name: "Laurence MARSONE".into(),
            email: String::new(),
            invoice_email_opt_in: false,
        })
        .await?;
    let child = tx
        .insert_child(&NewChild {
            code: ChildCode::parse("3011")?,
            payer,
            first_name: "Angéline".into(),
            last_name: "MARSONE".into(),
            school: String::new(),
            class_label: String::new(),
            teacher: String::new(),
        })
        .await?;
    tx.commit().await?;
    let out = service
        .change(
            child,
            day(2025, 12, 22),
            &ServiceCode::parse("REPAS")?,
            Action::Book,
            Channel::Web,
            "parent",
            Utc.with_ymd_and_hms(2025, 12, 1, 8, 0, 0).unwrap(),
        )
        .await?;
    assert!(
        matches!(&out, BookingOutcome::Refused(r) if r.reason == RefusalReason::SchoolHoliday {
            name: "Vacances de Noël".into()
        }),
        "{out:?}"
    );
    store.close().await;

    // An unknown zone is refused with the zones the file has.
    let out = ivr(
        dir.path(),
        &url,
        &[
            "calendar",
            "import",
            csv.as_str(),
            "--zone",
            "Zone D",
            "--write",
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("aucune période pour la zone « Zone D »"));
    Ok(())
}
