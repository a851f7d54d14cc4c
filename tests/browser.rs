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
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use web_support::Portal;

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

async fn step<T, E: std::fmt::Debug>(what: &str, f: impl std::future::Future<Output = Result<T, E>>) -> T {
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
    for bin in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: install Debian's chromium and chromium-driver (or set IVR_SKIP_BROWSER_TEST=1 to skip knowingly)"
        );
    }

    // The portal on an ephemeral port, demo families, clock on Wednesday 6 May 2026 09:00.
    let portal = Portal::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(ivr::web::serve(listener, portal.state.clone()));

    let (_driver, port) = start_chromedriver().await;
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

    // Phone-sized window first.
    step("window size", client.set_window_size(390, 1400)).await;

    // 1. Log in with the demo codes.
    step("open login", client.goto(&format!("{base}/"))).await;
    let login_text = step("login text", async { client.find(Locator::Css("main")).await?.text().await }).await;
    assert!(login_text.contains("Message de votre mairie") || login_text.contains("Code enfant"), "{login_text}");
    step("child code", async { client.find(Locator::Id("child_code")).await?.send_keys("3011").await }).await;
    step("payer code", async { client.find(Locator::Id("payer_code")).await?.send_keys("770021").await }).await;
    step("submit login", async { client.find(Locator::Css("form[action='/connexion'] button")).await?.click().await }).await;
    let url = step("planning url", client.current_url()).await;
    assert_eq!(url.path(), "/planning");
    assert!(!url.as_str().contains("3011") && !url.as_str().contains("770021"), "codes in URL: {url}");
    let text = step("planning text", async { client.find(Locator::Css("main")).await?.text().await }).await;
    assert!(text.contains("Angéline MARSONE"), "{text}");
    assert!(text.contains("CE1 - Mme Formatrice"));

    // 2. Tick two open cells: Thursday 7 May's meal, Monday 11 May's morning care.
    for id in ["c-2026-05-07-REPAS", "c-2026-05-11-MATIN"] {
        let boxed = step("find cell", client.find(Locator::Id(id))).await;
        assert!(!step("cell state", boxed.is_selected()).await, "{id} already ticked");
        step("tick", boxed.click()).await;
        assert!(step("cell ticked", boxed.is_selected()).await, "{id} not ticked");
    }
    // A locked cell is disabled in the browser.
    let locked = step("locked cell", client.find(Locator::Id("c-2026-05-05-REPAS"))).await;
    assert_eq!(step("disabled", locked.attr("disabled")).await.as_deref(), Some("true"));

    // 3. Validate and read the recap.
    step("validate", async {
        client.find(Locator::Css("form[action='/planning'] button[type=submit]")).await?.click().await
    })
    .await;
    let recap = step("recap", async { client.wait().at_most(STEP).for_element(Locator::Id("recap")).await?.find(Locator::XPath("..")).await?.text().await }).await;
    assert!(recap.contains("Modifications enregistrées"), "{recap}");
    assert!(recap.contains("inscription, 07/05/2026, Cantine"), "{recap}");
    assert!(recap.contains("inscription, 11/05/2026, Accueil Matin"), "{recap}");
    let booked_class = step("booked cell", async {
        client.find(Locator::Id("c-2026-05-07-REPAS")).await?.find(Locator::XPath("..")).await?.attr("class").await
    })
    .await;
    assert_eq!(booked_class.as_deref(), Some("booked"), "booked cell is green");

    // Screenshots of the planning, phone and desktop widths.
    let dir = screenshot_dir();
    let png = step("phone screenshot", client.screenshot()).await;
    std::fs::write(dir.join("browser-planning-phone.png"), &png).expect("write screenshot");
    step("desktop size", client.set_window_size(1280, 1100)).await;
    let png = step("desktop screenshot", client.screenshot()).await;
    std::fs::write(dir.join("browser-planning-desktop.png"), &png).expect("write screenshot");
    eprintln!("screenshots in {}", dir.display());

    // The database has exactly the two bookings.
    let d = |m, day| chrono::NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let booked = portal.db.store.bookings_between(portal.fam.angeline, d(5, 1), d(6, 30)).await.unwrap();
    assert_eq!(booked.len(), 2, "{booked:?}");

    // 4. The last changes.
    step("history link", async { client.find(Locator::LinkText("Voir les dernières modifications")).await?.click().await }).await;
    let hist = step("history", async { client.find(Locator::Css("ul.history")).await?.text().await }).await;
    assert!(hist.contains("inscription, 11/05/2026, Accueil Matin – par internet"), "{hist}");
    assert!(hist.contains("inscription, 07/05/2026, Cantine – par internet"), "{hist}");
    let first_class = step("history class", async { client.find(Locator::Css("ul.history li")).await?.attr("class").await }).await;
    assert_eq!(first_class.as_deref(), Some("book"));

    // 5. The other child.
    step("back to planning", async { client.find(Locator::LinkText("← Retour au planning")).await?.click().await }).await;
    step("other child link", async { client.find(Locator::LinkText("Choisir un autre enfant")).await?.click().await }).await;
    step("pick Théo", async {
        client
            .find(Locator::XPath("//button[normalize-space()='Théo MARSONE']"))
            .await?
            .click()
            .await
    })
    .await;
    let text = step("Théo's planning", async { client.find(Locator::Css(".child .name")).await?.text().await }).await;
    assert_eq!(text, "Théo MARSONE");
    let theo_cell = step("Théo's cell", client.find(Locator::Id("c-2026-05-07-REPAS"))).await;
    assert!(!step("not booked", theo_cell.is_selected()).await, "Angéline's booking is not Théo's");

    // 6. Log out.
    step("logout", async { client.find(Locator::Css("header form button")).await?.click().await }).await;
    let url = step("after logout", client.current_url()).await;
    assert_eq!(url.path(), "/");
    step("login form again", client.find(Locator::Id("child_code"))).await;
    step("planning closed", client.goto(&format!("{base}/planning"))).await;
    assert_eq!(step("redirected", client.current_url()).await.path(), "/");

    step("close browser", client.close()).await;
    server.abort();
}
