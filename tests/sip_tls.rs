//! SIP over TLS (issue 17, point 1), end to end over loopback: a certificate authority and
//! the line's certificate are made for each run; a caller trusting that authority calls over
//! TLS and is answered, its dialog on the TLS connection; one trusting another authority is
//! refused by its own TLS; bad files stop the server at start-up with their setting named.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Result;
use common::*;
use ivr::call::Call;
use ivr::sip::SipConfig;
use ivr::sip::tls::TlsSettings;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use rsipstack::sip::Transport;

/// A certificate authority: its certificate (PEM) and what signs with it.
struct Authority {
    pem: String,
    params: CertificateParams,
    key: KeyPair,
}

impl Authority {
    fn new(name: &str) -> Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate()?;
        let pem = params.clone().self_signed(&key)?.pem();
        Ok(Self { pem, params, key })
    }

    /// A certificate for 127.0.0.1 signed by this authority, and its key (both PEM).
    fn issue_for_loopback(&self) -> Result<(String, String)> {
        let issuer = self.params.clone().self_signed(&self.key)?;
        let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
        params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::from([127, 0, 0, 1])));
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer, &self.key)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

/// A free TCP port on loopback (the TLS listener binds it when the server starts).
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The test settings with TLS on a free loopback port, the certificate and key in `dir`.
fn tls_config(dir: &Path, cert: &str, key: &str) -> Result<SipConfig> {
    let (certificate, key_file) = (dir.join("sip.crt"), dir.join("sip.key"));
    std::fs::write(&certificate, cert)?;
    std::fs::write(&key_file, key)?;
    Ok(SipConfig {
        tls: Some(TlsSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], free_port()?)),
            certificate,
            key: key_file,
            ca: None,
        }),
        ..test_config()
    })
}

#[tokio::test]
async fn a_caller_trusting_the_lines_authority_calls_over_tls() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let ca = Authority::new("Mairie de Mezcalito, autorité de test")?;
    let (cert, key) = ca.issue_for_loopback()?;
    let flow = |call: Call| async move {
        call.hangup().ok();
    };
    let (server, _) = start_server(tls_config(dir.path(), &cert, &key)?, flow).await?;
    let tls = server.tls_addr().expect("TLS configured");
    let phone = Phone::trusting(ca.pem.clone().into_bytes()).await?;
    let media = Media::new().await?;
    let call = phone
        .answered(
            tls,
            Transport::Tls,
            "3900",
            media.offer(Offer::Pcmu, None, ""),
        )
        .await?;
    let contact = header(&call.response, "Contact").unwrap_or_default();
    assert!(
        contact.to_ascii_lowercase().contains("transport=tls")
            && contact.contains(&format!(":{}", tls.port())),
        "{contact}"
    );
    // The line's BYE comes back over the caller's TLS connection.
    let reason = phone.ended(&call.call_id()).await?;
    assert!(reason.contains("UasBye"), "{reason}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_caller_trusting_another_authority_is_refused_by_its_own_tls() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (cert, key) = Authority::new("L'autorité de la ligne")?.issue_for_loopback()?;
    let (server, _) = start_server(tls_config(dir.path(), &cert, &key)?, wait_forever).await?;
    let tls = server.tls_addr().expect("TLS configured");
    let stranger = Authority::new("Une autre autorité")?;
    let phone = Phone::trusting(stranger.pem.into_bytes()).await?;
    let media = Media::new().await?;
    let invite = phone.invite(
        tls,
        Transport::Tls,
        "3900",
        Some(media.offer(Offer::Pcmu, None, "")),
        None,
    );
    // Its handshake fails at once; the INVITE would then wait for its transaction's timeout
    // (64×T1): five seconds are ample for an answer through a trusted certificate.
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(5), invite).await;
    let answered = match &outcome {
        Ok(Ok((_, Some(r)))) => Some(r.status_code.code()),
        _ => None,
    };
    assert_ne!(
        answered,
        Some(200),
        "answered through an untrusted certificate"
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn bad_tls_files_stop_the_server_naming_their_setting() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (cert, key) = Authority::new("Autorité")?.issue_for_loopback()?;
    let cases: [(&str, &str, &str); 3] = [
        ("pas un certificat", &key, "[sip.tls] certificate"),
        (&cert, "pas une clé", "[sip.tls] key"),
        (&cert, "", "[sip.tls] key"),
    ];
    for (cert, key, setting) in cases {
        let config = tls_config(dir.path(), cert, key)?;
        let err = match start_server(config, wait_forever).await {
            Ok((server, _)) => {
                server.shutdown().await;
                panic!("{setting}: the server started")
            }
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains(setting), "{setting}: {err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
    }
    let mut missing = tls_config(dir.path(), &cert, &key)?;
    if let Some(tls) = missing.tls.as_mut() {
        tls.certificate = PathBuf::from("/absent/sip.crt");
    }
    let err = format!(
        "{:#}",
        start_server(missing, wait_forever).await.err().unwrap()
    );
    assert!(
        err.contains("[sip.tls] certificate = « /absent/sip.crt »"),
        "{err}"
    );
    Ok(())
}

#[test]
fn the_tls_section_reads_as_the_example_configuration_writes_it() {
    let sip: SipConfig = toml::from_str(
        "[tls]\nlisten = \"0.0.0.0:5061\"\ncertificate = \"/etc/ivr/sip.crt\"\n\
         key = \"/etc/ivr/sip.key\"\n",
    )
    .unwrap();
    let tls = sip.tls.expect("the section");
    assert_eq!(tls.listen, SocketAddr::from(([0, 0, 0, 0], 5061)));
    assert_eq!(tls.ca, None);
    let unknown = toml::from_str::<SipConfig>("[tls]\nlisten = \"0.0.0.0:5061\"\nport = 1\n");
    assert!(unknown.is_err(), "an unknown key is refused");
}
