//! Running a parent: a program such as a shell or `python3` that starts the
//! probe itself and tells, in its own way, how the probe ended.
//!
//! The harness spawns the parent as it spawns a direct reaper's probe
//! ([`crate::process::probe::Probe`]: on Linux the vfork-style
//! [`crate::process::fastspawn`], with memfd captures and a pooled, empty
//! case directory; elsewhere std's `Command`), so the parent gets the clean
//! environment, the case directory, the core limit and default signal
//! dispositions, and the probe inherits them. Then the harness watches it:
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

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::observers::observe::{Case, Observation};
use crate::os::{self, GroupSignal, Pid};
use crate::process::orphans::{self, Leak};
use crate::process::probe::Probe;
use crate::process::reap::{Control, Observed, Reapable, Reaper, WaitPid};
use crate::process::spawn::{self, Invocation};
use crate::process::watchdog::{Sent, Watchdog};
use crate::pure::decode::{self, RawStatus, StateChange, WaitConventions};
use crate::pure::view::Reported;

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
    /// What left the parent's process group and was ended after it.
    pub leaked: Vec<Leak>,
}

/// Runs a parent program to its end. An error is an infrastructure failure,
/// as a lowercase fragment.
pub fn run(run: &ParentRun<'_>) -> Result<ParentEnd, String> {
    let command = run.invocation.display();
    let mut spawned = Probe::spawn(false, run.invocation, run.core)
        .map_err(|e| format!("cannot spawn {command}: {e}"))?;
    let pid = spawned.child().pid();
    // Both spawn paths make the parent the leader of a new process group.
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
    os::signal_group(pgid, GroupSignal::Kill);
    let ending = reap_parent(spawned.child(), run.setting.wait);
    // The parent's group is reaped: what left it is ended now.
    let leaked = orphans::sweep_cell(pgid, spawned.dir());
    let continued = watched.map_err(|e| format!("cannot watch {command}: {e}"))?;
    let ending = ending.map_err(|e| format!("cannot reap {command}: {e}"))?;
    let result = read_result(spawned.dir(), run.result_file)?;
    if result.is_some() {
        // The parent's own file, read: without it a directory the probe
        // left empty goes back to the fast path's pool for the next cell.
        fs::remove_file(spawned.dir().join(run.result_file))
            .map_err(|e| format!("cannot remove {}: {e}", run.result_file))?;
    }
    let leftovers = spawned
        .finish()
        .map_err(|e| format!("cannot collect the output: {e}"))?;
    Ok(ParentEnd {
        ending,
        result,
        leftovers,
        watchdog,
        continued,
        leaked,
    })
}

/// Reaps the ended parent `child` and returns its final status, as
/// `waitpid(pid, &status, 0)` gives it: through std's `Child::wait` if
/// std started it, else with `waitpid` by pid (whose last state is the
/// parent's end: it has ended before this is called).
fn reap_parent(child: &mut dyn Reapable, wait: &WaitConventions) -> io::Result<Observed> {
    if let Some(child) = child.std_child() {
        let raw = os::raw_wait_status(&child.wait()?);
        return Ok(Observed {
            raw: RawStatus::WaitStatus { status: raw },
            change: decode::decode_wait_status(raw, wait),
        });
    }
    let states = WaitPid.reap(
        child,
        wait,
        &mut Control {
            continue_stops: false,
            before_reap: &mut || {},
        },
    )?;
    states
        .last()
        .copied()
        .ok_or_else(|| io::Error::other("waitpid reported no state"))
}

/// What a parent wrote to `name` in the case directory `dir`: `None` if it
/// wrote nothing (it may have ended before it could).
pub(crate) fn read_result(dir: &Path, name: &str) -> Result<Option<String>, String> {
    match fs::read_to_string(dir.join(name)) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {name}: {e}")),
    }
}

/// Runs `case`'s probe under a parent program: `parent_words` (the parent
/// and the words it takes before the probe) go in front of the probe's own
/// runner and program. Returns how the parent ended and the command line as
/// a shell would read it back, for the observer to turn into what it
/// reports.
pub fn run_probe(
    parent_words: Vec<OsString>,
    case: &Case<'_>,
    result_file: &str,
    continue_stops: bool,
) -> Result<(ParentEnd, String), String> {
    let mut runner = parent_words;
    runner.extend(case.invocation.runner.iter().cloned());
    let invocation = Invocation {
        runner,
        program: case.invocation.program.clone(),
        args: case.invocation.args.clone(),
    };
    let command = display_command(&invocation);
    let end = run(&ParentRun {
        invocation: &invocation,
        core: case.core,
        continue_stops,
        result_file,
        setting: Setting {
            wait: case.wait,
            timeout: case.timeout,
            grace: case.grace,
            interrupt: case.interrupt,
        },
    })?;
    Ok((end, command))
}

impl ParentEnd {
    /// The observation for a parent whose result file holds one number (a
    /// shell's `$?`): that number, or the parent's own ending if it wrote
    /// nothing.
    pub fn number_or_ending(self, command: String) -> Result<Observation, String> {
        let reported = match self.result.as_deref().map(str::trim) {
            None => Reported::Parent {
                ending: self.ending.change,
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
        let clean = StateChange::Exited { code: 0 };
        if self.result.is_some() && self.ending.change != clean {
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
            leaked: self.leaked.iter().map(ToString::to_string).collect(),
        }
    }
}

/// Waits until `pid` has ended without reaping it; continues the group when
/// a descendant is stopped. Returns how many times it did.
fn watch(pid: Pid, pgid: Pid, continue_stops: bool) -> io::Result<usize> {
    let pidfd = os::pidfd_open(pid);
    let mut continued = 0;
    let mut last_look = Instant::now();
    loop {
        if crate::process::reap::has_ended(pid)? {
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
                os::signal_group(pgid, GroupSignal::Continue);
                continued += 1;
            }
        }
    }
}

/// Whether a descendant of `root` is stopped (state `T` in
/// `/proc/<pid>/stat`). Looks at most at 64 processes.
pub(crate) fn any_descendant_stopped(root: Pid) -> bool {
    let mut todo = os::children(root);
    let mut seen = 0;
    while let Some(pid) = todo.pop() {
        seen += 1;
        if seen > 64 {
            break;
        }
        if os::process_state(pid) == Some('T') {
            return true;
        }
        todo.extend(os::children(pid));
    }
    false
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

/// Whether `path` is an executable regular file.
pub fn is_executable(path: &Path) -> bool {
    os::is_executable(path)
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
