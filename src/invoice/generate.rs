//! The pure part of `ivr invoices generate`: a month's bookings and the tariffs in, each
//! payer's invoice lines and total out. Numbering and storage come after, in the store.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::InvoiceError;
use super::tariff::{QuotientFamilial, Tariffs};
use crate::booking::model::{Cents, ChildId, PayerId, ServiceCode};

/// A calendar month, as in `--month 2026-11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InvoiceMonth {
    first_day: NaiveDate,
}

impl InvoiceMonth {
    /// The month of (`year`, `month` 1-12).
    pub fn new(year: i32, month: u32) -> Result<Self, InvoiceError> {
        NaiveDate::from_ymd_opt(year, month, 1)
            .filter(|_| (1000..=9999).contains(&year))
            .map(|first_day| Self { first_day })
            .ok_or(InvoiceError::NumberOutOfRange("mois"))
    }

    /// Reads `YYYY-MM`.
    pub fn parse(s: &str) -> Result<Self, InvoiceError> {
        let bad = || InvoiceError::BadNumber(format!("mois {s} (AAAA-MM attendu)"));
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !(y.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        Self::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).map_err(|_| bad())
    }

    /// The first day.
    pub fn first_day(self) -> NaiveDate {
        self.first_day
    }

    /// The last day.
    pub fn last_day(self) -> NaiveDate {
        self.first_day + Months::new(1) - Days::new(1)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.first_day.year()
    }

    /// True when `date` is in this month.
    pub fn contains(self, date: NaiveDate) -> bool {
        date.year() == self.first_day.year() && date.month() == self.first_day.month()
    }

    /// "novembre 2026", as printed on invoices.
    pub fn label_fr(self) -> String {
        format!(
            "{} {}",
            crate::booking::french::month_fr(self.first_day.month()),
            self.first_day.year()
        )
    }

    /// The due date: `days` after the month's last day.
    pub fn due_date(self, days: u32) -> NaiveDate {
        self.last_day() + Days::new(u64::from(days))
    }
}

impl fmt::Display for InvoiceMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first_day.format("%Y-%m"))
    }
}

/// One booked (and not cancelled) service, as the store lists them for a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedService {
    /// The family account that pays.
    pub payer: PayerId,
    /// The child.
    pub child: ChildId,
    /// "Prénom NOM", printed on the line.
    pub child_name: String,
    /// The day.
    pub date: NaiveDate,
    /// The service.
    pub service: ServiceCode,
}

/// One line: a child, a service, how many days, at what price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// The child.
    pub child: ChildId,
    /// The child's name as printed.
    pub child_name: String,
    /// The service.
    pub service: ServiceCode,
    /// The service's label from the tariff.
    pub label: String,
    /// Number of days booked.
    pub quantity: u32,
    /// Price of one day.
    pub unit_price: Cents,
    /// `quantity × unit_price`.
    pub amount: Cents,
}

/// A payer's invoice before it has a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftInvoice {
    /// Who pays.
    pub payer: PayerId,
    /// The month invoiced.
    pub month: InvoiceMonth,
    /// Lines ordered by child name, child, then service code.
    pub lines: Vec<InvoiceLine>,
    /// The sum of the lines.
    pub total: Cents,
}

/// Computes each payer's invoice for `month`.
///
/// `quotients` lists every payer that may appear, with their quotient familial if known.
/// Every booking must be in `month` and appear once; a payer whose total is zero gets no
/// invoice (nothing to pay). Invoices come out ordered by payer id, so numbering them in this
/// order is reproducible.
pub fn draft_invoices(
    month: InvoiceMonth,
    bookings: &[BookedService],
    quotients: &BTreeMap<PayerId, Option<QuotientFamilial>>,
    tariffs: &Tariffs,
) -> Result<Vec<DraftInvoice>, InvoiceError> {
    // (payer, child name, child, service) -> days; the name sorts lines as people read them.
    let mut counts: BTreeMap<(PayerId, &str, ChildId, &ServiceCode), u32> = BTreeMap::new();
    let mut seen: BTreeSet<(ChildId, NaiveDate, &ServiceCode)> = BTreeSet::new();
    for b in bookings {
        if !month.contains(b.date) {
            return Err(InvoiceError::OutsideMonth {
                date: b.date.format("%d/%m/%Y").to_string(),
                month: month.to_string(),
            });
        }
        if !seen.insert((b.child, b.date, &b.service)) {
            return Err(InvoiceError::DuplicateBooking(format!(
                "enfant n° {}, {}, {}",
                b.child.0,
                b.date.format("%d/%m/%Y"),
                b.service
            )));
        }
        if !quotients.contains_key(&b.payer) {
            return Err(InvoiceError::UnknownPayer(b.payer.0));
        }
        *counts
            .entry((b.payer, b.child_name.as_str(), b.child, &b.service))
            .or_insert(0) += 1;
    }
    let mut invoices: Vec<DraftInvoice> = Vec::new();
    for ((payer, child_name, child, service), quantity) in counts {
        let tariff = tariffs.get(service)?;
        let unit_price = tariff.unit_price(quotients[&payer]);
        let amount = unit_price
            .0
            .checked_mul(i64::from(quantity))
            .map(Cents)
            .ok_or(InvoiceError::Overflow)?;
        let line = InvoiceLine {
            child,
            child_name: child_name.to_owned(),
            service: service.clone(),
            label: tariff.label.clone(),
            quantity,
            unit_price,
            amount,
        };
        match invoices.last_mut() {
            Some(inv) if inv.payer == payer => {
                inv.total = Cents(
                    inv.total
                        .0
                        .checked_add(amount.0)
                        .ok_or(InvoiceError::Overflow)?,
                );
                inv.lines.push(line);
            }
            _ => invoices.push(DraftInvoice {
                payer,
                month,
                lines: vec![line],
                total: amount,
            }),
        }
    }
    invoices.retain(|inv| inv.total.0 > 0);
    Ok(invoices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoice::tariff::{BracketConfig, TariffConfig};

    fn tariffs() -> Tariffs {
        Tariffs::from_config(&[
            TariffConfig {
                service: "REPAS".into(),
                label: "Repas".into(),
                price_cents: None,
                brackets: vec![
                    BracketConfig {
                        up_to: Some(700),
                        price_cents: 265,
                    },
                    BracketConfig {
                        up_to: None,
                        price_cents: 415,
                    },
                ],
            },
            TariffConfig {
                service: "SOIR".into(),
                label: "Accueil du soir".into(),
                price_cents: Some(183),
                brackets: vec![],
            },
            TariffConfig {
                service: "MIDI".into(),
                label: "Accueil 12h15".into(),
                price_cents: Some(0),
                brackets: vec![],
            },
        ])
        .unwrap()
    }

    fn b(payer: i64, child: i64, name: &str, day: u32, service: &str) -> BookedService {
        BookedService {
            payer: PayerId(payer),
            child: ChildId(child),
            child_name: name.into(),
            date: NaiveDate::from_ymd_opt(2014, 11, day).unwrap(),
            service: ServiceCode::parse(service).unwrap(),
        }
    }

    #[test]
    fn lines_per_child_and_service_with_bracket_prices() {
        let month = InvoiceMonth::parse("2014-11").unwrap();
        let bookings = vec![
            b(1, 11, "Zoé MARSONE", 3, "REPAS"),
            b(1, 11, "Zoé MARSONE", 4, "REPAS"),
            b(1, 11, "Zoé MARSONE", 4, "SOIR"),
            b(1, 10, "Léo MARSONE", 3, "REPAS"),
            b(2, 20, "Inès DURAND", 6, "REPAS"),
            b(3, 30, "Noé MARTIN", 6, "MIDI"),
        ];
        let quotients = BTreeMap::from([
            (PayerId(1), Some(QuotientFamilial(650))),
            (PayerId(2), None),
            (PayerId(3), Some(QuotientFamilial(100))),
        ]);
        let invoices = draft_invoices(month, &bookings, &quotients, &tariffs()).unwrap();
        assert_eq!(
            invoices.len(),
            2,
            "payer 3 owes nothing and gets no invoice"
        );
        let first = &invoices[0];
        assert_eq!(first.payer, PayerId(1));
        let summary: Vec<(&str, &str, u32, i64, i64)> = first
            .lines
            .iter()
            .map(|l| {
                (
                    l.child_name.as_str(),
                    l.service.as_str(),
                    l.quantity,
                    l.unit_price.0,
                    l.amount.0,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Léo MARSONE", "REPAS", 1, 265, 265),
                ("Zoé MARSONE", "REPAS", 2, 265, 530),
                ("Zoé MARSONE", "SOIR", 1, 183, 183),
            ]
        );
        assert_eq!(first.total, Cents(978));
        assert_eq!(invoices[1].total, Cents(415), "no quotient: full price");
    }

    #[test]
    fn bad_input_is_an_error_not_a_guess() {
        let month = InvoiceMonth::parse("2014-11").unwrap();
        let q = BTreeMap::from([(PayerId(1), None)]);
        let t = tariffs();
        let mut outside = b(1, 1, "A", 1, "REPAS");
        outside.date = NaiveDate::from_ymd_opt(2014, 12, 1).unwrap();
        assert!(matches!(
            draft_invoices(month, &[outside], &q, &t),
            Err(InvoiceError::OutsideMonth { .. })
        ));
        let twice = [b(1, 1, "A", 3, "REPAS"), b(1, 1, "A", 3, "REPAS")];
        assert!(matches!(
            draft_invoices(month, &twice, &q, &t),
            Err(InvoiceError::DuplicateBooking(_))
        ));
        assert_eq!(
            draft_invoices(month, &[b(9, 1, "A", 3, "REPAS")], &q, &t),
            Err(InvoiceError::UnknownPayer(9))
        );
        assert_eq!(
            draft_invoices(month, &[b(1, 1, "A", 3, "MATIN")], &q, &t),
            Err(InvoiceError::NoTariff("MATIN".into()))
        );
        assert_eq!(draft_invoices(month, &[], &q, &t), Ok(vec![]));
    }

    #[test]
    fn months_parse_and_print() {
        let m = InvoiceMonth::parse("2014-12").unwrap();
        assert_eq!(m.to_string(), "2014-12");
        assert_eq!(m.label_fr(), "décembre 2014");
        assert_eq!(m.last_day(), NaiveDate::from_ymd_opt(2014, 12, 31).unwrap());
        assert_eq!(
            InvoiceMonth::parse("2016-02").unwrap().last_day(),
            NaiveDate::from_ymd_opt(2016, 2, 29).unwrap()
        );
        assert_eq!(
            m.due_date(0),
            NaiveDate::from_ymd_opt(2014, 12, 31).unwrap()
        );
        for bad in ["2014-13", "2014-1", "14-01", "2014/01", "2014-00", ""] {
            assert!(InvoiceMonth::parse(bad).is_err(), "{bad}");
        }
    }
}
