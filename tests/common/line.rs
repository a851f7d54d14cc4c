//! A line under test and its caller: the server running a flow, one phone with its RTP
//! socket to dial it, and the calls the line answers.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result, ensure};
use ivr::call::{CallFlow, FlowSelector};
use ivr::metrics::Metrics;
use ivr::sip::{SipConfig, SipServer};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, Response, Transport};

use super::{
    Media, Offer, Phone, RawPeer, RtpOut, answer_media, call_id_of, expect_status, guard,
    init_logs, start_server, test_config,
};

/// The number the tests dial (a single-flow server runs the same flow for every number).
pub const NUMBER: &str = "3900";

/// telephone-event at payload type 101, 8 kHz: the keypad most phones offer.
pub const TE_8K: (u8, u32) = (101, 8_000);

/// A call the line answered 200 with SDP: the caller's dialog and what the answer said.
pub struct Answered {
    pub dialog: InviteDialog,
    pub response: Response,
    /// The line's SDP answer.
    pub sdp: String,
    /// Where the line receives the call's RTP (the answer's c= and m= lines).
    pub rtp: SocketAddr,
}

impl Answered {
    /// The call of `dialog`; fails unless `resp` is a 200 with an SDP answer.
    pub fn new(dialog: InviteDialog, resp: Option<Response>) -> Result<Self> {
        expect_status(&resp, 200)?;
        let response = resp.context("no response")?;
        let (rtp, sdp) = answer_media(&response)?;
        Ok(Self {
            dialog,
            response,
            sdp,
            rtp,
        })
    }

    pub fn call_id(&self) -> String {
        call_id_of(&self.dialog)
    }

    /// The caller's RTP sender (keys, audio) aimed at the line's RTP address, for a codec
    /// clocked at `clock_rate`.
    pub fn sender(&self, clock_rate: u32) -> RtpOut {
        RtpOut::new(self.rtp, clock_rate)
    }

    /// Sends a re-INVITE offering `offer` (SDP); returns the final response, unjudged.
    pub async fn reinvite(&self, offer: Vec<u8>) -> Result<Option<Response>> {
        let sdp = vec![Header::ContentType("application/sdp".into())];
        Ok(self.dialog.reinvite(Some(sdp), Some(offer)).await?)
    }

    /// Re-INVITEs offering `offer`; fails unless the line answers 200 with SDP, which it
    /// returns.
    pub async fn reoffer(&self, offer: Vec<u8>) -> Result<String> {
        let resp = self.reinvite(offer).await?;
        expect_status(&resp, 200)?;
        Ok(answer_media(resp.as_ref().context("no response")?)?.1)
    }

    /// The caller hangs up (BYE).
    pub async fn hang_up(&self) -> Result<()> {
        Ok(self.dialog.bye().await?)
    }
}

/// A line under test: a SIP server on loopback with its metrics, and one caller (a SIP
/// phone and its RTP socket) to dial it.
pub struct Line {
    pub server: SipServer,
    pub metrics: Arc<Metrics>,
    pub phone: Phone,
    pub media: Media,
}

impl Line {
    /// Starts a server with the test settings whose every number runs `flow`, and a caller.
    pub async fn start(flow: impl CallFlow) -> Result<Self> {
        Self::start_with(test_config(), flow).await
    }

    /// As [`Line::start`], with `config` as the SIP settings.
    pub async fn start_with(config: SipConfig, flow: impl CallFlow) -> Result<Self> {
        let (server, metrics) = start_server(config, flow).await?;
        Self::with_server(server, metrics).await
    }

    /// As [`Line::start`], with `flows` choosing the flow by the number dialled.
    pub async fn start_selecting(flows: Arc<dyn FlowSelector>) -> Result<Self> {
        init_logs();
        let metrics = Metrics::new();
        let server = SipServer::start(test_config(), flows, metrics.clone()).await?;
        Self::with_server(server, metrics).await
    }

    async fn with_server(server: SipServer, metrics: Arc<Metrics>) -> Result<Self> {
        Ok(Self {
            server,
            metrics,
            phone: Phone::new().await?,
            media: Media::new().await?,
        })
    }

    /// An SDP offer of the caller's RTP socket for `codec`, with telephone-event `te`.
    pub fn offer(&self, codec: Offer, te: Option<(u8, u32)>) -> Vec<u8> {
        self.media.offer(codec, te, "")
    }

    /// The caller's usual offer: PCMU alone.
    pub fn pcmu(&self) -> Vec<u8> {
        self.offer(Offer::Pcmu, None)
    }

    /// Dials `dialled` over UDP offering `offer`; returns the dialog and final response,
    /// unjudged.
    pub async fn dial(
        &self,
        dialled: &str,
        offer: Vec<u8>,
    ) -> Result<(InviteDialog, Option<Response>)> {
        self.phone
            .invite(
                self.server.udp_addr(),
                Transport::Udp,
                dialled,
                Some(offer),
                None,
            )
            .await
    }

    /// Dials `dialled` over UDP offering `offer`; fails unless the line answers it.
    pub async fn answered(&self, dialled: &str, offer: Vec<u8>) -> Result<Answered> {
        let (dialog, resp) = self.dial(dialled, offer).await?;
        Answered::new(dialog, resp)
    }

    /// Dials `dialled` offering `offer`; fails unless the line refuses with `code`, and
    /// returns that response.
    pub async fn refused(&self, dialled: &str, offer: Vec<u8>, code: u16) -> Result<Response> {
        let (_, resp) = self.dial(dialled, offer).await?;
        expect_status(&resp, code)?;
        resp.context("no response")
    }

    /// Calls [`NUMBER`] over UDP offering `codec` with telephone-event `te`; fails unless
    /// the line answers.
    pub async fn call(&self, codec: Offer, te: Option<(u8, u32)>) -> Result<Answered> {
        self.answered(NUMBER, self.offer(codec, te)).await
    }

    /// The usual call: [`NUMBER`] over UDP, PCMU alone, answered.
    pub async fn call_pcmu(&self) -> Result<Answered> {
        self.answered(NUMBER, self.pcmu()).await
    }

    /// The usual call over TCP, answered.
    pub async fn call_pcmu_over_tcp(&self) -> Result<Answered> {
        let tcp = self.server.tcp_addr();
        self.phone
            .answered(tcp, Transport::Tcp, NUMBER, self.pcmu())
            .await
    }

    /// Waits until `call` has ended; returns the reason.
    pub async fn ended(&self, call: &Answered) -> Result<String> {
        self.phone.ended(&call.call_id()).await
    }

    /// Waits until the line hangs `call` up; fails unless it ended by the line's BYE.
    pub async fn hangs_up(&self, call: &Answered) -> Result<()> {
        let reason = self.ended(call).await?;
        ensure!(reason.contains("UasBye"), "{reason}");
        Ok(())
    }

    /// Waits until the line counts `n` calls in progress; `what` names the wait.
    pub async fn active_calls_come_to(&self, n: usize, what: &str) -> Result<()> {
        let mut active = self.server.watch_active_calls();
        guard(what, active.wait_for(|a| *a == n)).await??;
        Ok(())
    }

    /// A raw UDP peer aimed at the line, for tests that write every byte.
    pub async fn raw_peer(&self) -> Result<RawPeer> {
        RawPeer::new(self.server.udp_addr()).await
    }

    /// Fails unless `/metrics` shows `line` now.
    pub fn expect_metric(&self, line: &str) -> Result<()> {
        super::expect_metric(&self.metrics, line)
    }

    /// Stops the server (what calls are left are hung up).
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
