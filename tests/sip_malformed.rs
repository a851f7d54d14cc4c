//! Requests that RFC 3261 answers with an error, sent raw over loopback (UDP datagrams and a
//! TCP connection): the torture messages of `tests/fixtures/rfc4475/` (missing headers,
//! wrong Content-Length, bad CSeq, unknown Require, other version) and a message over our
//! size limit. rsipstack dropped most of them unanswered or took them as they came.

mod common;

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

fn fixture(name: &str) -> Result<Vec<u8>> {
    let path = format!(
        "{}/tests/fixtures/rfc4475/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).with_context(|| path.clone())?;
    anyhow::ensure!(
        bytes.windows(4).any(|w| w == b"\r\n\r\n"),
        "{path} lost its CRLF line ends"
    );
    Ok(bytes)
}

/// The first response `socket` receives, as text.
async fn udp_answer(server: SocketAddr, message: &[u8]) -> Result<String> {
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    socket.send_to(message, server).await?;
    let mut buf = vec![0u8; 65_536];
    let (len, _) = guard("a response", socket.recv_from(&mut buf)).await??;
    Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
}

/// The first response on a TCP connection that sent `message`.
async fn tcp_answer(server: SocketAddr, message: &[u8]) -> Result<String> {
    let mut stream = TcpStream::connect(server).await?;
    stream.write_all(message).await?;
    let mut buf = vec![0u8; 65_536];
    let mut got = Vec::new();
    guard("a response", async {
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                bail!("connection closed without a response");
            }
            got.extend_from_slice(&buf[..n]);
        }
        Ok(())
    })
    .await??;
    Ok(String::from_utf8_lossy(&got).into_owned())
}

fn status_of(response: &str) -> &str {
    response
        .strip_prefix("SIP/2.0 ")
        .and_then(|s| s.get(..3))
        .unwrap_or("none")
}

#[tokio::test]
async fn torture_messages_get_the_rfc_answers_over_udp() -> Result<()> {
    let (server, metrics) = start_server(test_config(), wait_forever).await?;
    let cases = [
        ("insuf.sip", "400"),
        ("clerror.sip", "400"),
        ("ncl.sip", "400"),
        ("scalar02.sip", "400"),
        ("badvers.sip", "505"),
        ("cseq-negative.sip", "400"),
        ("require-nothingrequired.sip", "420"),
    ];
    for (name, want) in cases {
        let answer = udp_answer(server.udp_addr(), &fixture(name)?)
            .await
            .with_context(|| name.to_string())?;
        assert_eq!(status_of(&answer), want, "{name}:\n{answer}");
        // The answer names the request it answers (RFC 3261 §8.2.6.2).
        let request = String::from_utf8(fixture(name)?)?;
        for header in ["Call-ID", "CSeq", "Via"] {
            if let Some(v) = text_header(&request, header) {
                assert_eq!(text_header(&answer, header), Some(v), "{name}: {header}");
            }
        }
        if want == "420" {
            assert_eq!(
                text_header(&answer, "Unsupported"),
                Some("nothingrequired"),
                "{answer}"
            );
        }
    }
    let text = metrics.render();
    assert!(
        text.contains(&format!("ivr_sip_requests_refused_total {}\n", cases.len())),
        "{text}"
    );
    assert!(text.contains("ivr_calls_total 0\n"), "{text}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn torture_messages_get_the_rfc_answers_over_tcp() -> Result<()> {
    let (server, _) = start_server(test_config(), wait_forever).await?;
    // Over a stream the Content-Length frames the message: clerror would only wait for the
    // rest of its body, and ncl cannot be framed at all.
    for (name, want) in [
        ("insuf.sip", "400"),
        ("scalar02.sip", "400"),
        ("cseq-negative.sip", "400"),
        ("require-nothingrequired.sip", "420"),
    ] {
        let answer = tcp_answer(server.tcp_addr(), &fixture(name)?)
            .await
            .with_context(|| name.to_string())?;
        assert_eq!(status_of(&answer), want, "{name}:\n{answer}");
    }
    server.shutdown().await;
    Ok(())
}

/// An INVITE of 10,000 bytes (a large SDP): over UDP it used to be cut at 8 KB and parsed
/// half; now it is read whole and answered 513, over UDP and TCP alike.
#[tokio::test]
async fn a_message_over_the_limit_gets_513() -> Result<()> {
    let (server, metrics) = start_server(test_config(), wait_forever).await?;
    let media = Media::new().await?;
    let mut sdp = String::from_utf8(media.offer(Offer::Pcmu, None, ""))?;
    while sdp.len() < 10_000 {
        sdp.push_str("a=x-padding:0123456789012345678901234567890123456789\r\n");
    }
    let invite = |call_id: &str| {
        format!(
            "INVITE sip:3900@{addr} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{call_id}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:big@127.0.0.1>;tag=big\r\n\
             To: <sip:3900@{addr}>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: 1 INVITE\r\n\
             Contact: <sip:big@127.0.0.1:5999>\r\n\
             Content-Type: application/sdp\r\n\
             Content-Length: {len}\r\n\r\n{sdp}",
            addr = server.udp_addr(),
            len = sdp.len(),
        )
    };
    let answer = udp_answer(server.udp_addr(), invite("big-udp").as_bytes()).await?;
    assert_eq!(status_of(&answer), "513", "{answer}");
    assert_eq!(text_header(&answer, "Call-ID"), Some("big-udp"));
    let answer = tcp_answer(server.tcp_addr(), invite("big-tcp").as_bytes()).await?;
    assert_eq!(status_of(&answer), "513", "{answer}");
    let text = metrics.render();
    assert!(text.contains("ivr_calls_total 0\n"), "{text}");
    server.shutdown().await;
    Ok(())
}

/// The edge lets a well-formed request through: the OPTIONS of the Require case, without
/// its Require, is answered 200 by the line itself.
#[tokio::test]
async fn well_formed_requests_pass_the_edge() -> Result<()> {
    let (server, metrics) = start_server(test_config(), wait_forever).await?;
    let ok = String::from_utf8(fixture("require-nothingrequired.sip")?)?
        .replace("Require: nothingrequired\r\n", "")
        .replace("Call-ID: unsup.", "Call-ID: fine.");
    let answer = udp_answer(server.udp_addr(), ok.as_bytes()).await?;
    assert_eq!(status_of(&answer), "200", "{answer}");
    assert!(
        metrics
            .render()
            .contains("ivr_sip_requests_refused_total 0\n")
    );
    server.shutdown().await;
    Ok(())
}
