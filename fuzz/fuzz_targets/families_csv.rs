//! Fuzzes the families file (`ivr import`): any file must be checked whole and give the
//! counts or an error naming a line, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ivr::service::import::check_families(data);
});
