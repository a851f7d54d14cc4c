//! The `ivr` binary run as an operator runs it, and what its runs printed.

use std::path::Path;
use std::process::{Command, Output};

/// The `ivr` binary to run in `dir`, without the `IVR_CONFIG` of the caller's environment;
/// the caller adds its environment and arguments.
pub fn ivr_in(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ivr"));
    command.current_dir(dir).env_remove("IVR_CONFIG");
    command
}

/// What a run printed on its standard output.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("the output is UTF-8")
}

/// What a run printed on its error output.
pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("the error output is UTF-8")
}

/// The standard output of a run that must have succeeded (else the test fails with its
/// error output).
pub fn succeeded(out: &Output) -> String {
    assert!(out.status.success(), "the run failed: {}", stderr(out));
    stdout(out)
}

/// The error output of a run that must have failed (else the test fails with its output).
pub fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "the run succeeded: {}", stdout(out));
    stderr(out)
}

/// The path of `tests/fixtures/NAME`.
pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `ivr --database-url URL ARGS` run in `dir`, logging warnings only.
pub fn ivr_on(dir: &Path, url: &str, args: &[&str]) -> Output {
    ivr_in(dir)
        .env("RUST_LOG", "warn")
        .arg("--database-url")
        .arg(url)
        .args(args)
        .output()
        .expect("the ivr binary runs")
}
