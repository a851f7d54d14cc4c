//! The invoice e-mail notice: a real SMTP conversation with lettre against the in-process
//! receiver, and the folder fallback when no SMTP server is configured.

mod store_support;

use std::time::Duration;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use ivr::booking::model::Cents;
use ivr::invoice::InvoiceNumber;
use ivr::mail::test_smtp::{RcptPolicy, TestSmtpServer};
use ivr::mail::{InvoiceNotice, MailConfig, MailError, Mailer, Notice, NoticeAbout, SmtpSecurity};
use mail_parser::MessageParser;
use store_support::smtp_config;

const GUARD: Duration = Duration::from_secs(10);

fn notice(key: &str) -> Result<Notice> {
    Ok(Notice {
        key: key.into(),
        to_name: "Laurence MARSONE".into(),
        to_address: "laurence.marsone@example.org".into(),
        portal_url: "https://portail.mairie.example/factures".into(),
        town_name: "Mairie de Saint-Julien-en-Genevois".into(),
        about: NoticeAbout::Invoice(InvoiceNotice {
            number: InvoiceNumber::parse("2014-003-000162")?,
            period: "novembre 2014".into(),
            amount: Cents(5830),
            due: NaiveDate::from_ymd_opt(2014, 12, 31).context("date")?,
        }),
    })
}

/// Checks a received message: headers decoded, French body intact.
fn check_message(raw: &[u8], key: &str) -> Result<()> {
    let msg = MessageParser::default()
        .parse(raw)
        .context("unparsable message")?;
    assert_eq!(
        msg.subject(),
        Some("Votre facture 2014-003-000162 est en ligne")
    );
    assert_eq!(
        msg.message_id(),
        Some(format!("{key}@mairie.example").as_str())
    );
    let to = msg.to().and_then(|a| a.first()).context("no To")?;
    assert_eq!(to.address(), Some("laurence.marsone@example.org"));
    assert_eq!(to.name(), Some("Laurence MARSONE"));
    let body = msg.body_text(0).context("no text body")?;
    for expected in [
        "Bonjour Laurence MARSONE,",
        "Votre facture n° 2014-003-000162 (novembre 2014), d'un montant de 58,30 €",
        "Date d'échéance : 31/12/2014.",
        "https://portail.mairie.example/factures",
        "« Me prévenir par mail de la mise en ligne de ma facture »",
    ] {
        assert!(body.contains(expected), "{expected:?} not in:\n{body}");
    }
    Ok(())
}

#[tokio::test]
async fn notice_goes_through_a_real_smtp_conversation() -> Result<()> {
    let mut server = TestSmtpServer::start(RcptPolicy::AcceptAll).await?;
    let mailer = Mailer::from_config(&smtp_config(&server))?;
    mailer.send(&notice("invoice-2014-003-000162")?).await?;
    let mail = server.next_mail(GUARD).await.context("nothing received")?;
    assert_eq!(mail.mail_from, "ne-pas-repondre@mairie.example");
    assert_eq!(
        mail.rcpt_to,
        vec!["laurence.marsone@example.org".to_owned()]
    );
    check_message(&mail.data, "invoice-2014-003-000162")?;
    Ok(())
}

#[tokio::test]
async fn refusals_say_whether_to_retry() -> Result<()> {
    let server = TestSmtpServer::start(RcptPolicy::RejectPermanently).await?;
    let err = Mailer::from_config(&smtp_config(&server))?
        .send(&notice("k1")?)
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Rejected(_)), "{err:?}");
    assert!(!err.is_retryable());

    let server = TestSmtpServer::start(RcptPolicy::RejectTemporarily).await?;
    let err = Mailer::from_config(&smtp_config(&server))?
        .send(&notice("k2")?)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");

    // Nobody listening: retry later too.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let config = MailConfig {
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        security: SmtpSecurity::None,
        timeout_secs: 2,
        ..Default::default()
    };
    let err = Mailer::from_config(&config)?
        .send(&notice("k3")?)
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Transient(_)), "{err:?}");
    Ok(())
}

#[tokio::test]
async fn without_smtp_messages_are_written_once_to_the_folder() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let folder = dir.path().join("courriels");
    let config = MailConfig {
        folder: folder.clone(),
        from: "Mairie <ne-pas-repondre@mairie.example>".into(),
        ..Default::default()
    };
    let mailer = Mailer::from_config(&config)?;
    let n = notice("invoice-2014-003-000162")?;
    mailer.send(&n).await?;
    mailer.send(&n).await?;
    let files: Vec<_> = std::fs::read_dir(&folder)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    assert_eq!(files, vec!["invoice-2014-003-000162.eml".to_owned()]);
    check_message(
        &std::fs::read(folder.join(&files[0]))?,
        "invoice-2014-003-000162",
    )?;
    Ok(())
}

#[tokio::test]
async fn bad_addresses_and_keys_are_refused_before_sending() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mailer = Mailer::from_config(&MailConfig {
        folder: dir.path().to_owned(),
        ..Default::default()
    })?;
    let mut bad_to = notice("k")?;
    bad_to.to_address = "pas une adresse".into();
    assert!(matches!(
        mailer.send(&bad_to).await,
        Err(MailError::BadAddress(_))
    ));
    for key in ["", "../evil", ".hidden", "a/b"] {
        assert!(
            matches!(
                mailer.send(&notice(key)?).await,
                Err(MailError::BadNotice(_))
            ),
            "{key:?}"
        );
    }
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
    assert!(matches!(
        Mailer::from_config(&MailConfig {
            from: "nobody".into(),
            ..Default::default()
        }),
        Err(MailError::BadAddress(_))
    ));
    Ok(())
}
