//! Fuzzes the official school-calendar CSV (`ivr calendar import`): any file must give the
//! zone's holidays or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ivr::booking::school_calendar::import_school_calendar(
        data,
        "Zone A",
        chrono_tz::Europe::Paris,
    );
});
