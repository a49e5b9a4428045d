//! Running a parent: a program such as a shell or `python3` that starts the
//! probe itself and tells, in its own way, how the probe ended.
//!
//! The harness spawns the parent (through [`crate::process::spawn::spawn`], so the
//! parent gets the clean environment, the case directory and the core limit,
//! and the probe inherits them) and watches it:
//!
//! - The parent leads its own process group, and the probe is in it (a
//!   non-interactive shell has no job control and makes no group of its
//!   own). The watchdog guards that group as it guards a probe's.
//! - A parent that waits without `WUNTRACED` never hears of a stop, so a
//!   stopped probe would hang it. While the parent runs, the harness looks
//!   at the parent's descendants every [`TICK`]; if one is stopped, it sends
//!   `SIGCONT` to the group, as a direct reaper continues a stopped probe.
//!   Observers whose parent continues the probe itself (the
//!   `py-waitstatus` script) turn this off.
//! - When the parent has ended, and while it is still unreaped (so its
//!   process group id cannot be reused), the watchdog is disarmed and what is
//!   left of the group is killed. Then the parent is reaped and the file it
//!   wrote its report to is read from the case directory.
//!
//! Also here: the rows that only some observers have ([`OwnCase`]) and
//! running them ([`run_own_cases`]).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::engine::matrix::{self, compare_output, Verdict};
use crate::observers::observe::{Observation, Observer};
use crate::process::reap::Observed;
use crate::process::spawn::{self, Invocation};
use crate::process::watchdog::{signal_group, Sent, Watchdog};
use crate::pure::decode::{self, RawStatus, Termination, WaitConventions};
use crate::pure::profile::{Expectation, Profile};
use crate::pure::signal::SignalTable;
use crate::pure::view::{self, Reported};

/// How often the harness looks for a stopped descendant of a running
/// parent.
pub const TICK: Duration = Duration::from_millis(10);

/// What a parent run needs besides its command line.
#[derive(Clone, Copy, Debug)]
pub struct Setting<'a> {
    /// The target's wait-status layout (to decode the parent's own status).
    pub wait: &'a WaitConventions,
    /// How long the parent and its probe may run before the watchdog sends
    /// SIGTERM to their group.
    pub timeout: Duration,
    /// How long after SIGTERM the watchdog sends SIGKILL.
    pub grace: Duration,
    /// The run's interrupt flag (see [`crate::process::watchdog::Watchdog::arm`]).
    pub interrupt: Option<&'a Arc<AtomicUsize>>,
}

/// One run of a parent program.
#[derive(Clone, Copy, Debug)]
pub struct ParentRun<'a> {
    /// The parent's whole command line (the probe is among its words).
    pub invocation: &'a Invocation,
    /// Whether the probe may dump core (see [`crate::process::spawn::spawn`]); the
    /// probe inherits the parent's limit.
    pub core: bool,
    /// Whether the harness continues a stopped descendant of the parent.
    pub continue_stops: bool,
    /// The file, in the case directory, the parent writes its report to.
    pub result_file: &'a str,
    /// Limits and conventions.
    pub setting: Setting<'a>,
}

/// How a parent run went.
#[derive(Clone, Debug)]
pub struct ParentEnd {
    /// The parent's own ending, as `waitpid` saw it.
    pub ending: Observed,
    /// What the parent wrote to its result file, if it wrote one.
    pub result: Option<String>,
    /// Output and core files of the parent and the probe.
    pub leftovers: spawn::Leftovers,
    /// The signals the watchdog sent to the group.
    pub watchdog: Sent,
    /// How many times the harness continued a stopped descendant.
    pub continued: usize,
}

/// Runs a parent program to its end. An error is an infrastructure failure,
/// as a lowercase fragment.
pub fn run(run: &ParentRun<'_>) -> Result<ParentEnd, String> {
    let command = run.invocation.display();
    let mut spawned = spawn::spawn(run.invocation, run.core)
        .map_err(|e| format!("cannot spawn {command}: {e}"))?;
    let pid = libc::pid_t::try_from(spawned.child.id()).expect("a pid fits in pid_t");
    // spawn makes the parent the leader of a new process group.
    let pgid = pid;
    let armed = Watchdog::global().arm(
        pgid,
        run.setting.timeout,
        run.setting.grace,
        run.setting.interrupt.cloned(),
    );
    let watched = watch(pid, pgid, run.continue_stops);
    // The parent has ended (or watching failed) but is not reaped: its
    // group id cannot be reused, so killing the group hits only what the
    // parent left behind.
    let watchdog = armed.disarm();
    signal_group(pgid, libc::SIGKILL);
    let status = spawned.child.wait();
    let continued = watched.map_err(|e| format!("cannot watch {command}: {e}"))?;
    let status = status.map_err(|e| format!("cannot reap {command}: {e}"))?;
    let raw = status.into_raw();
    let ending = Observed {
        raw: RawStatus::WaitStatus { status: raw },
        termination: decode::decode_wait_status(raw, run.setting.wait),
    };
    let result = match fs::read_to_string(spawned.dir().join(run.result_file)) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", run.result_file)),
    };
    let leftovers = spawned
        .finish()
        .map_err(|e| format!("cannot collect the output: {e}"))?;
    Ok(ParentEnd {
        ending,
        result,
        leftovers,
        watchdog,
        continued,
    })
}

impl ParentEnd {
    /// The observation for a parent whose result file holds one number (a
    /// shell's `$?`): that number, or the parent's own ending if it wrote
    /// nothing.
    pub fn number_or_ending(self, command: String) -> Result<Observation, String> {
        let reported = match self.result.as_deref().map(str::trim) {
            None => Reported::Parent {
                ending: self.ending.termination,
            },
            Some(text) => Reported::Code {
                value: text
                    .parse()
                    .map_err(|_| format!("the parent wrote {text:?}, not a number"))?,
            },
        };
        Ok(self.observation(command, vec![reported]))
    }

    /// The observation, given what the parent reported.
    pub fn observation(self, command: String, reported: Vec<Reported>) -> Observation {
        let mut notes = Vec::new();
        let clean = Termination::Exited { code: 0 };
        if self.result.is_some() && self.ending.termination != clean {
            notes.push(format!(
                "the parent reported, then ended with wait status {}",
                self.ending.raw
            ));
        }
        if self.continued > 0 {
            notes.push(format!(
                "the harness continued a stopped process of the parent's group {} time(s)",
                self.continued
            ));
        }
        Observation {
            command,
            states: Vec::new(),
            leftovers: self.leftovers,
            watchdog: self.watchdog,
            reported: Some(reported),
            notes,
        }
    }
}

/// Waits until `pid` has ended without reaping it; continues the group when
/// a descendant is stopped. Returns how many times it did.
fn watch(pid: libc::pid_t, pgid: libc::pid_t, continue_stops: bool) -> io::Result<usize> {
    let pidfd = os::pidfd_open(pid);
    let mut continued = 0;
    let mut last_look = Instant::now();
    loop {
        if ended(pid)? {
            return Ok(continued);
        }
        match &pidfd {
            Some(fd) => os::wait_readable(fd, TICK),
            // Without pidfds (Linux before 5.3), look often.
            None => std::thread::sleep(Duration::from_millis(1)),
        }
        if continue_stops && last_look.elapsed() >= TICK {
            last_look = Instant::now();
            if any_descendant_stopped(pid) {
                signal_group(pgid, libc::SIGCONT);
                continued += 1;
            }
        }
    }
}

/// Whether `pid`, our child, has ended (`waitid` with `WNOWAIT | WNOHANG`:
/// the child stays a zombie for [`run`] to reap).
fn ended(pid: libc::pid_t) -> io::Result<bool> {
    // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let id = libc::id_t::try_from(pid).expect("a child's pid is positive");
    loop {
        // SAFETY: `info` is a valid out-pointer; `pid` is our child.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                id,
                &mut info,
                libc::WEXITED | libc::WNOWAIT | libc::WNOHANG,
            )
        };
        if r == 0 {
            // SAFETY: waitid succeeded; with WNOHANG and no state change it
            // leaves si_pid zero, which the zeroed value already holds.
            return Ok(unsafe { info.si_pid() } != 0);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Whether a descendant of `root` is stopped (state `T` in
/// `/proc/<pid>/stat`). Looks at most at 64 processes.
fn any_descendant_stopped(root: libc::pid_t) -> bool {
    let mut todo = os::children(root);
    let mut seen = 0;
    while let Some(pid) = todo.pop() {
        seen += 1;
        if seen > 64 {
            break;
        }
        if os::state(pid) == Some('T') {
            return true;
        }
        todo.extend(os::children(pid));
    }
    false
}

#[cfg(target_os = "linux")]
mod os {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::Duration;

    /// `pidfd_open(2)`, or `None` where the kernel lacks it.
    pub fn pidfd_open(pid: libc::pid_t) -> Option<OwnedFd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        let fd = i32::try_from(fd).ok().filter(|&fd| fd >= 0)?;
        // SAFETY: the kernel just gave us this fd; nothing else owns it.
        Some(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Blocks until the process behind `fd` ends or `timeout` passes.
    pub fn wait_readable(fd: &OwnedFd, timeout: Duration) {
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd; EINTR or an error just ends the wait
        // early, and the caller looks again.
        unsafe { libc::poll(&mut pfd, 1, ms) };
    }

    /// The children of every thread of `pid` (`/proc/<pid>/task/*/children`).
    pub fn children(pid: libc::pid_t) -> Vec<libc::pid_t> {
        let mut found = Vec::new();
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return found;
        };
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
                found.extend(
                    text.split_whitespace()
                        .filter_map(|p| p.parse::<libc::pid_t>().ok()),
                );
            }
        }
        found
    }

    /// The state letter of `pid` (`R`, `S`, `T`, `Z`, ...).
    pub fn state(pid: libc::pid_t) -> Option<char> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // pid (comm) state ...; comm may hold spaces and parentheses.
        let (_, after) = stat.rsplit_once(')')?;
        after.trim_start().chars().next()
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    use std::os::fd::OwnedFd;
    use std::time::Duration;

    pub fn pidfd_open(_pid: libc::pid_t) -> Option<OwnedFd> {
        None
    }

    pub fn wait_readable(_fd: &OwnedFd, timeout: Duration) {
        std::thread::sleep(timeout);
    }

    /// Unknown without `/proc`: stops of a parent's probe cannot be seen.
    pub fn children(_pid: libc::pid_t) -> Vec<libc::pid_t> {
        Vec::new()
    }

    pub fn state(_pid: libc::pid_t) -> Option<char> {
        None
    }
}

/// Quotes `word` for a POSIX shell if it needs it (for reports only).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A command line as a shell would read it back (for reports only).
pub fn display_command(invocation: &Invocation) -> String {
    let words: Vec<String> = invocation
        .argv()
        .iter()
        .map(|w| shell_quote(&w.to_string_lossy()))
        .collect();
    words.join(" ")
}

/// A row of an observer's own: something only that kind of parent does
/// (a shell's `command not found`, a `multiprocessing` child's
/// `sys.exit("message")`), carried out without a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OwnCase {
    /// The row name, unique among rows (catalogue behaviours included).
    pub name: &'static str,
    /// One line saying what happens.
    pub summary: &'static str,
}

/// Everything known about one own case of one observer.
#[derive(Clone, Debug, Serialize)]
pub struct CaseReport {
    /// The case's name.
    pub case: String,
    /// The observer's name.
    pub observer: String,
    /// The command line that ran.
    pub command: String,
    /// What the parent reported.
    pub reported: Vec<Reported>,
    /// The same in profile words.
    pub observed_text: String,
    /// What the profile expects, with its citation.
    pub expected: Option<Expectation>,
    /// The comparison.
    pub verdict: Verdict,
    /// Why it does not conform (or why it could not be observed).
    pub problems: Vec<String>,
    /// What else a reader should know.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Standard output (lossy UTF-8, at most 4 KiB).
    pub stdout: String,
    /// Standard error (lossy UTF-8, at most 4 KiB).
    pub stderr: String,
    /// The signals the watchdog sent.
    pub watchdog: Vec<&'static str>,
    /// Wall time, in microseconds. Informative only.
    pub micros: u128,
}

/// Runs every own case of every observer in `observers` on `jobs` threads,
/// in observer order then case order. `filter` keeps the cases whose name
/// contains one of its patterns (all of them when it is empty).
pub fn run_own_cases(
    observers: &[&dyn Observer],
    filter: &[String],
    profile: &Profile,
    limits: matrix::Limits,
    jobs: usize,
    interrupt: &Arc<AtomicUsize>,
) -> Vec<CaseReport> {
    let mut todo: Vec<(&dyn Observer, OwnCase)> = Vec::new();
    for &o in observers {
        for case in o.own_cases() {
            if filter.is_empty() || filter.iter().any(|p| case.name.contains(p.as_str())) {
                todo.push((o, case));
            }
        }
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<usize, CaseReport>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                if interrupt.load(Ordering::SeqCst) != 0 {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(observer, case)) = todo.get(i) else {
                    break;
                };
                let setting = Setting {
                    wait: &profile.wait,
                    timeout: limits.timeout,
                    grace: limits.grace,
                    interrupt: Some(interrupt),
                };
                let mut report = run_own_case(observer, case, profile, &setting);
                if interrupt.load(Ordering::SeqCst) != 0 {
                    report.verdict = Verdict::Error;
                    report
                        .problems
                        .push("interrupted while this case ran".into());
                }
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(i, report);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_values()
        .collect()
}

/// Runs one own case and compares it with the profile.
pub fn run_own_case(
    observer: &dyn Observer,
    case: OwnCase,
    profile: &Profile,
    setting: &Setting<'_>,
) -> CaseReport {
    let mut report = CaseReport {
        case: case.name.to_owned(),
        observer: observer.name().to_owned(),
        command: String::new(),
        reported: Vec::new(),
        observed_text: String::new(),
        expected: profile
            .own_case_expectation(case.name, observer.name())
            .cloned(),
        verdict: Verdict::Error,
        problems: Vec::new(),
        notes: Vec::new(),
        stdout: String::new(),
        stderr: String::new(),
        watchdog: Vec::new(),
        micros: 0,
    };
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
    report.stdout = matrix::lossy_prefix(&observation.leftovers.stdout);
    report.stderr = matrix::lossy_prefix(&observation.leftovers.stderr);
    report.watchdog = observation.watchdog;
    report.notes = observation.notes;
    report.reported = observation.reported.unwrap_or_default();
    report.observed_text = view::display(&report.reported, profile.signals);
    let Some(expected) = &report.expected else {
        report.verdict = Verdict::NoExpectation;
        report
            .problems
            .push("no expectation in the profile for this case".into());
        return report;
    };
    report.problems = compare_reported(
        expected,
        &report.reported,
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
pub fn compare_reported(
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

/// Whether `path` is an executable regular file.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Looks `program` up in `search_path` (colon-separated directories), as
/// `execvp` would, without running anything.
pub fn find_program(program: &str, search_path: &str) -> Option<std::path::PathBuf> {
    search_path
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| is_executable(p))
}
