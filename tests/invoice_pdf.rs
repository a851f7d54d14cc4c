//! The invoice PDF, read back with `pdftotext` (poppler-utils) as a person's viewer would.

mod store_support;

use anyhow::{Context, Result, ensure};
use chrono::NaiveDate;
use ivr::booking::model::{Cents, ChildId, ServiceCode};
use ivr::invoice::InvoiceNumber;
use ivr::invoice::generate::InvoiceLine;
use ivr::invoice::pdf::{InvoiceDocument, TownHeader, render};
use store_support::invoices::{pdftotext, saint_julien};

fn line(child: i64, name: &str, service: &str, label: &str, qty: u32, unit: i64) -> InvoiceLine {
    InvoiceLine {
        child: ChildId(child),
        child_name: name.into(),
        service: ServiceCode::parse(service).unwrap(),
        label: label.into(),
        quantity: qty,
        unit_price: Cents(unit),
        amount: Cents(unit * i64::from(qty)),
    }
}

/// Renders, writes to a temporary file, returns `pdftotext -layout` output.
fn pdf_text(doc: &InvoiceDocument<'_>) -> Result<String> {
    let bytes = render(doc)?;
    ensure!(bytes.starts_with(b"%PDF-"), "not a PDF");
    // To look at it: IVR_TEST_PDF_OUT=/tmp/x.pdf cargo test --test invoice_pdf, then pdftoppm.
    if let Some(out) = std::env::var_os("IVR_TEST_PDF_OUT") {
        std::fs::write(out, &bytes)?;
    }
    pdftotext(&bytes)
}

/// The seed's invoice 2014-003-000162 to Laurence MARSONE for November 2014, of 58,30 €,
/// with `lines` and no address.
fn seed_document<'a>(
    town: &'a TownHeader,
    lines: &'a [InvoiceLine],
) -> Result<InvoiceDocument<'a>> {
    Ok(InvoiceDocument {
        town,
        number: InvoiceNumber::parse("2014-003-000162")?,
        issued: NaiveDate::from_ymd_opt(2014, 12, 1).unwrap(),
        due: NaiveDate::from_ymd_opt(2014, 12, 31).unwrap(),
        regie_label: "Régie: restauration et garderie, CANTINE ET GARDERIE",
        period: "novembre 2014",
        payer_name: "Laurence MARSONE",
        payer_address: &[],
        lines,
        total: Cents(5830),
    })
}

#[test]
fn seed_invoice_text_reads_back() -> Result<()> {
    let town = saint_julien();
    let lines = vec![
        line(10, "Léo MARSONE", "MATIN", "Accueil du matin", 3, 210),
        line(10, "Léo MARSONE", "MIDI", "Accueil 12h15", 5, 127),
        line(11, "Zoé MARSONE", "REPAS", "Repas (cantine)", 10, 365),
        line(11, "Zoé MARSONE", "SOIR", "Accueil du soir", 5, 183),
    ];
    let address = vec![
        "12 rue des Écoles".to_owned(),
        "74160 Saint-Julien-en-Genevois".to_owned(),
    ];
    let doc = InvoiceDocument {
        payer_address: &address,
        lines: &lines,
        ..seed_document(&town, &[])?
    };
    let text = pdf_text(&doc)?;
    for expected in [
        "Mairie de Saint-Julien-en-Genevois",
        "1 place du Général de Gaulle",
        "FACTURE",
        "N° 2014-003-000162",
        "Date d'échéance : 31/12/2014",
        "Émise le 01/12/2014",
        "Laurence MARSONE",
        "12 rue des Écoles",
        "Régie: restauration et garderie, CANTINE ET GARDERIE",
        "Période facturée : novembre 2014",
        "Quantité",
        "Total à payer",
        "58,30 €",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    // Each line on one text line: child, service, quantity, unit price, amount, in order.
    for (name, label, qty, unit, amount) in [
        ("Léo MARSONE", "Accueil du matin", "3", "2,10 €", "6,30 €"),
        ("Léo MARSONE", "Accueil 12h15", "5", "1,27 €", "6,35 €"),
        ("Zoé MARSONE", "Repas (cantine)", "10", "3,65 €", "36,50 €"),
        ("Zoé MARSONE", "Accueil du soir", "5", "1,83 €", "9,15 €"),
    ] {
        let row = text
            .lines()
            .find(|l| l.contains(name) && l.contains(label))
            .with_context(|| format!("no row for {name} {label} in:\n{text}"))?;
        let mut at = 0;
        for part in [name, label, qty, unit, amount] {
            let found = row[at..]
                .find(part)
                .with_context(|| format!("{part:?} not in order in {row:?}"))?;
            at += found + part.len();
        }
    }
    Ok(())
}

#[test]
fn long_invoices_continue_on_more_pages() -> Result<()> {
    let town = saint_julien();
    let lines: Vec<InvoiceLine> = (0..70)
        .map(|i| {
            line(
                i,
                &format!("Enfant n°{i:02} Ésope"),
                "REPAS",
                "Repas",
                1,
                100,
            )
        })
        .collect();
    // The seed's invoice, numbered 2026-001-000001, for a family with 70 children.
    let doc = InvoiceDocument {
        number: InvoiceNumber::parse("2026-001-000001")?,
        payer_name: "Famille Nombreuse",
        payer_address: &[],
        lines: &lines,
        total: Cents(7000),
        ..seed_document(&town, &[])?
    };
    let text = pdf_text(&doc)?;
    for i in 0..70 {
        let name = format!("Enfant n°{i:02} Ésope");
        assert!(text.contains(&name), "{name} missing");
    }
    assert!(
        text.contains("Page 1 / 3") && text.contains("Page 3 / 3"),
        "{text}"
    );
    assert!(text.contains("Facture N° 2026-001-000001 (suite)"));
    assert!(text.contains("70,00 €"));
    Ok(())
}
