//! Command-line parsing, shared set-up (configuration, logs) and dispatch to subcommands.

mod calendar;
pub mod check;
mod deadline;
#[cfg(feature = "devtools")]
mod demo;
#[cfg(feature = "devtools")]
mod demo_server;
#[cfg(feature = "devtools")]
mod fake_provider;
mod import;
mod invoices;
#[cfg(feature = "devtools")]
mod load;
mod migrate;
mod phone;
mod serve;
mod staff;
mod usual_weeks;
mod web;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use ivr::config::{Config, ServerFlags};
use tracing_subscriber::EnvFilter;

/// The `ivr` command line.
#[derive(Debug, Parser)]
#[command(
    name = "ivr",
    version,
    about = "Serveur vocal et portail famille des services scolaires (cantine, accueil)"
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Flags every subcommand understands; they win over the configuration file.
#[derive(Debug, Args)]
struct GlobalArgs {
    /// Configuration file [default: ./ivr.toml when it exists, else the built-in defaults]
    #[arg(long, global = true, value_name = "FILE", env = "IVR_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL (sqlite://… or postgres://…), over `server.database_url`
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Web portal address, over `server.web_listen`
    #[arg(long, global = true, value_name = "ADDR:PORT")]
    web_listen: Option<SocketAddr>,
    /// SIP address, over `server.sip_listen`
    #[arg(long, global = true, value_name = "ADDR:PORT")]
    sip_listen: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the voice line (SIP over UDP and TCP, RTP) until Ctrl-C or SIGTERM
    Serve(serve::ServeArgs),
    /// Show a day's deadline for a service, and whether booking and cancelling are open
    Deadline(deadline::DeadlineArgs),
    /// School calendar tools
    #[command(subcommand)]
    Calendar(calendar::CalendarCommand),
    /// Check the prompts (missing or unreadable WAV files) and the dialplans; exits with
    /// status 1 when anything is wrong
    Check(check::CheckArgs),
    /// Apply the database migrations (start-up does it too)
    Migrate,
    /// Demo town "Mezcalito": the whole server on a fresh database (`--seed-only`: only
    /// fill the configured database)
    #[cfg(feature = "devtools")]
    Demo(demo::DemoArgs),
    /// Import payers and children from a CSV file (all or nothing)
    Import(import::ImportArgs),
    /// Voice line tools (staff PIN hash, a child's history)
    #[command(subcommand)]
    Phone(phone::PhoneCommand),
    /// Serve local stand-ins of SystemPay and PayFiP (tests and demos; no real payment)
    #[cfg(feature = "devtools")]
    FakeProvider(fake_provider::FakeProviderArgs),
    /// Invoices: make a month's invoices from its bookings
    #[command(subcommand)]
    Invoices(invoices::InvoicesCommand),
    /// Town-hall staff accounts for the web's staff pages
    #[command(subcommand)]
    Staff(staff::StaffCommand),
    /// Serve the web portal alone (parents' and staff pages) on server.web_listen
    Web,
    /// Load caller: place many calls at once against a running server (each typing its own
    /// codes by RFC 4733) and print how they went; exits with status 1 when a call failed
    #[cfg(feature = "devtools")]
    Load(load::LoadArgs),
}

/// The default log filter: rsipstack logs every SIP message, callers' numbers included, at
/// INFO (DESIGN.md field notes), so it is kept to warnings.
const DEFAULT_LOG_FILTER: &str = "info,rsipstack=warn";

/// Logs to standard error, filtered by `RUST_LOG` or [`DEFAULT_LOG_FILTER`]. A `RUST_LOG`
/// that does not parse is an error, not a silent fallback.
pub fn init_tracing() -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(&spec).with_context(|| format!("RUST_LOG invalide « {spec} »"))?
        }
        _ => EnvFilter::new(DEFAULT_LOG_FILTER),
    };
    // Colour codes only for a person at a terminal, never in a file or a journal.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    Ok(())
}

/// Runs the subcommand.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(&load_config(&cli.global)?, args),
        Command::Phone(command) => phone::run(&load_config(&cli.global)?, command),
        Command::Deadline(args) => deadline::run(&load_config(&cli.global)?, args),
        Command::Calendar(command) => calendar::run(&load_config(&cli.global)?, command),
        Command::Check(args) => {
            if check::run(&load_config(&cli.global)?, &args)? {
                Ok(())
            } else {
                anyhow::bail!("la vérification a trouvé des problèmes")
            }
        }
        Command::Migrate => migrate::run(&load_config(&cli.global)?),
        #[cfg(feature = "devtools")]
        Command::Demo(args) => demo::run(
            &load_config(&cli.global)?,
            cli.global.database_url.as_deref(),
            args,
        ),
        Command::Import(args) => import::run(&load_config(&cli.global)?, args),
        #[cfg(feature = "devtools")]
        Command::FakeProvider(args) => fake_provider::run(&load_config(&cli.global)?, args),
        Command::Invoices(command) => invoices::run(&load_config(&cli.global)?, command),
        Command::Staff(command) => staff::run(&load_config(&cli.global)?, command),
        Command::Web => web::run(&load_config(&cli.global)?),
        #[cfg(feature = "devtools")]
        Command::Load(args) => {
            if load::run(args)? {
                Ok(())
            } else {
                anyhow::bail!("des appels ont échoué")
            }
        }
    }
}

/// The configuration: `--config FILE` (which must exist), else `./ivr.toml` when present,
/// else the defaults; then the flags on top.
fn load_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    let default_path = Path::new("ivr.toml");
    let mut config = match &global.config {
        Some(path) => Config::load(path)?,
        None if default_path.exists() => Config::load(default_path)?,
        None => {
            tracing::debug!("pas de fichier ivr.toml : configuration par défaut");
            Config::default()
        }
    };
    config.apply_flags(ServerFlags {
        database_url: global.database_url.clone(),
        web_listen: global.web_listen,
        sip_listen: global.sip_listen,
    })?;
    Ok(config)
}
