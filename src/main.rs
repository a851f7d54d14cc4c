//! The `ivr` command: serve the voice line and portal, run the demo, and operators' tools.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

/// Voice line and web portal for French towns' school services.
#[derive(Debug, Parser)]
#[command(name = "ivr", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the prompts (missing or unreadable WAV files) and the dialplans; exits with
    /// status 1 when anything is wrong.
    Check(cli::check::CheckArgs),
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => Ok(if cli::check::run(&args) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }),
    }
}
