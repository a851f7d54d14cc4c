//! In-band DTMF (tones in G.711 audio), a press sent both as event and tone counted once,
//! and recording the caller's audio, end to end over loopback.

mod common;

use anyhow::Result;
use common::*;
use ivr::call::{Call, Digit, RecordSpec, Recorded};
use ivr::media::testing::best_correlation;
use rsipstack::sip::Transport;
use std::time::Duration;
use tokio::sync::mpsc;

fn reporter() -> (impl ivr::call::CallFlow, mpsc::UnboundedReceiver<Digit>) {
    digit_reporter()
}

async fn collect_until(rx: &mut mpsc::UnboundedReceiver<Digit>, sentinel: char) -> Result<String> {
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

#[tokio::test]
async fn inband_tones_are_heard_once_each() -> Result<()> {
    let (flow, mut digits) = reporter();
    let (server, _) = start_server(test_config(), flow).await?;
    let phone = Phone::new().await?;
    let media = Media::new().await?;
    // No telephone-event offered: a trunk that only sends tones.
    let (dialog, resp) = phone
        .call_pcmu(server.udp_addr(), Transport::Udp, "3900", &media)
        .await?;
    expect_status(&resp, 200)?;
    let (server_rtp, _) = answer_media(resp.as_ref().unwrap())?;
    let mut out = RtpOut::new(server_rtp, 8_000);
    for key in ['4', '0', '0', '9', '#'] {
        for p in inband_key_packets(key) {
            out.audio(&media.socket, 0, &p).await?;
        }
    }
    assert_eq!(collect_until(&mut digits, '#').await?, "4009#");
    dialog.bye().await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn press_sent_as_event_and_tone_counts_once() -> Result<()> {
    let (flow, mut digits) = reporter();
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
    // Tones first (the merger hears them before any event), then the same keys as events.
    for key in ['3', '7'] {
        for p in inband_key_packets(key) {
            out.audio(&media.socket, 0, &p).await?;
        }
        out.press(&media.socket, 101, key).await?;
    }
    out.press(&media.socket, 101, '*').await?;
    assert_eq!(collect_until(&mut digits, '*').await?, "37*");
    dialog.bye().await?;
    server.shutdown().await;
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
    // Half a second of a 440 Hz tone, then # by RFC 4733.
    let tone: Vec<i16> = (0..4000)
        .map(|i| (8000.0 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 8000.0).sin()) as i16)
        .collect();
    receive_spurt(&media.socket, 1).await?;
    for chunk in tone.chunks(160) {
        let payload: Vec<u8> = chunk
            .iter()
            .map(|&s| ivr::media::g711::ulaw_encode(s))
            .collect();
        out.audio(&media.socket, 0, &payload).await?;
    }
    out.press(&media.socket, 101, '#').await?;
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
    dialog.bye().await?;
    server.shutdown().await;
    Ok(())
}
