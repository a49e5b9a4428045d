//! One picture of every platform: the reports of several targets (one
//! `--all-targets` run) as one compatibility table, in the style of MDN's
//! browser-compat-data and caniuse, and a comparison of two reports cell by
//! cell.
//!
//! # The table
//!
//! A row is a behaviour of the catalogue or an observer's own case; a
//! column is one target · observer (`aarch64-unknown-linux-gnu · waitpid`),
//! targets in the order the reports were given, observers in each report's
//! column order. A cell shows what that observer saw, in profile words
//! (`exit 0`, `signal SIGABRT core`, `127`). Builds are merged as the
//! README's table merges them: a behaviour has one row when its builds show
//! the same value and verdict in every column (a target that did not make a
//! build, such as WASI's `unwind`, does not split a row), and one row per
//! build otherwise (`panic-main` · `unwind` and · `abort`).
//!
//! The *reference* is the first report's target (the native one in an
//! `--all-targets` run). A cell of another target is compared with the
//! reference's cell of the same row (so the same build) and the same
//! observer, and *differs* when both were observed and their values are not
//! equal. A column whose observer the reference does not have (Windows' and
//! WASI's `agent`, `host-via-runner`) is compared with the reference's first
//! column instead, its base observer (`waitpid` for a Unix reference): the
//! way a parent on each system is told of the ending, and for
//! `host-via-runner` what the host's own `waitpid` saw. The column says so
//! ([`Column::compared_with`], and on hover). Nothing is compared with POSIX
//! itself: a report only holds the winning rule of each cell, so what
//! `posix.toml` says is known only where it won, which would make a partial
//! and misleading column. The rule's profile is shown on hover instead.
//!
//! A value is the cell's `observed_text` with `, continued` left out:
//! whether a reaper sees the continue report of a stopped probe before its
//! exit is a race POSIX leaves open (the README's table leaves it out too).
//! A cell that was not observed, or whose observer is not installed, has no
//! value and differs from nothing; neither does a behaviour that does not
//! apply to a target (`n/a`, with what it needs).
//!
//! # Groups
//!
//! Rows are grouped by kind, decided from the row name alone by the glob
//! patterns of [`Group::patterns`] (`*` is any text). The groups are tried in
//! the order of [`Group::MATCH_ORDER`], the first that matches wins, and a
//! name no group matches is in [`Group::Other`]. The table shows the groups
//! in the order of [`Group::ALL`]:
//!
//! | group | id | patterns |
//! |---|---|---|
//! | return from main | `main` | `main-*`, `exitcode-*`, `result-*`, `termination-*`, `c-return-*` |
//! | exit codes | `exit` | `exit-*`, `c-exit-*`, `c-_exit-*` |
//! | panics | `panics` | `panic-*` |
//! | aborts and faults | `aborts` | `abort`, `abort-*`, `c-abort`, `alloc-failure`, `stack-overflow`, `null-write`, `illegal-instruction` |
//! | signals | `signals` | `raise-*`, `kill-*`, `c-raise-*`, `sigpipe-*` |
//! | stops | `stops` | `stop-*`, `*-SIGSTOP`, `*-SIGTSTP`, `*-SIGTTIN`, `*-SIGTTOU` |
//! | ended by the watchdog | `watchdog` | `hostile-*` |
//! | spawn failures | `spawn` | `sh-command-not-found`, `sh-not-executable`, `sh-exec-format-error`, `spawn-*` |
//! | shells | `shells` | `sh-*` |
//! | Python | `python` | `mp-*` |
//! | older systems | `systems` | `*:*` |
//!
//! Match order: older systems, spawn failures, shells, Python, watchdog,
//! stops, signals, panics, aborts and faults, return from main, exit codes.
//! So `raise-SIGSTOP` is a stop, `hostile-stops-forever` is the watchdog's
//! and `sh-command-not-found` a spawn failure.
//!
//! An older system's report (DOS, AmigaOS: its profile chain is
//! `systems/<name>`) holds cases of its own, not catalogue behaviours, and
//! some share a catalogue name (DOS's `exit-42`). Its rows are named
//! `<target>:<case>` (`dos:exit-42`, `amigaos:return-warn`), which only the
//! older systems group matches (no catalogue name holds a `:`).
//!
//! # Files
//!
//! [`write()`] writes three files into a directory:
//!
//! - `compat.html`: one self-contained page (inline CSS and a little inline
//!   script, no network). Cells that differ from the reference are
//!   highlighted; hovering a cell shows its builds, raw status, expectation,
//!   rule and the reference's value, and its footnote links to the citation.
//!   Three filters: by group, by target (that target's columns and the
//!   reference's columns they are compared with) and "differences only"
//!   (the rows where some target differs from the reference, or the chosen
//!   target does). The filters
//!   are kept in the URL fragment: `#diff`, `#group=signals`,
//!   `#target=aarch64-unknown-linux-gnu`, joined by `&`; the page reads it on
//!   load. Each row carries `data-group` and `data-diff` (the indices of the
//!   targets in which it differs), each cell and column header `data-t` (its
//!   target's index) and, in a reference column, `data-r` (the indices of
//!   the targets compared with it), which is all the script reads.
//! - `compat.md`: one Markdown table per group, with only the columns that
//!   group uses; `≠` marks a value that differs from the reference.
//! - `compat.json`: [`CompatTable`], serialised. Its shape:
//!
//! ```text
//! { "kind": "exitmatrix-compat", "schema": 1, "tool": "exitmatrix 0.1.0",
//!   "reference": "x86_64-unknown-linux-gnu",           // or null with no report
//!   "groups":  [{ "id", "title", "patterns" }],
//!   "targets": [{ "target", "host", "tool", "profile", "incomplete",
//!                 "rows", "differing" }],                // rows: cells + own cases
//!   "columns": [{ "target", "observer", "compared_with" }],  // the reference's observer
//!   "citations": ["POSIX.1-2017 ...", ...],              // footnotes, by index
//!   "rows": [{ "group", "name", "own_case", "builds", "summary",
//!              "differs": ["aarch64-unknown-linux-gnu"], // targets that differ
//!              "cells": [                                // one per column
//!                null,                                   // the observer does not run it there
//!                { "text", "state", "value", "verdict", "differs", "reference",
//!                  "note",
//!                  "entries": [{ "build", "value", "verdict", "raw", "expected",
//!                                "rule", "profile", "cite", "watchdog" }] } ] }] }
//! ```
//!
//!   `state` is `observed`, `not-installed`, `not-observed` or
//!   `not-applicable`; `verdict` is the report's; `reference` the
//!   reference's value when the cell differs from it; `entries` has one
//!   entry per build the cell covers (none for `n/a`), `build` null for an
//!   own case; `rule` is the expectation's `file:line:column` with the file's
//!   directory left out, so reports written from two checkouts compare;
//!   `cite` an index into `citations`. Optional fields are left out when
//!   empty.
//!
//! # Comparing two reports
//!
//! [`load`] reads a single-target JSON report (`report-<target>.json`,
//! schema 1) or a `compat.json` into [`Loaded`]: one [`CellFacts`] per cell
//! and own case, keyed by target, row, build and observer ([`CellKey`]).
//! [`compare`] lists every cell whose value, verdict, expected outcome, rule
//! or citation changed, and the cells only one side has. Timings, commands
//! (temporary paths), output (pids), raw statuses and the counts are not
//! compared: they change from run to run or follow from what is. `cargo xtask compare OLD NEW` prints
//! [`Comparison::render`] and exits with [`Comparison::exit_code`].

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::pure::catalogue;
use crate::pure::decode::StateChange;
use crate::pure::observers as own_cases;
use crate::report::formats::{esc, FormatError};
use crate::report::model::{Report, Row, Verdict, SCHEMA_VERSION};

/// The `kind` of a `compat.json`, which tells it apart from a report.
pub const COMPAT_KIND: &str = "exitmatrix-compat";

/// The version of `compat.json`'s shape; bumped on any incompatible change.
pub const COMPAT_SCHEMA: u32 = 1;

/// The kind of behaviour a row is, for grouping (see the module
/// documentation for the patterns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Group {
    /// `main` returns: `()`, `ExitCode`, `Result`, a custom `Termination`, C's
    /// `return`.
    #[serde(rename = "main")]
    ReturnFromMain,
    /// `process::exit(n)`, C's `exit` and `_exit`.
    #[serde(rename = "exit")]
    ExitCodes,
    /// Panics in main and in threads.
    #[serde(rename = "panics")]
    Panics,
    /// `abort()`, allocation failure, stack overflow, faults.
    #[serde(rename = "aborts")]
    AbortsAndFaults,
    /// Signals raised or sent, SIGPIPE.
    #[serde(rename = "signals")]
    Signals,
    /// Stop signals and a probe that stops itself.
    #[serde(rename = "stops")]
    Stops,
    /// Hostile probes, which the watchdog must end.
    #[serde(rename = "watchdog")]
    Watchdog,
    /// A shell's own cases where the command cannot be run.
    #[serde(rename = "spawn")]
    SpawnFailures,
    /// The shells' other own cases.
    #[serde(rename = "shells")]
    Shells,
    /// Python's own cases (`multiprocessing`).
    #[serde(rename = "python")]
    Python,
    /// The cases of an older system (DOS, AmigaOS), which are not
    /// catalogue behaviours: named `<system>:<case>` (`dos:exit-42`), so
    /// that they never share a row with the catalogue's `exit-42`.
    #[serde(rename = "systems")]
    Systems,
    /// A name no pattern matches.
    #[serde(rename = "other")]
    Other,
}

impl Group {
    /// Every group, in the order the table shows them.
    pub const ALL: [Group; 12] = [
        Group::ReturnFromMain,
        Group::ExitCodes,
        Group::Panics,
        Group::AbortsAndFaults,
        Group::Signals,
        Group::Stops,
        Group::Watchdog,
        Group::SpawnFailures,
        Group::Shells,
        Group::Python,
        Group::Systems,
        Group::Other,
    ];

    /// The order in which [`group_of`] tries the groups: the more specific
    /// first, so that `raise-SIGSTOP` is a stop and not a signal.
    pub const MATCH_ORDER: [Group; 11] = [
        Group::Systems,
        Group::SpawnFailures,
        Group::Shells,
        Group::Python,
        Group::Watchdog,
        Group::Stops,
        Group::Signals,
        Group::Panics,
        Group::AbortsAndFaults,
        Group::ReturnFromMain,
        Group::ExitCodes,
    ];

    /// The short name used in `compat.json`, the page's filters and its URL
    /// fragment (`#group=signals`).
    pub fn id(self) -> &'static str {
        match self {
            Group::ReturnFromMain => "main",
            Group::ExitCodes => "exit",
            Group::Panics => "panics",
            Group::AbortsAndFaults => "aborts",
            Group::Signals => "signals",
            Group::Stops => "stops",
            Group::Watchdog => "watchdog",
            Group::SpawnFailures => "spawn",
            Group::Shells => "shells",
            Group::Python => "python",
            Group::Systems => "systems",
            Group::Other => "other",
        }
    }

    /// The heading.
    pub fn title(self) -> &'static str {
        match self {
            Group::ReturnFromMain => "return from main",
            Group::ExitCodes => "exit codes",
            Group::Panics => "panics",
            Group::AbortsAndFaults => "aborts and faults",
            Group::Signals => "signals",
            Group::Stops => "stops",
            Group::Watchdog => "ended by the watchdog",
            Group::SpawnFailures => "spawn failures",
            Group::Shells => "shells",
            Group::Python => "Python",
            Group::Systems => "older systems",
            Group::Other => "other",
        }
    }

    /// The glob patterns (`*` is any text) a row name of this group
    /// matches; [`Group::Other`] has none.
    pub fn patterns(self) -> &'static [&'static str] {
        match self {
            Group::ReturnFromMain => &[
                "main-*",
                "exitcode-*",
                "result-*",
                "termination-*",
                "c-return-*",
            ],
            Group::ExitCodes => &[
                "exit-*",
                "c-exit-*",
                "c-_exit-*",
                "c-_Exit-*",
                "c-quick_exit-*",
            ],
            Group::Panics => &["panic-*", "join-payload-*", "*-closed-pipe"],
            Group::AbortsAndFaults => &[
                "abort",
                "abort-*",
                "c-abort",
                "c-abort-*",
                "alloc-failure",
                "stack-overflow",
                "stack-overflow-*",
                "null-write",
                "illegal-instruction",
            ],
            Group::Signals => &["raise-*", "kill-*", "c-raise-*", "sigpipe-*"],
            Group::Stops => &["stop-*", "*-SIGSTOP", "*-SIGTSTP", "*-SIGTTIN", "*-SIGTTOU"],
            Group::Watchdog => &["hostile-*"],
            Group::SpawnFailures => &[
                "sh-command-not-found",
                "sh-not-executable",
                "sh-exec-format-error",
                "spawn-*",
            ],
            Group::Shells => &["sh-*"],
            Group::Python => &["mp-*"],
            Group::Systems => &["*:*"],
            Group::Other => &[],
        }
    }

    /// The group whose id is `id`.
    pub fn from_id(id: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.id() == id)
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// The group of a row, from its name: the first group of
/// [`Group::MATCH_ORDER`] one of whose patterns matches, else
/// [`Group::Other`].
pub fn group_of(name: &str) -> Group {
    Group::MATCH_ORDER
        .into_iter()
        .find(|g| g.patterns().iter().any(|p| glob(p, name)))
        .unwrap_or(Group::Other)
}

/// Whether `text` matches `pattern`, in which `*` stands for any text.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let tail: Vec<&str> = parts.collect();
    let Some((last, middle)) = tail.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// A group as `compat.json` describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// [`Group::id`].
    pub id: String,
    /// [`Group::title`].
    pub title: String,
    /// [`Group::patterns`].
    pub patterns: Vec<String>,
}

/// One target of the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// The target triple.
    pub target: String,
    /// The machine that ran the probes.
    pub host: String,
    /// The tool that wrote the report.
    pub tool: String,
    /// The profile chain, most derived first, joined by ` → `.
    pub profile: String,
    /// Whether the run was interrupted before every cell ran.
    pub incomplete: bool,
    /// Cells and own cases in the report.
    pub rows: usize,
    /// Cells of the table that differ from the reference (0 for the
    /// reference itself).
    pub differing: usize,
}

/// One column: a target and an observer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The target triple.
    pub target: String,
    /// The observer.
    pub observer: String,
    /// The reference target's observer this column is compared with: the
    /// same one, else the reference's first (base) observer; `None` for the
    /// reference's own columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<String>,
}

impl Column {
    /// `target · observer`.
    pub fn label(&self) -> String {
        format!("{} · {}", self.target, self.observer)
    }
}

/// Whether a cell has a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellState {
    /// The observer saw something (whatever the verdict).
    Observed,
    /// The observer's program is not installed where the target ran.
    NotInstalled,
    /// The harness could not observe the cell.
    NotObserved,
    /// The behaviour (or the build) does not apply to the target.
    NotApplicable,
}

/// One build's part of a cell: what one row of a report said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The build; `None` for an own case.
    pub build: Option<String>,
    /// The observed text, `, continued` left out.
    pub value: String,
    /// The report's verdict (`conforms`, `deviates`, ...).
    pub verdict: String,
    /// The raw statuses (`0x0000`, `CLD_EXITED si_status=0`), comma-separated;
    /// empty for a view, whose reported value is the value.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub raw: String,
    /// The expected outcomes, ` | `-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The rule's `file:line:column`, without the file's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The profile the rule is written in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The citation: an index into [`CompatTable::citations`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cite: Option<usize>,
    /// The signals the watchdog sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watchdog: Vec<String>,
}

/// One cell of the table: a row × a column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompatCell {
    /// What the cell shows: the value with a verdict mark when it does not
    /// conform (`✗ exit 0`), `not installed`, `not observed` or `n/a`.
    pub text: String,
    /// Whether it has a value.
    pub state: CellState,
    /// The value compared with the reference (empty without one).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// The verdict, the same for every entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// Whether the value differs from the reference's.
    pub differs: bool,
    /// The reference's value, when this cell differs from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Why a cell is `n/a`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// One entry per build the cell covers (none for `n/a`).
    #[serde(default)]
    pub entries: Vec<Entry>,
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompatRow {
    /// Its group.
    pub group: Group,
    /// The behaviour or own case.
    pub name: String,
    /// Whether it is an observer's own case.
    pub own_case: bool,
    /// The builds the row covers: all of the behaviour's when they agree,
    /// else one; empty for an own case.
    pub builds: Vec<String>,
    /// The catalogue's one-line summary, if the row is in this tool's
    /// catalogue.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    /// The targets in which some cell differs from the reference.
    #[serde(default)]
    pub differs: Vec<String>,
    /// One cell per column; `None` where the observer does not run the row
    /// on that target.
    pub cells: Vec<Option<CompatCell>>,
}

impl CompatRow {
    /// The build column's text: the builds, or `own case`.
    pub fn build_text(&self) -> String {
        if self.own_case {
            "own case".to_owned()
        } else {
            self.builds.join(", ")
        }
    }
}

/// The combined table: the model [`html`], [`markdown`] and `compat.json`
/// render.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompatTable {
    /// [`COMPAT_KIND`].
    pub kind: String,
    /// [`COMPAT_SCHEMA`].
    pub schema: u32,
    /// The tool that made the table.
    pub tool: String,
    /// The reference target: the first report's.
    pub reference: Option<String>,
    /// The groups, in table order.
    pub groups: Vec<GroupInfo>,
    /// The targets, in the order the reports were given.
    pub targets: Vec<TargetInfo>,
    /// The columns.
    pub columns: Vec<Column>,
    /// The citations, each once.
    pub citations: Vec<String>,
    /// The rows, group by group.
    pub rows: Vec<CompatRow>,
}

impl CompatTable {
    /// The rows in which some target differs from the reference: what the
    /// page's "differences only" filter leaves.
    pub fn differing_rows(&self) -> impl Iterator<Item = &CompatRow> {
        self.rows.iter().filter(|r| !r.differs.is_empty())
    }
}

// ---------------------------------------------------------------------------
// One report, reduced to what the table and the comparison need.

/// One row of one report.
#[derive(Clone, Debug)]
struct Fact {
    name: String,
    build: Option<String>,
    observer: String,
    value: String,
    verdict: String,
    raw: String,
    expected: Option<String>,
    rule: Option<String>,
    profile: Option<String>,
    cite: Option<String>,
    watchdog: Vec<String>,
}

/// One report, reduced.
#[derive(Clone, Debug)]
struct TargetFacts {
    target: String,
    host: String,
    tool: String,
    profile: String,
    incomplete: bool,
    observers: Vec<String>,
    facts: Vec<Fact>,
    /// Behaviour → what it needs, for those that do not apply.
    not_applicable: HashMap<String, String>,
    builds_not_made: Vec<String>,
}

/// The name a report gives a verdict (its JSON spelling).
fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Conforms => "conforms",
        Verdict::Deviates => "deviates",
        Verdict::NoExpectation => "no-expectation",
        Verdict::Error => "error",
        Verdict::NotInstalled => "not-installed",
        Verdict::KnownDivergence => "known-divergence",
    }
}

/// The value compared: the observed text without the racy `, continued`.
fn normalise(observed_text: &str) -> String {
    observed_text.replace(", continued", "")
}

/// `file:line:column` with the file's directory left out.
fn rule_text(file: &Path, line: usize, column: usize) -> String {
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    format!("{name}:{line}:{column}")
}

fn fact_of_row(row: &Row) -> Fact {
    let raw: Vec<&str> = row
        .observed
        .iter()
        .filter(|o| !matches!(o.decoded, StateChange::Continued))
        .map(|o| o.raw_text.as_str())
        .collect();
    Fact {
        name: row.name.clone(),
        build: row.build().map(|b| b.to_string()),
        observer: row.observer.clone(),
        value: normalise(&row.observed_text),
        verdict: verdict_name(row.verdict).to_owned(),
        raw: raw.join(", "),
        expected: row.expected.as_ref().map(|e| e.outcome.join(" | ")),
        rule: row
            .expected
            .as_ref()
            .map(|e| rule_text(&e.location.file, e.location.line, e.location.column)),
        profile: row.expected.as_ref().map(|e| e.profile.clone()),
        cite: row.expected.as_ref().map(|e| e.cite.clone()),
        watchdog: row.watchdog.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// The prefix of an older system's rows (see the module documentation):
/// `Some("dos")` for a report whose profile chain starts with
/// `systems/`, else `None`.
fn system_namespace<'a>(target: &'a str, profile_chain: &[String]) -> Option<&'a str> {
    profile_chain
        .first()
        .is_some_and(|p| p.starts_with("systems/"))
        .then_some(target)
}

/// Names `facts` `<namespace>:<name>` when they are an older system's.
fn namespaced(mut facts: Vec<Fact>, namespace: Option<&str>) -> Vec<Fact> {
    if let Some(ns) = namespace {
        for f in &mut facts {
            f.name = format!("{ns}:{}", f.name);
        }
    }
    facts
}

fn facts_of_report(report: &Report) -> TargetFacts {
    let namespace = system_namespace(&report.target, &report.profile_chain);
    TargetFacts {
        target: report.target.clone(),
        host: report.host.clone(),
        tool: report.tool.clone(),
        profile: report.profile_chain.join(" → "),
        incomplete: report.incomplete,
        observers: report.observers.iter().map(|o| o.name.clone()).collect(),
        facts: namespaced(
            report
                .cells
                .iter()
                .chain(&report.cases)
                .map(fact_of_row)
                .collect(),
            namespace,
        ),
        not_applicable: report
            .foreign
            .iter()
            .flat_map(|f| &f.not_applicable)
            .map(|n| (n.behaviour.clone(), n.needs.to_owned()))
            .collect(),
        builds_not_made: report
            .foreign
            .iter()
            .flat_map(|f| &f.builds_not_made)
            .map(|b| b.to_string())
            .collect(),
    }
}

// ---------------------------------------------------------------------------
// The JSON report, read back: only the fields used here (schema 1,
// docs/report-schema.md). Unknown fields are ignored, as the schema asks.

#[derive(Deserialize)]
struct JsonReport {
    schema: u32,
    #[serde(default)]
    tool: String,
    target: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    profile_chain: Vec<String>,
    #[serde(default)]
    incomplete: bool,
    #[serde(default)]
    observers: Vec<JsonObserver>,
    cells: Vec<JsonRow>,
    #[serde(default)]
    cases: Vec<JsonRow>,
    #[serde(default)]
    foreign: Option<JsonForeign>,
}

#[derive(Deserialize)]
struct JsonObserver {
    name: String,
}

#[derive(Deserialize)]
struct JsonForeign {
    #[serde(default)]
    not_applicable: Vec<JsonNotApplicable>,
    #[serde(default)]
    builds_not_made: Vec<String>,
}

#[derive(Deserialize)]
struct JsonNotApplicable {
    behaviour: String,
    needs: String,
}

#[derive(Deserialize)]
struct JsonRow {
    #[serde(default)]
    behaviour: Option<String>,
    #[serde(default)]
    case: Option<String>,
    #[serde(default)]
    build: Option<String>,
    observer: String,
    #[serde(default)]
    observed: Vec<JsonState>,
    observed_text: String,
    #[serde(default)]
    expected: Option<JsonExpected>,
    verdict: String,
    #[serde(default)]
    watchdog: Vec<String>,
}

#[derive(Deserialize)]
struct JsonState {
    #[serde(default)]
    raw_text: String,
    #[serde(default)]
    decoded: serde_json::Value,
}

#[derive(Deserialize)]
struct JsonExpected {
    #[serde(default)]
    outcome: Vec<String>,
    #[serde(default)]
    cite: String,
    #[serde(default)]
    profile: String,
    location: JsonLocation,
}

#[derive(Deserialize)]
struct JsonLocation {
    file: PathBuf,
    line: usize,
    column: usize,
}

fn fact_of_json(row: JsonRow, own_case: bool) -> Result<Fact, String> {
    let (name, build) = if own_case {
        let name = row
            .case
            .ok_or_else(|| format!("an own case of {} has no `case`", row.observer))?;
        (name, None)
    } else {
        let name = row
            .behaviour
            .ok_or_else(|| format!("a cell of {} has no `behaviour`", row.observer))?;
        let build = row
            .build
            .ok_or_else(|| format!("the cell {name} [{}] has no `build`", row.observer))?;
        (name, Some(build))
    };
    let raw: Vec<String> = row
        .observed
        .into_iter()
        .filter(|o| o.decoded.get("kind").and_then(|k| k.as_str()) != Some("continued"))
        .map(|o| o.raw_text)
        .collect();
    Ok(Fact {
        name,
        build,
        observer: row.observer,
        value: normalise(&row.observed_text),
        verdict: row.verdict,
        raw: raw.join(", "),
        expected: row.expected.as_ref().map(|e| e.outcome.join(" | ")),
        rule: row
            .expected
            .as_ref()
            .map(|e| rule_text(&e.location.file, e.location.line, e.location.column)),
        profile: row.expected.as_ref().map(|e| e.profile.clone()),
        cite: row.expected.map(|e| e.cite),
        watchdog: row.watchdog,
    })
}

fn facts_of_json(report: JsonReport) -> Result<TargetFacts, String> {
    let mut facts = Vec::with_capacity(report.cells.len() + report.cases.len());
    for row in report.cells {
        facts.push(fact_of_json(row, false)?);
    }
    for row in report.cases {
        facts.push(fact_of_json(row, true)?);
    }
    let (not_applicable, builds_not_made) = match report.foreign {
        Some(f) => (
            f.not_applicable
                .into_iter()
                .map(|n| (n.behaviour, n.needs))
                .collect(),
            f.builds_not_made,
        ),
        None => (HashMap::new(), Vec::new()),
    };
    let facts = namespaced(
        facts,
        system_namespace(&report.target, &report.profile_chain),
    );
    Ok(TargetFacts {
        target: report.target,
        host: report.host,
        tool: report.tool,
        profile: report.profile_chain.join(" → "),
        incomplete: report.incomplete,
        observers: report.observers.into_iter().map(|o| o.name).collect(),
        facts,
        not_applicable,
        builds_not_made,
    })
}

// ---------------------------------------------------------------------------
// Building the table.

/// The builds in table order: `unwind`, `abort`, `c`, then any other.
fn build_rank(build: &str) -> usize {
    catalogue::Build::ALL
        .iter()
        .position(|b| b.name() == build)
        .unwrap_or(catalogue::Build::ALL.len())
}

/// The one-line summaries of this tool's behaviours and own cases.
fn summaries() -> HashMap<String, String> {
    let mut map: HashMap<String, String> = catalogue::catalogue()
        .into_iter()
        .map(|b| (b.name, b.summary))
        .collect();
    for c in own_cases::own_cases() {
        map.insert(c.name.to_owned(), c.summary.to_owned());
    }
    map
}

/// What a cell shows for its value and verdict.
fn cell_text(value: &str, verdict: &str, watchdog: &[String]) -> String {
    let value = if watchdog.is_empty() {
        value.to_owned()
    } else {
        format!("{value} (timed out: {})", watchdog.join(", "))
    };
    match verdict {
        "conforms" => value,
        "deviates" => format!("✗ {value}"),
        "no-expectation" => format!("? {value}"),
        "known-divergence" => format!("≈ {value}"),
        "error" => "not observed".to_owned(),
        "not-installed" => "not installed".to_owned(),
        other => format!("{other}: {value}"),
    }
}

fn state_of(verdict: &str) -> CellState {
    match verdict {
        "error" => CellState::NotObserved,
        "not-installed" => CellState::NotInstalled,
        _ => CellState::Observed,
    }
}

/// Interns citations as footnotes.
#[derive(Default)]
struct Citations {
    list: Vec<String>,
    index: HashMap<String, usize>,
}

impl Citations {
    fn of(&mut self, cite: &str) -> usize {
        if let Some(&i) = self.index.get(cite) {
            return i;
        }
        self.list.push(cite.to_owned());
        self.index.insert(cite.to_owned(), self.list.len() - 1);
        self.list.len() - 1
    }
}

type FactKey<'a> = (usize, &'a str, Option<&'a str>, &'a str);

fn build_table(sources: &[TargetFacts]) -> CompatTable {
    // A target given twice (two runs side by side) is told apart by number.
    let target_names: Vec<String> = sources
        .iter()
        .enumerate()
        .map(
            |(i, s)| match sources[..i].iter().filter(|o| o.target == s.target).count() {
                0 => s.target.clone(),
                n => format!("{} ({})", s.target, n + 1),
            },
        )
        .collect();
    let mut columns: Vec<Column> = Vec::new();
    let mut column_target: Vec<usize> = Vec::new();
    for (t, src) in sources.iter().enumerate() {
        let mut observers: Vec<&str> = Vec::new();
        for o in src
            .observers
            .iter()
            .map(String::as_str)
            .chain(src.facts.iter().map(|f| f.observer.as_str()))
        {
            if !observers.contains(&o) && src.facts.iter().any(|f| f.observer == o) {
                observers.push(o);
            }
        }
        for o in observers {
            columns.push(Column {
                target: target_names[t].clone(),
                observer: o.to_owned(),
                compared_with: None,
            });
            column_target.push(t);
        }
    }
    // The reference column of each column: the first target's with the same
    // observer, else the first target's first column (its base observer).
    let reference_column: Vec<Option<usize>> = columns
        .iter()
        .zip(&column_target)
        .map(|(c, &t)| {
            if t == 0 {
                return None;
            }
            let same = columns
                .iter()
                .zip(&column_target)
                .position(|(r, &rt)| rt == 0 && r.observer == c.observer);
            same.or_else(|| column_target.iter().position(|&rt| rt == 0))
        })
        .collect();
    for (c, r) in reference_column.iter().enumerate() {
        columns[c].compared_with = r.map(|r| columns[r].observer.clone());
    }

    // Row names in order of first appearance, and each behaviour's builds.
    let mut names: Vec<(&str, bool)> = Vec::new();
    let mut builds: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut index: HashMap<FactKey<'_>, &Fact> = HashMap::new();
    for (t, src) in sources.iter().enumerate() {
        for f in &src.facts {
            let own = f.build.is_none();
            if !names.iter().any(|(n, o)| *n == f.name && *o == own) {
                names.push((f.name.as_str(), own));
            }
            if let Some(b) = &f.build {
                let list = builds.entry(f.name.as_str()).or_default();
                if !list.contains(&b.as_str()) {
                    list.push(b.as_str());
                }
            }
            index
                .entry((t, f.name.as_str(), f.build.as_deref(), f.observer.as_str()))
                .or_insert(f);
        }
    }
    for list in builds.values_mut() {
        list.sort_by_key(|b| build_rank(b));
    }

    let summaries = summaries();
    let mut citations = Citations::default();
    let mut rows: Vec<CompatRow> = Vec::new();
    for (name, own) in names {
        let row_builds: Vec<Option<&str>> = if own {
            vec![None]
        } else {
            builds
                .get(name)
                .map(|l| l.iter().map(|b| Some(*b)).collect())
                .unwrap_or_default()
        };
        let lookup = |c: usize, b: Option<&str>| {
            index
                .get(&(column_target[c], name, b, columns[c].observer.as_str()))
                .copied()
        };
        // Merge the builds when no column shows two different (value, verdict).
        let merged = (0..columns.len()).all(|c| {
            let mut seen: Option<(&str, &str)> = None;
            row_builds.iter().all(|&b| match lookup(c, b) {
                None => true,
                Some(f) => {
                    let key = (f.value.as_str(), f.verdict.as_str());
                    *seen.get_or_insert(key) == key
                }
            })
        });
        let splits: Vec<Vec<Option<&str>>> = if merged {
            vec![row_builds.clone()]
        } else {
            row_builds.iter().map(|&b| vec![b]).collect()
        };
        for part in splits {
            let cells = (0..columns.len())
                .map(|c| {
                    let facts: Vec<&Fact> = part.iter().filter_map(|&b| lookup(c, b)).collect();
                    if facts.is_empty() {
                        return not_applicable(&sources[column_target[c]], name, own, &part);
                    }
                    Some(cell_of(&facts, &mut citations))
                })
                .collect();
            rows.push(CompatRow {
                group: group_of(name),
                name: name.to_owned(),
                own_case: own,
                builds: part.iter().flatten().map(|b| (*b).to_owned()).collect(),
                summary: summaries.get(name).cloned().unwrap_or_default(),
                differs: Vec::new(),
                cells,
            });
        }
    }

    // Compare every cell with its reference.
    let mut differing = vec![0usize; sources.len()];
    for row in &mut rows {
        let mut differs_in: Vec<usize> = Vec::new();
        for c in 0..columns.len() {
            let Some(r) = reference_column[c] else {
                continue;
            };
            let reference = match &row.cells[r] {
                Some(cell) if cell.state == CellState::Observed => cell.value.clone(),
                _ => continue,
            };
            if let Some(cell) = &mut row.cells[c] {
                if cell.state == CellState::Observed && cell.value != reference {
                    cell.differs = true;
                    cell.reference = Some(reference);
                    differing[column_target[c]] += 1;
                    if !differs_in.contains(&column_target[c]) {
                        differs_in.push(column_target[c]);
                    }
                }
            }
        }
        differs_in.sort_unstable();
        row.differs = differs_in
            .into_iter()
            .map(|t| target_names[t].clone())
            .collect();
    }
    rows.sort_by_key(|r| Group::ALL.iter().position(|g| *g == r.group));

    CompatTable {
        kind: COMPAT_KIND.to_owned(),
        schema: COMPAT_SCHEMA,
        tool: format!("exitmatrix {}", env!("CARGO_PKG_VERSION")),
        reference: target_names.first().cloned(),
        groups: Group::ALL
            .into_iter()
            .map(|g| GroupInfo {
                id: g.id().to_owned(),
                title: g.title().to_owned(),
                patterns: g.patterns().iter().map(|p| (*p).to_owned()).collect(),
            })
            .collect(),
        targets: sources
            .iter()
            .zip(target_names)
            .zip(differing)
            .map(|((s, target), differing)| TargetInfo {
                target,
                host: s.host.clone(),
                tool: s.tool.clone(),
                profile: s.profile.clone(),
                incomplete: s.incomplete,
                rows: s.facts.len(),
                differing,
            })
            .collect(),
        columns,
        citations: citations.list,
        rows,
    }
}

/// The cell of a row whose facts in this column are `facts` (one per build,
/// all with the same value and verdict).
fn cell_of(facts: &[&Fact], citations: &mut Citations) -> CompatCell {
    let first = facts[0];
    let state = state_of(&first.verdict);
    CompatCell {
        text: cell_text(&first.value, &first.verdict, &first.watchdog),
        state,
        value: if state == CellState::Observed {
            first.value.clone()
        } else {
            String::new()
        },
        verdict: Some(first.verdict.clone()),
        differs: false,
        reference: None,
        note: None,
        entries: facts
            .iter()
            .map(|f| Entry {
                build: f.build.clone(),
                value: f.value.clone(),
                verdict: f.verdict.clone(),
                raw: f.raw.clone(),
                expected: f.expected.clone(),
                rule: f.rule.clone(),
                profile: f.profile.clone(),
                cite: f.cite.as_deref().map(|c| citations.of(c)),
                watchdog: f.watchdog.clone(),
            })
            .collect(),
    }
}

/// The `n/a` cell where a behaviour (or the row's one build) does not apply
/// to the target; `None` where the observer simply does not run the row.
fn not_applicable(
    src: &TargetFacts,
    name: &str,
    own: bool,
    builds: &[Option<&str>],
) -> Option<CompatCell> {
    if own {
        return None;
    }
    let note = if let Some(needs) = src.not_applicable.get(name) {
        format!("does not apply to {}: needs {needs}", src.target)
    } else if !builds.is_empty()
        && builds
            .iter()
            .all(|b| b.is_some_and(|b| src.builds_not_made.iter().any(|m| m == b)))
    {
        format!("{} does not make this build", src.target)
    } else {
        return None;
    };
    Some(CompatCell {
        text: "n/a".to_owned(),
        state: CellState::NotApplicable,
        value: String::new(),
        verdict: None,
        differs: false,
        reference: None,
        note: Some(note),
        entries: Vec::new(),
    })
}

/// The combined table of `reports`, the first being the reference.
pub fn table(reports: &[Report]) -> CompatTable {
    let sources: Vec<TargetFacts> = reports.iter().map(facts_of_report).collect();
    build_table(&sources)
}

/// The combined table of the single-target JSON reports at `paths` (as
/// `test-matrix` writes them), the first being the reference: the same
/// table [`table`] makes of the reports themselves.
pub fn table_from_files(paths: &[PathBuf]) -> Result<CompatTable, LoadError> {
    let mut sources = Vec::new();
    for path in paths {
        match read(path)? {
            Document::Report(r) => {
                sources.push(facts_of_json(*r).map_err(|what| LoadError::Invalid {
                    path: path.clone(),
                    what,
                })?)
            }
            Document::Compat(_) => {
                return Err(LoadError::Invalid {
                    path: path.clone(),
                    what: "is a compat table, not a single-target report".into(),
                })
            }
        }
    }
    Ok(build_table(&sources))
}

// ---------------------------------------------------------------------------
// Rendering.

/// The distinct values of `field` over a cell's entries: one line when they
/// agree, else one per build.
fn entry_lines(
    out: &mut String,
    label: &str,
    entries: &[Entry],
    field: impl Fn(&Entry) -> Option<String>,
) {
    let values: Vec<(Option<&str>, Option<String>)> = entries
        .iter()
        .map(|e| (e.build.as_deref(), field(e)))
        .collect();
    if values.iter().all(|(_, v)| v.is_none()) {
        return;
    }
    if values.windows(2).all(|w| w[0].1 == w[1].1) {
        if let Some((_, Some(v))) = values.first() {
            let _ = write!(out, "\n{label}: {v}");
        }
        return;
    }
    for (build, v) in values {
        let _ = write!(
            out,
            "\n{label} ({}): {}",
            build.unwrap_or("own case"),
            v.as_deref().unwrap_or("none")
        );
    }
}

/// The hover text of a cell.
fn cell_title(table: &CompatTable, row: &CompatRow, column: &Column, cell: &CompatCell) -> String {
    let mut t = format!("{} [{}]\n{}", row.name, row.build_text(), column.label());
    match cell.state {
        CellState::NotApplicable => {
            let _ = write!(t, "\n{}", cell.note.as_deref().unwrap_or("not applicable"));
            return t;
        }
        _ => {
            let _ = write!(
                t,
                "\nobserved: {} ({})",
                cell.value,
                cell.verdict.as_deref().unwrap_or("?")
            );
        }
    }
    let entries = &cell.entries;
    if entries.len() < row.builds.len() {
        let here: Vec<&str> = entries.iter().filter_map(|e| e.build.as_deref()).collect();
        let _ = write!(t, "\nbuilds made here: {}", here.join(", "));
    }
    entry_lines(&mut t, "raw", entries, |e| {
        (!e.raw.is_empty()).then(|| e.raw.clone())
    });
    entry_lines(&mut t, "expected", entries, |e| e.expected.clone());
    entry_lines(&mut t, "rule", entries, |e| {
        e.rule.as_ref().map(|r| match &e.profile {
            Some(p) => format!("{r} (profile {p})"),
            None => r.clone(),
        })
    });
    entry_lines(&mut t, "citation", entries, |e| {
        e.cite.map(|i| format!("[{}] below", i + 1))
    });
    if let Some(observer) = &column.compared_with {
        let reference = table.reference.as_deref().unwrap_or("the reference");
        match &cell.reference {
            Some(value) => {
                let _ = write!(t, "\ndiffers from {reference} · {observer}: {value}");
            }
            None if cell.state == CellState::Observed => {
                let _ = write!(t, "\ncompared with {reference} · {observer}");
            }
            None => {}
        }
    }
    t
}

/// The CSS class of a cell: its state and how it compares with the
/// reference.
fn cell_class(cell: Option<&CompatCell>, is_reference: bool, has_reference: bool) -> &'static str {
    match cell {
        None => "none",
        Some(c) => match c.state {
            CellState::NotApplicable => "na",
            CellState::NotInstalled => "ni",
            CellState::NotObserved => "no",
            CellState::Observed if is_reference => "ref",
            CellState::Observed if c.differs => "diff",
            CellState::Observed if has_reference => "same",
            CellState::Observed => "noref",
        },
    }
}

const STYLE: &str = r#"
body { font: 13px/1.35 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; }
h2 { font-size: 1.1em; }
[hidden] { display: none !important; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 2px 6px; white-space: nowrap; }
thead th { background: #f4f4f4; position: sticky; top: 0; z-index: 1; }
thead tr + tr th { top: 1.6em; }
tr.group th { background: #333; color: #fff; text-align: left; }
tbody th { text-align: left; font-weight: normal; font-family: ui-monospace, monospace; }
td.c { font-family: ui-monospace, monospace; }
td.ref { background: #e3edf9; }
td.same { background: #eef7ee; }
td.diff { background: #ffd27a; font-weight: bold; }
td.noref { background: #fff; }
td.na { background: repeating-linear-gradient(45deg, #eee, #eee 4px, #f8f8f8 4px, #f8f8f8 8px); color: #888; }
td.ni, td.no { background: #e6e6e6; color: #777; }
td.none { color: #bbb; }
td.c a.fn { font-size: 9px; vertical-align: super; color: #36c; text-decoration: none; margin-left: 2px; }
#filters { margin: 1em 0; }
#filters label { margin-right: 1.2em; }
.legend span { padding: 1px 6px; margin-right: 6px; border: 1px solid #ccc; }
ol#citations li { margin-bottom: .3em; }
"#;

const SCRIPT: &str = r#"
(function () {
  var group = document.getElementById('f-group');
  var target = document.getElementById('f-target');
  var diff = document.getElementById('f-diff');
  var count = document.getElementById('shown');
  var rows = document.querySelectorAll('#compat tbody tr.row');
  var heads = document.querySelectorAll('#compat tbody tr.group');
  var tcells = document.querySelectorAll('#compat td[data-t], #compat tr.obs th[data-t]');
  var theads = document.querySelectorAll('#compat th.tgt');
  function read() {
    var parts = location.hash.replace(/^#/, '').split('&');
    diff.checked = false; group.value = ''; target.value = '';
    for (var i = 0; i < parts.length; i++) {
      var p = decodeURIComponent(parts[i]);
      if (p === 'diff') { diff.checked = true; }
      else if (p.indexOf('group=') === 0) { group.value = p.slice(6); }
      else if (p.indexOf('target=') === 0) {
        var name = p.slice(7);
        for (var j = 0; j < target.options.length; j++) {
          if (target.options[j].text === name || target.options[j].value === name) { target.value = target.options[j].value; }
        }
      }
    }
  }
  function apply() {
    var g = group.value, t = target.value, d = diff.checked, shown = 0, groups = {};
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = g === '' || r.getAttribute('data-group') === g;
      if (ok && d) {
        var ds = (r.getAttribute('data-diff') || '').split(' ').filter(Boolean);
        ok = t === '' ? ds.length > 0 : ds.indexOf(t) >= 0;
      }
      r.hidden = !ok;
      if (ok) { shown++; groups[r.getAttribute('data-group')] = true; }
    }
    for (var k = 0; k < heads.length; k++) { heads[k].hidden = !groups[heads[k].getAttribute('data-group')]; }
    var spans = {};
    for (var m = 0; m < tcells.length; m++) {
      var c = tcells[m], ct = c.getAttribute('data-t');
      var by = ' ' + (c.getAttribute('data-r') || '') + ' ';
      c.hidden = t !== '' && ct !== t && !(ct === '0' && by.indexOf(' ' + t + ' ') >= 0);
      if (!c.hidden && c.tagName === 'TH') { spans[ct] = (spans[ct] || 0) + 1; }
    }
    for (var n = 0; n < theads.length; n++) {
      var span = spans[theads[n].getAttribute('data-t')] || 0;
      theads[n].hidden = span === 0;
      if (span > 0) { theads[n].colSpan = span; }
    }
    count.textContent = shown + ' of ' + rows.length + ' rows shown';
  }
  function save() {
    var h = [];
    if (diff.checked) { h.push('diff'); }
    if (group.value) { h.push('group=' + group.value); }
    if (target.value) { h.push('target=' + encodeURIComponent(target.options[target.selectedIndex].text)); }
    try { history.replaceState(null, '', h.length ? '#' + h.join('&') : location.pathname + location.search); } catch (e) {}
    apply();
  }
  read(); apply();
  group.addEventListener('change', save);
  target.addEventListener('change', save);
  diff.addEventListener('change', save);
  window.addEventListener('hashchange', function () { read(); apply(); });
})();
"#;

/// The page of `table`: self-contained (inline CSS and script, no network).
pub fn render_html(table: &CompatTable) -> String {
    let mut page = String::new();
    let n = table.targets.len();
    let reference = table.reference.as_deref().unwrap_or("none");
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <title>exitmatrix: {n} targets</title>\n<style>{STYLE}</style></head><body>\n\
         <h1>exitmatrix: what a parent sees, on {n} targets</h1>\n\
         <p>{tool}. Each cell is what one observer saw of one behaviour on one target, in profile words. \
         The reference is <b>{reference}</b> (the first report); a cell of another target is compared with the \
         reference's cell of the same row (same build) and observer.</p>\n",
        tool = esc(&table.tool),
        reference = esc(reference),
    );
    page.push_str(
        "<table id=\"targets\"><thead><tr><th>target</th><th>host</th><th>profile</th>\
         <th>rows</th><th>cells differing from the reference</th></tr></thead><tbody>\n",
    );
    for t in &table.targets {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td></tr>",
            esc(&t.target),
            esc(&t.host),
            esc(&t.profile),
            t.rows,
            if t.incomplete { " (incomplete)" } else { "" },
            t.differing
        );
    }
    page.push_str("</tbody></table>\n<form id=\"filters\"><label>group <select id=\"f-group\"><option value=\"\">all</option>");
    for g in Group::ALL {
        if table.rows.iter().any(|r| r.group == g) {
            let _ = write!(
                page,
                "<option value=\"{}\">{}</option>",
                g.id(),
                esc(g.title())
            );
        }
    }
    page.push_str(
        "</select></label><label>target <select id=\"f-target\"><option value=\"\">all</option>",
    );
    for (i, t) in table.targets.iter().enumerate().skip(1) {
        let _ = write!(page, "<option value=\"{i}\">{}</option>", esc(&t.target));
    }
    page.push_str(
        "</select></label><label><input type=\"checkbox\" id=\"f-diff\"> differences only</label>\
         <span id=\"shown\"></span></form>\n",
    );
    page.push_str(
        "<p class=\"legend\"><span style=\"background:#e3edf9\">reference</span>\
         <span style=\"background:#eef7ee\">same as the reference</span>\
         <span style=\"background:#ffd27a\"><b>differs from the reference</b></span>\
         <span>no reference (the reference has no such observer)</span>\
         <span style=\"background:#e6e6e6\">not installed / not observed</span>\
         <span style=\"background:#eee\">n/a: does not apply</span> \
         Marks: ✗ deviates from the target's profile, ? no expectation, ≈ known emulator divergence; \
         — the observer does not run the row. Hover a cell for its raw status, rule and reference; \
         its number is its citation. A target filter keeps the reference's columns it is compared with.</p>\n",
    );

    // The matrix.
    let column_t: Vec<usize> = table
        .columns
        .iter()
        .map(|c| {
            table
                .targets
                .iter()
                .position(|t| t.target == c.target)
                .unwrap_or(0)
        })
        .collect();
    let reference_of: Vec<bool> = table
        .columns
        .iter()
        .zip(&column_t)
        .map(|(c, &t)| t != 0 && c.compared_with.is_some())
        .collect();
    // Each column's attributes: its target's index and, on a reference
    // column, the targets compared with it (the target filter keeps those).
    let column_attrs: Vec<String> = table
        .columns
        .iter()
        .zip(&column_t)
        .map(|(c, &t)| {
            let mut by: Vec<usize> = Vec::new();
            if t == 0 {
                by = table
                    .columns
                    .iter()
                    .zip(&column_t)
                    .filter(|(o, _)| o.compared_with.as_deref() == Some(c.observer.as_str()))
                    .map(|(_, &ot)| ot)
                    .collect();
                by.dedup();
            }
            let by: Vec<String> = by.iter().map(ToString::to_string).collect();
            if by.is_empty() {
                format!(" data-t=\"{t}\"")
            } else {
                format!(" data-t=\"{t}\" data-r=\"{}\"", by.join(" "))
            }
        })
        .collect();
    page.push_str(
        "<table id=\"compat\"><thead><tr><th rowspan=\"2\">behaviour</th><th rowspan=\"2\">build</th>",
    );
    let mut i = 0;
    while i < table.columns.len() {
        let t = column_t[i];
        let span = column_t[i..].iter().take_while(|&&x| x == t).count();
        let _ = write!(
            page,
            "<th class=\"tgt\" colspan=\"{span}\" data-t=\"{t}\">{}</th>",
            esc(&table.columns[i].target)
        );
        i += span;
    }
    page.push_str("</tr>\n<tr class=\"obs\">");
    for (c, column) in table.columns.iter().enumerate() {
        let title = match &column.compared_with {
            Some(o) => format!(
                "{}\ncompared with {} · {o}",
                column.label(),
                table.reference.as_deref().unwrap_or("the reference")
            ),
            None => column.label(),
        };
        let _ = write!(
            page,
            "<th{} title=\"{}\">{}</th>",
            column_attrs[c],
            esc(&title),
            esc(&column.observer)
        );
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    let width = table.columns.len() + 2;
    let mut current: Option<Group> = None;
    for row in &table.rows {
        if current != Some(row.group) {
            current = Some(row.group);
            let _ = writeln!(
                page,
                "<tr class=\"group\" data-group=\"{}\"><th colspan=\"{width}\">{}</th></tr>",
                row.group.id(),
                esc(row.group.title())
            );
        }
        let diff: Vec<String> = row
            .differs
            .iter()
            .filter_map(|d| table.targets.iter().position(|t| &t.target == d))
            .map(|i| i.to_string())
            .collect();
        let _ = write!(
            page,
            "<tr class=\"row\" data-group=\"{}\" data-diff=\"{}\"><th title=\"{}\">{}</th><td>{}</td>",
            row.group.id(),
            diff.join(" "),
            esc(&row.summary),
            esc(&row.name),
            esc(&row.build_text())
        );
        for (c, column) in table.columns.iter().enumerate() {
            let cell = row.cells.get(c).and_then(Option::as_ref);
            let class = cell_class(cell, column_t[c] == 0, reference_of[c]);
            match cell {
                None => {
                    let _ = write!(page, "<td class=\"c none\"{}>—</td>", column_attrs[c]);
                }
                Some(cell) => {
                    let mut notes: Vec<usize> =
                        cell.entries.iter().filter_map(|e| e.cite).collect();
                    notes.sort_unstable();
                    notes.dedup();
                    let _ = write!(
                        page,
                        "<td class=\"c {class}\"{} title=\"{}\">{}",
                        column_attrs[c],
                        esc(&cell_title(table, row, column, cell)),
                        esc(&cell.text)
                    );
                    for n in notes {
                        let _ = write!(page, "<a class=\"fn\" href=\"#cite-{0}\">{0}</a>", n + 1);
                    }
                    page.push_str("</td>");
                }
            }
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table>\n<h2>Citations</h2>\n<ol id=\"citations\">\n");
    for (i, c) in table.citations.iter().enumerate() {
        let _ = writeln!(page, "<li id=\"cite-{}\">{}</li>", i + 1, esc(c));
    }
    let _ = write!(page, "</ol>\n<script>{SCRIPT}</script>\n</body></html>\n");
    page
}

/// The compatibility page of `reports` (the first is the reference): see
/// the module documentation.
pub fn html(reports: &[Report]) -> String {
    render_html(&table(reports))
}

/// `table` as Markdown: a list of targets, then one table per group with
/// the columns that group uses.
pub fn render_markdown(table: &CompatTable) -> String {
    let md = |s: &str| s.replace('|', "\\|");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# exitmatrix: what a parent sees, on {} targets\n",
        table.targets.len()
    );
    let _ = writeln!(
        out,
        "Reference: `{}` (the first report). `≠` marks a value that differs from the reference's for \
         the same row (same build) and observer; `✗` deviates from the target's own profile, `?` has no \
         expectation, `≈` is a known emulator divergence; `n/a` does not apply to the target; `—` the \
         observer does not run the row. {}.\n",
        table.reference.as_deref().unwrap_or("none"),
        table.tool
    );
    out.push_str("| target | host | profile | rows | cells differing from the reference |\n|---|---|---|---:|---:|\n");
    for t in &table.targets {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}{} | {} |",
            md(&t.target),
            md(&t.host),
            md(&t.profile),
            t.rows,
            if t.incomplete { " (incomplete)" } else { "" },
            t.differing
        );
    }
    for g in Group::ALL {
        let rows: Vec<&CompatRow> = table.rows.iter().filter(|r| r.group == g).collect();
        if rows.is_empty() {
            continue;
        }
        let used: Vec<usize> = (0..table.columns.len())
            .filter(|&c| {
                rows.iter()
                    .any(|r| r.cells.get(c).is_some_and(Option::is_some))
            })
            .collect();
        let _ = writeln!(out, "\n## {}\n", g.title());
        let headers: Vec<String> = used
            .iter()
            .map(|&c| md(&table.columns[c].label()))
            .collect();
        let _ = writeln!(out, "| behaviour | build | {} |", headers.join(" | "));
        let _ = writeln!(out, "|---|---|{}", "---|".repeat(used.len()));
        for row in rows {
            let cells: Vec<String> = used
                .iter()
                .map(|&c| match row.cells.get(c).and_then(Option::as_ref) {
                    None => "—".to_owned(),
                    Some(cell) if cell.differs => format!("≠ {}", md(&cell.text)),
                    Some(cell) => md(&cell.text),
                })
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                md(&row.name),
                md(&row.build_text()),
                cells.join(" | ")
            );
        }
    }
    out
}

/// The compatibility table of `reports` as Markdown (the first is the
/// reference).
pub fn markdown(reports: &[Report]) -> String {
    render_markdown(&table(reports))
}

/// Writes `compat.html`, `compat.md` and `compat.json` of `reports` (the
/// first is the reference) into `out_dir`, creating it if need be, and
/// returns their paths.
pub fn write(reports: &[Report], out_dir: &Path) -> Result<Vec<PathBuf>, FormatError> {
    write_table(&table(reports), out_dir)
}

/// Writes `compat.html`, `compat.md` and `compat.json` of `table` into
/// `out_dir`, creating it if need be, and returns their paths.
pub fn write_table(table: &CompatTable, out_dir: &Path) -> Result<Vec<PathBuf>, FormatError> {
    std::fs::create_dir_all(out_dir).map_err(|source| FormatError::Write {
        path: out_dir.to_owned(),
        source,
    })?;
    let json_path = out_dir.join("compat.json");
    let json = serde_json::to_string_pretty(table).map_err(|e| FormatError::Write {
        path: json_path.clone(),
        source: e.into(),
    })?;
    let files = [
        (out_dir.join("compat.html"), render_html(table)),
        (out_dir.join("compat.md"), render_markdown(table)),
        (json_path, json + "\n"),
    ];
    let mut written = Vec::new();
    for (path, text) in files {
        std::fs::write(&path, text).map_err(|source| FormatError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

// ---------------------------------------------------------------------------
// Loading and comparing.

/// Why a report or compat table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON, or not of the shape of a report or compat table.
    #[error("{}: not a valid exitmatrix report or compat table: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The file is JSON of the right kind whose content cannot be used.
    #[error("{}: {what}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
}

/// What kind of file was loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadedKind {
    /// A single-target report (`report-<target>.json`).
    Report,
    /// A combined `compat.json`.
    Compat,
}

/// Which cell: target, row, build and observer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellKey {
    /// The target triple.
    pub target: String,
    /// The behaviour or own case.
    pub name: String,
    /// The build; `None` for an own case.
    pub build: Option<String>,
    /// The observer.
    pub observer: String,
}

impl fmt::Display for CellKey {
    /// `target: exit-3 [c · waitpid]`, or `target: sh-exit-256 [dash]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.build {
            Some(b) => write!(
                f,
                "{}: {} [{b} · {}]",
                self.target, self.name, self.observer
            ),
            None => write!(f, "{}: {} [{}]", self.target, self.name, self.observer),
        }
    }
}

/// What is compared of a cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellFacts {
    /// The observed text, `, continued` left out.
    pub value: String,
    /// The verdict.
    pub verdict: String,
    /// The expected outcomes, ` | `-separated.
    pub expected: Option<String>,
    /// The rule's `file:line:column`, without the file's directory.
    pub rule: Option<String>,
    /// The citation.
    pub cite: Option<String>,
}

impl CellFacts {
    /// The fields that differ from `new`, as (name, old, new).
    fn changes(&self, new: &CellFacts) -> Vec<FieldChange> {
        let none = || "none".to_owned();
        let fields: [(&'static str, String, String); 5] = [
            ("value", self.value.clone(), new.value.clone()),
            ("verdict", self.verdict.clone(), new.verdict.clone()),
            (
                "expected",
                self.expected.clone().unwrap_or_else(none),
                new.expected.clone().unwrap_or_else(none),
            ),
            (
                "rule",
                self.rule.clone().unwrap_or_else(none),
                new.rule.clone().unwrap_or_else(none),
            ),
            (
                "cite",
                self.cite.clone().unwrap_or_else(none),
                new.cite.clone().unwrap_or_else(none),
            ),
        ];
        fields
            .into_iter()
            .filter(|(_, old, new)| old != new)
            .map(|(field, old, new)| FieldChange { field, old, new })
            .collect()
    }
}

/// A report or compat table, as the cells it holds.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// What the file was.
    pub kind: LoadedKind,
    /// The targets it covers.
    pub targets: Vec<String>,
    /// The targets whose run was interrupted.
    pub incomplete: Vec<String>,
    /// Every cell and own case.
    pub cells: BTreeMap<CellKey, CellFacts>,
}

enum Document {
    Report(Box<JsonReport>),
    Compat(Box<CompatTable>),
}

fn read(path: &Path) -> Result<Document, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    let json_error = |source| LoadError::Json {
        path: path.to_owned(),
        source,
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(json_error)?;
    let invalid = |what: String| LoadError::Invalid {
        path: path.to_owned(),
        what,
    };
    if value.get("kind").and_then(|k| k.as_str()) == Some(COMPAT_KIND) {
        let schema = value.get("schema").and_then(|s| s.as_u64());
        if schema != Some(u64::from(COMPAT_SCHEMA)) {
            return Err(invalid(format!(
                "compat table schema {} is not the one this tool reads ({COMPAT_SCHEMA})",
                schema.map_or_else(|| "missing".to_owned(), |s| s.to_string())
            )));
        }
        let table: CompatTable = serde_json::from_value(value).map_err(json_error)?;
        if table
            .rows
            .iter()
            .any(|r| r.cells.len() != table.columns.len())
        {
            return Err(invalid("a row's cells do not match the columns".into()));
        }
        return Ok(Document::Compat(Box::new(table)));
    }
    if value.get("cells").is_none() {
        return Err(invalid(
            "neither an exitmatrix report (no `cells`) nor a compat table (`kind` is not `exitmatrix-compat`)"
                .into(),
        ));
    }
    let report: JsonReport = serde_json::from_value(value).map_err(json_error)?;
    if report.schema != SCHEMA_VERSION {
        return Err(invalid(format!(
            "report schema {} is not the one this tool reads ({SCHEMA_VERSION})",
            report.schema
        )));
    }
    Ok(Document::Report(Box::new(report)))
}

/// Reads a single-target JSON report or a `compat.json` (told apart by
/// `kind`) as the cells it holds.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let mut cells = BTreeMap::new();
    match read(path)? {
        Document::Report(report) => {
            let facts = facts_of_json(*report).map_err(|what| LoadError::Invalid {
                path: path.to_owned(),
                what,
            })?;
            for f in facts.facts {
                cells.insert(
                    CellKey {
                        target: facts.target.clone(),
                        name: f.name,
                        build: f.build,
                        observer: f.observer,
                    },
                    CellFacts {
                        value: f.value,
                        verdict: f.verdict,
                        expected: f.expected,
                        rule: f.rule,
                        cite: f.cite,
                    },
                );
            }
            Ok(Loaded {
                kind: LoadedKind::Report,
                incomplete: if facts.incomplete {
                    vec![facts.target.clone()]
                } else {
                    Vec::new()
                },
                targets: vec![facts.target],
                cells,
            })
        }
        Document::Compat(table) => {
            for row in &table.rows {
                for (column, cell) in table.columns.iter().zip(&row.cells) {
                    for e in cell.iter().flat_map(|c| &c.entries) {
                        let cite = match e.cite {
                            Some(i) => Some(table.citations.get(i).cloned().ok_or_else(|| {
                                LoadError::Invalid {
                                    path: path.to_owned(),
                                    what: format!(
                                        "citation {i} of {} is not in `citations`",
                                        row.name
                                    ),
                                }
                            })?),
                            None => None,
                        };
                        cells.insert(
                            CellKey {
                                target: column.target.clone(),
                                name: row.name.clone(),
                                build: e.build.clone(),
                                observer: column.observer.clone(),
                            },
                            CellFacts {
                                value: e.value.clone(),
                                verdict: e.verdict.clone(),
                                expected: e.expected.clone(),
                                rule: e.rule.clone(),
                                cite,
                            },
                        );
                    }
                }
            }
            Ok(Loaded {
                kind: LoadedKind::Compat,
                targets: table.targets.iter().map(|t| t.target.clone()).collect(),
                incomplete: table
                    .targets
                    .iter()
                    .filter(|t| t.incomplete)
                    .map(|t| t.target.clone())
                    .collect(),
                cells,
            })
        }
    }
}

/// One field of a cell that changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    /// `value`, `verdict`, `expected`, `rule` or `cite`.
    pub field: &'static str,
    /// Before.
    pub old: String,
    /// After.
    pub new: String,
}

/// How a cell changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Only the new side has it.
    Added(CellFacts),
    /// Only the old side has it.
    Removed(CellFacts),
    /// Both have it, with these fields different.
    Changed(Vec<FieldChange>),
}

/// One cell that is not the same on both sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Which cell.
    pub key: CellKey,
    /// How.
    pub kind: ChangeKind,
}

/// What changed between two reports.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Cells on the old side.
    pub old_cells: usize,
    /// Cells on the new side.
    pub new_cells: usize,
    /// Every change, in key order.
    pub changes: Vec<Change>,
    /// What a reader should know that is not a change (an interrupted run).
    pub notes: Vec<String>,
}

impl Comparison {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// 0 when nothing changed, 1 when anything did.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.is_empty())
    }

    /// One line per changed, added or removed cell, then a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        let (mut changed, mut added, mut removed) = (0, 0, 0);
        for c in &self.changes {
            match &c.kind {
                ChangeKind::Changed(fields) => {
                    changed += 1;
                    let parts: Vec<String> = fields
                        .iter()
                        .map(|f| format!("{} {} → {}", f.field, f.old, f.new))
                        .collect();
                    let _ = writeln!(out, "changed: {}: {}", c.key, parts.join("; "));
                }
                ChangeKind::Added(f) => {
                    added += 1;
                    let _ = writeln!(out, "added: {}: {} ({})", c.key, f.value, f.verdict);
                }
                ChangeKind::Removed(f) => {
                    removed += 1;
                    let _ = writeln!(out, "removed: {}: {} ({})", c.key, f.value, f.verdict);
                }
            }
        }
        if self.is_empty() {
            let _ = writeln!(
                out,
                "no change: {} cells on both sides are the same",
                self.old_cells
            );
        } else {
            let _ = writeln!(
                out,
                "{changed} changed, {added} added, {removed} removed ({} cells before, {} after)",
                self.old_cells, self.new_cells
            );
        }
        out
    }
}

/// The cells of `new` that differ from `old`'s, and those only one has.
pub fn compare(old: &Loaded, new: &Loaded) -> Comparison {
    let mut changes = Vec::new();
    for (key, before) in &old.cells {
        match new.cells.get(key) {
            None => changes.push(Change {
                key: key.clone(),
                kind: ChangeKind::Removed(before.clone()),
            }),
            Some(after) => {
                let fields = before.changes(after);
                if !fields.is_empty() {
                    changes.push(Change {
                        key: key.clone(),
                        kind: ChangeKind::Changed(fields),
                    });
                }
            }
        }
    }
    for (key, after) in &new.cells {
        if !old.cells.contains_key(key) {
            changes.push(Change {
                key: key.clone(),
                kind: ChangeKind::Added(after.clone()),
            });
        }
    }
    changes.sort_by(|a, b| a.key.cmp(&b.key));
    let mut notes = Vec::new();
    for (side, loaded) in [("old", old), ("new", new)] {
        for t in &loaded.incomplete {
            notes.push(format!(
                "the {side} run of {t} was interrupted: its report is incomplete"
            ));
        }
    }
    Comparison {
        old_cells: old.cells.len(),
        new_cells: new.cells.len(),
        changes,
        notes,
    }
}

/// [`load`]s both files and [`compare`]s them.
pub fn compare_files(old: &Path, new: &Path) -> Result<Comparison, LoadError> {
    Ok(compare(&load(old)?, &load(new)?))
}
