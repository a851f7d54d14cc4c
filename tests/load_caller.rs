//! `ivr load` against `ivr serve`, both as processes over loopback: every call logs in as
//! its own child by RFC 4733 keys and books a meal, and the bookings are in the database
//! afterwards; a server that does not answer gives a failed run with the reason tallied, and
//! one that rings without answering has the call CANCELled.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use common::{text_header, text_response};

const IVR: &str = env!("CARGO_BIN_EXE_ivr");

/// Monday 9 March 2026, 08:00 in Paris: Thursday 12 March's meal is open (the demo's
/// school calendar has classes that week).
const NOW: &str = "2026-03-09T08:00:00+01:00";
const DATE_DDMM: &str = "1203";
const CALLS: usize = 4;

fn ivr(config: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(IVR)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()?;
    if !out.status.success() {
        bail!("ivr {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh database with the demo and `CALLS` bench families; the server on free ports,
/// with `extra` added to its configuration.
fn start_server(dir: &Path, extra: &str) -> Result<(Server, String)> {
    let config = dir.join("ivr.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ndatabase_url = \"sqlite://{}/ivr.sqlite\"\nsip_listen = \"127.0.0.1:0\"\n\
             web_listen = \"127.0.0.1:0\"\n{extra}",
            dir.display()
        ),
    )?;
    ivr(&config, &["migrate"])?;
    ivr(&config, &["demo", "--seed-only"])?;
    let mut families = String::from(
        "payer_code;payer_name;email;child_code;first_name;last_name;school;class;teacher\n",
    );
    let mut codes = String::from("child_code;payer_code;date_ddmm\n");
    for i in 0..CALLS {
        families.push_str(&format!(
            "{};Famille CHARGE{i};;{};Enfant{i};CHARGE{i};École du Banc;CE1;Mme Mesure\n",
            500_000 + i,
            400_000 + i
        ));
        codes.push_str(&format!("{};{};{DATE_DDMM}\n", 400_000 + i, 500_000 + i));
    }
    std::fs::write(dir.join("families.csv"), families)?;
    std::fs::write(dir.join("codes.csv"), codes)?;
    ivr(
        &config,
        &["import", dir.join("families.csv").to_str().unwrap()],
    )?;
    let mut child = Command::new(IVR)
        .arg("--config")
        .arg(&config)
        .args(["serve", "--run-for", "120", "--now", NOW])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines
        .next()
        .context("the server exited without printing")??;
    // The server prints more; its output must stay open (a closed pipe fails its prints).
    std::thread::spawn(move || lines.for_each(drop));
    let sip = first
        .split("sip:")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .with_context(|| format!("no SIP address in {first:?}"))?
        .to_string();
    Ok((server, sip))
}

fn load(dir: &Path, server: &str, extra: &[&str]) -> Result<(bool, serde_json::Value, String)> {
    let json = dir.join("load.json");
    let _ = std::fs::remove_file(&json);
    let out = Command::new(IVR)
        .args(["load", "--server", server, "--json"])
        .arg(&json)
        .args(extra)
        .output()?;
    let text = std::fs::read_to_string(&json).with_context(|| {
        format!(
            "no tally from ivr load: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let report = serde_json::from_str(&text)?;
    Ok((
        out.status.success(),
        report,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[test]
fn every_load_call_books_its_own_childs_meal() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (_server, sip) = start_server(dir.path(), "")?;
    let codes = dir.path().join("codes.csv");
    let n = CALLS.to_string();
    let (ok, report, stdout) = load(
        dir.path(),
        &sip,
        &[
            "--codes",
            codes.to_str().unwrap(),
            "--count",
            &n,
            "--rate",
            "4",
            "--max",
            &n,
        ],
    )?;
    assert!(ok, "{stdout}");
    assert_eq!(report["attempted"], CALLS, "{report}");
    assert_eq!(report["completed"], CALLS, "{report}");
    assert_eq!(report["peak_calls"], CALLS, "{report}");
    assert_eq!(report["answer"]["count"], CALLS, "{report}");
    // The calls heard the server all along: 50 packets a second, prompts starting.
    let rtp = &report["rtp"];
    assert_eq!(rtp["silent_calls"], 0, "{report}");
    assert!(
        rtp["min_packets_per_s"].as_f64().unwrap() > 40.0,
        "{report}"
    );
    assert!(rtp["min_spurts"].as_u64().unwrap() >= 2, "{report}");
    // The pacing was measured on every stream, on the gaps between the packets heard.
    let pacing = &report["pacing"];
    assert_eq!(pacing["streams"], CALLS, "{report}");
    assert_eq!(pacing["packets"], rtp["packets"], "{report}");
    let gaps = pacing["gaps"].as_u64().unwrap();
    let packets = rtp["packets"].as_u64().unwrap();
    assert!(gaps > 0 && gaps <= packets - CALLS as u64, "{report}");
    assert!(pacing["gap_dev_ms_p99"].as_f64().is_some(), "{report}");
    // Codes typed are never printed.
    assert!(!stdout.contains("400000"), "{stdout}");

    // Each call booked its own child's meal on Thursday 12 March, by phone.
    let booked = sqlite_count(
        &dir.path().join("ivr.sqlite"),
        "SELECT count(*) FROM bookings b JOIN children c ON c.id = b.child_id \
         WHERE c.code LIKE '4_____' AND b.date = '2026-03-12' AND b.service = 'REPAS'",
    )?;
    assert_eq!(booked, CALLS);
    Ok(())
}

/// A line that requires SRTP: every SRTP call hears the server's protected audio, types its
/// codes in protected telephone-events and books its meal; a call offering RTP in clear is
/// refused with 488.
#[test]
fn on_a_line_that_requires_srtp_every_srtp_call_books_and_clear_rtp_is_refused() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (_server, sip) = start_server(dir.path(), "[sip]\nsrtp = \"require\"\n")?;
    let codes = dir.path().join("codes.csv");
    let n = CALLS.to_string();
    let args = [
        "--codes",
        codes.to_str().unwrap(),
        "--count",
        &n,
        "--rate",
        "4",
        "--max",
        &n,
    ];
    let (ok, report, stdout) = load(dir.path(), &sip, &[&args[..], &["--srtp"]].concat())?;
    assert!(ok, "{stdout}");
    assert_eq!(report["completed"], CALLS, "{report}");
    let rtp = &report["rtp"];
    assert_eq!(rtp["srtp_failed"], 0, "{report}");
    assert_eq!(rtp["silent_calls"], 0, "{report}");
    assert!(
        rtp["min_packets_per_s"].as_f64().unwrap() > 40.0,
        "{report}"
    );
    assert!(rtp["min_spurts"].as_u64().unwrap() >= 2, "{report}");
    let booked = sqlite_count(
        &dir.path().join("ivr.sqlite"),
        "SELECT count(*) FROM bookings b JOIN children c ON c.id = b.child_id \
         WHERE c.code LIKE '4_____' AND b.date = '2026-03-12' AND b.service = 'REPAS'",
    )?;
    assert_eq!(booked, CALLS);

    let clear = ["--script", "short", "--count", "1", "--answer-timeout", "5"];
    let (ok, report, stdout) = load(dir.path(), &sip, &clear)?;
    assert!(!ok, "{stdout}");
    assert_eq!(report["failures"]["refused 488"], 1, "{report}");
    Ok(())
}

#[test]
fn calls_nobody_answers_fail_with_the_reason() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // A UDP port nobody answers on (bound, never read).
    let silent = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let server = silent.local_addr()?.to_string();
    let (ok, report, stdout) = load(
        dir.path(),
        &server,
        &[
            "--script",
            "short",
            "--count",
            "2",
            "--rate",
            "10",
            "--answer-timeout",
            "1",
        ],
    )?;
    assert!(!ok, "{stdout}");
    assert_eq!(report["failed"], 2, "{report}");
    assert_eq!(report["failures"]["no answer"], 2, "{report}");
    assert!(stdout.contains("2 × no answer"), "{stdout}");
    Ok(())
}

#[test]
fn a_call_rung_but_not_answered_in_time_is_cancelled() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // A server that rings (180) and never answers: the caller must CANCEL its INVITE, or a
    // late answer would leave the call up on the server.
    let ringing = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ringing.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let server = ringing.local_addr()?.to_string();
    let responder = std::thread::spawn(move || -> Result<(String, String)> {
        let mut buf = [0u8; 4096];
        let (len, caller) = ringing.recv_from(&mut buf)?;
        let invite = String::from_utf8_lossy(&buf[..len]).into_owned();
        if !invite.starts_with("INVITE ") {
            bail!("expected an INVITE, got {invite}");
        }
        ringing.send_to(text_response(&invite, "100 Trying", "").as_bytes(), caller)?;
        ringing.send_to(text_response(&invite, "180 Ringing", "").as_bytes(), caller)?;
        loop {
            let (len, from) = ringing.recv_from(&mut buf)?;
            let message = String::from_utf8_lossy(&buf[..len]).into_owned();
            if message.starts_with("CANCEL ") {
                ringing.send_to(text_response(&message, "200 OK", "").as_bytes(), from)?;
                ringing.send_to(
                    text_response(&invite, "487 Request Terminated", "").as_bytes(),
                    from,
                )?;
                return Ok((invite, message));
            }
        }
    });
    let (ok, report, stdout) = load(
        dir.path(),
        &server,
        &["--script", "short", "--count", "1", "--answer-timeout", "1"],
    )?;
    assert!(!ok, "{stdout}");
    assert_eq!(report["failures"]["no answer"], 1, "{report}");
    let (invite, cancel) = responder
        .join()
        .map_err(|_| anyhow::anyhow!("the responder panicked"))?
        .context("no CANCEL came")?;
    assert_eq!(
        text_header(&cancel, "Call-ID"),
        text_header(&invite, "Call-ID"),
        "{cancel}"
    );
    Ok(())
}

#[test]
fn a_bad_codes_file_is_refused_before_any_call() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let codes = dir.path().join("codes.csv");
    std::fs::write(
        &codes,
        "child_code;payer_code;date_ddmm\n400000;5000x0;1203\n",
    )?;
    let out = Command::new(IVR)
        .args(["load", "--server", "127.0.0.1:9", "--codes"])
        .arg(&codes)
        .output()?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(!stderr.contains("5000x0"), "{stderr}");
    Ok(())
}

fn sqlite_count(db: &Path, sql: &str) -> Result<usize> {
    let url = format!("sqlite://{}", db.display());
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await?;
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await?;
        Ok(n as usize)
    })
}
