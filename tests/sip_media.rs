//! A call's media end to end over loopback: the caller hears the prompt (PCMU, PCMA, Opus
//! decode back to the prompt's audio), symmetric RTP and who may type into a call, keys by
//! RFC 4733, SIP INFO and in-band tones each heard once, barge-in and collection as a
//! dialplan drives them, and recording the caller's audio.

mod common;

use std::time::Duration;

use anyhow::{Context, Result};
use common::*;
use ivr::call::{Call, CollectSpec, Collected, Digit, Played, RecordSpec, Recorded};
use ivr::media::g711::{alaw_decode, ulaw_decode};
use ivr::media::opus::OpusDecoder;
use ivr::media::testing::{best_correlation, spectral_similarity};
use rsipstack::sip::Header;
use tokio::sync::mpsc;

/// A line whose flow plays the sweep, then reports every key; and those keys.
async fn sweep_line() -> Result<(Line, mpsc::UnboundedReceiver<Digit>)> {
    let (flow, digits) = prompt_then_digits(Some(sweep_prompt()));
    Ok((Line::start(flow).await?, digits))
}

/// How many 20 ms frames the sweep lasts.
fn sweep_frames() -> usize {
    (sweep_prompt().duration().as_millis() / 20) as usize
}

fn decode_opus(packets: &[Vec<u8>]) -> Result<Vec<i16>> {
    let mut dec = OpusDecoder::new()?;
    let mut out = vec![0i16; 5760];
    let mut pcm = Vec::new();
    for p in packets {
        let n = dec.decode(Some(p), &mut out)?;
        pcm.extend_from_slice(&out[..n]);
    }
    Ok(pcm)
}

/// How close the stream decoded from its first packet (as a phone does) is to the sweep,
/// from the talk-spurt on.
fn continuous_opus_similarity(spurt: &[Vec<u8>], all: &[Vec<u8>]) -> Result<f64> {
    let continuous = decode_opus(all)?;
    let skip = (all.len() - spurt.len()) * 960;
    Ok(spectral_similarity(
        sweep_prompt().pcm_48k(),
        &continuous[skip..],
        48_000,
    ))
}

async fn hear_prompt(codec: Offer) -> Result<()> {
    let (line, _digits) = sweep_line().await?;
    let te_rate = if codec == Offer::Opus { 48_000 } else { 8_000 };
    let call = line.call(codec, Some((101, te_rate))).await?;
    let prompt = sweep_prompt();
    let (pt, spurt, all) = receive_spurt(&line.media.socket, sweep_frames()).await?;
    let score = match codec {
        Offer::Pcmu | Offer::Pcma => {
            assert_eq!(pt, if codec == Offer::Pcmu { 0 } else { 8 });
            let decode = if codec == Offer::Pcmu {
                ulaw_decode
            } else {
                alaw_decode
            };
            let got: Vec<i16> = spurt.iter().flatten().map(|&b| decode(b)).collect();
            best_correlation(prompt.pcm_8k(), &got, 80)
        }
        Offer::Opus => {
            assert_eq!(pt, 111);
            // The packets are the prompt's own frames, encoded once at load.
            let frames = prompt.opus_frames(ivr::media::Ptime::DEFAULT)?;
            for (i, p) in spurt.iter().enumerate() {
                assert_eq!(Some(p.as_slice()), frames.frame(i), "Opus frame {i}");
            }
            // Decoded from the talk-spurt on, they give back the prompt. Opus need not keep
            // the waveform's phase, so spectrograms are compared rather than samples.
            let fresh = spectral_similarity(prompt.pcm_48k(), &decode_opus(&spurt)?, 48_000);
            // Decoded continuously: `opus_continuous_decode_matches_prompt` asserts it.
            let cont = continuous_opus_similarity(&spurt, &all)?;
            eprintln!("Opus spectral similarity: from the spurt {fresh:.3}, continuous {cont:.3}");
            fresh
        }
    };
    assert!(
        score > 0.9,
        "{codec:?}: correlation {score:.3} with the prompt"
    );
    line.expect_metric("ivr_rtp_packets_sent_total")?;
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn caller_hears_prompt_pcmu() -> Result<()> {
    hear_prompt(Offer::Pcmu).await
}

#[tokio::test]
async fn caller_hears_prompt_pcma() -> Result<()> {
    hear_prompt(Offer::Pcma).await
}

#[tokio::test]
async fn caller_hears_prompt_opus() -> Result<()> {
    hear_prompt(Offer::Opus).await
}

/// A phone decodes the whole stream: the prompt's frames follow silence frames sent before it,
/// and must still decode to the prompt (the media core encodes CELT-only frames from a state
/// primed with silence, the first one coded without inter-frame prediction).
#[tokio::test]
async fn opus_continuous_decode_matches_prompt() -> Result<()> {
    let (line, _digits) = sweep_line().await?;
    let call = line.call(Offer::Opus, None).await?;
    let (_, spurt, all) = receive_spurt(&line.media.socket, sweep_frames()).await?;
    let score = continuous_opus_similarity(&spurt, &all)?;
    assert!(score > 0.9, "continuous decode similarity {score:.3}");
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn rtp_latches_onto_the_callers_real_source() -> Result<()> {
    let (line, _digits) = sweep_line().await?;
    // The SDP names a decoy port; the caller really sends from its own socket.
    let decoy = Media::new().await?;
    let call = line
        .answered(NUMBER, decoy.offer(Offer::Pcmu, None, ""))
        .await?;
    let mut out = call.sender(8_000);
    out.audio(&line.media.socket, 0, &[0xFF; 160]).await?;
    let (_, spurt, _) = receive_spurt(&line.media.socket, sweep_frames()).await?;
    assert_eq!(spurt.len(), sweep_frames());
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

async fn digits_each_once(codec: Offer, te: (u8, u32)) -> Result<()> {
    let (line, mut digits) = sweep_line().await?;
    let call = line.call(codec, Some(te)).await?;
    // RFC 4733: each press once, the end packet's retransmissions ignored, the same key twice
    // in a row counted twice; `*` closes the batch.
    let mut out = call.sender(te.1);
    out.keys(&line.media.socket, te.0, "1255#*").await?;
    assert_eq!(digits_until(&mut digits, '*').await?, "1255#*");
    line.expect_metric("ivr_dtmf_digits_total 6")?;
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn digits_each_once_pcmu_rfc4733() -> Result<()> {
    digits_each_once(Offer::Pcmu, TE_8K).await
}

#[tokio::test]
async fn digits_each_once_opus_with_48k_events() -> Result<()> {
    digits_each_once(Offer::Opus, (101, 48_000)).await
}

#[tokio::test]
async fn digits_each_once_pcma_with_other_event_type() -> Result<()> {
    digits_each_once(Offer::Pcma, (96, 8_000))
        .await
        .context("payload type 96")
}

#[tokio::test]
async fn info_digits_each_once() -> Result<()> {
    let (line, mut digits) = sweep_line().await?;
    let call = line.call_pcmu().await?;
    let info = |ct: &str, body: &str| {
        call.dialog.info(
            Some(vec![Header::ContentType(ct.into())]),
            Some(body.as_bytes().to_vec()),
        )
    };
    // SIP INFO, both body formats; each INFO is answered before the next is sent.
    for (ct, body) in [
        ("application/dtmf-relay", "Signal=7\r\nDuration=160\r\n"),
        ("application/dtmf", "8"),
        ("application/dtmf", "8"),
        ("application/dtmf-relay", "Signal=*\r\nDuration=160\r\n"),
    ] {
        expect_status(&info(ct, body).await?, 200)?;
    }
    assert_eq!(digits_until(&mut digits, '*').await?, "788*");
    // An INFO that is not DTMF is refused with 415 and counts no digit.
    expect_status(&info("text/plain", "hello").await?, 415)?;
    assert!(digits.try_recv().is_err(), "no extra digit");
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn inband_tones_are_heard_once_each() -> Result<()> {
    let (flow, mut digits) = digit_reporter();
    let line = Line::start(flow).await?;
    // No telephone-event offered: a trunk that only sends tones.
    let call = line.call_pcmu().await?;
    call.sender(8_000)
        .tones(&line.media.socket, "4009#")
        .await?;
    assert_eq!(digits_until(&mut digits, '#').await?, "4009#");
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn press_sent_as_event_and_tone_counts_once() -> Result<()> {
    let (flow, mut digits) = digit_reporter();
    let line = Line::start(flow).await?;
    let call = line.call(Offer::Pcmu, Some(TE_8K)).await?;
    let mut out = call.sender(8_000);
    // Tones first (the merger hears them before any event), then the same keys as events.
    for key in ["3", "7"] {
        out.tones(&line.media.socket, key).await?;
        out.keys(&line.media.socket, 101, key).await?;
    }
    out.press(&line.media.socket, 101, '*').await?;
    assert_eq!(digits_until(&mut digits, '*').await?, "37*");
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn reinvite_to_another_codec_switches_the_stream_and_keeps_digits() -> Result<()> {
    let (line, mut digits) = sweep_line().await?;
    let call = line.call(Offer::Pcmu, Some(TE_8K)).await?;
    let mut out = call.sender(8_000);
    out.press(&line.media.socket, 101, '1').await?;
    assert_eq!(digits_until(&mut digits, '1').await?, "1");
    // Switch to PCMA with telephone-events at another payload type.
    let answer = call
        .reoffer(line.offer(Offer::Pcma, Some((96, 8000))))
        .await?;
    assert!(answer.contains("RTP/AVP 8 96"), "{answer}");
    // The server's packets now carry PCMA (payload type 8).
    line.media
        .rtp_until("PCMA packets", |r| r.payload_type() == 8)
        .await?;
    // Digits on the new payload type are heard, once each.
    out.keys(&line.media.socket, 96, "22#").await?;
    assert_eq!(digits_until(&mut digits, '#').await?, "22#");
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

/// Issue 13, finding 4: someone who learns a call's RTP port (they were handed out in
/// sequence) sends telephone-events from another address. Once the call knows its caller's
/// source, those packets are dropped and counted, never typed into the call; a re-INVITE
/// naming a new address moves the call to its new source.
#[tokio::test]
async fn rtp_from_another_source_cannot_type_into_a_call() -> Result<()> {
    let (line, mut digits) = sweep_line().await?;
    let intruder = Media::new().await?;
    let call = line.call(Offer::Pcmu, Some(TE_8K)).await?;
    let mut caller = call.sender(8_000);
    caller.press(&line.media.socket, 101, '1').await?;
    assert_eq!(digits_until(&mut digits, '1').await?, "1");

    // The intruder types 9 as if it were the caller (its SSRC, sequence and timestamps
    // continued), then the caller types 2.
    let mut forged = call.sender(8_000);
    (forged.seq, forged.ts) = (caller.seq, caller.ts);
    forged.press(&intruder.socket, 101, '9').await?;
    (caller.seq, caller.ts) = (forged.seq, forged.ts);
    caller.press(&line.media.socket, 101, '2').await?;
    assert_eq!(digits_until(&mut digits, '2').await?, "2", "9 was typed");
    metrics_come_to_show(&line.metrics, "ivr_rtp_foreign_dropped_total 6").await?;

    // The caller moves (a re-INVITE with a new address): its new source is heard, the old
    // one is foreign now.
    let moved = Media::new().await?;
    call.reoffer(moved.offer(Offer::Pcmu, Some(TE_8K), ""))
        .await?;
    caller.press(&moved.socket, 101, '4').await?;
    assert_eq!(digits_until(&mut digits, '4').await?, "4");
    caller.press(&line.media.socket, 101, '5').await?;
    caller.press(&moved.socket, 101, '6').await?;
    assert_eq!(digits_until(&mut digits, '6').await?, "6", "5 was typed");
    metrics_come_to_show(&line.metrics, "ivr_rtp_foreign_dropped_total 12").await?;
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

/// `rtp_source = "any"` hears every source, as the line did before (for a trunk that
/// spreads a call's RTP over several addresses).
#[tokio::test]
async fn rtp_source_any_hears_every_source() -> Result<()> {
    let (flow, mut digits) = prompt_then_digits(Some(sweep_prompt()));
    let config = ivr::sip::SipConfig {
        rtp_source: ivr::sip::RtpSource::Any,
        ..test_config()
    };
    let line = Line::start_with(config, flow).await?;
    let other = Media::new().await?;
    let call = line.call(Offer::Pcmu, Some(TE_8K)).await?;
    let mut out = call.sender(8_000);
    out.press(&line.media.socket, 101, '1').await?;
    out.press(&other.socket, 101, '2').await?;
    assert_eq!(digits_until(&mut digits, '2').await?, "12");
    assert!(
        !line
            .metrics
            .render()
            .contains("ivr_rtp_foreign_dropped_total 1")
    );
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

/// What the barge-in flow saw.
#[derive(Debug)]
enum Seen {
    Played(Played),
    Collected(Collected),
}

/// The call API as a dialplan drives it: a prompt with barge-in, then a collection with
/// terminator, then a menu wait that times out.
#[tokio::test]
async fn barge_in_stops_the_prompt_and_collect_gets_the_digits() -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Seen>();
    let prompt = sweep_prompt();
    let flow = move |call: Call| {
        let tx = tx.clone();
        // Five sweeps in a row: 3 s of prompt, interrupted by the first key.
        let prompts = vec![prompt.clone(); 5];
        async move {
            let Ok(played) = call.play(prompts, true).await else {
                return;
            };
            tx.send(Seen::Played(played)).ok();
            let spec = CollectSpec {
                min: 4,
                max: 6,
                terminator: Digit::from_char('#'),
                first_digit_timeout: Duration::from_secs(5),
                inter_digit_timeout: Duration::from_secs(3),
            };
            let Ok(c) = call.collect(spec).await else {
                return;
            };
            tx.send(Seen::Collected(c)).ok();
            // Nothing typed: a short menu wait times out.
            let Ok(c) = call
                .collect(CollectSpec::one_key(Duration::from_millis(200)))
                .await
            else {
                return;
            };
            tx.send(Seen::Collected(c)).ok();
            wait_forever(call).await;
        }
    };
    let line = Line::start(flow).await?;
    let call = line.call(Offer::Pcmu, Some(TE_8K)).await?;
    // The prompt has started: type 1 2 3 4 #.
    receive_spurt(&line.media.socket, 3).await?;
    call.sender(8_000)
        .keys(&line.media.socket, 101, "1234#")
        .await?;
    match guard("the play outcome", rx.recv()).await? {
        Some(Seen::Played(p)) => assert_eq!(p, Played::Interrupted),
        other => panic!("{other:?}"),
    }
    match guard("the collected digits", rx.recv()).await? {
        Some(Seen::Collected(Collected::Digits { digits, terminated })) => {
            assert_eq!(digits.expose(), "1234");
            assert!(terminated);
        }
        other => panic!("{other:?}"),
    }
    match guard("the menu timeout", rx.recv()).await? {
        Some(Seen::Collected(Collected::Timeout { digits })) => assert!(digits.is_empty()),
        other => panic!("{other:?}"),
    }
    // The audio stopped at the barge-in: silence (µ-law 0xFF) comes long before 3 s of sweep.
    let speech = line
        .media
        .rtp_until("silence after the barge-in", |r| {
            r.payload().iter().all(|&b| b == 0xFF)
        })
        .await?;
    assert!(speech < 140, "{speech} speech packets after the barge-in");
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn recording_stops_on_pound_and_holds_the_callers_audio() -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Recorded>();
    let flow = move |call: Call| {
        let tx = tx.clone();
        async move {
            let spec = RecordSpec {
                max_len: Duration::from_secs(20),
                stop_on: Digit::from_char('#'),
            };
            // The record command goes first, then the beep: once the caller hears the beep,
            // the recording runs ("speak after the tone").
            let (rec, _) =
                futures::join!(call.record(spec), call.play(vec![sweep_prompt()], false));
            if let Ok(rec) = rec {
                tx.send(rec).ok();
            }
            wait_forever(call).await;
        }
    };
    let line = Line::start(flow).await?;
    let call = line.call(Offer::Pcmu, Some(TE_8K)).await?;
    let mut out = call.sender(8_000);
    // Half a second of a 440 Hz tone, then # by RFC 4733.
    let tone = tone_440(4_000);
    receive_spurt(&line.media.socket, 1).await?;
    for payload in pcmu_packets(&tone) {
        out.audio(&line.media.socket, 0, &payload).await?;
    }
    out.press(&line.media.socket, 101, '#').await?;
    let rec = guard("the recording", rx.recv())
        .await?
        .expect("a recording");
    assert!(rec.stopped_by_key);
    assert_eq!(rec.audio.sample_rate, 8_000);
    // Everything the caller sent is there, in order.
    let got = &rec.audio.samples;
    assert!(
        got.len() >= 4_000 && got.len() <= 4_400,
        "{} samples",
        got.len()
    );
    let score = best_correlation(&tone, got, 200);
    assert!(score > 0.95, "correlation {score:.3}");
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

/// Issue 17, finding 3: a caller flooding its own call with RTP (about 130,000 packets a
/// second) drowned its keys, the line reading 64 packets of a call per tick. A flood of
/// 100,000 audio packets a second from the caller's own address now leaves every key
/// heard; the audio beyond the call's share of a tick is dropped and counted.
#[tokio::test]
async fn a_flood_of_rtp_does_not_drown_the_callers_keys() -> Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let (flow, mut digits) = digit_reporter();
    let line = Line::start(flow).await?;
    // The flood and the keys leave from one address, as they would from one phone.
    let phone = std::net::UdpSocket::bind("127.0.0.1:0")?;
    phone.set_nonblocking(true)?;
    let media = Media {
        socket: tokio::net::UdpSocket::from_std(phone.try_clone()?)?,
    };
    let call = line
        .answered(NUMBER, media.offer(Offer::Pcmu, Some(TE_8K), ""))
        .await?;
    let (to, stop) = (call.rtp, Arc::new(AtomicBool::new(false)));
    let flooding = stop.clone();
    let flood = std::thread::spawn(move || {
        let packet = rtp_packet(0, 1, 160, 0x0F10_0D00, false, &[0x7F; 160]);
        let mut sent = 0u64;
        while !flooding.load(Ordering::Relaxed) {
            // A thousand packets every 10 ms.
            for _ in 0..1_000 {
                sent += u64::from(phone.send_to(&packet, to).is_ok());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        sent
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut out = call.sender(8_000);
    let typed = "12345678909876543210#";
    for key in typed.chars() {
        out.press(&media.socket, 101, key).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let heard = digits_until(&mut digits, '#').await;
    if heard.is_err() {
        eprintln!("the line's counters:\n{}", line.metrics.render());
    }
    stop.store(true, Ordering::Relaxed);
    let sent = flood.join().expect("the flood thread");
    eprintln!("flood: {sent} packets sent");
    assert_eq!(heard?, typed, "every key heard through the flood");
    assert!(sent > 20_000, "the flood was a flood: {sent} packets");
    let text = line.metrics.render();
    let dropped = text
        .lines()
        .find_map(|l| l.strip_prefix("ivr_rtp_flood_dropped_total "))
        .and_then(|n| n.parse::<u64>().ok())
        .with_context(|| format!("no flood counter in:\n{text}"))?;
    assert!(dropped > sent / 2, "{dropped} of {sent} dropped");
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

/// `keys` as a phone's Opus encoder sends in-band tones: each key 100 ms of its two
/// frequencies then 100 ms of silence, at 48 kHz, in 20 ms frames.
fn opus_tone_frames(keys: &str) -> Result<Vec<Vec<u8>>> {
    let mut pcm = Vec::new();
    for key in keys.chars() {
        let (lo, hi) = Digit::from_char(key).context("key")?.frequencies();
        pcm.extend((0..4_800).map(|n| {
            let t = n as f32 / 48_000.0;
            (6_000.0 * (2.0 * std::f32::consts::PI * lo * t).sin()
                + 6_000.0 * (2.0 * std::f32::consts::PI * hi * t).sin()) as i16
        }));
        pcm.extend(std::iter::repeat_n(0i16, 4_800));
    }
    let frames = ivr::media::opus::encode_frames(&pcm, ivr::media::Ptime::DEFAULT)?;
    Ok((0..frames.len())
        .filter_map(|i| frames.frame(i).map(<[u8]>::to_vec))
        .collect())
}

/// Issue 17, finding 1: a phone that offers Opus alone, without telephone-event, sends its
/// keys as tones in the Opus audio; the line listened for tones in G.711 only, so it could
/// not log in. Its tones are heard now, once each (the audio decoded only for such a call).
#[tokio::test]
async fn an_opus_caller_without_telephone_events_types_by_tones() -> Result<()> {
    let (flow, mut digits) = digit_reporter();
    let line = Line::start(flow).await?;
    let call = line.call(Offer::Opus, None).await?;
    assert!(!call.sdp.contains("telephone-event"), "{}", call.sdp);
    let mut out = call.sender(48_000);
    for frame in opus_tone_frames("4009#")? {
        out.audio(&line.media.socket, 111, &frame).await?;
        // Paced as a phone sends them.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(digits_until(&mut digits, '#').await?, "4009#");
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}
