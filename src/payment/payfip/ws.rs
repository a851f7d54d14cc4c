//! PayFiP web-service client: `creerPaiementSecurise` and `recupererDetailPaiementSecurise`
//! over HTTPS (reqwest with rustls), plus the pieces around them (the browser's payment page
//! URL, the `idOp` of a notification).

use std::time::Duration;

use url::Url;

use super::PayFipConfig;
use super::classic::field_ci;
use super::soap::{self, CreerPaiement, DetailPaiement, IdOp};
use crate::payment::PaymentError;

/// A client of the web service at one endpoint.
#[derive(Debug, Clone)]
pub struct PayFipWsClient {
    http: reqwest::Client,
    endpoint: String,
    payment_url: String,
}

impl PayFipWsClient {
    /// A client for the configured endpoint.
    pub fn from_config(config: &PayFipConfig) -> Result<Self, PaymentError> {
        Url::parse(&config.ws_endpoint)
            .map_err(|e| PaymentError::bad("ws_endpoint", e.to_string()))?;
        Url::parse(&config.ws_payment_url)
            .map_err(|e| PaymentError::bad("ws_payment_url", e.to_string()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.ws_timeout_secs.max(1)))
            .build()
            .map_err(|e| PaymentError::Transport(e.to_string()))?;
        Ok(Self {
            http,
            endpoint: config.ws_endpoint.clone(),
            payment_url: config.ws_payment_url.clone(),
        })
    }

    async fn call(&self, body: String) -> Result<String, PaymentError> {
        let response = self
            .http
            .post(&self.endpoint)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", "\"\"")
            .body(body)
            .send()
            .await
            .map_err(|e| PaymentError::Transport(e.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| PaymentError::Transport(e.to_string()))?;
        // SOAP 1.1 sends faults with status 500: read the body whatever the status, and call it
        // a transport error only when it is not a SOAP message.
        if !status.is_success() && !text.contains("Envelope") {
            return Err(PaymentError::Transport(format!("HTTP {status}")));
        }
        Ok(text)
    }

    /// `creerPaiementSecurise`: registers the payment and returns its `idOp`.
    pub async fn create_payment(&self, args: &CreerPaiement) -> Result<IdOp, PaymentError> {
        if args.montant.0 <= 0 {
            return Err(PaymentError::bad("montant", "montant positif attendu"));
        }
        let xml = self.call(soap::creer_request(args)).await?;
        soap::parse_creer_response(&xml)
    }

    /// `recupererDetailPaiementSecurise`: the authoritative result of an operation.
    /// [`PaymentError::Pending`] (fault `P5`) means "ask again later".
    pub async fn payment_detail(&self, id_op: &IdOp) -> Result<DetailPaiement, PaymentError> {
        let xml = self.call(soap::detail_request(id_op)).await?;
        let detail = soap::parse_detail_response(&xml)?;
        if detail.id_op != *id_op {
            return Err(PaymentError::Mismatch("idOp"));
        }
        Ok(detail)
    }

    /// The page the browser is sent to for this operation.
    pub fn payment_page(&self, id_op: &IdOp) -> Url {
        let mut url = Url::parse(&self.payment_url).expect("checked in from_config");
        url.query_pairs_mut().append_pair("idop", id_op.as_str());
        url
    }
}

/// The `idOp` of a notification to `urlnotif` (or of the browser's return to `urlredirect`):
/// PayFiP writes `idOp` or `idop`, in the query or the form body; pass the fields of both.
pub fn notified_id_op(fields: &[(String, String)]) -> Result<IdOp, PaymentError> {
    match field_ci(fields, "idop")? {
        Some(v) if !v.is_empty() => IdOp::parse(v),
        _ => Err(PaymentError::MissingField("idOp".into())),
    }
}

/// The `idOp` of a notification given its raw query string and form body (PayFiP may use
/// either); the same value in both is fine, two different values are refused.
pub fn notified_id_op_from(query: Option<&str>, body: &[u8]) -> Result<IdOp, PaymentError> {
    let from_query = query.map(|q| notified_id_op(&decode_form(q.as_bytes())));
    let from_body = notified_id_op(&decode_form(body));
    match (from_query, from_body) {
        (Some(Ok(a)), Ok(b)) if a != b => Err(PaymentError::DuplicateField("idOp".into())),
        (Some(Ok(a)), _) => Ok(a),
        (_, Ok(b)) => Ok(b),
        (Some(Err(e)), Err(PaymentError::MissingField(_))) => Err(e),
        (_, Err(e)) => Err(e),
    }
}

/// An `application/x-www-form-urlencoded` body or query, in order, repeats kept.
fn decode_form(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_id_from_query_or_body() {
        assert_eq!(
            notified_id_op_from(Some("idop=a1"), b"").unwrap().as_str(),
            "a1"
        );
        assert_eq!(
            notified_id_op_from(None, b"idOp=b2").unwrap().as_str(),
            "b2"
        );
        assert_eq!(
            notified_id_op_from(Some("x=1"), b"idOp=b2")
                .unwrap()
                .as_str(),
            "b2"
        );
        assert_eq!(
            notified_id_op_from(Some("idop=c3"), b"idOp=c3")
                .unwrap()
                .as_str(),
            "c3"
        );
        assert!(notified_id_op_from(Some("idop=c3"), b"idOp=d4").is_err());
        assert_eq!(
            notified_id_op_from(Some("x=1"), b"y=2"),
            Err(PaymentError::MissingField("idOp".into()))
        );
        assert!(notified_id_op_from(Some("idop=../x"), b"").is_err());
    }

    #[test]
    fn notification_id_is_read_in_any_case() {
        let f = |n: &str| vec![(n.to_owned(), "op-1".to_owned())];
        assert_eq!(notified_id_op(&f("idOp")).unwrap().as_str(), "op-1");
        assert_eq!(notified_id_op(&f("idop")).unwrap().as_str(), "op-1");
        assert!(notified_id_op(&f("other")).is_err());
        let twice = vec![
            ("idop".to_owned(), "a".to_owned()),
            ("idOp".to_owned(), "b".to_owned()),
        ];
        assert!(notified_id_op(&twice).is_err());
    }
}
