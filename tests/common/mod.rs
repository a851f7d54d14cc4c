//! A test caller built on rsipstack: places real SIP calls over loopback, sends and receives
//! RTP, and sends DTMF by RFC 4733 and SIP INFO. Shared by the `sip_*` integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use ivr::call::{Call, CallFlow, Digit, SingleFlow};
use ivr::media::Prompt;
use ivr::metrics::Metrics;
use ivr::sip::client::{UserAgent, settle};
use ivr::sip::{SipConfig, SipServer};
use rsipstack::dialog::DialogId;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, Response, Transport};
use rsipstack::transport::SipAddr;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

mod line;
pub use line::*;

/// Guard for every await in the tests: long enough never to fire on a healthy run.
pub const GUARD: Duration = Duration::from_secs(10);

/// Awaits `fut` with the guard timeout.
pub async fn guard<T>(what: &str, fut: impl std::future::Future<Output = T>) -> Result<T> {
    tokio::time::timeout(GUARD, fut)
        .await
        .map_err(|_| anyhow!("timed out waiting for {what}"))
}

/// Test logs: `RUST_LOG=ivr=debug cargo test ...` shows the server's side.
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,rsipstack=error".into()),
        )
        .with_test_writer()
        .try_init();
}

/// A server config for tests: loopback, free ports.
pub fn test_config() -> SipConfig {
    SipConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        rtp_port_min: 0,
        rtp_port_max: 0,
        ..SipConfig::default()
    }
}

/// Starts a server whose every number runs `flow`.
pub async fn start_server(
    config: SipConfig,
    flow: impl CallFlow,
) -> Result<(SipServer, Arc<Metrics>)> {
    init_logs();
    let metrics = Metrics::new();
    let flow: Arc<dyn CallFlow> = Arc::new(flow);
    let server = SipServer::start(config, Arc::new(SingleFlow(flow)), metrics.clone()).await?;
    Ok((server, metrics))
}

/// A flow that reports every digit on a channel; it never hangs up by itself: the caller
/// does.
pub fn digit_reporter() -> (impl CallFlow, mpsc::UnboundedReceiver<Digit>) {
    prompt_then_digits(None)
}

/// A flow that plays `prompt` (if any), then reports every digit on a channel until the
/// caller hangs up.
pub fn prompt_then_digits(
    prompt: Option<Arc<Prompt>>,
) -> (impl CallFlow, mpsc::UnboundedReceiver<Digit>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let flow = move |call: Call| {
        let tx = tx.clone();
        let prompt = prompt.clone();
        async move {
            if let Some(prompt) = prompt {
                let _ = call.play(vec![prompt], false).await;
            }
            while let Ok(Some(d)) = call.next_digit(None).await {
                if tx.send(d).is_err() {
                    break;
                }
            }
        }
    };
    (flow, rx)
}

/// Receives the digits a [`digit_reporter`] flow heard until `sentinel` (included), as text.
pub async fn digits_until(
    rx: &mut mpsc::UnboundedReceiver<Digit>,
    sentinel: char,
) -> Result<String> {
    let mut got = String::new();
    guard("the digits", async {
        while let Some(d) = rx.recv().await {
            got.push(d.to_char());
            if d.to_char() == sentinel {
                break;
            }
        }
    })
    .await?;
    Ok(got)
}

/// A flow that waits until the caller hangs up.
pub async fn wait_forever(call: Call) {
    let _ = call.next_digit(None).await;
    std::future::pending::<()>().await
}

/// The caller's side: the project's calling user agent on loopback.
pub struct Phone {
    pub dialogs: Arc<DialogLayer>,
    ua: UserAgent,
    /// Call-IDs whose dialog ended, with the reason.
    ended: watch::Receiver<Vec<(String, String)>>,
    pub addr: SocketAddr,
    /// The number its calls come from (the From and Contact user).
    from: String,
    /// Headers added to every INVITE.
    headers: Vec<Header>,
}

/// Audio offer choices for the test caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    Pcmu,
    Pcma,
    Opus,
}

impl Phone {
    /// A phone on 127.0.0.1 calling from 0600000000.
    pub async fn new() -> Result<Self> {
        Self::relaying("127.0.0.1", "0600000000", Vec::new()).await
    }

    /// A phone at `ip` (one of the loopback network's) whose calls come from `from` with
    /// `headers` added: a trunk relaying a caller, or anyone writing headers.
    pub async fn relaying(ip: &str, from: &str, headers: Vec<Header>) -> Result<Self> {
        Self::with_agent(
            UserAgent::start(format!("{ip}:0").parse()?, "ivr-test-phone").await?,
            from,
            headers,
        )
    }

    /// A phone on 127.0.0.1 whose calls over TLS trust the authorities of `ca` (PEM).
    pub async fn trusting(ca: Vec<u8>) -> Result<Self> {
        let ua =
            UserAgent::start_trusting("127.0.0.1:0".parse()?, "ivr-test-phone", Some(ca)).await?;
        Self::with_agent(ua, "0600000000", Vec::new())
    }

    fn with_agent(
        (ua, mut states): (UserAgent, rsipstack::dialog::dialog::DialogStateReceiver),
        from: &str,
        headers: Vec<Header>,
    ) -> Result<Self> {
        let (ended_tx, ended) = watch::channel(Vec::new());
        let d = ua.dialogs.clone();
        tokio::spawn(async move {
            while let Some(state) = states.recv().await {
                if let Some((call_id, reason)) = settle(&d, state) {
                    ended_tx.send_modify(|v| v.push((call_id, format!("{reason:?}"))));
                }
            }
        });
        Ok(Self {
            dialogs: ua.dialogs.clone(),
            addr: ua.addr,
            ua,
            ended,
            from: from.to_string(),
            headers,
        })
    }

    /// Sends an INVITE to `server` for `dialled` with `body` as SDP (None: late offer is
    /// not done here, see the raw tests) and returns the dialog and final response.
    pub async fn invite(
        &self,
        server: SocketAddr,
        transport: Transport,
        dialled: &str,
        body: Option<Vec<u8>>,
        call_id: Option<String>,
    ) -> Result<(InviteDialog, Option<Response>)> {
        let callee = match transport {
            Transport::Tcp => format!("sip:{dialled}@{server};transport=tcp"),
            Transport::Tls => format!("sip:{dialled}@{server};transport=tls"),
            _ => format!("sip:{dialled}@{server}"),
        };
        self.invite_uri(server, transport, &callee, body, call_id)
            .await
    }

    /// Sends an INVITE for the Request-URI `callee` (e.g. a `sips:` one) to `server` over
    /// `transport`; see [`Phone::invite`].
    pub async fn invite_uri(
        &self,
        server: SocketAddr,
        transport: Transport,
        callee: &str,
        body: Option<Vec<u8>>,
        call_id: Option<String>,
    ) -> Result<(InviteDialog, Option<Response>)> {
        let me = format!("sip:{}@{}", self.from, self.addr);
        let opt = InviteOption {
            caller: me.as_str().try_into()?,
            callee: callee.try_into()?,
            contact: me.as_str().try_into()?,
            content_type: body.as_ref().map(|_| "application/sdp".to_string()),
            offer: body,
            destination: Some(SipAddr {
                r#type: Some(transport),
                addr: server.into(),
            }),
            call_id,
            headers: (!self.headers.is_empty()).then(|| self.headers.clone()),
            ..Default::default()
        };
        Ok(self
            .dialogs
            .do_invite(opt, self.ua.state_tx.clone())
            .await?)
    }

    /// Calls `dialled` on `server` over `transport` with the usual PCMU offer of `media`.
    pub async fn call_pcmu(
        &self,
        server: SocketAddr,
        transport: Transport,
        dialled: &str,
        media: &Media,
    ) -> Result<(InviteDialog, Option<Response>)> {
        let offer = media.offer(Offer::Pcmu, None, "");
        self.invite(server, transport, dialled, Some(offer), None)
            .await
    }

    /// Calls `dialled` on `server` over `transport` offering `offer` (SDP); fails unless the
    /// line answers 200 with an SDP answer.
    pub async fn answered(
        &self,
        server: SocketAddr,
        transport: Transport,
        dialled: &str,
        offer: Vec<u8>,
    ) -> Result<Answered> {
        let (dialog, resp) = self
            .invite(server, transport, dialled, Some(offer), None)
            .await?;
        Answered::new(dialog, resp)
    }

    /// Waits until the dialog of `call_id` has ended; returns the reason.
    pub async fn ended(&self, call_id: &str) -> Result<String> {
        let mut rx = self.ended.clone();
        let v = guard(
            "the end of the dialog",
            rx.wait_for(|v| v.iter().any(|(c, _)| c == call_id)),
        )
        .await??;
        Ok(v.iter()
            .find(|(c, _)| c == call_id)
            .map(|(_, r)| r.clone())
            .unwrap_or_default())
    }
}

/// The caller's RTP side.
pub struct Media {
    pub socket: UdpSocket,
}

impl Media {
    pub async fn new() -> Result<Self> {
        Ok(Self {
            socket: UdpSocket::bind("127.0.0.1:0").await?,
        })
    }

    pub fn port(&self) -> u16 {
        self.socket.local_addr().unwrap().port()
    }

    /// Receives the line's RTP until a packet `stop` accepts; returns how many came before
    /// it (packets that are not RTP count among them).
    pub async fn rtp_until(
        &self,
        what: &str,
        mut stop: impl FnMut(&rtp_rs::RtpReader) -> bool,
    ) -> Result<usize> {
        let mut buf = vec![0u8; 2048];
        let mut before = 0;
        guard(what, async {
            loop {
                let (n, _) = self.socket.recv_from(&mut buf).await?;
                if rtp_rs::RtpReader::new(&buf[..n]).is_ok_and(|r| stop(&r)) {
                    return Ok::<_, anyhow::Error>(before);
                }
                before += 1;
            }
        })
        .await?
    }

    /// An SDP offer for `codec`, with telephone-event at `te_pt`/`te_rate` and extra lines.
    pub fn offer(&self, codec: Offer, te: Option<(u8, u32)>, extra: &str) -> Vec<u8> {
        let (pt, map) = match codec {
            Offer::Pcmu => (0, "a=rtpmap:0 PCMU/8000\r\n".to_string()),
            Offer::Pcma => (8, "a=rtpmap:8 PCMA/8000\r\n".to_string()),
            Offer::Opus => (111, "a=rtpmap:111 opus/48000/2\r\n".to_string()),
        };
        let (fmt_te, map_te) = match te {
            Some((p, rate)) => (
                format!(" {p}"),
                format!("a=rtpmap:{p} telephone-event/{rate}\r\na=fmtp:{p} 0-16\r\n"),
            ),
            None => (String::new(), String::new()),
        };
        format!(
            "v=0\r\no=phone 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP {pt}{fmt_te}\r\n{map}{map_te}{extra}",
            port = self.port()
        )
        .into_bytes()
    }
}

/// The RTP port and address of the server's SDP in a response.
pub fn answer_media(resp: &Response) -> Result<(SocketAddr, String)> {
    let body = String::from_utf8(resp.body.clone())?;
    let c = body
        .lines()
        .find_map(|l| l.strip_prefix("c=IN IP4 "))
        .context("no c= line")?;
    let port = body
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split(' ').next())
        .context("no m= line")?;
    Ok((format!("{}:{}", c.trim(), port).parse()?, body))
}

/// The `o=` version of an SDP.
pub fn sdp_version(sdp: &str) -> Result<u64> {
    let o = sdp
        .lines()
        .find_map(|l| l.strip_prefix("o="))
        .context("no o=")?;
    Ok(o.split(' ').nth(2).context("short o=")?.parse()?)
}

/// Content-Type header for SIP INFO DTMF.
pub fn dtmf_relay_headers() -> Vec<Header> {
    vec![Header::ContentType("application/dtmf-relay".into())]
}

/// Fails unless `r` is a response with status `code`.
pub fn expect_status(r: &Option<Response>, code: u16) -> Result<()> {
    match r {
        Some(r) if u16::from(r.status_code.clone()) == code => Ok(()),
        Some(r) => bail!("expected {code}, got {}", r.status_code),
        None => bail!("expected {code}, got no response"),
    }
}

/// The dialog id's Call-ID.
pub fn call_id_of(d: &InviteDialog) -> String {
    let id: DialogId = d.id();
    id.call_id
}

/// A header's value in a raw SIP message's text (the first of that name).
pub fn text_header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A response with `status` to the raw request `req`: its Via, From, To (given a tag),
/// Call-ID and CSeq (RFC 3261 §8.2.6.2), then the `extra` header lines.
pub fn text_response(req: &str, status: &str, extra: &str) -> String {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        if let Some(v) = text_header(req, name) {
            let v = if name == "To" && !v.contains("tag=") {
                format!("{v};tag=raw1")
            } else {
                v.to_string()
            };
            out.push_str(&format!("{name}: {v}\r\n"));
        }
    }
    out.push_str(extra);
    out.push_str("Content-Length: 0\r\n\r\n");
    out
}

/// A raw UDP SIP peer, for the cases where the test must control every byte (OPTIONS out of
/// dialog, late offer with the answer in the ACK).
pub struct RawPeer {
    pub socket: UdpSocket,
    pub server: SocketAddr,
}

impl RawPeer {
    pub async fn new(server: SocketAddr) -> Result<Self> {
        Ok(Self {
            socket: UdpSocket::bind("127.0.0.1:0").await?,
            server,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    /// Sends a request built from its parts.
    #[allow(clippy::too_many_arguments)]
    pub async fn send(
        &self,
        method: &str,
        call_id: &str,
        cseq: u32,
        branch: &str,
        to_tag: Option<&str>,
        body: Option<&str>,
    ) -> Result<()> {
        let to = match to_tag {
            Some(tag) => format!("<sip:ivr@{}>;tag={tag}", self.server),
            None => format!("<sip:ivr@{}>", self.server),
        };
        let (ct, body) = match body {
            Some(b) => ("Content-Type: application/sdp\r\n", b),
            None => ("", ""),
        };
        let msg = format!(
            "{method} sip:ivr@{server} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {addr};branch={branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:raw@{addr}>;tag=rawtag\r\n\
             To: {to}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} {method}\r\n\
             Contact: <sip:raw@{addr}>\r\n\
             {ct}Content-Length: {len}\r\n\r\n{body}",
            server = self.server,
            addr = self.addr(),
            len = body.len(),
        );
        self.socket.send_to(msg.as_bytes(), self.server).await?;
        Ok(())
    }

    /// Sends a request as [`RawPeer::send`] does (its branch made of the other parts) and
    /// returns its final response.
    pub async fn ask(
        &self,
        method: &str,
        call_id: &str,
        cseq: u32,
        to_tag: Option<&str>,
        body: Option<&str>,
    ) -> Result<Response> {
        let branch = format!("z9hG4bK{call_id}-{method}-{cseq}");
        self.send(method, call_id, cseq, &branch, to_tag, body)
            .await?;
        self.final_response(cseq).await
    }

    /// The next final response to `cseq` (provisional ones skipped).
    pub async fn final_response(&self, cseq: u32) -> Result<Response> {
        use rsipstack::sip::SipMessage;
        use rsipstack::sip::prelude::HeadersExt;
        let mut buf = vec![0u8; 8192];
        guard("a final response", async {
            loop {
                let (len, _) = self.socket.recv_from(&mut buf).await?;
                let text = std::str::from_utf8(&buf[..len])?;
                if let Ok(SipMessage::Response(resp)) = SipMessage::try_from(text)
                    && resp.cseq_header()?.seq()? == cseq
                    && resp.status_code.code() >= 200
                {
                    return Ok::<_, anyhow::Error>(resp);
                }
            }
        })
        .await?
    }

    /// The next request the server sends us (BYE...), as text.
    pub async fn next_request(&self) -> Result<String> {
        let mut buf = vec![0u8; 8192];
        guard("a request", async {
            loop {
                let (len, _) = self.socket.recv_from(&mut buf).await?;
                let text = String::from_utf8_lossy(&buf[..len]).into_owned();
                if !text.starts_with("SIP/2.0") {
                    return Ok::<_, anyhow::Error>(text);
                }
            }
        })
        .await?
    }
}

/// The To tag of a response.
pub fn to_tag(resp: &Response) -> Result<String> {
    use rsipstack::sip::prelude::HeadersExt;
    Ok(resp.to_header()?.tag()?.context("no To tag")?.to_string())
}

/// A header value of a response, by name.
pub fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers.iter().find_map(|h| {
        let s = h.to_string();
        let (n, v) = s.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// A test tone prompt: a sweep from 300 to 3000 Hz over 0.6 s at 8 kHz (distinctive enough
/// that a correlation finds its alignment), shared by the media tests.
pub fn sweep_prompt() -> Arc<ivr::media::Prompt> {
    let rate = 8_000.0f32;
    let n = (0.6 * rate) as usize;
    let mut phase = 0.0f32;
    let samples: Vec<i16> = (0..n)
        .map(|i| {
            let f = 300.0 + 2700.0 * i as f32 / n as f32;
            phase += 2.0 * std::f32::consts::PI * f / rate;
            (9_000.0 * phase.sin()) as i16
        })
        .collect();
    Arc::new(ivr::media::Prompt::from_pcm("sweep", &samples, 8_000).expect("tone prompt"))
}

/// One RTP packet built by the test caller.
pub fn rtp_packet(pt: u8, seq: u16, ts: u32, ssrc: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    rtp_rs::RtpPacketBuilder::new()
        .payload_type(pt)
        .ssrc(ssrc)
        .sequence(rtp_rs::Seq::from(seq))
        .timestamp(ts)
        .marked(marker)
        .payload(payload)
        .build()
        .expect("test RTP packet")
}

/// The caller's outbound RTP state: sends RFC 4733 presses and silence.
pub struct RtpOut {
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub to: SocketAddr,
    /// RTP clock ticks per 20 ms (160 at 8 kHz, 960 at 48 kHz).
    pub tick20: u32,
}

impl RtpOut {
    pub fn new(to: SocketAddr, clock_rate: u32) -> Self {
        Self {
            seq: 1000,
            ts: 50_000,
            ssrc: 0x1234_5678,
            to,
            tick20: clock_rate / 50,
        }
    }

    async fn send(
        &mut self,
        sock: &UdpSocket,
        pt: u8,
        ts: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<()> {
        let p = rtp_packet(pt, self.seq, ts, self.ssrc, marker, payload);
        self.seq = self.seq.wrapping_add(1);
        sock.send_to(&p, self.to).await?;
        Ok(())
    }

    /// One key press as RFC 4733 §2.5 senders do: start (marker), two updates, the end
    /// packet three times, all with the press's timestamp.
    pub async fn press(&mut self, sock: &UdpSocket, pt: u8, key: char) -> Result<()> {
        let event = Digit::from_char(key).context("key")?.event_code();
        let ts = self.ts;
        for (i, (end, dur)) in [
            (false, 1u32),
            (false, 2),
            (false, 3),
            (true, 4),
            (true, 4),
            (true, 4),
        ]
        .into_iter()
        .enumerate()
        {
            let duration = (dur * self.tick20) as u16;
            let payload = [
                event,
                if end { 0x80 | 10 } else { 10 },
                (duration >> 8) as u8,
                duration as u8,
            ];
            self.send(sock, pt, ts, i == 0, &payload).await?;
        }
        self.ts = self.ts.wrapping_add(6 * self.tick20);
        Ok(())
    }

    /// Types `keys` one after the other, each as [`RtpOut::press`] sends it.
    pub async fn keys(&mut self, sock: &UdpSocket, pt: u8, keys: &str) -> Result<()> {
        for key in keys.chars() {
            self.press(sock, pt, key).await?;
        }
        Ok(())
    }

    /// One packet of G.711 audio (already encoded), 20 ms.
    pub async fn audio(&mut self, sock: &UdpSocket, pt: u8, payload: &[u8]) -> Result<()> {
        let ts = self.ts;
        self.send(sock, pt, ts, false, payload).await?;
        self.ts = self.ts.wrapping_add(self.tick20);
        Ok(())
    }

    /// Types `keys` as in-band tones in PCMU audio ([`inband_key_packets`]), no event.
    pub async fn tones(&mut self, sock: &UdpSocket, keys: &str) -> Result<()> {
        for key in keys.chars() {
            for p in inband_key_packets(key) {
                self.audio(sock, 0, &p).await?;
            }
        }
        Ok(())
    }
}

/// Receives RTP on `sock` until `want` packets of the talk-spurt that starts with a marker
/// bit have arrived; returns (payload type, payloads from that marker on, all payloads).
pub async fn receive_spurt(
    sock: &UdpSocket,
    want: usize,
) -> Result<(u8, Vec<Vec<u8>>, Vec<Vec<u8>>)> {
    let mut buf = vec![0u8; 2048];
    let mut all = Vec::new();
    let mut spurt: Option<Vec<Vec<u8>>> = None;
    let mut pt = 0;
    let mut last_seq: Option<u16> = None;
    guard("the prompt's RTP", async {
        loop {
            let (len, _) = sock.recv_from(&mut buf).await?;
            let r = rtp_rs::RtpReader::new(&buf[..len]).map_err(|e| anyhow!("bad RTP {e:?}"))?;
            let seq = u16::from(r.sequence_number());
            if let Some(prev) = last_seq {
                // Sequence numbers are continuous (loopback loses nothing).
                anyhow::ensure!(seq == prev.wrapping_add(1), "sequence jump {prev} -> {seq}");
            }
            last_seq = Some(seq);
            pt = r.payload_type();
            all.push(r.payload().to_vec());
            if r.mark() && spurt.is_none() {
                spurt = Some(Vec::new());
            }
            if let Some(s) = spurt.as_mut() {
                s.push(r.payload().to_vec());
                if s.len() >= want {
                    return Ok::<_, anyhow::Error>(());
                }
            }
        }
    })
    .await??;
    Ok((pt, spurt.unwrap_or_default(), all))
}

/// µ-law packets (20 ms each) of the DTMF tone pair of `key`: 100 ms of tone at about
/// −10 dBm0 per tone, then 100 ms of silence (ITU-T Q.24 durations with margin).
pub fn inband_key_packets(key: char) -> Vec<Vec<u8>> {
    let d = Digit::from_char(key).expect("key");
    let (lo, hi) = d.frequencies();
    let mut packets = Vec::new();
    for p in 0..10 {
        let payload: Vec<u8> = (0..160)
            .map(|i| {
                let n = (p * 160 + i) as f32;
                let v = if p < 5 {
                    let t = n / 8000.0;
                    6000.0 * (2.0 * std::f32::consts::PI * lo * t).sin()
                        + 6000.0 * (2.0 * std::f32::consts::PI * hi * t).sin()
                } else {
                    0.0
                };
                ivr::media::g711::ulaw_encode(v as i16)
            })
            .collect();
        packets.push(payload);
    }
    packets
}

/// `samples` of a 440 Hz tone at 8 kHz, amplitude 8000: someone speaking, for the tests.
pub fn tone_440(samples: usize) -> Vec<i16> {
    (0..samples)
        .map(|i| (8000.0 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 8000.0).sin()) as i16)
        .collect()
}

/// `pcm` (8 kHz) as PCMU payloads of 20 ms each.
pub fn pcmu_packets(pcm: &[i16]) -> Vec<Vec<u8>> {
    pcm.chunks(160)
        .map(|c| ivr::media::g711::Law::Ulaw.encode(c))
        .collect()
}

/// Fails unless `/metrics` shows `line` now; the error holds them all.
pub fn expect_metric(metrics: &Metrics, line: &str) -> Result<()> {
    let text = metrics.render();
    anyhow::ensure!(text.contains(line), "no {line:?} in /metrics:\n{text}");
    Ok(())
}

/// Waits until `/metrics` shows `line` (the RTP thread adds its tick's counts after the
/// tick, so a digit can reach the flow a moment before its tick's counters do).
pub async fn metrics_come_to_show(metrics: &Metrics, line: &str) -> Result<()> {
    guard(line, async {
        while !metrics.render().contains(line) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .with_context(|| metrics.render())
}
