//! `cargo xtask decoder-totality`: the decoder over every possible input.
//!
//! Runs `decode_wait_status` on all 2^32 status words under every wait
//! layout, and `decode_siginfo` on every `si_code` with a full-width
//! `si_status`, checking that nothing panics and that every recognised
//! result is within the ranges its encoding allows. Meant for a release
//! build: `cargo run --release --package xtask -- decoder-totality`.

use std::hint::black_box;
use std::time::Instant;

use exitmatrix::pure::decode::{self, StateChange, WaitConventions};

const LAYOUTS: [(&str, WaitConventions); 3] = [
    ("linux", WaitConventions::LINUX),
    ("freebsd", WaitConventions::FREEBSD),
    ("macos", WaitConventions::MACOS),
];

/// Checks one chunk of the 32-bit space; returns the number of recognised
/// words or the first word that broke an invariant.
fn check(range: std::ops::Range<u64>) -> Result<u64, String> {
    let mut recognised = 0;
    for word in range {
        // black_box keeps the optimiser from reasoning the loop away: every
        // word is really decoded.
        let raw = black_box(word as u32 as i32);
        for (name, conv) in &LAYOUTS {
            let t = black_box(decode::decode_wait_status(raw, black_box(conv)));
            let ok = match t {
                StateChange::Exited { code } => (0..=255).contains(&code),
                StateChange::Signaled { signal, .. } => (1..=0x7e).contains(&signal.0),
                StateChange::Stopped { signal } => (1..=0xff).contains(&signal.0),
                StateChange::Continued => raw == conv.continued,
                StateChange::Unrecognised { .. } => true,
                // A wait status never decodes to a trap.
                StateChange::Trapped { .. } => false,
            };
            if !matches!(t, StateChange::Unrecognised { .. }) {
                recognised += 1;
            }
            if !ok {
                return Err(format!(
                    "wait status {raw:#x} ({name}) decodes out of range"
                ));
            }
        }
        // si_code takes every value once; si_status is kept at full width.
        match black_box(decode::decode_siginfo(raw, raw.rotate_left(7))) {
            StateChange::Exited { code } if code != i64::from(raw.rotate_left(7)) => {
                return Err(format!("si_status {:#x} was not kept", raw.rotate_left(7)));
            }
            _ => {}
        }
    }
    Ok(recognised)
}

/// Runs the check on every core; prints what it did and how long it took.
pub fn run() -> u8 {
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    let total = 1u64 << 32;
    let chunk = total.div_ceil(threads);
    let results: Vec<Result<u64, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| s.spawn(move || check(i * chunk..((i + 1) * chunk).min(total))))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a checker panicked".into()))
            })
            .collect()
    });
    let elapsed = started.elapsed();
    match results.into_iter().collect::<Result<Vec<u64>, String>>() {
        Ok(counts) => {
            let recognised: u64 = counts.iter().sum();
            println!(
                "decoder totality: 2^32 wait statuses × {} layouts and 2^32 si_codes decoded without panic in {:.1} s on {threads} threads; {recognised} (status, layout) pairs recognised",
                LAYOUTS.len(),
                elapsed.as_secs_f64(),
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
