//! Sending a notice: lettre over SMTP, or an `.eml` file in a folder.

use std::io::ErrorKind;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{MailConfig, MailError, Notice, SmtpSecurity};

#[derive(Debug, Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

/// Sends notices the configured way. Cheap to clone (the SMTP transport pools connections).
#[derive(Debug, Clone)]
pub struct Mailer {
    from: Mailbox,
    /// The domain of Message-IDs (the sender's).
    domain: String,
    transport: Transport,
}

impl Mailer {
    /// Checks the settings once: the sender's address, the SMTP server's name.
    pub fn from_config(config: &MailConfig) -> Result<Self, MailError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|_| MailError::BadAddress(config.from.clone()))?;
        let domain = from.email.domain().to_owned();
        let transport = if config.smtp_host.trim().is_empty() {
            Transport::Folder(config.folder.clone())
        } else {
            let host = config.smtp_host.trim();
            let mut builder = match config.security {
                SmtpSecurity::Starttls => {
                    AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                        .map_err(|e| MailError::Config(e.to_string()))?
                }
                SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                    .map_err(|e| MailError::Config(e.to_string()))?,
                SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            };
            builder = builder
                .port(config.smtp_port)
                .timeout(Some(Duration::from_secs(config.timeout_secs.max(1))));
            if !config.username.is_empty() {
                builder = builder.credentials(Credentials::new(
                    config.username.clone(),
                    config.password.clone(),
                ));
            }
            Transport::Smtp(builder.build())
        };
        Ok(Self {
            from,
            domain,
            transport,
        })
    }

    /// The message for a notice (UTF-8 plain text; lettre picks the transfer encoding).
    pub fn message(&self, notice: &Notice) -> Result<Message, MailError> {
        notice.check_key()?;
        let to: Mailbox = format!(
            "{} <{}>",
            notice.to_name.replace(['<', '>', '"'], ""),
            notice.to_address
        )
        .parse()
        .map_err(|_| MailError::BadAddress(notice.to_address.clone()))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(notice.subject())
            .message_id(Some(format!("<{}@{}>", notice.key, self.domain)))
            .header(ContentType::TEXT_PLAIN)
            .body(notice.body())
            .map_err(|e| MailError::BadNotice(e.to_string()))
    }

    /// Sends one notice. The outbox worker calls this and records the result; on
    /// [`MailError::is_retryable`] it tries again later.
    ///
    /// In folder mode the message is written as `<key>.eml` atomically and never overwritten:
    /// sending the same notice twice leaves one file and succeeds.
    pub async fn send(&self, notice: &Notice) -> Result<(), MailError> {
        let message = self.message(notice)?;
        match &self.transport {
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(MailError::Rejected(e.to_string())),
                Err(e) => Err(MailError::Transient(e.to_string())),
            },
            Transport::Folder(dir) => write_eml(dir, &notice.key, &message.formatted()).await,
        }
    }
}

async fn write_eml(dir: &std::path::Path, key: &str, bytes: &[u8]) -> Result<(), MailError> {
    let io = |e: std::io::Error| MailError::Io(e.to_string());
    tokio::fs::create_dir_all(dir).await.map_err(io)?;
    let target = dir.join(format!("{key}.eml"));
    if tokio::fs::try_exists(&target).await.map_err(io)? {
        return Ok(());
    }
    // Write aside, then link into place: readers never see half a message, and a link
    // never replaces an existing file (two workers racing leave one copy).
    let tmp = dir.join(format!(".{key}.{}.tmp", std::process::id()));
    tokio::fs::write(&tmp, bytes).await.map_err(io)?;
    let linked = tokio::fs::hard_link(&tmp, &target).await;
    let _ = tokio::fs::remove_file(&tmp).await;
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(e)),
    }
}
