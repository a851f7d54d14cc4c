//! `ivr calendar import`: turns the official school calendar export into the
//! `[[calendar.school_holidays]]` entries of `ivr.toml`.

use std::fs::File;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use ivr::booking::school_calendar::{import_school_calendar, to_toml};
use ivr::config::Config;

/// Subcommands of `ivr calendar`.
#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Read the "fr-en-calendrier-scolaire" CSV export and print the zone's school holidays
    /// as `[[calendar.school_holidays]]` entries for ivr.toml
    Import {
        /// The CSV file (separator `;`)
        file: PathBuf,
        /// The zone, as in the file's "Zones" column (e.g. "Zone A")
        #[arg(long)]
        zone: String,
    },
}

/// Runs an `ivr calendar` subcommand.
pub fn run(config: &Config, command: CalendarCommand) -> anyhow::Result<()> {
    match command {
        CalendarCommand::Import { file, zone } => {
            let input = File::open(&file)
                .with_context(|| format!("impossible d'ouvrir {}", file.display()))?;
            let import = import_school_calendar(input, &zone, config.town.timezone)
                .with_context(|| format!("{}", file.display()))?;
            print!(
                "# {} ({zone}), importé par `ivr calendar import`\n\n",
                file.display()
            );
            print!("{}", to_toml(&import.periods));
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
