//! Unix: POSIX calls through `libc`, and Linux's extras where it has them.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, ExitStatus};

use crate::os::GroupSignal;
use crate::pure::decode::{RawStatus, StateChange};
use crate::pure::signal::{Signal, SignalTable, LINUX_GENERIC, LINUX_MIPS};

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod procs;
#[cfg(not(target_os = "linux"))]
#[path = "other_unix.rs"]
mod procs;

pub use procs::{
    adopted_children, become_subreaper, children, own_children, pidfd_open, process_cwd,
    process_environ_has, process_group, process_name, process_session, process_state,
    wait_readable, Pidfd,
};

/// A process id: the host's `pid_t`.
pub type Pid = libc::pid_t;

/// A process id from a number read elsewhere (an agent's report, std's
/// `u32`), if it is one this platform can hold.
pub fn pid_from_raw(raw: i64) -> Option<Pid> {
    Pid::try_from(raw).ok()
}

/// Whether this host starts programs with `execve`, so that the spawn
/// failures (`spawn-*`: `ENOENT`, `EACCES`, `ENOTDIR`, `ENAMETOOLONG`,
/// `ENOEXEC`) are what its parents meet: a Unix host starts programs with `execve`, whose errors the spawn cases are.
pub fn spawns_by_execve() -> bool {
    true
}

/// The pid of `child`, a process this one started.
pub fn child_pid(child: &Child) -> Pid {
    Pid::try_from(child.id()).expect("a pid fits in pid_t")
}

/// `kill(pid, SIGKILL)`: ends one process (a leaked one, found by pid among
/// this process's children). ESRCH (gone already) is fine.
pub fn kill_process(pid: Pid) {
    // SAFETY: kill(2) has no memory effects.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// `kill(pid, SIGTERM)`: asks one process to end (a server left behind,
/// which may want to save its state first). ESRCH is fine.
pub fn terminate_process(pid: Pid) {
    // SAFETY: kill(2) has no memory effects.
    unsafe { libc::kill(pid, libc::SIGTERM) };
}

/// `kill(pid, SIGINT)`: interrupts one process (a Wine server, which on
/// SIGINT ends its clients with it, as `wineserver -k` does). ESRCH is fine.
pub fn interrupt_process(pid: Pid) {
    // SAFETY: kill(2) has no memory effects.
    unsafe { libc::kill(pid, libc::SIGINT) };
}

/// `kill(-pgid, signal)`: signals every process of group `pgid`. Nothing is
/// reported: a group that is already gone (`ESRCH`) is what the callers
/// expect, and they have nothing else to do if it fails.
///
/// # References
/// - kill(2)
pub fn signal_group(pgid: Pid, signal: GroupSignal) {
    let number = match signal {
        GroupSignal::Terminate => libc::SIGTERM,
        GroupSignal::Kill => libc::SIGKILL,
        GroupSignal::Continue => libc::SIGCONT,
    };
    // SAFETY: kill(2) with a negative pid signals a process group and has no
    // memory effects; ESRCH (the group is gone) is fine.
    unsafe { libc::kill(-pgid, number) };
}

/// What the watchdog's record calls `signal`: its name.
pub fn group_signal_name(signal: GroupSignal) -> &'static str {
    match signal {
        GroupSignal::Terminate => "SIGTERM",
        GroupSignal::Kill => "SIGKILL",
        GroupSignal::Continue => "SIGCONT",
    }
}

/// The columns of a native run on this host: every native observer.
pub const NATIVE_OBSERVERS: &[&str] = &crate::pure::observers::NATIVE;

/// What this host can carry out of what a behaviour needs: everything (a
/// Unix has POSIX signals, the C signals, threads and process groups).
pub fn host_provides(_needs: crate::pure::catalogue::Capability) -> bool {
    true
}

/// The emulator this process runs under: none that a Unix host needs to
/// know of.
pub fn emulator() -> Option<(&'static str, String)> {
    None
}

/// Whether `path` is an executable regular file (any execute bit set).
pub fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Sets the permission bits of `path` (`chmod`).
pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Blocks until this process holds an exclusive advisory lock on `file`
/// (`flock(LOCK_EX)`); the lock goes when the file is closed.
///
/// # References
/// - flock(2)
pub fn lock_exclusive(file: &File) -> io::Result<()> {
    // SAFETY: flock(2) on a descriptor the caller owns and keeps open for
    // the duration of the call.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The processor time, user and system, of every child this process has
/// reaped so far (and of theirs that they reaped), in seconds: what a
/// matrix run's probes and observers cost the machine.
///
/// # References
/// - getrusage(2), `RUSAGE_CHILDREN`
pub fn reaped_children_cpu() -> Option<f64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage(2) writes the whole struct on success; it is read
    // only then.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: the call succeeded.
    let usage = unsafe { usage.assume_init() };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(seconds(usage.ru_utime) + seconds(usage.ru_stime))
}

/// The raw wait status std received for `status` (`waitpid`'s word).
pub fn raw_wait_status(status: &ExitStatus) -> i32 {
    status.into_raw()
}

/// The kernel's core dump pattern (`/proc/sys/kernel/core_pattern`), where
/// the system has one.
pub fn core_pattern() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/core_pattern")
        .ok()
        .map(|s| s.trim().to_owned())
}

/// What std's `ExitStatus` says, as a [`StateChange`] in the host's
/// conventions: the exit code, or the signal with its core flag, or a stop
/// or continue.
pub fn state_change_of(status: &ExitStatus) -> StateChange {
    if let Some(code) = status.code() {
        StateChange::Exited {
            code: i64::from(code),
        }
    } else if let Some(signal) = status.signal() {
        StateChange::Signaled {
            signal: Signal(signal),
            core_dumped: status.core_dumped(),
        }
    } else if let Some(signal) = status.stopped_signal() {
        StateChange::Stopped {
            signal: Signal(signal),
        }
    } else if status.continued() {
        StateChange::Continued
    } else {
        StateChange::Unrecognised {
            raw: RawStatus::WaitStatus {
                status: status.into_raw(),
            },
        }
    }
}

/// The host's signals, under their short names, for assertions.
///
/// ```
/// use exitmatrix::Signal;
/// assert_eq!(Signal::ABRT.number(), libc::SIGABRT);
/// ```
impl Signal {
    /// `SIGHUP` on the host.
    pub const HUP: Signal = Signal(libc::SIGHUP);
    /// `SIGINT` on the host.
    pub const INT: Signal = Signal(libc::SIGINT);
    /// `SIGQUIT` on the host.
    pub const QUIT: Signal = Signal(libc::SIGQUIT);
    /// `SIGILL` on the host.
    pub const ILL: Signal = Signal(libc::SIGILL);
    /// `SIGTRAP` on the host.
    pub const TRAP: Signal = Signal(libc::SIGTRAP);
    /// `SIGABRT` on the host.
    pub const ABRT: Signal = Signal(libc::SIGABRT);
    /// `SIGBUS` on the host.
    pub const BUS: Signal = Signal(libc::SIGBUS);
    /// `SIGFPE` on the host.
    pub const FPE: Signal = Signal(libc::SIGFPE);
    /// `SIGKILL` on the host.
    pub const KILL: Signal = Signal(libc::SIGKILL);
    /// `SIGUSR1` on the host.
    pub const USR1: Signal = Signal(libc::SIGUSR1);
    /// `SIGSEGV` on the host.
    pub const SEGV: Signal = Signal(libc::SIGSEGV);
    /// `SIGUSR2` on the host.
    pub const USR2: Signal = Signal(libc::SIGUSR2);
    /// `SIGPIPE` on the host.
    pub const PIPE: Signal = Signal(libc::SIGPIPE);
    /// `SIGALRM` on the host.
    pub const ALRM: Signal = Signal(libc::SIGALRM);
    /// `SIGTERM` on the host.
    pub const TERM: Signal = Signal(libc::SIGTERM);
    /// `SIGCHLD` on the host.
    pub const CHLD: Signal = Signal(libc::SIGCHLD);
    /// `SIGCONT` on the host.
    pub const CONT: Signal = Signal(libc::SIGCONT);
    /// `SIGSTOP` on the host.
    pub const STOP: Signal = Signal(libc::SIGSTOP);
    /// `SIGTSTP` on the host.
    pub const TSTP: Signal = Signal(libc::SIGTSTP);
    /// `SIGSYS` on the host.
    pub const SYS: Signal = Signal(libc::SIGSYS);
}

/// The host's signal table: MIPS numbers its signals its own way.
pub fn host_signal_table() -> &'static SignalTable {
    if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
        &LINUX_MIPS
    } else {
        &LINUX_GENERIC
    }
}
