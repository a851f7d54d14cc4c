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
    let e = err("[sip]\nsrtp = \"always\"\n");
    assert!(
        e.contains("`sip.srtp`") && e.contains("always") && e.contains("require"),
        "{e}"
    );
    let e = err("[calendar]\nregion = \"alsace\"\n");
    assert!(
        e.contains("`calendar.region`") && e.contains("ligne 2"),
        "{e}"
    );
    for name in [
        "`alsace`",
        "`metropole`",
        "`alsace-moselle`",
        "`guadeloupe`",
        "`martinique`",
        "`guyane`",
        "`la-reunion`",
        "`mayotte`",
    ] {
        assert!(e.contains(name), "{name} not in: {e}");
    }
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

/// One struct met while walking `Config`'s fields: where it sits and the keys it accepts.
#[derive(Debug)]
struct FoundTable {
    /// Path from the root: each key, and whether its value is a list (`[[...]]`).
    path: Vec<(&'static str, bool)>,
    /// The struct's keys, as serde names them (skipped fields are not among them).
    fields: &'static [&'static str],
}

impl FoundTable {
    /// `invoice.tariffs.brackets`: how `ivr.example.toml` names it.
    fn dotted(&self) -> String {
        let names: Vec<&str> = self.path.iter().map(|(name, _)| *name).collect();
        names.join(".")
    }

    /// `invoice.tariffs[0].brackets[0]`: how an error names it.
    fn error_path(&self) -> String {
        let parts: Vec<String> = self
            .path
            .iter()
            .map(|(name, list)| {
                if *list {
                    format!("{name}[0]")
                } else {
                    (*name).to_owned()
                }
            })
            .collect();
        parts.join(".")
    }
}

/// A serde deserializer that holds no data: it goes down `path` (field indices) through
/// structs, lists, options and newtypes, and records the struct it finds at the end with
/// its field names. Anything else is an error, which ends the walk; the struct's own
/// `Deserialize` (derived) gives its field names before asking for any value, so the names
/// of every section, including the ones with no default value (`sip.trunk`) or empty
/// lists (`invoice.tariffs`), come from the types themselves.
struct KeyWalker<'a> {
    path: Vec<(&'static str, bool)>,
    remaining: &'a [usize],
    found: &'a std::cell::RefCell<Option<FoundTable>>,
}

type WalkError = serde::de::value::Error;

fn leaf() -> WalkError {
    serde::de::Error::custom("not a table")
}

impl<'de> serde::Deserializer<'de> for KeyWalker<'_> {
    type Error = WalkError;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, WalkError> {
        Err(leaf())
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, WalkError> {
        let Some((&index, rest)) = self.remaining.split_first() else {
            *self.found.borrow_mut() = Some(FoundTable {
                path: self.path,
                fields,
            });
            return Err(leaf());
        };
        let key = *fields.get(index).ok_or_else(leaf)?;
        let mut path = self.path;
        path.push((key, false));
        visitor.visit_map(OneEntry {
            key: Some(key),
            value: Some(KeyWalker {
                path,
                remaining: rest,
                found: self.found,
            }),
        })
    }

    fn deserialize_seq<V: serde::de::Visitor<'de>>(
        mut self,
        visitor: V,
    ) -> Result<V::Value, WalkError> {
        if let Some(last) = self.path.last_mut() {
            last.1 = true;
        }
        visitor.visit_seq(OneElement(Some(self)))
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, WalkError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, WalkError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct tuple tuple_struct map enum identifier ignored_any
    }
}

/// The one key a [`KeyWalker`] offers to the struct it goes through.
struct OneEntry<'a> {
    key: Option<&'static str>,
    value: Option<KeyWalker<'a>>,
}

impl<'de> serde::de::MapAccess<'de> for OneEntry<'_> {
    type Error = WalkError;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, WalkError> {
        use serde::de::IntoDeserializer;
        match self.key.take() {
            Some(key) => seed
                .deserialize(IntoDeserializer::<WalkError>::into_deserializer(key))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<S: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, WalkError> {
        seed.deserialize(self.value.take().ok_or_else(leaf)?)
    }
}

/// The one element a [`KeyWalker`] offers to the list it goes through.
struct OneElement<'a>(Option<KeyWalker<'a>>);

impl<'de> serde::de::SeqAccess<'de> for OneElement<'_> {
    type Error = WalkError;

    fn next_element_seed<S: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, WalkError> {
        match self.0.take() {
            Some(walker) => seed.deserialize(walker).map(Some),
            None => Ok(None),
        }
    }
}

/// Every table of `Config` (the root first), found from the types' own field lists.
fn config_tables() -> Vec<FoundTable> {
    let mut tables = Vec::new();
    let mut queue = std::collections::VecDeque::from([Vec::<usize>::new()]);
    while let Some(indices) = queue.pop_front() {
        assert!(
            indices.len() < 8,
            "configuration nested too deep: {indices:?}"
        );
        let found = std::cell::RefCell::new(None);
        let walker = KeyWalker {
            path: Vec::new(),
            remaining: &indices,
            found: &found,
        };
        // The walk always ends in an error: what counts is what it found on the way.
        let _ = Config::deserialize(walker);
        if let Some(table) = found.into_inner() {
            for i in 0..table.fields.len() {
                let mut next = indices.clone();
                next.push(i);
                queue.push_back(next);
            }
            tables.push(table);
        }
    }
    tables
}

/// The dotted keys `text` documents: table headers, `key =` lines, and the same written
/// as comments (`# [sip.trunk]`, `# password = ...`) for keys with no default value.
fn documented_keys(text: &str) -> std::collections::BTreeSet<String> {
    let mut keys = std::collections::BTreeSet::new();
    let mut table = String::new();
    let bare = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    for line in text.lines() {
        let line = line.trim_start().trim_start_matches('#').trim();
        let header = line
            .strip_prefix("[[")
            .and_then(|l| l.strip_suffix("]]"))
            .or_else(|| line.strip_prefix('[').and_then(|l| l.strip_suffix(']')));
        if let Some(name) = header {
            let name = name.trim();
            if name.split('.').all(bare) {
                table = name.to_owned();
                keys.insert(table.clone());
            }
            continue;
        }
        if let Some((key, _)) = line.split_once('=') {
            let key = key.trim();
            if bare(key) {
                keys.insert(if table.is_empty() {
                    key.to_owned()
                } else {
                    format!("{table}.{key}")
                });
            }
        }
    }
    keys
}

#[test]
fn the_walk_finds_every_section_and_nested_table() {
    let tables = config_tables();
    let dotted: Vec<String> = tables.iter().map(FoundTable::dotted).collect();
    for expected in [
        "",
        "server",
        "services",
        "calendar.school_holidays",
        "calendar.overrides",
        "sip",
        "sip.trunk",
        "invoice.town",
        "invoice.tariffs.brackets",
        "mail",
    ] {
        assert!(
            dotted.iter().any(|d| d == expected),
            "{expected} not in {dotted:?}"
        );
    }
    let sip = tables.iter().find(|t| t.dotted() == "sip").unwrap();
    assert!(sip.fields.contains(&"rtp_port_min"));
    assert!(
        !sip.fields.contains(&"listen"),
        "skipped fields are not keys"
    );
    let brackets = tables
        .iter()
        .find(|t| t.dotted() == "invoice.tariffs.brackets")
        .unwrap();
    assert_eq!(brackets.error_path(), "invoice.tariffs[0].brackets[0]");
}

#[test]
fn every_key_of_the_configuration_is_in_the_example_file() {
    let documented = documented_keys(include_str!("../../ivr.example.toml"));
    let mut missing = Vec::new();
    for table in config_tables() {
        let prefix = table.dotted();
        for field in table.fields {
            let key = if prefix.is_empty() {
                (*field).to_owned()
            } else {
                format!("{prefix}.{field}")
            };
            if !documented.contains(&key) {
                missing.push(key);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys missing from ivr.example.toml (write them with their default and a comment, \
         or as a commented-out line when they have no default): {missing:?}"
    );
}

#[test]
fn the_key_check_sees_a_missing_key() {
    let text = include_str!("../../ivr.example.toml").replace("\nring_ms = 0\n", "\n");
    let documented = documented_keys(&text);
    assert!(!documented.contains("sip.ring_ms"));
    assert!(documented.contains("sip.t1_ms"));
    assert!(
        documented.contains("sip.trunk.password"),
        "commented-out keys count"
    );
    assert!(documented.contains("calendar.overrides.services"));
}

#[test]
fn an_unknown_key_is_refused_in_every_table() {
    let tables = config_tables();
    assert!(tables.len() >= 15, "{tables:?}");
    for table in &tables {
        // The headers that open this table, the lists on the way as [[...]] entries.
        let mut text = String::new();
        let mut names = Vec::new();
        for (i, (name, list)) in table.path.iter().enumerate() {
            names.push(*name);
            if *list {
                text.push_str(&format!("[[{}]]\n", names.join(".")));
            } else if i + 1 == table.path.len() {
                text.push_str(&format!("[{}]\n", names.join(".")));
            }
        }
        text.push_str("no_such_key = 1\n");
        let expected = if table.path.is_empty() {
            "`no_such_key`".to_owned()
        } else {
            format!("`{}.no_such_key`", table.error_path())
        };
        let e = err(&text);
        assert!(e.contains(&expected), "{text}→ {e}");
        assert!(
            e.contains("no_such_key") && e.contains("unknown field"),
            "{e}"
        );
    }
}

#[test]
fn the_region_reaches_the_calendar() {
    use crate::booking::region::Region;
    let config = Config::from_toml("[calendar]\nregion = \"la-reunion\"\n", "test").unwrap();
    let rules = config.rules().unwrap();
    let calendar = config.calendar(&rules).unwrap();
    assert_eq!(calendar.region, Region::LaReunion);
    let abolition = NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
    assert_eq!(
        calendar.public_holiday(abolition),
        Some("Abolition de l'esclavage")
    );
    assert_eq!(Calendar::default().public_holiday(abolition), None);
}

#[test]
fn the_login_section_is_read() {
    let cfg = Config::from_toml("[login]\nlockout_after = 6\n", "test").unwrap();
    assert_eq!(cfg.login.lockout_after, 6);
}

#[test]
fn the_school_calendar_snippet_loads_as_configuration() {
    use crate::booking::school_calendar::{import_school_calendar, to_toml};
    let csv = include_str!("../../tests/fixtures/fr-en-calendrier-scolaire.csv");
    let import =
        import_school_calendar(csv.as_bytes(), "Zone A", chrono_tz::Europe::Paris).unwrap();
    let snippet = to_toml(&import.periods);
    let config = Config::from_toml(&snippet, "extrait").unwrap();
    let rules = config.rules().unwrap();
    let calendar = config.calendar(&rules).unwrap();
    assert_eq!(calendar.school_holidays, import.periods);
}
