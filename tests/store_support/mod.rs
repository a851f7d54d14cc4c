//! Set-up shared by the storage, service and command-line tests: the seed's families put in
//! a store, the booking service a town without configuration gets, bookings written
//! directly, the invoice tariffs and town, the test SMTP server's mail settings, and the
//! `ivr` binary run as an operator runs it. Each test file uses a part of it, hence
//! `dead_code` is allowed here.
#![allow(dead_code)]

pub mod cli;
pub mod invoices;

use chrono::{DateTime, NaiveDate, Utc};
use ivr::booking::calendar::{Calendar, SchoolHoliday};
use ivr::booking::model::{ChildCode, ChildId, PayerCode, PayerId, ServiceCode};
use ivr::booking::rules::Rules;
use ivr::invoice::tariff::QuotientFamilial;
use ivr::mail::test_smtp::TestSmtpServer;
use ivr::mail::{MailConfig, SmtpSecurity};
use ivr::service::booking::BookingService;
use ivr::service::login::LoginConfig;
use ivr::store::{HeadCount, NewChild, NewPayer, Store};

/// Laurence MARSONE, payer 770021, as in the demo seed (no invoices by e-mail).
pub fn laurence() -> NewPayer {
    NewPayer {
        code: PayerCode::parse("770021").unwrap(),
        name: "Laurence MARSONE".into(),
        email: "laurence.marsone@example.org".into(),
        invoice_email_opt_in: false,
    }
}

/// Paul DURAND, payer 880000: another family, whose child must stay out of Laurence's reach.
pub fn paul() -> NewPayer {
    NewPayer {
        code: PayerCode::parse("880000").unwrap(),
        name: "Paul DURAND".into(),
        email: String::new(),
        invoice_email_opt_in: false,
    }
}

/// A pupil of École Jules Ferry in Mme Formatrice's `class`, child of `payer`.
pub fn pupil(code: &str, payer: PayerId, first: &str, last: &str, class: &str) -> NewChild {
    NewChild {
        code: ChildCode::parse(code).unwrap(),
        payer,
        first_name: first.into(),
        last_name: last.into(),
        school: "École Jules Ferry".into(),
        class_label: class.into(),
        teacher: "Mme Formatrice".into(),
    }
}

/// Inserts Laurence MARSONE and her daughter Angéline (child code 3011, CE1) in one
/// committed transaction; returns their ids.
pub async fn seed_angeline(store: &Store) -> anyhow::Result<(PayerId, ChildId)> {
    let mut tx = store.begin().await?;
    let payer = tx.insert_payer(&laurence()).await?;
    let angeline = tx
        .insert_child(&pupil("3011", payer, "Angéline", "MARSONE", "CE1"))
        .await?;
    tx.commit().await?;
    Ok((payer, angeline))
}

/// The ids of the seed's two families.
#[derive(Debug, Clone, Copy)]
pub struct Families {
    /// Laurence MARSONE (770021).
    pub payer: PayerId,
    /// Angéline MARSONE (3011, CE1).
    pub angeline: ChildId,
    /// Théo MARSONE (3012, CM2).
    pub theo: ChildId,
    /// Paul DURAND (880000), another family.
    pub other_payer: PayerId,
    /// Léa DURAND (4000, CP), the other family's child.
    pub other_child: ChildId,
}

/// Inserts Laurence MARSONE with Angéline and Théo, and Paul DURAND with Léa, all at École
/// Jules Ferry, in one committed transaction.
pub async fn seed_families(store: &Store) -> anyhow::Result<Families> {
    let mut tx = store.begin().await?;
    let payer = tx.insert_payer(&laurence()).await?;
    let angeline = tx
        .insert_child(&pupil("3011", payer, "Angéline", "MARSONE", "CE1"))
        .await?;
    let theo = tx
        .insert_child(&pupil("3012", payer, "Théo", "MARSONE", "CM2"))
        .await?;
    let other_payer = tx.insert_payer(&paul()).await?;
    let other_child = tx
        .insert_child(&pupil("4000", other_payer, "Léa", "DURAND", "CP"))
        .await?;
    tx.commit().await?;
    Ok(Families {
        payer,
        angeline,
        theo,
        other_payer,
        other_child,
    })
}

/// Inserts payer number `n` ("Parent n", parentn@example.org, payer code 1000 + n; invoices
/// by e-mail when `opt_in`; family quotient `quotient`) with one child ("Enfantn MARSONE",
/// child code 5000 + n), committed; returns both ids.
pub async fn numbered_family(
    store: &Store,
    n: u32,
    opt_in: bool,
    quotient: Option<u32>,
) -> anyhow::Result<(PayerId, ChildId)> {
    let mut tx = store.begin().await?;
    let payer = tx
        .insert_payer(&NewPayer {
            code: PayerCode::parse(&format!("{}", 1000 + n))?,
            name: format!("Parent {n}"),
            email: format!("parent{n}@example.org"),
            invoice_email_opt_in: opt_in,
        })
        .await?;
    tx.set_quotient_familial(payer, quotient.map(QuotientFamilial))
        .await?;
    let child = tx
        .insert_child(&pupil(
            &format!("{}", 5000 + n),
            payer,
            &format!("Enfant{n}"),
            "MARSONE",
            "CE1",
        ))
        .await?;
    tx.commit().await?;
    Ok((payer, child))
}

/// Writes a booking of `service` for `child` on each of `days` straight into the store (no
/// deadline check), recorded at `at`, in one committed transaction.
pub async fn book_days(
    store: &Store,
    child: ChildId,
    days: &[NaiveDate],
    service: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let service = ServiceCode::parse(service)?;
    let mut tx = store.begin().await?;
    for day in days {
        tx.insert_booking(child, *day, &service, at).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The booking service on `store` with the default rules, calendar and login policy: what a
/// town without configuration gets.
pub async fn default_service(store: &Store) -> anyhow::Result<BookingService> {
    Ok(BookingService::new(
        store.clone(),
        Rules::default(),
        Calendar::default(),
        LoginConfig::default(),
    )
    .await?)
}

/// A school holiday period named `name`, from `first` to `last` included.
pub fn holiday(name: &str, first: NaiveDate, last: NaiveDate) -> SchoolHoliday {
    SchoolHoliday {
        name: name.into(),
        first,
        last,
    }
}

/// Mail settings for the in-process SMTP server: plain SMTP, a five-second timeout, sent
/// from the town's no-reply address.
pub fn smtp_config(server: &TestSmtpServer) -> MailConfig {
    MailConfig {
        smtp_host: server.addr().ip().to_string(),
        smtp_port: server.addr().port(),
        security: SmtpSecurity::None,
        from: "Mairie de Saint-Julien <ne-pas-repondre@mairie.example>".into(),
        timeout_secs: 5,
        ..Default::default()
    }
}

/// Fails unless `rows` are the head counts `want`: (school, service, bookings), in order.
pub fn assert_head_counts(rows: Vec<HeadCount>, want: &[(&str, &str, i64)]) {
    let got: Vec<_> = rows
        .iter()
        .map(|h| (h.school.as_str(), h.service.as_str(), h.count))
        .collect();
    assert_eq!(got, want, "head counts");
}
