//! The load caller's RTP: one thread and a few UDP sockets carry every call's audio. Each call
//! sends what a phone sends (a packet of silence every 20 ms, key presses as RFC 4733
//! telephone-events) and counts what the server sends back: packets, losses by sequence
//! number, talk-spurts begun (marker bits: the prompts it heard start).
//!
//! A few sockets for all calls (the calls share [`SOCKETS`] ports; the server's packets are
//! told apart by the port they come from, which is each call's own) keep the caller light
//! enough to load a server on one core from the other, where SIPp's one socket per call and
//! pcap replay cost half a core for 400 calls. More than one, because every packet the
//! server sends into a socket takes that socket's queue lock and memory count, which the
//! caller's core takes too when it reads: spread over sockets, the two cores contend less.

use std::collections::{HashMap, VecDeque};
use std::io::{self, IoSliceMut};
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use nix::sys::time::TimeSpec;
use rtp_rs::{RtpPacketBuilder, RtpReader, Seq};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::oneshot;

use super::pacing::{GapHistogram, Pacing};

use crate::call::handoff::Handoff;
use crate::core::Digit;
use crate::core::dtmf::rfc4733::TelephoneEvent;
use crate::media::srtp::{SrtpKey, SrtpSession};

/// The thread's grid: calls are split in two halves sending 10 ms apart, so that the
/// server does not receive every call's packet in the same instant.
const TICK: Duration = Duration::from_millis(10);

/// Sockets (consecutive ports from the one asked for); call `id` uses `id % SOCKETS`.
pub const SOCKETS: usize = 16;

/// Each socket's receive (and send) buffer asked for, in bytes.
const RECV_BUFFER: usize = 16 << 20;

/// RFC 4733 packets per key press: start (marker), two updates, the end three times.
const PRESS_PACKETS: u8 = 6;

/// Silent packets after a press before the next one (80 ms, [`super::script::BETWEEN_KEYS`]).
const GAP_PACKETS: u8 = 4;

/// The RFC 4733 volume field: -10 dBm0, as phones send.
const EVENT_VOLUME: u8 = 10;

/// How one call's stream is sent.
#[derive(Debug, Clone, Copy)]
pub struct StreamSpec {
    /// Where the server's answer said to send RTP.
    pub remote: SocketAddr,
    /// The audio payload type of the answer.
    pub audio_pt: u8,
    /// The telephone-event payload type of the answer.
    pub event_pt: u8,
    /// RTP clock ticks per 20 ms packet (160 at 8 kHz, 960 at 48 kHz).
    pub samples_per_packet: u32,
    /// One packet of silence in the call's codec.
    pub silence: &'static [u8],
    /// Our SRTP key and the server's, for an SRTP call.
    pub srtp: Option<(SrtpKey, SrtpKey)>,
}

/// What one call's stream sent and received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Packets sent to the server.
    pub sent: u64,
    /// Packets received from the server.
    pub received: u64,
    /// Packets the server's sequence numbers say were sent but never arrived.
    pub lost: u64,
    /// Talk-spurts begun (packets with the marker bit): the prompts heard starting.
    pub spurts: u64,
    /// SRTP packets from the server that failed authentication (not counted as received).
    pub srtp_failed: u64,
}

enum Command {
    Start(u64, StreamSpec),
    Keys(u64, Vec<u8>),
    Stop(u64, oneshot::Sender<StreamStats>),
}

/// The RTP thread and its sockets.
pub struct RtpCaller {
    /// Commands for the thread, taken at its next tick: the thread may run one priority
    /// step above the calls' tasks, as the server's RTP threads do.
    commands: Arc<Handoff<Command>>,
    addrs: Vec<SocketAddr>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<io::Result<Pacing>>>>,
}

impl RtpCaller {
    /// Binds the sockets on `bind` (port 0: any free ports; else that port and the next
    /// ones) and starts the thread.
    pub fn start(bind: SocketAddr) -> io::Result<RtpCaller> {
        let mut sockets = Vec::with_capacity(SOCKETS);
        for i in 0..SOCKETS {
            let mut at = bind;
            if bind.port() != 0 {
                at.set_port(bind.port() + i as u16);
            }
            sockets.push(bind_socket(at)?);
        }
        let addrs = sockets
            .iter()
            .map(UdpSocket::local_addr)
            .collect::<io::Result<Vec<_>>>()?;
        let commands: Arc<Handoff<Command>> = Arc::default();
        let rx = commands.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("load-rtp".into())
            .spawn(move || {
                // Under chrt, above the calls' tasks, as the server's RTP threads: a tick
                // waiting behind them would let the socket's queue overflow.
                crate::call::rtp_thread::rise_above_the_rest();
                run(&sockets, &rx, &stopping)
            })?;
        Ok(RtpCaller {
            commands,
            addrs,
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The address call `id` sends from and receives on, for its offer.
    pub fn local_addr(&self, id: u64) -> SocketAddr {
        self.addrs[id as usize % SOCKETS]
    }

    /// Starts sending call `id`'s stream at the next tick.
    pub fn start_stream(&self, id: u64, spec: StreamSpec) {
        self.send(Command::Start(id, spec));
    }

    /// Queues key presses on call `id` (characters that are not keys are skipped).
    pub fn press(&self, id: u64, keys: &str) {
        let events = keys
            .chars()
            .filter_map(Digit::from_char)
            .map(Digit::event_code)
            .collect();
        self.send(Command::Keys(id, events));
    }

    /// Stops call `id`'s stream and returns its counters (`None` if it was not started or
    /// the thread stopped).
    pub async fn stop_stream(&self, id: u64) -> Option<StreamStats> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Stop(id, tx));
        rx.await.ok()
    }

    fn send(&self, command: Command) {
        self.commands.push(command);
    }

    /// Stops the thread; returns the pacing it measured, or its error if a socket failed.
    pub fn shutdown(&self) -> io::Result<Pacing> {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match thread.map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the RTP thread panicked")),
            None => Err(io::Error::other("the RTP thread was already stopped")),
        }
    }
}

impl Drop for RtpCaller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One call's stream.
struct Stream {
    spec: StreamSpec,
    /// Which half of the grid the stream sends on.
    phase: u64,
    seq: u16,
    timestamp: u32,
    ssrc: u32,
    keys: VecDeque<u8>,
    /// The press being sent: (event, packets sent, its timestamp).
    press: Option<(u8, u8, u32)>,
    gap: u8,
    stats: StreamStats,
    /// The extended highest sequence number received and the first one.
    highest: Option<(u64, u64)>,
    /// The sequence number and kernel arrival time of the latest packet, for the pacing.
    last_arrival: Option<(u16, Duration)>,
    /// The call's SRTP, when it is an SRTP call.
    srtp: Option<SrtpSession>,
}

impl Stream {
    fn new(id: u64, spec: StreamSpec) -> Stream {
        // Distinct per call and fixed per run, so that a capture can be read back.
        let ssrc = (id as u32).wrapping_mul(0x9E37_79B9) | 1;
        Stream {
            spec,
            phase: id % 2,
            seq: (id as u16).wrapping_mul(7919),
            timestamp: ssrc.rotate_left(16),
            ssrc,
            keys: VecDeque::new(),
            press: None,
            gap: 0,
            stats: StreamStats::default(),
            highest: None,
            last_arrival: None,
            // Keys of whole length for a suite we have: the contexts cannot be refused, and
            // an SRTP call must never go on in clear.
            srtp: spec.srtp.map(|(ours, theirs)| {
                SrtpSession::new(ours, theirs).expect("SRTP contexts for well-formed keys")
            }),
        }
    }

    /// Writes this tick's packet into `buf`; returns its length.
    fn next_packet(&mut self, buf: &mut [u8]) -> usize {
        if self.press.is_none()
            && self.gap == 0
            && let Some(event) = self.keys.pop_front()
        {
            self.press = Some((event, 0, self.timestamp));
        }
        let builder = RtpPacketBuilder::new()
            .ssrc(self.ssrc)
            .sequence(Seq::from(self.seq));
        let event_payload: [u8; 4];
        let builder = match &mut self.press {
            Some((event, sent, ts)) => {
                let end = *sent >= PRESS_PACKETS / 2;
                let duration = (u32::from((*sent + 1).min(PRESS_PACKETS / 2 + 1))
                    * self.spec.samples_per_packet) as u16;
                event_payload = TelephoneEvent {
                    event: *event,
                    end,
                    volume: EVENT_VOLUME,
                    duration,
                }
                .to_bytes();
                let b = builder
                    .payload_type(self.spec.event_pt)
                    .timestamp(*ts)
                    .marked(*sent == 0);
                *sent += 1;
                if *sent == PRESS_PACKETS {
                    self.press = None;
                    self.gap = GAP_PACKETS;
                }
                b.payload(&event_payload)
            }
            None => {
                self.gap = self.gap.saturating_sub(1);
                builder
                    .payload_type(self.spec.audio_pt)
                    .timestamp(self.timestamp)
                    .payload(self.spec.silence)
            }
        };
        let mut len = builder.build_into(buf).unwrap_or(0);
        self.seq = self.seq.wrapping_add(1);
        // The media clock runs on during a press (RFC 4733 §2.5.1.2).
        self.timestamp = self.timestamp.wrapping_add(self.spec.samples_per_packet);
        if let Some(srtp) = self.srtp.as_mut() {
            len = match srtp.protect(&buf[..len]) {
                Some(p) if p.len() <= buf.len() => {
                    buf[..p.len()].copy_from_slice(&p);
                    p.len()
                }
                _ => 0,
            };
        }
        len
    }

    /// Counts a packet of the server's, which arrived at `at` (the kernel's clock, if it
    /// said), and its gap from the one before it into `pacing`.
    fn on_packet(
        &mut self,
        packet: &RtpReader<'_>,
        at: Option<Duration>,
        pacing: &mut GapHistogram,
    ) {
        self.stats.received += 1;
        let seq = u16::from(packet.sequence_number());
        if let Some(at) = at {
            match self.last_arrival {
                Some((last, then)) if last.wrapping_add(1) == seq => {
                    // A clock stepped back leaves no gap to count.
                    if let Some(gap) = at.checked_sub(then) {
                        pacing.record(gap);
                    }
                    self.last_arrival = Some((seq, at));
                }
                // Late or repeated packets are not a gap in the stream.
                Some((last, _)) if (seq.wrapping_sub(last) as i16) <= 0 => {}
                _ => self.last_arrival = Some((seq, at)),
            }
        }
        if packet.mark() {
            self.stats.spurts += 1;
        }
        let seq = u64::from(seq);
        self.highest = Some(match self.highest {
            None => (seq, seq),
            Some((high, first)) => {
                let delta = (seq as u16).wrapping_sub(high as u16) as i16;
                if delta > 0 {
                    (high + delta as u64, first)
                } else {
                    (high, first)
                }
            }
        });
    }

    fn finish(mut self) -> StreamStats {
        if let Some((high, first)) = self.highest {
            self.stats.lost = (high - first + 1).saturating_sub(self.stats.received);
        }
        self.stats
    }
}

fn bind_socket(at: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(at), Type::DGRAM, Some(Protocol::UDP))?;
    // A socket's calls' packets queue on it between two reads (10 ms): at 2,000 calls over
    // 16 sockets, about 60, but a read may come late. The kernel caps the size at
    // net.core.rmem_max; the losses counted show when that is too small.
    socket.set_recv_buffer_size(RECV_BUFFER)?;
    socket.set_send_buffer_size(RECV_BUFFER)?;
    // Each packet comes with the kernel's time of arrival, for the pacing (super::pacing).
    setsockopt(&socket, sockopt::ReceiveTimestampns, &true)?;
    socket.bind(&at.into())?;
    let socket: UdpSocket = socket.into();
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// A datagram read into the caller's buffer.
struct Datagram {
    len: usize,
    /// Its source: `None` if not an IP address (never, on UDP), which matches no call.
    from: Option<SocketAddr>,
    /// The kernel's time of arrival, if it gave one.
    at: Option<Duration>,
}

/// The next datagram waiting on `socket`, read into `buf`; `None` when nothing is waiting.
fn receive(socket: &UdpSocket, buf: &mut [u8], cmsg: &mut [u8]) -> io::Result<Option<Datagram>> {
    let mut iov = [IoSliceMut::new(buf)];
    let msg = match recvmsg::<SockaddrStorage>(
        socket.as_raw_fd(),
        &mut iov,
        Some(cmsg),
        MsgFlags::empty(),
    ) {
        Ok(msg) => msg,
        Err(Errno::EAGAIN) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let at = msg.cmsgs()?.find_map(|c| match c {
        ControlMessageOwned::ScmTimestampns(ts) => Some(timespec(ts)),
        _ => None,
    });
    Ok(Some(Datagram {
        len: msg.bytes,
        from: msg.address.as_ref().and_then(socket_addr),
        at,
    }))
}

fn timespec(ts: TimeSpec) -> Duration {
    Duration::new(
        ts.tv_sec().max(0) as u64,
        ts.tv_nsec().clamp(0, 999_999_999) as u32,
    )
}

fn socket_addr(a: &SockaddrStorage) -> Option<SocketAddr> {
    match (a.as_sockaddr_in(), a.as_sockaddr_in6()) {
        (Some(v4), _) => Some(SocketAddrV4::from(*v4).into()),
        (_, Some(v6)) => Some(SocketAddrV6::from(*v6).into()),
        _ => None,
    }
}

fn run(
    sockets: &[UdpSocket],
    commands: &Handoff<Command>,
    stop: &AtomicBool,
) -> io::Result<Pacing> {
    let mut streams: HashMap<u64, Stream> = HashMap::new();
    let mut by_source: HashMap<SocketAddr, u64> = HashMap::new();
    let mut out = [0u8; 1500];
    let mut inbound = [0u8; 2048];
    let mut cmsg = nix::cmsg_space!(TimeSpec);
    let mut pacing = GapHistogram::default();
    let (mut heard_streams, mut heard_packets) = (0usize, 0u64);
    let start = super::now();
    let mut tick: u64 = 0;
    let mut taken = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        // A task adding one right now: taken at the next tick.
        commands.try_take(&mut taken);
        for command in taken.drain(..) {
            match command {
                Command::Start(id, spec) => {
                    by_source.insert(spec.remote, id);
                    streams.insert(id, Stream::new(id, spec));
                }
                Command::Keys(id, keys) => {
                    if let Some(s) = streams.get_mut(&id) {
                        s.keys.extend(keys);
                    }
                }
                Command::Stop(id, reply) => {
                    if let Some(s) = streams.remove(&id) {
                        by_source.remove(&s.spec.remote);
                        let _ = reply.send(s.finish());
                    }
                }
            }
        }
        for (id, stream) in streams.iter_mut().filter(|(_, s)| s.phase == tick % 2) {
            let len = stream.next_packet(&mut out);
            match sockets[*id as usize % SOCKETS].send_to(&out[..len], stream.spec.remote) {
                Ok(_) => stream.stats.sent += 1,
                // A full send buffer drops the packet, as a network would.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The server's port closed (ICMP): the call is ending.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
                Err(e) => return Err(e),
            }
        }
        for socket in sockets {
            loop {
                match receive(socket, &mut inbound, &mut cmsg) {
                    Ok(Some(Datagram { len, from, at })) => {
                        let Some(stream) = from
                            .and_then(|from| by_source.get(&from))
                            .and_then(|id| streams.get_mut(id))
                        else {
                            continue;
                        };
                        let decrypted;
                        let datagram = match stream.srtp.as_mut() {
                            Some(srtp) => match srtp.unprotect(&inbound[..len]) {
                                Ok(plain) => {
                                    decrypted = plain;
                                    &decrypted[..]
                                }
                                Err(_) => {
                                    stream.stats.srtp_failed += 1;
                                    continue;
                                }
                            },
                            None => &inbound[..len],
                        };
                        if let Ok(packet) = RtpReader::new(datagram) {
                            heard_streams += usize::from(stream.stats.received == 0);
                            heard_packets += 1;
                            stream.on_packet(&packet, at, &mut pacing);
                        }
                    }
                    Ok(None) => break,
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        tick += 1;
        let next = start + TICK * tick as u32;
        let now = super::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            // Behind: skip to the grid rather than send a burst of late packets.
            tick = (now - start).as_millis() as u64 / TICK.as_millis() as u64 + 1;
        }
    }
    Ok(pacing.summary(heard_streams, heard_packets))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16, marker: bool) -> Vec<u8> {
        RtpPacketBuilder::new()
            .payload_type(0)
            .ssrc(42)
            .sequence(Seq::from(seq))
            .timestamp(u32::from(seq) * 160)
            .marked(marker)
            .payload(&[0xFF; 160])
            .build()
            .unwrap()
    }

    /// A real server socket on loopback receives silence and two RFC 4733 presses, and what
    /// it sends back is counted (a gap in its sequence numbers counts as a loss).
    #[tokio::test]
    async fn sends_silence_and_presses_and_counts_what_comes_back() {
        let caller = RtpCaller::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        caller.start_stream(
            7,
            StreamSpec {
                remote: server.local_addr().unwrap(),
                audio_pt: 0,
                event_pt: 101,
                samples_per_packet: 160,
                silence: &[0xFF; 160],
                srtp: None,
            },
        );
        caller.press(7, "5#");
        let mut buf = [0u8; 1500];
        let mut got = Vec::new();
        while got.len() < 20 {
            let (len, from) = server.recv_from(&mut buf).unwrap();
            assert_eq!(from, caller.local_addr(7));
            let p = RtpReader::new(&buf[..len]).unwrap();
            got.push((
                p.payload_type(),
                u16::from(p.sequence_number()),
                p.timestamp(),
                p.mark(),
                p.payload().to_vec(),
            ));
        }
        // Sequence numbers follow each other; the media clock runs 160 per packet.
        for w in got.windows(2) {
            assert_eq!(w[1].1, w[0].1.wrapping_add(1));
        }
        let events: Vec<_> = got.iter().filter(|p| p.0 == 101).collect();
        assert_eq!(events.len(), 12, "six packets per press");
        for (press, key) in events.chunks(6).zip([5u8, 11]) {
            assert!(
                press[0].3 && press[1..].iter().all(|p| !p.3),
                "marker on the first"
            );
            assert!(press.iter().all(|p| p.4[0] == key && p.2 == press[0].2));
            let ends: Vec<bool> = press.iter().map(|p| p.4[1] & 0x80 != 0).collect();
            assert_eq!(ends, [false, false, false, true, true, true]);
            let durations: Vec<u16> = press
                .iter()
                .map(|p| u16::from_be_bytes([p.4[2], p.4[3]]))
                .collect();
            assert_eq!(durations, [160, 320, 480, 640, 640, 640]);
        }
        // 80 ms of silence between the presses, and audio is silence of the codec.
        let first_end = got.iter().position(|p| p.0 == 101).unwrap() + 6;
        assert!(
            got[first_end..first_end + 4]
                .iter()
                .all(|p| p.0 == 0 && p.4 == [0xFF; 160])
        );
        // The second press's timestamp is where the media clock stood.
        let second = &got[first_end + 4];
        assert_eq!(second.2, got[first_end].2.wrapping_add(4 * 160));

        for (seq, marker) in [(100, true), (101, false), (103, false), (104, true)] {
            server
                .send_to(&packet(seq, marker), caller.local_addr(7))
                .unwrap();
        }
        // A stranger's packets are not counted.
        let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
        stranger
            .send_to(&packet(1, true), caller.local_addr(7))
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let stats = caller.stop_stream(7).await.unwrap();
        assert_eq!((stats.received, stats.lost, stats.spurts), (4, 1, 2));
        assert!(stats.sent >= 20);
        assert_eq!(caller.stop_stream(7).await, None, "stopped once");
        // Two gaps measured: 100 to 101 and 103 to 104 (not across the lost 102).
        let pacing = caller.shutdown().unwrap();
        assert_eq!((pacing.streams, pacing.packets, pacing.gaps), (1, 4, 2));
    }
}
