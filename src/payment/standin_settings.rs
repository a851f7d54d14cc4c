//! The `[fake_provider]` section: where `ivr fake-provider` and `ivr demo` run the payment
//! stand-ins. Always part of the configuration, so that one ivr.toml reads the same in a
//! build with the development tools (`--features devtools`) and in one without.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// The `[fake_provider]` section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FakeProviderConfig {
    /// Where the stand-ins listen (keep it on loopback: they accept any card).
    pub listen: SocketAddr,
    /// SystemPay's notification URL "from the Back Office", for forms without `vads_url_check`.
    pub notification_url: Option<String>,
    /// Milliseconds between two attempts at a failed SystemPay notification.
    pub retry_delay_ms: u64,
    /// The SystemPay test key the stand-in checks forms with and signs notifications with:
    /// the portal's `[systempay] test_key`. Empty: `ivr fake-provider` uses the portal's, or
    /// makes one and prints it; there is no built-in key.
    pub systempay_test_key: String,
}

impl Default for FakeProviderConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8089)),
            notification_url: None,
            retry_delay_ms: 2000,
            systempay_test_key: String::new(),
        }
    }
}
