//! Media end to end over loopback: the caller hears the prompt (PCMU, PCMA, Opus decode back
//! to the prompt's audio), symmetric RTP, and DTMF by RFC 4733 and SIP INFO seen exactly once.

mod common;

use anyhow::{Context, Result};
use common::*;
use ivr::call::{Call, Digit};
use ivr::media::g711::{alaw_decode, ulaw_decode};
use ivr::media::opus::OpusDecoder;
use ivr::media::testing::{best_correlation, spectral_similarity};
use rsipstack::sip::{Header, Transport};
use tokio::sync::mpsc;

/// The flow of these tests: play the sweep, then report every digit.
fn prompt_then_digits() -> (impl ivr::call::CallFlow, mpsc::UnboundedReceiver<Digit>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let prompt = sweep_prompt();
    let flow = move |call: Call| {
        let tx = tx.clone();
        let prompt = prompt.clone();
        async move {
            let _ = call.play(vec![prompt], false).await;
            while let Ok(Some(d)) = call.next_digit(None).await {
                if tx.send(d).is_err() {
                    break;
                }
            }
        }
    };
    (flow, rx)
}

/// Receives digits until `sentinel`, returns them as text.
async fn digits_until(rx: &mut mpsc::UnboundedReceiver<Digit>, sentinel: char) -> Result<String> {
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

async fn hear_prompt(codec: Offer) -> Result<()> {
    let (flow, _digits) = prompt_then_digits();
    let (server, metrics) = start_server(test_config(), flow).await?;
    let phone = Phone::new().await?;
    let media = Media::new().await?;
    let te_rate = if codec == Offer::Opus { 48_000 } else { 8_000 };
    let (dialog, resp) = phone
        .invite(
            server.udp_addr(),
            Transport::Udp,
            "3900",
            Some(media.offer(codec, Some((101, te_rate)), "")),
            None,
        )
        .await?;
    expect_status(&resp, 200)?;
    let prompt = sweep_prompt();
    let frames = (prompt.duration().as_millis() / 20) as usize;
    let (pt, spurt, all) = receive_spurt(&media.socket, frames).await?;
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
            let pcm = decode_opus(&spurt)?;
            let fresh = spectral_similarity(prompt.pcm_48k(), &pcm, 48_000);
            // Decoded continuously from the stream's first packet (as a phone does): see
            // `opus_continuous_decode_matches_prompt`, which asserts it.
            let continuous = decode_opus(&all)?;
            let skip = (all.len() - spurt.len()) * 960;
            let cont = spectral_similarity(prompt.pcm_48k(), &continuous[skip..], 48_000);
            eprintln!("Opus spectral similarity: from the spurt {fresh:.3}, continuous {cont:.3}");
            fresh
        }
    };
    assert!(
        score > 0.9,
        "{codec:?}: correlation {score:.3} with the prompt"
    );
    assert!(metrics.render().contains("ivr_rtp_packets_sent_total"));
    dialog.bye().await?;
    server.shutdown().await;
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

#[tokio::test]
async fn rtp_latches_onto_the_callers_real_source() -> Result<()> {
    let (flow, _digits) = prompt_then_digits();
    let (server, _) = start_server(test_config(), flow).await?;
    let phone = Phone::new().await?;
    let media = Media::new().await?;
    // The SDP names a decoy port; the caller really sends from `media.socket`.
    let decoy = Media::new().await?;
    let (dialog, resp) = phone
        .call_pcmu(server.udp_addr(), Transport::Udp, "3900", &decoy)
        .await?;
    expect_status(&resp, 200)?;
    let (server_rtp, _) = answer_media(resp.as_ref().unwrap())?;
    let mut out = RtpOut::new(server_rtp, 8_000);
    out.audio(&media.socket, 0, &[0xFF; 160]).await?;
    let frames = (sweep_prompt().duration().as_millis() / 20) as usize;
    let (_, spurt, _) = receive_spurt(&media.socket, frames).await?;
    assert_eq!(spurt.len(), frames);
    dialog.bye().await?;
    server.shutdown().await;
    Ok(())
}

async fn digits_each_once(codec: Offer, te: (u8, u32)) -> Result<()> {
    let (flow, mut digits) = prompt_then_digits();
    let (server, metrics) = start_server(test_config(), flow).await?;
    let phone = Phone::new().await?;
    let media = Media::new().await?;
    let (dialog, resp) = phone
        .invite(
            server.udp_addr(),
            Transport::Udp,
            "3900",
            Some(media.offer(codec, Some(te), "")),
            None,
        )
        .await?;
    expect_status(&resp, 200)?;
    let (server_rtp, _) = answer_media(resp.as_ref().unwrap())?;
    let mut out = RtpOut::new(server_rtp, te.1);

    // RFC 4733: each press once, the end packet's retransmissions ignored, the same key twice
    // in a row counted twice; `*` closes the batch.
    for key in ['1', '2', '5', '5', '#', '*'] {
        out.press(&media.socket, te.0, key).await?;
    }
    assert_eq!(digits_until(&mut digits, '*').await?, "1255#*");

    assert!(
        metrics.render().contains("ivr_dtmf_digits_total 6"),
        "{}",
        metrics.render()
    );
    dialog.bye().await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn info_digits_each_once() -> Result<()> {
    let (flow, mut digits) = prompt_then_digits();
    let (server, _) = start_server(test_config(), flow).await?;
    let phone = Phone::new().await?;
    let media = Media::new().await?;
    let (dialog, resp) = phone
        .call_pcmu(server.udp_addr(), Transport::Udp, "3900", &media)
        .await?;
    expect_status(&resp, 200)?;
    // SIP INFO, both body formats; each INFO is answered before the next is sent.
    for (ct, body) in [
        ("application/dtmf-relay", "Signal=7\r\nDuration=160\r\n"),
        ("application/dtmf", "8"),
        ("application/dtmf", "8"),
        ("application/dtmf-relay", "Signal=*\r\nDuration=160\r\n"),
    ] {
        let resp = dialog
            .info(
                Some(vec![Header::ContentType(ct.into())]),
                Some(body.as_bytes().to_vec()),
            )
            .await?;
        expect_status(&resp, 200)?;
    }
    assert_eq!(digits_until(&mut digits, '*').await?, "788*");
    // An INFO that is not DTMF is refused with 415 and counts no digit.
    let resp = dialog
        .info(
            Some(vec![Header::ContentType("text/plain".into())]),
            Some(b"hello".to_vec()),
        )
        .await?;
    expect_status(&resp, 415)?;
    assert!(digits.try_recv().is_err(), "no extra digit");
    dialog.bye().await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn digits_each_once_pcmu_rfc4733() -> Result<()> {
    digits_each_once(Offer::Pcmu, (101, 8_000)).await
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

/// A phone decodes the whole stream: the prompt's frames follow silence frames sent before it,
/// and must still decode to the prompt (the media core encodes CELT-only frames from a state
/// primed with silence, the first one coded without inter-frame prediction).
#[tokio::test]
async fn opus_continuous_decode_matches_prompt() -> Result<()> {
    let (flow, _digits) = prompt_then_digits();
    let (server, _) = start_server(test_config(), flow).await?;
    let phone = Phone::new().await?;
    let media = Media::new().await?;
    let (dialog, resp) = phone
        .invite(
            server.udp_addr(),
            Transport::Udp,
            "3900",
            Some(media.offer(Offer::Opus, None, "")),
            None,
        )
        .await?;
    expect_status(&resp, 200)?;
    let prompt = sweep_prompt();
    let frames = (prompt.duration().as_millis() / 20) as usize;
    let (_, spurt, all) = receive_spurt(&media.socket, frames).await?;
    let continuous = decode_opus(&all)?;
    let skip = (all.len() - spurt.len()) * 960;
    let score = spectral_similarity(prompt.pcm_48k(), &continuous[skip..], 48_000);
    assert!(score > 0.9, "continuous decode similarity {score:.3}");
    dialog.bye().await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn reinvite_to_another_codec_switches_the_stream_and_keeps_digits() -> Result<()> {
    let (flow, mut digits) = prompt_then_digits();
    let (server, _) = start_server(test_config(), flow).await?;
    let phone = Phone::new().await?;
    let media = Media::new().await?;
    let (dialog, resp) = phone
        .invite(
            server.udp_addr(),
            Transport::Udp,
            "3900",
            Some(media.offer(Offer::Pcmu, Some((101, 8000)), "")),
            None,
        )
        .await?;
    expect_status(&resp, 200)?;
    let (server_rtp, _) = answer_media(resp.as_ref().unwrap())?;
    let mut out = RtpOut::new(server_rtp, 8_000);
    out.press(&media.socket, 101, '1').await?;
    assert_eq!(digits_until(&mut digits, '1').await?, "1");
    // Switch to PCMA with telephone-events at another payload type.
    let offer = media.offer(Offer::Pcma, Some((96, 8000)), "");
    let resp = dialog
        .reinvite(
            Some(vec![Header::ContentType("application/sdp".into())]),
            Some(offer),
        )
        .await?;
    expect_status(&resp, 200)?;
    let (_, answer) = answer_media(resp.as_ref().unwrap())?;
    assert!(answer.contains("RTP/AVP 8 96"), "{answer}");
    // The server's packets now carry PCMA (payload type 8).
    let mut buf = vec![0u8; 2048];
    guard("PCMA packets", async {
        loop {
            let (n, _) = media.socket.recv_from(&mut buf).await?;
            if rtp_rs::RtpReader::new(&buf[..n])
                .map(|r| r.payload_type())
                .ok()
                == Some(8)
            {
                return Ok::<_, anyhow::Error>(());
            }
        }
    })
    .await??;
    // Digits on the new payload type are heard, once each.
    for key in ['2', '2', '#'] {
        out.press(&media.socket, 96, key).await?;
    }
    assert_eq!(digits_until(&mut digits, '#').await?, "22#");
    dialog.bye().await?;
    server.shutdown().await;
    Ok(())
}

/// Waits until `/metrics` shows `line` (the RTP thread adds its tick's counts after the
/// tick, so a digit can reach the flow a moment before its tick's counters do).
async fn metrics_show(metrics: &ivr::metrics::Metrics, line: &str) -> Result<()> {
    guard(line, async {
        while !metrics.render().contains(line) {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .with_context(|| metrics.render())
}

/// Issue 13, finding 4: someone who learns a call's RTP port (they were handed out in
/// sequence) sends telephone-events from another address. Once the call knows its caller's
/// source, those packets are dropped and counted, never typed into the call; a re-INVITE
/// naming a new address moves the call to its new source.
#[tokio::test]
async fn rtp_from_another_source_cannot_type_into_a_call() -> Result<()> {
    let (flow, mut digits) = prompt_then_digits();
    let (server, metrics) = start_server(test_config(), flow).await?;
    let phone = Phone::new().await?;
    let media = Media::new().await?;
    let intruder = Media::new().await?;
    let (dialog, resp) = phone
        .invite(
            server.udp_addr(),
            Transport::Udp,
            "3900",
            Some(media.offer(Offer::Pcmu, Some((101, 8000)), "")),
            None,
        )
        .await?;
    expect_status(&resp, 200)?;
    let (server_rtp, _) = answer_media(resp.as_ref().unwrap())?;
    let mut caller = RtpOut::new(server_rtp, 8_000);
    caller.press(&media.socket, 101, '1').await?;
    assert_eq!(digits_until(&mut digits, '1').await?, "1");

    // The intruder types 9 as if it were the caller (its SSRC, sequence and timestamps
    // continued), then the caller types 2.
    let mut forged = RtpOut::new(server_rtp, 8_000);
    (forged.seq, forged.ts) = (caller.seq, caller.ts);
    forged.press(&intruder.socket, 101, '9').await?;
    (caller.seq, caller.ts) = (forged.seq, forged.ts);
    caller.press(&media.socket, 101, '2').await?;
    assert_eq!(digits_until(&mut digits, '2').await?, "2", "9 was typed");
    metrics_show(&metrics, "ivr_rtp_foreign_dropped_total 6").await?;

    // The caller moves (a re-INVITE with a new address): its new source is heard, the old
    // one is foreign now.
    let moved = Media::new().await?;
    let resp = dialog
        .reinvite(
            Some(vec![Header::ContentType("application/sdp".into())]),
            Some(moved.offer(Offer::Pcmu, Some((101, 8000)), "")),
        )
        .await?;
    expect_status(&resp, 200)?;
    caller.press(&moved.socket, 101, '4').await?;
    assert_eq!(digits_until(&mut digits, '4').await?, "4");
    caller.press(&media.socket, 101, '5').await?;
    caller.press(&moved.socket, 101, '6').await?;
    assert_eq!(digits_until(&mut digits, '6').await?, "6", "5 was typed");
    metrics_show(&metrics, "ivr_rtp_foreign_dropped_total 12").await?;
    dialog.bye().await?;
    server.shutdown().await;
    Ok(())
}

/// `rtp_source = "any"` hears every source, as the line did before (for a trunk that
/// spreads a call's RTP over several addresses).
#[tokio::test]
async fn rtp_source_any_hears_every_source() -> Result<()> {
    let (flow, mut digits) = prompt_then_digits();
    let config = ivr::sip::SipConfig {
        rtp_source: ivr::sip::RtpSource::Any,
        ..test_config()
    };
    let (server, metrics) = start_server(config, flow).await?;
    let phone = Phone::new().await?;
    let media = Media::new().await?;
    let other = Media::new().await?;
    let (dialog, resp) = phone
        .invite(
            server.udp_addr(),
            Transport::Udp,
            "3900",
            Some(media.offer(Offer::Pcmu, Some((101, 8000)), "")),
            None,
        )
        .await?;
    expect_status(&resp, 200)?;
    let (server_rtp, _) = answer_media(resp.as_ref().unwrap())?;
    let mut out = RtpOut::new(server_rtp, 8_000);
    out.press(&media.socket, 101, '1').await?;
    out.press(&other.socket, 101, '2').await?;
    assert_eq!(digits_until(&mut digits, '2').await?, "12");
    assert!(!metrics.render().contains("ivr_rtp_foreign_dropped_total 1"));
    dialog.bye().await?;
    server.shutdown().await;
    Ok(())
}
