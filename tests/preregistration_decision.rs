//! A pre-registration decision finishes the job, on SQLite and PostgreSQL
//! (`TEST_DATABASE_URL`): accepting a request for a new child creates exactly one child with
//! a fresh code that logs in, even when two staff accept at once; a known child and a
//! service get their enrolment; a refusal creates nothing; each decision queues its e-mail
//! in the same transaction (a failure leaves nothing), and the e-mail goes out over a real
//! SMTP conversation without any child code.

mod store_support;

use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, TimeZone, Utc};
use ivr::booking::model::{ChildId, PayerCode, PayerId, ServiceCode};
use ivr::mail::Mailer;
use ivr::mail::outbox::{OutboxReport, OutboxSettings, send_due};
use ivr::mail::test_smtp::{RcptPolicy, TestSmtpServer};
use ivr::service::preregistrations::decide;
use ivr::store::testing::TestDb;
use ivr::store::{
    NewPreregistration, NoticeSubject, PreregDecision, PreregOutcome, PreregStatus,
    PreregistrationId, Store,
};
use mail_parser::MessageParser;
use store_support::{Families, seed_families, smtp_config};

// Multi-threaded so that the two staff of the concurrent test really run at once.
ivr::both_backends!(
    multi_thread:
    accepting_a_new_child_creates_one_child_who_can_log_in,
    a_known_child_and_a_service_get_their_enrolment,
    a_refusal_creates_nothing_and_queues_the_reason,
    a_payer_without_an_address_gets_no_message,
    a_failure_to_queue_the_message_leaves_nothing,
    the_message_goes_over_smtp_and_carries_no_code,
    two_staff_accepting_at_once_create_one_child,
);

const GUARD: Duration = Duration::from_secs(10);
const YEAR: &str = "2026-2027";

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 7, h, 0, 0).unwrap()
}

/// `payer` asks for `first` MARSONE (a new child when `child` is `None`), for `service`
/// or the whole school year.
async fn ask(
    store: &Store,
    payer: PayerId,
    child: Option<ChildId>,
    first: &str,
    service: Option<&str>,
) -> Result<PreregistrationId> {
    let service = service.map(ServiceCode::parse).transpose()?;
    Ok(store
        .insert_preregistration(
            &NewPreregistration {
                payer,
                child,
                first_name: first,
                last_name: "MARSONE",
                service: service.as_ref(),
                school_year: YEAR,
                comment: "",
            },
            at(7),
        )
        .await?)
}

/// Amélie, a clerk, decides `id` at 9:00; true when the request was waiting for it.
async fn amelie(
    store: &Store,
    id: PreregistrationId,
    d: PreregDecision,
    why: &str,
) -> Result<bool> {
    Ok(decide(store, id, d, why, "amelie", at(9)).await?)
}

fn settings() -> OutboxSettings {
    OutboxSettings {
        service_labels: vec![("REPAS".into(), "Cantine".into())],
        portal_url: "https://portail.mairie.example".into(),
        town_name: "Mairie de Saint-Julien".into(),
        retry_after: chrono::Duration::minutes(10),
        batch: 50,
    }
}

async fn accepting_a_new_child_creates_one_child_who_can_log_in(db: &TestDb) -> Result<()> {
    let store = &db.store;
    let fam = seed_families(store).await?;
    let id = ask(store, fam.payer, None, "Lou", None).await?;
    assert!(amelie(store, id, PreregDecision::Accept, "").await?);

    let lou: Vec<_> = store
        .children_of(fam.payer)
        .await?
        .into_iter()
        .filter(|c| c.first_name == "Lou")
        .collect();
    assert_eq!(lou.len(), 1, "one child created");
    assert_eq!(lou[0].last_name, "MARSONE");
    assert_eq!(store.family_counts().await?, (2, 4));
    let request = &store.preregistrations_of(fam.payer).await?[0];
    assert_eq!(request.created_child, Some(lou[0].id));
    assert_eq!(request.outcome(), Some(PreregOutcome::ChildCreated));

    // The code is as long as the town's (4 digits in the seed) and opens Lou's planning.
    let code = store.child_code(lou[0].id).await?.context("a code")?;
    assert_eq!(code.expose().len(), 4, "as long as the seed's codes");
    assert!(!["3011", "3012", "4000"].contains(&code.expose()));
    let payer_code = PayerCode::parse("770021")?;
    assert_eq!(
        store.find_login(&code, &payer_code).await?,
        Some((fam.payer, lou[0].id))
    );
    // Not with another family's payer code.
    let paul = PayerCode::parse("880000")?;
    assert_eq!(store.find_login(&code, &paul).await?, None);
    assert_eq!(store.pending_notices().await?, 1, "the family is told");

    // Deciding again changes nothing: no second child, no second message.
    assert!(!amelie(store, id, PreregDecision::Accept, "").await?);
    assert_eq!(store.family_counts().await?, (2, 4));
    assert_eq!(store.pending_notices().await?, 1);
    Ok(())
}

async fn two_staff_accepting_at_once_create_one_child(db: &TestDb) -> Result<()> {
    let store = &db.store;
    let fam = seed_families(store).await?;
    let id = ask(store, fam.payer, None, "Lou", Some("REPAS")).await?;
    let (a, b) = (store.clone(), store.clone());
    let first =
        tokio::spawn(
            async move { decide(&a, id, PreregDecision::Accept, "", "amelie", at(9)).await },
        );
    let second =
        tokio::spawn(
            async move { decide(&b, id, PreregDecision::Accept, "", "bruno", at(9)).await },
        );
    let (first, second) = (first.await??, second.await??);
    assert!(first ^ second, "exactly one decision: {first} {second}");
    assert_eq!(store.family_counts().await?, (2, 4), "one child created");
    assert_eq!(store.pending_notices().await?, 1, "one message");
    Ok(())
}

async fn a_known_child_and_a_service_get_their_enrolment(db: &TestDb) -> Result<()> {
    let store = &db.store;
    let Families {
        payer,
        theo,
        angeline,
        ..
    } = seed_families(store).await?;
    let meals = ask(store, payer, Some(theo), "Théo", Some("REPAS")).await?;
    let year = ask(store, payer, Some(angeline), "Angéline", None).await?;
    assert!(amelie(store, meals, PreregDecision::Accept, "").await?);
    assert!(amelie(store, year, PreregDecision::Accept, "").await?);

    assert_eq!(
        store.enrolments_of(theo).await?,
        vec![(ServiceCode::parse("REPAS")?, YEAR.to_owned())]
    );
    // The whole school year for a known child: nothing more than the status.
    assert!(store.enrolments_of(angeline).await?.is_empty());
    assert_eq!(store.family_counts().await?, (2, 3), "no child created");
    let staff = store.preregistrations_for_staff().await?;
    let outcome = |id| staff.iter().find(|r| r.id == id).and_then(|r| r.outcome());
    assert_eq!(outcome(meals), Some(PreregOutcome::Enrolled));
    assert_eq!(outcome(year), None);

    // A second request for the same enrolment is accepted; the row stays one.
    let again = ask(store, payer, Some(theo), "Théo", Some("REPAS")).await?;
    assert!(amelie(store, again, PreregDecision::Accept, "").await?);
    assert_eq!(store.enrolments_of(theo).await?.len(), 1);
    assert_eq!(store.pending_notices().await?, 3);
    Ok(())
}

async fn a_refusal_creates_nothing_and_queues_the_reason(db: &TestDb) -> Result<()> {
    let store = &db.store;
    let fam = seed_families(store).await?;
    let id = ask(store, fam.payer, None, "Lou", None).await?;
    assert!(
        amelie(
            store,
            id,
            PreregDecision::Refuse,
            "Plus de place en maternelle"
        )
        .await?
    );
    assert_eq!(store.family_counts().await?, (2, 3), "no child");
    let request = &store.preregistrations_of(fam.payer).await?[0];
    assert_eq!(request.status, PreregStatus::Refused);
    assert_eq!(request.created_child, None);
    assert_eq!(request.outcome(), None);

    let due = store.due_notices(at(9), 10).await?;
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].email, "laurence.marsone@example.org");
    match &due[0].subject {
        NoticeSubject::Preregistration {
            accepted,
            reason,
            child_created,
            ..
        } => {
            assert!(!accepted);
            assert!(!child_created);
            assert_eq!(reason, "Plus de place en maternelle");
        }
        other => panic!("not a pre-registration notice: {other:?}"),
    }
    Ok(())
}

async fn a_payer_without_an_address_gets_no_message(db: &TestDb) -> Result<()> {
    let store = &db.store;
    let fam = seed_families(store).await?;
    // Paul DURAND gave no e-mail address.
    let id = ask(store, fam.other_payer, None, "Noé", None).await?;
    assert!(amelie(store, id, PreregDecision::Accept, "").await?);
    assert_eq!(store.family_counts().await?, (2, 4), "the child is created");
    assert_eq!(store.pending_notices().await?, 0);
    Ok(())
}

async fn a_failure_to_queue_the_message_leaves_nothing(db: &TestDb) -> Result<()> {
    let store = &db.store;
    let fam = seed_families(store).await?;
    let id = ask(store, fam.payer, None, "Lou", None).await?;
    // The outbox is unusable: the decision, the last write, fails.
    db.execute_raw("ALTER TABLE mail_outbox RENAME TO mail_outbox_away")
        .await?;
    assert!(amelie(store, id, PreregDecision::Accept, "").await.is_err());
    db.execute_raw("ALTER TABLE mail_outbox_away RENAME TO mail_outbox")
        .await?;
    assert_eq!(
        store.family_counts().await?,
        (2, 3),
        "no child without its decision"
    );
    let request = &store.preregistrations_of(fam.payer).await?[0];
    assert_eq!(request.status, PreregStatus::Pending);
    assert_eq!(request.created_child, None);
    // Once the outbox is back, the same decision goes through whole.
    assert!(amelie(store, id, PreregDecision::Accept, "").await?);
    assert_eq!(store.family_counts().await?, (2, 4));
    assert_eq!(store.pending_notices().await?, 1);
    Ok(())
}

/// The decoded text body of a received message, and its subject.
fn read(raw: &[u8]) -> Result<(String, String)> {
    let msg = MessageParser::default().parse(raw).context("unparsable")?;
    let subject = msg.subject().context("no subject")?.to_owned();
    let body = msg.body_text(0).context("no text body")?.into_owned();
    Ok((subject, body))
}

async fn the_message_goes_over_smtp_and_carries_no_code(db: &TestDb) -> Result<()> {
    let store = &db.store;
    let fam = seed_families(store).await?;
    let lou = ask(store, fam.payer, None, "Lou", Some("REPAS")).await?;
    let theo = ask(store, fam.payer, Some(fam.theo), "Théo", None).await?;
    assert!(amelie(store, lou, PreregDecision::Accept, "").await?);
    assert!(amelie(store, theo, PreregDecision::Refuse, "Dossier incomplet").await?);
    let created = store.preregistrations_of(fam.payer).await?;
    let lou_id = created
        .iter()
        .find_map(|r| r.created_child)
        .context("Lou created")?;
    let code = store.child_code(lou_id).await?.context("a code")?;

    let mut server = TestSmtpServer::start(RcptPolicy::AcceptAll).await?;
    let mailer = Mailer::from_config(&smtp_config(&server))?;
    let r = send_due(store, &mailer, &settings(), at(10)).await?;
    assert_eq!(
        r,
        OutboxReport {
            sent: 2,
            retry: 0,
            given_up: 0
        }
    );
    let mut mails = Vec::new();
    for _ in 0..2 {
        let mail = server.next_mail(GUARD).await.context("a mail arrived")?;
        assert_eq!(
            mail.rcpt_to,
            vec!["laurence.marsone@example.org".to_owned()]
        );
        mails.push(read(&mail.data)?);
    }
    mails.sort();
    let (accepted_subject, accepted) = &mails[0];
    let (refused_subject, refused) = &mails[1];
    assert_eq!(
        accepted_subject,
        "Préinscription de Lou MARSONE : demande acceptée"
    );
    assert_eq!(
        refused_subject,
        "Préinscription de Théo MARSONE : demande refusée"
    );
    for expected in [
        "Bonjour Laurence MARSONE,",
        "pour « Cantine », année scolaire 2026-2027",
        "vous pouvez réserver ses services",
        "Son code enfant est affiché sur le portail",
        "https://portail.mairie.example",
    ] {
        assert!(
            accepted.contains(expected),
            "{expected:?} not in:\n{accepted}"
        );
    }
    assert!(refused.contains("Motif : Dossier incomplet"), "{refused}");
    // No code of any child: the new one nor the seed's. The school year's digits are the
    // only digits the text has, taken out so that a code drawn as "2026" cannot match them.
    for (subject, body) in &mails {
        let text = format!("{subject}\n{body}").replace(YEAR, "");
        for secret in [code.expose(), "3011", "3012", "4000", "770021"] {
            assert!(!text.contains(secret), "a code in:\n{text}");
        }
    }
    // Sent once.
    let r = send_due(store, &mailer, &settings(), at(11)).await?;
    assert_eq!(r, OutboxReport::default());
    Ok(())
}
