//! A minimal SMTP receiver on loopback (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET,
//! NOOP, QUIT; no TLS, no AUTH) for tests and demos: it accepts what lettre sends and hands
//! each message over a channel. Never meant to face the Internet.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The largest message accepted (bytes); larger ones get `552`.
const MAX_MESSAGE: usize = 1 << 20;

/// One message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`).
    pub rcpt_to: Vec<String>,
    /// The message (headers and body), dot-unstuffed, CRLF line ends.
    pub data: Vec<u8>,
}

/// How the server answers `RCPT TO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RcptPolicy {
    /// `250` to every recipient.
    AcceptAll,
    /// `550` (permanent: no such mailbox) to every recipient.
    RejectPermanently,
    /// `451` (transient: try again later) to every recipient.
    RejectTemporarily,
}

/// A running receiver; dropping it stops accepting connections.
#[derive(Debug)]
pub struct TestSmtpServer {
    addr: SocketAddr,
    received: mpsc::UnboundedReceiver<ReceivedMail>,
    task: JoinHandle<()>,
}

impl Drop for TestSmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestSmtpServer {
    /// Listens on `127.0.0.1:0`.
    pub async fn start(policy: RcptPolicy) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    if let Err(e) = session(stream, policy, tx).await {
                        tracing::debug!(error = %e, "session SMTP de test interrompue");
                    }
                });
            }
        });
        Ok(Self {
            addr,
            received: rx,
            task,
        })
    }

    /// The address to configure as `smtp_host`/`smtp_port`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The next message received, or `None` if none arrives within `guard`.
    pub async fn next_mail(&mut self, guard: Duration) -> Option<ReceivedMail> {
        tokio::time::timeout(guard, self.received.recv())
            .await
            .ok()
            .flatten()
    }
}

fn angle_address(arg: &str) -> String {
    // "FROM:<a@b> SIZE=12" -> "a@b"
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg[start..].find('>').map_or(arg.len(), |i| start + i);
    arg[start..end].to_owned()
}

async fn session(
    stream: TcpStream,
    policy: RcptPolicy,
    tx: mpsc::UnboundedSender<ReceivedMail>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 ivr-test ESMTP\r\n").await?;
    let mut from = String::new();
    let mut rcpt = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-ivr-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "NOOP" => b"250 OK\r\n",
            "RSET" => {
                from.clear();
                rcpt.clear();
                b"250 OK\r\n"
            }
            "MAIL" => {
                from = angle_address(command);
                b"250 OK\r\n"
            }
            "RCPT" => match policy {
                RcptPolicy::AcceptAll => {
                    rcpt.push(angle_address(command));
                    b"250 OK\r\n"
                }
                RcptPolicy::RejectPermanently => b"550 5.1.1 Mailbox unavailable\r\n",
                RcptPolicy::RejectTemporarily => b"451 4.3.0 Try again later\r\n",
            },
            "DATA" if rcpt.is_empty() => b"554 5.5.1 No valid recipients\r\n",
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = Vec::new();
                let mut too_big = false;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    // RFC 5321 §4.5.2: a leading dot was doubled by the client.
                    let text = line.strip_prefix('.').unwrap_or(&line);
                    if data.len() + text.len() > MAX_MESSAGE {
                        too_big = true;
                    } else {
                        data.extend_from_slice(text.as_bytes());
                    }
                }
                if too_big {
                    b"552 5.3.4 Message too big\r\n"
                } else {
                    let _ = tx.send(ReceivedMail {
                        mail_from: std::mem::take(&mut from),
                        rcpt_to: std::mem::take(&mut rcpt),
                        data,
                    });
                    b"250 2.0.0 Queued\r\n"
                }
            }
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Command not recognized\r\n",
        };
        write.write_all(reply).await?;
    }
}
