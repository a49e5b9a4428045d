//! Processes that leave a probe's process group: found, ended and reported,
//! never lost.
//!
//! The watchdog and the end of every cell kill the probe's *process group*.
//! A descendant that leaves the group (`setsid`, `setpgid`: a double-forking
//! daemon, Wine's `wineserver`) is out of that reach, and when its parent
//! ends it is re-parented to init and never seen again. [`adopt`] makes the
//! harness a child subreaper (Linux's `PR_SET_CHILD_SUBREAPER`, prctl(2)),
//! so such orphans become its children instead:
//!
//! - at the end of each cell, [`sweep_cell`] looks at the harness's
//!   children: one whose working directory is inside the cell's own
//!   directory (where the probe started it) is the cell's *leak*: it is
//!   killed, reaped by pid and reported on the cell. One still in the cell's
//!   process group was only late to die (it never left): it is reaped
//!   silently. The group id cannot have been reused yet, since that process
//!   still holds it (a pid stays allocated while it names a live group);
//! - at the end of a run, when no cell is running, [`sweep_run`] ends and
//!   reaps every child left (a leak that moved out of its cell's directory,
//!   or a straggler) and reports the leaks;
//! - when several targets run at once (`--all-targets`), a target that
//!   ends cannot do that: it would end the other targets' processes. It
//!   sweeps only what is recognisably its own, [`sweep_scope`] (what its
//!   runner leaves on purpose: Wine's servers, which carry the target's
//!   `WINEPREFIX`), and the run-wide [`sweep_run`] comes once after the
//!   last target.
//!
//! Nothing here waits for "any child": every reap names its pid. The
//! subreaper is switched on by the command line only (a process-wide
//! setting would change what other code in a test binary sees), and where
//! the OS has none (macOS, the BSDs here; Windows, whose native host holds
//! a probe's tree in a Job object) [`adopt`] says so and the limit is
//! documented.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::os::{self, Pid};
use crate::process::reap;

static ADOPTING: AtomicBool = AtomicBool::new(false);

/// Process groups of cells that have ended: a child still in one of them at
/// the end of the run was late to die, not leaked.
static ENDED_GROUPS: Mutex<BTreeSet<Pid>> = Mutex::new(BTreeSet::new());

/// A process that left its probe's process group and was ended by the
/// harness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leak {
    /// Its pid.
    pub pid: Pid,
    /// Its command name (`/proc/<pid>/comm`), or `?` if it had ended.
    pub name: String,
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "process {} ({})", self.pid, self.name)
    }
}

/// Makes this process a child subreaper, so that the sweeps can see what
/// probes leave behind. Fails where the OS has no subreaper.
pub fn adopt() -> io::Result<()> {
    os::become_subreaper()?;
    ADOPTING.store(true, Ordering::SeqCst);
    Ok(())
}

/// Whether [`adopt`] succeeded in this process.
pub fn adopting() -> bool {
    ADOPTING.load(Ordering::SeqCst)
}

fn end(pid: Pid) {
    os::kill_process(pid);
    // By pid: nothing else waits for this process (it is not a child any
    // spawn path of this harness started).
    let _ = reap::discard(&mut reap::Pid(pid));
}

/// Ends what the cell whose probe led process group `pgid` and ran in `dir`
/// left behind, once its leader has been reaped, and returns the leaks. Does
/// nothing unless [`adopt`] succeeded.
pub fn sweep_cell(pgid: Pid, dir: &Path) -> Vec<Leak> {
    if !adopting() {
        return Vec::new();
    }
    let canonical = dir.canonicalize().ok();
    let inside =
        |p: &Path| p.starts_with(dir) || canonical.as_deref().is_some_and(|c| p.starts_with(c));
    let mut leaks = Vec::new();
    // Every cell pays this: read only the main thread's children, where
    // orphans land (about 11 µs against 95 µs for all of six threads'
    // files, measured here); the after-run sweep reads them all.
    for pid in os::adopted_children() {
        if os::process_group(pid) == Some(pgid) {
            end(pid);
        } else if os::process_cwd(pid).is_some_and(|cwd| inside(&cwd)) {
            let name = os::process_name(pid).unwrap_or_else(|| "?".to_owned());
            end(pid);
            leaks.push(Leak { pid, name });
        }
    }
    ENDED_GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(pgid);
    leaks
}

/// Ends and reaps the children of this process that a target's runner
/// left (call when none of the target's cells runs), and returns them as
/// leaks, as [`sweep_run`] would at the end of that target's own run: a
/// child whose environment holds `entry` (`NAME=value`, such as the
/// target's `WINEPREFIX=...`: `wineserver`) or whose working directory is
/// inside `dir` (Wine's own programs, `services.exe` and the others, run in
/// the prefix's `drive_c` and overwrite their environment), and a child (a
/// zombie has neither left to read) in the session of one of those. SIGTERM first, SIGKILL after 2 s (`RUN_GRACE`). Does
/// nothing unless [`adopt`] succeeded.
pub fn sweep_scope(entry: &str, dir: &Path) -> Vec<Leak> {
    if !adopting() {
        return Vec::new();
    }
    let children = os::own_children();
    let marked: Vec<Pid> = children
        .iter()
        .copied()
        .filter(|&p| {
            os::process_environ_has(p, entry)
                || os::process_cwd(p).is_some_and(|cwd| cwd.starts_with(dir))
        })
        .collect();
    let sessions: BTreeSet<Pid> = marked
        .iter()
        .filter_map(|&p| os::process_session(p))
        .collect();
    let scoped: Vec<Pid> = children
        .into_iter()
        .filter(|p| {
            marked.contains(p) || os::process_session(*p).is_some_and(|s| sessions.contains(&s))
        })
        .collect();
    end_gracefully(scoped)
}

/// SIGTERM to each of `pids`, SIGKILL after `RUN_GRACE` to what is left,
/// each reaped by pid; returns the leaks (those not in the process group
/// of a cell that has ended).
fn end_gracefully(pids: Vec<Pid>) -> Vec<Leak> {
    let ended = ENDED_GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let mut leaks = Vec::new();
    for &pid in &pids {
        let group = os::process_group(pid);
        let name = os::process_name(pid).unwrap_or_else(|| "?".to_owned());
        os::terminate_process(pid);
        if !group.is_some_and(|g| ended.contains(&g)) {
            leaks.push(Leak { pid, name });
        }
    }
    let deadline = Instant::now() + RUN_GRACE;
    let mut waiting = pids.clone();
    while !waiting.is_empty() && Instant::now() < deadline {
        waiting.retain(|&pid| !reap::has_ended(pid).unwrap_or(true));
        std::thread::sleep(Duration::from_millis(10));
    }
    for pid in pids {
        end(pid);
    }
    leaks
}

/// How long [`sweep_run`] lets what is left end on SIGTERM (a server such
/// as `wineserver` saves its state on it) before SIGKILL.
const RUN_GRACE: Duration = Duration::from_secs(2);

/// Ends and reaps every child of this process, SIGTERM first and SIGKILL
/// after 2 s (`RUN_GRACE`); call only when no cell is running. Returns the
/// leaks: the children not in the process group of a cell that has ended.
/// Does nothing unless [`adopt`] succeeded.
pub fn sweep_run() -> Vec<Leak> {
    if !adopting() {
        return Vec::new();
    }
    let leaks = end_gracefully(os::own_children());
    // What those left to this process while they ended.
    for pid in os::own_children() {
        end(pid);
    }
    ENDED_GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
    leaks
}
