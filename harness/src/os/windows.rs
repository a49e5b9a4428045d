//! Windows: the same functions as on Unix, with what Windows has in their
//! place (no execute bits, no wait statuses, no `/proc`).

use std::fs::File;
use std::io;
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::Duration;

use crate::os::GroupSignal;
use crate::pure::decode::{RawStatus, StateChange};
use crate::pure::signal::{Signal, SignalTable, WINDOWS_CRT};

/// Stands in for a pidfd (never created here).
pub type Pidfd = ();

/// A process id: the `DWORD` std's `Child::id` gives.
pub type Pid = u32;

/// The pid of `child`, a process this one started.
pub fn child_pid(child: &Child) -> Pid {
    child.id()
}

/// Windows has no process groups or signals to send one. Nothing to do:
/// the process layer starts no probe here yet (its `spawn` fails with
/// `Unsupported`), so no group is ever armed or signalled. A native spawn
/// path would end its probes through a job object instead.
pub fn signal_group(_pgid: Pid, _signal: GroupSignal) {}

/// Whether `path` is a regular file: Windows has no execute bit, and runs
/// a file by its name.
pub fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Windows has no permission bits of this kind: nothing to set.
pub fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// Windows hosts never share a Wine prefix, the one thing this lock
/// guards: nothing to lock.
pub fn lock_exclusive(_file: &File) -> io::Result<()> {
    Ok(())
}

/// Windows has no wait status: the exit code's 32 bits as an `i32`.
pub fn raw_wait_status(status: &ExitStatus) -> i32 {
    status.code().unwrap_or(-1)
}

/// Windows has no core dump pattern.
pub fn core_pattern() -> Option<String> {
    None
}

/// What std's `ExitStatus` says, as a [`StateChange`]: the full 32-bit
/// exit code (an NTSTATUS when the process crashed).
pub fn state_change_of(status: &ExitStatus) -> StateChange {
    match status.code() {
        Some(code) => StateChange::Exited {
            code: i64::from(code as u32),
        },
        None => StateChange::Unrecognised {
            raw: RawStatus::WaitStatus { status: -1 },
        },
    }
}

/// No pidfds here: the caller polls.
pub fn pidfd_open(_pid: Pid) -> Option<Pidfd> {
    None
}

/// Sleeps for `timeout` (there is no pidfd to wait on).
pub fn wait_readable(_fd: &Pidfd, timeout: Duration) {
    std::thread::sleep(timeout);
}

/// Windows processes have no parent-child list to read here.
pub fn children(_pid: Pid) -> Vec<Pid> {
    Vec::new()
}

/// No process states to read here.
pub fn process_state(_pid: Pid) -> Option<char> {
    None
}

/// Windows has no subreaper: the native host's Job object is its
/// equivalent (a process that leaves the probe's tree is still in its job).
pub fn become_subreaper() -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no child subreaper on Windows: a Job object holds the probe's tree",
    ))
}

/// Unknown here.
pub fn process_group(_pid: Pid) -> Option<Pid> {
    None
}

/// Unknown here.
pub fn process_cwd(_pid: Pid) -> Option<std::path::PathBuf> {
    None
}

/// Unknown here.
pub fn process_name(_pid: Pid) -> Option<String> {
    None
}

/// Nothing to end by pid here.
pub fn kill_process(_pid: Pid) {}

/// Nothing to end by pid here.
pub fn terminate_process(_pid: Pid) {}

/// Unknown here.
pub fn own_children() -> Vec<Pid> {
    Vec::new()
}

/// The signals of the Windows C runtime, under their short names, for
/// assertions (`signal.h`: the C11 six; `raise` of one of them ends a
/// program with exit code 3 unless it is handled).
impl Signal {
    /// `SIGINT` in the C runtime.
    pub const INT: Signal = Signal(2);
    /// `SIGILL` in the C runtime.
    pub const ILL: Signal = Signal(4);
    /// `SIGFPE` in the C runtime.
    pub const FPE: Signal = Signal(8);
    /// `SIGSEGV` in the C runtime.
    pub const SEGV: Signal = Signal(11);
    /// `SIGTERM` in the C runtime.
    pub const TERM: Signal = Signal(15);
    /// `SIGABRT` in the C runtime (`SIGABRT_COMPAT` is 6).
    pub const ABRT: Signal = Signal(22);
}

/// The host's signal table: the C runtime's.
pub fn host_signal_table() -> &'static SignalTable {
    &WINDOWS_CRT
}
