//! Reapers: the different ways a parent can learn how its child ended.
//!
//! Each reaper waits for one child *by pid* (never `wait(-1)`, which would
//! steal other cells' children) and reports every state it observes, in
//! order. When the child stops, the reaper continues it with `SIGCONT`, so a
//! probe that stops itself ends. Reapers that disagree about the same
//! behaviour are a finding in themselves.

use std::fmt;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::Child;

use serde::Serialize;

use crate::decode::{self, RawStatus, Termination, WaitConventions};
use crate::signal::Signal;

/// One state a reaper observed, raw and decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// Exactly what the reaper received.
    pub raw: RawStatus,
    /// What it means.
    pub termination: Termination,
}

/// A stopped probe is continued at most this many times; a probe that keeps
/// stopping is then killed, so a reaper always returns.
const MAX_STOPS: usize = 8;

/// A way of waiting for a child.
pub trait Reaper: fmt::Debug + Send + Sync {
    /// The name used in profiles, reports and on the command line.
    fn name(&self) -> &'static str;

    /// Waits until `child` has ended, continuing it each time it stops, and
    /// returns every state observed, the final one last.
    fn reap(&self, child: &mut Child, conv: &WaitConventions) -> io::Result<Vec<Observed>>;
}

/// The names of [`all`].
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

    fn reap(&self, child: &mut Child, conv: &WaitConventions) -> io::Result<Vec<Observed>> {
        let pid = pid_of(child);
        collect_states(pid, || {
            let mut status = 0;
            // SAFETY: `status` is a valid out-pointer; `pid` is our child.
            let r = retry_eintr(|| unsafe {
                libc::waitpid(pid, &mut status, libc::WUNTRACED | libc::WCONTINUED)
            })?;
            debug_assert_eq!(r, pid);
            Ok(Observed {
                raw: RawStatus::WaitStatus { status },
                termination: decode::decode_wait_status(status, conv),
            })
        })
    }
}

/// `waitid(P_PID, pid, &info, WEXITED | WSTOPPED | WCONTINUED)`, reading
/// `si_code` and the full-width `si_status`.
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

    fn reap(&self, child: &mut Child, _conv: &WaitConventions) -> io::Result<Vec<Observed>> {
        let pid = pid_of(child);
        collect_states(pid, || {
            let (code, status) = waitid(pid, libc::WEXITED | libc::WSTOPPED | libc::WCONTINUED)?;
            Ok(Observed {
                raw: RawStatus::SigInfo { code, status },
                termination: decode::decode_siginfo(code, status),
            })
        })
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

    fn reap(&self, child: &mut Child, _conv: &WaitConventions) -> io::Result<Vec<Observed>> {
        let pid = pid_of(child);
        for _ in 0..MAX_STOPS {
            let (code, _) = waitid(pid, libc::WEXITED | libc::WSTOPPED | libc::WNOWAIT)?;
            if code != decode::CLD_STOPPED && code != decode::CLD_TRAPPED {
                break;
            }
            continue_child(pid)?;
        }
        let status = child.wait()?;
        let termination = if let Some(code) = status.code() {
            Termination::Exited {
                code: i64::from(code),
            }
        } else if let Some(signal) = status.signal() {
            Termination::Signaled {
                signal: Signal(signal),
                core_dumped: status.core_dumped(),
            }
        } else if let Some(signal) = status.stopped_signal() {
            Termination::Stopped {
                signal: Signal(signal),
            }
        } else if status.continued() {
            Termination::Continued
        } else {
            Termination::Unrecognised {
                raw: RawStatus::WaitStatus {
                    status: status.into_raw(),
                },
            }
        };
        Ok(vec![Observed {
            raw: RawStatus::WaitStatus {
                status: status.into_raw(),
            },
            termination,
        }])
    }
}

fn pid_of(child: &Child) -> libc::pid_t {
    libc::pid_t::try_from(child.id()).expect("a pid fits in pid_t")
}

/// Calls `next` until it yields a final state, continuing the child after
/// each stop; kills it if it stops more than [`MAX_STOPS`] times.
fn collect_states(
    pid: libc::pid_t,
    mut next: impl FnMut() -> io::Result<Observed>,
) -> io::Result<Vec<Observed>> {
    let mut states = Vec::new();
    loop {
        let observed = next()?;
        states.push(observed);
        match observed.termination {
            Termination::Stopped { .. } => {
                let stops = states
                    .iter()
                    .filter(|o| matches!(o.termination, Termination::Stopped { .. }))
                    .count();
                if stops > MAX_STOPS {
                    // SAFETY: plain kill(2) of our own unreaped child.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                continue_child(pid)?;
            }
            Termination::Continued => {}
            _ => return Ok(states),
        }
    }
}

fn continue_child(pid: libc::pid_t) -> io::Result<()> {
    // SAFETY: plain kill(2) of our own child, which has not been reaped, so
    // the pid cannot have been reused.
    if unsafe { libc::kill(pid, libc::SIGCONT) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `waitid(P_PID, pid, ...)`, returning `(si_code, si_status)`.
fn waitid(pid: libc::pid_t, options: libc::c_int) -> io::Result<(i32, i32)> {
    // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let id = libc::id_t::try_from(pid).expect("a child's pid is positive");
    // SAFETY: `info` is a valid out-pointer; `pid` is our child.
    retry_eintr(|| unsafe { libc::waitid(libc::P_PID, id, &mut info, options) })?;
    // SAFETY: waitid succeeded for a child, so the SIGCHLD fields of the
    // union are the ones it filled in.
    let status = unsafe { info.si_status() };
    Ok((info.si_code, status))
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
