//! The RTP threads: one per core sends the due packets of all its calls and reads what their
//! callers sent, on one shared tick, so that no call's task wakes for its media.
//!
//! Why: with one task per call woken at every packet time, 500 calls cost 25,000 task wake-ups
//! a second, and the profile showed the time spent in the wake-up machinery (channels polled,
//! timers re-armed, spans entered), not in the media (docs/performance.md). Here a thread
//! sleeps until the next tick of a 10 ms grid, then walks its calls in order: each call whose
//! packet is due reads its socket and sends its packet. A call's driver is woken (its
//! `Notify`) only when something happened that its flow waits for: a digit, a prompt ended,
//! a recording full.
//!
//! Every stream starts on the grid ([`RtpThreads::align`]) and the tick is a divisor of the
//! usual packet times (20, 30, 40, 60 ms), so a packet is sent at the tick it is due, never one
//! tick later by chance; the calls are walked in the same order at every tick, so each stream's
//! packets leave 20 ms apart even when one tick's sending lasts milliseconds.
//!
//! The driver and the thread share a call's media through an [`RtpLink`]: the media session
//! behind a mutex that either side holds for microseconds. The thread never waits for it: a
//! call whose driver holds it at that instant is served at the next tick.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tracing::{debug, warn};

use super::handoff::Handoff;
use super::media::MediaSession;
use super::settings::RtpSource;
use crate::media::srtp::{SrtpSession, Unprotect};
use crate::metrics::Metrics;

/// The tick of every RTP thread: a divisor of the usual packet times.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// The most datagrams read from one call's socket at one tick (204,800 a second). A caller
/// flooding its own call must not fill the socket's buffer, or the kernel drops its
/// telephone-events with the rest (issue 17, finding 3): the socket is drained at every
/// tick, its audio beyond the call's share dropped unread by the media
/// ([`crate::core::inbound::AUDIO_PER_INSTANT`]); beyond this bound, a flood of another
/// order, the excess waits for the next tick and the buffer drops it, as the network would.
/// It bounds what one call can take of the thread's tick, whatever it sends.
const MAX_RTP_PER_TICK: usize = 2048;

/// The receive buffer asked for each call's socket: room for about 2,500 datagrams of a
/// 20 ms G.711 packet, a tick's worth of a flood of 250,000 a second. The default (about 200
/// KB, 256 such datagrams) overflows within a tick of a flood of 26,000 a second, and the
/// kernel then drops the caller's telephone-events with the rest. Memory is taken only while
/// datagrams wait, which at every tick they do not for long. The kernel caps it at
/// `net.core.rmem_max`; [`RtpThreads::start`] says so when that is lower.
pub(crate) const RECEIVE_BUFFER: usize = 1 << 20;

/// The least an RTP thread sleeps between two ticks, whatever its load: a tenth of the core
/// is always left to the rest of the server.
const MIN_REST: Duration = Duration::from_millis(1);

/// What a call's driver and its RTP thread share.
pub(crate) struct RtpLink {
    state: Mutex<LinkState>,
    socket: UdpSocket,
    /// The thread wakes the driver through it; a wake-up while the driver is busy is kept.
    pub notify: Notify,
}

/// The call's media as both sides see it.
#[derive(Default)]
pub(crate) struct LinkState {
    /// The media session, once the codec is known.
    pub media: Option<MediaSession>,
    /// Where we send RTP: the SDP address until the caller's packets show their real source.
    pub send_to: Option<SocketAddr>,
    /// Whether `send_to` was learnt from the caller's packets (symmetric RTP, RFC 4961).
    pub latched: bool,
    /// Whether packets from another source than the learnt one are dropped.
    pub source: RtpSource,
    /// Whether the negotiated direction lets us send (not on hold).
    pub sending: bool,
    /// Whether the caller acknowledged our answer (ACK). Nothing is sent before: the
    /// address of an INVITE's SDP is the sender's word alone, and one forged INVITE that
    /// is never acknowledged must not aim a stream at whoever it names (issue 13, finding
    /// 5). What the caller sends is still read (digits typed early are kept).
    pub acknowledged: bool,
    /// When the last RTP packet came (for the media timeout).
    pub last_rtp_at: Option<Instant>,
    /// The call's SRTP, when its media is `RTP/SAVP`: what the caller sends is checked and
    /// decrypted with it before anything reads it, what we send is protected with it.
    pub srtp: Option<SrtpSession>,
    /// The call's media will be SRTP (the line requires it) but its keys are not known yet
    /// (our offer waits for the ACK's answer): until they are, nothing the port receives
    /// counts, so no one can latch the call's address or type into it in clear.
    pub awaiting_srtp: bool,
    /// The driver is done with the call: the thread drops it (and closes the socket).
    pub closed: bool,
}

impl RtpLink {
    /// A link over the call's RTP socket (made non-blocking here) that hears the sources
    /// `source` allows.
    pub(crate) fn new(socket: UdpSocket, source: RtpSource) -> std::io::Result<RtpLink> {
        socket.set_nonblocking(true)?;
        socket2::SockRef::from(&socket).set_recv_buffer_size(RECEIVE_BUFFER)?;
        Ok(RtpLink {
            state: Mutex::new(LinkState {
                source,
                ..LinkState::default()
            }),
            socket,
            notify: Notify::new(),
        })
    }

    /// The shared state. A panic while it was held leaves it usable: every field is valid
    /// on its own.
    pub(crate) fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Serves the call at tick `now`; false when the call is over and must be dropped.
    fn service(&self, now: Instant, buf: &mut [u8], tally: &mut Tally) -> bool {
        // The RTP thread never waits for a driver (it may run at a higher priority than the
        // drivers' thread, and waiting would stall every call of the tick): a call whose
        // driver holds the lock right now is served at the next tick, its pacer catching up.
        let mut st = match self.state.try_lock() {
            Ok(st) => st,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => {
                tally.deferred += 1;
                return true;
            }
        };
        if st.closed {
            return false;
        }
        // Before media starts the socket is read at every tick, to latch the caller's address.
        if st.media.as_ref().is_some_and(|m| m.poll_timeout() > now) {
            return true;
        }
        for _ in 0..MAX_RTP_PER_TICK {
            match self.socket.recv_from(buf) {
                Ok((len, from)) => st.on_rtp(now, &buf[..len], from, tally),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    debug!(error = %e, "RTP receive error");
                    break;
                }
            }
        }
        let LinkState {
            media,
            send_to,
            sending,
            acknowledged,
            srtp,
            ..
        } = &mut *st;
        let Some(media) = media.as_mut() else {
            return true;
        };
        let to = send_to.filter(|_| *sending && *acknowledged);
        // On hold the pacer keeps running (timestamps stay continuous) but nothing is sent.
        tally.late += media.transmit(now, |packet| {
            let Some(to) = to else { return };
            // A full socket buffer drops the packet, as the network would.
            let sent = match srtp.as_mut() {
                Some(srtp) => srtp
                    .protect(packet)
                    .is_some_and(|p| self.socket.send_to(&p, to).is_ok()),
                None => self.socket.send_to(packet, to).is_ok(),
            };
            if sent {
                tally.sent += 1;
            }
        });
        if media.needs_driver() {
            self.notify.notify_one();
        }
        true
    }
}

impl LinkState {
    fn on_rtp(&mut self, now: Instant, packet: &[u8], from: SocketAddr, tally: &mut Tally) {
        // Once the caller's source is known, another source is someone who found the port:
        // its packets would type digits into this call or keep it alive (issue 13, finding
        // 4). Dropped before anything reads them, and counted (no log: per packet).
        if self.latched && self.source == RtpSource::Strict && self.send_to != Some(from) {
            tally.foreign += 1;
            return;
        }
        // Only RTP version 2 counts (RFC 3550 §5.1); anything else is noise on the port.
        if packet.len() < 12 || packet[0] >> 6 != 2 {
            return;
        }
        // An SRTP call hears only what the caller's key authenticates, and each packet
        // once: a forgery or a replay neither latches, nor keeps the call alive, nor types.
        let decrypted;
        let packet = match self.srtp.as_mut() {
            Some(srtp) => match srtp.unprotect(packet) {
                Ok(plain) => {
                    decrypted = plain;
                    &decrypted[..]
                }
                Err(Unprotect::Replayed) => {
                    tally.srtp_replayed += 1;
                    return;
                }
                Err(Unprotect::Failed) => {
                    tally.srtp_failed += 1;
                    return;
                }
            },
            None if self.awaiting_srtp => {
                tally.srtp_failed += 1;
                return;
            }
            None => packet,
        };
        tally.received += 1;
        self.last_rtp_at = Some(now);
        // Symmetric RTP (RFC 4961): answer where the caller's packets come from.
        if !self.latched {
            self.latched = true;
            self.send_to = Some(from);
        }
        if let Some(media) = self.media.as_mut()
            && !media.handle_rtp(now, packet)
        {
            tally.flooded += 1;
        }
    }
}

/// Packets counted during one tick, added to the metrics once per tick.
#[derive(Default)]
struct Tally {
    sent: u64,
    received: u64,
    late: u64,
    /// Calls put off to the next tick because their driver held the lock.
    deferred: u64,
    /// Datagrams dropped because they came from another source than the call's caller.
    foreign: u64,
    /// Audio dropped unread because the caller sent more than a call's share at a tick.
    flooded: u64,
    /// SRTP packets whose authentication failed (or RTP in clear on an SRTP call).
    srtp_failed: u64,
    /// SRTP packets already received (replays).
    srtp_replayed: u64,
}

/// The RTP threads of the server: one per core it may run on.
pub(crate) struct RtpThreads {
    /// New calls on their way to each thread.
    threads: Vec<Arc<Handoff<Arc<RtpLink>>>>,
    next: AtomicUsize,
    epoch: Instant,
}

impl Drop for RtpThreads {
    fn drop(&mut self) {
        for handoff in &self.threads {
            handoff.close();
        }
    }
}

impl RtpThreads {
    /// Starts one thread per core this process may run on (its CPU affinity). They end when
    /// this is dropped and their last call has ended.
    pub(crate) fn start(metrics: Arc<Metrics>) -> std::io::Result<RtpThreads> {
        let granted = granted_receive_buffer()?;
        if granted < RECEIVE_BUFFER {
            warn!(
                granted,
                wanted = RECEIVE_BUFFER,
                "RTP receive buffers are capped by net.core.rmem_max: a caller flooding its \
                 call may drown its own keys; raise it (sysctl -w net.core.rmem_max=1048576)"
            );
        }
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        let epoch = now();
        let mut threads = Vec::with_capacity(n);
        for i in 0..n {
            let handoff = Arc::new(Handoff::default());
            let (theirs, metrics) = (handoff.clone(), metrics.clone());
            std::thread::Builder::new()
                .name(format!("rtp-{i}"))
                .spawn(move || run(&theirs, epoch, &metrics))?;
            threads.push(handoff);
        }
        Ok(RtpThreads {
            threads,
            next: AtomicUsize::new(0),
            epoch,
        })
    }

    /// Hands a call's link to a thread (in turn, which spreads the calls evenly).
    pub(crate) fn attach(&self, link: Arc<RtpLink>) {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.threads.len();
        let handoff = &self.threads[i];
        if Arc::strong_count(handoff) == 1 {
            // Only when the thread died (a panic): the call stays silent and the media
            // timeout ends it.
            warn!(thread = i, "RTP thread is gone");
            return;
        }
        handoff.push(link);
    }

    /// The first tick at or after `t`: where a stream must start so that its packets fall
    /// on ticks.
    pub(crate) fn align(&self, t: Instant) -> Instant {
        grid_at_or_after(self.epoch, t)
    }
}

/// The receive buffer a call's socket gets when it asks for [`RECEIVE_BUFFER`] (Linux
/// reports twice what it grants, for its own bookkeeping).
fn granted_receive_buffer() -> std::io::Result<usize> {
    let probe = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    probe.set_recv_buffer_size(RECEIVE_BUFFER)?;
    Ok(probe.recv_buffer_size()? / 2)
}

fn grid_at_or_after(epoch: Instant, t: Instant) -> Instant {
    let tick = TICK.as_nanos();
    let since = t.saturating_duration_since(epoch).as_nanos();
    let ticks = since.div_ceil(tick);
    epoch + Duration::from_nanos((ticks * tick) as u64)
}

/// The thread reads the clock here, and only here.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

/// Under a real-time policy (the server started with `chrt`, as media servers often are) the
/// RTP threads take one priority step above the server's other threads: a thread of equal
/// real-time priority is not preempted, so a tick would wait behind SIP or database work for
/// as long as that work runs (up to the 100 ms round-robin slice), and packets would leave
/// in pairs. Under the normal policy the scheduler already favours a thread that sleeps most
/// of the time, and nothing is changed. The step is safe only because the thread never waits
/// for a lower thread without sleeping: `try_lock` on the calls ([`RtpLink::service`]) and on
/// the handoff ([`Handoff`]).
pub(crate) fn rise_above_the_rest() {
    use thread_priority::unix::{set_thread_priority_and_policy, thread_schedule_policy_param};
    use thread_priority::{ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy};
    let me = thread_priority::thread_native_id();
    let Ok((policy @ ThreadSchedulePolicy::Realtime(_), params)) = thread_schedule_policy_param(me)
    else {
        return;
    };
    let Ok(raised) = u8::try_from(params.sched_priority + 1)
        .map_err(|_| ())
        .and_then(|p| ThreadPriorityValue::try_from(p.min(99)).map_err(|_| ()))
    else {
        return;
    };
    if let Err(e) =
        set_thread_priority_and_policy(me, ThreadPriority::Crossplatform(raised), policy)
    {
        warn!(error = ?e, "RTP thread keeps the server's real-time priority");
    }
}

fn run(handoff: &Handoff<Arc<RtpLink>>, epoch: Instant, metrics: &Metrics) {
    rise_above_the_rest();
    let mut calls: Vec<Arc<RtpLink>> = Vec::new();
    let mut buf = vec![0u8; 2048];
    let mut next_tick = epoch;
    loop {
        if calls.is_empty() {
            // Idle: sleep until a call comes instead of ticking for nothing.
            if !handoff.wait_take(&mut calls) {
                return;
            }
            next_tick = grid_at_or_after(epoch, now());
        }
        // New calls, never waiting for the sender: held now, taken at the next tick.
        handoff.try_take(&mut calls);
        // Even when a tick overran, the thread rests a little: under a real-time policy
        // (`chrt`) it would otherwise never leave the core to the SIP thread, which ends the
        // calls.
        let wait = next_tick.saturating_duration_since(now()).max(MIN_REST);
        std::thread::sleep(wait);
        let t = now();
        let mut tally = Tally::default();
        // The driver's handle gone means the call is over, whatever its state says.
        calls.retain(|link| Arc::strong_count(link) > 1 && link.service(t, &mut buf, &mut tally));
        metrics.rtp_packets_sent.inc_by(tally.sent);
        metrics.rtp_packets_received.inc_by(tally.received);
        if tally.late > 0 {
            metrics.rtp_late_ticks.inc_by(tally.late);
        }
        if tally.deferred > 0 {
            metrics.rtp_deferred.inc_by(tally.deferred);
        }
        if tally.foreign > 0 {
            metrics.rtp_foreign_dropped.inc_by(tally.foreign);
        }
        if tally.flooded > 0 {
            metrics.rtp_flood_dropped.inc_by(tally.flooded);
        }
        if tally.srtp_failed > 0 {
            metrics.srtp_auth_failed.inc_by(tally.srtp_failed);
        }
        if tally.srtp_replayed > 0 {
            metrics.srtp_replayed.inc_by(tally.srtp_replayed);
        }
        // After a long tick (overload) the missed ticks are skipped; the pacers catch up.
        next_tick = grid_at_or_after(epoch, now().max(t + Duration::from_nanos(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::sdp::{self, Negotiated};

    /// What a PCMU caller at `rtp` negotiates.
    fn pcmu_call_at(rtp: SocketAddr) -> Negotiated {
        let offer = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
            rtp.port()
        );
        sdp::parse(offer.as_bytes())
            .and_then(|o| o.negotiate())
            .expect("a plain PCMU offer negotiates")
    }

    /// One 20 ms PCMU packet of silence, as a phone sends it.
    fn phone_packet() -> Vec<u8> {
        let mut p = vec![0x80, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4];
        p.resize(12 + 160, 0xff);
        p
    }

    /// Starts `link`'s PCMU media at `start`, towards a caller whose SDP names `sdp_at`, as
    /// the driver does.
    fn start_pcmu(link: &RtpLink, sdp_at: SocketAddr, start: Instant) {
        let neg = pcmu_call_at(sdp_at);
        let mut st = link.lock();
        st.send_to = Some(neg.remote);
        st.sending = neg.sending();
        st.acknowledged = true;
        st.media = Some(MediaSession::new(neg, false, start).expect("PCMU starts"));
    }

    fn tick(link: &RtpLink, t: Instant) -> (bool, Tally) {
        let mut tally = Tally::default();
        let mut buf = vec![0u8; 2048];
        let keep = link.service(t, &mut buf, &mut tally);
        (keep, tally)
    }

    #[test]
    fn a_call_is_served_when_due_towards_the_callers_real_source() -> std::io::Result<()> {
        let ours = UdpSocket::bind("127.0.0.1:0")?;
        let our_addr = ours.local_addr()?;
        // The caller announces one port in its SDP and sends from another (a NAT would).
        let announced = UdpSocket::bind("127.0.0.1:0")?;
        let phone = UdpSocket::bind("127.0.0.1:0")?;
        phone.set_read_timeout(Some(Duration::from_secs(2)))?;
        announced.set_nonblocking(true)?;
        let link = RtpLink::new(ours, RtpSource::Strict)?;
        let start = now();
        start_pcmu(&link, announced.local_addr()?, start);

        phone.send_to(&phone_packet(), our_addr)?;
        let (keep, tally) = tick(&link, start);
        assert!(keep);
        assert_eq!((tally.received, tally.sent), (1, 1));
        let mut buf = [0u8; 2048];
        let (len, from) = phone.recv_from(&mut buf)?;
        assert_eq!(from, our_addr);
        assert_eq!((len, buf[0] >> 6, buf[1] & 0x7f), (12 + 160, 2, 0));
        assert!(
            announced.recv_from(&mut buf).is_err(),
            "nothing goes to the announced port once the caller's source is known"
        );
        assert_eq!(link.lock().last_rtp_at, Some(start));

        // Half a packet time later nothing is due; at the next packet time one packet is.
        let (_, tally) = tick(&link, start + TICK);
        assert_eq!(tally.sent, 0);
        let (_, tally) = tick(&link, start + 2 * TICK);
        assert_eq!(tally.sent, 1);
        phone.recv_from(&mut buf)?;

        // A driver holding the media at the tick: the call is put off, not waited for.
        {
            let _driver = link.lock();
            let (keep, tally) = tick(&link, start + 3 * TICK);
            assert!(keep);
            assert_eq!((tally.deferred, tally.sent), (1, 0));
        }

        // On hold: the stream goes on (timestamps stay continuous) but nothing is sent.
        link.lock().sending = false;
        let (_, tally) = tick(&link, start + 4 * TICK);
        assert_eq!(tally.sent, 0);

        link.lock().closed = true;
        assert!(!tick(&link, start + 6 * TICK).0, "a closed call is dropped");
        Ok(())
    }

    #[test]
    fn an_srtp_call_hears_only_what_the_callers_key_authenticates_once() -> std::io::Result<()> {
        use crate::media::srtp::{SrtpKey, SrtpSession, SrtpSuite};
        let ours = UdpSocket::bind("127.0.0.1:0")?;
        let our_addr = ours.local_addr()?;
        let phone = UdpSocket::bind("127.0.0.1:0")?;
        let intruder = UdpSocket::bind("127.0.0.1:0")?;
        phone.set_read_timeout(Some(Duration::from_secs(2)))?;
        let (our_key, phone_key) = (
            SrtpKey::generate(SrtpSuite::AesCm128HmacSha1_80),
            SrtpKey::generate(SrtpSuite::AesCm128HmacSha1_80),
        );
        let mut phone_srtp = SrtpSession::new(phone_key, our_key).expect("keys");
        let link = RtpLink::new(ours, RtpSource::Strict)?;
        let start = now();
        start_pcmu(&link, phone.local_addr()?, start);
        link.lock().srtp = Some(SrtpSession::new(our_key, phone_key).expect("keys"));
        // Before the caller's first packet, an intruder's forgeries and clear RTP latch
        // nothing and keep nothing alive.
        link.lock().last_rtp_at = None;
        let mut forged = phone_srtp
            .protect(&phone_packet())
            .expect("protects")
            .to_vec();
        let genuine = forged.clone();
        forged[20] ^= 0x55;
        intruder.send_to(&forged, our_addr)?;
        intruder.send_to(&phone_packet(), our_addr)?;
        std::thread::sleep(Duration::from_millis(20));
        let (_, tally) = tick(&link, start);
        assert_eq!((tally.received, tally.srtp_failed), (0, 2));
        {
            let st = link.lock();
            assert!(!st.latched && st.last_rtp_at.is_none());
        }
        // The caller's genuine packet is heard once; its replay is dropped and counted.
        phone.send_to(&genuine, our_addr)?;
        phone.send_to(&genuine, our_addr)?;
        std::thread::sleep(Duration::from_millis(20));
        let (_, tally) = tick(&link, start + 2 * TICK);
        assert_eq!((tally.received, tally.srtp_replayed), (1, 1));
        assert_eq!(link.lock().send_to, Some(phone.local_addr()?));
        // What we send is SRTP the caller's session reads: tagged, encrypted, authentic.
        let mut buf = [0u8; 2048];
        let (len, _) = phone.recv_from(&mut buf)?;
        assert_eq!(len, 12 + 160 + 10);
        let plain = phone_srtp.unprotect(&buf[..len]);
        assert_eq!(plain.map(|p| p.len()), Ok(12 + 160));
        Ok(())
    }

    #[test]
    fn an_srtp_call_whose_keys_are_not_known_yet_hears_nothing() -> std::io::Result<()> {
        let ours = UdpSocket::bind("127.0.0.1:0")?;
        let our_addr = ours.local_addr()?;
        let phone = UdpSocket::bind("127.0.0.1:0")?;
        let link = RtpLink::new(ours, RtpSource::Strict)?;
        link.lock().awaiting_srtp = true;
        phone.send_to(&phone_packet(), our_addr)?;
        std::thread::sleep(Duration::from_millis(20));
        let (_, tally) = tick(&link, now());
        assert_eq!((tally.received, tally.srtp_failed), (0, 1));
        assert!(!link.lock().latched);
        Ok(())
    }

    #[test]
    fn before_media_the_socket_is_read_at_every_tick_to_latch() -> std::io::Result<()> {
        let ours = UdpSocket::bind("127.0.0.1:0")?;
        let our_addr = ours.local_addr()?;
        let phone = UdpSocket::bind("127.0.0.1:0")?;
        let link = RtpLink::new(ours, RtpSource::Strict)?;
        phone.send_to(&phone_packet(), our_addr)?;
        phone.send_to(b"not rtp", our_addr)?;
        let (keep, tally) = tick(&link, now());
        assert!(keep);
        assert_eq!((tally.received, tally.sent), (1, 0));
        let st = link.lock();
        assert_eq!(st.send_to, Some(phone.local_addr()?));
        assert!(st.latched);
        Ok(())
    }

    /// Issue 13, finding 5: an INVITE's SDP names any address; until the caller's ACK
    /// proves the call is wanted, nothing goes there, though its packets are read.
    #[test]
    fn nothing_is_sent_before_the_ack() -> std::io::Result<()> {
        let ours = UdpSocket::bind("127.0.0.1:0")?;
        let named = UdpSocket::bind("127.0.0.1:0")?;
        named.set_nonblocking(true)?;
        let link = RtpLink::new(ours, RtpSource::Strict)?;
        let start = now();
        start_pcmu(&link, named.local_addr()?, start);
        link.lock().acknowledged = false;
        for i in 0..10 {
            let (keep, tally) = tick(&link, start + TICK * i);
            assert!(keep);
            assert_eq!(tally.sent, 0, "tick {i}");
        }
        let mut buf = [0u8; 2048];
        assert!(named.recv_from(&mut buf).is_err(), "RTP before the ACK");
        link.lock().acknowledged = true;
        let (_, tally) = tick(&link, start + TICK * 10);
        assert_eq!(tally.sent, 1, "the stream starts with the ACK");
        Ok(())
    }

    /// What `source` lets through once the caller latched: (heard, dropped as foreign).
    fn after_latch(source: RtpSource) -> std::io::Result<(u64, u64)> {
        let ours = UdpSocket::bind("127.0.0.1:0")?;
        let our_addr = ours.local_addr()?;
        let phone = UdpSocket::bind("127.0.0.1:0")?;
        let intruder = UdpSocket::bind("127.0.0.1:0")?;
        let link = RtpLink::new(ours, source)?;
        phone.send_to(&phone_packet(), our_addr)?;
        let (_, first) = tick(&link, now());
        assert_eq!(first.received, 1);
        let before = link.lock().last_rtp_at;
        intruder.send_to(&phone_packet(), our_addr)?;
        intruder.send_to(b"not even rtp", our_addr)?;
        let (_, second) = tick(&link, now());
        let st = link.lock();
        assert_eq!(st.send_to, Some(phone.local_addr()?), "the latch stays");
        if second.foreign > 0 {
            assert_eq!(
                st.last_rtp_at, before,
                "a foreign packet keeps no call alive"
            );
        }
        Ok((second.received, second.foreign))
    }

    #[test]
    fn strict_source_drops_and_counts_what_another_source_sends() -> std::io::Result<()> {
        assert_eq!(after_latch(RtpSource::Strict)?, (0, 2));
        assert_eq!(after_latch(RtpSource::Any)?, (1, 0));
        Ok(())
    }

    #[test]
    fn calls_end_with_their_driver() {
        let metrics = Arc::new(Metrics::default());
        let threads = RtpThreads::start(metrics).expect("threads start");
        let ours = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let addr = ours.local_addr().expect("address");
        let link = Arc::new(RtpLink::new(ours, RtpSource::Strict).expect("link"));
        threads.attach(link.clone());
        drop(link);
        // The thread drops the call at its next tick, which closes the socket: its port can
        // be bound again.
        let freed = (0..200).any(|_| {
            std::thread::sleep(TICK);
            UdpSocket::bind(addr).is_ok()
        });
        assert!(freed, "the RTP port of an ended call is released");
    }

    /// A call with PCMU media towards `phone`, started now.
    fn link_towards(phone: &UdpSocket) -> Arc<RtpLink> {
        let link = RtpLink::new(
            UdpSocket::bind("127.0.0.1:0").expect("bind"),
            RtpSource::Strict,
        )
        .expect("link");
        start_pcmu(&link, phone.local_addr().expect("address"), now());
        Arc::new(link)
    }

    /// Packets `phone` receives within `window`.
    fn count_packets(phone: &UdpSocket, window: Duration) -> usize {
        let end = now() + window;
        let mut buf = [0u8; 2048];
        let mut n = 0;
        while now() < end {
            if phone.recv_from(&mut buf).is_ok() {
                n += 1;
            }
        }
        n
    }

    /// A thread adding a call that stalls while it holds the handoff (preempted by the RTP
    /// thread itself, under a real-time policy) must not stop the calls already carried:
    /// they are served on, and the new call comes once the handoff is free.
    #[test]
    fn a_stalled_handoff_does_not_stop_the_ticks() {
        let threads = RtpThreads::start(Arc::new(Metrics::default())).expect("threads start");
        let phones: Vec<UdpSocket> = (0..2)
            .map(|_| {
                let p = UdpSocket::bind("127.0.0.1:0").expect("bind");
                p.set_read_timeout(Some(Duration::from_millis(5)))
                    .expect("timeout");
                p
            })
            .collect();
        // One thread per core: every thread gets a first call, then `stalled` is the thread
        // the next call goes to.
        let first: Vec<Arc<RtpLink>> = (0..threads.threads.len())
            .map(|_| link_towards(&phones[0]))
            .collect();
        for link in &first {
            threads.attach(link.clone());
        }
        assert!(count_packets(&phones[0], Duration::from_millis(100)) > 0);
        let stalled =
            threads.threads[threads.next.load(Ordering::Relaxed) % threads.threads.len()].clone();
        let held = stalled.hold();
        // 300 ms with the handoff held: the first calls carry on (at least 10 of their 15
        // packets each), nothing waits for the holder.
        let during = count_packets(&phones[0], Duration::from_millis(300));
        assert!(
            during >= 10 * first.len(),
            "{during} packets while the handoff was held"
        );
        drop(held);
        let second = link_towards(&phones[1]);
        threads.attach(second.clone());
        assert!(count_packets(&phones[1], Duration::from_millis(200)) >= 5);
    }

    #[test]
    fn alignment_gives_the_first_tick_at_or_after() {
        let epoch = now();
        assert_eq!(grid_at_or_after(epoch, epoch), epoch);
        assert_eq!(
            grid_at_or_after(epoch, epoch + Duration::from_millis(1)),
            epoch + TICK
        );
        assert_eq!(grid_at_or_after(epoch, epoch + TICK), epoch + TICK);
        assert_eq!(
            grid_at_or_after(epoch, epoch + TICK * 7 + Duration::from_nanos(1)),
            epoch + TICK * 8
        );
    }
}
