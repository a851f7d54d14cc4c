//! The `[invoice]` section of the configuration.

use serde::{Deserialize, Serialize};

use super::InvoiceError;
use super::number::RegieCode;
use super::pdf::TownHeader;
use super::tariff::{TariffConfig, Tariffs};

/// How invoices are numbered, labelled, dated and priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InvoiceConfig {
    /// The régie's number, the middle part of invoice numbers (`2014-003-000162` → 3).
    pub regie_code: u16,
    /// The régie's name ("restauration et garderie").
    pub regie_name: String,
    /// The invoices' label ("CANTINE ET GARDERIE").
    pub label: String,
    /// Days after the end of the invoiced month until the due date.
    pub due_days: u32,
    /// The town's header printed on every invoice.
    pub town: TownHeader,
    /// The tariffs, one entry per service.
    pub tariffs: Vec<TariffConfig>,
}

impl Default for InvoiceConfig {
    fn default() -> Self {
        Self {
            regie_code: 3,
            regie_name: "restauration et garderie".to_owned(),
            label: "CANTINE ET GARDERIE".to_owned(),
            due_days: 30,
            town: TownHeader::default(),
            tariffs: Vec::new(),
        }
    }
}

impl InvoiceConfig {
    /// The line shown in lists and on the PDF:
    /// "Régie: restauration et garderie, CANTINE ET GARDERIE".
    pub fn regie_label(&self) -> String {
        format!("Régie: {}, {}", self.regie_name, self.label)
    }

    /// The checked régie code.
    pub fn regie(&self) -> Result<RegieCode, InvoiceError> {
        RegieCode::new(self.regie_code)
    }

    /// The checked tariffs (a bad tariff is a load-time error).
    pub fn tariffs(&self) -> Result<Tariffs, InvoiceError> {
        Tariffs::from_config(&self.tariffs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_parses_with_tariffs() {
        let c: InvoiceConfig = toml::from_str(
            r#"
regie_code = 3
[town]
name = "Mairie de Saint-Julien-en-Genevois"
address = ["1 place du Général de Gaulle"]
[[tariffs]]
service = "REPAS"
label = "Repas"
brackets = [{ up_to = 700, price_cents = 265 }, { price_cents = 415 }]
[[tariffs]]
service = "SOIR"
label = "Accueil du soir"
price_cents = 183
"#,
        )
        .unwrap();
        assert_eq!(
            c.regie_label(),
            "Régie: restauration et garderie, CANTINE ET GARDERIE"
        );
        assert_eq!(c.regie().unwrap().value(), 3);
        c.tariffs().unwrap();
        assert!(toml::from_str::<InvoiceConfig>("regie = 3").is_err());
    }
}
