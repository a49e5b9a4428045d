//! Running the matrix: every behaviour × build × observer, and every
//! observer's own case, compared with the profile of the target being
//! checked, on one pool of worker threads.
//!
//! One [`Work`] is one row of the report ([`Row`]): a catalogue cell, whose
//! probe the observer runs, or an own case, which the observer carries out
//! itself. Both are observed, compared and counted the same way.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::observers::observe::{Case, Observer};
use crate::observers::parent::Setting;
use crate::process::reap::Observed;
use crate::process::spawn::Invocation;
use crate::pure::catalogue::{Behaviour, Build};
use crate::pure::decode::StateChange;
use crate::pure::observers::OwnCase;
use crate::pure::outcome;
use crate::pure::profile::{Expectation, Profile};
use crate::pure::signal::SignalTable;
use crate::pure::view::{self, Reported};
use crate::report::model::{ObservedState, Row, RowKind, Verdict};
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

/// One row to run: a cell, or an observer's own case.
#[derive(Clone, Debug)]
pub enum Work<'a> {
    /// A catalogue behaviour in one build under one observer.
    Cell(Cell<'a>),
    /// A case only this observer has.
    OwnCase(&'a dyn Observer, OwnCase),
}

/// The time limits of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a probe may run, unless its behaviour sets its own timeout.
    pub timeout: Duration,
    /// Added to a behaviour's own timeout (the hostile probes'), which is
    /// meant to cover a probe's start and no more: zero natively, the
    /// emulator's start on a loaded machine where one runs every probe
    /// ([`EMULATED_START_ALLOWANCE`]).
    pub start_allowance: Duration,
    /// How long after SIGTERM the watchdog sends SIGKILL.
    pub grace: Duration,
    /// Whether a core dump lands in the probe's own directory (a relative
    /// `core_pattern`). If not, no case may dump core, and an expected core
    /// flag cannot be checked: see [`cores_contained`].
    pub cores_contained: bool,
}

/// How much longer a behaviour's own timeout is where an emulator
/// (qemu-user, Wine) starts every probe. The hostile probes' 500 ms
/// ([`crate::pure::catalogue::HOSTILE_TIMEOUT`]) is far more than a native
/// probe's start, but not an emulated one's on a loaded machine: in one
/// `--all-targets` run on 2026-12-04 (2 processors, load 8-11), the
/// qemu-user targets' ordinary cells took 609-683 ms at the 99th
/// percentile and up to 932 ms, their `hostile-grandchild-holds-stdout`
/// cells (which must exit by themselves inside the bound) 34-466 ms, and
/// one such cell on mips64el was ended by the watchdog at 516 ms in CI
/// (observed, qemu-user 7.2 on Debian 12). 1.5 s more covers the slowest
/// cell seen with room to spare; the probes that never end wait that much
/// longer, on at most half the workers (see `Queues` in this module).
pub const EMULATED_START_ALLOWANCE: Duration = Duration::from_millis(1500);

impl Limits {
    /// The timeout of a cell of `behaviour`: its own plus the start
    /// allowance, or the run's.
    pub fn timeout_of(&self, behaviour: &Behaviour) -> Duration {
        behaviour
            .timeout
            .map_or(self.timeout, |own| own + self.start_allowance)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(10),
            start_allowance: Duration::ZERO,
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

/// Runs `work` on `jobs` threads and returns the rows in `work` order
/// (they start in `schedule`'s order).
///
/// Once `interrupt` is non-zero no new cell starts, and a cell that was
/// running is reported as not observed ("interrupted"): the caller makes
/// the watchdog kill the running probes. The reports of the cells that ran
/// are returned, still in cell order.
pub fn run(
    work: &[Work<'_>],
    profile: &Profile,
    probes: &ProbeSet,
    jobs: usize,
    limits: Limits,
    interrupt: &Arc<AtomicUsize>,
) -> Vec<Row> {
    run_with_progress(work, profile, probes, jobs, limits, interrupt, &|| {})
}

/// [`run`], calling `done` after each cell (for a progress bar).
pub fn run_with_progress(
    work: &[Work<'_>],
    profile: &Profile,
    probes: &ProbeSet,
    jobs: usize,
    limits: Limits,
    interrupt: &Arc<AtomicUsize>,
    done: &(dyn Fn() + Sync),
) -> Vec<Row> {
    run_shared(work, profile, probes, jobs, limits, interrupt, done, None)
}

/// A budget of workers that the targets of one run share (`--all-targets`
/// runs its targets at once): `-j` jobs, each worth [`Budget::UNITS_PER_JOB`]
/// units. A worker takes a share before each row and gives it back after;
/// a target that is not running rows (building, starting its emulator,
/// proving its runner) holds none, so another target's rows use the
/// processors meanwhile, and no more rows run at once than `-j` lets one
/// target run alone. See [`Budget::share`] for a row's share.
#[derive(Debug)]
pub struct Budget {
    /// Jobs held by [`Budget::hold_job`].
    preparing: AtomicUsize,
    free: Mutex<usize>,
    freed: Condvar,
    jobs: usize,
}

/// A job of a [`Budget`] held to prepare a target, given back when
/// dropped; meanwhile the budget is not [`Budget::quiet`].
#[derive(Debug)]
pub struct Preparing<'a> {
    _job: Permit<'a>,
    budget: &'a Budget,
}

impl Drop for Preparing<'_> {
    fn drop(&mut self) {
        self.budget.preparing.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A share of a [`Budget`], given back when dropped.
#[derive(Debug)]
pub struct Permit<'a> {
    budget: &'a Budget,
    units: usize,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.budget.free.lock().unwrap_or_else(|e| e.into_inner()) += self.units;
        self.budget.freed.notify_all();
    }
}

impl Budget {
    /// Units per job: a multiple of 2, 3 and 4, the numbers of columns
    /// whose workers share one process (see [`Budget::share`]).
    pub const UNITS_PER_JOB: usize = 12;

    /// A budget of `jobs` jobs.
    pub fn new(jobs: usize) -> Arc<Budget> {
        let jobs = jobs.max(1);
        Arc::new(Budget {
            preparing: AtomicUsize::new(0),
            free: Mutex::new(jobs * Self::UNITS_PER_JOB),
            freed: Condvar::new(),
            jobs,
        })
    }

    /// The jobs of the budget.
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// The units one row takes when a target runs `workers` workers to keep
    /// `jobs` processes going (a foreign target's columns wait for the one
    /// agent run they share: `engine::foreign::Foreign::workers`): `jobs`
    /// jobs over `workers` workers, at least one unit. A target alone thus
    /// never waits for its own workers: they take at most the whole budget.
    pub fn share(jobs: usize, workers: usize) -> usize {
        (jobs.max(1) * Self::UNITS_PER_JOB / workers.max(1)).clamp(1, Self::UNITS_PER_JOB)
    }

    /// Takes one job, waiting until it is free, for work that is not a row
    /// (preparing a target: its build, its runner's canary; an older
    /// system's emulator run); `None` once `interrupt` is set.
    pub fn hold_job(&self, interrupt: &AtomicUsize) -> Option<Preparing<'_>> {
        let job = self.take(Self::UNITS_PER_JOB, interrupt)?;
        self.preparing.fetch_add(1, Ordering::SeqCst);
        Some(Preparing {
            _job: job,
            budget: self,
        })
    }

    /// Whether no job is held to prepare a target (see [`run_shared`]).
    pub fn quiet(&self) -> bool {
        self.preparing.load(Ordering::SeqCst) == 0
    }

    /// Takes `units` (at most the whole budget), waiting until they are
    /// free; `None` once `interrupt` is set.
    fn take(&self, units: usize, interrupt: &AtomicUsize) -> Option<Permit<'_>> {
        let units = units.min(self.jobs * Self::UNITS_PER_JOB);
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if interrupt.load(Ordering::SeqCst) != 0 {
                return None;
            }
            if *free >= units {
                *free -= units;
                return Some(Permit {
                    budget: self,
                    units,
                });
            }
            // A timeout only to look at `interrupt` again.
            free = self
                .freed
                .wait_timeout(free, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// [`run_with_progress`] on `workers` threads that take their share of
/// `budget` (`Some((budget, units))`) for each row: the targets of one
/// `--all-targets` run share the processors this way.
#[expect(
    clippy::too_many_arguments,
    reason = "run_with_progress's, and the budget"
)]
pub fn run_shared(
    work: &[Work<'_>],
    profile: &Profile,
    probes: &ProbeSet,
    workers: usize,
    limits: Limits,
    interrupt: &Arc<AtomicUsize>,
    done: &(dyn Fn() + Sync),
    budget: Option<(&Budget, usize)>,
) -> Vec<Row> {
    let order = schedule(work);
    let queues = Queues::new(work, &order, workers.max(1));
    let results: Mutex<Vec<Option<Row>>> = Mutex::new(vec![None; work.len()]);
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| loop {
                if interrupt.load(Ordering::SeqCst) != 0 {
                    break;
                }
                let permit = match budget {
                    Some((budget, units)) => match budget.take(units, interrupt) {
                        Some(p) => Some(p),
                        None => break,
                    },
                    None => None,
                };
                let quiet = budget.is_none_or(|(b, _)| b.quiet());
                let (i, waiting) = match queues.pick(quiet) {
                    Pick::Row { index, waits } => (index, waits),
                    Pick::Later => {
                        drop(permit);
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    Pick::Done => break,
                };
                let item = &work[i];
                let mut report = match item {
                    Work::Cell(cell) => run_cell(cell, profile, probes, limits, Some(interrupt)),
                    Work::OwnCase(observer, case) => {
                        run_own_case(*observer, *case, profile, limits, Some(interrupt))
                    }
                };
                if interrupt.load(Ordering::SeqCst) != 0 {
                    report.verdict = Verdict::Error;
                    report.problems.push(match item {
                        Work::Cell(_) => "interrupted while this cell ran".into(),
                        Work::OwnCase(..) => "interrupted while this case ran".into(),
                    });
                }
                if waiting {
                    queues.running_waiting.fetch_sub(1, Ordering::SeqCst);
                }
                drop(permit);
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

/// Whether a row spends its time waiting rather than on a processor: a
/// hostile probe (a behaviour with its own timeout) runs until the
/// watchdog ends it, about a second, and the job-control case waits for
/// its terminal's answers. [`Queues`] keeps them from holding every
/// worker while processor-bound rows wait.
fn waits(item: &Work<'_>) -> bool {
    match item {
        Work::Cell(cell) => cell.behaviour.timeout.is_some(),
        Work::OwnCase(_, case) => crate::pure::observers::JOB_CONTROL_CASES.contains(case),
    }
}

/// The order the workers take `work` in: the rows that wait ([`waits`]),
/// longest timeout first, then the rest column by column (observers in
/// the order they first appear in `work`, each one's cells in `work`
/// order), the own cases last, as they come. A row that lasts started
/// last would leave the other workers idle meanwhile; a column's cells one
/// after another keep its parent warm (its server's next fork, its
/// program's pages): a Python cell between the cells of Java and Node took
/// 4.1 ms at the median, 2.7 ms next to other Python cells (observed on
/// the 2-core Linux VM of the README's figures). Only the order of
/// starting changes: every row is the same and the rows come back in
/// `work` order.
fn schedule(work: &[Work<'_>]) -> Vec<usize> {
    let mut columns: Vec<String> = Vec::new();
    let mut column = |name: &str| match columns.iter().position(|c| c == name) {
        Some(i) => i,
        None => {
            columns.push(name.to_owned());
            columns.len() - 1
        }
    };
    // (waiting rows, then cells, then own cases; longest timeout first;
    // column)
    let keys: Vec<_> = work
        .iter()
        .map(|item| match item {
            Work::Cell(cell) if waits(item) => (0, cell.behaviour.timeout, 0),
            Work::Cell(cell) => (1, None, column(cell.observer.name())),
            Work::OwnCase(..) if waits(item) => (0, None, 0),
            Work::OwnCase(..) => (2, None, 0),
        })
        .map(|(group, timeout, column)| (group, std::cmp::Reverse(timeout), column))
        .collect();
    let mut order: Vec<usize> = (0..work.len()).collect();
    // A stable sort: equal rows keep their `work` order.
    order.sort_by_key(|&i| keys[i]);
    order
}

/// The schedule split in two queues that the workers claim rows from: the
/// rows that wait ([`waits`]) and the others. While other rows remain, at
/// most half the workers (at least one) run waiting rows, so the
/// processors stay busy with the others meanwhile (at `-j2` two hostile
/// probes at once left both processors idle for a second); once the
/// others are all taken, every worker takes waiting rows.
struct Queues<'o> {
    waiting: &'o [usize],
    other: &'o [usize],
    next_waiting: AtomicUsize,
    next_other: AtomicUsize,
    /// Workers running a waiting row now.
    running_waiting: AtomicUsize,
    /// The most workers that run waiting rows while other rows remain.
    limit: usize,
}

/// What a worker does next.
#[derive(Debug, PartialEq, Eq)]
enum Pick {
    /// Runs `work[index]`; `waits` says it counts in
    /// [`Queues::running_waiting`] until it is done.
    Row { index: usize, waits: bool },
    /// Nothing it may take now, but rows remain: it looks again shortly.
    Later,
    /// Every row is taken.
    Done,
}

impl<'o> Queues<'o> {
    fn new(work: &[Work<'_>], order: &'o [usize], workers: usize) -> Queues<'o> {
        let split = order.iter().take_while(|&&i| waits(&work[i])).count();
        let (waiting, other) = order.split_at(split);
        Queues {
            waiting,
            other,
            next_waiting: AtomicUsize::new(0),
            next_other: AtomicUsize::new(0),
            running_waiting: AtomicUsize::new(0),
            limit: (workers / 2).max(1),
        }
    }

    /// Claims the next row of `rows` without running past the end.
    fn take(rows: &[usize], next: &AtomicUsize) -> Option<usize> {
        next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < rows.len()).then_some(n + 1)
        })
        .ok()
        .map(|n| rows[n])
    }

    /// The next row for a worker. The waiting rows (the hostile probes)
    /// are timed from their start: with a shared budget that is not
    /// `quiet` (another target builds or proves its runner, which would
    /// slow their start past that timeout) they wait.
    fn pick(&self, quiet: bool) -> Pick {
        let others_left = self.next_other.load(Ordering::SeqCst) < self.other.len();
        if quiet {
            // A waiting row if this worker may take one.
            let claimed = self
                .running_waiting
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (!others_left || n < self.limit).then_some(n + 1)
                })
                .is_ok();
            if claimed {
                if let Some(index) = Self::take(self.waiting, &self.next_waiting) {
                    return Pick::Row { index, waits: true };
                }
                self.running_waiting.fetch_sub(1, Ordering::SeqCst);
            }
        }
        if let Some(index) = Self::take(self.other, &self.next_other) {
            return Pick::Row {
                index,
                waits: false,
            };
        }
        if self.next_waiting.load(Ordering::SeqCst) < self.waiting.len() {
            Pick::Later
        } else {
            Pick::Done
        }
    }
}

/// Runs one cell.
pub fn run_cell(
    cell: &Cell<'_>,
    profile: &Profile,
    probes: &ProbeSet,
    limits: Limits,
    interrupt: Option<&Arc<AtomicUsize>>,
) -> Row {
    let observer = cell.observer.name();
    let expected = profile
        .expectation(&cell.behaviour.name, cell.build, observer)
        .cloned();
    // A case that may end by a signal runs with core dumps enabled whenever
    // they land in its own directory, so that "no core" for a Term signal
    // is observed, not imposed by a zero limit (LTP's waitpid and kill
    // tests check the core flag both ways too).
    let core = limits.cores_contained
        && expected
            .as_ref()
            .is_some_and(|e| e.ends_by_signal() || e.wants_core());
    let mut report = Row::new(
        RowKind::Cell(cell.build),
        &cell.behaviour.name,
        observer,
        expected,
    );
    report.core_enabled = core;
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
        timeout: limits.timeout_of(cell.behaviour),
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
    report.leaked = observation.leaked;
    let states: Vec<StateChange> = observation.states.iter().map(|o| o.change).collect();
    report.observed_text = match &observation.reported {
        Some(values) => view::display(values, profile.signals),
        None => outcome::display(&states, profile.signals),
    };
    report.reported = observation.reported;
    report.observed = observation
        .states
        .iter()
        .map(|&Observed { raw, change }| ObservedState {
            raw,
            raw_text: raw.to_string(),
            decoded: change,
        })
        .collect();
    let Some(expected) = &report.expected else {
        report.verdict = Verdict::NoExpectation;
        report
            .problems
            .push("no expectation in the profile for this cell".into());
        return report;
    };
    let mask_core = !limits.cores_contained && (expected.ends_by_signal() || expected.wants_core());
    if mask_core {
        report.core_unchecked = true;
        report.notes.push(
            "core flag not checked: core dumps are disabled, since core_pattern does not keep them in the case's directory"
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
    report: &Row,
    states: &[StateChange],
    mask_core: bool,
) -> Vec<String> {
    let (stdout, stderr, observed) = (&report.stdout, &report.stderr, &report.observed_text);
    let mut problems = Vec::new();
    let unflag = |s: &StateChange| match *s {
        StateChange::Signaled { signal, .. } if mask_core => StateChange::Signaled {
            signal,
            core_dumped: false,
        },
        other => other,
    };
    let seen: Vec<StateChange> = states.iter().map(unflag).collect();
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

/// Runs one own case and compares it with the profile.
pub fn run_own_case(
    observer: &dyn Observer,
    case: OwnCase,
    profile: &Profile,
    limits: Limits,
    interrupt: Option<&Arc<AtomicUsize>>,
) -> Row {
    let setting = Setting {
        wait: &profile.wait,
        timeout: limits.timeout,
        grace: limits.grace,
        interrupt,
    };
    let setting = &setting;
    let expected = profile
        .own_case_expectation(case.name, observer.name())
        .cloned();
    let mut report = Row::new(RowKind::OwnCase, case.name, observer.name(), expected);
    if let Err(why) = observer.available() {
        report.verdict = Verdict::NotInstalled;
        report.problems.push(why);
        return report;
    }
    let started = Instant::now();
    let observed = observer.observe_own(&case, setting);
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
    report.watchdog = observation.watchdog;
    report.notes = observation.notes;
    report.leaked = observation.leaked;
    let reported = observation.reported.unwrap_or_default();
    report.observed_text = view::display(&reported, profile.signals);
    report.reported = Some(reported);
    let Some(expected) = &report.expected else {
        report.verdict = Verdict::NoExpectation;
        report
            .problems
            .push("no expectation in the profile for this case".into());
        return report;
    };
    report.problems = compare_reported(
        expected,
        report.reported.as_deref().unwrap_or_default(),
        &report.stdout,
        &report.stderr,
        profile.signals,
    );
    report.verdict = if report.problems.is_empty() {
        Verdict::Conforms
    } else {
        Verdict::Deviates
    };
    report
}

/// The ways reported values and output differ from `expected`; empty if
/// they conform.
pub(crate) fn compare_reported(
    expected: &Expectation,
    reported: &[Reported],
    stdout: &str,
    stderr: &str,
    table: &SignalTable,
) -> Vec<String> {
    let mut problems = Vec::new();
    if !expected.reported.iter().any(|alt| alt == reported) {
        let wanted = if expected.outcome.len() == 1 {
            expected.outcome[0].clone()
        } else {
            format!("any of [{}]", expected.outcome.join(" | "))
        };
        problems.push(format!(
            "outcome: expected {wanted}, observed {}",
            view::display(reported, table)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observers::observe::Direct;
    use crate::process::reap::WaitPid;

    /// The start allowance lengthens a behaviour's own timeout (the hostile
    /// probes') and nothing else: the run's timeout for every other
    /// behaviour is a bound on the whole probe, which the start is part of.
    #[test]
    fn the_start_allowance_lengthens_only_a_behaviours_own_timeout() {
        let hostile = crate::pure::catalogue::find("hostile-sleeps-forever").unwrap();
        let plain = crate::pure::catalogue::find("exit-0").unwrap();
        let native = Limits::default();
        let emulated = Limits {
            start_allowance: EMULATED_START_ALLOWANCE,
            ..native
        };
        let own = crate::pure::catalogue::HOSTILE_TIMEOUT;
        assert_eq!(native.timeout_of(&hostile), own);
        assert_eq!(
            emulated.timeout_of(&hostile),
            own + EMULATED_START_ALLOWANCE
        );
        assert_eq!(native.timeout_of(&plain), native.timeout);
        assert_eq!(emulated.timeout_of(&plain), native.timeout);
    }

    /// The hostile cells start first; the rest go column by column, each
    /// column's cells in their order, the own cases last; every row is
    /// taken once.
    #[test]
    fn rows_that_last_start_first_and_the_rest_go_column_by_column() {
        use crate::process::reap::WaitId;
        let catalogue = crate::pure::catalogue::catalogue();
        let (first, second) = (Direct(WaitPid), Direct(WaitId));
        let mut work: Vec<Work<'_>> = Vec::new();
        // Cell-major, as engine::run builds it: each behaviour's columns
        // side by side.
        for b in &catalogue {
            for observer in [&first as &dyn Observer, &second] {
                work.push(Work::Cell(Cell {
                    behaviour: b,
                    build: Build::Unwind,
                    observer,
                }));
            }
        }
        let case = crate::pure::observers::own_cases()
            .next()
            .expect("an own case");
        work.push(Work::OwnCase(&first, case));
        let order = schedule(&work);

        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..work.len()).collect::<Vec<_>>());
        let lasts = |i: &usize| match &work[*i] {
            Work::Cell(c) => c.behaviour.timeout.is_some(),
            Work::OwnCase(..) => false,
        };
        let hostile = order.iter().filter(|i| lasts(i)).count();
        assert!(hostile > 0, "the catalogue has hostile probes");
        assert!(order[..hostile].iter().all(lasts), "{order:?}");
        let rest = &order[hostile..];
        assert_eq!(rest.last(), Some(&(work.len() - 1)), "the own case last");
        let cells = &rest[..rest.len() - 1];
        let name = |i: &usize| match &work[*i] {
            Work::Cell(c) => c.observer.name().to_owned(),
            Work::OwnCase(o, _) => o.name().to_owned(),
        };
        // One run of each column, the first observer's first.
        let half = cells.len() / 2;
        assert!(
            cells[..half].iter().all(|i| name(i) == first.name()),
            "{cells:?}"
        );
        assert!(
            cells[half..].iter().all(|i| name(i) == second.name()),
            "{cells:?}"
        );
        for column in [&cells[..half], &cells[half..]] {
            assert!(column.windows(2).all(|w| w[0] < w[1]), "{column:?}");
        }
    }

    /// While other rows remain, at most half the workers (at least one)
    /// run waiting rows; then every worker takes them. A budget that is
    /// not quiet holds the waiting rows back. Every row is taken once.
    #[test]
    fn half_the_workers_at_most_wait_while_other_rows_remain() {
        let catalogue = crate::pure::catalogue::catalogue();
        let observer = Direct(WaitPid);
        let work: Vec<Work<'_>> = catalogue
            .iter()
            .map(|b| {
                Work::Cell(Cell {
                    behaviour: b,
                    build: Build::Unwind,
                    observer: &observer,
                })
            })
            .collect();
        let order = schedule(&work);
        let waiting = work.iter().filter(|w| waits(w)).count();
        assert!(waiting >= 2, "the catalogue has hostile probes");

        // Two workers: one may wait, the other runs the rest meanwhile.
        let queues = Queues::new(&work, &order, 2);
        let first = queues.pick(true);
        assert!(matches!(first, Pick::Row { waits: true, .. }), "{first:?}");
        let second = queues.pick(true);
        assert!(
            matches!(second, Pick::Row { waits: false, .. }),
            "{second:?}"
        );
        // The waiting row ends: the next worker may wait again.
        queues.running_waiting.fetch_sub(1, Ordering::SeqCst);
        assert!(matches!(queues.pick(true), Pick::Row { waits: true, .. }));

        // Not quiet: only the other rows go, then the waiting ones wait.
        let queues = Queues::new(&work, &order, 2);
        let mut taken = Vec::new();
        loop {
            match queues.pick(false) {
                Pick::Row { index, waits } => {
                    assert!(!waits);
                    taken.push(index);
                }
                Pick::Later => break,
                Pick::Done => panic!("done with waiting rows left"),
            }
        }
        assert_eq!(taken.len(), work.len() - waiting);
        // Quiet again, with no other row left: every worker waits at once.
        for _ in 0..waiting {
            match queues.pick(true) {
                Pick::Row { index, waits: true } => taken.push(index),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(queues.running_waiting.load(Ordering::SeqCst), waiting);
        assert_eq!(queues.pick(true), Pick::Done);
        taken.sort_unstable();
        assert_eq!(taken, (0..work.len()).collect::<Vec<_>>());
    }

    /// A target alone never waits for its own workers: `workers` rows of
    /// its share take at most the whole budget (a foreign Unix target runs
    /// `jobs * 4` workers: `engine::foreign::Foreign::workers`).
    #[test]
    fn a_targets_workers_fit_the_budget_it_would_have_alone() {
        for jobs in 1..=8 {
            for workers in [jobs, jobs * 2, jobs * 3, jobs * 4] {
                let share = Budget::share(jobs, workers);
                assert!(share >= 1);
                assert!(
                    share * workers <= jobs * Budget::UNITS_PER_JOB,
                    "jobs {jobs}, workers {workers}, share {share}"
                );
            }
        }
    }

    /// Rows of several targets sharing a budget never take more than it
    /// holds at once, whatever their shares.
    #[test]
    fn rows_sharing_a_budget_never_exceed_it() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let budget = Budget::new(2);
        let total = 2 * Budget::UNITS_PER_JOB;
        let held = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let interrupt = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for (i, units) in [3, 3, 3, 12, 12, 6, 6, 3, 12, 3].into_iter().enumerate() {
                let (budget, held, most, interrupt) = (&budget, &held, &most, &interrupt);
                scope.spawn(move || {
                    for _ in 0..20 {
                        let permit = budget.take(units, interrupt).expect("not interrupted");
                        let now = held.fetch_add(units, Ordering::SeqCst) + units;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_micros(200 + 50 * i as u64));
                        held.fetch_sub(units, Ordering::SeqCst);
                        drop(permit);
                    }
                });
            }
        });
        let most = most.into_inner();
        assert!(most <= total, "{most} units held at once, of {total}");
        // And they did run side by side.
        assert!(most > Budget::UNITS_PER_JOB, "{most}");
        // A target preparing holds a job, and the budget is not quiet (the
        // timed rows wait) until it is done.
        assert!(budget.quiet());
        let preparing = budget.hold_job(&interrupt).expect("a free job");
        assert!(!budget.quiet());
        drop(preparing);
        assert!(budget.quiet());
        // An interrupted run takes nothing more.
        interrupt.store(2, Ordering::SeqCst);
        assert!(budget.take(3, &interrupt).is_none());
    }
}
