//! Feeds arbitrary text to both conversions: neither may panic, whatever
//! the input; errors are fine.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let _ = hcl2json::generic::to_json(src, false);
    let _ = hcl2json::generic::to_json(src, true);
    let _ = hcl2json::nomad::Options::default().convert(src, None);
});
