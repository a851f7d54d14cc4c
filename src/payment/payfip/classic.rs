//! PayFiP classic redirect (`/tpa/paiement.web`): the query we send and the unsigned result
//! that comes back to `urlcl`.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use url::Url;

use super::{Exer, NumCli, Objet, RefDet, Saisie, outcome_of_resultrans};
use crate::booking::model::Cents;
use crate::payment::{PaymentError, PaymentOutcome};

/// One classic payment request; store it before redirecting, to check the return against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassicRequest {
    /// The town's client number.
    pub numcli: NumCli,
    /// The year of the debt.
    pub exer: Exer,
    /// The debt's reference (the invoice number without dashes).
    pub refdet: RefDet,
    /// The label shown to the payer.
    pub objet: Objet,
    /// The amount in cents, strictly positive.
    pub montant: Cents,
    /// The payer's e-mail.
    pub mel: String,
    /// Where PayFiP sends the result.
    pub urlcl: String,
    /// The environment (sent with its classic code, `A` in production).
    pub saisie: Saisie,
}

impl ClassicRequest {
    /// The URL the browser is redirected to: `base` (the `paiement.web` page) with the query.
    pub fn redirect_url(&self, base: &str) -> Result<Url, PaymentError> {
        if self.montant.0 <= 0 {
            return Err(PaymentError::bad("montant", "montant positif attendu"));
        }
        if !self.mel.contains('@') || self.mel.contains(char::is_whitespace) {
            return Err(PaymentError::bad("mel", "adresse invalide"));
        }
        let mut url =
            Url::parse(base).map_err(|e| PaymentError::bad("classic_url", e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("numcli", self.numcli.as_str())
            .append_pair("exer", &self.exer.to_string())
            .append_pair("refdet", self.refdet.as_str())
            .append_pair("objet", self.objet.as_str())
            .append_pair("montant", &self.montant.0.to_string())
            .append_pair("mel", &self.mel)
            .append_pair("urlcl", &self.urlcl)
            .append_pair("saisie", self.saisie.classic_code());
        Ok(url)
    }
}

/// The result PayFiP sends back to `urlcl` (query or form body), read case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassicReturn {
    /// Echoed client number.
    pub numcli: String,
    /// Echoed year.
    pub exer: String,
    /// Echoed debt reference.
    pub refdet: String,
    /// Echoed amount, in cents.
    pub montant: Cents,
    /// `resultrans` as received.
    pub resultrans: String,
    /// What `resultrans` means.
    pub outcome: PaymentOutcome,
    /// `numauto`: the authorisation number, when paid.
    pub numauto: Option<String>,
    /// `dattrans` + `heurtrans` (`DDMMYYYY`, `HHMM`, the DGFiP's local time), when given.
    pub at: Option<NaiveDateTime>,
}

/// Finds a field by name, ignoring case; a name present twice is refused.
pub(crate) fn field_ci<'a>(
    fields: &'a [(String, String)],
    name: &str,
) -> Result<Option<&'a str>, PaymentError> {
    let mut found = None;
    for (n, v) in fields {
        if n.eq_ignore_ascii_case(name) && found.replace(v.as_str()).is_some() {
            return Err(PaymentError::DuplicateField(name.to_owned()));
        }
    }
    Ok(found)
}

fn required_ci<'a>(fields: &'a [(String, String)], name: &str) -> Result<&'a str, PaymentError> {
    match field_ci(fields, name)? {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(PaymentError::MissingField(name.to_owned())),
    }
}

/// Reads `dattrans` (`DDMMYYYY`) and `heurtrans` (`HHMM`).
pub fn parse_dattrans(dattrans: &str, heurtrans: &str) -> Result<NaiveDateTime, PaymentError> {
    let date = NaiveDate::parse_from_str(dattrans, "%d%m%Y")
        .map_err(|_| PaymentError::bad("dattrans", "JJMMAAAA attendu"))?;
    let time = NaiveTime::parse_from_str(heurtrans, "%H%M")
        .map_err(|_| PaymentError::bad("heurtrans", "HHMM attendu"))?;
    Ok(date.and_time(time))
}

/// Reads a `montant` in cents.
pub fn parse_montant(s: &str) -> Result<Cents, PaymentError> {
    if s.is_empty() || s.len() > 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PaymentError::bad("montant", "montant en centimes attendu"));
    }
    s.parse::<i64>()
        .map(Cents)
        .map_err(|_| PaymentError::bad("montant", "montant en centimes attendu"))
}

impl ClassicReturn {
    /// Reads the returned fields (names in any case).
    pub fn parse(fields: &[(String, String)]) -> Result<Self, PaymentError> {
        let resultrans = required_ci(fields, "resultrans")?;
        let at = match (
            field_ci(fields, "dattrans")?.filter(|s| !s.is_empty()),
            field_ci(fields, "heurtrans")?.filter(|s| !s.is_empty()),
        ) {
            (Some(d), Some(h)) => Some(parse_dattrans(d, h)?),
            _ => None,
        };
        Ok(Self {
            numcli: required_ci(fields, "numcli")?.to_owned(),
            exer: required_ci(fields, "exer")?.to_owned(),
            refdet: required_ci(fields, "refdet")?.to_owned(),
            montant: parse_montant(required_ci(fields, "montant")?)?,
            resultrans: resultrans.to_owned(),
            outcome: outcome_of_resultrans(resultrans),
            numauto: field_ci(fields, "numauto")?
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            at,
        })
    }

    /// Trusts the return only where it matches the stored request: the classic protocol signs
    /// nothing, so a forged return for another debt or amount must change nothing.
    pub fn check_against(&self, stored: &ClassicRequest) -> Result<(), PaymentError> {
        if self.numcli != stored.numcli.as_str() {
            return Err(PaymentError::Mismatch("numcli"));
        }
        if Exer::parse(&self.exer).ok() != Some(stored.exer) {
            return Err(PaymentError::Mismatch("exer"));
        }
        if self.refdet != stored.refdet.as_str() {
            return Err(PaymentError::Mismatch("refdet"));
        }
        if self.montant != stored.montant {
            return Err(PaymentError::Mismatch("montant"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ClassicRequest {
        ClassicRequest {
            numcli: NumCli::parse("123456").unwrap(),
            exer: Exer::new(2014).unwrap(),
            refdet: RefDet::parse("2014003000162").unwrap(),
            objet: Objet::sanitize("Facture 2014-003-000162, cantine et garderie").unwrap(),
            montant: Cents(5830),
            mel: "parent@example.org".into(),
            urlcl: "https://mairie.example/payfip/retour?p=7".into(),
            saisie: Saisie::Production,
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn redirect_carries_every_field_encoded() {
        let url = request()
            .redirect_url("https://pay.example/tpa/paiement.web")
            .unwrap();
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            q,
            pairs(&[
                ("numcli", "123456"),
                ("exer", "2014"),
                ("refdet", "2014003000162"),
                ("objet", "Facture 2014 003 000162 cantine et garderie"),
                ("montant", "5830"),
                ("mel", "parent@example.org"),
                ("urlcl", "https://mairie.example/payfip/retour?p=7"),
                ("saisie", "A"),
            ])
        );
        assert!(url.as_str().contains("urlcl=https%3A%2F%2Fmairie.example"));
    }

    #[test]
    fn return_is_read_case_insensitively_and_checked() {
        let fields = pairs(&[
            ("NUMCLI", "123456"),
            ("Exer", "2014"),
            ("refdet", "2014003000162"),
            ("MONTANT", "5830"),
            ("resultrans", "P"),
            ("numauto", "A1B2C3"),
            ("dattrans", "05032014"),
            ("heurtrans", "1432"),
        ]);
        let r = ClassicReturn::parse(&fields).unwrap();
        assert_eq!(r.outcome, PaymentOutcome::Paid);
        assert_eq!(r.numauto.as_deref(), Some("A1B2C3"));
        assert_eq!(
            r.at,
            Some(
                NaiveDate::from_ymd_opt(2014, 3, 5)
                    .unwrap()
                    .and_hms_opt(14, 32, 0)
                    .unwrap()
            )
        );
        r.check_against(&request()).unwrap();
    }

    #[test]
    fn forged_returns_do_not_match() {
        let base = [
            ("numcli", "123456"),
            ("exer", "2014"),
            ("refdet", "2014003000162"),
            ("montant", "5830"),
            ("resultrans", "P"),
        ];
        for (field, value) in [
            ("numcli", "654321"),
            ("exer", "2015"),
            ("refdet", "2014003000163"),
            ("montant", "1"),
        ] {
            let forged: Vec<(String, String)> = base
                .iter()
                .map(|(n, v)| {
                    let v = if *n == field { value } else { v };
                    ((*n).to_owned(), v.to_owned())
                })
                .collect();
            let r = ClassicReturn::parse(&forged).unwrap();
            assert!(
                matches!(r.check_against(&request()), Err(PaymentError::Mismatch(f)) if f == field),
                "{field}"
            );
        }
    }

    #[test]
    fn missing_duplicate_and_malformed_fields_are_errors() {
        let no_result = pairs(&[
            ("numcli", "123456"),
            ("exer", "2014"),
            ("refdet", "2014003000162"),
            ("montant", "5830"),
        ]);
        assert_eq!(
            ClassicReturn::parse(&no_result),
            Err(PaymentError::MissingField("resultrans".into()))
        );
        let twice = pairs(&[
            ("numcli", "123456"),
            ("exer", "2014"),
            ("refdet", "2014003000162"),
            ("montant", "5830"),
            ("resultrans", "R"),
            ("RESULTRANS", "P"),
        ]);
        assert!(matches!(
            ClassicReturn::parse(&twice),
            Err(PaymentError::DuplicateField(_))
        ));
        assert!(parse_dattrans("31022014", "1200").is_err());
        assert!(parse_dattrans("28022014", "2460").is_err());
        assert!(parse_montant("58,30").is_err());
    }
}
