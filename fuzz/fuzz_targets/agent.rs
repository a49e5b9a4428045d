//! The in-target agent's report lines: parsing is total, and an error names
//! a line that exists.
#![no_main]

use exitmatrix::engine::agent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = agent::parse(text);
});
