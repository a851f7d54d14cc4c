//! `ivr invoices generate` on the real binary: makes the month's invoices from the bookings
//! and the `[invoice]` tariffs, creates nothing when run again, and explains bad input.

use std::path::Path;
use std::process::{Command, Output};

use chrono::{NaiveDate, TimeZone, Utc};
use ivr::booking::model::{ChildCode, PayerCode, ServiceCode};
use ivr::invoice::generate::InvoiceMonth;
use ivr::store::{NewChild, NewPayer, Store};

fn ivr(dir: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ivr"))
        .current_dir(dir)
        .env_remove("IVR_CONFIG")
        .env("RUST_LOG", "warn")
        .arg("--config")
        .arg(dir.join("ivr.toml"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .output()
        .expect("the ivr binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn generate_twice_creates_the_invoices_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("ivr.toml"),
        "[invoice]\nregie_code = 7\n[[invoice.tariffs]]\nservice = \"REPAS\"\nlabel = \"Repas\"\nprice_cents = 365\n",
    )?;
    let url = format!("sqlite://{}", dir.path().join("ivr.db").display());
    let out = ivr(dir.path(), &url, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    {
        let store = Store::open(&url).await?;
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
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap();
        for d in [3, 4] {
            let date = NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
            tx.insert_booking(child, date, &ServiceCode::parse("REPAS")?, at)
                .await?;
        }
        tx.commit().await?;
        store.close().await;
    }
    let out = ivr(
        dir.path(),
        &url,
        &["invoices", "generate", "--month", "2026-11"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("novembre 2026 : 1 créée(s), 0 déjà existante(s)"),
        "{said}"
    );
    assert!(said.contains("2026-007-000001"), "{said}");
    let out = ivr(
        dir.path(),
        &url,
        &["invoices", "generate", "--month", "2026-11"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("0 créée(s), 1 déjà existante(s)"));

    let store = Store::open(&url).await?;
    let invoices = store
        .invoices_of_month(InvoiceMonth::parse("2026-11")?)
        .await?;
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0].total.0, 730);
    store.close().await;

    let out = ivr(
        dir.path(),
        &url,
        &["invoices", "generate", "--month", "11/2026"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("AAAA-MM"),
        "{}",
        text(&out.stderr)
    );
    Ok(())
}
