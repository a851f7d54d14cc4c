//! What a call's flow waits for, sans-IO: its plays, its wait for keys and its recording,
//! and how a key, a prompt's end or an instant answers them. The rules between them live
//! here: a key typed ahead interrupts a barge-in play before it starts; a key stops every
//! barge-in play and is kept for the next wait; the recording's stop key ends it and is not
//! kept; a recording ends at its deadline or when full.
//!
//! The driver tells [`Waits`] what happened and drains what it must do
//! ([`Waits::poll_output`]): stop the prompts, stop the recording, answer a wait. Where the
//! answers go is the driver's business: `Waits` is generic over [`Replies`], the driver's
//! oneshot senders in the call and plain numbers in the tests below.

use std::collections::VecDeque;
use std::time::Instant;

use super::api::Played;
use super::state::{DigitAnswer, DigitInput};
use crate::core::player::PlayId;
use crate::core::{CollectSpec, Collected, Digit};

/// Where each kind of wait is answered.
pub(crate) trait Replies {
    /// A play's end.
    type Play;
    /// A collection's end.
    type Collect;
    /// The next key (or none before the deadline).
    type Next;
    /// A recording's end.
    type Record;
}

/// What the driver must do now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Output<R: Replies> {
    /// Stop the prompts playing.
    StopPlaying,
    /// A play is over.
    Played(R::Play, Played),
    /// A collection is over.
    Collected(R::Collect, Collected),
    /// The next key came, or none before the deadline.
    NextKey(R::Next, Option<Digit>),
    /// Stop the recording and hand its audio over; `stopped_by_key` when the stop key ended
    /// it.
    Recorded {
        reply: R::Record,
        stopped_by_key: bool,
    },
}

/// A play in progress: it is over when its last prompt ends.
#[derive(Debug)]
struct Play<T> {
    last: PlayId,
    barge_in: bool,
    reply: T,
}

/// A recording in progress.
#[derive(Debug)]
struct Recording<T> {
    deadline: Instant,
    stop_on: Option<Digit>,
    reply: T,
}

/// The flow's wait for keys, with where it is answered.
#[derive(Debug)]
enum KeyWait<R: Replies> {
    Collect(R::Collect),
    Next(R::Next),
}

/// A call's plays, wait for keys and recording.
pub(crate) struct Waits<R: Replies> {
    plays: VecDeque<Play<R::Play>>,
    input: DigitInput,
    keys: Option<KeyWait<R>>,
    record: Option<Recording<R::Record>>,
    out: VecDeque<Output<R>>,
}

impl<R: Replies> Default for Waits<R> {
    fn default() -> Self {
        Self {
            plays: VecDeque::new(),
            input: DigitInput::default(),
            keys: None,
            record: None,
            out: VecDeque::new(),
        }
    }
}

impl<R: Replies> Waits<R> {
    /// The flow asks to play `count` prompts. `queue` hands them to the media and returns the
    /// id of the last one that will play (none: nothing playable, or no media yet); it is
    /// not called when the play is over before it starts: nothing to play, or a barge-in
    /// play with a key typed ahead.
    pub(crate) fn play(
        &mut self,
        count: usize,
        barge_in: bool,
        reply: R::Play,
        queue: impl FnOnce() -> Option<PlayId>,
    ) {
        if count == 0 {
            self.out.push_back(Output::Played(reply, Played::Finished));
        } else if barge_in && self.input.has_type_ahead() {
            self.out
                .push_back(Output::Played(reply, Played::Interrupted));
        } else {
            match queue() {
                Some(last) => self.plays.push_back(Play {
                    last,
                    barge_in,
                    reply,
                }),
                None => self.out.push_back(Output::Played(reply, Played::Finished)),
            }
        }
    }

    /// The flow asks to stop playing: every play in progress is interrupted.
    pub(crate) fn stop_playing(&mut self) {
        self.interrupt_plays();
    }

    /// The prompt `id` ended: the play it closes is over.
    pub(crate) fn prompt_done(&mut self, id: PlayId) {
        if let Some(pos) = self.plays.iter().position(|p| p.last == id) {
            let play = self.plays.remove(pos).expect("position is valid");
            self.out
                .push_back(Output::Played(play.reply, Played::Finished));
        }
    }

    /// The flow waits at `t` for an entry by `spec`, in place of any wait (whose answer is
    /// dropped); keys typed ahead answer it at once when they complete it.
    pub(crate) fn collect(&mut self, spec: CollectSpec, t: Instant, reply: R::Collect) {
        self.keys = Some(KeyWait::Collect(reply));
        let answer = self.input.collect(spec, t);
        self.answer_keys(answer);
    }

    /// The flow waits at `t` for the next key until `deadline` (or for ever), in place of any
    /// wait; a key typed ahead answers it at once.
    pub(crate) fn next_key(&mut self, deadline: Option<Instant>, t: Instant, reply: R::Next) {
        self.keys = Some(KeyWait::Next(reply));
        let answer = self.input.next(deadline, t);
        self.answer_keys(answer);
    }

    /// Whether the flow waits for keys.
    pub(crate) fn waiting_for_keys(&self) -> bool {
        self.input.waiting()
    }

    /// The flow forgets the keys typed ahead.
    pub(crate) fn flush_keys(&mut self) {
        self.input.flush();
    }

    /// The media started recording for the flow until `deadline`, `stop_on` ending it early;
    /// in place of any recording (whose answer is dropped).
    pub(crate) fn recording(
        &mut self,
        deadline: Instant,
        stop_on: Option<Digit>,
        reply: R::Record,
    ) {
        self.record = Some(Recording {
            deadline,
            stop_on,
            reply,
        });
    }

    /// The caller typed `d` at `t`. The recording's stop key ends it and goes no further;
    /// any other key interrupts the barge-in plays and goes to the wait for keys, or waits
    /// for the next one.
    pub(crate) fn typed(&mut self, d: Digit, t: Instant) {
        if self.record.as_ref().is_some_and(|r| r.stop_on == Some(d)) {
            self.finish_recording(true);
            return;
        }
        if self.plays.iter().any(|p| p.barge_in) {
            self.interrupt_plays();
        }
        let answer = self.input.typed(d, t);
        self.answer_keys(answer);
    }

    /// The next instant something may be due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        [
            self.record.as_ref().map(|r| r.deadline),
            self.input.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Time passed to `t`: the recording ends at its deadline or when `full` says the media
    /// has no room left (asked only while recording); the wait for keys ends at its
    /// timeout.
    pub(crate) fn handle_timeout(&mut self, t: Instant, full: impl FnOnce() -> bool) {
        if let Some(r) = &self.record
            && (r.deadline <= t || full())
        {
            self.finish_recording(false);
        }
        let answer = self.input.handle_timeout(t);
        self.answer_keys(answer);
    }

    /// What the driver must do next, in order.
    pub(crate) fn poll_output(&mut self) -> Option<Output<R>> {
        self.out.pop_front()
    }

    fn interrupt_plays(&mut self) {
        self.out.push_back(Output::StopPlaying);
        for play in self.plays.drain(..) {
            self.out
                .push_back(Output::Played(play.reply, Played::Interrupted));
        }
    }

    fn finish_recording(&mut self, stopped_by_key: bool) {
        if let Some(r) = self.record.take() {
            self.out.push_back(Output::Recorded {
                reply: r.reply,
                stopped_by_key,
            });
        }
    }

    fn answer_keys(&mut self, answer: Option<DigitAnswer>) {
        let Some(answer) = answer else { return };
        // DigitInput answers the kind of wait it was given, and the wait and its reply are
        // set together: no other pair can meet.
        let output = match (self.keys.take(), answer) {
            (Some(KeyWait::Collect(reply)), DigitAnswer::Collected(c)) => {
                Output::Collected(reply, c)
            }
            (Some(KeyWait::Next(reply)), DigitAnswer::Next(d)) => Output::NextKey(reply, d),
            (wait, answer) => unreachable!("{answer:?} for a wait {:?}", wait.is_some()),
        };
        self.out.push_back(output);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::core::Digits;

    /// Replies named by numbers, so a test reads which wait was answered.
    #[derive(Debug, PartialEq, Eq)]
    struct Tickets;

    impl Replies for Tickets {
        type Play = u32;
        type Collect = u32;
        type Next = u32;
        type Record = u32;
    }

    type Out = Output<Tickets>;

    fn drain(w: &mut Waits<Tickets>) -> Vec<Out> {
        std::iter::from_fn(|| w.poll_output()).collect()
    }

    fn key(c: char) -> Digit {
        Digit::from_char(c).unwrap()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Four digits, five seconds for the first, three for each other.
    fn four_digits() -> CollectSpec {
        CollectSpec {
            min: 4,
            max: 4,
            terminator: Some(Digit::POUND),
            first_digit_timeout: ms(5_000),
            inter_digit_timeout: ms(3_000),
        }
    }

    fn digits(s: &str) -> Digits {
        let mut d = Digits::new();
        s.chars().for_each(|c| d.push(key(c)));
        d
    }

    #[test]
    fn a_play_ends_when_its_last_prompt_ends_and_not_at_an_earlier_one() {
        let mut w = Waits::<Tickets>::default();
        w.play(2, false, 1, || Some(PlayId(8)));
        w.prompt_done(PlayId(7));
        assert_eq!(drain(&mut w), vec![]);
        w.prompt_done(PlayId(8));
        assert_eq!(drain(&mut w), vec![Out::Played(1, Played::Finished)]);
    }

    #[test]
    fn nothing_to_play_is_over_at_once_and_the_media_is_not_asked() {
        let mut w = Waits::<Tickets>::default();
        w.play(0, true, 1, || panic!("nothing to queue"));
        w.play(3, false, 2, || None);
        assert_eq!(
            drain(&mut w),
            vec![
                Out::Played(1, Played::Finished),
                Out::Played(2, Played::Finished)
            ]
        );
    }

    #[test]
    fn a_key_typed_ahead_interrupts_a_barge_in_play_before_it_starts_and_stays_for_the_wait() {
        let t = crate::core::test_epoch();
        let mut w = Waits::<Tickets>::default();
        w.typed(key('1'), t);
        w.play(1, true, 1, || panic!("an interrupted play is not queued"));
        assert_eq!(drain(&mut w), vec![Out::Played(1, Played::Interrupted)]);
        // A play without barge-in plays over it.
        w.play(1, false, 2, || Some(PlayId(1)));
        w.next_key(None, t, 3);
        assert_eq!(drain(&mut w), vec![Out::NextKey(3, Some(key('1')))]);
    }

    #[test]
    fn a_key_stops_the_barge_in_plays_and_answers_the_wait() {
        let t = crate::core::test_epoch();
        let mut w = Waits::<Tickets>::default();
        w.play(1, false, 1, || Some(PlayId(1)));
        w.play(1, true, 2, || Some(PlayId(2)));
        w.collect(four_digits(), t, 3);
        for c in "2024".chars() {
            w.typed(key(c), t);
        }
        assert_eq!(
            drain(&mut w),
            vec![
                Out::StopPlaying,
                Out::Played(1, Played::Interrupted),
                Out::Played(2, Played::Interrupted),
                Out::Collected(
                    3,
                    Collected::Digits {
                        digits: digits("2024"),
                        terminated: false
                    }
                ),
            ]
        );
        // Their prompts' ends, reported late by the media, answer nothing.
        w.prompt_done(PlayId(2));
        assert_eq!(drain(&mut w), vec![]);
    }

    #[test]
    fn a_key_leaves_plays_without_barge_in_playing() {
        let t = crate::core::test_epoch();
        let mut w = Waits::<Tickets>::default();
        w.play(1, false, 1, || Some(PlayId(1)));
        w.typed(key('5'), t);
        assert_eq!(drain(&mut w), vec![]);
        w.prompt_done(PlayId(1));
        w.next_key(None, t, 2);
        assert_eq!(
            drain(&mut w),
            vec![
                Out::Played(1, Played::Finished),
                Out::NextKey(2, Some(key('5')))
            ]
        );
    }

    #[test]
    fn the_flow_stopping_a_play_interrupts_it() {
        let mut w = Waits::<Tickets>::default();
        w.play(1, false, 1, || Some(PlayId(1)));
        w.stop_playing();
        assert_eq!(
            drain(&mut w),
            vec![Out::StopPlaying, Out::Played(1, Played::Interrupted)]
        );
    }

    #[test]
    fn the_stop_key_ends_the_recording_and_is_not_kept_as_input() {
        let t = crate::core::test_epoch();
        let mut w = Waits::<Tickets>::default();
        w.recording(t + ms(30_000), Some(Digit::POUND), 1);
        w.typed(key('3'), t);
        w.typed(Digit::POUND, t + ms(10));
        assert_eq!(w.poll_timeout(), None, "nothing left to wait for");
        w.next_key(None, t + ms(20), 2);
        assert_eq!(
            drain(&mut w),
            vec![
                Out::Recorded {
                    reply: 1,
                    stopped_by_key: true
                },
                Out::NextKey(2, Some(key('3'))),
            ]
        );
    }

    #[test]
    fn a_recording_ends_at_its_deadline_or_when_full_and_the_media_is_asked_only_while_recording() {
        let t = crate::core::test_epoch();
        let mut w = Waits::<Tickets>::default();
        w.handle_timeout(t, || panic!("not recording"));
        w.recording(t + ms(1_000), None, 1);
        assert_eq!(w.poll_timeout(), Some(t + ms(1_000)));
        w.handle_timeout(t + ms(999), || false);
        assert_eq!(drain(&mut w), vec![]);
        w.handle_timeout(t + ms(1_000), || false);
        w.recording(t + ms(60_000), None, 2);
        w.handle_timeout(t + ms(1_500), || true);
        assert_eq!(
            drain(&mut w),
            vec![
                Out::Recorded {
                    reply: 1,
                    stopped_by_key: false
                },
                Out::Recorded {
                    reply: 2,
                    stopped_by_key: false
                },
            ]
        );
        assert_eq!(w.poll_timeout(), None);
    }

    #[test]
    fn the_wait_for_keys_times_out_and_the_earliest_deadline_wakes_the_driver() {
        let t = crate::core::test_epoch();
        let mut w = Waits::<Tickets>::default();
        w.recording(t + ms(9_000), None, 1);
        w.next_key(Some(t + ms(2_000)), t, 2);
        assert!(w.waiting_for_keys());
        assert_eq!(w.poll_timeout(), Some(t + ms(2_000)));
        w.handle_timeout(t + ms(2_000), || false);
        assert!(!w.waiting_for_keys());
        assert_eq!(drain(&mut w), vec![Out::NextKey(2, None)]);
        assert_eq!(w.poll_timeout(), Some(t + ms(9_000)));
    }

    #[test]
    fn a_new_wait_for_keys_replaces_the_old_one() {
        let t = crate::core::test_epoch();
        let mut w = Waits::<Tickets>::default();
        w.next_key(None, t, 1);
        w.collect(four_digits(), t, 2);
        w.typed(key('1'), t);
        w.handle_timeout(t + ms(5_000), || false);
        assert_eq!(
            drain(&mut w),
            vec![Out::Collected(
                2,
                Collected::Timeout {
                    digits: digits("1")
                }
            )]
        );
    }
}
