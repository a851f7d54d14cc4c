//! Counters of the voice line, rendered in the Prometheus text format for `/metrics`.
//!
//! The counters are atomics (prometheus-client): bumping one on the RTP path costs no lock
//! and no allocation. The web module mounts [`Metrics::render`] at `/metrics`; `ivr serve`
//! can also serve it on a small listener of its own ([`serve_metrics`]).

use std::net::SocketAddr;
use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The engine's counters. Clone the `Arc` and bump from anywhere.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// INVITEs that created a call (answered or not).
    pub calls: Counter,
    /// Calls in progress.
    pub calls_active: Gauge,
    /// INVITEs refused: line full or shutting down (503), no common codec (488), bad SDP (400).
    pub calls_rejected: Counter,
    /// DTMF digits received (each counted once whatever its source).
    pub digits: Counter,
    /// RTP packets sent.
    pub rtp_packets_sent: Counter,
    /// RTP packets received.
    pub rtp_packets_received: Counter,
    /// Pacer ticks that fired late (a packet sent after its due time by more than a tick).
    pub rtp_late_ticks: Counter,
    /// Calls we hung up because no RTP came for the configured time.
    pub media_timeouts: Counter,
    /// Times the RTP thread put a call off to its next tick because the call's driver held
    /// its media at that instant.
    pub rtp_deferred: Counter,
    /// RTP datagrams dropped because they came from another source than the call's caller
    /// (`[sip] rtp_source = "strict"`).
    pub rtp_foreign_dropped: Counter,
    /// RTP audio dropped unread because a caller sent more than a call's share at one tick.
    pub rtp_flood_dropped: Counter,
    /// SRTP packets dropped because their authentication failed (forged, altered, another
    /// key's, or RTP in clear on an SRTP call).
    pub srtp_auth_failed: Counter,
    /// SRTP packets dropped as replays (a sequence number already received).
    pub srtp_replayed: Counter,
    /// Calls we hung up because the caller never acknowledged our 200 (no ACK).
    pub calls_unacknowledged: Counter,
    /// INVITEs refused with 503 by the per-source brake (rate or calls in progress).
    pub sip_invites_throttled: Counter,
    /// SIP requests refused at the transport edge (400, 420, 505, 513): malformed,
    /// requiring an extension we lack, or too large.
    pub sip_requests_refused: Counter,
    /// SIP messages dropped unanswered at the transport edge (not SIP, a bad ACK, an
    /// oversize response).
    pub sip_messages_dropped: Counter,
    /// Finished calls of the voice line by how far they got (the staff dashboard's
    /// outcomes: changed, consulted, locked, login_failed, no_login).
    pub call_outcomes: Family<[(&'static str, &'static str); 1], Counter>,
    /// Bookings and cancellations written, by channel (web, phone, staff) and action.
    pub booking_changes: Family<[(&'static str, &'static str); 2], Counter>,
    /// Parents' logins refused, by channel (web, phone) and reason (wrong_codes, locked).
    pub logins_refused: Family<[(&'static str, &'static str); 2], Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("ivr");
        let calls = Counter::default();
        let calls_active = Gauge::default();
        let calls_rejected = Counter::default();
        let digits = Counter::default();
        let rtp_packets_sent = Counter::default();
        let rtp_packets_received = Counter::default();
        let rtp_late_ticks = Counter::default();
        let media_timeouts = Counter::default();
        let rtp_deferred = Counter::default();
        let rtp_foreign_dropped = Counter::default();
        let srtp_auth_failed = Counter::default();
        let srtp_replayed = Counter::default();
        let rtp_flood_dropped = Counter::default();
        let calls_unacknowledged = Counter::default();
        let sip_invites_throttled = Counter::default();
        let sip_requests_refused = Counter::default();
        let sip_messages_dropped = Counter::default();
        let call_outcomes = Family::default();
        let booking_changes = Family::default();
        let logins_refused = Family::default();
        registry.register("calls", "Calls received", calls.clone());
        registry.register("calls_active", "Calls in progress", calls_active.clone());
        registry.register(
            "calls_rejected",
            "Calls refused (503 full or shutting down, 488 no common codec, 400 bad SDP)",
            calls_rejected.clone(),
        );
        registry.register("dtmf_digits", "DTMF digits received", digits.clone());
        registry.register(
            "rtp_packets_sent",
            "RTP packets sent",
            rtp_packets_sent.clone(),
        );
        registry.register(
            "rtp_packets_received",
            "RTP packets received",
            rtp_packets_received.clone(),
        );
        registry.register(
            "rtp_late_ticks",
            "RTP pacer ticks that fired late",
            rtp_late_ticks.clone(),
        );
        registry.register(
            "rtp_deferred",
            "Calls put off to the next RTP tick because their driver held their media",
            rtp_deferred.clone(),
        );
        registry.register(
            "media_timeouts",
            "Calls ended because no RTP came in time",
            media_timeouts.clone(),
        );
        registry.register(
            "rtp_foreign_dropped",
            "RTP datagrams dropped because another source than the call's caller sent them",
            rtp_foreign_dropped.clone(),
        );
        registry.register(
            "rtp_flood_dropped",
            "RTP audio dropped unread because a caller sent more than a call's share at one tick",
            rtp_flood_dropped.clone(),
        );
        registry.register(
            "srtp_auth_failed",
            "SRTP packets dropped because their authentication failed",
            srtp_auth_failed.clone(),
        );
        registry.register(
            "srtp_replayed",
            "SRTP packets dropped as replays of packets already received",
            srtp_replayed.clone(),
        );
        registry.register(
            "calls_unacknowledged",
            "Calls hung up because our 200 was never acknowledged (no ACK)",
            calls_unacknowledged.clone(),
        );
        registry.register(
            "sip_invites_throttled",
            "INVITEs refused with 503 because their source sent too many or holds too many calls",
            sip_invites_throttled.clone(),
        );
        registry.register(
            "sip_requests_refused",
            "SIP requests answered 400, 420, 505 or 513 at the transport edge",
            sip_requests_refused.clone(),
        );
        registry.register(
            "sip_messages_dropped",
            "SIP messages dropped unanswered at the transport edge",
            sip_messages_dropped.clone(),
        );
        registry.register(
            "call_outcomes",
            "Finished voice-line calls by how far they got",
            call_outcomes.clone(),
        );
        registry.register(
            "booking_changes",
            "Bookings and cancellations written, by channel and action",
            booking_changes.clone(),
        );
        registry.register(
            "logins_refused",
            "Parents' logins refused, by channel and reason (wrong codes, locked out)",
            logins_refused.clone(),
        );
        Self {
            registry,
            calls,
            calls_active,
            calls_rejected,
            digits,
            rtp_packets_sent,
            rtp_packets_received,
            rtp_late_ticks,
            media_timeouts,
            rtp_deferred,
            rtp_foreign_dropped,
            rtp_flood_dropped,
            srtp_auth_failed,
            srtp_replayed,
            calls_unacknowledged,
            sip_invites_throttled,
            sip_requests_refused,
            sip_messages_dropped,
            call_outcomes,
            booking_changes,
            logins_refused,
        }
    }
}

impl Metrics {
    /// A fresh set of counters, shared.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Counts a finished call of the voice line by its outcome. (Its bookings,
    /// cancellations and refused logins are counted where they happen, by the booking
    /// service: `booking_changes`, `logins_refused`.)
    pub fn call_ended(&self, outcome: &'static str) {
        self.call_outcomes
            .get_or_create(&[("outcome", outcome)])
            .inc();
    }

    /// The counters in the Prometheus text exposition format (OpenMetrics flavour).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        // Encoding into a String cannot fail.
        encode(&mut out, &self.registry).expect("encoding metrics into a string");
        out
    }
}

/// Serves `GET /metrics` on `addr` until `cancel` fires; returns the bound address.
///
/// A deliberately tiny HTTP/1.0 responder for when the web module is not running; the web
/// module mounts [`Metrics::render`] on its own router instead.
pub async fn serve_metrics(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = tokio::select! {
                _ = cancel.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok(s) => s,
                    Err(e) => { tracing::warn!(error = %e, "metrics accept failed"); continue; }
                },
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                // Read the whole request head (a client may write it in pieces) before
                // answering, so that closing never cuts a request still being sent.
                let mut buf = [0u8; 1024];
                let mut n = 0;
                while n < buf.len() {
                    match stream.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(k) => n += k,
                    }
                    if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let request = &buf[..n];
                let (status, body) = if request.starts_with(b"GET /metrics ") {
                    ("200 OK", metrics.render())
                } else {
                    ("404 Not Found", String::from("not found\n"))
                };
                let head = format!(
                    "HTTP/1.0 {status}\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                if let Err(e) = async {
                    stream.write_all(head.as_bytes()).await?;
                    stream.write_all(body.as_bytes()).await?;
                    stream.shutdown().await
                }
                .await
                {
                    tracing::debug!(error = %e, "metrics response not sent");
                }
            });
        }
    });
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_in_text_format() {
        let m = Metrics::new();
        m.calls.inc();
        m.calls_active.inc();
        m.rtp_packets_sent.inc_by(50);
        let text = m.render();
        assert!(text.contains("ivr_calls_total 1"), "{text}");
        assert!(text.contains("ivr_calls_active 1"), "{text}");
        assert!(text.contains("ivr_rtp_packets_sent_total 50"), "{text}");
        assert!(text.contains("# TYPE ivr_dtmf_digits counter"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[tokio::test]
    async fn serves_metrics_over_http() {
        let m = Metrics::new();
        m.digits.inc_by(3);
        let cancel = CancellationToken::new();
        let addr = serve_metrics("127.0.0.1:0".parse().unwrap(), m, cancel.clone())
            .await
            .unwrap();
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").await.unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).await.unwrap();
        assert!(body.starts_with("HTTP/1.0 200 OK"), "{body}");
        assert!(body.contains("ivr_dtmf_digits_total 3"), "{body}");
        cancel.cancel();
    }
}
