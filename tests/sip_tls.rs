//! SIP over TLS (issue 17, point 1), end to end over loopback: a certificate authority and
//! the line's certificate are made for each run; a caller trusting that authority calls over
//! TLS and is answered, its dialog on the TLS connection; one trusting another authority is
//! refused by its own TLS; bad files stop the server at start-up with their setting named.
//! The line registers with a trunk over TLS, checking the registrar's certificate against
//! the configured authority and the trunk's name, its Contact naming its TLS listener.

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

    /// A certificate for the DNS name `name` only, signed by this authority, and its key.
    fn issue_for_name(&self, name: &str) -> Result<(String, String)> {
        let issuer = self.params.clone().self_signed(&self.key)?;
        let params = CertificateParams::new(vec![name.to_owned()])?;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer, &self.key)?;
        Ok((cert.pem(), key.serialize_pem()))
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

/// A line answering over TLS with a certificate from a fresh authority, whose flow hangs
/// up at once; a phone trusting that authority, and its media. The folder holds the files.
async fn hanging_up_tls_line() -> Result<(
    tempfile::TempDir,
    ivr::sip::SipServer,
    SocketAddr,
    Phone,
    Media,
)> {
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
    Ok((dir, server, tls, phone, media))
}

#[tokio::test]
async fn a_caller_trusting_the_lines_authority_calls_over_tls() -> Result<()> {
    let (_dir, server, tls, phone, media) = hanging_up_tls_line().await?;
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

/// A registrar reached over TLS on loopback, with the certificate the test gives it; it
/// answers every REGISTER with 200 and hands the requests to the test.
struct TlsRegistrar {
    addr: SocketAddr,
    registers: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl TlsRegistrar {
    async fn start(cert_pem: &str, key_pem: &str) -> Result<Self> {
        use rustls_pki_types::pem::PemObject;
        let certs = rustls_pki_types::CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()?;
        let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes())?;
        let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, registers) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    // A client that does not trust us ends the handshake: nothing to serve.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let _ = serve_registers(&mut tls, &tx).await;
                });
            }
        });
        Ok(Self { addr, registers })
    }

    async fn next_register(&mut self) -> Result<String> {
        guard("a REGISTER over TLS", self.registers.recv())
            .await?
            .ok_or_else(|| anyhow::anyhow!("registrar stopped"))
    }
}

/// Reads REGISTERs (no body) from one TLS connection and grants each for 60 s.
async fn serve_registers(
    tls: &mut tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    tx: &tokio::sync::mpsc::UnboundedSender<String>,
) -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tls.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let msg = String::from_utf8_lossy(&buf[..end + 4]).into_owned();
            buf.drain(..end + 4);
            if !msg.starts_with("REGISTER ") {
                continue;
            }
            let contact = text_header(&msg, "Contact").unwrap_or_default().to_owned();
            let reply = text_response(
                &msg,
                "200 OK",
                &format!("Contact: {contact};expires=60\r\nExpires: 60\r\n"),
            );
            tls.write_all(reply.as_bytes()).await?;
            tx.send(msg).ok();
        }
    }
}

/// The line with TLS and the test authority trusted, registering over TLS with the trunk
/// at `registrar` whose certificate must carry `server_name`.
fn tls_trunk(
    dir: &Path,
    authority: &Authority,
    registrar: SocketAddr,
    server_name: Option<&str>,
) -> Result<SipConfig> {
    let (cert, key) = authority.issue_for_loopback()?;
    let mut config = tls_config(dir, &cert, &key)?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &authority.pem)?;
    if let Some(tls) = config.tls.as_mut() {
        tls.ca = Some(ca);
    }
    config.trunk = Some(ivr::sip::TrunkConfig {
        registrar,
        user: "mairie".into(),
        password: "s3cret".into(),
        expires_secs: 60,
        transport: ivr::sip::TrunkTransport::Tls,
        server_name: server_name.map(str::to_owned),
    });
    Ok(config)
}

#[tokio::test]
async fn the_line_registers_over_tls_checking_the_trunk_s_name_and_names_its_tls_listener()
-> Result<()> {
    let authority = Authority::new("Autorité de test")?;
    let (cert, key) = authority.issue_for_name("sip.operateur.test")?;
    let mut registrar = TlsRegistrar::start(&cert, &key).await?;
    let dir = tempfile::tempdir()?;
    let config = tls_trunk(
        dir.path(),
        &authority,
        registrar.addr,
        Some("sip.operateur.test"),
    )?;
    let (server, _) = start_server(config.clone(), wait_forever).await?;
    let tls = server.tls_addr().expect("TLS configured");
    let reg = ivr::sip::register::spawn_if_configured(&server, &config).expect("a trunk");
    let mut status = reg.status();
    let register = registrar.next_register().await?;
    let via = text_header(&register, "Via").unwrap_or_default();
    assert!(via.starts_with("SIP/2.0/TLS"), "{register}");
    let contact = text_header(&register, "Contact")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        contact.contains("transport=tls") && contact.contains(&format!(":{}", tls.port())),
        "the carrier must call back over TLS: {register}"
    );
    guard(
        "registered over TLS",
        status.wait_for(|s| matches!(s, ivr::sip::register::TrunkStatus::Registered { .. })),
    )
    .await??;
    drop(reg);
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_trunk_whose_certificate_another_authority_or_name_vouches_for_is_not_registered_with()
-> Result<()> {
    let ours = Authority::new("Autorité de test")?;
    let theirs = Authority::new("Autre autorité")?;
    for (issuer, name, configured) in [
        (&theirs, "sip.operateur.test", "sip.operateur.test"),
        (&ours, "sip.autre.test", "sip.operateur.test"),
    ] {
        let (cert, key) = issuer.issue_for_name(name)?;
        let mut registrar = TlsRegistrar::start(&cert, &key).await?;
        let dir = tempfile::tempdir()?;
        let mut config = tls_trunk(dir.path(), &ours, registrar.addr, Some(configured))?;
        // The stack retries the handshake until its transaction times out (64 × T1): a
        // short T1 makes that 3.2 s.
        config.t1_ms = 50;
        let (server, _) = start_server(config.clone(), wait_forever).await?;
        let reg = ivr::sip::register::spawn_if_configured(&server, &config).expect("a trunk");
        let mut status = reg.status();
        guard(
            "the failure",
            status.wait_for(|s| matches!(s, ivr::sip::register::TrunkStatus::Failed { .. })),
        )
        .await??;
        assert!(
            registrar.registers.try_recv().is_err(),
            "a REGISTER reached a registrar we should not trust ({name})"
        );
        drop(reg);
        server.shutdown().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_tls_trunk_without_trusted_authorities_stops_the_server_naming_both_settings()
-> Result<()> {
    let authority = Authority::new("Autorité de test")?;
    let dir = tempfile::tempdir()?;
    let mut config = tls_trunk(dir.path(), &authority, "127.0.0.1:5061".parse()?, None)?;
    if let Some(tls) = config.tls.as_mut() {
        tls.ca = None;
    }
    let err = match start_server(config, wait_forever).await {
        Ok(_) => anyhow::bail!("a TLS trunk without authorities was accepted"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("[sip.trunk] transport") && err.contains("[sip.tls]"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn a_sips_uri_is_answered_over_tls_with_a_sips_contact() -> Result<()> {
    let (_dir, server, tls, phone, media) = hanging_up_tls_line().await?;
    let (dialog, resp) = phone
        .invite_uri(
            tls,
            Transport::Tls,
            &format!("sips:3900@{tls}"),
            Some(media.offer(Offer::Pcmu, None, "")),
            None,
        )
        .await?;
    let call = Answered::new(dialog, resp)?;
    // RFC 3261 §8.1.1.8 / RFC 5630: a sips Request-URI is answered with a sips Contact,
    // so the dialog's requests stay on TLS end to end.
    let contact = header(&call.response, "Contact").unwrap_or_default();
    assert!(
        contact.to_ascii_lowercase().contains("sips:")
            && contact.contains(&format!(":{}", tls.port())),
        "{contact}"
    );
    let id = call.call_id();
    guard("the line's BYE", phone.ended(&id)).await??;
    server.shutdown().await;
    Ok(())
}
