//! Why a run could not produce a verdict, and the exit code each reason
//! gets.
//!
//! Every failure of `test-matrix` that is not a verdict is a [`RunError`].
//! [`RunError::exit_code`] is the one place that maps a failure to the
//! process's exit code; [`ExitCode`] lists every code the command uses, as
//! the README documents them. A test runs one failure of each kind and
//! checks its code.

use std::path::PathBuf;

use crate::pure::profile::ProfileError;
use crate::toolchain::probes::BuildError;
use crate::toolchain::runners::Missing;

/// The exit codes of `cargo xtask test-matrix`, as the README lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Every cell that ran conforms.
    Conforms = 0,
    /// A cell deviates from its expectation or has none.
    Deviates = 1,
    /// The command line asks for something that does not exist or cannot
    /// be combined (an unknown flag value, a selection with no cell).
    Usage = 2,
    /// No deviation, but some cell could not be observed, or its observer
    /// or target is not installed: neither a pass nor a failure.
    NotObserved = 3,
    /// A profile, emulator note or configuration file is malformed.
    Config = 4,
    /// The probes (or the in-target agent) could not be built.
    Build = 5,
    /// The report could not be written, or the output could not be
    /// printed.
    Output = 6,
    /// A runner failed its canary: it does not run the target's programs
    /// faithfully, so no cell of that target can be trusted.
    Runner = 7,
}

impl ExitCode {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The code for a run interrupted by signal `signal`: 128 + N, as a
    /// shell reports a command killed by it (POSIX XCU 2.8.2).
    pub fn interrupted(signal: i32) -> u8 {
        u8::try_from(128 + signal).unwrap_or(u8::MAX)
    }

    /// The worse of two codes, for a run over several targets: a deviation
    /// outranks "not observed", which outranks a pass; an error outranks
    /// every verdict.
    pub fn worse(a: u8, b: u8) -> u8 {
        let rank = |c: u8| match c {
            0 => 0,
            3 => 1,
            1 => 2,
            _ => 3,
        };
        if rank(b) > rank(a) {
            b
        } else {
            a
        }
    }
}

/// Why a run produced no verdict.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The command line asks for something that does not exist or cannot
    /// be combined.
    #[error("{0}")]
    Usage(String),
    /// A profile is malformed, or names what does not exist.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Emulator notes or a configuration file are malformed.
    #[error("{0}")]
    Config(String),
    /// The probes could not be built.
    #[error("building the probes{for_target}: {source}")]
    Build {
        /// ` for <triple>` for a foreign target, else empty.
        for_target: String,
        /// What failed.
        #[source]
        source: BuildError,
    },
    /// A foreign target's toolchain or runner is missing.
    #[error("{triple}: not installed: missing {}; install with `{}`", missing.what.join(", "), missing.fix)]
    NotInstalled {
        /// The target.
        triple: String,
        /// What is missing and how to install it.
        missing: Missing,
    },
    /// The runner could not be prepared or failed its canary.
    #[error("{0}")]
    Runner(String),
    /// The report could not be written.
    #[error("cannot write the report to {}: {source}", path.display())]
    Report {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A report file could not be written.
    #[error(transparent)]
    Format(#[from] crate::report::formats::FormatError),
    /// Standard output could not be written.
    #[error("cannot write: {0}")]
    Write(#[from] std::io::Error),
}

impl RunError {
    /// The exit code this failure ends the command with.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            RunError::Usage(_) => ExitCode::Usage,
            RunError::Profile(_) | RunError::Config(_) => ExitCode::Config,
            RunError::Build { .. } => ExitCode::Build,
            RunError::NotInstalled { .. } => ExitCode::NotObserved,
            RunError::Runner(_) => ExitCode::Runner,
            RunError::Report { .. } | RunError::Format(_) | RunError::Write(_) => ExitCode::Output,
        }
    }
}
