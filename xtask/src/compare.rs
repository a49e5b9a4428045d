//! `cargo xtask compare OLD.json NEW.json`: which cells changed between two
//! runs of the matrix.
//!
//! Either side may be a single-target report (`report-<target>.json`) or a
//! combined `compat.json`; cells are keyed by target, behaviour or own case,
//! build and observer. A cell changed when its value (the observed text),
//! verdict, expected outcome, rule location or citation did; timings,
//! commands, output and raw statuses are not compared (see
//! `exitmatrix::report::compat`). Exits 0 when nothing changed, 1 when
//! anything did, 2 when a file cannot be read or is not a report, with one
//! line saying why.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use exitmatrix::report::compat;

/// The two files to compare.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The earlier report or compat.json.
    pub old: PathBuf,
    /// The later report or compat.json.
    pub new: PathBuf,
}

/// Compares the files, prints the changes and returns the exit code.
pub fn run(args: &CompareArgs) -> u8 {
    match compat::compare_files(&args.old, &args.new) {
        Ok(comparison) => {
            // A closed pipe (`| head`) is not worth a panic.
            let _ = std::io::stdout()
                .lock()
                .write_all(comparison.render().as_bytes());
            comparison.exit_code()
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
