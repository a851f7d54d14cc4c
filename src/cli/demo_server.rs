//! The server half of `ivr demo`: a fresh SQLite file seeded with the demo town, the voice
//! line on SIP (and the web portal once merged), and how to call it.

use anyhow::Context;
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use ivr::booking::demo;
use ivr::booking::service::BookingService;
use ivr::config::Config;
use ivr::store::Store;

use super::demo::DemoArgs;
use super::serve;

/// The staff number and PIN of the demo (public: printed at start).
const DEMO_STAFF_NUMBER: &str = "8000";
const DEMO_STAFF_PIN: &str = "1234";

/// Runs the demo server until Ctrl-C.
pub fn run(config: &Config, args: DemoArgs) -> anyhow::Result<()> {
    let clock = serve::clock(args.serve.now);
    let dir = match args.data_dir {
        Some(d) => d,
        None => format!("data/demo-{}", clock.now().format("%Y%m%d-%H%M%S")).into(),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("création du dossier {}", dir.display()))?;
    let db = dir.join("ivr.sqlite");
    if db.exists() {
        anyhow::bail!(
            "{} existe déjà : la démonstration part d'une base neuve, choisissez un autre \
             --data-dir",
            db.display()
        );
    }
    let mut config = config.clone();
    config.server.database_url = format!("sqlite://{}", db.display());
    config.phone.data_dir = dir.clone();
    let demo_pin = config.phone.staff_pin_hash.is_none() && config.phone.staff_number.is_none();
    if demo_pin {
        let salt = SaltString::generate(&mut OsRng);
        let hash = argon2::Argon2::default()
            .hash_password(DEMO_STAFF_PIN.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("empreinte du code personnel : {e}"))?;
        config.phone.staff_number = Some(DEMO_STAFF_NUMBER.into());
        config.phone.staff_pin_hash = Some(hash.to_string());
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::open(&config.server.database_url).await?;
        let service = BookingService::from_config(store, &config).await?;
        let s = demo::seed(
            &service,
            &config.town.name,
            &config.town.message,
            clock.now(),
        )
        .await?;
        let town = config.town.name.clone();
        serve::serve(&config, service, clock, &args.serve, |voice| {
            let sip = voice.sip().udp_addr();
            println!(
                "Démonstration « {town} » : {} famille(s), {} enfant(s), base {}.",
                s.payers,
                s.children,
                db.display()
            );
            println!();
            println!("Serveur vocal : sip:{sip} (UDP et TCP).");
            println!(
                "  Appelez n'importe quel numéro, par exemple avec un softphone : sip:mairie@{sip}"
            );
            println!("  ou avec SIPp : sipp-scenarios/run-book.sh {sip}");
            println!(
                "  Codes : enfant 3011 (Angéline) ou 3012 (Théo), puis #, payeur 770021, puis #."
            );
            println!(
                "  Menu : 1 inscrire, 2 annuler, 3 la semaine, 4 un autre enfant, * réécouter."
            );
            if demo_pin {
                println!(
                    "  Annonce de la mairie : appelez le {DEMO_STAFF_NUMBER}, code personnel \
                     {DEMO_STAFF_PIN} puis #."
                );
            }
            println!();
            println!(
                "Portail web : pas encore intégré dans cette version (adresse prévue http://{}).",
                config.server.web_listen
            );
            println!("Ctrl-C arrête le serveur.");
        })
        .await
    })
}
