//! Windows: the same functions as on Unix, with what Windows has in their
//! place (no execute bits, no wait statuses, no `/proc`), and the Job
//! objects that stand in for process groups.
//!
//! Every probe the process layer starts on Windows is put, still suspended,
//! into a Job object of its own ([`crate::process::windows`]), and its
//! children join that job. The job is registered here under the probe's
//! pid, which the layers above use as the "process group" they arm the
//! watchdog with, so [`signal_group`] can end the whole tree with
//! `TerminateJobObject` and a recorded code ([`WATCHDOG_EXIT_CODE`]).
//!
//! # References
//! - Microsoft Learn, Job Objects: "A job object allows groups of processes
//!   to be managed as a unit"; "by default, processes created by a process
//!   associated with a job are associated with the job".
//! - Microsoft Learn, TerminateJobObject: "Terminates all processes
//!   currently associated with the job"; `uExitCode`: "The exit code to be
//!   used by all processes and threads in the job object".

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
use windows_sys::Win32::System::JobObjects::TerminateJobObject;
use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};

use crate::os::GroupSignal;
use crate::pure::catalogue::Capability;
use crate::pure::decode::{decode_windows_exit_code, RawStatus, StateChange};
use crate::pure::observers::WINDOWS_NATIVE;
use crate::pure::signal::{Signal, SignalTable, WINDOWS_CRT};

/// Stands in for a pidfd (never created here).
pub type Pidfd = ();

/// A process id: the `DWORD` std's `Child::id` gives.
pub type Pid = u32;

/// A process id from a number read elsewhere (an agent's report, std's
/// `u32`), if it is one this platform can hold.
pub fn pid_from_raw(raw: i64) -> Option<Pid> {
    Pid::try_from(raw).ok()
}

/// Whether this host starts programs with `execve`, so that the spawn
/// failures (`spawn-*`: `ENOENT`, `EACCES`, `ENOTDIR`, `ENAMETOOLONG`,
/// `ENOEXEC`) are what its parents meet: Windows starts programs with `CreateProcessW`: no `execve`, no file modes, no `/bin/sh`.
pub fn spawns_by_execve() -> bool {
    false
}

/// The exit code the watchdog ends a timed-out probe's job with:
/// `WAIT_TIMEOUT` (winerror.h: 258, "The wait operation timed out"), so a
/// timed-out probe cannot be mistaken for one that crashed; no probe of the
/// catalogue exits with it.
pub const WATCHDOG_EXIT_CODE: u32 = 258;

/// The columns of a native run on this host: std's `Child::wait`,
/// `GetExitCodeProcess` and `cmd.exe`'s `%ERRORLEVEL%`.
pub const NATIVE_OBSERVERS: &[&str] = &WINDOWS_NATIVE;

/// The pid of `child`, a process this one started.
pub fn child_pid(child: &Child) -> Pid {
    child.id()
}

/// A Job object handle, owned by the registry (closed by
/// [`release_job`]).
#[derive(Debug)]
struct Job(HANDLE);

// SAFETY: a kernel handle may be used and closed from any thread.
unsafe impl Send for Job {}

fn jobs() -> &'static Mutex<HashMap<Pid, Job>> {
    static JOBS: OnceLock<Mutex<HashMap<Pid, Job>>> = OnceLock::new();
    JOBS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Registers `job`, a Job object handle the caller gives up, as the
/// "process group" of `pid`, an unreaped child of this process (its
/// handle is still open, so the pid cannot be reused). A job already
/// registered under `pid` is closed.
pub fn register_job(pid: Pid, job: HANDLE) {
    let old = jobs()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(pid, Job(job));
    if let Some(old) = old {
        close(old);
    }
}

/// Closes the job registered under `pid`, if any: call once the probe
/// has been waited for and its tree ended. The job was created with
/// `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`, so closing its last handle also
/// ends anything still in it.
pub fn release_job(pid: Pid) {
    let job = jobs()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&pid);
    if let Some(job) = job {
        close(job);
    }
}

fn close(job: Job) {
    // SAFETY: the registry owned the handle; it is closed once.
    unsafe { CloseHandle(job.0) };
}

/// Ends every process of the job registered under `pgid` (the pid of the
/// probe that leads it) with [`WATCHDOG_EXIT_CODE`]: `TerminateJobObject`.
/// Windows has no gentle request to send a console-less process, so
/// `Terminate` and `Kill` do the same; `Continue` does nothing (no process
/// here is ever stopped). A pid with no job does nothing.
pub fn signal_group(pgid: Pid, signal: GroupSignal) {
    if signal == GroupSignal::Continue {
        return;
    }
    let map = jobs().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(job) = map.get(&pgid) {
        // SAFETY: a live job handle owned by the registry, which is locked.
        unsafe { TerminateJobObject(job.0, WATCHDOG_EXIT_CODE) };
    }
}

/// What the watchdog's record calls `signal` here: both ways of ending a
/// job are one call.
pub fn group_signal_name(signal: GroupSignal) -> &'static str {
    match signal {
        GroupSignal::Terminate | GroupSignal::Kill => "TerminateJobObject",
        GroupSignal::Continue => "none",
    }
}

/// What this host can carry out of what a behaviour needs: the C runtime's
/// signals, threads, an undefined instruction, and a watchdog that ends a
/// process tree (the Job object); no POSIX signals.
pub fn host_provides(needs: Capability) -> bool {
    !matches!(needs, Capability::PosixSignals)
}

/// The emulator this process runs under, with its version: Wine's
/// `ntdll.dll` exports `wine_get_version` (Wine's dlls/ntdll/ntdll.spec and
/// the Wine Developer's Guide, "Detecting Wine"), which Windows's has not.
pub fn emulator() -> Option<(&'static str, String)> {
    let ntdll: Vec<u16> = "ntdll.dll\0".encode_utf16().collect();
    // SAFETY: a NUL-terminated UTF-16 name; ntdll is loaded in every process.
    let module = unsafe { GetModuleHandleW(ntdll.as_ptr()) };
    if module.is_null() {
        return None;
    }
    // SAFETY: a loaded module and a NUL-terminated ASCII name.
    let proc = unsafe { GetProcAddress(module, c"wine_get_version".as_ptr().cast()) }?;
    // SAFETY: Wine's `const char * CDECL wine_get_version(void)` returns a
    // static NUL-terminated string.
    let version = unsafe {
        let f: unsafe extern "C" fn() -> *const std::ffi::c_char = std::mem::transmute(proc);
        std::ffi::CStr::from_ptr(f()).to_string_lossy().into_owned()
    };
    Some(("wine", version))
}

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

/// The processor time of the children this process has reaped: Windows
/// keeps no such sum (a job object would, per job), so none.
pub fn reaped_children_cpu() -> Option<f64> {
    None
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
/// exit code (an NTSTATUS when the process crashed). std's `code()` is
/// always `Some` on Windows (`ExitStatus` there is the `DWORD` of
/// `GetExitCodeProcess`, library/std/src/sys/pal/windows/process.rs).
pub fn state_change_of(status: &ExitStatus) -> StateChange {
    match status.code() {
        Some(code) => decode_windows_exit_code(code as u32),
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
pub fn process_session(_pid: Pid) -> Option<Pid> {
    None
}

/// Unknown here.
pub fn process_environ_has(_pid: Pid, _entry: &str) -> bool {
    false
}

/// Unknown here.
pub fn process_name(_pid: Pid) -> Option<String> {
    None
}

/// Nothing to end by pid here.
pub fn kill_process(_pid: Pid) {}

/// Nothing to end by pid here.
pub fn terminate_process(_pid: Pid) {}

/// Nothing to interrupt by pid here.
pub fn interrupt_process(_pid: Pid) {}

/// Unknown here.
pub fn own_children() -> Vec<Pid> {
    Vec::new()
}

/// Unknown here.
pub fn adopted_children() -> Vec<Pid> {
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
