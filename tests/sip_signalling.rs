//! SIP signalling end to end over loopback: OPTIONS, INVITE/ACK/BYE both ways, CANCEL,
//! re-INVITE (hold, resume, refresh), late offer, 488, 503, TCP, media inactivity timeout.

mod common;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use common::*;
use ivr::call::api::FlowFuture;
use ivr::call::media::SharedPrompt;
use ivr::call::{Call, CallFlow};
use ivr::media::Prompt;
use ivr::sip::SipConfig;
use rsipstack::sip::{Header, StatusCode, Transport};

/// A line with the test settings as `change` leaves them, whose flow waits for the caller
/// to hang up.
async fn waiting_line(change: impl FnOnce(&mut SipConfig)) -> Result<Line> {
    let mut config = test_config();
    change(&mut config);
    Line::start_with(config, wait_forever).await
}

#[tokio::test]
async fn options_out_of_dialog_gets_200_with_allow() -> Result<()> {
    let line = Line::start(wait_forever).await?;
    let peer = line.raw_peer().await?;
    let resp = peer.ask("OPTIONS", "opt-1", 1, None, None).await?;
    assert_eq!(resp.status_code, StatusCode::OK);
    let allow = header(&resp, "Allow").expect("Allow header");
    for m in [
        "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE",
    ] {
        assert!(allow.contains(m), "{allow}");
    }
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn invite_is_answered_with_sdp_and_caller_hangs_up() -> Result<()> {
    let line = Line::start(wait_forever).await?;
    let offer = line.media.offer(Offer::Pcma, Some(TE_8K), "a=ptime:20\r\n");
    let call = line.answered(NUMBER, offer).await?;
    let sdp = &call.sdp;
    assert!(sdp.contains("m=audio "), "{sdp}");
    assert!(sdp.contains("RTP/AVP 8 101"), "{sdp}");
    assert!(sdp.contains("a=rtpmap:101 telephone-event/8000"), "{sdp}");
    assert_ne!(call.rtp.port(), 0);
    line.active_calls_come_to(1, "the call to be counted")
        .await?;
    call.hang_up().await?;
    line.active_calls_come_to(0, "the call to end").await?;
    line.expect_metric("ivr_calls_total 1")?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn invite_over_tcp_is_answered() -> Result<()> {
    let line = Line::start(wait_forever).await?;
    line.call_pcmu_over_tcp().await?.hang_up().await?;
    line.active_calls_come_to(0, "the call to end").await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn no_common_codec_gets_488() -> Result<()> {
    let line = Line::start(wait_forever).await?;
    let g729 = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n".to_vec();
    line.refused(NUMBER, g729, 488).await?;
    line.expect_metric("ivr_calls_rejected_total 1")?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn full_line_gets_503_with_retry_after() -> Result<()> {
    let line = waiting_line(|c| {
        c.max_calls = 1;
        c.retry_after_secs = 7;
    })
    .await?;
    let first = line.call_pcmu().await?;
    let busy = line.refused(NUMBER, line.pcmu(), 503).await?;
    assert_eq!(header(&busy, "Retry-After").as_deref(), Some("7"));
    // The proxy in front passes a full node over for this call but keeps it (a draining one
    // it takes out): the Reason tells them apart.
    let reason = header(&busy, "Reason").context("a Reason header")?;
    assert!(reason.contains("\"full\""), "{reason}");
    first.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn cancel_before_answer_gets_487() -> Result<()> {
    // The server rings for a long time, so the CANCEL surely comes first.
    let line = waiting_line(|c| c.ring_ms = 60_000).await?;
    let call_id = "cancel-test-1";
    let invite = line.phone.invite(
        line.server.udp_addr(),
        Transport::Udp,
        NUMBER,
        Some(line.pcmu()),
        Some(call_id.to_string()),
    );
    let cancel = async {
        line.active_calls_come_to(1, "the call to ring").await?;
        let dialog = guard("the client dialog", async {
            loop {
                if let Some(d) = line
                    .phone
                    .dialogs
                    .get_client_dialog_by_call_id(call_id)
                    .pop()
                {
                    return d;
                }
                tokio::task::yield_now().await;
            }
        })
        .await?;
        dialog.cancel().await?;
        Ok::<_, anyhow::Error>(())
    };
    let (answer, cancelled) = tokio::join!(guard("the INVITE's final response", invite), cancel);
    cancelled?;
    let (_, resp) = answer??;
    expect_status(&resp, 487)?;
    line.active_calls_come_to(0, "the call to end").await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn reinvite_hold_resume_and_refresh() -> Result<()> {
    let line = Line::start(wait_forever).await?;
    let call = line.call(Offer::Pcmu, Some(TE_8K)).await?;
    let first = &call.sdp;
    let v1 = sdp_version(first)?;
    assert!(first.contains("a=sendrecv"), "{first}");

    // Hold: we offer sendonly, the server answers recvonly with a new version.
    let hold = line.media.offer(Offer::Pcmu, Some(TE_8K), "a=sendonly\r\n");
    let held = call.reoffer(hold).await?;
    assert!(held.contains("a=recvonly"), "{held}");
    let v2 = sdp_version(&held)?;
    assert_eq!(v2, v1 + 1);

    // Resume: sendrecv again, version moves again.
    let resume = line.offer(Offer::Pcmu, Some(TE_8K));
    let resumed = call.reoffer(resume.clone()).await?;
    assert!(resumed.contains("a=sendrecv"), "{resumed}");
    let v3 = sdp_version(&resumed)?;
    assert_eq!(v3, v2 + 1);

    // Session refresh with the same offer: same description, same version (RFC 3264 §8).
    let refreshed = call.reoffer(resume).await?;
    assert_eq!(sdp_version(&refreshed)?, v3);
    assert_eq!(refreshed, resumed);

    // A re-INVITE with no common codec is refused and the call goes on.
    let bad = b"v=0\r\no=phone 7 9 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n".to_vec();
    expect_status(&call.reinvite(bad).await?, 488)?;
    assert_eq!(line.server.active_calls(), 1);

    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn late_offer_answer_comes_in_the_ack() -> Result<()> {
    let line = Line::start(wait_forever).await?;
    let peer = line.raw_peer().await?;
    let resp = peer.ask("INVITE", "late-1", 1, None, None).await?;
    assert_eq!(resp.status_code, StatusCode::OK);
    let (_, offer) = answer_media(&resp)?;
    // Our offer lists all our codecs and telephone-event.
    for needle in [
        "RTP/AVP 0 8 111 101",
        "a=rtpmap:111 opus/48000/2",
        "a=rtpmap:101 telephone-event/8000",
    ] {
        assert!(offer.contains(needle), "{offer}");
    }
    let tag = to_tag(&resp)?;
    let answer = "v=0\r\no=raw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4002 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n";
    peer.send(
        "ACK",
        "late-1",
        1,
        "z9hG4bKlate1ack",
        Some(&tag),
        Some(answer),
    )
    .await?;
    line.active_calls_come_to(1, "the call to be up").await?;
    let bye = peer.ask("BYE", "late-1", 2, Some(&tag), None).await?;
    assert_eq!(bye.status_code, StatusCode::OK);
    line.active_calls_come_to(0, "the call to end").await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn late_offer_without_answer_in_ack_is_hung_up() -> Result<()> {
    let line = Line::start(wait_forever).await?;
    let peer = line.raw_peer().await?;
    let resp = peer.ask("INVITE", "late-2", 1, None, None).await?;
    let tag = to_tag(&resp)?;
    peer.send("ACK", "late-2", 1, "z9hG4bKlate2ack", Some(&tag), None)
        .await?;
    let req = peer.next_request().await?;
    assert!(req.starts_with("BYE "), "{req}");
    // The raw peer never answers the BYE: drop the server rather than wait out the BYE.
    drop(line);
    Ok(())
}

#[tokio::test]
async fn flow_hangs_up_and_caller_gets_bye() -> Result<()> {
    let flow = |call: Call| async move {
        call.hangup().ok();
    };
    let line = Line::start(flow).await?;
    let call = line.call_pcmu().await?;
    line.hangs_up(&call).await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn silent_caller_is_hung_up_after_media_timeout() -> Result<()> {
    let line = waiting_line(|c| c.media_timeout_secs = 1).await?;
    let call = line.call_pcmu().await?;
    line.ended(&call).await?;
    line.expect_metric("ivr_media_timeouts_total 1")?;
    line.shutdown().await;
    Ok(())
}

/// Issue 17, finding 2: a phone that sends no RTP until it plays something (linphone in file
/// mode) was hung up at the media timeout although its INFO keys came every 1.2 s. Any sign
/// of life puts the timeout off now: here INFO and a re-INVITE, for three times the timeout;
/// silent again, the caller is hung up.
#[tokio::test]
async fn a_caller_typing_by_info_without_rtp_keeps_its_call() -> Result<()> {
    let line = waiting_line(|c| c.media_timeout_secs = 1).await?;
    let call = line.call_pcmu().await?;
    for i in 0..8 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        if i == 4 {
            call.reoffer(line.pcmu()).await?;
            continue;
        }
        let key = call
            .dialog
            .info(
                Some(vec![Header::ContentType("application/dtmf".into())]),
                Some(b"5".to_vec()),
            )
            .await?;
        expect_status(&key, 200).with_context(|| format!("INFO {i}"))?;
    }
    line.expect_metric("ivr_media_timeouts_total 0")?;
    line.hangs_up(&call).await?;
    line.expect_metric("ivr_media_timeouts_total 1")?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn shutdown_refuses_new_calls_and_lets_current_ones_finish() -> Result<()> {
    let line = waiting_line(|c| c.shutdown_grace_secs = 60).await?;
    let call = line.call_pcmu().await?;
    let addr = line.server.udp_addr();
    let mut active = line.server.watch_active_calls();
    let shutdown = tokio::spawn(line.server.shutdown());
    // Draining: a new call is refused with 503, the current one goes on.
    let (_, resp) = line
        .phone
        .call_pcmu(addr, Transport::Udp, NUMBER, &line.media)
        .await?;
    expect_status(&resp, 503)?;
    let reason = resp.as_ref().and_then(|r| header(r, "Reason"));
    assert!(
        reason
            .as_deref()
            .is_some_and(|r| r.contains("\"draining\"")),
        "{reason:?}"
    );
    assert_eq!(*active.borrow(), 1);
    call.hang_up().await?;
    guard("the last call to end", active.wait_for(|n| *n == 0)).await??;
    guard("shutdown", shutdown).await??;
    Ok(())
}

#[tokio::test]
async fn a_draining_line_answers_options_503_so_a_proxy_stops_choosing_it() -> Result<()> {
    let line = waiting_line(|c| c.shutdown_grace_secs = 60).await?;
    let peer = line.raw_peer().await?;
    let resp = peer.ask("OPTIONS", "probe-1", 1, None, None).await?;
    assert_eq!(resp.status_code, StatusCode::OK, "before the drain");
    let call = line.call_pcmu().await?;
    let mut active = line.server.watch_active_calls();
    let shutdown = tokio::spawn(line.server.shutdown());
    let mut answer = None;
    for cseq in 2..100 {
        let resp = peer.ask("OPTIONS", "probe-1", cseq, None, None).await?;
        if resp.status_code != StatusCode::OK {
            answer = Some(resp);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let resp = answer.context("OPTIONS still 200 while draining")?;
    assert_eq!(resp.status_code, StatusCode::ServiceUnavailable);
    assert_eq!(header(&resp, "Retry-After").as_deref(), Some("5"));
    let reason = header(&resp, "Reason").context("a Reason header")?;
    assert!(reason.contains("draining"), "{reason}");
    // The call in progress is not touched by the probe's answer.
    assert_eq!(*active.borrow(), 1);
    call.hang_up().await?;
    guard("the last call to end", active.wait_for(|n| *n == 0)).await??;
    guard("shutdown", shutdown).await??;
    Ok(())
}

#[tokio::test]
async fn shutdown_hangs_up_after_grace() -> Result<()> {
    let line = waiting_line(|c| c.shutdown_grace_secs = 0).await?;
    let call = line.call_pcmu().await?;
    guard("shutdown", line.server.shutdown()).await?;
    let reason = line.phone.ended(&call.call_id()).await?;
    assert!(reason.contains("UasBye"), "{reason}");
    Ok(())
}

/// Issue 15: at the end of the grace period the caller hears the flow's farewell to its end,
/// and only then the BYE (a flow without one is hung up at once, above).
#[tokio::test]
async fn at_the_end_of_the_grace_the_caller_hears_the_farewell_then_the_bye() -> Result<()> {
    struct WithFarewell(Arc<Prompt>);
    impl CallFlow for WithFarewell {
        fn run(&self, call: Call) -> FlowFuture {
            Box::pin(wait_forever(call))
        }
        fn farewell(&self) -> Option<SharedPrompt> {
            Some(self.0.clone())
        }
    }
    // 400 ms of tone: 20 packets of 20 ms, none of them silence (µ-law 0xFF).
    let tone = Prompt::beep("farewell", 1_000.0, Duration::from_millis(400))?;
    let mut config = test_config();
    config.shutdown_grace_secs = 0;
    let line = Line::start_with(config, WithFarewell(Arc::new(tone))).await?;
    let call = line.call_pcmu().await?;
    let silent = |p: &[u8]| p.iter().all(|&b| b == 0xFF);
    line.media
        .rtp_until("silence while the flow waits", |r| silent(r.payload()))
        .await?;
    let shutdown = tokio::spawn(line.server.shutdown());
    line.media
        .rtp_until("the farewell's first packet", |r| !silent(r.payload()))
        .await?;
    // Every packet from here on, until the line falls quiet: the BYE stops the RTP.
    let mut buf = [0u8; 2048];
    let (mut tone_packets, mut after) = (1, 0);
    while let Ok(got) =
        tokio::time::timeout(Duration::from_millis(500), line.media.socket.recv(&mut buf)).await
    {
        let rtp = rtp_rs::RtpReader::new(&buf[..got?]).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        if silent(rtp.payload()) {
            after += 1;
        } else {
            assert_eq!(after, 0, "the tone resumed after silence");
            tone_packets += 1;
        }
    }
    assert!(
        (19..=21).contains(&tone_packets),
        "{tone_packets} packets of the 20 of the farewell before the BYE"
    );
    let reason = line.phone.ended(&call.call_id()).await?;
    assert!(reason.contains("UasBye"), "{reason}");
    guard("shutdown", shutdown).await??;
    Ok(())
}

#[tokio::test]
async fn unacknowledged_200_is_followed_by_bye() -> Result<()> {
    // T1 = 20 ms: the stack gives up waiting for the ACK after 64 x T1 = 1.28 s.
    let line = waiting_line(|c| c.t1_ms = 20).await?;
    let peer = line.raw_peer().await?;
    let offer = String::from_utf8(line.pcmu())?;
    let resp = peer.ask("INVITE", "noack-1", 1, None, Some(&offer)).await?;
    assert_eq!(resp.status_code, StatusCode::OK);
    // No ACK: the server retransmits its 200, then hangs up with a BYE.
    let req = peer.next_request().await?;
    assert!(req.starts_with("BYE "), "{req}");
    line.active_calls_come_to(0, "the call to end").await?;
    drop(line);
    Ok(())
}

#[tokio::test]
async fn maximum_call_length_hangs_up() -> Result<()> {
    let line = waiting_line(|c| c.max_call_secs = 1).await?;
    let call = line.call_pcmu().await?;
    line.hangs_up(&call).await?;
    line.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn flow_hangs_up_over_tcp() -> Result<()> {
    let flow = |call: Call| async move {
        call.hangup().ok();
    };
    let line = Line::start(flow).await?;
    let call = line.call_pcmu_over_tcp().await?;
    assert!(call.sdp.contains("m=audio"), "{}", call.sdp);
    let contact = header(&call.response, "Contact").unwrap_or_default();
    assert!(
        contact.to_ascii_lowercase().contains("transport=tcp"),
        "{contact}"
    );
    line.hangs_up(&call).await?;
    line.shutdown().await;
    Ok(())
}

/// Two lines on one server: the dialled number chooses the flow; others get 404.
struct TwoLines;

impl ivr::call::FlowSelector for TwoLines {
    fn select(&self, dialled: &str) -> Option<std::sync::Arc<dyn ivr::call::CallFlow>> {
        match dialled {
            "3900" => Some(std::sync::Arc::new(wait_forever)),
            "3901" => Some(std::sync::Arc::new(|call: Call| async move {
                call.hangup().ok();
            })),
            _ => None,
        }
    }
}

#[tokio::test]
async fn dialled_number_chooses_the_flow() -> Result<()> {
    let line = Line::start_selecting(std::sync::Arc::new(TwoLines)).await?;
    line.refused("0000", line.pcmu(), 404).await?;
    let hangs_up = line.answered("3901", line.pcmu()).await?;
    line.ended(&hangs_up).await?;
    let stays = line.answered("3900", line.pcmu()).await?;
    // The 3901 call ends (its BYE completes) while 3900 stays up.
    line.active_calls_come_to(1, "one call left").await?;
    stays.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

/// Issue 13, finding 5: one INVITE whose source is forged is never acknowledged, yet the line
/// sent RTP for 64×T1 to whatever address its SDP named (1,600 packets at T1 = 500 ms) and
/// retransmitted its 200, then its BYE, for 64×T1 each. Now nothing is sent before the ACK,
/// the call ends after 8×T1 without one, and its BYE is given up after 4×T1.
#[tokio::test]
async fn an_unacknowledged_invite_aims_no_rtp_and_ends_within_eight_t1() -> Result<()> {
    // T1 = 100 ms: we give up at 800 ms (the stack alone waits 6.4 s).
    let t1 = std::time::Duration::from_millis(100);
    let line = waiting_line(|c| c.t1_ms = 100).await?;
    let peer = line.raw_peer().await?;
    let victim = Media::new().await?;
    let offer = String::from_utf8(victim.offer(Offer::Pcmu, None, ""))?;
    peer.send(
        "INVITE",
        "forged-1",
        1,
        "z9hG4bKforged1",
        None,
        Some(&offer),
    )
    .await?;
    // Copies of the 200 until the BYE: the first and those at T1, 3×T1 and 7×T1 at most.
    let mut buf = vec![0u8; 8192];
    let mut answers = 0;
    guard("the BYE", async {
        loop {
            let (len, _) = peer.socket.recv_from(&mut buf).await?;
            let text = String::from_utf8_lossy(&buf[..len]);
            if text.starts_with("SIP/2.0 200") {
                answers += 1;
            } else if text.starts_with("BYE ") {
                return Ok::<_, anyhow::Error>(());
            }
        }
    })
    .await??;
    assert!((1..=4).contains(&answers), "{answers} copies of the 200");
    // Copies of the BYE (never answered) until the call is over: at T1 and 3×T1 at most.
    let mut byes = 1;
    let mut active = line.server.watch_active_calls();
    guard("the call to end", async {
        loop {
            tokio::select! {
                ended = active.wait_for(|n| *n == 0) => {
                    ended?;
                    return Ok::<_, anyhow::Error>(());
                }
                got = peer.socket.recv_from(&mut buf) => {
                    let (len, _) = got?;
                    byes += usize::from(buf[..len].starts_with(b"BYE "));
                }
            }
        }
    })
    .await??;
    // Then nothing more (the stack alone repeats the BYE for 64×T1).
    let more = tokio::time::timeout(4 * t1, peer.socket.recv_from(&mut buf)).await;
    assert!(more.is_err(), "a message after the end of the call");
    assert!((1..=3).contains(&byes), "{byes} copies of the BYE");
    let mut rtp = [0u8; 2048];
    assert!(
        victim.socket.try_recv_from(&mut rtp).is_err(),
        "RTP was sent to the address of an unacknowledged INVITE"
    );
    line.expect_metric("ivr_rtp_packets_sent_total 0")?;
    line.expect_metric("ivr_calls_unacknowledged_total 1")?;
    line.shutdown().await;
    Ok(())
}

/// Issue 13, finding 5: an offer naming a multicast group, the broadcast address or nobody
/// (0.0.0.0) was answered 200 and streamed to. Refused with 488 now; a re-INVITE may still
/// hold with 0.0.0.0 (RFC 3264 §8.4), but not move the stream to a multicast group.
#[tokio::test]
async fn offers_naming_multicast_broadcast_or_nobody_get_488() -> Result<()> {
    let line = Line::start(wait_forever).await?;
    let offer_at = |c: &str| {
        String::from_utf8(line.pcmu())
            .unwrap()
            .replace("c=IN IP4 127.0.0.1", c)
            .into_bytes()
    };
    for c in [
        "c=IN IP4 239.1.2.3",
        "c=IN IP4 255.255.255.255",
        "c=IN IP4 0.0.0.0",
    ] {
        line.refused(NUMBER, offer_at(c), 488).await.context(c)?;
    }
    line.expect_metric("ivr_rtp_packets_sent_total 0")?;
    let call = line
        .answered(NUMBER, offer_at("c=IN IP4 127.0.0.1"))
        .await?;
    call.reoffer(offer_at("c=IN IP4 0.0.0.0"))
        .await
        .context("hold with 0.0.0.0")?;
    expect_status(&call.reinvite(offer_at("c=IN IP4 239.1.2.3")).await?, 488)?;
    assert_eq!(line.server.active_calls(), 1);
    call.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

/// Issue 13, finding 5: 500 INVITEs from one source in one second were all answered 200.
/// Now a source gets a second's worth of its rate (30 by default) at once, then one INVITE
/// per interval; the rest are refused with 503 and Retry-After, and counted.
#[tokio::test]
#[allow(clippy::disallowed_methods)] // the flood's length bounds what the rate lets through
async fn a_flood_of_invites_from_one_source_is_throttled() -> Result<()> {
    const FLOOD: usize = 200;
    let config = test_config();
    let rate = config.invites_per_second_per_source as usize;
    let line = Line::start_with(config, wait_forever).await?;
    let peer = line.raw_peer().await?;
    let offer = String::from_utf8(line.pcmu())?;
    let started = std::time::Instant::now();
    // Sent 20 at a time, each batch as fast as the socket takes it: a flood, without the
    // loopback buffers dropping what the server has not read yet.
    let mut finals = std::collections::HashMap::new();
    let mut retry_after = None;
    let mut buf = vec![0u8; 8192];
    for batch in 0..FLOOD / 20 {
        for i in batch * 20..(batch + 1) * 20 {
            let (call_id, branch) = (format!("flood-{i}"), format!("z9hG4bKflood{i}"));
            peer.send("INVITE", &call_id, 1, &branch, None, Some(&offer))
                .await?;
        }
        // The first final response to each INVITE (the 200s are repeated: nobody ACKs).
        guard("a final response to every INVITE", async {
            while finals.len() < (batch + 1) * 20 {
                let (len, _) = peer.socket.recv_from(&mut buf).await?;
                let text = String::from_utf8_lossy(&buf[..len]).into_owned();
                let Some(status) = text.strip_prefix("SIP/2.0 ").and_then(|s| s.get(..3)) else {
                    continue;
                };
                if status.starts_with('1') {
                    continue;
                }
                if status == "503" {
                    retry_after = text_header(&text, "Retry-After").map(str::to_owned);
                }
                let call_id = text_header(&text, "Call-ID").unwrap_or_default().to_owned();
                finals.entry(call_id).or_insert(status.to_owned());
            }
            Ok::<_, anyhow::Error>(())
        })
        .await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let answered = finals.values().filter(|s| *s == "200").count();
    let refused = finals.values().filter(|s| *s == "503").count();
    // A second's worth at once, then one per interval for as long as the flood lasted.
    let allowed = rate + (elapsed * rate as f64).ceil() as usize;
    assert!(
        (rate..=allowed).contains(&answered),
        "{answered} answered in {elapsed:.2} s (at most {allowed})"
    );
    assert_eq!(answered + refused, FLOOD, "{finals:?}");
    assert_eq!(retry_after.as_deref(), Some("5"));
    line.expect_metric(&format!("ivr_sip_invites_throttled_total {refused}\n"))?;
    // Nobody ACKs: drop the server rather than wait for the calls to end.
    drop(line);
    Ok(())
}

/// One source holds at most `calls_per_source` calls; a call that ends gives its place back.
#[tokio::test]
async fn calls_per_source_are_limited() -> Result<()> {
    let line = waiting_line(|c| c.calls_per_source = 2).await?;
    let first = line.call_pcmu().await?;
    let second = line.call_pcmu().await?;
    line.refused(NUMBER, line.pcmu(), 503).await?;
    line.expect_metric("ivr_sip_invites_throttled_total 1")?;
    first.hang_up().await?;
    line.active_calls_come_to(1, "the first call to end")
        .await?;
    let third = line.call_pcmu().await?;
    second.hang_up().await?;
    third.hang_up().await?;
    line.shutdown().await;
    Ok(())
}

/// A trusted trunk brings every caller's call from its one address: the per-source brake
/// does not count it as one caller (the line's max_calls still bounds it).
#[tokio::test]
async fn a_trusted_trunk_is_not_braked_as_one_source() -> Result<()> {
    let config = ivr::sip::SipConfig {
        calls_per_source: 1,
        trusted_trunks: vec!["127.0.0.1".parse()?],
        ..test_config()
    };
    let line = Line::start_with(config, wait_forever).await?;
    let mut calls = Vec::new();
    for _ in 0..3 {
        calls.push(line.call_pcmu().await?);
    }
    line.expect_metric("ivr_sip_invites_throttled_total 0")?;
    for call in calls {
        call.hang_up().await?;
    }
    line.shutdown().await;
    Ok(())
}
