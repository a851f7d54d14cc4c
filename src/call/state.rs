//! A call's state, sans-IO: the keys typed and the flow's wait for them ([`DigitInput`]),
//! and the call's life as time sees it: ringing, answered (our 200 out, the ACK
//! awaited), confirmed; and the deadlines that answer it or end it. The driver tells it what
//! happened and at which instant, asks when to wake up ([`Lifecycle::poll_timeout`]) and
//! what is due then ([`Lifecycle::answer_due`], [`Lifecycle::ending_at`]); it never reads
//! the clock nor touches a socket, so every rule here is unit-tested with made-up instants.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::settings::CallSettings;
use crate::core::Digit;
use crate::core::{CollectSpec, Collected, Collector};

/// How long after its length a farewell may take before the call ends anyway: its last
/// packets are on their way, and a stalled media thread must not keep a draining node up.
const FAREWELL_MARGIN: Duration = Duration::from_secs(1);

/// Where the call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// 180 sent; we answer at the ring's end.
    Ringing,
    /// 200 sent; waiting for the ACK.
    Answered,
    /// ACK received; media and flow running.
    Confirmed,
}

/// Why our side ends a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// No ACK for our 200 within the wait (most likely a forged source).
    NoAck,
    /// The line drains for shutdown and the grace period is over.
    GraceOver,
    /// The farewell played at the end of the grace period is over (or took too long).
    FarewellSaid,
    /// The caller sent no RTP for the media timeout while we expected some.
    NoMedia,
    /// The call reached the longest a call may last.
    MaxLength,
}

/// A sign of life from the caller other than RTP: a phone that sends no RTP until it
/// plays something still types by INFO, and a re-INVITE, UPDATE or OPTIONS in the dialog is
/// someone there (issue 17, finding 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sign {
    /// A SIP INFO (keys typed).
    Info,
    /// A re-INVITE.
    Reinvite,
    /// An UPDATE.
    Update,
    /// An OPTIONS within the dialog.
    Options,
}

impl Sign {
    /// The request's method, for the log.
    pub(crate) fn method(self) -> &'static str {
        match self {
            Sign::Info => "INFO",
            Sign::Reinvite => "re-INVITE",
            Sign::Update => "UPDATE",
            Sign::Options => "OPTIONS",
        }
    }
}

/// What the media tells at an instant: when the caller's RTP was last heard, and whether
/// any is expected (not while the caller holds us or only listens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MediaSeen {
    /// The last RTP packet from the caller (counted from the ACK before the first one).
    pub(crate) last_rtp_at: Option<Instant>,
    /// Whether the negotiated direction has the caller send to us.
    pub(crate) expecting: bool,
}

/// The phase of a call and its deadlines.
#[derive(Debug, Clone)]
pub(crate) struct Lifecycle {
    phase: Phase,
    started_at: Instant,
    answer_at: Option<Instant>,
    answered_at: Option<Instant>,
    grace_deadline: Option<Instant>,
    /// Once the grace is over and the farewell plays: when the call ends whatever happens.
    farewell_deadline: Option<Instant>,
    /// The last sign of life other than RTP, and when.
    last_sign: Option<(Instant, Sign)>,
    ack_wait: Duration,
    media_timeout: Option<Duration>,
    max_call_length: Option<Duration>,
    shutdown_grace: Duration,
}

impl Lifecycle {
    /// A call whose INVITE came at `started_at`, ringing for `settings.ring` (answered at
    /// once, by the driver's [`Lifecycle::answer_due`], when the ring is zero).
    pub(crate) fn new(settings: &CallSettings, started_at: Instant) -> Self {
        Self {
            phase: Phase::Ringing,
            started_at,
            answer_at: Some(started_at + settings.ring),
            answered_at: None,
            grace_deadline: None,
            farewell_deadline: None,
            last_sign: None,
            ack_wait: settings.ack_wait(),
            media_timeout: settings.media_timeout,
            max_call_length: settings.max_call_length,
            shutdown_grace: settings.shutdown_grace,
        }
    }

    /// The phase now.
    pub(crate) fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the ring is over at `t` and the call not answered yet.
    pub(crate) fn answer_due(&self, t: Instant) -> bool {
        self.answer_at.is_some_and(|a| a <= t)
    }

    /// Our 200 went out at `t`: the ACK is awaited from then on.
    pub(crate) fn answered(&mut self, t: Instant) {
        self.answer_at = None;
        self.answered_at = Some(t);
        self.phase = Phase::Answered;
    }

    /// The ACK came; true the first time (an ACK repeated after an INFO or UPDATE changes
    /// nothing).
    pub(crate) fn confirmed(&mut self) -> bool {
        let first = self.phase != Phase::Confirmed;
        self.phase = Phase::Confirmed;
        first
    }

    /// The caller showed at `t` that it is there by `sign`: like RTP, it puts the media
    /// timeout off.
    pub(crate) fn heard(&mut self, t: Instant, sign: Sign) {
        self.last_sign = Some((t, sign));
    }

    /// What was heard last from the caller, for the log of a media timeout: `RTP` (or the
    /// ACK, before any RTP) or the method of the last sign of life.
    pub(crate) fn last_heard(&self, media: MediaSeen) -> &'static str {
        match self.last_sign {
            Some((t, sign)) if media.last_rtp_at.is_none_or(|rtp| t > rtp) => sign.method(),
            _ => "RTP or the ACK",
        }
    }

    /// The line started draining at `t`: the call may go on for the shutdown grace period.
    pub(crate) fn drain(&mut self, t: Instant) {
        self.grace_deadline.get_or_insert(t + self.shutdown_grace);
    }

    /// The grace is over and a farewell of `length` starts at `t`: the call ends when it
    /// has been said ([`Ending::FarewellSaid`]), a second after its length at the latest,
    /// instead of at once.
    pub(crate) fn farewell(&mut self, t: Instant, length: Duration) {
        self.farewell_deadline
            .get_or_insert(t + length + FAREWELL_MARGIN);
    }

    /// Whether the line is draining.
    pub(crate) fn draining(&self) -> bool {
        self.grace_deadline.is_some()
    }

    /// Whether the caller's silence can end the call now (confirmed, with a media timeout):
    /// when it cannot, [`MediaSeen::last_rtp_at`] is not read.
    pub(crate) fn watches_media(&self) -> bool {
        self.media_timeout.is_some() && self.phase == Phase::Confirmed
    }

    /// When we stop waiting for the ACK of our 200.
    fn ack_deadline(&self) -> Option<Instant> {
        let answered = self.answered_at.filter(|_| self.phase == Phase::Answered)?;
        Some(answered + self.ack_wait)
    }

    /// When the caller's silence ends the call: the timeout after the last RTP or other sign
    /// of life; only once confirmed and while RTP is expected.
    fn media_deadline(&self, media: MediaSeen) -> Option<Instant> {
        let timeout = self.media_timeout?;
        if self.phase != Phase::Confirmed || !media.expecting {
            return None;
        }
        let last = media.last_rtp_at.max(self.last_sign.map(|(t, _)| t))?;
        Some(last + timeout)
    }

    fn max_length_deadline(&self) -> Option<Instant> {
        self.max_call_length.map(|max| self.started_at + max)
    }

    /// The next instant something may be due.
    pub(crate) fn poll_timeout(&self, media: MediaSeen) -> Option<Instant> {
        [
            self.answer_at,
            self.ack_deadline(),
            self.grace_or_farewell_deadline(),
            self.media_deadline(media),
            self.max_length_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The end of the grace, or once the farewell plays, the end of the farewell.
    fn grace_or_farewell_deadline(&self) -> Option<Instant> {
        self.farewell_deadline.or(self.grace_deadline)
    }

    /// Why the call must end at `t`, if it must: in this order, no ACK, the shutdown grace
    /// over (then its farewell said), no media, the longest call reached.
    pub(crate) fn ending_at(&self, t: Instant, media: MediaSeen) -> Option<Ending> {
        let due = |deadline: Option<Instant>| deadline.is_some_and(|d| d <= t);
        if due(self.ack_deadline()) {
            Some(Ending::NoAck)
        } else if due(self.farewell_deadline) {
            Some(Ending::FarewellSaid)
        } else if self.farewell_deadline.is_none() && due(self.grace_deadline) {
            Some(Ending::GraceOver)
        } else if due(self.media_deadline(media)) {
            Some(Ending::NoMedia)
        } else if due(self.max_length_deadline()) {
            Some(Ending::MaxLength)
        } else {
            None
        }
    }
}

/// What a flow waits for from the keypad.
#[derive(Debug)]
enum Wait {
    /// An entry by the collection's rules.
    Collect(Collector),
    /// The next key, until the instant if any.
    Next(Option<Instant>),
}

/// The answer to the flow's wait.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DigitAnswer {
    /// The collection ended.
    Collected(Collected),
    /// The next key, or none before the deadline.
    Next(Option<Digit>),
}

/// The keys a caller typed and what the flow waits for, sans-IO: keys typed before a wait
/// (type-ahead) answer it as soon as it starts; one wait at a time.
#[derive(Debug, Default)]
pub(crate) struct DigitInput {
    type_ahead: VecDeque<Digit>,
    wait: Option<Wait>,
}

impl DigitInput {
    /// Whether keys wait to be read.
    pub(crate) fn has_type_ahead(&self) -> bool {
        !self.type_ahead.is_empty()
    }

    /// Forgets the keys typed ahead.
    pub(crate) fn flush(&mut self) {
        self.type_ahead.clear();
    }

    /// Whether the flow waits for keys.
    pub(crate) fn waiting(&self) -> bool {
        self.wait.is_some()
    }

    /// Starts a collection at `t` in place of any wait; answers at once when the keys typed
    /// ahead complete it.
    pub(crate) fn collect(&mut self, spec: CollectSpec, t: Instant) -> Option<DigitAnswer> {
        self.wait = Some(Wait::Collect(Collector::new(spec, t)));
        self.dispatch(t)
    }

    /// Waits for the next key until `deadline` (or for ever), in place of any wait; answers
    /// at once with a key typed ahead.
    pub(crate) fn next(&mut self, deadline: Option<Instant>, t: Instant) -> Option<DigitAnswer> {
        self.wait = Some(Wait::Next(deadline));
        self.dispatch(t)
    }

    /// The caller typed `d` at `t`.
    pub(crate) fn typed(&mut self, d: Digit, t: Instant) -> Option<DigitAnswer> {
        self.type_ahead.push_back(d);
        self.dispatch(t)
    }

    /// Feeds the keys typed ahead to the wait until it is answered or they run out.
    fn dispatch(&mut self, t: Instant) -> Option<DigitAnswer> {
        let answer = match self.wait.as_mut()? {
            Wait::Next(_) => DigitAnswer::Next(Some(self.type_ahead.pop_front()?)),
            Wait::Collect(c) => loop {
                let d = self.type_ahead.pop_front()?;
                if let Some(done) = c.handle_digit(t, d) {
                    break DigitAnswer::Collected(done);
                }
            },
        };
        self.wait = None;
        Some(answer)
    }

    /// When the wait times out.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match self.wait.as_ref()? {
            Wait::Collect(c) => Some(c.poll_timeout()),
            Wait::Next(deadline) => *deadline,
        }
    }

    /// Time passed: the wait's answer once its timeout has expired.
    pub(crate) fn handle_timeout(&mut self, t: Instant) -> Option<DigitAnswer> {
        let answer = match self.wait.as_mut()? {
            Wait::Collect(c) => DigitAnswer::Collected(c.handle_timeout(t)?),
            Wait::Next(Some(deadline)) if *deadline <= t => DigitAnswer::Next(None),
            Wait::Next(_) => return None,
        };
        self.wait = None;
        Some(answer)
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::call::settings::RtpSource;

    fn settings(ring_ms: u64) -> CallSettings {
        CallSettings {
            public_ip: IpAddr::from([127, 0, 0, 1]),
            rtp_source: RtpSource::Strict,
            srtp: crate::call::sdp::SrtpPolicy::Offer,
            inband_dtmf: true,
            ring: Duration::from_millis(ring_ms),
            t1: Duration::from_millis(500),
            media_timeout: Some(Duration::from_secs(30)),
            max_call_length: Some(Duration::from_secs(1800)),
            shutdown_grace: Duration::from_secs(60),
        }
    }

    const HEARD: MediaSeen = MediaSeen {
        last_rtp_at: None,
        expecting: true,
    };

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_ringing_call_is_answered_at_the_end_of_the_ring_and_not_before() {
        let t0 = crate::core::test_epoch();
        let life = Lifecycle::new(&settings(2_000), t0);
        assert_eq!(life.phase(), Phase::Ringing);
        assert!(!life.answer_due(t0 + Duration::from_millis(1_999)));
        assert!(life.answer_due(t0 + secs(2)));
        assert_eq!(life.poll_timeout(HEARD), Some(t0 + secs(2)));
        // Without a ring the call is answered at once.
        assert!(Lifecycle::new(&settings(0), t0).answer_due(t0));
    }

    #[test]
    fn an_unacknowledged_200_ends_the_call_after_the_ack_wait() {
        let t0 = crate::core::test_epoch();
        let mut life = Lifecycle::new(&settings(0), t0);
        life.answered(t0);
        assert!(!life.answer_due(t0 + secs(1)), "answered once");
        assert_eq!(life.poll_timeout(HEARD).map(|t| t - t0), Some(secs(4)));
        assert_eq!(
            life.ending_at(t0 + Duration::from_millis(3_999), HEARD),
            None
        );
        assert_eq!(life.ending_at(t0 + secs(4), HEARD), Some(Ending::NoAck));
        // Once the ACK came, the wait is over.
        assert!(life.confirmed());
        assert!(!life.confirmed(), "a repeated ACK is no news");
        assert_eq!(life.ending_at(t0 + secs(5), HEARD), None);
    }

    #[test]
    fn silence_ends_a_confirmed_call_only_while_rtp_is_expected() {
        let t0 = crate::core::test_epoch();
        let mut life = Lifecycle::new(&settings(0), t0);
        life.answered(t0);
        let quiet = MediaSeen {
            last_rtp_at: Some(t0),
            expecting: true,
        };
        // Before the ACK, silence is not the caller's fault (the ACK wait rules).
        assert_ne!(life.ending_at(t0 + secs(3), quiet), Some(Ending::NoMedia));
        life.confirmed();
        assert_eq!(life.ending_at(t0 + secs(29), quiet), None);
        assert_eq!(life.ending_at(t0 + secs(30), quiet), Some(Ending::NoMedia));
        // A caller who holds us (sendonly from our side, inactive) sends nothing.
        let on_hold = MediaSeen {
            expecting: false,
            ..quiet
        };
        assert_eq!(life.ending_at(t0 + secs(300), on_hold), None);
        assert_eq!(life.poll_timeout(on_hold).map(|t| t - t0), Some(secs(1800)));
    }

    #[test]
    fn any_sign_of_life_puts_the_media_timeout_off_and_the_log_names_the_last() {
        let t0 = crate::core::test_epoch();
        let mut life = Lifecycle::new(&settings(0), t0);
        life.answered(t0);
        life.confirmed();
        // Counted from the ACK; a phone that sends no RTP but types by INFO.
        let silent = MediaSeen {
            last_rtp_at: Some(t0),
            expecting: true,
        };
        assert_eq!(life.last_heard(silent), "RTP or the ACK");
        for (at, sign) in [
            (20, Sign::Info),
            (45, Sign::Options),
            (70, Sign::Reinvite),
            (95, Sign::Update),
        ] {
            assert_eq!(life.ending_at(t0 + secs(at), silent), None, "{sign:?}");
            life.heard(t0 + secs(at), sign);
            assert_eq!(life.poll_timeout(silent), Some(t0 + secs(at + 30)));
        }
        assert_eq!(life.ending_at(t0 + secs(124), silent), None);
        assert_eq!(
            life.ending_at(t0 + secs(125), silent),
            Some(Ending::NoMedia)
        );
        assert_eq!(life.last_heard(silent), "UPDATE");
        // RTP heard after the last sign: the log says so.
        let heard = MediaSeen {
            last_rtp_at: Some(t0 + secs(100)),
            expecting: true,
        };
        assert_eq!(life.last_heard(heard), "RTP or the ACK");
        assert_eq!(life.ending_at(t0 + secs(129), heard), None);
        assert_eq!(life.ending_at(t0 + secs(130), heard), Some(Ending::NoMedia));
    }

    #[test]
    fn draining_gives_the_grace_period_once_and_the_longest_call_is_bounded() {
        let t0 = crate::core::test_epoch();
        let mut life = Lifecycle::new(&settings(0), t0);
        life.answered(t0);
        life.confirmed();
        let live = MediaSeen {
            last_rtp_at: Some(t0 + secs(150)),
            expecting: true,
        };
        assert!(!life.draining());
        life.drain(t0 + secs(100));
        life.drain(t0 + secs(130));
        assert!(life.draining());
        assert_eq!(life.ending_at(t0 + secs(159), live), None);
        assert_eq!(
            life.ending_at(t0 + secs(160), live),
            Some(Ending::GraceOver),
            "the grace counts from the first drain"
        );
        // With a farewell of 3 s started at the end of the grace, the call ends when it is
        // said (the driver hangs up on the prompt's end) or 1 s after its length at the latest.
        life.farewell(t0 + secs(160), secs(3));
        life.farewell(t0 + secs(161), secs(30));
        assert_eq!(
            life.ending_at(t0 + secs(163), live),
            None,
            "the grace no longer ends it"
        );
        assert_eq!(life.poll_timeout(live), Some(t0 + secs(164)));
        assert_eq!(
            life.ending_at(t0 + secs(164), live),
            Some(Ending::FarewellSaid)
        );
        let mut long = Lifecycle::new(&settings(0), t0);
        long.answered(t0);
        long.confirmed();
        let recent = MediaSeen {
            last_rtp_at: Some(t0 + secs(1799)),
            expecting: true,
        };
        assert_eq!(
            long.ending_at(t0 + secs(1800), recent),
            Some(Ending::MaxLength)
        );
    }

    fn key(c: char) -> Digit {
        Digit::from_char(c).unwrap()
    }

    fn entry(min: usize, max: usize) -> CollectSpec {
        CollectSpec {
            min,
            max,
            terminator: Some(key('#')),
            first_digit_timeout: secs(5),
            inter_digit_timeout: secs(3),
        }
    }

    fn collected(answer: Option<DigitAnswer>) -> String {
        match answer {
            Some(DigitAnswer::Collected(Collected::Digits { digits, .. })) => {
                digits.expose().to_owned()
            }
            Some(DigitAnswer::Collected(Collected::Timeout { digits })) => {
                format!("timeout:{}", digits.expose())
            }
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn keys_typed_ahead_answer_the_next_wait_at_once() {
        let t0 = crate::core::test_epoch();
        let mut input = DigitInput::default();
        for c in ['3', '0', '1', '1', '#', '7'] {
            assert_eq!(input.typed(key(c), t0), None, "nobody waits yet");
        }
        assert!(input.has_type_ahead());
        assert_eq!(collected(input.collect(entry(4, 4), t0)), "3011");
        assert!(!input.waiting(), "answered");
        // The terminator after a full entry is typed ahead too: it ends the next entry
        // before its one digit, so that entry is no entry.
        assert_eq!(
            input.collect(entry(1, 6), t0),
            Some(DigitAnswer::Collected(Collected::Invalid))
        );
        assert_eq!(
            input.next(None, t0),
            Some(DigitAnswer::Next(Some(key('7'))))
        );
        assert!(!input.has_type_ahead());
    }

    #[test]
    fn a_wait_is_answered_by_a_key_or_by_its_timeout() {
        let t0 = crate::core::test_epoch();
        let mut input = DigitInput::default();
        assert_eq!(input.collect(entry(2, 4), t0), None);
        assert_eq!(input.poll_timeout(), Some(t0 + secs(5)));
        assert_eq!(input.typed(key('4'), t0 + secs(1)), None);
        assert_eq!(
            input.poll_timeout(),
            Some(t0 + secs(4)),
            "inter-digit from then"
        );
        assert_eq!(input.handle_timeout(t0 + secs(3)), None);
        assert_eq!(collected(input.handle_timeout(t0 + secs(4))), "timeout:4");
        // The next key, bounded or not.
        assert_eq!(input.next(Some(t0 + secs(10)), t0), None);
        assert_eq!(input.handle_timeout(t0 + secs(9)), None);
        assert_eq!(
            input.handle_timeout(t0 + secs(10)),
            Some(DigitAnswer::Next(None))
        );
        assert_eq!(input.next(None, t0), None);
        assert_eq!(input.poll_timeout(), None);
        assert_eq!(input.handle_timeout(t0 + secs(1000)), None);
        assert_eq!(
            input.typed(key('9'), t0),
            Some(DigitAnswer::Next(Some(key('9'))))
        );
        // Flushing forgets what was typed ahead.
        input.typed(key('1'), t0);
        input.flush();
        assert_eq!(input.next(None, t0), None);
    }
}
