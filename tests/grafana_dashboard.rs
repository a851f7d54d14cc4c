//! The Grafana dashboard of `deploy/grafana/ivr.json` queries only metrics the server
//! exports: a renamed counter breaks this test rather than an operator's panel.

use std::collections::BTreeSet;

use ivr::metrics::Metrics;

/// Every `ivr_…` metric name in the dashboard's queries.
fn queried() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/grafana/ivr.json");
    let text = std::fs::read_to_string(path).expect("deploy/grafana/ivr.json");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut names = BTreeSet::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("a query");
            let mut rest = expr;
            while let Some(at) = rest.find("ivr_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                rest = &rest[at + name.len()..];
                names.insert(name);
            }
        }
    }
    names
}

#[test]
fn every_metric_the_dashboard_queries_is_exported() {
    let metrics = Metrics::new();
    // A finished call, so the labelled families have series to show.
    metrics.call_ended("locked");
    metrics
        .booking_changes
        .get_or_create(&[("channel", "web"), ("action", "booked")])
        .inc();
    metrics
        .logins_refused
        .get_or_create(&[("channel", "web"), ("reason", "locked")])
        .inc();
    let exported = metrics.render();
    let names = queried();
    assert!(names.len() >= 10, "the dashboard queries {names:?}");
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| {
            !exported
                .lines()
                .any(|l| l.starts_with(&format!("{n} ")) || l.starts_with(&format!("{n}{{")))
        })
        .collect();
    assert!(missing.is_empty(), "not exported: {missing:?}\n{exported}");
}
