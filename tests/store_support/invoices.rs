//! The invoice tests' configuration and town, and reading a PDF back as text.

use std::process::Command;

use anyhow::{Context, Result, ensure};
use ivr::invoice::InvoiceConfig;
use ivr::invoice::pdf::TownHeader;

/// The invoice settings the tests use: régie 3, due 31 days after the month, meals priced
/// by family quotient (2,65 € up to 700, 3,65 € above or without one), evening care 1,83 €,
/// and no price for the other services.
pub fn invoice_config() -> InvoiceConfig {
    toml::from_str(
        r#"
regie_code = 3
due_days = 31
[[tariffs]]
service = "REPAS"
label = "Repas (cantine)"
brackets = [{ up_to = 700, price_cents = 265 }, { price_cents = 365 }]
[[tariffs]]
service = "SOIR"
label = "Accueil du soir"
price_cents = 183
"#,
    )
    .unwrap()
}

/// The town printed at the top of the test invoices.
pub fn saint_julien() -> TownHeader {
    TownHeader {
        name: "Mairie de Saint-Julien-en-Genevois".into(),
        address: vec![
            "1 place du Général de Gaulle".into(),
            "74160 Saint-Julien-en-Genevois".into(),
        ],
        service: "Service scolaire – périscolaire".into(),
    }
}

/// The text of a PDF as a person's viewer shows it: `pdftotext -layout` (poppler-utils).
pub fn pdftotext(pdf: &[u8]) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("facture.pdf");
    std::fs::write(&path, pdf)?;
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .context("pdftotext not found: install poppler-utils")?;
    ensure!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}
