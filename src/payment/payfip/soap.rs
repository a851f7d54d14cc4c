//! The PayFiP web service's SOAP 1.1 messages, built and read with quick-xml.
//!
//! Used by both sides: our client ([`super::ws`]) and the local stand-in
//! (`payment::standin::payfip`). Elements are matched by local name, so any namespace
//! prefix the server chooses is read the same.

use std::fmt;

use chrono::NaiveDateTime;
use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesText, Event};

use super::classic::{parse_dattrans, parse_montant};
use super::{Exer, NumCli, Objet, RefDet, Saisie, outcome_of_resultrans};
use crate::booking::model::Cents;
use crate::payment::{PaymentError, PaymentOutcome};

/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The namespace of PayFiP's `PaiementSecuriseService`.
pub const SERVICE_NS: &str = "http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/contrat_paiement_securise/PaiementSecuriseService";

/// The identifier of a web-service payment operation (`idOp`), valid 15 minutes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdOp(String);

impl IdOp {
    /// Checks the format: 1 to 64 letters, digits, `-` or `_`.
    pub fn parse(s: &str) -> Result<Self, PaymentError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(PaymentError::bad(
                "idOp",
                "identifiant d'opération invalide",
            ))
        }
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The arguments of `creerPaiementSecurise`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreerPaiement {
    /// Year of the debt.
    pub exer: Exer,
    /// Payer's e-mail.
    pub mel: String,
    /// Amount in cents.
    pub montant: Cents,
    /// Town's client number.
    pub numcli: NumCli,
    /// Label.
    pub objet: Objet,
    /// Debt reference.
    pub refdet: RefDet,
    /// Environment (sent with its web-service code, `W` in production).
    pub saisie: Saisie,
    /// Where PayFiP notifies the end of the payment (server to server).
    pub urlnotif: String,
    /// Where PayFiP sends the browser back.
    pub urlredirect: String,
}

/// The answer of `recupererDetailPaiementSecurise`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailPaiement {
    /// The operation.
    pub id_op: IdOp,
    /// Echoed client number.
    pub numcli: String,
    /// Echoed year.
    pub exer: String,
    /// Echoed debt reference.
    pub refdet: String,
    /// Echoed amount.
    pub montant: Cents,
    /// Echoed e-mail.
    pub mel: String,
    /// Echoed label.
    pub objet: String,
    /// Echoed environment code.
    pub saisie: String,
    /// `P`/`V` paid, `R`/`Z` refused, `A` abandoned.
    pub resultrans: String,
    /// Authorisation number, when paid.
    pub numauto: Option<String>,
    /// `DDMMYYYY`.
    pub dattrans: Option<String>,
    /// `HHMM`.
    pub heurtrans: Option<String>,
}

impl DetailPaiement {
    /// What `resultrans` means.
    pub fn outcome(&self) -> PaymentOutcome {
        outcome_of_resultrans(&self.resultrans)
    }

    /// The transaction's date and time, when given and well formed.
    pub fn at(&self) -> Option<NaiveDateTime> {
        match (&self.dattrans, &self.heurtrans) {
            (Some(d), Some(h)) => parse_dattrans(d, h).ok(),
            _ => None,
        }
    }

    /// Checks that the detail is about the debt we asked to be paid.
    pub fn check_against(&self, stored: &CreerPaiement) -> Result<(), PaymentError> {
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

/// A call received by the web service (the stand-in's side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapCall {
    /// `creerPaiementSecurise`.
    Creer(CreerPaiement),
    /// `recupererDetailPaiementSecurise`.
    Detail(IdOp),
}

fn envelope(body: impl FnOnce(&mut Writer<Vec<u8>>) -> std::io::Result<()>) -> String {
    let mut w = Writer::new(Vec::with_capacity(1024));
    w.create_element("soapenv:Envelope")
        .with_attribute(("xmlns:soapenv", SOAP_ENV_NS))
        .with_attribute(("xmlns:pai", SERVICE_NS))
        .write_inner_content(|w| {
            w.create_element("soapenv:Body").write_inner_content(body)?;
            Ok(())
        })
        .expect("writing to memory cannot fail");
    String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8")
}

fn leaf(w: &mut Writer<Vec<u8>>, name: &str, text: &str) -> std::io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(text))?;
    Ok(())
}

/// The `creerPaiementSecurise` request.
pub fn creer_request(args: &CreerPaiement) -> String {
    envelope(|w| {
        w.create_element("pai:creerPaiementSecurise")
            .write_inner_content(|w| {
                w.create_element("arg0").write_inner_content(|w| {
                    leaf(w, "exer", &args.exer.to_string())?;
                    leaf(w, "mel", &args.mel)?;
                    leaf(w, "montant", &args.montant.0.to_string())?;
                    leaf(w, "numcli", args.numcli.as_str())?;
                    leaf(w, "objet", args.objet.as_str())?;
                    leaf(w, "refdet", args.refdet.as_str())?;
                    leaf(w, "saisie", args.saisie.ws_code())?;
                    leaf(w, "urlnotif", &args.urlnotif)?;
                    leaf(w, "urlredirect", &args.urlredirect)
                })?;
                Ok(())
            })?;
        Ok(())
    })
}

/// The `recupererDetailPaiementSecurise` request.
pub fn detail_request(id_op: &IdOp) -> String {
    envelope(|w| {
        w.create_element("pai:recupererDetailPaiementSecurise")
            .write_inner_content(|w| {
                w.create_element("arg0")
                    .write_inner_content(|w| leaf(w, "idOp", id_op.as_str()))?;
                Ok(())
            })?;
        Ok(())
    })
}

/// The `creerPaiementSecurise` answer (the stand-in's side).
pub fn creer_response(id_op: &IdOp) -> String {
    envelope(|w| {
        w.create_element("pai:creerPaiementSecuriseResponse")
            .write_inner_content(|w| {
                w.create_element("return")
                    .write_inner_content(|w| leaf(w, "idOp", id_op.as_str()))?;
                Ok(())
            })?;
        Ok(())
    })
}

/// The `recupererDetailPaiementSecurise` answer (the stand-in's side).
pub fn detail_response(d: &DetailPaiement) -> String {
    envelope(|w| {
        w.create_element("pai:recupererDetailPaiementSecuriseResponse")
            .write_inner_content(|w| {
                w.create_element("return").write_inner_content(|w| {
                    leaf(w, "dattrans", d.dattrans.as_deref().unwrap_or(""))?;
                    leaf(w, "exer", &d.exer)?;
                    leaf(w, "heurtrans", d.heurtrans.as_deref().unwrap_or(""))?;
                    leaf(w, "idOp", d.id_op.as_str())?;
                    leaf(w, "mel", &d.mel)?;
                    leaf(w, "montant", &d.montant.0.to_string())?;
                    leaf(w, "numauto", d.numauto.as_deref().unwrap_or(""))?;
                    leaf(w, "numcli", &d.numcli)?;
                    leaf(w, "objet", &d.objet)?;
                    leaf(w, "refdet", &d.refdet)?;
                    leaf(w, "resultrans", &d.resultrans)?;
                    leaf(w, "saisie", &d.saisie)
                })?;
                Ok(())
            })?;
        Ok(())
    })
}

/// A functional fault (`FonctionnelleErreur`) such as `P1` or `P5` (the stand-in's side).
pub fn fault_response(code: &str, libelle: &str) -> String {
    let mut w = Writer::new(Vec::with_capacity(512));
    w.create_element("S:Envelope")
        .with_attribute(("xmlns:S", SOAP_ENV_NS))
        .write_inner_content(|w| {
            w.create_element("S:Body").write_inner_content(|w| {
                w.create_element("S:Fault").write_inner_content(|w| {
                    leaf(w, "faultcode", "S:Server")?;
                    leaf(w, "faultstring", libelle)?;
                    w.create_element("detail").write_inner_content(|w| {
                        w.create_element("ns1:FonctionnelleErreur")
                            .with_attribute(("xmlns:ns1", SERVICE_NS))
                            .write_inner_content(|w| {
                                leaf(w, "code", code)?;
                                leaf(w, "descriptif", libelle)?;
                                leaf(w, "libelle", libelle)?;
                                leaf(w, "severite", "2")
                            })?;
                        Ok(())
                    })?;
                    Ok(())
                })?;
                Ok(())
            })?;
            Ok(())
        })
        .expect("writing to memory cannot fail");
    String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8")
}

/// An XML message flattened to what these messages need: the operation (first element in
/// the `Body`), whether it is a `Fault`, and every leaf element's text by local name.
#[derive(Debug, Default)]
struct Flat {
    operation: Option<String>,
    fault: bool,
    leaves: Vec<(String, String)>,
}

impl Flat {
    fn parse(xml: &str) -> Result<Self, PaymentError> {
        let bad = |e: &dyn fmt::Display| PaymentError::BadResponse(format!("XML : {e}"));
        let mut reader = Reader::from_str(xml);
        reader.config_mut().trim_text(true);
        let mut flat = Flat::default();
        let mut stack: Vec<String> = Vec::new();
        // The text of the element currently open, if it has no children.
        let mut text = String::new();
        loop {
            match reader.read_event().map_err(|e| bad(&e))? {
                Event::Start(e) => {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    flat.note_open(&stack, &name);
                    stack.push(name);
                    text.clear();
                }
                Event::Empty(e) => {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    flat.note_open(&stack, &name);
                    flat.leaves.push((name, String::new()));
                }
                Event::Text(t) => text.push_str(&t.unescape().map_err(|e| bad(&e))?),
                Event::CData(c) => text.push_str(&String::from_utf8_lossy(&c.into_inner())),
                Event::End(_) => {
                    if let Some(name) = stack.pop() {
                        flat.leaves.push((name, std::mem::take(&mut text)));
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if flat.operation.is_none() {
            return Err(PaymentError::BadResponse("pas d'enveloppe SOAP".into()));
        }
        Ok(flat)
    }

    fn note_open(&mut self, stack: &[String], name: &str) {
        if stack.last().is_some_and(|p| p == "Body") && self.operation.is_none() {
            self.operation = Some(name.to_owned());
        }
        if name == "Fault" {
            self.fault = true;
        }
    }

    /// The first leaf named `name` (ASCII case ignored: servers write `idOp` or `idop`).
    fn get(&self, name: &str) -> Option<&str> {
        self.leaves
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &str) -> Result<&str, PaymentError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| PaymentError::MissingField(name.to_owned()))
    }

    fn optional(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// Turns a fault into its error: `P5` pending, `P1` unknown operation, others as is.
    fn fault_error(&self) -> PaymentError {
        let code = self.get("code").unwrap_or("").to_owned();
        let message = self
            .get("libelle")
            .or_else(|| self.get("faultstring"))
            .unwrap_or("")
            .to_owned();
        match code.as_str() {
            "P5" => PaymentError::Pending,
            "P1" => PaymentError::UnknownOperation,
            _ => PaymentError::Fault { code, message },
        }
    }

    fn expect_operation(&self, op: &str) -> Result<(), PaymentError> {
        if self.fault {
            return Err(self.fault_error());
        }
        match &self.operation {
            Some(o) if o == op => Ok(()),
            other => Err(PaymentError::BadResponse(format!(
                "opération {other:?} au lieu de {op}"
            ))),
        }
    }
}

/// Reads the answer to `creerPaiementSecurise`.
pub fn parse_creer_response(xml: &str) -> Result<IdOp, PaymentError> {
    let flat = Flat::parse(xml)?;
    flat.expect_operation("creerPaiementSecuriseResponse")?;
    IdOp::parse(flat.required("idOp")?)
}

/// Reads the answer to `recupererDetailPaiementSecurise`; faults `P5`/`P1` become
/// [`PaymentError::Pending`] / [`PaymentError::UnknownOperation`].
pub fn parse_detail_response(xml: &str) -> Result<DetailPaiement, PaymentError> {
    let flat = Flat::parse(xml)?;
    flat.expect_operation("recupererDetailPaiementSecuriseResponse")?;
    Ok(DetailPaiement {
        id_op: IdOp::parse(flat.required("idOp")?)?,
        numcli: flat.required("numcli")?.to_owned(),
        exer: flat.required("exer")?.to_owned(),
        refdet: flat.required("refdet")?.to_owned(),
        montant: parse_montant(flat.required("montant")?)?,
        mel: flat.get("mel").unwrap_or("").to_owned(),
        objet: flat.get("objet").unwrap_or("").to_owned(),
        saisie: flat.get("saisie").unwrap_or("").to_owned(),
        resultrans: flat.required("resultrans")?.to_owned(),
        numauto: flat.optional("numauto"),
        dattrans: flat.optional("dattrans"),
        heurtrans: flat.optional("heurtrans"),
    })
}

/// Reads a call received by the web service (the stand-in's side), checking every argument.
pub fn parse_call(xml: &str) -> Result<SoapCall, PaymentError> {
    let flat = Flat::parse(xml)?;
    match flat.operation.as_deref() {
        Some("creerPaiementSecurise") => Ok(SoapCall::Creer(CreerPaiement {
            exer: Exer::parse(flat.required("exer")?)?,
            mel: flat.required("mel")?.to_owned(),
            montant: parse_montant(flat.required("montant")?)?,
            numcli: NumCli::parse(flat.required("numcli")?)?,
            objet: Objet::parse(flat.required("objet")?)?,
            refdet: RefDet::parse(flat.required("refdet")?)?,
            saisie: Saisie::parse(flat.required("saisie")?)?,
            urlnotif: flat.required("urlnotif")?.to_owned(),
            urlredirect: flat.required("urlredirect")?.to_owned(),
        })),
        Some("recupererDetailPaiementSecurise") => {
            Ok(SoapCall::Detail(IdOp::parse(flat.required("idOp")?)?))
        }
        other => Err(PaymentError::BadResponse(format!(
            "opération inconnue {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creer() -> CreerPaiement {
        CreerPaiement {
            exer: Exer::new(2014).unwrap(),
            mel: "parent+x@example.org".into(),
            montant: Cents(5830),
            numcli: NumCli::parse("123456").unwrap(),
            objet: Objet::sanitize("Facture 2014-003-000162").unwrap(),
            refdet: RefDet::parse("2014003000162").unwrap(),
            saisie: Saisie::Production,
            urlnotif: "https://mairie.example/payfip/notif?a=1&b=2".into(),
            urlredirect: "https://mairie.example/payfip/retour".into(),
        }
    }

    #[test]
    fn creer_round_trips_with_escaping_and_ws_code() {
        let xml = creer_request(&creer());
        assert!(xml.contains("<saisie>W</saisie>"), "{xml}");
        assert!(xml.contains("notif?a=1&amp;b=2"), "{xml}");
        assert_eq!(parse_call(&xml).unwrap(), SoapCall::Creer(creer()));
        let id = IdOp::parse("a1b2-c3").unwrap();
        assert_eq!(parse_creer_response(&creer_response(&id)).unwrap(), id);
    }

    #[test]
    fn detail_round_trips() {
        let id = IdOp::parse("op42").unwrap();
        assert_eq!(
            parse_call(&detail_request(&id)).unwrap(),
            SoapCall::Detail(id.clone())
        );
        let d = DetailPaiement {
            id_op: id,
            numcli: "123456".into(),
            exer: "2014".into(),
            refdet: "2014003000162".into(),
            montant: Cents(5830),
            mel: "parent@example.org".into(),
            objet: "Facture 2014 003 000162".into(),
            saisie: "W".into(),
            resultrans: "P".into(),
            numauto: Some("123ABC".into()),
            dattrans: Some("05032014".into()),
            heurtrans: Some("1432".into()),
        };
        let back = parse_detail_response(&detail_response(&d)).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.outcome(), PaymentOutcome::Paid);
        back.check_against(&creer()).unwrap();
        let mut other = d.clone();
        other.montant = Cents(1);
        assert_eq!(
            other.check_against(&creer()),
            Err(PaymentError::Mismatch("montant"))
        );
    }

    #[test]
    fn faults_map_to_errors() {
        assert_eq!(
            parse_detail_response(&fault_response("P5", "Résultat non connu")),
            Err(PaymentError::Pending)
        );
        assert_eq!(
            parse_detail_response(&fault_response("P1", "IdOp incorrect")),
            Err(PaymentError::UnknownOperation)
        );
        assert_eq!(
            parse_creer_response(&fault_response(
                "R3",
                "Format du paramètre MONTANT incorrect"
            )),
            Err(PaymentError::Fault {
                code: "R3".into(),
                message: "Format du paramètre MONTANT incorrect".into()
            })
        );
    }

    /// A response written by another server: other prefixes, `idop` in lower case.
    #[test]
    fn foreign_prefixes_and_case_are_read() {
        let xml = r#"<?xml version="1.0"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><ns2:recupererDetailPaiementSecuriseResponse xmlns:ns2="x"><return><dattrans>05032014</dattrans><exer>2014</exer><heurtrans>1432</heurtrans><idop>op42</idop><mel>a@b.c</mel><montant>5830</montant><numauto/><numcli>123456</numcli><objet>x</objet><refdet>2014003000162</refdet><resultrans>A</resultrans><saisie>T</saisie></return></ns2:recupererDetailPaiementSecuriseResponse></S:Body></S:Envelope>"#;
        let d = parse_detail_response(xml).unwrap();
        assert_eq!(d.id_op.as_str(), "op42");
        assert_eq!(d.outcome(), PaymentOutcome::Abandoned);
        assert_eq!(d.numauto, None);
        assert!(matches!(
            parse_detail_response("<html>502</html>"),
            Err(PaymentError::BadResponse(_))
        ));
        assert!(matches!(
            parse_detail_response("<a><b></a>"),
            Err(PaymentError::BadResponse(_))
        ));
    }
}
