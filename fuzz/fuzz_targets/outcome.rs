//! Outcome words from profiles: parsing never panics, and whatever parses
//! shows back as words that parse to the same sequence.
#![no_main]

use exitmatrix::pure::outcome;
use exitmatrix::pure::signal::SignalTable;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for table in SignalTable::ALL {
        if let Ok(seq) = outcome::parse(text, table) {
            let shown = outcome::display(&seq, table);
            assert_eq!(
                outcome::parse(&shown, table).as_ref(),
                Ok(&seq),
                "{text:?} -> {shown:?}"
            );
        }
    }
});
