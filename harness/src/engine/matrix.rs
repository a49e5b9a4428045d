//! Running the matrix: every behaviour × build × observer, compared with the
//! profile of the target being checked.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::observers::observe::{Case, Observer};
use crate::process::reap::Observed;
use crate::process::spawn::Invocation;
use crate::pure::catalogue::{Behaviour, Build};
use crate::pure::decode::{RawStatus, Termination};
use crate::pure::outcome;
use crate::pure::profile::{Expectation, Profile};
use crate::toolchain::probes::ProbeSet;

/// One cell to run.
#[derive(Clone, Debug)]
pub struct Cell<'a> {
    /// The behaviour.
    pub behaviour: &'a Behaviour,
    /// The build.
    pub build: Build,
    /// The observer (a column).
    pub observer: &'a dyn Observer,
}

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
    pub decoded: Termination,
}

/// Everything known about one cell.
#[derive(Clone, Debug, Serialize)]
pub struct CellReport {
    /// The behaviour's name.
    pub behaviour: String,
    /// The build.
    pub build: Build,
    /// The observer's name.
    pub observer: String,
    /// The command line that ran.
    pub command: String,
    /// The states observed, final last.
    pub observed: Vec<ObservedState>,
    /// What a view (a shell, Python) reported instead of wait states.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported: Option<Vec<crate::pure::view::Reported>>,
    /// The same in profile words (`exit 0`, `stopped SIGSTOP, continued, exit 7`;
    /// `143` for a view).
    pub observed_text: String,
    /// What the profile expects, with its citation.
    pub expected: Option<Expectation>,
    /// The comparison.
    pub verdict: Verdict,
    /// Why it does not conform (or why it could not be observed).
    pub problems: Vec<String>,
    /// What else a reader should know about how the cell was checked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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
    /// Wall time from spawn to reap, in microseconds. Informative only.
    pub micros: u128,
}

/// The time limits of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a probe may run, unless its behaviour sets its own timeout.
    pub timeout: Duration,
    /// How long after SIGTERM the watchdog sends SIGKILL.
    pub grace: Duration,
    /// Whether a core dump lands in the probe's own directory (a relative
    /// `core_pattern`). If not, no case may dump core, and an expected core
    /// flag cannot be checked: see [`cores_contained`].
    pub cores_contained: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(10),
            grace: Duration::from_millis(500),
            cores_contained: true,
        }
    }
}

/// Whether the kernel's `core_pattern` writes a core file into the dumping
/// process's working directory, the only place the harness lets a core go.
/// A pattern with a `/` names another directory and one starting with `|`
/// pipes the core to a program (core(5)); neither is contained.
pub fn cores_contained(core_pattern: &str) -> bool {
    !core_pattern.starts_with('|') && !core_pattern.contains('/')
}

/// Runs `cells` on `jobs` threads and returns their reports in cell order.
///
/// Once `interrupt` is non-zero no new cell starts, and a cell that was
/// running is reported as not observed ("interrupted"): the caller makes
/// the watchdog kill the running probes. The reports of the cells that ran
/// are returned, still in cell order.
pub fn run(
    cells: &[Cell<'_>],
    profile: &Profile,
    probes: &ProbeSet,
    jobs: usize,
    limits: Limits,
    interrupt: &Arc<AtomicUsize>,
) -> Vec<CellReport> {
    run_with_progress(cells, profile, probes, jobs, limits, interrupt, &|| {})
}

/// [`run`], calling `done` after each cell (for a progress bar).
pub fn run_with_progress(
    cells: &[Cell<'_>],
    profile: &Profile,
    probes: &ProbeSet,
    jobs: usize,
    limits: Limits,
    interrupt: &Arc<AtomicUsize>,
    done: &(dyn Fn() + Sync),
) -> Vec<CellReport> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<CellReport>>> = Mutex::new(vec![None; cells.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                if interrupt.load(Ordering::SeqCst) != 0 {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(cell) = cells.get(i) else { break };
                let mut report = run_cell(cell, profile, probes, limits, Some(interrupt));
                if interrupt.load(Ordering::SeqCst) != 0 {
                    report.verdict = Verdict::Error;
                    report
                        .problems
                        .push("interrupted while this cell ran".into());
                }
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(report);
                done();
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Runs one cell.
pub fn run_cell(
    cell: &Cell<'_>,
    profile: &Profile,
    probes: &ProbeSet,
    limits: Limits,
    interrupt: Option<&Arc<AtomicUsize>>,
) -> CellReport {
    let observer = cell.observer.name();
    let expected = profile
        .expectation(&cell.behaviour.name, cell.build, observer)
        .cloned();
    let core = limits.cores_contained && expected.as_ref().is_some_and(Expectation::wants_core);
    let mut report = CellReport {
        behaviour: cell.behaviour.name.clone(),
        build: cell.build,
        observer: observer.to_owned(),
        command: String::new(),
        observed: Vec::new(),
        reported: None,
        observed_text: String::new(),
        expected,
        verdict: Verdict::Error,
        problems: Vec::new(),
        notes: Vec::new(),
        stdout: String::new(),
        stderr: String::new(),
        cores: Vec::new(),
        watchdog: Vec::new(),
        core_enabled: core,
        micros: 0,
    };
    if let Err(why) = cell.observer.available() {
        report.verdict = Verdict::NotInstalled;
        report.problems.push(why);
        return report;
    }
    let Some(program) = probes.path(cell.build, cell.behaviour.probe) else {
        report
            .problems
            .push(format!("build `{}` was not made", cell.build));
        return report;
    };
    let args = match cell
        .behaviour
        .resolved_args(|name| profile.signals.number(name).map(|s| s.0))
    {
        Ok(args) => args,
        Err(name) => {
            report.problems.push(format!(
                "signal `{name}` is not in table {}",
                profile.signals.name
            ));
            return report;
        }
    };
    let invocation = Invocation {
        runner: Vec::new(),
        program,
        args,
    };
    report.command = invocation.display();
    let case = Case {
        invocation: &invocation,
        core,
        wait: &profile.wait,
        timeout: cell.behaviour.timeout.unwrap_or(limits.timeout),
        grace: limits.grace,
        continue_stops: cell.behaviour.continue_stops,
        interrupt,
    };
    let started = Instant::now();
    let observed = cell.observer.observe(&case);
    report.micros = started.elapsed().as_micros();
    let observation = match observed {
        Ok(o) => o,
        Err(e) => {
            report.problems.push(e);
            return report;
        }
    };
    report.command = observation.command;
    report.stdout = lossy_prefix(&observation.leftovers.stdout);
    report.stderr = lossy_prefix(&observation.leftovers.stderr);
    report.cores = observation.leftovers.cores;
    report.watchdog = observation.watchdog;
    report.notes = observation.notes;
    let states: Vec<Termination> = observation.states.iter().map(|o| o.termination).collect();
    report.observed_text = match &observation.reported {
        Some(values) => crate::pure::view::display(values, profile.signals),
        None => outcome::display(&states, profile.signals),
    };
    report.reported = observation.reported;
    report.observed = observation
        .states
        .iter()
        .map(|&Observed { raw, termination }| ObservedState {
            raw,
            raw_text: raw.to_string(),
            decoded: termination,
        })
        .collect();
    let Some(expected) = &report.expected else {
        report.verdict = Verdict::NoExpectation;
        report
            .problems
            .push("no expectation in the profile for this cell".into());
        return report;
    };
    let mask_core = !limits.cores_contained && expected.wants_core();
    if mask_core {
        report.notes.push(
            "core dumps disabled (core_pattern is not contained): the core flag is not checked"
                .into(),
        );
    }
    report.problems = compare(expected, &report, &states, mask_core);
    report.verdict = if report.problems.is_empty() {
        Verdict::Conforms
    } else {
        Verdict::Deviates
    };
    report
}

/// The ways `states` and the output differ from `expected`; empty if they
/// conform.
pub(crate) fn compare(
    expected: &Expectation,
    report: &CellReport,
    states: &[Termination],
    mask_core: bool,
) -> Vec<String> {
    let (stdout, stderr, observed) = (&report.stdout, &report.stderr, &report.observed_text);
    let mut problems = Vec::new();
    let unflag = |s: &Termination| match *s {
        Termination::Signaled { signal, .. } if mask_core => Termination::Signaled {
            signal,
            core_dumped: false,
        },
        other => other,
    };
    let seen: Vec<Termination> = states.iter().map(unflag).collect();
    let matched = match &report.reported {
        Some(values) => expected.reported.contains(values),
        None => expected
            .any_of
            .iter()
            .any(|seq| seq.iter().map(unflag).eq(seen.iter().copied())),
    };
    if !matched {
        let wanted = if expected.outcome.len() == 1 {
            expected.outcome[0].clone()
        } else {
            format!("any of [{}]", expected.outcome.join(" | "))
        };
        problems.push(format!("outcome: expected {wanted}, observed {observed}"));
    }
    if expected.timed_out != report.watchdog {
        let show = |s: &[&str]| {
            if s.is_empty() {
                "nothing".to_owned()
            } else {
                s.join(", ")
            }
        };
        let want: Vec<&str> = expected.timed_out.iter().map(String::as_str).collect();
        problems.push(format!(
            "watchdog: expected it to send {}, it sent {}",
            show(&want),
            show(&report.watchdog)
        ));
    }
    compare_output(expected, stdout, stderr, &mut problems);
    problems
}

/// Adds to `problems` where the output differs from `expected`'s `stdout`,
/// `stderr-contains` and `stderr-lacks`.
pub(crate) fn compare_output(
    expected: &Expectation,
    stdout: &str,
    stderr: &str,
    problems: &mut Vec<String>,
) {
    if let Some(want) = &expected.stdout {
        if want != stdout {
            problems.push(format!("stdout: expected {want:?}, observed {stdout:?}"));
        }
    }
    for fragment in &expected.stderr_contains {
        if !stderr.contains(fragment.as_str()) {
            problems.push(format!(
                "stderr: expected to contain {fragment:?}, observed {stderr:?}"
            ));
        }
    }
    for fragment in &expected.stderr_lacks {
        if stderr.contains(fragment.as_str()) {
            problems.push(format!(
                "stderr: expected not to contain {fragment:?}, observed {stderr:?}"
            ));
        }
    }
}

/// `bytes` as lossy UTF-8, cut at 4 KiB.
pub(crate) fn lossy_prefix(bytes: &[u8]) -> String {
    const LIMIT: usize = 4096;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(LIMIT)]).into_owned();
    if bytes.len() > LIMIT {
        format!("{text}…[{} more bytes]", bytes.len() - LIMIT)
    } else {
        text
    }
}
