//! DTMF carried in SIP INFO bodies, the two formats trunks and phones use:
//! - `application/dtmf-relay` (Cisco-style): lines `Signal=5` and `Duration=160`;
//! - `application/dtmf`: the body is the key itself, `5`.
//!
//! Both are read tolerantly (any case, spaces around `=` and the value, `\n` or `\r\n`), and a
//! key may be written as its character or as its RFC 4733 event code (`Signal=11` is `#`).
//! Each INFO transaction is one press; retransmissions are absorbed by the SIP transaction
//! layer, so there is no state here.

use super::super::digit::Digit;
use super::super::error::CoreError;

/// The two DTMF content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoFormat {
    /// `application/dtmf-relay`.
    DtmfRelay,
    /// `application/dtmf`.
    Dtmf,
}

impl InfoFormat {
    /// The format of a `Content-Type` value (parameters and case ignored); `None` for any
    /// other type, so the caller can answer 415.
    pub fn from_content_type(content_type: &str) -> Option<InfoFormat> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/dtmf-relay") {
            Some(InfoFormat::DtmfRelay)
        } else if media.eq_ignore_ascii_case("application/dtmf") {
            Some(InfoFormat::Dtmf)
        } else {
            None
        }
    }
}

/// The digit of an INFO body given its `Content-Type`.
pub fn parse_info(content_type: &str, body: &[u8]) -> Result<Digit, CoreError> {
    match InfoFormat::from_content_type(content_type) {
        Some(InfoFormat::DtmfRelay) => parse_dtmf_relay(body),
        Some(InfoFormat::Dtmf) => parse_dtmf(body),
        None => Err(CoreError::NotDtmfInfo),
    }
}

/// Reads an `application/dtmf-relay` body (`Signal=` is required; `Duration=` is not needed
/// to count the press and is not checked).
pub fn parse_dtmf_relay(body: &[u8]) -> Result<Digit, CoreError> {
    let text = std::str::from_utf8(body).map_err(|_| CoreError::BadInfoBody("not UTF-8"))?;
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim().eq_ignore_ascii_case("signal") {
            return key_value(value.trim());
        }
    }
    Err(CoreError::BadInfoBody("no Signal= line"))
}

/// Reads an `application/dtmf` body: the key alone.
pub fn parse_dtmf(body: &[u8]) -> Result<Digit, CoreError> {
    let text = std::str::from_utf8(body).map_err(|_| CoreError::BadInfoBody("not UTF-8"))?;
    key_value(text.trim())
}

fn key_value(v: &str) -> Result<Digit, CoreError> {
    let mut chars = v.chars();
    match (chars.next(), chars.next(), chars.next()) {
        (Some(c), None, _) => Digit::from_char(c).ok_or(CoreError::BadInfoBody("not a DTMF key")),
        // Two digits: an event code 10–15 (RFC 4733 §3.2).
        (Some(_), Some(_), None) => v
            .parse::<u8>()
            .ok()
            .filter(|code| (10..16).contains(code))
            .and_then(Digit::from_event_code)
            .ok_or(CoreError::BadInfoBody("not a DTMF key")),
        (None, ..) => Err(CoreError::BadInfoBody("empty key")),
        _ => Err(CoreError::BadInfoBody("not a DTMF key")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(r: Result<Digit, CoreError>) -> char {
        r.unwrap().to_char()
    }

    #[test]
    fn dtmf_relay_bodies() {
        assert_eq!(
            c(parse_info(
                "application/dtmf-relay",
                b"Signal=5\r\nDuration=160\r\n"
            )),
            '5'
        );
        assert_eq!(
            c(parse_info(
                "Application/DTMF-Relay; charset=utf-8",
                b"signal = *\nduration=100"
            )),
            '*'
        );
        assert_eq!(c(parse_dtmf_relay(b"Duration= 250\r\nSIGNAL= #\r\n")), '#');
        assert_eq!(c(parse_dtmf_relay(b"Signal=11\r\nDuration=160")), '#');
        assert_eq!(c(parse_dtmf_relay(b"Signal=10")), '*');
        assert_eq!(c(parse_dtmf_relay(b"Signal=d")), 'D');
    }

    #[test]
    fn dtmf_bodies() {
        assert_eq!(c(parse_info("application/dtmf", b"5")), '5');
        assert_eq!(c(parse_info("application/dtmf", b" 0\r\n")), '0');
        assert_eq!(c(parse_dtmf(b"11")), '#');
    }

    #[test]
    fn bad_bodies_are_errors_not_panics() {
        for body in [
            &b""[..],
            b"Signal=",
            b"Signal=55",
            b"Signal=x",
            b"Duration=160",
            b"\xff\xfe",
            b"Signal=12345",
            b"Signal=9\xff",
        ] {
            assert!(parse_dtmf_relay(body).is_err(), "{body:?}");
        }
        for body in [&b""[..], b"55", b"5 6", b"\xff", b"09"] {
            assert!(parse_dtmf(body).is_err(), "{body:?}");
        }
        assert_eq!(parse_info("text/plain", b"5"), Err(CoreError::NotDtmfInfo));
    }
}
