//! Fuzzes the staff's announcement upload: any file must become phone audio or a clear
//! error, never a panic or an unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ivr::media::upload::to_phone(data);
});
