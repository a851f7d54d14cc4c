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

use std::sync::Arc;

use fantoccini::Locator;
use ivr::booking::model::{ChildCode, PayerCode};
use ivr::clock::ManualClock;
use ivr::store::testing::TestDb;
use ivr::web::{AppState, WebConfig};
use web_support::chrome::{Chrome, skipped, step};
use web_support::{Portal, STAFF_PASSWORD, STAFF_USER};

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

#[tokio::test]
async fn a_parent_books_two_cells_reads_the_recap_and_the_history_switches_child_and_logs_out() {
    if skipped() {
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
    let addr = web_support::http::serve(state.clone()).await;
    let chrome = Chrome::start(&format!("http://{addr}")).await;
    let client = &chrome.client;

    // Phone-sized window first.
    chrome.window("window size", 390, 1400).await;

    // 1. Log in with the demo codes.
    chrome.open("open login", "/").await;
    let login_text = chrome.text("login text", "main").await;
    assert!(
        login_text.contains("Message de votre mairie") || login_text.contains("Code enfant"),
        "{login_text}"
    );
    chrome.type_into("child_code", "3011").await;
    chrome.type_into("payer_code", "770021").await;
    chrome
        .submit_form("submit login", "/connexion", "/planning")
        .await;
    let url = chrome.url("planning url").await;
    assert_eq!(url.path(), "/planning");
    assert!(
        !url.as_str().contains("3011") && !url.as_str().contains("770021"),
        "codes in URL: {url}"
    );
    let text = chrome.text("planning text", "main").await;
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
    let locked_text = chrome.text("locked text", "td.locked .lock").await;
    assert!(locked_text.contains("clos"), "{locked_text}");

    // 3. Validate and read the recap.
    chrome
        .click_to(
            "validate",
            Locator::Css("form[action='/planning'] button[type=submit]"),
            "/planning?du=2026-05-04",
        )
        .await;
    let recap = step("recap", async {
        chrome
            .wait_for(Locator::Id("recap"))
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
    chrome
        .screenshot("phone screenshot", "browser-planning-phone.png")
        .await;
    chrome.window("desktop size", 1280, 1100).await;
    chrome
        .screenshot("desktop screenshot", "browser-planning-desktop.png")
        .await;
    eprintln!(
        "screenshots in {}",
        web_support::chrome::screenshot_dir().display()
    );

    // The database has exactly the two bookings.
    let after = db
        .store
        .bookings_between(angeline, d(5, 1), d(6, 30))
        .await
        .unwrap();
    assert_eq!(after.len(), before.len() + 2, "{after:?}");

    // 4. The last changes.
    chrome
        .follow(
            "history link",
            "Voir les dernières modifications",
            "/historique",
        )
        .await;
    let hist = chrome.text("history", "ul.history").await;
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
    for (what, link, path) in [
        ("back to planning", "← Retour au planning", "/planning"),
        ("other child link", "Choisir un autre enfant", "/enfants"),
    ] {
        chrome.follow(what, link, path).await;
    }
    chrome
        .click_to(
            "pick Théo",
            Locator::XPath("//button[normalize-space()='Théo MARSONE']"),
            "/planning",
        )
        .await;
    let text = chrome.text("Théo's planning", ".child .name").await;
    assert_eq!(text, "Théo MARSONE");
    let card = chrome.text("Théo's class", ".child").await;
    assert!(card.contains("CM2 - M. Lambert"), "{card}");

    // 6. Log out.
    chrome
        .click_to("logout", Locator::Css("header form button"), "/")
        .await;
    step(
        "login form again",
        chrome.wait_for(Locator::Id("child_code")),
    )
    .await;
    let url = chrome.url("after logout").await;
    assert_eq!(url.path(), "/");
    chrome.open("planning closed", "/planning").await;
    let src = step("source", client.source()).await;
    assert_eq!(chrome.url("redirected").await.path(), "/", "{src}");

    chrome.close().await;
    db.store.close().await;
}

#[tokio::test]
async fn staff_log_in_publish_the_message_and_see_their_pages() {
    if skipped() {
        return;
    }
    let portal = Portal::new().await;
    portal.add_staff().await;
    let addr = web_support::http::serve(portal.state.clone()).await;
    let chrome = Chrome::start(&format!("http://{addr}")).await;
    chrome.window("window size", 1280, 1100).await;

    chrome.open("open staff login", "/mairie/connexion").await;
    chrome.type_into("user", STAFF_USER).await;
    chrome.type_into("password", STAFF_PASSWORD).await;
    chrome
        .submit_form("staff login", "/mairie/connexion", "/mairie/message")
        .await;
    let message = "Cantine fermée <b>vendredi</b>.";
    chrome.type_into("message", message).await;
    chrome
        .submit_form("save message", "/mairie/message", "/mairie/message")
        .await;
    let notice = chrome.text("notice", "p.notice").await;
    assert_eq!(notice, "Message enregistré.");
    assert_eq!(
        portal
            .state
            .service()
            .town_message()
            .await
            .unwrap()
            .as_deref(),
        Some(message)
    );
    chrome
        .follow("deadlines tab", "Délais et fermetures", "/mairie/delais")
        .await;
    chrome
        .screenshot("deadlines screenshot", "browser-staff-deadlines.png")
        .await;
    chrome
        .follow("announcement tab", "Annonce vocale", "/mairie/annonce")
        .await;
    chrome
        .click_to("logout", Locator::Css("header form button"), "/")
        .await;
    // The message shows on the parents' login page, as text.
    let shown = chrome.text("login message", "div.message").await;
    assert_eq!(shown, message);
    chrome.close().await;
}

/// Issue 18's "done when": a parent, as a new user would from the README, sets a usual
/// week on the web and sees next month filled on the planning.
#[tokio::test]
async fn a_parent_sets_a_usual_week_and_sees_next_month_filled() {
    if skipped() {
        return;
    }
    // Wednesday 6 May 2026, 09:00: next month is June.
    let portal = Portal::new().await;
    let addr = web_support::http::serve(portal.state.clone()).await;
    let chrome = Chrome::start(&format!("http://{addr}")).await;
    chrome.window("window size", 390, 1400).await;
    chrome.open("open login", "/").await;
    chrome.type_into("child_code", "3011").await;
    chrome.type_into("payer_code", "770021").await;
    chrome
        .submit_form("submit login", "/connexion", "/planning")
        .await;
    chrome
        .follow("usual week link", "Semaine type", "/semaine-type")
        .await;
    // Cantine Monday, Tuesday, Thursday; Accueil Soir Tuesday; from today, every week.
    for id in ["st-REPAS-1", "st-REPAS-2", "st-REPAS-4", "st-SOIR-2"] {
        let cell = step(id, chrome.client.find(Locator::Id(id))).await;
        step("tick", cell.click()).await;
        assert!(step("ticked", cell.is_selected()).await, "{id} not ticked");
    }
    chrome
        .submit_form("set the usual week", "/semaine-type", "/semaine-type")
        .await;
    let recap = chrome.text("recap", "section[aria-labelledby=recap]").await;
    assert!(recap.contains("Semaine type appliquée"), "{recap}");
    assert!(
        recap.contains("inscription, 07/05/2026, Cantine"),
        "{recap}"
    );
    assert!(recap.contains("jour férié (Ascension)"), "{recap}");
    chrome
        .screenshot("usual week screenshot", "browser-usual-week.png")
        .await;

    // Next month's planning: the pattern's cells are booked, the others are not.
    chrome
        .open("June planning", "/planning?du=2026-06-01")
        .await;
    let checked = |key: &'static str| {
        let client = chrome.client.clone();
        async move {
            let css = format!("input[name=want][value='{key}']");
            let cell = step(key, client.find(Locator::Css(&css))).await;
            step("state", cell.is_selected()).await
        }
    };
    for key in [
        "2026-06-01.REPAS",
        "2026-06-02.REPAS",
        "2026-06-02.SOIR",
        "2026-06-04.REPAS",
        "2026-06-08.REPAS",
    ] {
        assert!(checked(key).await, "{key} not booked");
    }
    for key in ["2026-06-05.REPAS", "2026-06-01.SOIR", "2026-06-04.MATIN"] {
        assert!(!checked(key).await, "{key} booked");
    }
    let booked_cells = step(
        "booked cells",
        chrome.client.find_all(Locator::Css("td.booked")),
    )
    .await;
    assert!(!booked_cells.is_empty(), "no cell drawn booked");
    chrome
        .screenshot("june screenshot", "browser-usual-week-june.png")
        .await;
    let june = portal
        .db
        .store
        .bookings_between(portal.fam.angeline, d(6, 1), d(6, 30))
        .await
        .unwrap();
    assert_eq!(june.len(), 19, "{june:?}");
    chrome.close().await;
}
