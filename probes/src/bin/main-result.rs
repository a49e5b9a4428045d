//! Probe: `fn main() -> Result<(), ProbeError>`.
//!
//! `main-result ok` returns `Ok(())`; `main-result err` returns
//! `Err(ProbeError { .. })`, which std reports by printing `Error: ` and the
//! error's `Debug` form on stderr before exiting with a failure status.
//!
//! A missing, extra or unknown argument prints one usage line on stderr and
//! exits with status 120 through `process::exit`: 120 is the "probe usage
//! error" status of every probe.

use std::env;
use std::fmt;
use std::process;

/// The status every probe ends with when its arguments are wrong.
const USAGE_ERROR: i32 = 120;

/// The error `main` returns; only its `Debug` form is ever shown.
#[derive(Debug)]
struct ProbeError {
    /// What went wrong, as std's report will show it.
    message: &'static str,
}

/// Not used by std's report (which shows `Debug`), but an error type should
/// have one, and it keeps `message` read without an `allow`.
impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

fn main() -> Result<(), ProbeError> {
    let args: Vec<_> = env::args_os().skip(1).collect();
    match args.as_slice() {
        [arg] if arg == "ok" => Ok(()),
        [arg] if arg == "err" => Err(ProbeError {
            message: "probe error returned from main",
        }),
        _ => {
            eprintln!("main-result: usage: main-result ok|err");
            process::exit(USAGE_ERROR)
        }
    }
}
