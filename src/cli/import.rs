//! `ivr import families.csv`: payers and children of a real town; the columns are
//! documented in [`ivr::service::import`]. All or nothing.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use ivr::config::Config;
use ivr::service::import::import_families;
use ivr::store::Store;

/// Arguments of `ivr import`.
#[derive(Debug, Args)]
#[command(after_help = "Colonnes (en-tête obligatoire, séparateur ; ou ,) : \
payer_code;payer_name;email;child_code;first_name;last_name;school;class;teacher")]
pub struct ImportArgs {
    /// The CSV file, one child per line
    #[arg(value_name = "FAMILIES.CSV")]
    file: PathBuf,
}

/// Imports the file in one transaction.
pub fn run(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("impossible d'ouvrir {}", args.file.display()))?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::open(&config.server.database_url).await?;
        let result = import_families(&store, std::io::BufReader::new(file)).await;
        store.close().await;
        let summary =
            result.with_context(|| format!("{} : rien n'a été importé", args.file.display()))?;
        println!(
            "{} payeur(s) et {} enfant(s) importés.",
            summary.payers, summary.children
        );
        Ok(())
    })
}
