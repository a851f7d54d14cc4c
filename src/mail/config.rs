//! The `[mail]` section of the configuration.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// STARTTLS on the submission port (587), required.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or tests on 127.0.0.1.
    None,
}

/// Mail settings. With an empty `smtp_host`, messages are written to `folder` as `.eml` files.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// The SMTP server; empty means "write the messages to `folder`".
    pub smtp_host: String,
    /// The SMTP port (587 for STARTTLS, 465 for TLS, 25 for a local relay).
    pub smtp_port: u16,
    /// How the connection is secured.
    pub security: SmtpSecurity,
    /// The SMTP user name; empty means no authentication.
    pub username: String,
    /// The SMTP password (never logged).
    pub password: String,
    /// The sender, e.g. `Mairie de Saint-Julien <ne-pas-repondre@mairie.example>`.
    pub from: String,
    /// Where messages go when no SMTP server is configured.
    pub folder: PathBuf,
    /// Seconds allowed for one SMTP conversation.
    pub timeout_secs: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_host: String::new(),
            smtp_port: 587,
            security: SmtpSecurity::Starttls,
            username: String::new(),
            password: String::new(),
            from: "Mairie <ne-pas-repondre@mairie.invalid>".to_owned(),
            folder: PathBuf::from("data/mail"),
            timeout_secs: 30,
        }
    }
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"***")
            .field("from", &self.from)
            .field("folder", &self.folder)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_never_shows_in_debug() {
        let c = MailConfig {
            password: "s3cret".into(),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn section_parses_and_rejects_unknown_keys() {
        let c: MailConfig =
            toml::from_str("smtp_host = \"smtp.example\"\nsmtp_port = 465\nsecurity = \"tls\"\n")
                .unwrap();
        assert_eq!((c.smtp_port, c.security), (465, SmtpSecurity::Tls));
        assert!(toml::from_str::<MailConfig>("smtp_hots = \"x\"").is_err());
    }
}
