//! Fuzzes what a caller brings to an SRTP call: the value of an `a=crypto` line must be read
//! or refused, never panic, and what is read must write back to the same line; and any
//! datagram sent to an SRTP call's port must be refused as a forgery or a replay unless the
//! caller's key made it, never panic.
#![no_main]

use ivr::media::srtp::{CryptoAttribute, SrtpKey, SrtpSession, SrtpSuite, Unprotect};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector % 2 == 0 {
        let Ok(line) = std::str::from_utf8(rest) else {
            return;
        };
        if let Ok(attr) = CryptoAttribute::parse(line) {
            let written = CryptoAttribute::format(attr.tag, &attr.key);
            assert_eq!(CryptoAttribute::parse(&written), Ok(attr), "{written}");
        }
        return;
    }
    let suite = SrtpSuite::ALL[usize::from(selector >> 1) % 2];
    let (ours, theirs) = (SrtpKey::generate(suite), SrtpKey::generate(suite));
    let mut call = SrtpSession::new(ours, theirs).expect("fresh keys");
    // Without the caller's key nothing can authenticate (but for a 2^-32 chance with the
    // 32-bit tag, which a fuzzer does not find by luck).
    assert_eq!(call.unprotect(rest), Err(Unprotect::Failed));
    // The caller's genuine packet made of the input passes once, then is a replay.
    let mut caller = SrtpSession::new(theirs, ours).expect("fresh keys");
    if let Some(sent) = caller.protect(rest) {
        assert_eq!(call.unprotect(&sent).as_deref(), Ok(rest));
        assert_eq!(call.unprotect(&sent), Err(Unprotect::Replayed));
    }
});
