//! Fuzzes SystemPay notices as the server receives them (a form-encoded POST): any body must
//! verify or be refused, never panic; a notice we sign ourselves always verifies.
#![no_main]

use ivr::payment::systempay::{self, Keys, ShopKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) else {
        return;
    };
    let key = ShopKey::new("fuzz-test-key-0123456789").expect("key");
    let keys = Keys {
        test: Some(key.clone()),
        production: None,
    };
    let _ = systempay::verify_signature(&fields, &keys);
    // The same fields signed with the key must verify whenever they name the test mode once.
    let unsigned: Vec<(String, String)> = fields
        .iter()
        .filter(|(n, _)| n != "signature")
        .cloned()
        .collect();
    if let Ok(sig) = systempay::sign(
        unsigned.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        &key,
    ) {
        let test_once = unsigned
            .iter()
            .filter(|(n, _)| n == "vads_ctx_mode")
            .map(|(_, v)| v.as_str())
            .eq(["TEST"]);
        let mut signed = unsigned;
        signed.push(("signature".into(), sig));
        if test_once {
            systempay::verify_signature(&signed, &keys).expect("our own signature verifies");
        }
    }
});
