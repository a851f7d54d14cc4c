//! Fuzzes the PayFiP web service's SOAP answers (and the calls the stand-in reads): any XML
//! must parse or give an error, never panic.
#![no_main]

use ivr::payment::payfip::soap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let _ = soap::parse_creer_response(xml);
    let _ = soap::parse_detail_response(xml);
    let _ = soap::parse_call(xml);
});
