//! Dates and local date-times in the configuration, written either as TOML values
//! (`2026-05-15`, `2020-05-20T10:15:00`) or as strings (`"2026-05-15"`, `"2020-05-20 10:15"`).
//! chrono's own serde support accepts strings only, so a natural TOML date would be refused.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

/// A calendar day read from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigDate(pub NaiveDate);

/// A wall-clock date and time in the town's legal time, read from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigDateTime(pub NaiveDateTime);

impl<'de> Deserialize<'de> for ConfigDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = d.deserialize_any(DatetimeText)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(ConfigDate)
            .map_err(|_| de::Error::custom(format!("date attendue AAAA-MM-JJ, lu « {text} »")))
    }
}

impl<'de> Deserialize<'de> for ConfigDateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = d.deserialize_any(DatetimeText)?;
        parse_local_datetime(&text)
            .map(ConfigDateTime)
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "date et heure locales attendues AAAA-MM-JJTHH:MM (heure de la commune, \
                 sans décalage), lu « {text} »"
                ))
            })
    }
}

/// Reads `2020-05-20T10:15`, `2020-05-20 10:15`, with or without seconds.
pub fn parse_local_datetime(text: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
}

/// Turns a TOML date-time value or a string into its text.
struct DatetimeText;

impl<'de> Visitor<'de> for DatetimeText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date (2026-05-15) or a local date-time (2020-05-20T10:15:00)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
        // toml hands its date-time values to serde as a one-entry map.
        let dt = toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(dt.to_string())
    }
}
