//! Configuration tests: defaults need no file, the example loads, and every error names
//! its key.

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::booking::calendar::{ActionScope, ServiceScope};

fn err(text: &str) -> String {
    Config::from_toml(text, "ivr.toml")
        .expect_err("the configuration should be refused")
        .to_string()
}

#[test]
fn no_file_means_the_defaults() {
    let config = Config::from_toml("", "vide").unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.rules().unwrap(), Rules::default());
    let rules = config.rules().unwrap();
    assert_eq!(config.calendar(&rules).unwrap(), Calendar::default());
    assert_eq!(config.server.database_url, "sqlite://data/ivr.sqlite");
    assert_eq!(config.server.web_listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.server.sip_listen.to_string(), "0.0.0.0:5060");
    assert_eq!(config.town.name, "Mezcalito");
    assert!(
        config
            .town
            .message
            .contains("RAPPEL des délais d'inscriptions")
    );
}

#[test]
fn example_file_loads_and_differs_from_the_defaults_only_where_it_says() {
    let text = include_str!("../../ivr.example.toml");
    let mut example = Config::from_toml(text, "ivr.example.toml").unwrap();
    // Documented differences: the demo's school holidays and one closure.
    assert!(example.calendar.school_holidays.len() >= 6);
    assert_eq!(example.calendar.closures.len(), 1);
    let rules = example.rules().unwrap();
    let calendar = example.calendar(&rules).unwrap();
    let toussaint = calendar
        .school_holiday(NaiveDate::from_ymd_opt(2026, 10, 20).unwrap())
        .unwrap();
    assert_eq!(toussaint.name, "Vacances de la Toussaint");
    example.calendar.school_holidays.clear();
    example.calendar.closures.clear();
    assert_eq!(example, Config::default());
}

#[test]
fn an_unknown_key_is_named() {
    let e = err("[server]\nweb_listen = \"127.0.0.1:80\"\nweb_lisen = \"127.0.0.1:8081\"\n");
    assert!(e.contains("`server.web_lisen`"), "{e}");
    assert!(e.contains("ligne 3"), "{e}");
    let e = err("[sip]\nport = 5060\n");
    assert!(e.contains("`sip.port`"), "{e}");
    let e = err(
        "[[services]]\ncode = \"REPAS\"\nlabel = \"Cantine\"\ndays = [\"lundi\"]\nphone_key = 1\ndeadline_days_before = 1\ndeadline_time = \"10:00\"\ncolor = \"red\"\n",
    );
    assert!(e.contains("`services[0].color`"), "{e}");
}

#[test]
fn a_bad_value_is_named() {
    let e = err("[server]\nweb_listen = \"partout\"\n");
    assert!(e.contains("`server.web_listen`"), "{e}");
    assert!(e.contains("ligne 2"), "{e}");
    let e = err("[server]\nsip_listen = 5060\n");
    assert!(e.contains("`server.sip_listen`"), "{e}");
    let e = err("[town]\ntimezone = \"Europe/Pariss\"\n");
    assert!(
        e.contains("`town.timezone`") && e.contains("Europe/Pariss"),
        "{e}"
    );
    let e = err("[server]\ndatabase_url = \"mysql://x\"\n");
    assert!(e.contains("`server.database_url`"), "{e}");
    let e = err("[calendar]\nclosures = [2026-05-15, \"15/05/2026\"]\n");
    assert!(
        e.contains("`calendar.closures[1]`") && e.contains("15/05/2026"),
        "{e}"
    );
}

fn one_service(field: &str, value: &str) -> String {
    let mut lines = vec![
        "[[services]]".to_owned(),
        "code = \"REPAS\"".to_owned(),
        "label = \"Cantine\"".to_owned(),
        "days = [\"lundi\", \"mardi\"]".to_owned(),
        "phone_key = 1".to_owned(),
        "deadline_days_before = 1".to_owned(),
        "deadline_time = \"10:00\"".to_owned(),
    ];
    for line in &mut lines {
        if line.starts_with(&format!("{field} =")) {
            *line = format!("{field} = {value}");
        }
    }
    lines.join("\n")
}

#[test]
fn bad_services_name_the_field_and_the_service() {
    let e = err(&one_service("days", "[\"lundi\", \"lundy\"]"));
    assert!(
        e.contains("`services[0].days`") && e.contains("lundy") && e.contains("REPAS"),
        "{e}"
    );
    let e = err(&one_service("deadline_time", "\"10h\""));
    assert!(e.contains("`services[0].deadline_time`"), "{e}");
    let e = err(&one_service("phone_key", "0"));
    assert!(e.contains("`services[0].phone_key`"), "{e}");
    let e = err(&one_service("code", "\"repas\""));
    assert!(e.contains("`services[0].code`"), "{e}");
    let e = err(&one_service("days", "[]"));
    assert!(
        e.contains("prestation REPAS") && e.contains("`days`"),
        "{e}"
    );
    let e = err(&one_service("label", "\" \""));
    assert!(e.contains("`label`"), "{e}");
    let e = err(&one_service("deadline_days_before", "-1"));
    assert!(e.contains("`services[0].deadline_days_before`"), "{e}");
    let missing = one_service("label", "\"x\"").replace("label = \"x\"\n", "");
    let e = err(&missing);
    assert!(e.contains("label"), "{e}");
    let two = format!(
        "{}\n{}",
        one_service("phone_key", "1"),
        one_service("code", "\"SOIR\"")
    );
    let e = err(&two);
    assert!(e.contains("SOIR") && e.contains("phone_key"), "{e}");
}

#[test]
fn seed_override_reads_in_town_time() {
    let text = r#"
[calendar]
closures = [2020-05-22]

[[calendar.overrides]]
date = 2020-05-25
actions = "cancel"
deadline = 2020-05-20T10:15:00
message = "ATTENTION! En raison du week-end de l'Ascension, les annulations pour le lundi 25 mai NE SONT PLUS POSSIBLES depuis mercredi 20 mai à 10H15."

[[calendar.overrides]]
date = "2020-05-26"
services = ["SOIR"]
actions = "inscription"
deadline = "2020-05-26 12:00"
message = "Sortie scolaire : inscriptions closes à midi."
"#;
    let config = Config::from_toml(text, "t").unwrap();
    let rules = config.rules().unwrap();
    let cal = config.calendar(&rules).unwrap();
    let seed = &cal.overrides[0];
    assert_eq!(seed.services, ServiceScope::All);
    assert_eq!(seed.actions, ActionScope::Cancel);
    let expected: DateTime<Utc> = "2020-05-20T08:15:00Z".parse().unwrap();
    assert_eq!(seed.deadline, expected);
    assert!(cal.is_closed(NaiveDate::from_ymd_opt(2020, 5, 22).unwrap()));
    let second = &cal.overrides[1];
    assert_eq!(second.actions, ActionScope::Book);
    assert_eq!(
        second.services,
        ServiceScope::Only(vec![
            crate::booking::model::ServiceCode::parse("SOIR").unwrap()
        ])
    );
}

#[test]
fn bad_overrides_are_named() {
    let base = "[[calendar.overrides]]\ndate = 2020-05-25\nactions = \"cancel\"\ndeadline = 2020-05-20T10:15:00\nmessage = \"m\"\n";
    let e = err(&base.replace("\"cancel\"", "\"never\""));
    assert!(e.contains("`calendar.overrides[0].actions`"), "{e}");
    let e = err(&base.replace("2020-05-20T10:15:00", "2020-05-20T10:15:00Z"));
    assert!(e.contains("`calendar.overrides[0].deadline`"), "{e}");
    let e = err(&base.replace("message = \"m\"", "message = \"\""));
    assert!(
        e.contains("dérogation du 2020-05-25") && e.contains("`message`"),
        "{e}"
    );
    let e = err(&format!("{base}services = [\"PISCINE\"]\n"));
    assert!(e.contains("PISCINE"), "{e}");
    let e = err(
        "[[calendar.school_holidays]]\nname = \"Noël\"\nfirst = 2026-12-19\nlast = 2026-12-01\n",
    );
    assert!(e.contains("Noël") && e.contains("`last`"), "{e}");
    let e = err("[calendar]\noffice_days = []\n");
    assert!(e.contains("office_days"), "{e}");
}

#[test]
fn a_syntax_error_gives_its_line() {
    let e = err("[town]
name = \"Mezcalito\"
[server\n");
    assert!(e.starts_with("configuration ivr.toml, ligne 3 : "), "{e}");
}

#[test]
fn flags_win_over_the_file_and_are_checked() {
    let mut config = Config::from_toml("[server]\nweb_listen = \"127.0.0.1:9000\"\n", "t").unwrap();
    config
        .apply_flags(ServerFlags {
            database_url: Some("postgres://postgres@127.0.0.1:5432/test".to_owned()),
            web_listen: Some("127.0.0.1:9001".parse().unwrap()),
            sip_listen: None,
        })
        .unwrap();
    assert_eq!(config.server.web_listen.to_string(), "127.0.0.1:9001");
    assert_eq!(config.server.sip_listen.to_string(), "0.0.0.0:5060");
    assert!(config.server.database_url.starts_with("postgres://"));
    let e = config
        .apply_flags(ServerFlags {
            database_url: Some("ftp://x".to_owned()),
            ..ServerFlags::default()
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("`server.database_url`"), "{e}");
}
