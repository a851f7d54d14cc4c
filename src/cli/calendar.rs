//! `ivr calendar import`: reads the official school calendar export and either prints the
//! `[[calendar.school_holidays]]` entries of `ivr.toml`, or (`--write`) stores the periods
//! in the database, where the booking service adds them to the configured calendar.

use std::fs::File;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use ivr::booking::school_calendar::{import_school_calendar, to_toml};
use ivr::config::Config;
use ivr::store::Store;

/// Subcommands of `ivr calendar`.
#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Read the "fr-en-calendrier-scolaire" CSV export and print the zone's school holidays
    /// as `[[calendar.school_holidays]]` entries for ivr.toml, or store them in the
    /// database with --write
    Import {
        /// The CSV file (separator `;`)
        file: PathBuf,
        /// The zone, as in the file's "Zones" column (e.g. "Zone A")
        #[arg(long)]
        zone: String,
        /// Store the periods in the database (one transaction; periods already there are
        /// skipped) instead of printing them
        #[arg(long)]
        write: bool,
    },
}

/// Runs an `ivr calendar` subcommand.
pub fn run(config: &Config, command: CalendarCommand) -> anyhow::Result<()> {
    match command {
        CalendarCommand::Import { file, zone, write } => {
            let input = File::open(&file)
                .with_context(|| format!("impossible d'ouvrir {}", file.display()))?;
            let context = || {
                if write {
                    format!("{} : rien n'a été enregistré", file.display())
                } else {
                    file.display().to_string()
                }
            };
            // The whole file is read and checked before anything is written.
            let import =
                import_school_calendar(input, &zone, config.town.timezone).with_context(context)?;
            if write {
                let added = store_periods(config, &import.periods).with_context(context)?;
                println!(
                    "{added} période(s) de vacances ajoutée(s) pour la zone « {zone} », {} déjà \
                     présente(s).",
                    import.periods.len() - added
                );
            } else {
                print!(
                    "# {} ({zone}), importé par `ivr calendar import`\n\n",
                    file.display()
                );
                print!("{}", to_toml(&import.periods));
            }
            for row in &import.ignored {
                eprintln!(
                    "attention : {}, ligne {} ({}) : {}",
                    file.display(),
                    row.line,
                    row.description,
                    row.reason
                );
            }
            eprintln!(
                "{} périodes de vacances pour la zone « {zone} »",
                import.periods.len()
            );
            Ok(())
        }
    }
}

/// Stores the periods in the configured database in one transaction; how many were new.
fn store_periods(
    config: &Config,
    periods: &[ivr::booking::calendar::SchoolHoliday],
) -> anyhow::Result<usize> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::open(&config.server.database_url).await?;
        let service = config.booking_service(store.clone()).await?;
        let added = service.add_school_holidays(periods).await;
        if matches!(added, Ok(n) if n > 0) {
            // New holidays change which cells the usual weeks may book: book them now
            // rather than at the next night.
            #[allow(clippy::disallowed_methods)]
            let now = chrono::Utc::now();
            match ivr::service::usual_weeks::book_usual_weeks(
                &service,
                ivr::service::usual_weeks::RunTrigger::Holidays,
                now,
            )
            .await
            {
                Ok(run) => eprintln!(
                    "semaines types : {} inscription(s) ajoutée(s), {} jour(s) sauté(s)",
                    run.booked, run.skipped
                ),
                Err(e) => eprintln!(
                    "semaines types non réservées ({e}) : le serveur le refera cette nuit"
                ),
            }
        }
        store.close().await;
        Ok(added?)
    })
}
