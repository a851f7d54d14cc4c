//! The town's tariffs: a price per service in cents, flat or by family-income bracket
//! ("quotient familial"), checked once when the configuration is loaded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::InvoiceError;
use crate::booking::model::{Cents, ServiceCode};

/// A family's "quotient familial" in euros (monthly income divided by household shares,
/// as the CAF computes it). Used only to pick a tariff bracket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QuotientFamilial(pub u32);

/// One bracket of a tariff in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BracketConfig {
    /// The highest quotient (euros, inclusive) of this bracket; absent on the last bracket.
    #[serde(default)]
    pub up_to: Option<u32>,
    /// The unit price in cents.
    pub price_cents: i64,
}

/// One `[[invoice.tariffs]]` entry of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffConfig {
    /// The service code (`REPAS`, `MATIN`, ...).
    pub service: String,
    /// The label printed on invoices ("Repas", "Accueil du matin").
    pub label: String,
    /// A flat unit price in cents (give this or `brackets`).
    #[serde(default)]
    pub price_cents: Option<i64>,
    /// Prices by quotient familial, increasing `up_to`, the last without `up_to`.
    #[serde(default)]
    pub brackets: Vec<BracketConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Price {
    Flat(Cents),
    /// (highest quotient of the bracket, price); the last bracket has `None`.
    Brackets(Vec<(Option<u32>, Cents)>),
}

/// A checked tariff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariff {
    /// The label printed on invoices.
    pub label: String,
    price: Price,
}

impl Tariff {
    /// The unit price for a family. A family without a known quotient pays the last
    /// (highest) bracket, as towns do when no income is declared.
    pub fn unit_price(&self, quotient: Option<QuotientFamilial>) -> Cents {
        match &self.price {
            Price::Flat(c) => *c,
            Price::Brackets(brackets) => {
                let last = brackets.last().expect("checked: at least one bracket").1;
                let Some(QuotientFamilial(q)) = quotient else {
                    return last;
                };
                brackets
                    .iter()
                    .find(|(up_to, _)| up_to.is_none_or(|max| q <= max))
                    .map_or(last, |(_, c)| *c)
            }
        }
    }
}

/// All the town's tariffs, by service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tariffs(BTreeMap<ServiceCode, Tariff>);

impl Tariffs {
    /// Checks the configured tariffs: known code format, each service once, a flat price or
    /// brackets (not both), no negative price, brackets increasing and the last open.
    pub fn from_config(entries: &[TariffConfig]) -> Result<Self, InvoiceError> {
        let mut map = BTreeMap::new();
        for e in entries {
            let bad = |reason: &str| InvoiceError::BadTariff {
                service: e.service.clone(),
                reason: reason.to_owned(),
            };
            let code = ServiceCode::parse(&e.service).map_err(|err| bad(&err.to_string()))?;
            if e.label.trim().is_empty() {
                return Err(bad("libellé vide"));
            }
            let price = match (e.price_cents, e.brackets.as_slice()) {
                (Some(p), []) if p >= 0 => Price::Flat(Cents(p)),
                (Some(_), []) => return Err(bad("prix négatif")),
                (None, []) => return Err(bad("ni prix ni tranches")),
                (Some(_), _) => return Err(bad("prix et tranches à la fois")),
                (None, brackets) => {
                    let mut out = Vec::with_capacity(brackets.len());
                    let mut previous: Option<u32> = None;
                    for (i, b) in brackets.iter().enumerate() {
                        let is_last = i + 1 == brackets.len();
                        if b.price_cents < 0 {
                            return Err(bad("prix négatif"));
                        }
                        match (b.up_to, is_last) {
                            (None, false) => {
                                return Err(bad("seule la dernière tranche n'a pas de plafond"));
                            }
                            (Some(_), true) => {
                                return Err(bad(
                                    "la dernière tranche ne doit pas avoir de plafond",
                                ));
                            }
                            (Some(max), false) if previous.is_some_and(|p| max <= p) => {
                                return Err(bad("plafonds non croissants"));
                            }
                            _ => {}
                        }
                        previous = b.up_to;
                        out.push((b.up_to, Cents(b.price_cents)));
                    }
                    Price::Brackets(out)
                }
            };
            let tariff = Tariff {
                label: e.label.trim().to_owned(),
                price,
            };
            if map.insert(code, tariff).is_some() {
                return Err(bad("prestation tarifée deux fois"));
            }
        }
        Ok(Self(map))
    }

    /// The tariff of a service.
    pub fn get(&self, service: &ServiceCode) -> Result<&Tariff, InvoiceError> {
        self.0
            .get(service)
            .ok_or_else(|| InvoiceError::NoTariff(service.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(service: &str, cents: i64) -> TariffConfig {
        TariffConfig {
            service: service.into(),
            label: service.to_lowercase(),
            price_cents: Some(cents),
            brackets: vec![],
        }
    }

    fn bracketed() -> TariffConfig {
        TariffConfig {
            service: "REPAS".into(),
            label: "Repas".into(),
            price_cents: None,
            brackets: vec![
                BracketConfig {
                    up_to: Some(500),
                    price_cents: 150,
                },
                BracketConfig {
                    up_to: Some(1000),
                    price_cents: 320,
                },
                BracketConfig {
                    up_to: None,
                    price_cents: 450,
                },
            ],
        }
    }

    #[test]
    fn brackets_pick_by_quotient_and_unknown_pays_full() {
        let t = Tariffs::from_config(&[bracketed(), flat("SOIR", 210)]).unwrap();
        let repas = t.get(&ServiceCode::parse("REPAS").unwrap()).unwrap();
        assert_eq!(repas.unit_price(Some(QuotientFamilial(0))), Cents(150));
        assert_eq!(repas.unit_price(Some(QuotientFamilial(500))), Cents(150));
        assert_eq!(repas.unit_price(Some(QuotientFamilial(501))), Cents(320));
        assert_eq!(repas.unit_price(Some(QuotientFamilial(5000))), Cents(450));
        assert_eq!(repas.unit_price(None), Cents(450));
        let soir = t.get(&ServiceCode::parse("SOIR").unwrap()).unwrap();
        assert_eq!(soir.unit_price(Some(QuotientFamilial(1))), Cents(210));
        assert!(matches!(
            t.get(&ServiceCode::parse("MATIN").unwrap()),
            Err(InvoiceError::NoTariff(_))
        ));
    }

    #[test]
    fn inconsistent_tariffs_are_load_errors() {
        let mut both = bracketed();
        both.price_cents = Some(100);
        let mut open_middle = bracketed();
        open_middle.brackets[1].up_to = None;
        let mut closed_last = bracketed();
        closed_last.brackets[2].up_to = Some(2000);
        let mut decreasing = bracketed();
        decreasing.brackets[1].up_to = Some(400);
        let none = TariffConfig {
            price_cents: None,
            ..flat("MIDI", 0)
        };
        for bad in [
            vec![both],
            vec![open_middle],
            vec![closed_last],
            vec![decreasing],
            vec![none],
            vec![flat("MIDI", -1)],
            vec![flat("midi", 1)],
            vec![flat("MIDI", 1), flat("MIDI", 2)],
        ] {
            assert!(
                matches!(
                    Tariffs::from_config(&bad),
                    Err(InvoiceError::BadTariff { .. })
                ),
                "{bad:?}"
            );
        }
    }
}
