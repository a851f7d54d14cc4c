//! The `[web]` section of `ivr.toml`: where the portal listens and how its cookies are set.

use std::net::IpAddr;

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
    /// Believe `X-Forwarded-For` / `X-Forwarded-Proto` to know the browser's address (login
    /// throttling is per source) and whether it came over HTTPS, on requests whose peer is
    /// one of `trusted_proxies`. Off: the peer is the browser.
    pub behind_proxy: bool,
    /// The reverse proxies in front (their addresses as the server sees them). Only their
    /// forwarding headers are read; the browser is the rightmost `X-Forwarded-For` entry
    /// that is not one of them, since a proxy appends what it saw and anything to the left
    /// was written by the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// Minutes of inactivity after which a session ends.
    pub session_idle_minutes: u32,
    /// Number of weeks the planning shows at once (the seed shows four).
    pub weeks_shown: u32,
    /// The phone number of the voice line, shown on the login and help pages.
    pub phone_number: String,
    /// The largest upload accepted (an announcement, a prompt in the town's voice), in bytes.
    pub max_upload_bytes: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            public_base_url: String::new(),
            secure_cookies: None,
            behind_proxy: false,
            trusted_proxies: vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
            ],
            session_idle_minutes: 30,
            weeks_shown: 4,
            phone_number: String::new(),
            max_upload_bytes: 32 * 1024 * 1024,
        }
    }
}

impl WebConfig {
    /// Whether forwarding headers on a request from `peer` are believed.
    pub fn trusts_proxy(&self, peer: Option<IpAddr>) -> bool {
        self.behind_proxy && peer.is_some_and(|p| self.trusted_proxies.contains(&p))
    }

    /// The browser's address for a request from `peer` carrying these `X-Forwarded-For`
    /// values (in header order): the peer itself unless it is a trusted proxy; else the
    /// rightmost forwarded address that is not a trusted proxy (walking from the right,
    /// each hop was appended by the trusted proxy after it), or the leftmost when every
    /// hop is a proxy. A hop that is not an address stops the walk at the last trusted
    /// one: nothing to its left can be believed.
    pub fn client_ip<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        if !self.trusts_proxy(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let mut nearest = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                return nearest;
            };
            if !self.trusted_proxies.contains(&ip) {
                return Some(ip);
            }
            nearest = Some(ip);
        }
        nearest
    }

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

/// One `X-Forwarded-For` hop: an address, maybe with a port (`192.0.2.7:5123`,
/// `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
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
    fn the_client_is_the_rightmost_hop_that_is_no_trusted_proxy() {
        let c: WebConfig =
            toml::from_str("behind_proxy = true\ntrusted_proxies = ['127.0.0.1', '10.0.0.2']")
                .unwrap();
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let proxy = ip("127.0.0.1");
        // A client spoofing the leftmost entry: the proxy appended the real address.
        assert_eq!(c.client_ip(proxy, ["6.6.6.6, 192.0.2.7"]), ip("192.0.2.7"));
        // Two proxies, one header per hop.
        assert_eq!(
            c.client_ip(proxy, ["6.6.6.6, 192.0.2.7", "10.0.0.2"]),
            ip("192.0.2.7")
        );
        assert_eq!(c.client_ip(proxy, ["[2001:db8::7]:443"]), ip("2001:db8::7"));
        // Garbage to the right of the client is not believed, nor what lies left of it.
        assert_eq!(c.client_ip(proxy, ["192.0.2.7, nonsense"]), proxy);
        assert_eq!(c.client_ip(proxy, ["10.0.0.2"]), ip("10.0.0.2"));
        assert_eq!(c.client_ip(proxy, []), proxy);
        // A peer that is no trusted proxy is the client, whatever it writes.
        assert_eq!(c.client_ip(ip("192.0.2.9"), ["6.6.6.6"]), ip("192.0.2.9"));
        assert_eq!(c.client_ip(None, ["6.6.6.6"]), None);
        // Not behind a proxy: headers ignored.
        let direct = WebConfig::default();
        assert_eq!(direct.client_ip(proxy, ["6.6.6.6"]), proxy);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<WebConfig>("listen = '1.2.3.4:1'").is_err());
    }
}
