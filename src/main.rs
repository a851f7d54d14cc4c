//! The `ivr` command: serve the voice line and portal, run the demo, and operators' tools.

mod cli;

use clap::{Parser, Subcommand};

/// Voice line and web portal for French towns' school services.
#[derive(Debug, Parser)]
#[command(name = "ivr", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve local stand-ins of SystemPay and PayFiP (tests and demos; no real payment)
    FakeProvider(cli::fake_provider::FakeProviderArgs),
}

fn main() -> anyhow::Result<()> {
    // Logs on stderr: stdout carries what scripts read (e.g. "listening on <addr>").
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::FakeProvider(args) => cli::fake_provider::run(&Default::default(), args),
    }
}
