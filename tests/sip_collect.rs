//! The call API as a dialplan drives it: a prompt with barge-in, then digit collection with
//! terminator and timeouts, end to end over loopback.

mod common;

use std::time::Duration;

use anyhow::Result;
use common::*;
use ivr::call::{Call, CollectSpec, Collected, Digit, Played};
use rsipstack::sip::Transport;
use tokio::sync::mpsc;

#[derive(Debug)]
enum Seen {
    Played(Played),
    Collected(Collected),
}

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
    // The prompt has started: type 1 2 3 4 #.
    receive_spurt(&media.socket, 3).await?;
    let mut out = RtpOut::new(server_rtp, 8_000);
    for key in ['1', '2', '3', '4', '#'] {
        out.press(&media.socket, 101, key).await?;
    }
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
    let mut buf = vec![0u8; 2048];
    let mut speech = 0;
    guard("silence after the barge-in", async {
        loop {
            let (n, _) = media.socket.recv_from(&mut buf).await?;
            let payload = &buf[12..n];
            if payload.iter().all(|&b| b == 0xFF) {
                return Ok::<_, anyhow::Error>(());
            }
            speech += 1;
        }
    })
    .await??;
    assert!(speech < 140, "{speech} speech packets after the barge-in");
    dialog.bye().await?;
    server.shutdown().await;
    Ok(())
}
