//! A month's invoicing end to end without the database: bookings and tariffs → drafts →
//! numbers from a sequence → one PDF each (read back with pdftotext) → one e-mail notice each
//! for the payers who opted in (folder fallback). The store will replace the in-memory
//! sequence and the opt-in list with tables.

mod store_support;

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDate;
use ivr::booking::model::{ChildId, PayerId, ServiceCode};
use ivr::invoice::InvoiceConfig;
use ivr::invoice::InvoiceNumber;
use ivr::invoice::generate::{BookedService, InvoiceMonth, draft_invoices};
use ivr::invoice::pdf::{InvoiceDocument, render};
use ivr::invoice::tariff::QuotientFamilial;
use ivr::mail::{InvoiceNotice, MailConfig, Mailer, Notice, NoticeAbout};
use store_support::invoices::{invoice_config, pdftotext, saint_julien};

fn booking(payer: i64, child: i64, name: &str, day: u32, service: &str) -> BookedService {
    BookedService {
        payer: PayerId(payer),
        child: ChildId(child),
        child_name: name.into(),
        date: NaiveDate::from_ymd_opt(2014, 11, day).unwrap(),
        service: ServiceCode::parse(service).unwrap(),
    }
}

#[tokio::test]
async fn a_month_becomes_numbered_invoices_pdfs_and_notices() -> Result<()> {
    let config = InvoiceConfig {
        town: saint_julien(),
        ..invoice_config()
    };
    let tariffs = config.tariffs()?;
    let month = InvoiceMonth::parse("2014-11")?;
    let mut bookings = Vec::new();
    for day in [3, 4, 6, 7, 10, 13, 14, 17, 18, 20] {
        bookings.push(booking(1, 11, "Zoé MARSONE", day, "REPAS"));
    }
    for day in [3, 4, 6, 7, 10] {
        bookings.push(booking(1, 11, "Zoé MARSONE", day, "SOIR"));
    }
    for day in [3, 4] {
        bookings.push(booking(2, 21, "Noé DURAND", day, "REPAS"));
    }
    let quotients = BTreeMap::from([
        (PayerId(1), None),
        (PayerId(2), Some(QuotientFamilial(650))),
    ]);
    // payer id -> (name, e-mail, opted in)
    let payers = BTreeMap::from([
        (
            PayerId(1),
            ("Laurence MARSONE", "laurence@example.org", true),
        ),
        (PayerId(2), ("Karim DURAND", "karim@example.org", false)),
    ]);
    let drafts = draft_invoices(month, &bookings, &quotients, &tariffs)?;
    assert_eq!(drafts.len(), 2);

    let dir = tempfile::tempdir()?;
    let mailer = Mailer::from_config(&MailConfig {
        folder: dir.path().to_owned(),
        from: "Mairie <ne-pas-repondre@mairie.example>".into(),
        ..Default::default()
    })?;
    let regie = config.regie()?;
    let regie_label = config.regie_label();
    let period = month.label_fr();
    let issued = NaiveDate::from_ymd_opt(2014, 12, 1).unwrap();
    let due = month.due_date(config.due_days);
    // The store's sequence for (2014, régie 3) stands at 161.
    let mut sequence = 161;
    let mut texts = Vec::new();
    for draft in &drafts {
        sequence += 1;
        let number = InvoiceNumber::new(month.year(), regie, sequence)?;
        let (name, mail, opted_in) = payers[&draft.payer];
        let pdf = render(&InvoiceDocument {
            town: &config.town,
            number,
            issued,
            due,
            regie_label: &regie_label,
            period: &period,
            payer_name: name,
            payer_address: &[],
            lines: &draft.lines,
            total: draft.total,
        })?;
        texts.push((number, pdftotext(&pdf)?, draft.total));
        if opted_in {
            mailer
                .send(&Notice {
                    key: format!("invoice-{number}"),
                    to_name: name.into(),
                    to_address: mail.into(),
                    portal_url: "https://portail.mairie.example/factures".into(),
                    town_name: config.town.name.clone(),
                    about: NoticeAbout::Invoice(InvoiceNotice {
                        number,
                        period: period.clone(),
                        amount: draft.total,
                        due,
                    }),
                })
                .await?;
        }
    }

    // Payer 1: 10 meals at the full price (no quotient) and 5 evenings: 36,50 + 9,15 = 45,65 €.
    let (number, text, total) = &texts[0];
    assert_eq!(number.to_string(), "2014-003-000162");
    assert_eq!(total.to_string(), "45,65 €");
    for expected in [
        "N° 2014-003-000162",
        "Date d'échéance : 31/12/2014",
        "Régie: restauration et garderie, CANTINE ET GARDERIE",
        "Période facturée : novembre 2014",
        "Repas (cantine)",
        "36,50 €",
        "9,15 €",
        "45,65 €",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
    }
    // Payer 2: 2 meals at the bracket price.
    let (number, text, _) = &texts[1];
    assert_eq!(number.to_string(), "2014-003-000163");
    assert!(
        text.contains("Noé DURAND") && text.contains("5,30 €"),
        "{text}"
    );

    // One notice, for the payer who opted in.
    let files: Vec<String> = std::fs::read_dir(dir.path())?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    assert_eq!(files, vec!["invoice-2014-003-000162.eml".to_owned()]);
    Ok(())
}
