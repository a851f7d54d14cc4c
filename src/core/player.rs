//! [`Player`]: plays queued prompts frame by frame for one call, yielding each RTP payload
//! without allocating (a slice of the shared prompt, or a static silence frame) and reporting
//! when each prompt starts and ends.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::media::g711::{ALAW_SILENCE, ULAW_SILENCE};
use crate::media::opus;
use crate::media::{Codec, MediaError, Prompt, Ptime};

/// Bytes of the longest G.711 frame (60 ms at 8 kHz).
const MAX_G711_FRAME: usize = 480;
static ULAW_SILENCE_FRAME: [u8; MAX_G711_FRAME] = [ULAW_SILENCE; MAX_G711_FRAME];
static ALAW_SILENCE_FRAME: [u8; MAX_G711_FRAME] = [ALAW_SILENCE; MAX_G711_FRAME];

/// Identifies one queued playback of a prompt (the same prompt queued twice gets two ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlayId(pub u64);

/// How a queued prompt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayOutcome {
    /// Its last frame was handed out.
    Completed,
    /// Stopped while playing ([`Player::stop`], e.g. barge-in).
    Interrupted,
    /// Removed from the queue before it started.
    Skipped,
}

/// What the call flow hears from the player.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayerEvent {
    /// The first frame of a prompt was handed out.
    Started {
        /// Which playback.
        id: PlayId,
        /// The prompt's name.
        prompt: Arc<str>,
    },
    /// A prompt ended; with [`PlayOutcome::Completed`] its last frame was just handed out, so
    /// the flow can start its input timeouts.
    Finished {
        /// Which playback.
        id: PlayId,
        /// The prompt's name.
        prompt: Arc<str>,
        /// How it ended.
        outcome: PlayOutcome,
    },
}

/// One frame to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The RTP payload.
    pub payload: &'a [u8],
    /// First frame of a talk-spurt (a prompt after silence): set the RTP marker bit
    /// (RFC 3551 §4.1).
    pub marker: bool,
    /// Prompt audio (true) or filler silence (false).
    pub speech: bool,
}

struct Cursor {
    id: PlayId,
    prompt: Arc<Prompt>,
    next: usize,
    frames: usize,
}

/// Prompt playout for one call at one codec and ptime.
pub struct Player {
    codec: Codec,
    ptime: Ptime,
    /// G.711 bytes per frame.
    g711_frame: usize,
    silence: &'static [u8],
    queue: VecDeque<(PlayId, Arc<Prompt>)>,
    current: Option<Cursor>,
    events: VecDeque<PlayerEvent>,
    next_id: u64,
    talking: bool,
    /// The last, partial G.711 frame of a prompt padded with silence.
    scratch: [u8; MAX_G711_FRAME],
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("codec", &self.codec)
            .field("ptime", &self.ptime)
            .field("queued", &self.queue.len())
            .field("playing", &self.current.as_ref().map(|c| c.prompt.name()))
            .finish()
    }
}

/// One frame of silence in `codec` at `ptime`, shared (static, encoded once). Fails only for
/// Opus at a ptime Opus cannot carry in one frame, or if libopus cannot encode it.
pub fn silence_frame(codec: Codec, ptime: Ptime) -> Result<&'static [u8], MediaError> {
    let g711_frame = codec.samples_per_frame(ptime) as usize;
    Ok(match codec {
        Codec::Pcmu => &ULAW_SILENCE_FRAME[..g711_frame],
        Codec::Pcma => &ALAW_SILENCE_FRAME[..g711_frame],
        Codec::Opus => {
            if !codec.supports_ptime(ptime) {
                return Err(MediaError::Opus(format!(
                    "no single Opus frame of {} ms",
                    ptime.as_millis()
                )));
            }
            opus::silence_frame(ptime)?
        }
    })
}

impl Player {
    /// A silent player for `codec` at `ptime`. Fails as [`silence_frame`] does.
    pub fn new(codec: Codec, ptime: Ptime) -> Result<Player, MediaError> {
        let g711_frame = codec.samples_per_frame(ptime) as usize;
        let silence = silence_frame(codec, ptime)?;
        Ok(Player {
            codec,
            ptime,
            g711_frame,
            silence,
            queue: VecDeque::with_capacity(8),
            current: None,
            events: VecDeque::with_capacity(8),
            next_id: 0,
            talking: false,
            scratch: [0; MAX_G711_FRAME],
        })
    }

    /// The codec frames are produced for.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The frame duration.
    pub fn ptime(&self) -> Ptime {
        self.ptime
    }

    /// Queues `prompt` after those already queued. Encodes its Opus frames for this ptime if
    /// no call did before (once per prompt and ptime), so playout itself never encodes.
    pub fn enqueue(&mut self, prompt: Arc<Prompt>) -> Result<PlayId, MediaError> {
        prompt.prepare(self.codec, self.ptime)?;
        let id = PlayId(self.next_id);
        self.next_id += 1;
        self.queue.push_back((id, prompt));
        Ok(id)
    }

    /// Stops at once (barge-in): the prompt playing ends as interrupted, queued ones as
    /// skipped; the next frame is silence.
    pub fn stop(&mut self) {
        if let Some(c) = self.current.take()
            && c.next < c.frames
        {
            self.events.push_back(PlayerEvent::Finished {
                id: c.id,
                prompt: c.prompt.name_arc().clone(),
                outcome: PlayOutcome::Interrupted,
            });
        }
        while let Some((id, p)) = self.queue.pop_front() {
            self.events.push_back(PlayerEvent::Finished {
                id,
                prompt: p.name_arc().clone(),
                outcome: PlayOutcome::Skipped,
            });
        }
    }

    /// Whether a prompt is playing or queued.
    pub fn is_playing(&self) -> bool {
        self.current.as_ref().is_some_and(|c| c.next < c.frames) || !self.queue.is_empty()
    }

    /// The next player event, if any.
    pub fn poll_event(&mut self) -> Option<PlayerEvent> {
        self.events.pop_front()
    }

    fn frame_count(&self, prompt: &Prompt) -> usize {
        match self.codec {
            Codec::Pcmu | Codec::Pcma => prompt.frame_count(self.codec, self.ptime),
            Codec::Opus => prompt
                .prepared_opus_frames(self.ptime)
                .map_or(0, |f| f.len()),
        }
    }

    /// The payload of the next frame: the playing prompt's, or silence. Call once per packet
    /// slot; it never allocates.
    #[inline]
    pub fn next_frame(&mut self) -> Frame<'_> {
        // Drop a prompt whose last frame went out on the previous call; start the next one.
        if self.current.as_ref().is_some_and(|c| c.next >= c.frames) {
            self.current = None;
        }
        while self.current.is_none() {
            let Some((id, prompt)) = self.queue.pop_front() else {
                break;
            };
            let frames = self.frame_count(&prompt);
            let name = prompt.name_arc().clone();
            self.events.push_back(PlayerEvent::Started {
                id,
                prompt: name.clone(),
            });
            if frames == 0 {
                self.events.push_back(PlayerEvent::Finished {
                    id,
                    prompt: name,
                    outcome: PlayOutcome::Completed,
                });
                continue;
            }
            self.current = Some(Cursor {
                id,
                prompt,
                next: 0,
                frames,
            });
        }
        let Some(cur) = self.current.as_mut() else {
            self.talking = false;
            return Frame {
                payload: self.silence,
                marker: false,
                speech: false,
            };
        };
        let index = cur.next;
        cur.next += 1;
        if cur.next == cur.frames {
            self.events.push_back(PlayerEvent::Finished {
                id: cur.id,
                prompt: cur.prompt.name_arc().clone(),
                outcome: PlayOutcome::Completed,
            });
        }
        let marker = !self.talking;
        self.talking = true;
        let payload: &[u8] = match self.codec {
            Codec::Pcmu | Codec::Pcma => {
                let all = cur.prompt.g711(self.codec).unwrap_or_default();
                let start = index * self.g711_frame;
                let end = (start + self.g711_frame).min(all.len());
                if end - start == self.g711_frame {
                    &all[start..end]
                } else {
                    let n = end - start;
                    self.scratch[..n].copy_from_slice(&all[start..end]);
                    self.scratch[n..self.g711_frame].fill(self.silence[0]);
                    &self.scratch[..self.g711_frame]
                }
            }
            Codec::Opus => cur
                .prompt
                .prepared_opus_frames(self.ptime)
                .and_then(|f| f.frame(index))
                .unwrap_or(self.silence),
        };
        Frame {
            payload,
            marker,
            speech: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::g711::ulaw_decode;

    fn prompt(name: &str, ms: usize) -> Arc<Prompt> {
        let pcm: Vec<i16> = (0..ms * 8)
            .map(|i| if i % 2 == 0 { 8000 } else { -8000 })
            .collect();
        Arc::new(Prompt::from_pcm(name, &pcm, 8000).unwrap())
    }

    fn drain(p: &mut Player) -> Vec<PlayerEvent> {
        std::iter::from_fn(|| p.poll_event()).collect()
    }

    #[test]
    fn plays_queued_prompts_back_to_back_then_silence() {
        let mut p = Player::new(Codec::Pcmu, Ptime::DEFAULT).unwrap();
        let a = prompt("a", 50); // 2.5 frames → 3, the last padded
        let b = prompt("b", 40);
        let ia = p.enqueue(a.clone()).unwrap();
        let ib = p.enqueue(b).unwrap();
        assert!(p.is_playing());

        let f = p.next_frame();
        assert!(f.marker && f.speech);
        assert_eq!(f.payload, &a.g711(Codec::Pcmu).unwrap()[..160]);
        assert!(
            std::ptr::eq(f.payload.as_ptr(), a.g711(Codec::Pcmu).unwrap().as_ptr()),
            "no copy"
        );
        assert_eq!(
            drain(&mut p),
            [PlayerEvent::Started {
                id: ia,
                prompt: "a".into()
            }]
        );
        p.next_frame();
        let last = p.next_frame();
        assert_eq!(last.payload.len(), 160);
        assert!(
            last.payload[80..].iter().all(|&b| ulaw_decode(b) == 0),
            "padded with silence"
        );
        assert!(!last.marker);
        assert_eq!(
            drain(&mut p),
            [PlayerEvent::Finished {
                id: ia,
                prompt: "a".into(),
                outcome: PlayOutcome::Completed
            }]
        );
        // b follows without a gap and without a new marker (same talk-spurt).
        let f = p.next_frame();
        assert!(f.speech && !f.marker);
        p.next_frame();
        assert!(!p.is_playing());
        assert_eq!(drain(&mut p).len(), 2);
        let s = p.next_frame();
        assert!(!s.speech && !s.marker);
        assert!(s.payload.iter().all(|&b| b == ULAW_SILENCE) && s.payload.len() == 160);
        // A prompt after silence starts a new talk-spurt.
        let ic = p.enqueue(prompt("c", 20)).unwrap();
        assert!(p.next_frame().marker);
        assert!(ic > ib);
    }

    #[test]
    fn barge_in_stops_at_once_and_clears_the_queue() {
        let mut p = Player::new(Codec::Pcma, Ptime::from_millis(30).unwrap()).unwrap();
        let a = p.enqueue(prompt("a", 300)).unwrap();
        let b = p.enqueue(prompt("b", 300)).unwrap();
        p.next_frame();
        drain(&mut p);
        p.stop();
        assert!(!p.is_playing());
        assert_eq!(
            drain(&mut p),
            [
                PlayerEvent::Finished {
                    id: a,
                    prompt: "a".into(),
                    outcome: PlayOutcome::Interrupted
                },
                PlayerEvent::Finished {
                    id: b,
                    prompt: "b".into(),
                    outcome: PlayOutcome::Skipped
                },
            ]
        );
        let f = p.next_frame();
        assert!(!f.speech);
        assert_eq!(f.payload.len(), 240);
        assert!(f.payload.iter().all(|&b| b == ALAW_SILENCE));
        p.stop();
        assert!(drain(&mut p).is_empty());
    }

    #[test]
    fn opus_frames_are_the_prompts_preencoded_ones() {
        let mut p = Player::new(Codec::Opus, Ptime::from_millis(40).unwrap()).unwrap();
        let a = prompt("a", 100);
        p.enqueue(a.clone()).unwrap();
        let frames = a
            .prepared_opus_frames(Ptime::from_millis(40).unwrap())
            .unwrap();
        assert_eq!(frames.len(), 3);
        for i in 0..3 {
            let f = p.next_frame();
            assert_eq!(f.payload, frames.frame(i).unwrap());
            assert!(std::ptr::eq(
                f.payload.as_ptr(),
                frames.frame(i).unwrap().as_ptr()
            ));
        }
        let s = p.next_frame();
        assert!(!s.speech);
        assert_eq!(
            s.payload,
            opus::silence_frame(Ptime::from_millis(40).unwrap()).unwrap()
        );
        assert!(Player::new(Codec::Opus, Ptime::from_millis(30).unwrap()).is_err());
    }

    /// A phone decodes the whole stream with one decoder: silence, three prompts back to back
    /// and silence again, as the player sends them, decode to each prompt as its frames
    /// decode after silence only (what they were encoded against).
    #[test]
    fn opus_prompts_and_silence_decode_continuously() {
        let ptime = Ptime::DEFAULT;
        let load = |name: &str| {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("prompts/fr")
                .join(name);
            Arc::new(Prompt::from_wav_file(&path).unwrap())
        };
        // A sweep between speech prompts: tones are where SILK prediction went wrong.
        let n = 4_800;
        let mut phase = 0.0f32;
        let sweep: Vec<i16> = (0..n)
            .map(|i| {
                phase +=
                    2.0 * std::f32::consts::PI * (300.0 + 2700.0 * i as f32 / n as f32) / 8_000.0;
                // 5 ms ramps, as a recorded prompt starts and ends.
                let ramp = (i.min(n - 1 - i) as f32 / 40.0).min(1.0);
                (9_000.0 * ramp * phase.sin()) as i16
            })
            .collect();
        let a = load("bienvenue.wav");
        let b = Arc::new(Prompt::from_pcm("sweep", &sweep, 8_000).unwrap());
        let c = load("choix_service.wav");
        let mut p = Player::new(Codec::Opus, ptime).unwrap();
        let mut dec = opus::OpusDecoder::new().unwrap();
        let mut out = vec![0i16; opus::OPUS_MAX_FRAME_SAMPLES];
        let mut stream = Vec::new();
        let mut send = |p: &mut Player, stream: &mut Vec<i16>| {
            let n = dec.decode(Some(p.next_frame().payload), &mut out).unwrap();
            stream.extend_from_slice(&out[..n]);
        };
        for _ in 0..5 {
            send(&mut p, &mut stream);
        }
        p.enqueue(a.clone()).unwrap();
        p.enqueue(b.clone()).unwrap();
        p.enqueue(c.clone()).unwrap();
        while p.is_playing() {
            send(&mut p, &mut stream);
        }
        for _ in 0..5 {
            send(&mut p, &mut stream);
        }
        let silence = opus::silence_frame(ptime).unwrap();
        let mut offset = 5 * 960;
        for prompt in [&a, &b, &c] {
            let frames = prompt.prepared_opus_frames(ptime).unwrap();
            let mut fresh = opus::OpusDecoder::new().unwrap();
            for _ in 0..5 {
                fresh.decode(Some(silence), &mut out).unwrap();
            }
            let mut meant = Vec::new();
            for i in 0..frames.len() {
                let n = fresh.decode(frames.frame(i), &mut out).unwrap();
                meant.extend_from_slice(&out[..n]);
            }
            let got = &stream[offset..offset + meant.len()];
            let (sig, err) = meant
                .iter()
                .zip(got)
                .fold((0.0f64, 0.0f64), |(s, e), (&m, &g)| {
                    (
                        s + f64::from(m).powi(2),
                        e + (f64::from(m) - f64::from(g)).powi(2),
                    )
                });
            let snr = 10.0 * (sig / err.max(1.0)).log10();
            eprintln!("{}: SNR {snr:.1} dB", prompt.name());
            assert!(snr > 30.0, "{}: SNR {snr:.1} dB", prompt.name());
            offset += meant.len();
        }
        // The stream ends in silence.
        assert!(stream[stream.len() - 960..].iter().all(|&s| s.abs() < 50));
    }
}
