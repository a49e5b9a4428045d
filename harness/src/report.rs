//! Reports: the machine-readable JSON document and the table a person scans.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use comfy_table::{presets, Cell, ContentArrangement, Table};
use serde::Serialize;

use crate::catalogue::Build;
use crate::matrix::{CellReport, Verdict};

/// The version of the JSON report's shape; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Counts of verdicts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Cells run.
    pub cells: usize,
    /// Cells that conform.
    pub conforms: usize,
    /// Cells that deviate from the profile.
    pub deviates: usize,
    /// Cells the profile says nothing about.
    pub no_expectation: usize,
    /// Cells the harness could not observe.
    pub errors: usize,
}

impl Summary {
    /// Counts `cells`.
    pub fn of(cells: &[CellReport]) -> Summary {
        let mut s = Summary {
            cells: cells.len(),
            ..Summary::default()
        };
        for c in cells {
            match c.verdict {
                Verdict::Conforms => s.conforms += 1,
                Verdict::Deviates => s.deviates += 1,
                Verdict::NoExpectation => s.no_expectation += 1,
                Verdict::Error => s.errors += 1,
            }
        }
        s
    }
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
    /// Verdict counts.
    pub summary: Summary,
    /// Every cell, in catalogue order.
    pub cells: Vec<CellReport>,
}

/// The mark a verdict gets in the table.
fn mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Conforms => "✓",
        Verdict::Deviates => "✗",
        Verdict::NoExpectation => "?",
        Verdict::Error => "!",
    }
}

/// Renders the terminal table: one table per group of builds (Rust probes
/// run as `unwind` and `abort`, C probes as `c`); rows are behaviours and
/// columns are build × observer.
pub fn table(report: &Report) -> String {
    let mut observers: Vec<&str> = Vec::new();
    for c in &report.cells {
        if !observers.contains(&c.observer.as_str()) {
            observers.push(&c.observer);
        }
    }
    // Group rows by the builds they run in, keeping catalogue order.
    let mut groups: Vec<(Vec<Build>, Vec<&str>)> = Vec::new();
    let mut builds_of: BTreeMap<&str, Vec<Build>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for c in &report.cells {
        let builds = builds_of.entry(&c.behaviour).or_default();
        if builds.is_empty() {
            order.push(&c.behaviour);
        }
        if !builds.contains(&c.build) {
            builds.push(c.build);
        }
    }
    for name in order {
        let builds = builds_of[name].clone();
        match groups.iter_mut().find(|(b, _)| *b == builds) {
            Some((_, rows)) => rows.push(name),
            None => groups.push((builds, vec![name])),
        }
    }
    let index: BTreeMap<(&str, Build, &str), &CellReport> = report
        .cells
        .iter()
        .map(|c| ((c.behaviour.as_str(), c.build, c.observer.as_str()), c))
        .collect();

    let mut out = String::new();
    for (builds, rows) in groups {
        let mut table = Table::new();
        table
            .load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        let mut header = vec![Cell::new("behaviour")];
        for b in &builds {
            for r in &observers {
                header.push(Cell::new(format!("{b} · {r}")));
            }
        }
        table.set_header(header);
        for name in rows {
            let mut row = vec![Cell::new(name)];
            for &b in &builds {
                for &r in &observers {
                    let text = match index.get(&(name, b, r)) {
                        Some(c) if c.verdict == Verdict::Error => {
                            format!("{} error", mark(c.verdict))
                        }
                        Some(c) if !c.watchdog.is_empty() => {
                            format!(
                                "{} {} (timed out: {})",
                                mark(c.verdict),
                                c.observed_text,
                                c.watchdog.join(", ")
                            )
                        }
                        Some(c) => format!("{} {}", mark(c.verdict), c.observed_text),
                        None => "—".into(),
                    };
                    row.push(Cell::new(text));
                }
            }
            table.add_row(row);
        }
        let _ = writeln!(out, "{table}");
    }
    out
}

/// Lists every cell that does not conform, with its expected-vs-observed
/// lines and the expectation's location and citation, then a summary line.
pub fn findings(report: &Report) -> String {
    let mut out = String::new();
    let s = report.summary;
    let mut findings: Vec<&CellReport> = report
        .cells
        .iter()
        .filter(|c| c.verdict != Verdict::Conforms)
        .collect();
    findings.sort_by_key(|c| c.verdict != Verdict::Deviates);
    for c in findings {
        let label = match c.verdict {
            Verdict::Deviates => "deviation",
            Verdict::NoExpectation => "no expectation",
            _ => "error",
        };
        let _ = writeln!(
            out,
            "{label}: {} [{} · {}]: {}",
            c.behaviour, c.build, c.observer, c.command
        );
        for p in &c.problems {
            let _ = writeln!(out, "    {p}");
        }
        if let Some(e) = &c.expected {
            let _ = writeln!(out, "    expectation: {} ({})", e.location, e.cite);
        }
    }
    let _ = writeln!(
        out,
        "{}: {} cells, {} conform, {} deviate, {} without expectation, {} not observed (profile {})",
        report.target,
        s.cells,
        s.conforms,
        s.deviates,
        s.no_expectation,
        s.errors,
        report.profile_chain.join(" → ")
    );
    out
}
