//! `ivr invoices generate` on the real binary: makes the month's invoices from the bookings
//! and the `[invoice]` tariffs, creates nothing when run again, and explains bad input.

mod store_support;

use std::path::Path;
use std::process::Output;

use chrono::{NaiveDate, TimeZone, Utc};
use ivr::invoice::generate::InvoiceMonth;
use ivr::store::Store;
use store_support::cli::{failed, ivr_on, succeeded};
use store_support::{book_days, seed_angeline};

/// `ivr --config ivr.toml --database-url URL ARGS` in `dir`.
fn ivr(dir: &Path, url: &str, args: &[&str]) -> Output {
    ivr_on(dir, url, &[&["--config", "ivr.toml"], args].concat())
}

#[tokio::test]
async fn generate_twice_creates_the_invoices_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("ivr.toml"),
        "[invoice]\nregie_code = 7\n[[invoice.tariffs]]\nservice = \"REPAS\"\nlabel = \"Repas\"\nprice_cents = 365\n",
    )?;
    let url = format!("sqlite://{}", dir.path().join("ivr.db").display());
    succeeded(&ivr(dir.path(), &url, &["migrate"]));
    {
        let store = Store::open(&url).await?;
        let (_, angeline) = seed_angeline(&store).await?;
        let days = [3, 4].map(|d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap());
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap();
        book_days(&store, angeline, &days, "REPAS", at).await?;
        store.close().await;
    }
    let generate = |month| {
        ivr(
            dir.path(),
            &url,
            &["invoices", "generate", "--month", month],
        )
    };
    let said = succeeded(&generate("2026-11"));
    assert!(
        said.contains("novembre 2026 : 1 créée(s), 0 déjà existante(s)"),
        "{said}"
    );
    assert!(said.contains("2026-007-000001"), "{said}");
    let said = succeeded(&generate("2026-11"));
    assert!(said.contains("0 créée(s), 1 déjà existante(s)"));

    let store = Store::open(&url).await?;
    let invoices = store
        .invoices_of_month(InvoiceMonth::parse("2026-11")?)
        .await?;
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0].total.0, 730);
    store.close().await;

    let err = failed(&generate("11/2026"));
    assert!(err.contains("AAAA-MM"), "{err}");
    Ok(())
}
