//! The `[web]` section of `ivr.toml`: where the portal listens and how its cookies are set.

use serde::Deserialize;

/// Settings of the web portal (parents' pages and staff pages). The listen address is
/// `server.web_listen` and the town's name `town.name`, shared with the other parts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// The address parents type, e.g. `https://portail.ville.fr`; used to decide whether
    /// cookies are `Secure` when `secure_cookies` is not set. Empty: unknown.
    pub public_base_url: String,
    /// Force the `Secure` attribute of cookies on (`true`) or off (`false`). Unset: on when
    /// `public_base_url` starts with `https://` or the request came through a proxy that
    /// says `X-Forwarded-Proto: https`.
    pub secure_cookies: Option<bool>,
    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` from the reverse proxy to know the
    /// browser's address (login throttling is per source). Leave off unless a proxy that
    /// overwrites these headers is in front.
    pub behind_proxy: bool,
    /// Minutes of inactivity after which a session ends.
    pub session_idle_minutes: u32,
    /// Number of weeks the planning shows at once (the seed shows four).
    pub weeks_shown: u32,
    /// The phone number of the voice line, shown on the login and help pages.
    pub phone_number: String,
    /// The largest announcement upload accepted, in bytes.
    pub max_upload_bytes: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            public_base_url: String::new(),
            secure_cookies: None,
            behind_proxy: false,
            session_idle_minutes: 30,
            weeks_shown: 4,
            phone_number: String::new(),
            max_upload_bytes: 32 * 1024 * 1024,
        }
    }
}

impl WebConfig {
    /// Whether cookies get `Secure` for a request, given whether a trusted proxy said HTTPS.
    pub fn cookies_secure(&self, forwarded_https: bool) -> bool {
        match self.secure_cookies {
            Some(forced) => forced,
            None => {
                self.public_base_url.starts_with("https://")
                    || (self.behind_proxy && forwarded_https)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_show_four_weeks_without_secure_cookies_on_plain_http() {
        let c: WebConfig = toml::from_str("").unwrap();
        assert_eq!(c.weeks_shown, 4);
        assert!(!c.cookies_secure(false));
    }

    #[test]
    fn https_base_url_makes_cookies_secure() {
        let c: WebConfig = toml::from_str("public_base_url = 'https://x.fr'").unwrap();
        assert!(c.cookies_secure(false));
        let c: WebConfig =
            toml::from_str("secure_cookies = false\npublic_base_url = 'https://x.fr'").unwrap();
        assert!(!c.cookies_secure(true));
        let c: WebConfig = toml::from_str("behind_proxy = true").unwrap();
        assert!(c.cookies_secure(true));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<WebConfig>("listen = '1.2.3.4:1'").is_err());
    }
}
