//! `ivr deadline`: an operator asks the engine about one cell, exactly as the phone and the
//! web do: through the booking service, with the database's calendar (the closures,
//! overrides and school holidays staff set on the portal) over the configuration's.

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use clap::Args;
use ivr::booking::deadline::{Decision, decide};
use ivr::booking::french::{date_fr_with_year, time_fr};
use ivr::booking::model::{Action, ServiceCode};
use ivr::config::Config;
use ivr::store::Store;

/// Arguments of `ivr deadline`.
#[derive(Debug, Args)]
pub struct DeadlineArgs {
    /// Service code (REPAS, MATIN, MIDI, SOIR…)
    #[arg(long, value_name = "CODE")]
    service: String,
    /// Service day, YYYY-MM-DD
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: NaiveDate,
    /// The instant to decide at, RFC 3339 (e.g. 2020-05-20T10:00:00+02:00) [default: now]
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    now: Option<DateTime<Utc>>,
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("instant RFC 3339 attendu, par exemple 2020-05-20T10:00:00+02:00 ({e})")
        })
}

/// Prints the cell's deadline in town time and whether booking and cancelling are open.
pub fn run(config: &Config, args: DeadlineArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::open(&config.server.database_url).await?;
        let res = report(config, store.clone(), args).await;
        store.close().await;
        res
    })
}

async fn report(config: &Config, store: Store, args: DeadlineArgs) -> anyhow::Result<()> {
    let booking = config.booking_service(store).await?;
    let rules = booking.rules();
    let calendar = booking.calendar(args.date, args.date).await?;
    let code = ServiceCode::parse(&args.service.trim().to_uppercase())
        .with_context(|| format!("--service « {} »", args.service))?;
    let Some(service) = rules.service(&code) else {
        let known: Vec<&str> = rules.services().iter().map(|s| s.code.as_str()).collect();
        bail!(
            "prestation inconnue « {code} » (prestations : {})",
            known.join(", ")
        );
    };
    // The edge of the command: the clock is read once, here, when --now is not given.
    #[allow(clippy::disallowed_methods)]
    let now = args.now.unwrap_or_else(Utc::now);
    let tz = rules.timezone();

    println!("Prestation : {} ({})", service.code, service.label);
    println!("Jour : {}", date_fr_with_year(args.date));
    println!("Règle : {}", service.deadline.describe_fr());
    println!("Maintenant : {}", instant_fr(now, tz));
    for (action, label) in [
        (Action::Book, "Inscription"),
        (Action::Cancel, "Annulation"),
    ] {
        let decision = decide(rules, &calendar, args.date, &code, action, now);
        let deadline = match decision.deadline() {
            Some(d) => format!("délai le {}", instant_fr(d, tz)),
            None => "pas de délai".to_owned(),
        };
        match decision {
            Decision::Open { .. } => println!("{label} : ouverte ; {deadline}"),
            Decision::Refused(refusal) => println!(
                "{label} : fermée ; {deadline} ; {}",
                refusal.sentence_fr(action)
            ),
        }
    }
    Ok(())
}

/// "mercredi 20 mai 2020 à 10h15 (Europe/Paris, 2020-05-20T08:15:00Z)".
fn instant_fr(t: DateTime<Utc>, tz: Tz) -> String {
    let local = t.with_timezone(&tz);
    format!(
        "{} à {} ({tz}, {})",
        date_fr_with_year(local.date_naive()),
        time_fr(local.time()),
        t.format("%Y-%m-%dT%H:%M:%SZ")
    )
}
