//! The report of a run, as data: what renderers read.
//!
//! A [`Report`] holds one [`Row`] per cell (behaviour × build × observer)
//! and per observer's own case, each with what was observed, what was
//! expected and the verdict. The engine fills it; the renderers
//! ([`crate::report::text`], [`crate::report::formats`]) read it without
//! knowing the engine. The JSON shape is documented in
//! `docs/report-schema.md` (schema [`SCHEMA_VERSION`]).

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::pure::catalogue::Build;
use crate::pure::decode::{RawStatus, StateChange};
use crate::pure::observers::ObserverKind;
use crate::pure::profile::Expectation;
use crate::pure::target::{Family, Runner};
use crate::pure::view::Reported;

/// The version of the JSON report's shape; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// How a cell compares with its expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Observed what the profile expects.
    Conforms,
    /// Observed something else: a conformance finding.
    Deviates,
    /// The profile says nothing about this cell.
    NoExpectation,
    /// The harness could not observe the cell (spawn or wait failed): neither
    /// a pass nor a deviation.
    Error,
    /// The observer's program is not on this machine (a shell that is not
    /// installed): neither a pass nor a deviation.
    NotInstalled,
    /// Deviates from what the real system does, in the way the runner (an
    /// emulator) is known to: a finding about the emulator, with its own
    /// citation (`profiles/emulators/`), never counted as conforming.
    KnownDivergence,
}

/// One state as reported.
#[derive(Clone, Debug, Serialize)]
pub struct ObservedState {
    /// Exactly what the reaper received.
    pub raw: RawStatus,
    /// The raw value in hex or as siginfo fields.
    pub raw_text: String,
    /// The decoded state.
    pub decoded: StateChange,
}

/// What a row is: a catalogue cell, or an observer's own case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// A behaviour of the catalogue, run in this build.
    Cell(Build),
    /// A case only this observer has (no probe, no build).
    OwnCase,
}

/// Everything known about one row of the matrix: a cell or an own case.
#[derive(Clone, Debug)]
pub struct Row {
    /// A cell or an own case.
    pub kind: RowKind,
    /// The behaviour's name, or the own case's.
    pub name: String,
    /// The observer's name.
    pub observer: String,
    /// The command line that ran.
    pub command: String,
    /// The wait states observed, final last (empty for a view).
    pub observed: Vec<ObservedState>,
    /// What a view (a shell, Python) reported instead of wait states.
    pub reported: Option<Vec<Reported>>,
    /// The same in profile words (`exit 0`, `stopped SIGSTOP, continued, exit 7`;
    /// `143` for a view).
    pub observed_text: String,
    /// What the profile expects, with its citation.
    pub expected: Option<Expectation>,
    /// The comparison.
    pub verdict: Verdict,
    /// Why it does not conform (or why it could not be observed).
    pub problems: Vec<String>,
    /// What else a reader should know about how the row was checked.
    pub notes: Vec<String>,
    /// Processes that left the probe's process group and were ended by the
    /// harness at the end of the row (see `process::orphans`).
    pub leaked: Vec<String>,
    /// Standard output (lossy UTF-8, at most 4 KiB).
    pub stdout: String,
    /// Standard error (lossy UTF-8, at most 4 KiB).
    pub stderr: String,
    /// Core files the probe dumped in its own directory (since removed).
    pub cores: Vec<String>,
    /// The signals the watchdog sent because the probe outlived its timeout.
    pub watchdog: Vec<&'static str>,
    /// Whether the case ran with core dumps enabled.
    pub core_enabled: bool,
    /// Whether the core flag went unchecked (cores could not be contained).
    pub core_unchecked: bool,
    /// Wall time from spawn to reap, in microseconds. Informative only.
    pub micros: u128,
}

impl Row {
    /// An empty row of `kind` for `observer`, not yet observed (verdict
    /// [`Verdict::Error`] until the engine says otherwise).
    pub fn new(kind: RowKind, name: &str, observer: &str, expected: Option<Expectation>) -> Row {
        Row {
            kind,
            name: name.to_owned(),
            observer: observer.to_owned(),
            command: String::new(),
            observed: Vec::new(),
            reported: None,
            observed_text: String::new(),
            expected,
            verdict: Verdict::Error,
            problems: Vec::new(),
            notes: Vec::new(),
            leaked: Vec::new(),
            stdout: String::new(),
            stderr: String::new(),
            cores: Vec::new(),
            watchdog: Vec::new(),
            core_enabled: false,
            core_unchecked: false,
            micros: 0,
        }
    }

    /// The build of a cell; `None` for an own case.
    pub fn build(&self) -> Option<Build> {
        match self.kind {
            RowKind::Cell(build) => Some(build),
            RowKind::OwnCase => None,
        }
    }

    /// How the row is named in findings: `exit-3 [unwind · waitpid]` for a
    /// cell, `sh-exit-256 [dash]` for an own case.
    pub fn label(&self) -> String {
        match self.kind {
            RowKind::Cell(build) => format!("{} [{build} · {}]", self.name, self.observer),
            RowKind::OwnCase => format!("{} [{}]", self.name, self.observer),
        }
    }
}

/// The JSON shape of schema 1: a cell names its `behaviour` and `build`; an
/// own case its `case`, with `reported` always present and no wait states
/// or core fields.
impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.kind {
            RowKind::Cell(build) => {
                let fields = 16
                    + usize::from(self.reported.is_some())
                    + usize::from(!self.notes.is_empty())
                    + usize::from(!self.leaked.is_empty());
                let mut s = serializer.serialize_struct("CellReport", fields)?;
                s.serialize_field("behaviour", &self.name)?;
                s.serialize_field("build", &build)?;
                s.serialize_field("observer", &self.observer)?;
                s.serialize_field("command", &self.command)?;
                s.serialize_field("observed", &self.observed)?;
                if let Some(reported) = &self.reported {
                    s.serialize_field("reported", reported)?;
                }
                s.serialize_field("observed_text", &self.observed_text)?;
                s.serialize_field("expected", &self.expected)?;
                s.serialize_field("verdict", &self.verdict)?;
                s.serialize_field("problems", &self.problems)?;
                if !self.notes.is_empty() {
                    s.serialize_field("notes", &self.notes)?;
                }
                if !self.leaked.is_empty() {
                    s.serialize_field("leaked", &self.leaked)?;
                }
                s.serialize_field("stdout", &self.stdout)?;
                s.serialize_field("stderr", &self.stderr)?;
                s.serialize_field("cores", &self.cores)?;
                s.serialize_field("watchdog", &self.watchdog)?;
                s.serialize_field("core_enabled", &self.core_enabled)?;
                s.serialize_field("core_unchecked", &self.core_unchecked)?;
                s.serialize_field("micros", &self.micros)?;
                s.end()
            }
            RowKind::OwnCase => {
                let fields =
                    12 + usize::from(!self.notes.is_empty()) + usize::from(!self.leaked.is_empty());
                let mut s = serializer.serialize_struct("CaseReport", fields)?;
                s.serialize_field("case", &self.name)?;
                s.serialize_field("observer", &self.observer)?;
                s.serialize_field("command", &self.command)?;
                s.serialize_field("reported", self.reported.as_deref().unwrap_or_default())?;
                s.serialize_field("observed_text", &self.observed_text)?;
                s.serialize_field("expected", &self.expected)?;
                s.serialize_field("verdict", &self.verdict)?;
                s.serialize_field("problems", &self.problems)?;
                if !self.notes.is_empty() {
                    s.serialize_field("notes", &self.notes)?;
                }
                if !self.leaked.is_empty() {
                    s.serialize_field("leaked", &self.leaked)?;
                }
                s.serialize_field("stdout", &self.stdout)?;
                s.serialize_field("stderr", &self.stderr)?;
                s.serialize_field("watchdog", &self.watchdog)?;
                s.serialize_field("micros", &self.micros)?;
                s.end()
            }
        }
    }
}

/// Counts of verdicts, over the cells and the observers' own cases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Cells and own cases run.
    pub cells: usize,
    /// Those that conform (on cited rules and on blessed ones together).
    pub conforms: usize,
    /// Of those that conform, the ones whose rule is blessed: written by
    /// `--bless` from what the target did, not yet explained by a source.
    pub conforms_blessed: usize,
    /// Those that deviate from the profile.
    pub deviates: usize,
    /// Those the profile says nothing about.
    pub no_expectation: usize,
    /// Those the harness could not observe.
    pub errors: usize,
    /// Those whose observer is not installed here.
    pub not_installed: usize,
    /// Those that deviate as the runner (an emulator) is known to.
    pub known_divergences: usize,
    /// Cells not run because the target cannot carry the behaviour out
    /// (behaviour × build × column, listed with the reason in `foreign`).
    pub not_applicable: usize,
    /// Rows whose core flag could not be checked, because `core_pattern`
    /// sends cores where the harness cannot contain them (counted among
    /// the verdicts above as well).
    pub core_unchecked: usize,
    /// Rows that left a process behind outside the probe's process group
    /// (counted among the verdicts above as well).
    pub leaked: usize,
}

impl Summary {
    /// Counts `rows`.
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Summary {
        let mut s = Summary::default();
        for r in rows {
            s.count(r.verdict);
            if r.verdict == Verdict::Conforms
                && r.expected.as_ref().is_some_and(Expectation::is_blessed)
            {
                s.conforms_blessed += 1;
            }
            if r.core_unchecked {
                s.core_unchecked += 1;
            }
            if !r.leaked.is_empty() {
                s.leaked += 1;
            }
        }
        s
    }

    fn count(&mut self, verdict: Verdict) {
        self.cells += 1;
        match verdict {
            Verdict::Conforms => self.conforms += 1,
            Verdict::Deviates => self.deviates += 1,
            Verdict::NoExpectation => self.no_expectation += 1,
            Verdict::Error => self.errors += 1,
            Verdict::NotInstalled => self.not_installed += 1,
            Verdict::KnownDivergence => self.known_divergences += 1,
        }
    }
}

/// What the report says about one observer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObserverInfo {
    /// The column name.
    pub name: String,
    /// `reaper`, `shell` or `python`.
    pub kind: ObserverKind,
    /// The program that was found for it, if it runs one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// Whether it can run here; a column that cannot is "not installed".
    pub installed: bool,
    /// How it runs a probe and what it reads.
    pub how: String,
}

/// What a foreign run adds to the report.
#[derive(Clone, Debug, Serialize)]
pub struct ForeignInfo {
    /// The target's family.
    pub family: Family,
    /// The runner, and where it came from.
    pub runner: Runner,
    /// `--version` of the tools the results depend on.
    pub tools: Vec<String>,
    /// Behaviours that do not apply to the family, with what they need.
    pub not_applicable: Vec<NotApplicable>,
    /// Builds that the target does not support (wasm32: only `abort`).
    pub builds_not_made: Vec<Build>,
    /// The emulator notes in force, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emulator_notes: Option<std::path::PathBuf>,
    /// What the runner's canary checked before the first cell (a runner
    /// that fails it stops the run for the target).
    pub canary: Vec<String>,
}

/// A behaviour that was not run because the target's family lacks what it
/// needs.
#[derive(Clone, Debug, Serialize)]
pub struct NotApplicable {
    /// The behaviour.
    pub behaviour: String,
    /// What it needs.
    pub needs: &'static str,
}

/// The whole report of one run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    /// `exitmatrix <version>`.
    pub tool: String,
    /// The target being checked.
    pub target: String,
    /// The machine that ran the probes.
    pub host: String,
    /// The profile chain, most derived first.
    pub profile_chain: Vec<String>,
    /// Set when the profile was written from documentation and has not been
    /// run by this project ("unverified here").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified: Option<crate::pure::profile::Unverified>,
    /// The signal table in force.
    pub signal_table: String,
    /// `/proc/sys/kernel/core_pattern` at the time of the run, if readable.
    pub core_pattern: Option<String>,
    /// Whether core dumps land in each case's own directory; if not, cores
    /// were disabled for every case and core flags were not checked.
    pub cores_contained: bool,
    /// Whether the run was interrupted before every cell ran.
    pub incomplete: bool,
    /// The signal that interrupted the run, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted_by: Option<String>,
    /// The observers (columns) of the run, in column order: what each one
    /// is and whether it is installed.
    pub observers: Vec<ObserverInfo>,
    /// Verdict counts, cells and own cases together.
    pub summary: Summary,
    /// Every cell, in catalogue order.
    pub cells: Vec<Row>,
    /// The observers' own cases (rows without a probe), observer by observer.
    pub cases: Vec<Row>,
    /// For a foreign target: its runner, tools, and what did not apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreign: Option<ForeignInfo>,
    /// Processes the harness (a child subreaper) still had as children when
    /// the run ended, outside every cell's process group: ended and listed.
    /// In `--all-targets --overlap-targets`, where the targets run at once, a target lists
    /// what its runner left (Wine's servers, by the target's `WINEPREFIX`)
    /// when it ends; what is left after the last target cannot be told
    /// apart and is listed in every report of that run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leaked_after_run: Vec<String>,
}
