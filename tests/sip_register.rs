//! Trunk registration against a small registrar written here: it challenges with 401,
//! checks the digest (RFC 2617, MD5 without qop), grants a short expiry and sees the
//! refresh; another one refuses first and sees the retry.

mod common;

use std::net::SocketAddr;

use anyhow::{Context, Result};
use common::*;
use ivr::sip::register::{TrunkRegistration, TrunkStatus};
use ivr::sip::{SipConfig, SipServer, TrunkConfig};
use md5::{Digest, Md5};
use tokio::net::UdpSocket;

const REALM: &str = "trunk.test";
const NONCE: &str = "8f2d1c0b";

fn md5_hex(s: &str) -> String {
    let mut h = Md5::new();
    h.update(s.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A value of `key="v"` or `key=v` in a digest header.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        let k = k.trim().trim_start_matches("Digest ").trim();
        (k == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

struct Registrar {
    socket: UdpSocket,
}

impl Registrar {
    async fn new() -> Result<Self> {
        Ok(Self {
            socket: UdpSocket::bind("127.0.0.1:0").await?,
        })
    }

    fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    async fn next_register(&self) -> Result<(String, SocketAddr)> {
        let mut buf = vec![0u8; 8192];
        guard("a REGISTER", async {
            loop {
                let (n, from) = self.socket.recv_from(&mut buf).await?;
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                if text.starts_with("REGISTER ") {
                    return Ok::<_, anyhow::Error>((text, from));
                }
            }
        })
        .await?
    }

    async fn reply(&self, req: &str, to: SocketAddr, status: &str, extra: &str) -> Result<()> {
        self.socket
            .send_to(text_response(req, status, extra).as_bytes(), to)
            .await?;
        Ok(())
    }

    /// Challenges, then checks the digest of the retried REGISTER; grants `expires`.
    async fn authenticate(&self, user: &str, password: &str, expires: u32) -> Result<()> {
        let (req, from) = self.next_register().await?;
        assert!(
            text_header(&req, "Authorization").is_none(),
            "first REGISTER carries no credentials"
        );
        let challenge = format!(
            "WWW-Authenticate: Digest realm=\"{REALM}\", nonce=\"{NONCE}\", algorithm=MD5\r\n"
        );
        self.reply(&req, from, "401 Unauthorized", &challenge)
            .await?;
        let (req, from) = self.next_register().await?;
        let auth = text_header(&req, "Authorization").context("Authorization header")?;
        assert_eq!(param(auth, "username").as_deref(), Some(user));
        assert_eq!(param(auth, "realm").as_deref(), Some(REALM));
        let uri = param(auth, "uri").context("uri")?;
        let ha1 = md5_hex(&format!("{user}:{REALM}:{password}"));
        let ha2 = md5_hex(&format!("REGISTER:{uri}"));
        let expected = md5_hex(&format!("{ha1}:{NONCE}:{ha2}"));
        assert_eq!(param(auth, "response"), Some(expected), "digest response");
        let contact = text_header(&req, "Contact").context("Contact")?.to_string();
        self.reply(
            &req,
            from,
            "200 OK",
            &format!("Contact: {contact};expires={expires}\r\nExpires: {expires}\r\n"),
        )
        .await
    }
}

fn trunk(registrar: SocketAddr, expires: u32) -> SipConfig {
    SipConfig {
        trunk: Some(TrunkConfig {
            registrar,
            user: "mairie".into(),
            password: "s3cret".into(),
            expires_secs: expires,
            ..TrunkConfig::default()
        }),
        ..test_config()
    }
}

/// A line with `config`'s trunk, registering with it.
async fn registering(config: SipConfig) -> Result<(SipServer, TrunkRegistration)> {
    let (server, _) = start_server(config.clone(), wait_forever).await?;
    let reg = ivr::sip::register::spawn_if_configured(&server, &config).context("a trunk")?;
    Ok((server, reg))
}

#[tokio::test]
async fn registers_with_digest_and_refreshes_before_expiry() -> Result<()> {
    let registrar = Registrar::new().await?;
    let config = trunk(registrar.addr(), 2);
    let (server, reg) = registering(config).await?;
    let mut status = reg.status();
    registrar.authenticate("mairie", "s3cret", 2).await?;
    guard(
        "registered",
        status.wait_for(|s| matches!(s, TrunkStatus::Registered { registrations: 1 })),
    )
    .await??;
    // Granted 2 s: the refresh comes at 1.5 s, challenged and checked again.
    registrar.authenticate("mairie", "s3cret", 2).await?;
    guard(
        "refreshed",
        status.wait_for(|s| matches!(s, TrunkStatus::Registered { registrations: 2 })),
    )
    .await??;
    drop(reg);
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn refused_registration_is_retried() -> Result<()> {
    let registrar = Registrar::new().await?;
    let config = trunk(registrar.addr(), 60);
    let (server, reg) = registering(config).await?;
    let mut status = reg.status();
    let (req, from) = registrar.next_register().await?;
    registrar
        .reply(&req, from, "503 Service Unavailable", "")
        .await?;
    guard(
        "the failure",
        status.wait_for(|s| matches!(s, TrunkStatus::Failed { failures: 1, .. })),
    )
    .await??;
    // After the back-off (1 s) it tries again, and this time gets through.
    registrar.authenticate("mairie", "s3cret", 60).await?;
    guard(
        "registered",
        status.wait_for(|s| matches!(s, TrunkStatus::Registered { .. })),
    )
    .await??;
    drop(reg);
    server.shutdown().await;
    Ok(())
}
