//! A real browser for the tests: headless Chromium driven through chromedriver (WebDriver),
//! every step bounded by [`STEP`] and named in the panic that ends the test when it fails.
//!
//! Needs Debian's `chromium` and `chromium-driver` (CI installs them). When they are
//! missing the test FAILS with a sentence saying so; set `IVR_SKIP_BROWSER_TEST=1` to skip
//! it knowingly on a machine without them.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Every browser step is bounded.
pub const STEP: Duration = Duration::from_secs(30);

/// Whether `IVR_SKIP_BROWSER_TEST` asks to skip the browser tests (said on stderr).
pub fn skipped() -> bool {
    let skip = std::env::var_os("IVR_SKIP_BROWSER_TEST").is_some();
    if skip {
        eprintln!("browser test skipped: IVR_SKIP_BROWSER_TEST is set");
    }
    skip
}

/// Awaits `f` as the browser step `what`: its value, or a panic naming the step when it
/// fails or takes longer than [`STEP`].
pub async fn step<T, E: std::fmt::Debug>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> T {
    match tokio::time::timeout(STEP, f).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("browser step « {what} » failed: {e:?}"),
        Err(_) => panic!("browser step « {what} » timed out"),
    }
}

/// Where screenshots go: the target directory.
pub fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    std::fs::create_dir_all(&dir).expect("target directory");
    dir
}

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

/// A headless Chromium with a fresh profile, pointed at the site at `base`
/// (`http://127.0.0.1:port`); paths in its methods are below `base`.
pub struct Chrome {
    pub client: fantoccini::Client,
    pub base: String,
    _driver: Child,
    _profile: tempfile::TempDir,
}

impl Chrome {
    /// Starts chromedriver and a browser for the site at `base`.
    pub async fn start(base: &str) -> Chrome {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(bin).exists(),
                "{bin} is missing: install Debian's chromium and chromium-driver (or set IVR_SKIP_BROWSER_TEST=1 to skip knowingly)"
            );
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
        Chrome {
            client,
            base: base.to_owned(),
            _driver: driver,
            _profile: profile,
        }
    }

    /// Resizes the window (`what` names the step).
    pub async fn window(&self, what: &str, width: u32, height: u32) {
        step(what, self.client.set_window_size(width, height)).await;
    }

    /// Opens `path` (`what` names the step).
    pub async fn open(&self, what: &str, path: &str) {
        step(what, self.client.goto(&format!("{}{path}", self.base))).await;
    }

    /// Types `text` into the field with this `id`.
    pub async fn type_into(&self, id: &str, text: &str) {
        step(id, async {
            self.client
                .find(Locator::Id(id))
                .await?
                .send_keys(text)
                .await
        })
        .await;
    }

    /// The text of what `css` finds on the page as it is now.
    pub async fn text(&self, what: &str, css: &str) -> String {
        step(what, async {
            self.client.find(Locator::Css(css)).await?.text().await
        })
        .await
    }

    /// What `target` finds, once it is there (waiting at most [`STEP`]).
    pub async fn wait_for(
        &self,
        target: Locator<'_>,
    ) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
        self.client.wait().at_most(STEP).for_element(target).await
    }

    /// The text of what `target` finds, once it is there.
    pub async fn wait_text(&self, what: &str, target: Locator<'_>) -> String {
        step(what, async { self.wait_for(target).await?.text().await }).await
    }

    /// Clicks what `target` finds, once it is there.
    pub async fn wait_click(&self, what: &str, target: Locator<'_>) {
        step(what, async { self.wait_for(target).await?.click().await }).await;
    }

    /// Follows the link written `text` to `path` ([`Chrome::click_to`]).
    pub async fn follow(&self, what: &str, text: &str, path: &str) {
        self.click_to(what, Locator::LinkText(text), path).await;
    }

    /// Clicks the button of the form that posts to `action`, which leads to `path`
    /// ([`Chrome::click_to`]).
    pub async fn submit_form(&self, what: &str, action: &str, path: &str) {
        let button = format!("form[action='{action}'] button");
        self.click_to(what, Locator::Css(&button), path).await;
    }

    /// Clicks what `target` finds, then waits until the browser has left the page it was
    /// on and is at `path` (a click returns before the navigation it starts has finished,
    /// and a form may post back to its own address, where the address alone proves
    /// nothing).
    pub async fn click_to(&self, what: &str, target: Locator<'_>, path: &str) {
        let client = &self.client;
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
        let url = url::Url::parse(&format!("{}{path}", self.base)).expect("url");
        step(
            &format!("{what}: arrive at {path}"),
            client.wait().at_most(STEP).for_url(&url),
        )
        .await;
    }

    /// The address the browser is at.
    pub async fn url(&self, what: &str) -> url::Url {
        step(what, self.client.current_url()).await
    }

    /// Saves a screenshot as `name` in [`screenshot_dir`].
    pub async fn screenshot(&self, what: &str, name: &str) {
        let png = step(what, self.client.screenshot()).await;
        std::fs::write(screenshot_dir().join(name), &png).expect("write screenshot");
    }

    /// Ends the browser session.
    pub async fn close(self) {
        step("close browser", self.client.close()).await;
    }
}
