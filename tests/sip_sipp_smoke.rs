//! The SIPp smoke scenario against `ivr serve`, through `sipp-scenarios/run.sh` (which also
//! checks the server's metrics: every call counted, four digits heard per call). Skipped,
//! with a message, where SIPp is missing or pcap play is impossible (not root).
//! The full run (200 calls at 20 per second) is `sipp-scenarios/run.sh smoke.xml 20 100 200`.

use std::process::Command;

#[test]
fn sipp_smoke_calls_all_succeed() {
    let have_sipp = Command::new("sipp").arg("-v").output().is_ok();
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !have_sipp || !root {
        eprintln!("skipped: needs sipp (package sip-tester) and root for pcap play");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/sipp-scenarios/run.sh");
    let out = Command::new("bash")
        .args([script, "smoke.xml", "20", "40", "40"])
        .env("IVR_BIN", env!("CARGO_BIN_EXE_ivr"))
        .output()
        .expect("run.sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "run.sh failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("digits=160"), "{stdout}");
}
