//! Fuzzes what PayFiP (or anyone posing as it) sends back to the server: the classic return's
//! fields and the web service's notification, read from a query string or a form body.
#![no_main]

use ivr::payment::payfip::{classic::ClassicReturn, ws};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) else {
        return;
    };
    let _ = ClassicReturn::parse(&fields);
    let _ = ws::notified_id_op(&fields);
});
