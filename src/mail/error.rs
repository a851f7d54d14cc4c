//! The mail layer's one error type.

use thiserror::Error;

/// What can go wrong while building or sending a notice.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MailError {
    /// An address (sender or recipient) is not a valid e-mail address.
    #[error("adresse électronique invalide : {0}")]
    BadAddress(String),
    /// The mail settings are unusable.
    #[error("configuration de l'envoi des courriels invalide : {0}")]
    Config(String),
    /// The notice itself is unusable (bad key...).
    #[error("avis invalide : {0}")]
    BadNotice(String),
    /// The SMTP server refused for good (5xx): retrying will not help.
    #[error("courriel refusé par le serveur : {0}")]
    Rejected(String),
    /// The server could not be reached or answered 4xx: retry later.
    #[error("envoi du courriel impossible pour le moment : {0}")]
    Transient(String),
    /// Writing the message to the folder failed.
    #[error("écriture du courriel impossible : {0}")]
    Io(String),
}

impl MailError {
    /// True when the outbox worker should try again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, MailError::Transient(_) | MailError::Io(_))
    }
}
