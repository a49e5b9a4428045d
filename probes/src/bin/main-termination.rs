//! Probe: `fn main() -> impl Termination`, with a type of the probe's own.
//!
//! `main-termination <n>` returns a `Report(n)` whose
//! [`Termination::report`] is `ExitCode::from(n)`, for a decimal `n` in
//! `0..=255`.
//!
//! A missing, extra or malformed argument prints one usage line on stderr and
//! reports status 120 through the same type: 120 is the "probe usage error"
//! status of every probe.

use std::env;
use std::process::{ExitCode, Termination};

/// The status every probe ends with when its arguments are wrong.
const USAGE_ERROR: u8 = 120;

/// What `main` returns: the status it will report to std.
#[derive(Debug)]
struct Report(u8);

impl Termination for Report {
    fn report(self) -> ExitCode {
        ExitCode::from(self.0)
    }
}

fn main() -> Report {
    let args: Vec<_> = env::args_os().skip(1).collect();
    let code = match args.as_slice() {
        [arg] => arg.to_str().and_then(|n| n.parse::<u8>().ok()),
        _ => None,
    };
    match code {
        Some(code) => Report(code),
        None => {
            eprintln!("main-termination: usage: main-termination <0-255>");
            Report(USAGE_ERROR)
        }
    }
}
