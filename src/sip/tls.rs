//! SIP over TLS (RFC 3261 §26.2, usually port 5061), as carriers' trunks increasingly
//! require: the `[sip.tls]` settings, and the certificate, key and trusted authorities read
//! and checked at start-up, so that a bad file stops the server with its name rather than
//! failing each handshake later.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rsipstack::transport::TlsConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

use super::SipError;

/// The `[sip.tls]` section: where SIP over TLS listens, with which certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// The address TLS listens on (`0.0.0.0:5061`).
    pub listen: SocketAddr,
    /// The line's certificate chain (PEM), its own certificate first.
    pub certificate: PathBuf,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// Authorities (PEM) trusted for our own TLS connections (to the trunk); without them
    /// no server is trusted, so calls and registrations over TLS fail.
    #[serde(default)]
    pub ca: Option<PathBuf>,
}

/// Reads the PEM files of `settings`, checks them, and gives them to the stack.
pub(crate) fn load(settings: &TlsSettings) -> Result<TlsConfig, SipError> {
    let cert = read(&settings.certificate, "[sip.tls] certificate")?;
    let certs = CertificateDer::pem_slice_iter(&cert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            bad(
                &settings.certificate,
                "[sip.tls] certificate",
                &e.to_string(),
            )
        })?;
    if certs.is_empty() {
        return Err(bad(
            &settings.certificate,
            "[sip.tls] certificate",
            "aucun certificat PEM (« BEGIN CERTIFICATE »)",
        ));
    }
    let key = read(&settings.key, "[sip.tls] key")?;
    PrivateKeyDer::from_pem_slice(&key).map_err(|e| {
        bad(
            &settings.key,
            "[sip.tls] key",
            &format!("aucune clé privée PEM lisible ({e})"),
        )
    })?;
    let ca_certs = match &settings.ca {
        Some(path) => {
            let ca = read(path, "[sip.tls] ca")?;
            let n = CertificateDer::pem_slice_iter(&ca)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(path, "[sip.tls] ca", &e.to_string()))?
                .len();
            if n == 0 {
                return Err(bad(path, "[sip.tls] ca", "aucun certificat PEM"));
            }
            Some(ca)
        }
        None => None,
    };
    Ok(TlsConfig {
        cert: Some(cert),
        key: Some(key),
        ca_certs,
        ..TlsConfig::default()
    })
}

fn read(path: &Path, setting: &'static str) -> Result<Vec<u8>, SipError> {
    std::fs::read(path).map_err(|e| bad(path, setting, &e.to_string()))
}

fn bad(path: &Path, setting: &'static str, reason: &str) -> SipError {
    SipError::Tls {
        setting,
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}
