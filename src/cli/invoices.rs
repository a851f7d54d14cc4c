//! `ivr invoices generate --month YYYY-MM`: makes the month's invoices from its bookings and
//! the `[invoice]` tariffs, in one transaction; running it again creates nothing new.

use anyhow::Context;
use clap::{Args, Subcommand};
use ivr::config::Config;
use ivr::invoice::generate::InvoiceMonth;
use ivr::service::invoices::generate_month;
use ivr::store::Store;

/// `ivr invoices …`
#[derive(Debug, Subcommand)]
pub enum InvoicesCommand {
    /// Make the month's invoices (one per payer, numbered without gaps) and queue the
    /// e-mail notices of payers who opted in
    Generate(GenerateArgs),
}

/// Arguments of `ivr invoices generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The month invoiced, YYYY-MM
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    month: InvoiceMonth,
}

fn parse_month(text: &str) -> Result<InvoiceMonth, String> {
    InvoiceMonth::parse(text).map_err(|e| e.to_string())
}

/// Runs `ivr invoices …`.
pub fn run(config: &Config, command: InvoicesCommand) -> anyhow::Result<()> {
    match command {
        InvoicesCommand::Generate(args) => {
            let tz = config.rules()?.timezone();
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let store = Store::open(&config.server.database_url).await?;
                // The edge reads the clock once: the issue date (town time) and the rows'
                // creation instant.
                #[allow(clippy::disallowed_methods)]
                let now = chrono::Utc::now();
                let today = now.with_timezone(&tz).date_naive();
                let res = generate_month(&store, &config.invoice, args.month, today, now).await;
                store.close().await;
                let report = res.with_context(|| format!("factures de {}", args.month))?;
                println!(
                    "Factures de {} : {} créée(s), {} déjà existante(s), {} avis par e-mail en attente.",
                    args.month.label_fr(),
                    report.created.len(),
                    report.already_invoiced,
                    report.notices_queued
                );
                if let (Some(first), Some(last)) = (report.created.first(), report.created.last())
                {
                    println!("Numéros : {first} à {last}");
                }
                Ok(())
            })
        }
    }
}
