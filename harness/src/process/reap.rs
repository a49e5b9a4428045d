//! Reapers: the different ways a parent can learn how its child ended.
//!
//! Each reaper waits for one child *by pid* (never `wait(-1)`, which would
//! steal other cells' children) and reports every state it observes, in
//! order. When the child stops, the reaper continues it with `SIGCONT`, so a
//! probe that stops itself ends. Reapers that disagree about the same
//! behaviour are a finding in themselves.
//!
//! A child is anything [`Reapable`]: a pid ([`Pid`]), a probe started by
//! [`crate::process::fastspawn`], or std's `Child`. The `waitpid` and `waitid` reapers
//! need only the pid; the `std` reaper needs std's `Child`
//! ([`Reaper::needs_std_child`]), so that std's own `wait` is what it shows.
//!
//! `waitpid` and `waitid` are Unix's; `GetExitCode` is Windows's; `std`
//! is both (on Windows through a process handle and a Job object, see
//! `process::windows`, Windows only). A reaper on an OS without it fails with an
//! error of kind `Unsupported`.

use std::fmt;
use std::io;
use std::process::Child;

use serde::Serialize;

use crate::os;
use crate::pure::decode::{RawStatus, StateChange, WaitConventions};

/// One state a reaper observed, raw and decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// Exactly what the reaper received.
    pub raw: RawStatus,
    /// What it means.
    pub change: StateChange,
}

/// What the caller needs from a reaper besides the states.
pub struct Control<'a> {
    /// Whether a stopped child is continued with SIGCONT. When false it stays
    /// stopped, and only the watchdog can end it.
    pub continue_stops: bool,
    /// Called once the child has ended but before it is reaped, while its pid
    /// (and so its process group id) cannot be reused: the caller disarms the
    /// watchdog and kills what is left of the group.
    pub before_reap: &'a mut dyn FnMut(),
}

impl fmt::Debug for Control<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Control")
            .field("continue_stops", &self.continue_stops)
            .finish_non_exhaustive()
    }
}

/// A child a reaper can wait for: an unreaped child of this process.
pub trait Reapable {
    /// Its pid, which stays its own until it is reaped.
    fn pid(&self) -> os::Pid;

    /// std's handle on it, if std's `Command` started it.
    fn std_child(&mut self) -> Option<&mut Child> {
        None
    }
}

/// A child known by its pid alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pid(pub os::Pid);

impl Reapable for Pid {
    fn pid(&self) -> os::Pid {
        self.0
    }
}

impl Reapable for Child {
    fn pid(&self) -> os::Pid {
        os::child_pid(self)
    }

    fn std_child(&mut self) -> Option<&mut Child> {
        Some(self)
    }
}

/// A way of waiting for a child.
pub trait Reaper: fmt::Debug + Send + Sync {
    /// The name used in profiles, reports and on the command line.
    fn name(&self) -> &'static str;

    /// Whether it can only wait for a child that std's `Command` started
    /// ([`Reapable::std_child`]); the others wait for any child by pid.
    fn needs_std_child(&self) -> bool {
        false
    }

    /// Waits until `child` has ended, continuing it each time it stops (if
    /// `control` says so), and returns every state observed, the final one
    /// last.
    fn reap(
        &self,
        child: &mut dyn Reapable,
        conv: &WaitConventions,
        control: &mut Control<'_>,
    ) -> io::Result<Vec<Observed>>;
}

/// The names of the reapers.
pub const NAMES: [&str; 3] = ["waitpid", "waitid", "std"];

/// `waitpid(pid, &status, WUNTRACED | WCONTINUED)`, decoded with the
/// target's wait-status layout.
///
/// # References
/// - POSIX.1-2017 XSH `wait`, `waitpid`
/// - waitpid(2)
#[derive(Debug, Clone, Copy)]
pub struct WaitPid;

impl Reaper for WaitPid {
    fn name(&self) -> &'static str {
        "waitpid"
    }

    fn reap(
        &self,
        child: &mut dyn Reapable,
        conv: &WaitConventions,
        control: &mut Control<'_>,
    ) -> io::Result<Vec<Observed>> {
        sys::wait_pid(child.pid(), conv, control)
    }
}

/// `waitid(P_PID, pid, &info, WEXITED | WSTOPPED | WCONTINUED)`, reading
/// `si_code` and the full-width `si_status`.
///
/// Every state it reports is also checked for what the rest of the
/// `siginfo_t` says ([`crate::pure::decode::siginfo_problem`]): `si_pid`
/// must be the probe's pid, `si_uid` the real user id (the probe's, which
/// is the harness's), and `si_status` of `CLD_CONTINUED` must be
/// `SIGCONT`. A mismatch is an error that names it, so the cell is "could
/// not be observed" and the run fails, never a pass.
///
/// # References
/// - POSIX.1-2017 XSH `waitid`
/// - waitid(2)
#[derive(Debug, Clone, Copy)]
pub struct WaitId;

impl Reaper for WaitId {
    fn name(&self) -> &'static str {
        "waitid"
    }

    fn reap(
        &self,
        child: &mut dyn Reapable,
        _conv: &WaitConventions,
        control: &mut Control<'_>,
    ) -> io::Result<Vec<Observed>> {
        sys::wait_id(child.pid(), control)
    }
}

/// std's `Child::wait`, read through `ExitStatus` and `ExitStatusExt`.
///
/// `Child::wait` never reports a stop: before calling it, this reaper peeks
/// with `waitid(..., WNOWAIT)` and continues a stopped child, but what it
/// reports is only what std tells.
///
/// # References
/// - `std::process::Child::wait`, `std::os::unix::process::ExitStatusExt`
#[derive(Debug, Clone, Copy)]
pub struct StdWait;

impl Reaper for StdWait {
    fn name(&self) -> &'static str {
        "std"
    }

    fn needs_std_child(&self) -> bool {
        true
    }

    fn reap(
        &self,
        child: &mut dyn Reapable,
        _conv: &WaitConventions,
        control: &mut Control<'_>,
    ) -> io::Result<Vec<Observed>> {
        let pid = child.pid();
        let child = child.std_child().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the std reaper needs a child started by std's Command",
            )
        })?;
        sys::std_wait(pid, child, control)
    }
}

/// `WaitForSingleObject` on the probe's process handle, then
/// `GetExitCodeProcess`: the raw 32-bit `DWORD` a Windows parent reads
/// (decoded with `decode_windows_exit_code`, NTSTATUS names and all).
/// Windows only; on Unix it fails with an error of kind `Unsupported`.
///
/// # References
/// - Microsoft Learn, GetExitCodeProcess: "the exit value specified in the
///   ExitProcess or TerminateProcess function, the return value from the
///   main or WinMain function of the process, or the exception value for an
///   unhandled exception that caused the process to terminate"
#[derive(Debug, Clone, Copy)]
pub struct GetExitCode;

impl Reaper for GetExitCode {
    fn name(&self) -> &'static str {
        crate::pure::observers::GET_EXIT_CODE
    }

    fn needs_std_child(&self) -> bool {
        // The process handle std's Child holds.
        true
    }

    fn reap(
        &self,
        child: &mut dyn Reapable,
        _conv: &WaitConventions,
        control: &mut Control<'_>,
    ) -> io::Result<Vec<Observed>> {
        let child = child.std_child().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "GetExitCodeProcess needs a child started by std's Command",
            )
        })?;
        sys::get_exit_code(child, control)
    }
}

/// Waits for `child` to end and reaps it, discarding its status: for a
/// caller that has given up on it (and killed it), so that no zombie is
/// left. Does not continue a stopped child.
pub fn discard(child: &mut dyn Reapable) -> io::Result<()> {
    if let Some(child) = child.std_child() {
        return child.wait().map(drop);
    }
    sys::discard(child.pid())
}

/// Whether `pid`, our child, has ended (`waitid` with `WNOWAIT | WNOHANG`:
/// the child stays a zombie for its parent to reap).
pub fn has_ended(pid: os::Pid) -> io::Result<bool> {
    sys::has_ended(pid)
}

/// The reapers on Unix: `waitpid`, `waitid` and `kill`.
#[cfg(unix)]
mod sys {
    use std::io;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Child;

    use super::{Control, Observed};
    use crate::pure::decode::{self, RawStatus, StateChange, WaitConventions};

    /// A stopped probe is continued at most this many times; a probe that
    /// keeps stopping is then killed, so a reaper always returns.
    const MAX_STOPS: usize = 8;

    /// [`super::WaitPid`]'s states.
    pub(super) fn wait_pid(
        pid: libc::pid_t,
        conv: &WaitConventions,
        control: &mut Control<'_>,
    ) -> io::Result<Vec<Observed>> {
        collect_states(pid, control, || {
            let mut status = 0;
            // SAFETY: `status` is a valid out-pointer; `pid` is our child.
            let r = retry_eintr(|| unsafe {
                libc::waitpid(pid, &mut status, libc::WUNTRACED | libc::WCONTINUED)
            })?;
            debug_assert_eq!(r, pid);
            Ok(Observed {
                raw: RawStatus::WaitStatus { status },
                change: decode::decode_wait_status(status, conv),
            })
        })
    }

    /// [`super::WaitId`]'s states.
    pub(super) fn wait_id(
        pid: libc::pid_t,
        control: &mut Control<'_>,
    ) -> io::Result<Vec<Observed>> {
        // SAFETY: getuid(2) cannot fail and has no preconditions.
        let uid = unsafe { libc::getuid() };
        collect_states(pid, control, || {
            let info = waitid_fields(pid, libc::WEXITED | libc::WSTOPPED | libc::WCONTINUED)?;
            if let Some(problem) = decode::siginfo_problem(&info, pid, uid, libc::SIGCONT) {
                return Err(io::Error::new(io::ErrorKind::InvalidData, problem));
            }
            let (code, status) = (info.code, info.status);
            Ok(Observed {
                raw: RawStatus::SigInfo { code, status },
                change: decode::decode_siginfo(code, status),
            })
        })
    }

    /// [`super::StdWait`]'s state: `child` is `pid`'s std handle.
    pub(super) fn std_wait(
        pid: libc::pid_t,
        child: &mut Child,
        control: &mut Control<'_>,
    ) -> io::Result<Vec<Observed>> {
        let mut stops = 0;
        loop {
            let options = if control.continue_stops {
                libc::WEXITED | libc::WSTOPPED
            } else {
                libc::WEXITED
            };
            let (code, _) = waitid(pid, options | libc::WNOWAIT)?;
            if code != decode::CLD_STOPPED && code != decode::CLD_TRAPPED {
                break;
            }
            stops += 1;
            stop_or_kill(pid, stops)?;
        }
        (control.before_reap)();
        let status = child.wait()?;
        // What std's accessors say, read the same way the assertion
        // library reads an ExitStatus.
        let change = crate::os::state_change_of(&status);
        Ok(vec![Observed {
            raw: RawStatus::WaitStatus {
                status: status.into_raw(),
            },
            change,
        }])
    }

    /// [`super::GetExitCode`]: Windows only.
    pub(super) fn get_exit_code(
        _child: &mut Child,
        _control: &mut Control<'_>,
    ) -> io::Result<Vec<Observed>> {
        Err(crate::process::unsupported())
    }

    /// Reaps `pid`, our child, discarding its status ([`super::discard`]).
    pub(super) fn discard(pid: libc::pid_t) -> io::Result<()> {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer; `pid` is our child.
        retry_eintr(|| unsafe { libc::waitpid(pid, &mut status, 0) }).map(drop)
    }

    /// Calls `next` until it yields a final state, continuing the child after
    /// each stop if `control` says so; kills it if it stops more than
    /// [`MAX_STOPS`] times. Before each call it peeks with `WNOWAIT`, so that
    /// `control.before_reap` runs while the ended child is still unreaped.
    fn collect_states(
        pid: libc::pid_t,
        control: &mut Control<'_>,
        mut next: impl FnMut() -> io::Result<Observed>,
    ) -> io::Result<Vec<Observed>> {
        let mut states = Vec::new();
        let mut before_reap_done = false;
        let mut stops = 0;
        loop {
            let (code, _) = waitid(
                pid,
                libc::WEXITED | libc::WSTOPPED | libc::WCONTINUED | libc::WNOWAIT,
            )?;
            if matches!(
                code,
                decode::CLD_EXITED | decode::CLD_KILLED | decode::CLD_DUMPED
            ) {
                (control.before_reap)();
                before_reap_done = true;
            }
            let observed = next()?;
            states.push(observed);
            match observed.change {
                StateChange::Stopped { .. } => {
                    stops += 1;
                    if control.continue_stops {
                        stop_or_kill(pid, stops)?;
                    }
                }
                StateChange::Continued => {}
                _ => {
                    if !before_reap_done {
                        // Only if the child ended between the peek and the wait.
                        (control.before_reap)();
                    }
                    return Ok(states);
                }
            }
        }
    }

    /// Continues a stopped child, or kills it once it has stopped more than
    /// [`MAX_STOPS`] times, so that a reaper always returns.
    fn stop_or_kill(pid: libc::pid_t, stops: usize) -> io::Result<()> {
        if stops > MAX_STOPS {
            // SAFETY: plain kill(2) of our own unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        continue_child(pid)
    }

    fn continue_child(pid: libc::pid_t) -> io::Result<()> {
        // SAFETY: plain kill(2) of our own child, which has not been reaped, so
        // the pid cannot have been reused.
        if unsafe { libc::kill(pid, libc::SIGCONT) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// `pid` as waitid's `id_t`; a child's pid is positive. (`id_t` is `u32`
    /// on Linux and `i64` on FreeBSD: a `try_from` is needless on one, a
    /// `from` impossible on the other, so `as` follows the check.)
    fn id_of(pid: libc::pid_t) -> libc::id_t {
        assert!(pid >= 0, "a child's pid is positive");
        pid as libc::id_t
    }

    /// `waitid(P_PID, pid, ...)`, returning `(si_code, si_status)`.
    fn waitid(pid: libc::pid_t, options: libc::c_int) -> io::Result<(i32, i32)> {
        waitid_fields(pid, options).map(|info| (info.code, info.status))
    }

    /// `waitid(P_PID, pid, ...)`, returning the fields of the `siginfo_t`
    /// that describe the child.
    fn waitid_fields(pid: libc::pid_t, options: libc::c_int) -> io::Result<decode::SigInfoFields> {
        // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill in.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let id = id_of(pid);
        // SAFETY: `info` is a valid out-pointer; `pid` is our child.
        retry_eintr(|| unsafe { libc::waitid(libc::P_PID, id, &mut info, options) })?;
        // SAFETY: waitid succeeded for a child, so the SIGCHLD fields of the
        // union are the ones it filled in.
        let (status, child, uid) = unsafe { (info.si_status(), info.si_pid(), info.si_uid()) };
        Ok(decode::SigInfoFields {
            code: info.si_code,
            status,
            pid: child,
            uid,
        })
    }

    fn retry_eintr(mut call: impl FnMut() -> libc::c_int) -> io::Result<libc::c_int> {
        loop {
            let r = call();
            if r != -1 {
                return Ok(r);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// [`super::has_ended`].
    pub(super) fn has_ended(pid: libc::pid_t) -> io::Result<bool> {
        // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill in.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let id = id_of(pid);
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
}

/// The reapers on Windows: std's `Child::wait` and `GetExitCodeProcess`
/// on the process handle ([`crate::process::windows`]); `waitpid` and
/// `waitid` do not exist there.
#[cfg(windows)]
mod sys {
    use std::io;
    use std::process::Child;

    use super::{Control, Observed};
    use crate::os::Pid;
    use crate::process::unsupported;
    use crate::process::windows;
    use crate::pure::decode::WaitConventions;

    pub(super) fn wait_pid(
        _pid: Pid,
        _conv: &WaitConventions,
        _control: &mut Control<'_>,
    ) -> io::Result<Vec<Observed>> {
        Err(unsupported())
    }

    pub(super) fn wait_id(_pid: Pid, _control: &mut Control<'_>) -> io::Result<Vec<Observed>> {
        Err(unsupported())
    }

    pub(super) fn std_wait(
        _pid: Pid,
        child: &mut Child,
        control: &mut Control<'_>,
    ) -> io::Result<Vec<Observed>> {
        windows::std_wait(child, control)
    }

    pub(super) fn get_exit_code(
        child: &mut Child,
        control: &mut Control<'_>,
    ) -> io::Result<Vec<Observed>> {
        windows::get_exit_code(child, control)
    }

    /// Only a child std started can be waited for here (by its handle);
    /// [`super::discard`] takes that path first.
    pub(super) fn discard(_pid: Pid) -> io::Result<()> {
        Err(unsupported())
    }

    pub(super) fn has_ended(pid: Pid) -> io::Result<bool> {
        windows::has_ended(pid)
    }
}
