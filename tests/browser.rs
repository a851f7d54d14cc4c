//! The portal in a real browser: headless Chromium driven through chromedriver (WebDriver)
//! against the server on 127.0.0.1:0 with the demo families, as a parent would use it:
//! log in with the demo codes, tick two cells, validate, read the recap, open the last
//! changes, switch to the other child, log out. Screenshots of the planning (phone and
//! desktop widths) are saved under the target directory.
//!
//! Needs Debian's `chromium` and `chromium-driver` (CI installs them). When they are
//! missing the test FAILS with a sentence saying so; set `IVR_SKIP_BROWSER_TEST=1` to skip
//! it knowingly on a machine without them.

mod web_support;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use ivr::booking::model::{ChildCode, PayerCode};
use ivr::clock::ManualClock;
use ivr::store::testing::TestDb;
use ivr::web::{AppState, WebConfig};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use web_support::Portal;

fn d(m: u32, day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

/// The default services' labels, as the recap writes them.
fn config_labels(code: &str) -> String {
    ivr::booking::rules::Rules::default()
        .services()
        .iter()
        .find(|s| s.code.as_str() == code)
        .map(|s| s.label.clone())
        .unwrap_or_else(|| panic!("unknown service {code}"))
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Every browser step is bounded.
const STEP: Duration = Duration::from_secs(30);

/// Starts chromedriver on a free port and waits for its "started successfully" line.
async fn start_chromedriver() -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
    let stdout = child.stdout.take().expect("chromedriver stdout");
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(STEP, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("started successfully") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ready, Ok(true), "chromedriver did not start");
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, port)
}

fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    std::fs::create_dir_all(&dir).expect("target directory");
    dir
}

/// Clicks what `target` finds, then waits until the browser has left the page it was on and
/// is at `base` + `path` (a click returns before the navigation it starts has finished, and
/// a form may post back to its own address, where the address alone proves nothing).
async fn click_to(
    client: &fantoccini::Client,
    what: &str,
    target: Locator<'_>,
    base: &str,
    path: &str,
) {
    let page = step(what, client.find(Locator::Css("html"))).await;
    step(what, async { client.find(target).await?.click().await }).await;
    step(&format!("{what}: leave the page"), async {
        // The old page's root goes stale once the new page has replaced it.
        while page.tag_name().await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok::<_, std::convert::Infallible>(())
    })
    .await;
    let url = url::Url::parse(&format!("{base}{path}")).expect("url");
    step(
        &format!("{what}: arrive at {path}"),
        client.wait().at_most(STEP).for_url(&url),
    )
    .await;
}

/// chromedriver and a headless Chromium with a fresh profile; keep the first two alive.
async fn start_browser() -> (Child, tempfile::TempDir, fantoccini::Client) {
    if std::env::var_os("IVR_SKIP_BROWSER_TEST").is_none() {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(bin).exists(),
                "{bin} is missing: install Debian's chromium and chromium-driver (or set IVR_SKIP_BROWSER_TEST=1 to skip knowingly)"
            );
        }
    }
    let (driver, port) = start_chromedriver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--lang=fr-FR",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let client = step(
        "connect to chromedriver",
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}")),
    )
    .await;

    (driver, profile, client)
}

async fn step<T, E: std::fmt::Debug>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> T {
    match tokio::time::timeout(STEP, f).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("browser step « {what} » failed: {e:?}"),
        Err(_) => panic!("browser step « {what} » timed out"),
    }
}

#[tokio::test]
async fn a_parent_books_two_cells_reads_the_recap_and_the_history_switches_child_and_logs_out() {
    if std::env::var_os("IVR_SKIP_BROWSER_TEST").is_some() {
        eprintln!("browser test skipped: IVR_SKIP_BROWSER_TEST is set");
        return;
    }
    // The portal on an ephemeral port with the demo (`ivr demo`'s seed: families, bookings,
    // the Ascension bridge), the clock on Wednesday 6 May 2026 09:00.
    let db = TestDb::sqlite().await.expect("test database");
    let config = ivr::config::Config::default();
    let service = config
        .booking_service(db.store.clone())
        .await
        .expect("service");
    let now = web_support::default_now();
    ivr::service::demo::seed(&service, &config.town.name, &config.town.message, now)
        .await
        .expect("demo seed");
    let state = AppState::new(
        service,
        config.town.name.clone(),
        WebConfig::default(),
        Arc::new(ManualClock::new(now)),
    );
    let angeline = db
        .store
        .find_login(
            &ChildCode::parse("3011").unwrap(),
            &PayerCode::parse("770021").unwrap(),
        )
        .await
        .expect("login lookup")
        .expect("demo child 3011")
        .1;
    let before = db
        .store
        .bookings_between(angeline, d(5, 1), d(6, 30))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(ivr::web::serve(listener, state.clone()));

    let (_driver, _profile, client) = start_browser().await;

    // Phone-sized window first.
    step("window size", client.set_window_size(390, 1400)).await;

    // 1. Log in with the demo codes.
    step("open login", client.goto(&format!("{base}/"))).await;
    let login_text = step("login text", async {
        client.find(Locator::Css("main")).await?.text().await
    })
    .await;
    assert!(
        login_text.contains("Message de votre mairie") || login_text.contains("Code enfant"),
        "{login_text}"
    );
    step("child code", async {
        client
            .find(Locator::Id("child_code"))
            .await?
            .send_keys("3011")
            .await
    })
    .await;
    step("payer code", async {
        client
            .find(Locator::Id("payer_code"))
            .await?
            .send_keys("770021")
            .await
    })
    .await;
    click_to(
        &client,
        "submit login",
        Locator::Css("form[action='/connexion'] button"),
        &base,
        "/planning",
    )
    .await;
    let url = step("planning url", client.current_url()).await;
    assert_eq!(url.path(), "/planning");
    assert!(
        !url.as_str().contains("3011") && !url.as_str().contains("770021"),
        "codes in URL: {url}"
    );
    let text = step("planning text", async {
        client.find(Locator::Css("main")).await?.text().await
    })
    .await;
    assert!(text.contains("Angéline MARSONE"), "{text}");
    assert!(text.contains("CE1 - Mme Formatrice"));

    // 2. Tick the first two open cells that are not booked yet.
    let free = step(
        "free cells",
        client.find_all(Locator::Css(
            "input[name=want]:not(:checked):not([disabled])",
        )),
    )
    .await;
    assert!(free.len() >= 2, "fewer than two open free cells");
    let mut expected = Vec::new();
    let mut ids = Vec::new();
    for cell in &free[..2] {
        let key = step("cell key", cell.attr("value"))
            .await
            .expect("cell value");
        let (date, code) = key.split_once('.').expect("date.SERVICE");
        let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date");
        let label = config_labels(code);
        expected.push(format!("inscription, {}, {label}", date.format("%d/%m/%Y")));
        ids.push(step("cell id", cell.attr("id")).await.expect("cell id"));
        step("tick", cell.click()).await;
        assert!(
            step("cell ticked", cell.is_selected()).await,
            "{key} not ticked"
        );
    }
    // Cells past their deadline are disabled in the browser, with their deadline in text.
    let locked = step(
        "locked cells",
        client.find_all(Locator::Css(
            "input[name=want][disabled], td.locked input[disabled]",
        )),
    )
    .await;
    assert!(!locked.is_empty(), "no locked cell on the current week");
    let locked_text = step("locked text", async {
        client
            .find(Locator::Css("td.locked .lock"))
            .await?
            .text()
            .await
    })
    .await;
    assert!(locked_text.contains("clos"), "{locked_text}");

    // 3. Validate and read the recap.
    click_to(
        &client,
        "validate",
        Locator::Css("form[action='/planning'] button[type=submit]"),
        &base,
        "/planning?du=2026-05-04",
    )
    .await;
    let recap = step("recap", async {
        client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Id("recap"))
            .await?
            .find(Locator::XPath(".."))
            .await?
            .text()
            .await
    })
    .await;
    assert!(recap.contains("Modifications enregistrées"), "{recap}");
    for line in &expected {
        assert!(recap.contains(line.as_str()), "{line} missing from {recap}");
    }
    let booked_class = step("booked cell", async {
        client
            .find(Locator::Id(&ids[0]))
            .await?
            .find(Locator::XPath(".."))
            .await?
            .attr("class")
            .await
    })
    .await;
    assert_eq!(
        booked_class.as_deref(),
        Some("booked"),
        "booked cell is green"
    );

    // Screenshots of the planning, phone and desktop widths.
    let dir = screenshot_dir();
    let png = step("phone screenshot", client.screenshot()).await;
    std::fs::write(dir.join("browser-planning-phone.png"), &png).expect("write screenshot");
    step("desktop size", client.set_window_size(1280, 1100)).await;
    let png = step("desktop screenshot", client.screenshot()).await;
    std::fs::write(dir.join("browser-planning-desktop.png"), &png).expect("write screenshot");
    eprintln!("screenshots in {}", dir.display());

    // The database has exactly the two bookings.
    let after = db
        .store
        .bookings_between(angeline, d(5, 1), d(6, 30))
        .await
        .unwrap();
    assert_eq!(after.len(), before.len() + 2, "{after:?}");

    // 4. The last changes.
    click_to(
        &client,
        "history link",
        Locator::LinkText("Voir les dernières modifications"),
        &base,
        "/historique",
    )
    .await;
    let hist = step("history", async {
        client.find(Locator::Css("ul.history")).await?.text().await
    })
    .await;
    for line in &expected {
        assert!(
            hist.contains(&format!("{line} – par internet")),
            "{line} missing from {hist}"
        );
    }
    let first_class = step("history class", async {
        client
            .find(Locator::Css("ul.history li"))
            .await?
            .attr("class")
            .await
    })
    .await;
    assert_eq!(first_class.as_deref(), Some("book"));

    // 5. The other child.
    click_to(
        &client,
        "back to planning",
        Locator::LinkText("← Retour au planning"),
        &base,
        "/planning",
    )
    .await;
    click_to(
        &client,
        "other child link",
        Locator::LinkText("Choisir un autre enfant"),
        &base,
        "/enfants",
    )
    .await;
    click_to(
        &client,
        "pick Théo",
        Locator::XPath("//button[normalize-space()='Théo MARSONE']"),
        &base,
        "/planning",
    )
    .await;
    let text = step("Théo's planning", async {
        client
            .find(Locator::Css(".child .name"))
            .await?
            .text()
            .await
    })
    .await;
    assert_eq!(text, "Théo MARSONE");
    let card = step("Théo's class", async {
        client.find(Locator::Css(".child")).await?.text().await
    })
    .await;
    assert!(card.contains("CM2 - M. Lambert"), "{card}");

    // 6. Log out.
    click_to(
        &client,
        "logout",
        Locator::Css("header form button"),
        &base,
        "/",
    )
    .await;
    step(
        "login form again",
        client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Id("child_code")),
    )
    .await;
    let url = step("after logout", client.current_url()).await;
    assert_eq!(url.path(), "/");
    step("planning closed", client.goto(&format!("{base}/planning"))).await;
    let src = step("source", client.source()).await;
    assert_eq!(
        step("redirected", client.current_url()).await.path(),
        "/",
        "{src}"
    );

    step("close browser", client.close()).await;
    server.abort();
    db.store.close().await;
}

#[tokio::test]
async fn staff_log_in_publish_the_message_and_see_their_pages() {
    if std::env::var_os("IVR_SKIP_BROWSER_TEST").is_some() {
        eprintln!("browser test skipped: IVR_SKIP_BROWSER_TEST is set");
        return;
    }
    let portal = Portal::new().await;
    ivr::service::staff_accounts::add(
        &portal.db.store,
        "amelie",
        "mot de passe solide",
        portal.state.now(),
    )
    .await
    .expect("staff account");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(ivr::web::serve(listener, portal.state.clone()));
    let (_driver, _profile, client) = start_browser().await;
    step("window size", client.set_window_size(1280, 1100)).await;

    step(
        "open staff login",
        client.goto(&format!("{base}/mairie/connexion")),
    )
    .await;
    step("user", async {
        client
            .find(Locator::Id("user"))
            .await?
            .send_keys("amelie")
            .await
    })
    .await;
    step("password", async {
        client
            .find(Locator::Id("password"))
            .await?
            .send_keys("mot de passe solide")
            .await
    })
    .await;
    click_to(
        &client,
        "staff login",
        Locator::Css("form[action='/mairie/connexion'] button"),
        &base,
        "/mairie/message",
    )
    .await;
    step("message", async {
        client
            .find(Locator::Id("message"))
            .await?
            .send_keys("Cantine fermée <b>vendredi</b>.")
            .await
    })
    .await;
    click_to(
        &client,
        "save message",
        Locator::Css("form[action='/mairie/message'] button"),
        &base,
        "/mairie/message",
    )
    .await;
    let notice = step("notice", async {
        client.find(Locator::Css("p.notice")).await?.text().await
    })
    .await;
    assert_eq!(notice, "Message enregistré.");
    assert_eq!(
        portal
            .state
            .service()
            .town_message()
            .await
            .unwrap()
            .as_deref(),
        Some("Cantine fermée <b>vendredi</b>.")
    );
    click_to(
        &client,
        "deadlines tab",
        Locator::LinkText("Délais et fermetures"),
        &base,
        "/mairie/delais",
    )
    .await;
    let png = step("deadlines screenshot", client.screenshot()).await;
    std::fs::write(screenshot_dir().join("browser-staff-deadlines.png"), &png)
        .expect("write screenshot");
    click_to(
        &client,
        "announcement tab",
        Locator::LinkText("Annonce vocale"),
        &base,
        "/mairie/annonce",
    )
    .await;
    click_to(
        &client,
        "logout",
        Locator::Css("header form button"),
        &base,
        "/",
    )
    .await;
    // The message shows on the parents' login page, as text.
    let shown = step("login message", async {
        client.find(Locator::Css("div.message")).await?.text().await
    })
    .await;
    assert_eq!(shown, "Cantine fermée <b>vendredi</b>.");
    step("close browser", client.close()).await;
    server.abort();
}
