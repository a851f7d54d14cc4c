//! The server half of `ivr demo`: a fresh SQLite file seeded with the demo town, the voice
//! line on SIP and the web portal, and how to use them.

use anyhow::Context;
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use std::net::SocketAddr;

use chrono::{DateTime, Datelike, Days, Months, Utc};
use ivr::booking::deadline::service_runs;
use ivr::booking::model::{ChildCode, ServiceCode};
use ivr::config::Config;
use ivr::invoice::generate::InvoiceMonth;
use ivr::invoice::tariff::TariffConfig;
use ivr::payment::standin::fake_provider::{self, FakeProviderConfig};
use ivr::service::booking::BookingService;
use ivr::service::demo;
use ivr::store::Store;

use super::serve::{self, ServeArgs};

/// `url` as it may be printed: without the password it may carry.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            // Only fails for URLs that cannot have a password, which this one has.
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(adresse de base illisible)".into(),
    }
}

/// Deletes the SQLite database `db` and its journal files, if there.
fn remove_sqlite(db: &std::path::Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("suppression de {}", file.display())),
        }
    }
    Ok(())
}

/// The staff number and PIN of the demo (public: printed at start).
const DEMO_STAFF_NUMBER: &str = "8000";
const DEMO_STAFF_PIN: &str = "1234";
/// The demo's staff account on the web (public: printed at start).
const DEMO_STAFF_USER: &str = "amelie";
const DEMO_STAFF_PASSWORD: &str = "mezcalito-demo";

/// Where the demo keeps its data.
#[derive(Debug)]
pub struct Place {
    /// The demo's one folder: its SQLite database (unless `database_url`) and recordings.
    pub dir: std::path::PathBuf,
    /// Start again: the folder's database is deleted first.
    pub fresh: bool,
    /// The database `--database-url` named, in place of the folder's SQLite file.
    pub database_url: Option<String>,
}

/// Runs the demo server until Ctrl-C on the database of `place`, seeded with the demo town
/// (seeding is idempotent, so a second start goes on with the first one's data), with the
/// server options of `serve_args`.
pub fn run(config: &Config, place: Place, serve_args: ServeArgs) -> anyhow::Result<()> {
    let clock = serve::clock(serve_args.now);
    let dir = place.dir;
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("création du dossier de la démonstration {}", dir.display()))?;
    let dir = std::fs::canonicalize(&dir)
        .with_context(|| format!("dossier de la démonstration {}", dir.display()))?;
    let (database_url, db) = match place.database_url {
        Some(url) => {
            let shown = without_password(&url);
            (url, shown)
        }
        None => {
            let db = dir.join("ivr.sqlite");
            if place.fresh {
                remove_sqlite(&db)?;
            }
            let shown = if db.exists() {
                format!("{} (reprise ; --fresh pour repartir de zéro)", db.display())
            } else {
                format!("{} (neuve)", db.display())
            };
            (format!("sqlite://{}", db.display()), shown)
        }
    };
    let mut config = config.clone();
    config.server.database_url = database_url;
    config.phone.data_dir = dir.clone();
    // Without SMTP, the invoice notices are written as files: in the demo's folder too.
    if config.mail.smtp_host.is_empty() {
        config.mail.folder = dir.join("mail");
    }
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
        let service = config.booking_service(store).await?;
        let s = demo::seed(
            &service,
            &config.town.name,
            &config.town.message,
            clock.now(),
        )
        .await?;
        // A second start finds the account of the first: the demo goes on with it.
        match ivr::service::staff_accounts::add(
            service.store(),
            DEMO_STAFF_USER,
            DEMO_STAFF_PASSWORD,
            clock.now(),
        )
        .await
        {
            Ok(()) | Err(ivr::service::staff_accounts::StaffError::Exists(_)) => {}
            Err(e) => return Err(e).context("compte de démonstration de la mairie"),
        }
        // The portal's address must be known before it starts: the payment stand-ins send
        // the parent back (and notify) there, and the portal offers payment only with it.
        let web_listener = tokio::net::TcpListener::bind(config.server.web_listen)
            .await
            .with_context(|| format!("écoute du portail web sur {}", config.server.web_listen))?;
        let web_addr = web_listener.local_addr()?;
        let (standin, _standin_task) = start_payment_standins(&mut config, web_addr).await?;
        let invoices = issue_last_month(&service, &mut config, clock.now()).await?;
        let town = config.town.name.clone();
        let sip_listen = config.server.sip_listen;
        serve::serve(&config, service, clock, &serve_args, Some(web_listener), |voice, web| {
            let sip = serve::callable(sip_listen, voice.sip().udp_addr());
            println!(
                "Démonstration « {town} » : {} famille(s), {} enfant(s) ajoutés, base {db}.",
                s.payers, s.children,
            );
            println!("  Données de la démonstration : {}", dir.display());
            println!();
            println!("Serveur vocal : sip:{sip} (UDP et TCP).");
            println!(
                "  Appelez n'importe quel numéro, par exemple avec un softphone : sip:mairie@{sip}"
            );
            println!(
                "  ou avec SIPp, un appel qui s'identifie et inscrit : sipp-scenarios/run.sh book \
                 --server {sip} --count 1"
            );
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
            println!("Portail web : http://{web}/ (mêmes codes).");
            println!(
                "  Pages de la mairie : http://{web}/mairie, compte « {DEMO_STAFF_USER} », mot de \
                 passe « {DEMO_STAFF_PASSWORD} »."
            );
            println!(
                "  Factures : {invoices} facture(s) du mois dernier à payer sur le portail \
                 (payeur 770021), par carte ou PayFiP."
            );
            println!(
                "Simulateurs de paiement (acceptent toute carte, rien n'est débité) : \
                 http://{standin}/"
            );
            println!("Ctrl-C arrête le serveur.");
        })
        .await
    })
}

/// Starts the SystemPay and PayFiP stand-ins on a free loopback port and points the demo's
/// configuration at them (and them at the portal on `web`): the portal then offers online
/// payment. Returns the stand-ins' address and their task (serving while it lives).
async fn start_payment_standins(
    config: &mut Config,
    web: SocketAddr,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let portal = format!("http://{web}");
    // The demo's own shop key, made now and given to both sides: there is no built-in key.
    let key = ivr::payment::standin::fresh_test_key();
    config.systempay.test_key = key.clone();
    let standin_config = FakeProviderConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        notification_url: Some(format!("{portal}/paiement/systempay/ipn")),
        systempay_test_key: key,
        ..FakeProviderConfig::default()
    };
    let (addr, task) = fake_provider::start(&standin_config)
        .await
        .context("démarrage des simulateurs de paiement")?;
    let standin = format!("http://{addr}");
    config.systempay.payment_url = format!("{standin}/vads-payment/");
    config.payfip.classic_url = format!("{standin}/tpa/paiement.web");
    config.payfip.ws_endpoint = format!("{standin}/tpa/services/securite");
    config.payfip.ws_payment_url = format!("{standin}/tpa/paiementws.web");
    config.fake_provider = standin_config;
    config.web.public_base_url = portal;
    Ok((addr, task))
}

/// What the printed demo family (child codes 3011 and 3012) had last month.
const LAST_MONTH_BOOKINGS: &[(&str, &[&str])] =
    &[("3011", &["REPAS", "SOIR"]), ("3012", &["REPAS"])];

/// Books last month's service days for the printed demo family (the seed only books this
/// week and the next) and issues last month's invoices, with demo tariffs when the
/// configuration has none. Returns how many invoices were created.
async fn issue_last_month(
    service: &BookingService,
    config: &mut Config,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    if config.invoice.tariffs.is_empty() {
        config.invoice.tariffs = demo_tariffs();
    }
    let today = now.with_timezone(&service.rules().timezone()).date_naive();
    let first = (today - Months::new(1))
        .with_day(1)
        .context("premier du mois")?;
    let month = InvoiceMonth::new(first.year(), first.month())?;
    let calendar = service
        .calendar(month.first_day(), month.last_day())
        .await?;
    let mut tx = service.store().begin().await?;
    for (child_code, services) in LAST_MONTH_BOOKINGS {
        let code = ChildCode::parse(child_code).context("code enfant de démonstration")?;
        let Some(child) = tx.child_id_by_code(&code).await? else {
            continue;
        };
        let mut date = month.first_day();
        while date <= month.last_day() {
            for svc_code in *services {
                let svc_code = ServiceCode::parse(svc_code).context("code de service")?;
                let Some(svc) = service.rules().service(&svc_code) else {
                    continue;
                };
                if service_runs(&calendar, svc, date).is_ok() {
                    tx.insert_booking(child, date, &svc_code, now).await?;
                }
            }
            date = date + Days::new(1);
        }
    }
    tx.commit().await?;
    let report =
        ivr::service::invoices::generate_month(service.store(), &config.invoice, month, today, now)
            .await
            .context("factures du mois dernier")?;
    Ok(report.created.len())
}

/// Tariffs for the demo's services (a town sets its own in `[invoice]`).
fn demo_tariffs() -> Vec<TariffConfig> {
    let flat = |service: &str, label: &str, cents: i64| TariffConfig {
        service: service.into(),
        label: label.into(),
        price_cents: Some(cents),
        brackets: Vec::new(),
    };
    vec![
        flat("REPAS", "Repas", 415),
        flat("MATIN", "Accueil du matin", 150),
        flat("MIDI", "Pause méridienne", 120),
        flat("SOIR", "Accueil du soir", 183),
    ]
}
