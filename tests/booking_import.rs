//! `ivr import families.csv`: good files land whole, bad ones name the line and column and
//! leave the database untouched. Run on SQLite and PostgreSQL.

use ivr::booking::model::{ChildCode, PayerCode};
use ivr::service::import::{ImportError, ImportSummary, import_families};
use ivr::store::testing::TestDb;

ivr::both_backends!(
    good_file_imports_whole,
    duplicate_child_code_in_file_names_both_lines,
    bad_code_names_line_and_column,
    short_line_is_refused,
    payer_lines_must_agree,
    code_already_in_database_rolls_back_everything,
    bad_header_is_refused,
);

fn fixture(name: &str) -> std::fs::File {
    std::fs::File::open(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// [`refused`], with `message` as the error's whole text; returns it.
async fn refused_saying(db: &TestDb, name: &str, message: &str) -> String {
    let err = refused(db, name).await.to_string();
    assert_eq!(err, message, "{name}");
    err
}

async fn refused(db: &TestDb, name: &str) -> ImportError {
    let before = db.store.family_counts().await.unwrap();
    let err = import_families(&db.store, fixture(name)).await.unwrap_err();
    assert_eq!(
        db.store.family_counts().await.unwrap(),
        before,
        "{name}: nothing written"
    );
    err
}

async fn good_file_imports_whole(db: &TestDb) -> anyhow::Result<()> {
    let summary = import_families(&db.store, fixture("families.csv")).await?;
    assert_eq!(
        summary,
        ImportSummary {
            payers: 3,
            children: 4
        }
    );
    let (payer, child) = db
        .store
        .find_login(&ChildCode::parse("4102")?, &PayerCode::parse("810001")?)
        .await?
        .expect("Hugo logs in with his payer's code");
    let kids = db.store.children_of(payer).await?;
    assert_eq!(kids.len(), 2);
    let hugo = kids.iter().find(|c| c.id == child).unwrap();
    assert_eq!(hugo.full_name(), "Hugo DURAND");
    assert_eq!(hugo.school, "École du Centre");
    assert_eq!(hugo.class_line(), "CM1 - Mme Petit");
    let (martin, _) = db
        .store
        .find_login(&ChildCode::parse("4201")?, &PayerCode::parse("810002")?)
        .await?
        .unwrap();
    let jeanne = db.store.payer(martin).await?.unwrap();
    assert_eq!(jeanne.name, "Jeanne MARTIN", "spaces trimmed");
    assert_eq!(jeanne.email, "");

    let summary = import_families(&db.store, fixture("families_comma.csv")).await?;
    assert_eq!(
        summary,
        ImportSummary {
            payers: 1,
            children: 1
        }
    );
    let (leroy, _) = db
        .store
        .find_login(&ChildCode::parse("5101")?, &PayerCode::parse("820001")?)
        .await?
        .unwrap();
    assert_eq!(db.store.payer(leroy).await?.unwrap().name, "LEROY, Anne");
    Ok(())
}

async fn duplicate_child_code_in_file_names_both_lines(db: &TestDb) -> anyhow::Result<()> {
    refused_saying(
        db,
        "families_duplicate_child.csv",
        "ligne 4, colonne child_code : code enfant déjà utilisé ligne 2",
    )
    .await;
    Ok(())
}

async fn bad_code_names_line_and_column(db: &TestDb) -> anyhow::Result<()> {
    let err = refused_saying(
        db,
        "families_bad_code.csv",
        "ligne 3, colonne child_code : un code se compose de 1 à 12 chiffres",
    )
    .await;
    assert!(!err.contains("42O1"), "codes are never echoed");
    Ok(())
}

async fn short_line_is_refused(db: &TestDb) -> anyhow::Result<()> {
    refused_saying(
        db,
        "families_short_line.csv",
        "ligne 3 : 7 champs au lieu de 9",
    )
    .await;
    Ok(())
}

async fn payer_lines_must_agree(db: &TestDb) -> anyhow::Result<()> {
    refused_saying(
        db,
        "families_payer_mismatch.csv",
        "ligne 3, colonne payer_name : nom différent de celui de la ligne 2 pour ce payeur",
    )
    .await;
    Ok(())
}

async fn code_already_in_database_rolls_back_everything(db: &TestDb) -> anyhow::Result<()> {
    import_families(&db.store, fixture("families.csv")).await?;
    // Line 2 is new, line 3 reuses child code 4301 from the first file: nothing of this
    // second file may remain.
    refused_saying(
        db,
        "families_existing_child.csv",
        "ligne 3, colonne child_code : ce code enfant existe déjà dans la base",
    )
    .await;
    assert_eq!(
        db.store
            .find_login(&ChildCode::parse("4901")?, &PayerCode::parse("890001")?)
            .await?,
        None
    );
    // The same file again: every payer code is already there.
    refused_saying(
        db,
        "families.csv",
        "ligne 2, colonne payer_code : ce code payeur existe déjà dans la base",
    )
    .await;
    Ok(())
}

async fn bad_header_is_refused(db: &TestDb) -> anyhow::Result<()> {
    let err = refused(db, "families_bad_header.csv").await;
    assert!(
        err.to_string()
            .starts_with("ligne 1 (en-tête) : colonne inconnue « mail »"),
        "{err}"
    );
    Ok(())
}
