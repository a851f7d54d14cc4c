//! `ivr phone`: the voice line's operator tools.

use std::io::BufRead;

use anyhow::Context;
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use clap::Subcommand;
use ivr::booking::model::{ChildCode, PayerCode};
use ivr::config::Config;
use ivr::store::Store;

/// `ivr phone ...`
#[derive(Debug, Subcommand)]
pub enum PhoneCommand {
    /// Read the staff PIN on standard input and print its argon2 hash for
    /// `[phone] staff_pin_hash` (the PIN never appears on the command line)
    HashPin,
    /// Read a child code then a payer code (one a line) on standard input and print the
    /// child's last changes (date, service, action, channel), newest first
    History {
        /// How many changes
        #[arg(long, default_value_t = 40)]
        limit: u32,
    },
    /// Print the day's call records, one call a line (start and end in town time, line
    /// dialled, outcome, counts, the step it stopped at, who hung up), oldest first
    Calls {
        /// The town's day, YYYY-MM-DD [default: today]
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
    },
}

/// Runs an `ivr phone` subcommand.
pub fn run(config: &Config, command: PhoneCommand) -> anyhow::Result<()> {
    if let PhoneCommand::Calls { date } = command {
        return calls(config, date);
    }
    let mut lines = std::io::stdin().lock().lines();
    let mut next = |what: &str| -> anyhow::Result<String> {
        Ok(lines
            .next()
            .with_context(|| format!("{what} attendu sur l'entrée standard"))??
            .trim()
            .to_owned())
    };
    match command {
        PhoneCommand::HashPin => {
            let pin = next("le code personnel")?;
            if pin.len() < 4 || !pin.bytes().all(|b| b.is_ascii_digit()) {
                anyhow::bail!("le code personnel doit compter au moins 4 chiffres");
            }
            let salt = SaltString::generate(&mut OsRng);
            let hash = argon2::Argon2::default()
                .hash_password(pin.as_bytes(), &salt)
                .map_err(|e| anyhow::anyhow!("empreinte impossible : {e}"))?;
            println!("staff_pin_hash = \"{hash}\"");
            Ok(())
        }
        PhoneCommand::Calls { .. } => unreachable!("answered above"),
        PhoneCommand::History { limit } => {
            let child = ChildCode::parse(&next("le code enfant")?)
                .map_err(|e| anyhow::anyhow!("code enfant : {e}"))?;
            let payer = PayerCode::parse(&next("le code payeur")?)
                .map_err(|e| anyhow::anyhow!("code payeur : {e}"))?;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let store = Store::open(&config.server.database_url).await?;
                let Some((_, child)) = store.find_login(&child, &payer).await? else {
                    anyhow::bail!("code enfant ou code payeur incorrect");
                };
                for h in store.history(child, limit).await? {
                    println!(
                        "{} {} {} {} {}",
                        h.date,
                        h.service.as_str(),
                        h.action.as_str(),
                        h.channel.as_str(),
                        h.at.to_rfc3339()
                    );
                }
                store.close().await;
                Ok(())
            })
        }
    }
}

/// `ivr phone calls`: the records of one day of the town, as the dashboard counts them.
fn calls(config: &Config, date: Option<chrono::NaiveDate>) -> anyhow::Result<()> {
    let tz = config.town.timezone;
    let date = date.unwrap_or_else(|| {
        use ivr::clock::Clock;
        ivr::clock::SystemClock
            .now()
            .with_timezone(&tz)
            .date_naive()
    });
    let (from, to) = ivr::store::day_range(date, tz);
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::open(&config.server.database_url).await?;
        for c in store.call_records_between(from, to).await? {
            println!(
                "{} {} {} {} logins_failed={} booked={} cancelled={} refused={} failed={} step={} ended_by={}",
                c.started_at.with_timezone(&tz).format("%H:%M:%S"),
                c.ended_at.with_timezone(&tz).format("%H:%M:%S"),
                c.line,
                c.outcome.as_str(),
                c.logins_failed,
                c.booked,
                c.cancelled,
                c.refused,
                c.failed,
                if c.last_step.is_empty() { "-" } else { &c.last_step },
                c.ended_by.as_str(),
            );
        }
        store.close().await;
        Ok(())
    })
}
