//! Probe: `fn main() -> ExitCode`.
//!
//! `main-exitcode success` returns `ExitCode::SUCCESS`, `main-exitcode failure`
//! returns `ExitCode::FAILURE`, and `main-exitcode <n>` returns
//! `ExitCode::from(n)` for a decimal `n` in `0..=255`.
//!
//! A missing, extra or malformed argument prints one usage line on stderr and
//! returns `ExitCode::from(120)`: 120 is the "probe usage error" status of
//! every probe.

use std::env;
use std::process::ExitCode;

/// The status every probe ends with when its arguments are wrong.
const USAGE_ERROR: u8 = 120;

fn main() -> ExitCode {
    let args: Vec<_> = env::args_os().skip(1).collect();
    let code = match args.as_slice() {
        [arg] => match arg.to_str() {
            Some("success") => Some(ExitCode::SUCCESS),
            Some("failure") => Some(ExitCode::FAILURE),
            Some(n) => n.parse::<u8>().ok().map(ExitCode::from),
            None => None,
        },
        _ => None,
    };
    match code {
        Some(code) => code,
        None => {
            eprintln!("main-exitcode: usage: main-exitcode success|failure|<0-255>");
            ExitCode::from(USAGE_ERROR)
        }
    }
}
