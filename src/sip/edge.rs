//! Our transport edge: every SIP message passes [`screen`] before rsipstack's transactions
//! see it, and a refused request is answered from here.
//!
//! UDP: rsipstack reads from a socket it is given as a trait object; [`ScreenedUdp`] is that
//! socket. It reads each datagram whole into its own 64 KB buffer (rsipstack's holds 8 KB
//! and the kernel cuts what does not fit), screens it, and hands rsipstack only what passed;
//! refusals go straight back to the datagram's source. TCP: rsipstack frames each message
//! (it reads the whole of it, up to 64 KB) and [`StreamScreen`] screens it on its way to the
//! transactions, answering on the same connection.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use rsipstack::platform::net::UdpSocket as StackUdpSocket;
use rsipstack::sip::SipMessage;
use rsipstack::transaction::endpoint::TransportEventInspector;
use rsipstack::transport::TransportEvent;
use tokio::sync::Mutex;
use tracing::debug;

use super::screen::{MAX_MESSAGE, Screened, screen};
use crate::metrics::Metrics;

/// The largest UDP datagram there is (65,535 less the IP and UDP headers).
const MAX_DATAGRAM: usize = 65_507;

/// The SIP UDP socket, screened (see the module doc).
pub(crate) struct ScreenedUdp {
    socket: tokio::net::UdpSocket,
    /// Only rsipstack's one receive loop reads: the lock is never contended.
    buf: Mutex<Vec<u8>>,
    metrics: Arc<Metrics>,
}

impl ScreenedUdp {
    /// Screens what `socket` receives.
    pub(crate) fn new(socket: tokio::net::UdpSocket, metrics: Arc<Metrics>) -> Self {
        Self {
            socket,
            buf: Mutex::new(vec![0; MAX_DATAGRAM + 1]),
            metrics,
        }
    }

    async fn recv_screened(&self, out: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
        let mut buf = self.buf.lock().await;
        // Never more than the stack's buffer holds, so that nothing it gets is cut.
        let limit = MAX_MESSAGE.min(out.len());
        loop {
            let (len, from) = self.socket.recv_from(&mut buf).await?;
            match screen(&buf[..len], limit) {
                Screened::Pass => {
                    out[..len].copy_from_slice(&buf[..len]);
                    return Ok((len, from));
                }
                Screened::Drop => {
                    self.metrics.sip_messages_dropped.inc();
                }
                Screened::Answer {
                    status,
                    reason,
                    response,
                } => {
                    self.metrics.sip_requests_refused.inc();
                    debug!(%from, status, reason, len, "SIP request refused at the edge");
                    // To the datagram's source, as rport would (RFC 3581): never to an
                    // address the refused message names.
                    if let Err(e) = self.socket.send_to(&response, from).await {
                        debug!(error = %e, "refusal not sent");
                    }
                }
            }
        }
    }
}

type StackFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

// The trait is declared with `async_trait`; these are the signatures it expands to.
impl StackUdpSocket for ScreenedUdp {
    fn recv_from<'life0, 'life1, 'async_trait>(
        &'life0 self,
        buf: &'life1 mut [u8],
    ) -> StackFuture<'async_trait, rsipstack::Result<(usize, SocketAddr)>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { Ok(self.recv_screened(buf).await?) })
    }

    fn send_to<'life0, 'life1, 'async_trait>(
        &'life0 self,
        buf: &'life1 [u8],
        addr: SocketAddr,
    ) -> StackFuture<'async_trait, rsipstack::Result<usize>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { Ok(self.socket.send_to(buf, addr).await?) })
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}

/// Screens the messages of stream transports (TCP) on their way to the transactions.
pub(crate) struct StreamScreen {
    /// Counters of what was refused.
    pub metrics: Arc<Metrics>,
}

impl StreamScreen {
    async fn inspect(&self, event: TransportEvent) -> Option<TransportEvent> {
        // Datagrams were screened whole by `ScreenedUdp`.
        let TransportEvent::Incoming(msg @ SipMessage::Request(_), connection, from) = event else {
            return Some(event);
        };
        if !connection.is_reliable() {
            return Some(TransportEvent::Incoming(msg, connection, from));
        }
        match screen(&msg.to_bytes(), MAX_MESSAGE) {
            Screened::Pass => Some(TransportEvent::Incoming(msg, connection, from)),
            Screened::Drop => {
                self.metrics.sip_messages_dropped.inc();
                None
            }
            Screened::Answer {
                status,
                reason,
                response,
            } => {
                self.metrics.sip_requests_refused.inc();
                debug!(%from, status, reason, "SIP request refused at the edge");
                match SipMessage::try_from(response.as_slice()) {
                    Ok(response) => {
                        if let Err(e) = connection.send(response, None).await {
                            debug!(error = %e, "refusal not sent");
                        }
                    }
                    Err(e) => debug!(error = %e, "refusal not built"),
                }
                None
            }
        }
    }
}

impl TransportEventInspector for StreamScreen {
    fn handle<'life0, 'async_trait>(
        &'life0 self,
        event: TransportEvent,
    ) -> StackFuture<'async_trait, Option<TransportEvent>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.inspect(event))
    }
}
