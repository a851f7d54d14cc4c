//! The `ivr` command: serve the voice line and portal, run the demo, and operators' tools.
//! Subcommand bodies live in `src/cli/`; this file only parses, sets up logs and dispatches.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    if let Err(e) = cli::init_tracing() {
        eprintln!("erreur : {e:#}");
        return std::process::ExitCode::FAILURE;
    }
    match cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("erreur : {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
