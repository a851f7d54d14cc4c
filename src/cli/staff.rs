//! `ivr staff add USER`: creates a town-hall staff account for the web's staff pages.
//! The password is read without echo from the terminal (asked twice), or as the first
//! line of standard input when it is not a terminal (scripts); never from the command
//! line, where it would show in the shell history and the process list.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use ivr::config::Config;
use ivr::service::staff_accounts;
use ivr::store::Store;

/// `ivr staff …`
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account (password asked, or read from standard input)
    Add(AddArgs),
}

/// Arguments of `ivr staff add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// User name: 1 to 64 letters, digits, '.', '_' or '-'
    pub user: String,
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let first =
            rpassword::prompt_password("Mot de passe : ").context("lecture du mot de passe")?;
        let again = rpassword::prompt_password("Confirmez le mot de passe : ")
            .context("lecture du mot de passe")?;
        if first != again {
            bail!("les deux mots de passe diffèrent");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("lecture du mot de passe sur l'entrée standard")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// Runs `ivr staff …`.
pub fn run(config: &Config, command: StaffCommand) -> anyhow::Result<()> {
    match command {
        StaffCommand::Add(args) => {
            if !staff_accounts::valid_user(&args.user) {
                bail!("{}", staff_accounts::StaffError::BadUser);
            }
            let password = read_password()?;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let store = Store::open(&config.server.database_url).await?;
                // The edge reads the clock once, for the account's creation date.
                #[allow(clippy::disallowed_methods)]
                let now = chrono::Utc::now();
                let res = staff_accounts::add(&store, &args.user, &password, now).await;
                store.close().await;
                res?;
                println!("Compte « {} » créé.", args.user);
                Ok(())
            })
        }
    }
}
