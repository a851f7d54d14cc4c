//! `ivr web`: serves the web portal alone (parents' and staff pages) on
//! `server.web_listen`, for a node that does not answer calls. `ivr serve` and `ivr demo`
//! start the same portal next to the voice line through [`serve_portal`], which builds the
//! portal's state from the configuration here, at the edge, with the e-mail worker beside it.

use std::sync::Arc;

use anyhow::Context;
use ivr::clock::{Clock, SystemClock};
use ivr::config::Config;
use ivr::service::booking::BookingService;
use ivr::store::Store;
use ivr::web::{AppState, Invoicing};
use tokio::net::TcpListener;

/// Opens the database (migrating it) and serves the portal until stopped.
pub fn run(config: &Config) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::open(&config.server.database_url).await?;
        let service = config.booking_service(store).await?;
        let listener = tokio::net::TcpListener::bind(config.server.web_listen)
            .await
            .with_context(|| format!("écoute du portail sur {}", config.server.web_listen))?;
        println!("Portail famille sur http://{}/", listener.local_addr()?);
        serve_portal(listener, config, service, Arc::new(SystemClock)).await?;
        Ok(())
    })
}

/// Serves the portal on `listener` with the settings of `config` and `clock`: what
/// `ivr web`, `ivr serve` and `ivr demo` run for the web part (the latter two next to the
/// voice line, sharing its booking service and clock).
pub async fn serve_portal(
    listener: TcpListener,
    config: &Config,
    service: BookingService,
    clock: Arc<dyn Clock>,
) -> std::io::Result<()> {
    tracing::info!(address = %listener.local_addr()?, "web portal listening");
    let systempay = match ivr::payment::systempay::SystemPay::from_config(&config.systempay) {
        Ok(shop) => Some(shop),
        Err(ivr::payment::PaymentError::NoKeyForMode(mode)) => {
            tracing::warn!(
                mode,
                "SystemPay: no key for the shop's mode in [systempay] (test_key or \
                 production_key): card payment is not offered"
            );
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "SystemPay settings unusable: card payment is not offered");
            None
        }
    };
    let state = AppState::new(
        service,
        config.town.name.clone(),
        config.web.clone(),
        clock.clone(),
    )
    .with_invoicing(Invoicing {
        invoice: config.invoice.clone(),
        systempay,
        payfip: Some(config.payfip.clone()),
    });
    let state = match voice_manifest(config) {
        Ok(manifest) => state.with_voice(manifest),
        Err(e) => {
            tracing::warn!(error = %e, "prompt manifest unreadable: the town's voice page is not offered");
            state
        }
    };
    // The e-mail outbox worker runs beside the portal (on every node: a notice is claimed
    // before it is sent, so two nodes never send the same one), and stops with it.
    let worker = match ivr::mail::Mailer::from_config(&config.mail) {
        Ok(mailer) => Some(AbortOnDrop(tokio::spawn(ivr::mail::outbox::run(
            state.store().clone(),
            mailer,
            ivr::mail::outbox::OutboxSettings {
                service_labels: state
                    .services()
                    .into_iter()
                    .map(|(code, label)| (code.to_string(), label))
                    .collect(),
                portal_url: config.web.public_base_url.clone(),
                town_name: config.town.name.clone(),
                retry_after: chrono::Duration::minutes(15),
                batch: 100,
            },
            std::time::Duration::from_secs(60),
        )))),
        Err(e) => {
            tracing::warn!(error = %e, "mail settings unusable: e-mails to families not sent");
            None
        }
    };
    // The usual weeks' job runs beside the portal too (every node: the booking service
    // books a cell once however many passes run), and stops with it.
    let usual_weeks = AbortOnDrop(tokio::spawn(super::usual_weeks::nightly(
        state.service().clone(),
        clock.clone(),
    )));
    let res = ivr::web::serve(listener, state).await;
    drop(usual_weeks);
    drop(worker);
    res
}

/// The voice line's prompt manifest as the line reads it (`[dialplan] prompts_dir`, or the
/// built-in copy when that shipped folder is absent here), for the staff's voice page: a
/// portal without a voice line beside it (`ivr web`) lists the same prompts.
fn voice_manifest(config: &Config) -> anyhow::Result<ivr::dialplan::PromptManifest> {
    let folder = &config.dialplan.prompts_dir;
    let source =
        ivr::dialplan::builtin::resolve(folder, &config.phone.data_dir).with_context(|| {
            format!(
                "copie intégrée pour [dialplan] prompts_dir dans {}",
                config.phone.data_dir.display()
            )
        })?;
    Ok(ivr::dialplan::PromptManifest::load(source.path())?)
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
