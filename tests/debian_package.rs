//! The Debian package's systemd unit agrees with the server it starts: systemd must wait
//! longer than the drain before it kills, and the unit must run the packaged configuration
//! with its data folder writable. (`scripts/check-deb.sh`, run by CI, installs the package
//! and calls the service; this catches a change of the defaults that the unit did not follow.)

use std::path::Path;

/// The values of `key` in the unit file, in order.
fn values<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(str::trim)
        .collect()
}

fn unit() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/debian/ivr.service");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn systemd_waits_for_the_drain_before_it_kills() {
    let unit = unit();
    assert_eq!(
        values(&unit, "KillSignal"),
        ["SIGTERM"],
        "the drain starts on SIGTERM"
    );
    let timeout: u64 = values(&unit, "TimeoutStopSec")
        .first()
        .expect("TimeoutStopSec is set")
        .parse()
        .expect("TimeoutStopSec in seconds");
    // The server gives calls the grace, then 20 s more to say the farewell, hang them up
    // and close.
    let drain = ivr::sip::SipConfig::default().shutdown_grace_secs + 20;
    assert!(
        timeout > drain,
        "TimeoutStopSec={timeout} would kill calls still draining ({drain} s)"
    );
}

#[test]
fn the_unit_runs_the_packaged_configuration_and_may_write_its_data_folder() {
    let unit = unit();
    let exec = values(&unit, "ExecStart");
    assert_eq!(exec.len(), 1);
    let args: Vec<&str> = exec[0].split_whitespace().collect();
    assert_eq!(
        args[..4],
        ["/usr/bin/ivr", "--config", "/etc/ivr/ivr.toml", "serve"]
    );
    let folder = values(&unit, "WorkingDirectory");
    assert_eq!(folder, ["/var/lib/ivr"]);
    assert!(
        values(&unit, "ReadWritePaths")
            .iter()
            .any(|p| p.split_whitespace().any(|p| p == folder[0])),
        "ProtectSystem=strict needs the data folder in ReadWritePaths"
    );
    assert_eq!(values(&unit, "User"), ["ivr"]);

    // The package installs the unit and the configuration the unit names.
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("Cargo.toml");
    assert!(
        manifest.contains(r#""etc/ivr/ivr.toml""#),
        "the package ships /etc/ivr/ivr.toml"
    );
    assert!(
        manifest.contains(r#"conf-files = ["/etc/ivr/ivr.toml"]"#),
        "and keeps it as a conffile"
    );
    assert!(
        manifest.contains(r#"unit-name = "ivr""#),
        "the package installs the unit"
    );
}
