//! The operator's commands on a real binary: `ivr migrate` creates the SQLite file and its
//! folder, `ivr demo --seed-only` is idempotent, `ivr import` is all or nothing and names
//! the line and column of a bad value.

mod store_support;

use std::path::Path;
use std::process::Output;

use ivr::booking::model::{ChildCode, PayerCode};
use ivr::store::Store;
use store_support::cli::{failed, fixture, ivr_on as ivr, stderr, succeeded};
use store_support::seed_angeline;

/// `ivr import tests/fixtures/FILE` on the database at `url`.
fn import(dir: &Path, url: &str, file: &str) -> Output {
    ivr(dir, url, &["import", &fixture(file)])
}

#[tokio::test]
async fn migrate_demo_and_import_on_a_fresh_sqlite_file() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("data").join("ivr.sqlite");
    let url = format!("sqlite://{}", db.display());

    let said = succeeded(&ivr(dir.path(), &url, &["migrate"]));
    assert!(db.exists(), "the file and its folder are created");
    assert!(said.contains("à jour (SQLite)"));

    let said = succeeded(&ivr(dir.path(), &url, &["demo", "--seed-only"]));
    assert!(said.contains("4 payeur(s), 6 enfant(s)"), "{said}");
    let said = succeeded(&ivr(dir.path(), &url, &["demo", "--seed-only"]));
    assert!(said.contains("0 payeur(s), 0 enfant(s), 0 inscription(s)"));

    let err = failed(&import(dir.path(), &url, "families_bad_code.csv"));
    assert!(err.contains("rien n'a été importé"), "{err}");
    assert!(
        err.contains("ligne 3, colonne child_code : un code se compose de 1 à 12 chiffres"),
        "{err}"
    );
    let said = succeeded(&import(dir.path(), &url, "families.csv"));
    assert_eq!(said.trim(), "3 payeur(s) et 4 enfant(s) importés.");
    // 4301 is now taken: the second line of this file is refused, and its first line
    // (a new payer and child) is not written either.
    let err = failed(&import(dir.path(), &url, "families_existing_child.csv"));
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

    let err = failed(&import(dir.path(), &url, "no_such_file.csv"));
    assert!(err.contains("impossible d'ouvrir"));
    Ok(())
}

#[tokio::test]
async fn calendar_import_writes_the_official_export_once() -> anyhow::Result<()> {
    use chrono::{NaiveDate, TimeZone, Utc};
    use ivr::booking::deadline::RefusalReason;
    use ivr::booking::model::{Action, Channel, ServiceCode};
    use ivr::config::Config;
    use ivr::service::booking::BookingOutcome;

    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("ivr.sqlite").display());
    let csv = fixture("fr-en-calendrier-scolaire.csv");
    let import = |csv: &str, zone: &str, extra: &[&str]| {
        let mut args = vec!["calendar", "import", csv, "--zone", zone];
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
    let err = failed(&import(bad.to_str().unwrap(), "Zone A", &["--write"]));
    assert!(err.contains("rien n'a été enregistré"), "{err}");
    assert!(
        err.contains("ligne 6 : « Date de début » : date illisible"),
        "{err}"
    );
    assert!(stored().await?.is_empty());

    // Without --write: the TOML, and nothing stored.
    let said = succeeded(&import(&csv, "Zone A", &[]));
    assert!(said.contains("[[calendar.school_holidays]]"));
    assert!(stored().await?.is_empty());

    let out = import(&csv, "Zone A", &["--write"]);
    assert_eq!(
        succeeded(&out).trim(),
        "8 période(s) de vacances ajoutée(s) pour la zone « Zone A », 0 déjà présente(s)."
    );
    // The summer without an end date is reported, not guessed.
    assert!(stderr(&out).contains("ligne 17 (Vacances d'Été)"));
    // New holidays run the usual weeks' job at once (there are none to book here).
    assert!(
        stderr(&out).contains("semaines types : 0 inscription(s) ajoutée(s)"),
        "{}",
        stderr(&out)
    );
    let store = Store::open(&url).await?;
    let run = store.last_usual_week_run().await?.expect("a pass recorded");
    assert_eq!(run.trigger, "vacances");
    store.close().await;
    let periods = stored().await?;
    assert_eq!(periods.len(), 8);
    assert_eq!(periods[0].name, "Vacances de la Toussaint");
    assert_eq!(
        (periods[0].first, periods[0].last),
        (day(2025, 10, 18), day(2025, 11, 2))
    );

    // Importing the same file again adds nothing.
    let again = import(&csv, "Zone A", &["--write"]);
    let said = succeeded(&again);
    assert_eq!(
        said.trim(),
        "0 période(s) de vacances ajoutée(s) pour la zone « Zone A », 8 déjà présente(s)."
    );
    assert!(
        !stderr(&again).contains("semaines types"),
        "nothing new, no pass"
    );
    assert_eq!(stored().await?, periods);

    // The booking service, with no school holiday in its configuration, refuses a meal in
    // the stored Noël holidays with their name.
    let store = Store::open(&url).await?;
    let service = Config::default().booking_service(store.clone()).await?;
    let (_, angeline) = seed_angeline(&store).await?;
    let out = service
        .change(
            angeline,
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
    let err = failed(&import(&csv, "Zone D", &["--write"]));
    assert!(err.contains("aucune période pour la zone « Zone D »"));
    Ok(())
}
