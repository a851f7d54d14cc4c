//! What the transport edge refuses before the SIP stack sees a message (RFC 3261 §8.2,
//! §18.3, §20; the torture cases of RFC 4475).
//!
//! Why here: rsipstack drops what it cannot make a transaction of (no Via, no CSeq, a CSeq it
//! cannot read) without a word, takes a wrong Content-Length as it comes, never looks at
//! `Require`, and reads at most 8 KB of a datagram, cutting the rest (issue 13, finding 10).
//! RFC 3261 wants an answer to each: 400, 420 Bad Extension, 505, 513 Message Too Large.
//!
//! Sans-IO: [`screen`] reads the bytes of one message and says whether it goes on, is
//! dropped, or is answered with the bytes it returns. It works on the text, not on a parse,
//! because the parse has already lost what it must see: the body beyond a Content-Length,
//! a Content-Length that does not parse, the second of two Call-IDs.

use std::borrow::Cow;

/// The largest SIP message we take, in bytes; over it, 513 (RFC 3261 §21.4.12).
///
/// rsipstack reads a datagram into 8 KB: the edge reads the whole datagram into a larger
/// buffer, so that a message over the limit is seen whole and answered, not cut and parsed
/// half. Our own INVITEs' answers are under 1 KB; a caller's INVITE rarely passes 4 KB.
pub const MAX_MESSAGE: usize = 8 * 1024;

/// CSeq numbers are below 2^31 (RFC 3261 §8.1.1.5).
const MAX_CSEQ: u64 = (1 << 31) - 1;

/// What the edge does with one message.
#[derive(Debug, PartialEq, Eq)]
pub enum Screened {
    /// The stack gets it.
    Pass,
    /// Nobody can be answered (a response, an ACK, bytes that are not SIP): dropped.
    Drop,
    /// Refused: `response` goes back to where the message came from.
    Answer {
        /// The status code sent (for the logs and the counters).
        status: u16,
        /// Why, in words (logged at debug; never a header value of the caller's).
        reason: &'static str,
        /// The whole response, ready to send.
        response: Vec<u8>,
    },
}

/// Screens one whole message (a datagram, or a message a stream framed), `limit` being the
/// largest size taken.
pub fn screen(message: &[u8], limit: usize) -> Screened {
    if message.iter().all(u8::is_ascii_whitespace) {
        // Keep-alives (RFC 5626 §3.5.1): the stack answers them.
        return Screened::Pass;
    }
    let Some(end) = find(message, b"\r\n\r\n") else {
        return refuse_raw(message, 400, "no end of the header section");
    };
    let head = String::from_utf8_lossy(&message[..end]);
    let body_len = message.len() - (end + 4);
    let mut lines = unfold(&head);
    let start = lines.next().unwrap_or_default();
    if start.starts_with("SIP/") {
        // A response: nobody to answer; an oversize one is not ours to take.
        return if message.len() > limit {
            Screened::Drop
        } else {
            Screened::Pass
        };
    }
    let head = Head::read(&start, lines);
    let Some(method) = head.method.as_deref() else {
        return Screened::Drop;
    };
    // No response to an ACK (RFC 3261 §17.1.1.3): a bad one is dropped.
    let answer = |status, reason| {
        if method == "ACK" {
            Screened::Drop
        } else {
            Screened::Answer {
                status,
                reason,
                response: head.response(status, reason, &[]),
            }
        }
    };
    if message.len() > limit {
        return answer(513, "Message Too Large");
    }
    if head.version != "SIP/2.0" {
        return answer(505, "Version Not Supported");
    }
    for (name, count) in [
        ("Via", head.vias.len()),
        ("From", head.from.len()),
        ("To", head.to.len()),
        ("Call-ID", head.call_ids.len()),
        ("CSeq", head.cseq.len()),
    ] {
        if count == 0 {
            return answer(400, missing(name));
        }
        if count > 1 && name != "Via" {
            return answer(400, several(name));
        }
    }
    if !cseq_is_valid(&head.cseq[0], method) {
        return answer(400, "Bad CSeq");
    }
    // RFC 3261 §18.3: a body shorter than its Content-Length is an error; bytes beyond it
    // are not the message's and the parser leaves them.
    let mut lengths = head.content_length.iter().map(|v| v.parse::<usize>());
    match lengths.next() {
        None => {}
        Some(Err(_)) => return answer(400, "Bad Content-Length"),
        Some(Ok(declared)) => {
            if lengths.any(|l| l != Ok(declared)) {
                return answer(400, "Conflicting Content-Length");
            }
            if declared > body_len {
                return answer(400, "Content-Length larger than the body");
            }
        }
    }
    // RFC 3261 §8.2.2.3: we support no extension a request may require (CANCEL and ACK
    // are exempt).
    if !head.require.is_empty() && method != "CANCEL" && method != "ACK" {
        let unsupported = format!("Unsupported: {}\r\n", head.require.join(", "));
        return Screened::Answer {
            status: 420,
            reason: "Bad Extension",
            response: head.response(420, "Bad Extension", &[&unsupported]),
        };
    }
    Screened::Pass
}

fn missing(name: &str) -> &'static str {
    match name {
        "Via" => "Missing Via",
        "From" => "Missing From",
        "To" => "Missing To",
        "Call-ID" => "Missing Call-ID",
        _ => "Missing CSeq",
    }
}

fn several(name: &str) -> &'static str {
    match name {
        "From" => "Several From",
        "To" => "Several To",
        "Call-ID" => "Several Call-ID",
        _ => "Several CSeq",
    }
}

/// `CSeq: <number below 2^31> <the request's method>` (RFC 3261 §20.16, §8.1.1.5).
fn cseq_is_valid(value: &str, method: &str) -> bool {
    let mut parts = value.split_ascii_whitespace();
    let (Some(number), Some(cseq_method), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let in_range = number.bytes().all(|b| b.is_ascii_digit())
        && number.parse::<u64>().is_ok_and(|n| n <= MAX_CSEQ);
    in_range && cseq_method == method
}

/// The header lines of a message, folded lines joined (RFC 3261 §7.3.1).
fn unfold(head: &str) -> impl Iterator<Item = Cow<'_, str>> {
    let mut lines = head.split("\r\n").peekable();
    std::iter::from_fn(move || {
        let first = lines.next()?;
        let mut line = Cow::Borrowed(first);
        while let Some(next) = lines.peek()
            && next.starts_with([' ', '\t'])
        {
            let joined = line.to_mut();
            joined.push(' ');
            joined.push_str(next.trim());
            lines.next();
        }
        Some(line)
    })
}

/// What the screen needs of a request's header section.
#[derive(Debug, Default)]
struct Head {
    method: Option<String>,
    version: String,
    /// Via header values, each as written (the response repeats them in order).
    vias: Vec<String>,
    from: Vec<String>,
    to: Vec<String>,
    call_ids: Vec<String>,
    cseq: Vec<String>,
    content_length: Vec<String>,
    require: Vec<String>,
}

impl Head {
    fn read<'a>(start: &str, lines: impl Iterator<Item = Cow<'a, str>>) -> Head {
        let mut parts = start.split(' ');
        let method = parts.next().filter(|m| is_token(m)).map(str::to_owned);
        let _uri = parts.next();
        let version = parts.next().unwrap_or_default().to_owned();
        let mut head = Head {
            method,
            version,
            ..Head::default()
        };
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            // Compact forms, RFC 3261 §7.3.3. Names are compared without case and values
            // copied only for the headers kept: this runs for every message received.
            let name = name.trim();
            let is = |long: &str, compact: &str| {
                name.eq_ignore_ascii_case(long) || name.eq_ignore_ascii_case(compact)
            };
            let value = value.trim();
            let list = if is("via", "v") {
                &mut head.vias
            } else if is("from", "f") {
                &mut head.from
            } else if is("to", "t") {
                &mut head.to
            } else if is("call-id", "i") {
                &mut head.call_ids
            } else if name.eq_ignore_ascii_case("cseq") {
                &mut head.cseq
            } else if is("content-length", "l") {
                &mut head.content_length
            } else if name.eq_ignore_ascii_case("require") {
                head.require.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|o| !o.is_empty())
                        .map(str::to_owned),
                );
                continue;
            } else {
                continue;
            };
            list.push(value.to_owned());
        }
        head
    }

    /// A response to this request with `status`: its Via, From, To (tagged), Call-ID and
    /// CSeq (RFC 3261 §8.2.6.2), then `extra` lines.
    fn response(&self, status: u16, reason: &str, extra: &[&str]) -> Vec<u8> {
        let mut out = format!("SIP/2.0 {status} {reason}\r\n");
        for via in &self.vias {
            out.push_str(&format!("Via: {via}\r\n"));
        }
        if let [from] = self.from.as_slice() {
            out.push_str(&format!("From: {from}\r\n"));
        }
        if let [to] = self.to.as_slice() {
            // The UAS tags the To of its response (RFC 3261 §8.2.6.2).
            let tagged = if to.to_ascii_lowercase().contains(";tag=") {
                to.clone()
            } else {
                format!("{to};tag={:08x}", rand::random::<u32>())
            };
            out.push_str(&format!("To: {tagged}\r\n"));
        }
        if let [id] = self.call_ids.as_slice() {
            out.push_str(&format!("Call-ID: {id}\r\n"));
        }
        if let [cseq] = self.cseq.as_slice() {
            out.push_str(&format!("CSeq: {cseq}\r\n"));
        }
        for line in extra {
            out.push_str(line);
        }
        out.push_str(concat!("Server: ivr/", env!("CARGO_PKG_VERSION"), "\r\n"));
        out.push_str("Content-Length: 0\r\n\r\n");
        out.into_bytes()
    }
}

/// A request whose header section does not even end: answered from what can be read of it.
fn refuse_raw(message: &[u8], status: u16, reason: &'static str) -> Screened {
    let text = String::from_utf8_lossy(message);
    let mut lines = unfold(&text);
    let start = lines.next().unwrap_or_default();
    if start.starts_with("SIP/") {
        return Screened::Drop;
    }
    let head = Head::read(&start, lines);
    match head.method.as_deref() {
        Some("ACK") | None => Screened::Drop,
        Some(_) if !head.version.starts_with("SIP/") => Screened::Drop,
        Some(_) => Screened::Answer {
            status,
            reason,
            response: head.response(status, reason, &[]),
        },
    }
}

/// RFC 3261 §25.1 `token`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &str = "OPTIONS sip:ivr@192.0.2.1 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKscreen1\r\n\
        Max-Forwards: 70\r\n\
        From: <sip:caller@192.0.2.9>;tag=abc\r\n\
        To: <sip:ivr@192.0.2.1>\r\n\
        Call-ID: screen-1\r\n\
        CSeq: 7 OPTIONS\r\n\
        Content-Length: 0\r\n\r\n";

    fn status(s: &Screened) -> Option<u16> {
        match s {
            Screened::Answer { status, .. } => Some(*status),
            _ => None,
        }
    }

    fn response(s: &Screened) -> String {
        match s {
            Screened::Answer { response, .. } => String::from_utf8(response.clone()).unwrap(),
            other => panic!("no answer: {other:?}"),
        }
    }

    #[test]
    fn a_well_formed_request_and_keepalives_pass() {
        assert_eq!(screen(OPTIONS.as_bytes(), MAX_MESSAGE), Screened::Pass);
        assert_eq!(screen(b"\r\n\r\n", MAX_MESSAGE), Screened::Pass);
        // Compact forms (RFC 3261 §7.3.3) and folded lines.
        let compact = "INVITE sip:ivr@192.0.2.1 SIP/2.0\r\nv: SIP/2.0/UDP 192.0.2.9\r\n \
            ;branch=z9hG4bKc\r\nf: <sip:a@b>;tag=1\r\nt: <sip:ivr@c>\r\ni: c1\r\n\
            CSeq: 1 INVITE\r\nl: 4\r\n\r\nabcdEXTRA";
        assert_eq!(screen(compact.as_bytes(), MAX_MESSAGE), Screened::Pass);
    }

    #[test]
    fn each_missing_or_repeated_mandatory_header_gets_400() {
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            let without: String = OPTIONS
                .split_inclusive("\r\n")
                .filter(|l| !l.starts_with(&format!("{name}:")))
                .collect();
            let s = screen(without.as_bytes(), MAX_MESSAGE);
            assert_eq!(status(&s), Some(400), "without {name}");
        }
        let twice = OPTIONS.replace("Call-ID: screen-1\r\n", "Call-ID: a\r\nCall-ID: b\r\n");
        assert_eq!(status(&screen(twice.as_bytes(), MAX_MESSAGE)), Some(400));
    }

    #[test]
    fn a_bad_cseq_gets_400() {
        for cseq in [
            "-1 OPTIONS",
            "x OPTIONS",
            "2147483648 OPTIONS",
            "36893488147419103232 OPTIONS",
            "7 INVITE",
            "7",
            "7 OPTIONS extra",
        ] {
            let msg = OPTIONS.replace("CSeq: 7 OPTIONS", &format!("CSeq: {cseq}"));
            assert_eq!(
                status(&screen(msg.as_bytes(), MAX_MESSAGE)),
                Some(400),
                "{cseq}"
            );
        }
        let top = OPTIONS.replace("CSeq: 7 OPTIONS", "CSeq: 2147483647 OPTIONS");
        assert_eq!(screen(top.as_bytes(), MAX_MESSAGE), Screened::Pass);
    }

    #[test]
    fn content_length_must_be_a_number_no_larger_than_the_body() {
        let with = |cl: &str, body: &str| {
            let msg = OPTIONS.replace("Content-Length: 0\r\n\r\n", &format!("{cl}\r\n{body}"));
            screen(msg.as_bytes(), MAX_MESSAGE)
        };
        assert_eq!(
            status(&with("Content-Length: 9999\r\n", "v=0\r\n")),
            Some(400)
        );
        assert_eq!(status(&with("Content-Length: -5\r\n", "")), Some(400));
        assert_eq!(
            status(&with("Content-Length: 2\r\nl: 3\r\n", "abc")),
            Some(400)
        );
        // Bytes beyond the declared length are not the message's (RFC 3261 §18.3).
        assert_eq!(with("Content-Length: 2\r\n", "abcdef"), Screened::Pass);
        // Over UDP the length may be left out: the datagram ends the body.
        assert_eq!(with("", "abc"), Screened::Pass);
    }

    #[test]
    fn an_unknown_require_gets_420_with_unsupported() {
        let msg = OPTIONS.replace(
            "Content-Length: 0",
            "Require: nothingrequired, 100rel\r\nContent-Length: 0",
        );
        let s = screen(msg.as_bytes(), MAX_MESSAGE);
        assert_eq!(status(&s), Some(420));
        let text = response(&s);
        assert!(text.starts_with("SIP/2.0 420 Bad Extension\r\n"), "{text}");
        assert!(
            text.contains("\r\nUnsupported: nothingrequired, 100rel\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nCall-ID: screen-1\r\n"), "{text}");
        assert!(text.contains("\r\nCSeq: 7 OPTIONS\r\n"), "{text}");
        assert!(
            text.contains("\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKscreen1\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nTo: <sip:ivr@192.0.2.1>;tag="), "{text}");
        // CANCEL and ACK are exempt (RFC 3261 §8.2.2.3).
        let cancel = msg
            .replace("OPTIONS sip", "CANCEL sip")
            .replace("7 OPTIONS", "7 CANCEL");
        assert_eq!(screen(cancel.as_bytes(), MAX_MESSAGE), Screened::Pass);
    }

    #[test]
    fn over_the_limit_gets_513_and_responses_or_acks_are_never_answered() {
        let big = OPTIONS.replace(
            "Content-Length: 0\r\n\r\n",
            &format!("Content-Length: 9000\r\n\r\n{}", "x".repeat(9000)),
        );
        let s = screen(big.as_bytes(), MAX_MESSAGE);
        assert_eq!(status(&s), Some(513));
        assert!(response(&s).starts_with("SIP/2.0 513 Message Too Large\r\n"));
        let ack = OPTIONS
            .replace("OPTIONS sip", "ACK sip")
            .replace("CSeq: 7 OPTIONS", "CSeq: -1 ACK");
        assert_eq!(screen(ack.as_bytes(), MAX_MESSAGE), Screened::Drop);
        let resp = format!("SIP/2.0 200 OK\r\nX: {}\r\n\r\n", "y".repeat(9000));
        assert_eq!(screen(resp.as_bytes(), MAX_MESSAGE), Screened::Drop);
        assert_eq!(
            screen(b"SIP/2.0 200 OK\r\n\r\n", MAX_MESSAGE),
            Screened::Pass
        );
    }

    #[test]
    fn other_versions_get_505_and_garbage_is_dropped() {
        let v = OPTIONS.replace("SIP/2.0\r\nVia", "SIP/7.0\r\nVia");
        assert_eq!(status(&screen(v.as_bytes(), MAX_MESSAGE)), Some(505));
        assert_eq!(screen(b"\x16\x03\x01 hello", MAX_MESSAGE), Screened::Drop);
        let unended = "OPTIONS sip:ivr@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n";
        assert_eq!(status(&screen(unended.as_bytes(), MAX_MESSAGE)), Some(400));
    }
}
