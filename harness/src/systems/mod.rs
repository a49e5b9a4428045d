//! The older systems of the source documents, made executable where this
//! machine can run them (issue #17).
//!
//! - [`vms`]: OpenVMS condition values and the C run-time library's mapping
//!   of `exit(status)` to one. Pure: decoded from the documentation, not
//!   observed (there is no OpenVMS here).
//! - [`dos`]: `.COM` probes generated as machine code, run in DOSBox by one
//!   generated batch file that recovers each errorlevel with `IF ERRORLEVEL`.
//! - [`amiga`]: AmigaOS hunk executables generated as 68000 machine code,
//!   run with `vamos`: what the Linux host sees of `vamos`, and what an
//!   Amiga parent (a generated program calling `RunCommand()`) sees.
//! - [`profile`]: the expectations of `profiles/systems/*.toml`, each with a
//!   citation.
//!
//! The API is small so that the matrix can take it in later: a runner turns
//! cases into [`Observation`]s (the case, the raw value, and where it was
//! observed), and [`check`] turns a profile and observations into
//! [`Verdict`]s. A case that was not observed never passes.
//!
//! Nothing here is `unsafe` or depends on `cfg(target_os)`. The runners
//! start DOSBox and `vamos` with std's `Command` (see `run.rs`), which are
//! emulators that run the probes inside them, not probes of the host.

pub mod amiga;
pub mod dos;
pub mod profile;
mod run;
pub mod vms;

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

pub use profile::{Expectation, RuleKind, SystemsProfile};

/// Where a value was observed: which parent saw it, through what.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Place {
    /// DOS: the errorlevel of the probe, recovered exactly in DOSBox's
    /// shell by a descending chain of `IF ERRORLEVEL n` (0 to 255).
    DosErrorlevel,
    /// DOS: whether one `IF ERRORLEVEL n` test after the probe was true
    /// (1) or false (0).
    DosIfErrorlevel,
    /// The Linux host: the exit status of the emulator's process (`vamos`),
    /// as `wait` reports it.
    HostExit,
    /// AmigaOS: the return code that `dos.library`'s `RunCommand()` gave a
    /// parent program inside `vamos`, all 32 bits, as a signed `LONG`.
    AmigaRunCommand,
}

impl Place {
    /// Every place, in the order of this enum.
    pub const ALL: [Place; 4] = [
        Place::DosErrorlevel,
        Place::DosIfErrorlevel,
        Place::HostExit,
        Place::AmigaRunCommand,
    ];

    /// The name profiles use (`at = "dos-errorlevel"`).
    pub fn name(self) -> &'static str {
        match self {
            Place::DosErrorlevel => "dos-errorlevel",
            Place::DosIfErrorlevel => "dos-if-errorlevel",
            Place::HostExit => "host-exit",
            Place::AmigaRunCommand => "amiga-runcommand",
        }
    }

    /// The place of that name.
    pub fn from_name(name: &str) -> Option<Place> {
        Place::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One value seen by one parent for one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Observation {
    /// The case's name (`exit-42`, `return-warn`).
    pub case: String,
    /// The raw value: an errorlevel, 1/0 for an `IF ERRORLEVEL` test, an
    /// exit code, or a return code (signed 32 bits, widened).
    pub value: i64,
    /// Where it was seen.
    pub place: Place,
}

/// How one expectation fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Mark {
    /// Observed, and equal to the expectation.
    Conforms,
    /// Observed, and different.
    Deviates,
    /// Expected, but nothing was observed for that case and place.
    NotObserved,
    /// Observed, but the profile says nothing about that case and place.
    NoExpectation,
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mark::Conforms => "conforms",
            Mark::Deviates => "deviates",
            Mark::NotObserved => "not observed",
            Mark::NoExpectation => "no expectation",
        })
    }
}

/// The verdict for one case and place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The case.
    pub case: String,
    /// Where.
    pub place: Place,
    /// What the profile expects, if it says anything.
    pub expected: Option<i64>,
    /// What was observed, if anything.
    pub observed: Option<i64>,
    /// The mark.
    pub mark: Mark,
    /// The expectation's citation.
    pub cite: Option<String>,
    /// Whether the expectation is the system's documented behaviour or an
    /// emulator's rule.
    pub rule: Option<RuleKind>,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        write!(
            f,
            "{} [{}]: {} (expected {}, observed {})",
            self.case,
            self.place,
            self.mark,
            show(self.expected),
            show(self.observed)
        )
    }
}

/// Compares observations with a profile. Every expectation gives one
/// verdict per matching observation, or one `NotObserved` verdict when no
/// observation matches (a case that was not observed never passes). Every
/// observation that no expectation covers gives a `NoExpectation` verdict.
/// Verdicts come in the profile's order, then the unexpected observations
/// in theirs.
pub fn check(profile: &SystemsProfile, observations: &[Observation]) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for e in &profile.expectations {
        let seen: Vec<&Observation> = observations
            .iter()
            .filter(|o| o.case == e.case && o.place == e.place)
            .collect();
        let verdict = |observed: Option<i64>, mark| Verdict {
            case: e.case.clone(),
            place: e.place,
            expected: Some(e.value),
            observed,
            mark,
            cite: Some(e.cite.clone()),
            rule: Some(e.rule),
        };
        if seen.is_empty() {
            verdicts.push(verdict(None, Mark::NotObserved));
        }
        for o in seen {
            let mark = if o.value == e.value {
                Mark::Conforms
            } else {
                Mark::Deviates
            };
            verdicts.push(verdict(Some(o.value), mark));
        }
    }
    for o in observations {
        let covered = profile
            .expectations
            .iter()
            .any(|e| e.case == o.case && e.place == o.place);
        if !covered {
            verdicts.push(Verdict {
                case: o.case.clone(),
                place: o.place,
                expected: None,
                observed: Some(o.value),
                mark: Mark::NoExpectation,
                cite: None,
                rule: None,
            });
        }
    }
    verdicts
}

/// Why a system's run or profile could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    /// The emulator is not installed.
    #[error("{tool} not installed ({hint})")]
    NotInstalled {
        /// `dosbox` or `vamos`.
        tool: &'static str,
        /// Where it was looked for and how to install it.
        hint: String,
    },
    /// A file or process operation failed.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The emulator did not end within its time.
    #[error("{tool} did not finish within {seconds} s; it was killed")]
    Timeout {
        /// The emulator.
        tool: &'static str,
        /// The limit.
        seconds: u64,
    },
    /// The emulator ended in a way that means the run is unusable.
    #[error("{tool} failed: {status}; stderr: {stderr}")]
    ToolFailed {
        /// The emulator.
        tool: &'static str,
        /// How it ended.
        status: String,
        /// The end of its standard error.
        stderr: String,
    },
    /// A result that the emulator produced could not be read.
    #[error("{what}, line {line}: {message}")]
    Parse {
        /// Which result.
        what: String,
        /// 1-based line (0 if the whole result is wrong).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A case cannot be made into a probe.
    #[error("case `{case}`: {message}")]
    BadCase {
        /// The case.
        case: String,
        /// Why.
        message: String,
    },
    /// A systems profile cannot be read.
    #[error("cannot read {}", path.display())]
    ReadProfile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Something in a systems profile is wrong.
    #[error("{}:{line}:{column}: {key}: {message}", file.display())]
    Profile {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The key, such as `expect[2].cite`.
        key: String,
        /// What is wrong.
        message: String,
    },
}
