//! SystemPay (Lyra, same protocol as PayZen): the hosted payment form and its notifications.
//!
//! The browser POSTs a form of `vads_*` fields plus a `signature` to the provider's
//! `/vads-payment/` page; at the end the provider POSTs an instant payment notification (IPN)
//! to our server, signed the same way, and sends the browser back with the same fields (minus
//! `vads_hash`), which we only display. The signature (PAYMENTS.md, "Signature"): every field
//! whose name starts with `vads_`, empty ones included, sorted by name; their values joined
//! with `+`; `+` and the key appended; HMAC-SHA-256 keyed with the key; Base64.
//!
//! Everything here is pure: the instant of the form and the transaction counter are passed in.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{PaymentError, PaymentOutcome};
use crate::booking::model::Cents;

/// The prefix of the fields that are signed.
pub const SIGNED_PREFIX: &str = "vads_";
/// The name of the field that carries the signature.
pub const SIGNATURE_FIELD: &str = "signature";
/// ISO 4217 numeric code of the euro.
pub const CURRENCY_EURO: &str = "978";
/// The largest transaction number SystemPay accepts (`000000`-`899999`).
pub const MAX_TRANS_ID: u32 = 899_999;

/// `vads_ctx_mode`: which of the shop's two keys signs the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CtxMode {
    /// Test mode: no money moves; signed with the test key.
    Test,
    /// Production: real payments; signed with the production key.
    Production,
}

impl CtxMode {
    /// The protocol's word.
    pub fn as_str(self) -> &'static str {
        match self {
            CtxMode::Test => "TEST",
            CtxMode::Production => "PRODUCTION",
        }
    }

    /// Reads the protocol's word.
    pub fn parse(s: &str) -> Result<Self, PaymentError> {
        match s {
            "TEST" => Ok(CtxMode::Test),
            "PRODUCTION" => Ok(CtxMode::Production),
            other => Err(PaymentError::UnknownMode(other.to_owned())),
        }
    }
}

/// `vads_site_id`: the shop's identifier, 8 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SiteId(String);

impl SiteId {
    /// Checks that `s` is 8 ASCII digits.
    pub fn parse(s: &str) -> Result<Self, PaymentError> {
        if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(PaymentError::bad("vads_site_id", "8 chiffres attendus"))
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A shop key (test or production). Secret: its `Debug` is redacted and it is never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct ShopKey(String);

impl ShopKey {
    /// Wraps a key; an empty key is refused (it would make signatures forgeable).
    pub fn new(key: &str) -> Result<Self, PaymentError> {
        if key.is_empty() {
            Err(PaymentError::bad("clé", "clé vide"))
        } else {
            Ok(Self(key.to_owned()))
        }
    }
}

impl fmt::Debug for ShopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShopKey(***)")
    }
}

/// The shop's keys: the test key always, the production key once the shop is live.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Signs `TEST` messages; `None` refuses every test message.
    pub test: Option<ShopKey>,
    /// Signs `PRODUCTION` messages; `None` refuses every production message.
    pub production: Option<ShopKey>,
}

impl Keys {
    /// The key of `mode`.
    pub fn for_mode(&self, mode: CtxMode) -> Result<&ShopKey, PaymentError> {
        match mode {
            CtxMode::Test => self.test.as_ref().ok_or(PaymentError::NoKeyForMode("TEST")),
            CtxMode::Production => self
                .production
                .as_ref()
                .ok_or(PaymentError::NoKeyForMode("PRODUCTION")),
        }
    }
}

/// `vads_trans_id`: six digits, `000000` to `899999`, unique per shop and per UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransId(u32);

impl TransId {
    /// The id for the `counter`-th payment form of a UTC day (0-based).
    ///
    /// This is the pure half of the allocation; the counter itself must be atomic per
    /// (shop, UTC day) — at integration a database row `UPDATE ... SET n = n + 1 RETURNING n`
    /// in the transaction that records the payment request (see [`TransIdCounter`]).
    pub fn from_daily_counter(counter: u64) -> Result<Self, PaymentError> {
        match u32::try_from(counter) {
            Ok(n) if n <= MAX_TRANS_ID => Ok(Self(n)),
            _ => Err(PaymentError::TransIdsExhausted),
        }
    }

    /// Reads a received `vads_trans_id`.
    pub fn parse(s: &str) -> Result<Self, PaymentError> {
        let bad = || PaymentError::bad("vads_trans_id", "6 chiffres de 000000 à 899999 attendus");
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u32 = s.parse().map_err(|_| bad())?;
        if n > MAX_TRANS_ID {
            return Err(bad());
        }
        Ok(Self(n))
    }

    /// The number.
    pub fn value(self) -> u32 {
        self.0
    }
}

impl fmt::Display for TransId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

/// The UTC day a transaction id belongs to (uniqueness is per shop and per UTC day).
pub fn trans_day(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

/// The per-(shop, UTC day) counter behind [`TransId::from_daily_counter`].
///
/// The store implements it with a row per (site, day) incremented in the same transaction
/// that records the payment request; [`MemoryTransIdCounter`] serves the stand-ins and demos.
pub trait TransIdCounter {
    /// Returns the next value (0 for the day's first form) for `site` on `day`.
    fn next_for(&self, site: &SiteId, day: NaiveDate) -> u64;
}

/// An in-process [`TransIdCounter`] (one process only: not for several nodes).
#[derive(Debug, Default)]
pub struct MemoryTransIdCounter {
    counters: Mutex<HashMap<(String, NaiveDate), u64>>,
}

impl TransIdCounter for MemoryTransIdCounter {
    fn next_for(&self, site: &SiteId, day: NaiveDate) -> u64 {
        let mut map = self
            .counters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let n = map.entry((site.0.clone(), day)).or_insert(0);
        let value = *n;
        *n += 1;
        value
    }
}

/// Allocates the transaction id of a form made at `now`.
pub fn allocate_trans_id(
    counter: &impl TransIdCounter,
    site: &SiteId,
    now: DateTime<Utc>,
) -> Result<TransId, PaymentError> {
    TransId::from_daily_counter(counter.next_for(site, trans_day(now)))
}

/// The test key of the provider's published signature example, for tests of the signature
/// and of the stand-in. Never a default: a shop without its own key offers no card payment.
pub const EXAMPLE_TEST_KEY: &str = "1122334455667788";

/// The `[systempay]` section of the configuration (its `Debug` hides the keys).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SystemPayConfig {
    /// Shop id given by the bank (`vads_site_id`, 8 digits).
    pub site_id: String,
    /// `TEST` or `PRODUCTION`: the mode of the forms we send, and so the key that signs them.
    pub mode: CtxMode,
    /// The test key (Back Office, Settings > Shop > Keys). No default: without the key of
    /// `mode`, card payment is not offered (`ivr demo` makes one for its stand-in).
    pub test_key: String,
    /// The production key; empty until the shop goes live (production messages are refused).
    pub production_key: String,
    /// Where the browser posts the form: the provider's `/vads-payment/` page, or the local
    /// stand-in's (`ivr fake-provider`) in tests and demos.
    pub payment_url: String,
}

impl fmt::Debug for SystemPayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemPayConfig")
            .field("site_id", &self.site_id)
            .field("mode", &self.mode)
            .field("test_key", &"***")
            .field("production_key", &"***")
            .field("payment_url", &self.payment_url)
            .finish()
    }
}

impl Default for SystemPayConfig {
    fn default() -> Self {
        Self {
            site_id: "12345678".to_owned(),
            mode: CtxMode::Test,
            test_key: String::new(),
            production_key: String::new(),
            payment_url: "http://127.0.0.1:8089/vads-payment/".to_owned(),
        }
    }
}

/// Where the provider sends the browser back and where it notifies our server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnUrls {
    /// `vads_url_return`: the default return page.
    pub return_url: String,
    /// `vads_url_success`, when it differs from `return_url`.
    pub success: Option<String>,
    /// `vads_url_refused`, when it differs from `return_url`.
    pub refused: Option<String>,
    /// `vads_url_cancel`, when it differs from `return_url`.
    pub cancel: Option<String>,
    /// `vads_url_check`: the IPN URL, overriding the one set in the Back Office.
    pub notification: Option<String>,
}

/// One payment form to build.
#[derive(Debug, Clone)]
pub struct PaymentRequest {
    /// From [`allocate_trans_id`], for the UTC day of `trans_date`.
    pub trans_id: TransId,
    /// The instant the form is made (`vads_trans_date`, UTC).
    pub trans_date: DateTime<Utc>,
    /// The amount, in cents (`vads_amount`), strictly positive.
    pub amount: Cents,
    /// Our reference (`vads_order_id`): letters, digits, `-` and `_`, at most 64.
    pub order_id: String,
    /// The payer's e-mail (`vads_cust_email`), if known.
    pub customer_email: Option<String>,
    /// Return and notification URLs.
    pub urls: ReturnUrls,
}

/// A signed form, ready to be rendered as hidden inputs and posted by the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentForm {
    /// The form's `action`.
    pub action: String,
    /// Every field, `signature` last.
    pub fields: Vec<(String, String)>,
}

impl PaymentForm {
    /// The value of a field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A verified message from SystemPay: an IPN (it has `vads_hash`) or a browser return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The mode whose key verified it.
    pub mode: CtxMode,
    /// `vads_trans_id`.
    pub trans_id: TransId,
    /// The UTC day of `vads_trans_date`: with `trans_id` it identifies the transaction.
    pub trans_day: NaiveDate,
    /// `vads_order_id`: our reference.
    pub order_id: String,
    /// `vads_amount`, in cents.
    pub amount: Cents,
    /// `vads_trans_status` as received.
    pub status: String,
    /// What the status means for us.
    pub outcome: PaymentOutcome,
    /// `vads_result` (`00` ok, `05` refused, `17` cancelled...), if present.
    pub result: Option<String>,
    /// `vads_url_check_src` (`PAY`, `BO`, `RETRY`...), only in IPNs.
    pub source: Option<String>,
    /// `vads_hash`, only in IPNs.
    pub hash: Option<String>,
}

impl Notification {
    /// True for a server-to-server notification, the only kind that may change an invoice;
    /// a browser return (no `vads_hash`) is for display only.
    pub fn is_server_notification(&self) -> bool {
        self.hash.is_some()
    }

    /// The provider's transaction key for the payments table's UNIQUE (provider, transaction).
    pub fn transaction_key(&self) -> String {
        format!("{}-{}", self.trans_day.format("%Y%m%d"), self.trans_id)
    }
}

/// What `vads_trans_status` means for the invoice.
pub fn outcome_of_status(status: &str) -> PaymentOutcome {
    match status {
        "AUTHORISED" | "CAPTURED" | "AUTHORISED_TO_VALIDATE" => PaymentOutcome::Paid,
        "REFUSED" | "EXPIRED" | "CAPTURE_FAILED" => PaymentOutcome::Refused,
        "ABANDONED" | "CANCELLED" => PaymentOutcome::Abandoned,
        _ => PaymentOutcome::Unknown,
    }
}

/// Computes the signature over the `vads_` fields of `fields` (any order) with `key`.
///
/// Fields that do not start with `vads_` (such as `signature` itself) are ignored; a `vads_`
/// field given twice is refused, since which value was signed would be ambiguous.
pub fn sign<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &ShopKey,
) -> Result<String, PaymentError> {
    let mut signed: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, value) in fields {
        if name.starts_with(SIGNED_PREFIX) && signed.insert(name, value).is_some() {
            return Err(PaymentError::DuplicateField(name.to_owned()));
        }
    }
    Ok(sign_sorted(&signed, key))
}

fn sign_sorted(signed: &BTreeMap<&str, &str>, key: &ShopKey) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.0.as_bytes()).expect("HMAC accepts keys of any length");
    // Values joined by '+', then '+' and the key; fed piecewise to avoid building the string.
    for value in signed.values() {
        mac.update(value.as_bytes());
        mac.update(b"+");
    }
    mac.update(key.0.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks the signature of received fields with the key of their `vads_ctx_mode`, in
/// constant time; returns the mode and the fields by name.
pub fn verify_signature<'a>(
    fields: &'a [(String, String)],
    keys: &Keys,
) -> Result<(CtxMode, BTreeMap<&'a str, &'a str>), PaymentError> {
    let mut signed: BTreeMap<&str, &str> = BTreeMap::new();
    let mut signature: Option<&str> = None;
    for (name, value) in fields {
        if name.starts_with(SIGNED_PREFIX) {
            if signed.insert(name, value).is_some() {
                return Err(PaymentError::DuplicateField(name.clone()));
            }
        } else if name == SIGNATURE_FIELD && signature.replace(value).is_some() {
            return Err(PaymentError::DuplicateField(SIGNATURE_FIELD.to_owned()));
        }
    }
    let signature = signature.ok_or_else(|| PaymentError::MissingField(SIGNATURE_FIELD.into()))?;
    let mode = signed
        .get("vads_ctx_mode")
        .ok_or_else(|| PaymentError::MissingField("vads_ctx_mode".into()))?;
    let mode = CtxMode::parse(mode)?;
    let expected = sign_sorted(&signed, keys.for_mode(mode)?);
    if bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        Ok((mode, signed))
    } else {
        Err(PaymentError::BadSignature)
    }
}

fn required<'a>(fields: &BTreeMap<&str, &'a str>, name: &str) -> Result<&'a str, PaymentError> {
    match fields.get(name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(PaymentError::MissingField(name.to_owned())),
    }
}

fn parse_trans_date(s: &str) -> Result<NaiveDateTime, PaymentError> {
    NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S")
        .map_err(|_| PaymentError::bad("vads_trans_date", "AAAAMMJJHHMMSS attendu"))
}

fn parse_amount(field: &str, s: &str) -> Result<Cents, PaymentError> {
    if s.is_empty() || s.len() > 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PaymentError::bad(field, "montant en centimes attendu"));
    }
    s.parse::<i64>()
        .map(Cents)
        .map_err(|_| PaymentError::bad(field, "montant en centimes attendu"))
}

fn check_order_id(s: &str) -> Result<(), PaymentError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(PaymentError::bad(
            "vads_order_id",
            "1 à 64 lettres, chiffres, - ou _",
        ))
    }
}

/// A configured SystemPay shop: builds signed forms and verifies what comes back.
#[derive(Debug, Clone)]
pub struct SystemPay {
    site_id: SiteId,
    mode: CtxMode,
    keys: Keys,
    payment_url: String,
}

impl SystemPay {
    /// Checks the configuration once (DESIGN.md: a bad setting is a load-time error).
    pub fn from_config(config: &SystemPayConfig) -> Result<Self, PaymentError> {
        let keys = Keys {
            test: if config.test_key.is_empty() {
                None
            } else {
                Some(ShopKey::new(&config.test_key)?)
            },
            production: if config.production_key.is_empty() {
                None
            } else {
                Some(ShopKey::new(&config.production_key)?)
            },
        };
        keys.for_mode(config.mode)?;
        if config.payment_url.is_empty() {
            return Err(PaymentError::bad("payment_url", "adresse vide"));
        }
        Ok(Self {
            site_id: SiteId::parse(&config.site_id)?,
            mode: config.mode,
            keys,
            payment_url: config.payment_url.clone(),
        })
    }

    /// The shop id.
    pub fn site_id(&self) -> &SiteId {
        &self.site_id
    }

    /// The mode of the forms this shop sends.
    pub fn mode(&self) -> CtxMode {
        self.mode
    }

    /// Builds the signed form for one payment.
    pub fn form(&self, req: &PaymentRequest) -> Result<PaymentForm, PaymentError> {
        if req.amount.0 <= 0 {
            return Err(PaymentError::bad("vads_amount", "montant positif attendu"));
        }
        check_order_id(&req.order_id)?;
        if let Some(mail) = &req.customer_email
            && (mail.len() > 150 || !mail.contains('@') || mail.contains(char::is_whitespace))
        {
            return Err(PaymentError::bad("vads_cust_email", "adresse invalide"));
        }
        let mut fields: Vec<(String, String)> = Vec::with_capacity(20);
        let mut put = |name: &str, value: String| fields.push((name.to_owned(), value));
        put("vads_action_mode", "INTERACTIVE".into());
        put("vads_amount", req.amount.0.to_string());
        put("vads_ctx_mode", self.mode.as_str().into());
        put("vads_currency", CURRENCY_EURO.into());
        if let Some(mail) = &req.customer_email {
            put("vads_cust_email", mail.clone());
        }
        put("vads_order_id", req.order_id.clone());
        put("vads_page_action", "PAYMENT".into());
        put("vads_payment_config", "SINGLE".into());
        // GET: the browser comes back with the result fields in the query (display only).
        put("vads_return_mode", "GET".into());
        put("vads_site_id", self.site_id.0.clone());
        put(
            "vads_trans_date",
            req.trans_date.format("%Y%m%d%H%M%S").to_string(),
        );
        put("vads_trans_id", req.trans_id.to_string());
        if let Some(u) = &req.urls.cancel {
            put("vads_url_cancel", u.clone());
        }
        if let Some(u) = &req.urls.notification {
            put("vads_url_check", u.clone());
        }
        if let Some(u) = &req.urls.refused {
            put("vads_url_refused", u.clone());
        }
        put("vads_url_return", req.urls.return_url.clone());
        if let Some(u) = &req.urls.success {
            put("vads_url_success", u.clone());
        }
        put("vads_version", "V2".into());
        let signature = sign(
            fields.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            self.keys.for_mode(self.mode)?,
        )?;
        fields.push((SIGNATURE_FIELD.to_owned(), signature));
        Ok(PaymentForm {
            action: self.payment_url.clone(),
            fields,
        })
    }

    /// Verifies an IPN or a browser return (every received field, as decoded from the body or
    /// query) and reads it. The signature is checked with the key of the received mode; a
    /// genuine message of the other mode (a test payment reaching a production shop) is then
    /// refused, since no real money moved. The caller must still check the amount against
    /// the stored order.
    pub fn verify(&self, fields: &[(String, String)]) -> Result<Notification, PaymentError> {
        let (mode, f) = verify_signature(fields, &self.keys)?;
        if mode != self.mode {
            return Err(PaymentError::ModeMismatch {
                expected: self.mode.as_str(),
                received: mode.as_str(),
            });
        }
        let site = required(&f, "vads_site_id")?;
        if site != self.site_id.0 {
            return Err(PaymentError::WrongShop(site.to_owned()));
        }
        let order_id = required(&f, "vads_order_id")?;
        check_order_id(order_id)?;
        let status = required(&f, "vads_trans_status")?;
        let optional = |name: &str| {
            f.get(name)
                .filter(|v| !v.is_empty())
                .map(|v| (*v).to_owned())
        };
        Ok(Notification {
            mode,
            trans_id: TransId::parse(required(&f, "vads_trans_id")?)?,
            trans_day: parse_trans_date(required(&f, "vads_trans_date")?)?.date(),
            order_id: order_id.to_owned(),
            amount: parse_amount("vads_amount", required(&f, "vads_amount")?)?,
            status: status.to_owned(),
            outcome: outcome_of_status(status),
            result: optional("vads_result"),
            source: optional("vads_url_check_src"),
            hash: optional("vads_hash"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The worked example of the provider's guide ("Computing the signature", HMAC-SHA-256):
    /// these ten fields and the test key 1122334455667788 give
    /// `ycA5Do5tNvsnKdc/eP1bj2xa19z9q3iWPy9/rpesfS0=`. Checked independently with
    /// `printf '%s' 'INTERACTIVE+5124+TEST+978+PAYMENT+SINGLE+12345678+20170129130025+123456+V2+1122334455667788' | openssl dgst -sha256 -hmac 1122334455667788 -binary | base64`.
    #[test]
    fn signature_reproduces_the_published_example() {
        let key = ShopKey::new("1122334455667788").unwrap();
        // Deliberately unsorted, with a non-vads field that must be ignored.
        let fields = [
            ("vads_version", "V2"),
            ("vads_site_id", "12345678"),
            ("vads_action_mode", "INTERACTIVE"),
            ("pay", "Payer"),
            ("vads_amount", "5124"),
            ("vads_ctx_mode", "TEST"),
            ("vads_currency", "978"),
            ("vads_page_action", "PAYMENT"),
            ("vads_payment_config", "SINGLE"),
            ("vads_trans_date", "20170129130025"),
            ("vads_trans_id", "123456"),
        ];
        assert_eq!(
            sign(fields, &key).unwrap(),
            "ycA5Do5tNvsnKdc/eP1bj2xa19z9q3iWPy9/rpesfS0="
        );
    }

    /// Empty `vads_` fields count (an empty value between two `+`).
    #[test]
    fn empty_fields_are_signed() {
        let key = ShopKey::new("1122334455667788").unwrap();
        let with_empty = sign([("vads_a", "1"), ("vads_b", ""), ("vads_c", "2")], &key).unwrap();
        let without = sign([("vads_a", "1"), ("vads_c", "2")], &key).unwrap();
        assert_ne!(with_empty, without);
        // `printf '%s' '1++2+1122334455667788' | openssl dgst -sha256 -hmac 1122334455667788 -binary | base64`
        assert_eq!(with_empty, "2EwbMUmJlWs8OPc5G/8+5MYrLzpwnwIvGbf+JTZCzU0=");
    }

    #[test]
    fn duplicate_signed_fields_are_refused() {
        let key = ShopKey::new("k").unwrap();
        assert_eq!(
            sign([("vads_a", "1"), ("vads_a", "2")], &key),
            Err(PaymentError::DuplicateField("vads_a".into()))
        );
    }

    #[test]
    fn trans_ids_cover_six_digits_up_to_899999() {
        assert_eq!(
            TransId::from_daily_counter(0).unwrap().to_string(),
            "000000"
        );
        assert_eq!(
            TransId::from_daily_counter(162).unwrap().to_string(),
            "000162"
        );
        assert_eq!(
            TransId::from_daily_counter(899_999).unwrap().to_string(),
            "899999"
        );
        assert_eq!(
            TransId::from_daily_counter(900_000),
            Err(PaymentError::TransIdsExhausted)
        );
        assert_eq!(TransId::parse("000162").unwrap().value(), 162);
        for bad in ["900000", "12345", "1234567", "12a456", ""] {
            assert!(TransId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn memory_counter_restarts_each_utc_day_and_per_shop() {
        let c = MemoryTransIdCounter::default();
        let a = SiteId::parse("12345678").unwrap();
        let b = SiteId::parse("87654321").unwrap();
        // 23:59:59 UTC and 00:00:00 UTC the next day: a new day, even though it is
        // already the next day in Paris at 23:59:59 UTC.
        let late = Utc.with_ymd_and_hms(2026, 3, 9, 23, 59, 59).unwrap();
        let next = Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap();
        assert_eq!(allocate_trans_id(&c, &a, late).unwrap().value(), 0);
        assert_eq!(allocate_trans_id(&c, &a, late).unwrap().value(), 1);
        assert_eq!(allocate_trans_id(&c, &b, late).unwrap().value(), 0);
        assert_eq!(allocate_trans_id(&c, &a, next).unwrap().value(), 0);
    }

    #[test]
    fn statuses_map_to_outcomes() {
        for s in ["AUTHORISED", "CAPTURED", "AUTHORISED_TO_VALIDATE"] {
            assert_eq!(outcome_of_status(s), PaymentOutcome::Paid, "{s}");
        }
        for s in ["REFUSED", "EXPIRED", "CAPTURE_FAILED"] {
            assert_eq!(outcome_of_status(s), PaymentOutcome::Refused, "{s}");
        }
        for s in ["ABANDONED", "CANCELLED"] {
            assert_eq!(outcome_of_status(s), PaymentOutcome::Abandoned, "{s}");
        }
        for s in [
            "WAITING_AUTHORISATION",
            "UNDER_VERIFICATION",
            "",
            "authorised",
        ] {
            assert_eq!(outcome_of_status(s), PaymentOutcome::Unknown, "{s}");
        }
    }

    fn shop() -> SystemPay {
        SystemPay::from_config(&SystemPayConfig {
            test_key: EXAMPLE_TEST_KEY.into(),
            ..Default::default()
        })
        .unwrap()
    }

    fn request(amount: i64) -> PaymentRequest {
        PaymentRequest {
            trans_id: TransId::from_daily_counter(162).unwrap(),
            trans_date: Utc.with_ymd_and_hms(2014, 12, 3, 8, 5, 9).unwrap(),
            amount: Cents(amount),
            order_id: "P-000042".into(),
            customer_email: Some("parent@example.org".into()),
            urls: ReturnUrls {
                return_url: "https://mairie.example/retour".into(),
                success: None,
                refused: None,
                cancel: None,
                notification: Some("https://mairie.example/ipn".into()),
            },
        }
    }

    #[test]
    fn form_has_the_required_fields_sorted_and_signed() {
        let form = shop().form(&request(5830)).unwrap();
        let names: Vec<&str> = form.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "vads_action_mode",
                "vads_amount",
                "vads_ctx_mode",
                "vads_currency",
                "vads_cust_email",
                "vads_order_id",
                "vads_page_action",
                "vads_payment_config",
                "vads_return_mode",
                "vads_site_id",
                "vads_trans_date",
                "vads_trans_id",
                "vads_url_check",
                "vads_url_return",
                "vads_version",
                "signature",
            ]
        );
        for (name, value) in [
            ("vads_action_mode", "INTERACTIVE"),
            ("vads_amount", "5830"),
            ("vads_ctx_mode", "TEST"),
            ("vads_currency", "978"),
            ("vads_page_action", "PAYMENT"),
            ("vads_payment_config", "SINGLE"),
            ("vads_site_id", "12345678"),
            ("vads_trans_date", "20141203080509"),
            ("vads_trans_id", "000162"),
            ("vads_version", "V2"),
        ] {
            assert_eq!(form.field(name), Some(value), "{name}");
        }
        let keys = Keys {
            test: Some(ShopKey::new(EXAMPLE_TEST_KEY).unwrap()),
            production: None,
        };
        assert_eq!(
            verify_signature(&form.fields, &keys).unwrap().0,
            CtxMode::Test
        );
    }

    #[test]
    fn bad_requests_are_refused() {
        assert!(shop().form(&request(0)).is_err());
        let mut r = request(100);
        r.order_id = "P 42".into();
        assert!(shop().form(&r).is_err());
        let mut r = request(100);
        r.customer_email = Some("pas une adresse".into());
        assert!(shop().form(&r).is_err());
    }

    #[test]
    fn another_shops_message_is_refused() {
        let other = SystemPay::from_config(&SystemPayConfig {
            site_id: "87654321".into(),
            test_key: EXAMPLE_TEST_KEY.into(),
            ..Default::default()
        })
        .unwrap();
        let mut fields = other.form(&request(100)).unwrap().fields;
        fields.retain(|(n, _)| n != SIGNATURE_FIELD);
        fields.push(("vads_trans_status".into(), "AUTHORISED".into()));
        let sig = sign(
            fields.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            &ShopKey::new(EXAMPLE_TEST_KEY).unwrap(),
        )
        .unwrap();
        fields.push((SIGNATURE_FIELD.into(), sig));
        assert!(other.verify(&fields).is_ok());
        assert_eq!(
            shop().verify(&fields),
            Err(PaymentError::WrongShop("87654321".into()))
        );
    }

    /// Signs `fields` plus a status as the provider would, with `key`.
    fn provider_message(mut fields: Vec<(String, String)>, key: &str) -> Vec<(String, String)> {
        fields.retain(|(n, _)| n != SIGNATURE_FIELD);
        fields.push(("vads_trans_status".into(), "AUTHORISED".into()));
        fields.push(("vads_hash".into(), "ab".repeat(32)));
        let sig = sign(
            fields.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            &ShopKey::new(key).unwrap(),
        )
        .unwrap();
        fields.push((SIGNATURE_FIELD.into(), sig));
        fields
    }

    #[test]
    fn each_mode_is_verified_with_its_key_and_only_the_shops_mode_counts() {
        let prod = SystemPay::from_config(&SystemPayConfig {
            mode: CtxMode::Production,
            production_key: "prod-key".into(),
            test_key: EXAMPLE_TEST_KEY.into(),
            ..Default::default()
        })
        .unwrap();
        let form = prod.form(&request(5830)).unwrap();
        assert_eq!(form.field("vads_ctx_mode"), Some("PRODUCTION"));
        let genuine = provider_message(form.fields.clone(), "prod-key");
        let n = prod.verify(&genuine).unwrap();
        assert_eq!(
            (n.mode, n.outcome),
            (CtxMode::Production, PaymentOutcome::Paid)
        );
        // Claiming PRODUCTION but signed with the test key: forged.
        let forged = provider_message(form.fields.clone(), EXAMPLE_TEST_KEY);
        assert_eq!(prod.verify(&forged), Err(PaymentError::BadSignature));
        // A genuine TEST payment reaching the production shop pays nothing.
        let test_form = shop().form(&request(5830)).unwrap();
        let test_msg = provider_message(test_form.fields, EXAMPLE_TEST_KEY);
        assert_eq!(
            prod.verify(&test_msg),
            Err(PaymentError::ModeMismatch {
                expected: "PRODUCTION",
                received: "TEST"
            })
        );
        // And a test shop without a production key refuses production messages.
        assert_eq!(
            shop().verify(&genuine),
            Err(PaymentError::NoKeyForMode("PRODUCTION"))
        );
    }

    /// Issue 13, finding 2: with `[systempay]` missing, the shop ran on the provider's public
    /// example key. Now there is no built-in key, so there is no shop.
    #[test]
    fn no_built_in_key() {
        assert_eq!(SystemPayConfig::default().test_key, "");
        assert_eq!(
            SystemPay::from_config(&SystemPayConfig::default()).unwrap_err(),
            PaymentError::NoKeyForMode("TEST")
        );
        let parsed: SystemPayConfig = toml::from_str("site_id = \"87654321\"").unwrap();
        assert!(SystemPay::from_config(&parsed).is_err());
    }

    #[test]
    fn config_debug_hides_keys() {
        let c = SystemPayConfig {
            production_key: "prod-secret".into(),
            test_key: "test-secret".into(),
            ..Default::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("prod-secret") && !shown.contains(&c.test_key));
        let parsed: SystemPayConfig =
            toml::from_str("site_id = \"87654321\"\nmode = \"PRODUCTION\"\nproduction_key = \"k\"")
                .unwrap();
        assert_eq!(parsed.mode, CtxMode::Production);
        assert!(SystemPay::from_config(&parsed).is_ok());
        let no_key = SystemPayConfig {
            mode: CtxMode::Production,
            ..Default::default()
        };
        assert_eq!(
            SystemPay::from_config(&no_key).unwrap_err(),
            PaymentError::NoKeyForMode("PRODUCTION")
        );
        assert!(toml::from_str::<SystemPayConfig>("site = \"1\"").is_err());
    }

    #[test]
    fn modes_parse_and_select_keys() {
        let keys = Keys {
            test: Some(ShopKey::new("t").unwrap()),
            production: None,
        };
        assert!(keys.for_mode(CtxMode::Test).is_ok());
        assert_eq!(
            keys.for_mode(CtxMode::Production),
            Err(PaymentError::NoKeyForMode("PRODUCTION"))
        );
        assert_eq!(
            CtxMode::parse("test"),
            Err(PaymentError::UnknownMode("test".into()))
        );
        assert_eq!(format!("{:?}", keys.test), "Some(ShopKey(***))");
        let none = Keys {
            test: None,
            production: None,
        };
        assert_eq!(
            none.for_mode(CtxMode::Test),
            Err(PaymentError::NoKeyForMode("TEST"))
        );
    }
}
