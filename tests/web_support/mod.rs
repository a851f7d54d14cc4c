//! Shared by the web tests: a portal over a fresh SQLite database with the demo families,
//! a fixed clock, and a tiny cookie-keeping client that drives the router with `oneshot`
//! (or, in `http`, a real server on 127.0.0.1 and a real HTTP client).
#![allow(dead_code)]

pub mod billing;
pub mod chrome;
pub mod families;
pub mod http;
pub mod standins;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use families::DemoFamilies;
use ivr::booking::calendar::Calendar;
use ivr::booking::model::{Action, Channel, ChildId, ServiceCode};
use ivr::booking::rules::Rules;
use ivr::clock::ManualClock;
use ivr::service::booking::{BookingOutcome, BookingService};
use ivr::service::login::LoginConfig;
use ivr::store::testing::TestDb;
use ivr::web::{AppState, WebConfig};
use tower::ServiceExt;

/// Town time → UTC.
pub fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Paris
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("unambiguous town time")
        .with_timezone(&Utc)
}

/// Wednesday 6 May 2026, 09:00 in town: Thursday's meal is open until 10:00 today,
/// Tuesday's is closed, Friday 8 May is a public holiday.
pub fn default_now() -> DateTime<Utc> {
    paris(2026, 5, 6, 9, 0)
}

/// The shipped prompt manifest (`prompts/fr`), which the portal's voice page lists.
pub fn shipped_prompts() -> ivr::dialplan::PromptManifest {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/fr");
    ivr::dialplan::PromptManifest::load(&dir).expect("the shipped prompt manifest")
}

/// The staff account the tests log in with ([`Portal::add_staff`] creates it).
pub const STAFF_USER: &str = "amelie";
/// Its password.
pub const STAFF_PASSWORD: &str = "mot de passe solide";

/// A portal on a fresh database.
pub struct Portal {
    pub db: TestDb,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub fam: DemoFamilies,
}

impl Portal {
    pub async fn new() -> Portal {
        Self::with_config(WebConfig::default()).await
    }

    pub async fn with_config(config: WebConfig) -> Portal {
        Self::with_settings(config, ivr::web::Invoicing::default()).await
    }

    /// A portal with invoice and payment settings (invoice pages, SystemPay).
    pub async fn with_settings(config: WebConfig, invoicing: ivr::web::Invoicing) -> Portal {
        let db = TestDb::sqlite().await.expect("test database");
        Self::on(db, config, invoicing).await
    }

    /// A portal on `db` (e.g. a PostgreSQL test database), with the demo families.
    pub async fn on(db: TestDb, config: WebConfig, invoicing: ivr::web::Invoicing) -> Portal {
        let fam = families::seed(&db.store).await.expect("demo families");
        let service = BookingService::new(
            db.store.clone(),
            Rules::default(),
            Calendar::default(),
            LoginConfig::default(),
        )
        .await
        .expect("booking service");
        let clock = Arc::new(ManualClock::new(default_now()));
        let state = AppState::new(service, "Mezcalito", config, clock.clone())
            .with_invoicing(invoicing)
            .with_voice(shipped_prompts());
        Portal {
            db,
            state,
            clock,
            fam,
        }
    }

    /// The server restarted: a new booking service and web state (nothing kept in memory)
    /// over the same database, clock and settings.
    pub async fn restart(&mut self) {
        let service = BookingService::new(
            self.db.store.clone(),
            Rules::default(),
            Calendar::default(),
            LoginConfig::default(),
        )
        .await
        .expect("booking service");
        self.state = AppState::new(
            service,
            "Mezcalito",
            self.state.config().clone(),
            self.clock.clone(),
        )
        .with_invoicing(self.state.invoicing().clone())
        .with_voice(shipped_prompts());
    }

    pub fn app(&self) -> Router {
        ivr::web::router(self.state.clone())
    }

    pub fn client(&self) -> Client {
        Client {
            app: self.app(),
            cookie: None,
        }
    }

    /// A client logged in as the demo parent (child 3011, payer 770021).
    pub async fn parent(&self) -> Client {
        parent_client(self.app()).await
    }

    /// Creates the staff account [`STAFF_USER`] (password [`STAFF_PASSWORD`]), unless it
    /// is there already.
    pub async fn add_staff(&self) {
        match ivr::service::staff_accounts::add(
            &self.db.store,
            STAFF_USER,
            STAFF_PASSWORD,
            self.state.now(),
        )
        .await
        {
            Ok(()) | Err(ivr::service::staff_accounts::StaffError::Exists(_)) => {}
            Err(e) => panic!("staff account: {e}"),
        }
    }

    /// A client logged in as staff `amelie` (created here).
    pub async fn staff(&self) -> Client {
        self.add_staff().await;
        let mut c = self.client();
        let r = c.staff_login(STAFF_USER, STAFF_PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        c
    }

    /// A staff client ([`Portal::staff`]) and the page at `path` it opened.
    pub async fn staff_at(&self, path: &str) -> (Client, Page) {
        let mut c = self.staff().await;
        let page = c.get(path).await;
        (c, page)
    }

    /// A parent's client ([`Portal::parent`]) and the page at `path` it opened.
    pub async fn parent_at(&self, path: &str) -> (Client, Page) {
        let mut c = self.parent().await;
        let page = c.get(path).await;
        (c, page)
    }

    /// What a family did before the test looks: `action` on `service` for `child` on
    /// `date`, at `at`, by phone (as "téléphone") or on the web (as "parent").
    pub async fn earlier(
        &self,
        child: ChildId,
        date: NaiveDate,
        service: &str,
        action: Action,
        channel: Channel,
        at: DateTime<Utc>,
    ) -> BookingOutcome {
        let by = match channel {
            Channel::Phone => "téléphone",
            _ => "parent",
        };
        self.state
            .service()
            .change(
                child,
                date,
                &ServiceCode::parse(service).expect("service code"),
                action,
                channel,
                by,
                at,
            )
            .await
            .expect("booking change")
    }
}

/// A client of `app` logged in as the demo parent (child 3011, payer 770021).
pub async fn parent_client(app: Router) -> Client {
    let mut c = Client { app, cookie: None };
    let r = c.parent_login("3011", "770021").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/planning");
    c
}

/// `fields` as an `application/x-www-form-urlencoded` body.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// A response, body read as text.
pub struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Page {
    /// The first CSRF token in the page.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let at = self.body.find(marker).expect("page has a CSRF field") + marker.len();
        self.body[at..at + 64].to_owned()
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn set_cookie(&self) -> Option<&str> {
        self.headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
    }

    /// The `Set-Cookie` header that sets the cookie `name`, whole.
    pub fn cookie_named(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}=");
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&prefix))
            .map(str::to_owned)
    }

    /// Asserts the page's status (its body in the message); the page.
    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) -> &Page {
        assert_eq!(self.status, status, "{}", self.body);
        self
    }

    /// Whether the body has `text` as written or with its apostrophes HTML-escaped
    /// (`&#39;`), as the templates may write them.
    pub fn shows(&self, text: &str) -> bool {
        self.body.contains(text) || self.body.contains(&text.replace('\'', "&#39;"))
    }

    /// Asserts the body has each of `texts`, exactly as written.
    #[track_caller]
    pub fn assert_has(&self, texts: &[&str]) {
        for text in texts {
            assert!(self.body.contains(text), "missing {text}: {}", self.body);
        }
    }

    /// Asserts the body has `text`, as written or apostrophes escaped ([`Page::shows`]).
    #[track_caller]
    pub fn assert_shows(&self, text: &str) {
        assert!(self.shows(text), "missing {text}: {}", self.body);
    }

    /// Asserts the body has none of `texts`.
    #[track_caller]
    pub fn assert_lacks(&self, texts: &[&str]) {
        for text in texts {
            assert!(
                !self.body.contains(text),
                "unexpected {text}: {}",
                self.body
            );
        }
    }
}

/// The `Cookie` header a browser sends after it got `set_cookie`, from the one it sent
/// before (`a=1; b=2`): the cookie is added, replaced, or removed when its value is empty.
pub fn keep_cookie(cookies: Option<String>, set_cookie: &str) -> Option<String> {
    let pair = set_cookie.split(';').next().unwrap_or("").trim();
    let Some((name, value)) = pair.split_once('=') else {
        return cookies;
    };
    let mut pairs: Vec<String> = cookies
        .iter()
        .flat_map(|c| c.split("; "))
        .filter(|p| !p.is_empty() && p.split_once('=').map(|(n, _)| n) != Some(name))
        .map(str::to_owned)
        .collect();
    if !value.is_empty() {
        // The session cookie first, as the tests compare it with what they saved.
        if name == "ivr_session" {
            pairs.insert(0, pair.to_owned());
        } else {
            pairs.push(pair.to_owned());
        }
    }
    (!pairs.is_empty()).then(|| pairs.join("; "))
}

/// Keeps the cookies between requests, as a browser does (`cookie` is the `Cookie` header).
pub struct Client {
    pub app: Router,
    pub cookie: Option<String>,
}

impl Client {
    pub async fn send(&mut self, req: Request<Body>) -> Page {
        let res = self.app.clone().oneshot(req).await.expect("router answers");
        let status = res.status();
        let headers = res.headers().clone();
        for sc in headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            self.cookie = keep_cookie(self.cookie.take(), sc);
        }
        let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024 * 1024)
            .await
            .expect("body");
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    fn with_cookie(&self, b: axum::http::request::Builder) -> axum::http::request::Builder {
        match &self.cookie {
            Some(c) => b.header(header::COOKIE, c),
            None => b,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self
            .with_cookie(Request::get(path))
            .body(Body::empty())
            .expect("request");
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let req = self
            .with_cookie(Request::post(path))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form_body(fields)))
            .expect("request");
        self.send(req).await
    }

    /// Posts `fields` to `action` behind the CSRF token `csrf`.
    pub async fn post_csrf(&mut self, action: &str, csrf: &str, fields: &[(&str, &str)]) -> Page {
        self.post(action, &with_csrf(csrf, fields)).await
    }

    /// Opens `page` and posts `fields` to `action` behind that page's CSRF token, as a
    /// browser submits a form of the page.
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get(page).await.csrf();
        self.post_csrf(action, &csrf, fields).await
    }

    /// The staff login form of a fresh `/mairie/connexion` page, posted with these words.
    pub async fn staff_login(&mut self, user: &str, password: &str) -> Page {
        let fields = [("user", user), ("password", password)];
        self.submit("/mairie/connexion", "/mairie/connexion", &fields)
            .await
    }

    /// The parents' login form of a fresh `/` page, posted with these codes.
    pub async fn parent_login(&mut self, child: &str, payer: &str) -> Page {
        let fields = [("child_code", child), ("payer_code", payer)];
        self.submit("/", "/connexion", &fields).await
    }

    pub async fn post_multipart(
        &mut self,
        path: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> Page {
        let boundary = "----ivr-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, filename, data) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match filename {
                Some(f) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: audio/wav\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let req = self
            .with_cookie(Request::post(path))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }
}

/// `("csrf", csrf)` followed by `fields`.
pub fn with_csrf<'a>(csrf: &'a str, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(fields);
    all
}

/// The planning form as a browser would submit it untouched: every `shown` cell, and the
/// `want` boxes that are ticked and enabled.
pub fn planning_state(page: &Page) -> (Vec<String>, Vec<String>) {
    let mut shown = Vec::new();
    let mut want = Vec::new();
    for tag in page.body.split("<input").skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        let value = tag
            .split("value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .unwrap_or("")
            .to_owned();
        if tag.contains("name=\"shown\"") {
            shown.push(value);
        } else if tag.contains("name=\"want\"")
            && tag.contains(" checked")
            && !tag.contains(" disabled")
        {
            want.push(value);
        }
    }
    (shown, want)
}

/// Posts a planning form made by hand behind `csrf`: the week of `du`, these `shown` cells
/// and these `want` ones ticked.
pub async fn post_cells(
    c: &mut Client,
    csrf: &str,
    du: &str,
    shown: &[&str],
    want: &[&str],
) -> Page {
    let mut fields = vec![("du", du)];
    fields.extend(shown.iter().map(|s| ("shown", *s)));
    fields.extend(want.iter().map(|w| ("want", *w)));
    c.post_csrf("/planning", csrf, &fields).await
}

/// Posts the planning with `want` as the ticked cells.
pub async fn submit_planning(c: &mut Client, page: &Page, du: &str, want: &[String]) -> Page {
    let (shown, _) = planning_state(page);
    let csrf = page.csrf();
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf), ("du", du)];
    for s in &shown {
        fields.push(("shown", s));
    }
    for w in want {
        fields.push(("want", w));
    }
    c.post("/planning", &fields).await
}
