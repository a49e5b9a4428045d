//! The process layer on Windows: starting a probe in a Job object of its
//! own, and waiting for it by its process handle.
//!
//! A probe is started through std's `Command` (so the `std` column is std's
//! own spawn and wait) with `CREATE_SUSPENDED`, put into a new Job object
//! while no instruction of it has run, and only then resumed: whatever it
//! starts belongs to the job, and nothing it starts can escape before the
//! job exists. The job has `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`, so a
//! harness that dies takes its probes with it. The job is registered with
//! the OS layer under the probe's pid ([`crate::os::register_job`]); the
//! watchdog ends it with `TerminateJobObject` and a recorded code.
//!
//! Waiting is `WaitForSingleObject` on the process handle. While std's
//! `Child` holds that handle the process object, and so its pid, stays
//! ("the process object remains in the system until all handles are
//! closed", Microsoft Learn, Terminating a Process): the Windows
//! counterpart of an unreaped zombie. `before_reap` runs after the wait
//! and before the handle is given up.
//!
//! # References
//! - Microsoft Learn: CreateProcessW (`CREATE_SUSPENDED`: "The primary
//!   thread of the new process is created in a suspended state, and does
//!   not run until the ResumeThread function is called"),
//!   AssignProcessToJobObject, JOBOBJECT_BASIC_LIMIT_INFORMATION
//!   (`JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`), CreateToolhelp32Snapshot and
//!   Thread32First/Next, ResumeThread, WaitForSingleObject,
//!   GetExitCodeProcess, SetErrorMode.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::windows::io::AsRawHandle;
use std::os::windows::process::CommandExt;
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, INVALID_HANDLE_VALUE, WAIT_OBJECT_0};
use windows_sys::Win32::System::Diagnostics::Debug::{
    SetErrorMode, SEM_FAILCRITICALERRORS, SEM_NOGPFAULTERRORBOX,
};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, Thread32First, Thread32Next, TH32CS_SNAPTHREAD, THREADENTRY32,
};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation,
    SetInformationJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
};
use windows_sys::Win32::System::Threading::{
    GetExitCodeProcess, OpenProcess, OpenThread, ResumeThread, WaitForSingleObject,
    CREATE_SUSPENDED, INFINITE, PROCESS_SYNCHRONIZE, THREAD_SUSPEND_RESUME,
};

use crate::os::{self, Pid};
use crate::process::reap::{Control, Observed};
use crate::pure::decode::{decode_windows_exit_code, RawStatus};

/// Starts `argv` as a probe in `dir` (a fresh temporary directory), its
/// output into `stdout_file` and `stderr_file` there, in a Job object of
/// its own. The environment is empty but for `SystemRoot`, which system
/// DLLs read (Microsoft Learn, "Changing Environment Variables": a child
/// "should be given the SystemRoot variable"); stdin is the null device.
#[expect(
    clippy::disallowed_methods,
    reason = "this is the one place probes are spawned on Windows"
)]
pub fn spawn(
    argv: &[OsString],
    stdout_file: &str,
    stderr_file: &str,
) -> io::Result<(Child, TempDir)> {
    quiet_errors();
    let dir = tempfile::Builder::new().prefix("exitmatrix-").tempdir()?;
    let stdout = File::create(dir.path().join(stdout_file))?;
    let stderr = File::create(dir.path().join(stderr_file))?;
    let outputs = [stdout.try_clone()?, stderr.try_clone()?];
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::other("empty command line"))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .creation_flags(CREATE_SUSPENDED);
    if let Some(root) = std::env::var_os("SystemRoot") {
        command.env("SystemRoot", root);
    }
    let under_wine = os::emulator().is_some_and(|(name, _)| name == "wine");
    let mut attempt = 1;
    let mut child = loop {
        match command.spawn() {
            Ok(child) => break child,
            Err(e) if attempt < WINE_START_ATTEMPTS && wine_failed_to_start(&e, under_wine) => {
                // Nothing of the probe ran: start it again on empty files.
                for file in &outputs {
                    file.set_len(0)?;
                }
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    if let Err(e) = into_job_and_resume(&child) {
        // Still suspended: it never ran. Ends it and gives the error.
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    Ok((child, dir))
}

/// How many times a probe is started under Wine when Wine's own start of
/// the process fails ([`wine_failed_to_start`]).
const WINE_START_ATTEMPTS: u32 = 3;

/// Whether `error` from starting a probe is Wine failing to start the
/// process rather than anything about the probe: `ERROR_INTERNAL_ERROR`
/// (1359, from `STATUS_INTERNAL_ERROR`), which Wine's `NtCreateUserProcess`
/// returns when the new process ended before its start was complete, with
/// no exit code of its own (dlls/ntdll/unix/process.c, after
/// `get_new_process_info`: `if (!status) status = STATUS_INTERNAL_ERROR`).
/// The primary thread was created suspended and never resumed, so nothing
/// of the probe ran, and starting it again observes the same probe. Seen
/// once in a few hundred starts on a loaded 2-core machine (Wine 8.0 on
/// Debian 12); on Windows itself the error is given as it is.
fn wine_failed_to_start(error: &io::Error, under_wine: bool) -> bool {
    const ERROR_INTERNAL_ERROR: i32 = 1359;
    under_wine && error.raw_os_error() == Some(ERROR_INTERNAL_ERROR)
}

/// Once per process: no error dialog for a crashing probe (Windows Error
/// Reporting's would wait for a click). Children inherit the error mode
/// (Microsoft Learn, SetErrorMode: "Each process has an associated error
/// mode ... A child process inherits the error mode of its parent").
fn quiet_errors() {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        // SAFETY: sets this process's error mode; no memory effects.
        unsafe { SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX) };
    });
}

/// Puts the suspended `child` into a new Job object (registered under its
/// pid) and resumes its primary thread.
fn into_job_and_resume(child: &Child) -> io::Result<()> {
    // SAFETY: no attributes and no name: an anonymous job.
    let job = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
    if job.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: an all-zero struct is a valid value to fill in.
    let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    let process = child.as_raw_handle() as HANDLE;
    // SAFETY: a live job handle, a struct of the size given, and the
    // child's live process handle.
    let ok = unsafe {
        SetInformationJobObject(
            job,
            JobObjectExtendedLimitInformation,
            (&raw const limits).cast(),
            size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
        ) != 0
            && AssignProcessToJobObject(job, process) != 0
    };
    if !ok {
        let e = io::Error::last_os_error();
        // SAFETY: our own handle, closed once.
        unsafe { CloseHandle(job) };
        return Err(e);
    }
    os::register_job(child.id(), job);
    resume_threads(child.id()).inspect_err(|_| os::release_job(child.id()))
}

/// Resumes the threads of process `pid` (a suspended new process has one,
/// its primary thread). std's `Child` keeps no thread handle, so the
/// thread is found with a Toolhelp snapshot.
fn resume_threads(pid: Pid) -> io::Result<()> {
    // SAFETY: a snapshot of every thread of the system; closed below.
    let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) };
    if snapshot == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: an all-zero entry with its size set, as Thread32First wants.
    let mut entry: THREADENTRY32 = unsafe { std::mem::zeroed() };
    entry.dwSize = size_of::<THREADENTRY32>() as u32;
    let mut resumed = 0;
    let mut error = None;
    // SAFETY: a live snapshot and a valid entry.
    let mut more = unsafe { Thread32First(snapshot, &mut entry) } != 0;
    while more {
        if entry.th32OwnerProcessID == pid {
            // SAFETY: opens a thread of our suspended child by id.
            let thread = unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, entry.th32ThreadID) };
            if thread.is_null() {
                error = Some(io::Error::last_os_error());
            } else {
                // SAFETY: a live thread handle, closed once.
                unsafe {
                    if ResumeThread(thread) == u32::MAX {
                        error = Some(io::Error::last_os_error());
                    } else {
                        resumed += 1;
                    }
                    CloseHandle(thread);
                }
            }
        }
        // SAFETY: as above.
        more = unsafe { Thread32Next(snapshot, &mut entry) } != 0;
    }
    // SAFETY: our snapshot, closed once.
    unsafe { CloseHandle(snapshot) };
    match (resumed, error) {
        (0, Some(e)) => Err(e),
        (0, None) => Err(io::Error::other(format!(
            "no thread of the new process {pid} to resume"
        ))),
        _ => Ok(()),
    }
}

/// Waits until the process behind `handle` has ended.
fn wait_handle(handle: HANDLE) -> io::Result<()> {
    // SAFETY: a live process handle (the caller's Child holds it).
    match unsafe { WaitForSingleObject(handle, INFINITE) } {
        WAIT_OBJECT_0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// The `std` reaper: waits on the handle, lets `before_reap` end the rest
/// of the job, then asks std's `Child::wait` and reads `ExitStatus::code`
/// (all 32 bits, through [`os::state_change_of`]).
pub fn std_wait(child: &mut Child, control: &mut Control<'_>) -> io::Result<Vec<Observed>> {
    wait_handle(child.as_raw_handle() as HANDLE)?;
    (control.before_reap)();
    let status = child.wait();
    os::release_job(child.id());
    let status = status?;
    let code = status.code().map_or(-1, |c| c);
    Ok(vec![Observed {
        raw: RawStatus::ExitCode { code: code as u32 },
        change: os::state_change_of(&status),
    }])
}

/// The `GetExitCodeProcess` reaper: waits on the handle, lets
/// `before_reap` end the rest of the job, then reads the raw `DWORD`. std's
/// `Child` is then reaped too, so it holds no stale status.
pub fn get_exit_code(child: &mut Child, control: &mut Control<'_>) -> io::Result<Vec<Observed>> {
    let handle = child.as_raw_handle() as HANDLE;
    wait_handle(handle)?;
    (control.before_reap)();
    let mut code: u32 = 0;
    // SAFETY: a live process handle and a valid out-pointer.
    let ok = unsafe { GetExitCodeProcess(handle, &mut code) } != 0;
    let error = (!ok).then(io::Error::last_os_error);
    let _ = child.wait();
    os::release_job(child.id());
    if let Some(e) = error {
        return Err(e);
    }
    Ok(vec![Observed {
        raw: RawStatus::ExitCode { code },
        change: decode_windows_exit_code(code),
    }])
}

/// Whether our child `pid` has ended, without closing anything: a wait of
/// zero on a handle opened for it (its `Child` still holds one, so the pid
/// is still its own).
pub fn has_ended(pid: Pid) -> io::Result<bool> {
    // SAFETY: opens our own live child by pid, for waiting only.
    let handle = unsafe { OpenProcess(PROCESS_SYNCHRONIZE, 0, pid) };
    if handle.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a live handle, closed once.
    let r = unsafe {
        let r = WaitForSingleObject(handle, 0);
        CloseHandle(handle);
        r
    };
    Ok(r == WAIT_OBJECT_0)
}

/// The Job object ends a whole tree: a probe that started a grandchild and
/// then waits forever is ended, grandchild and all, by the watchdog's call
/// ([`os::signal_group`]), with the recorded code. The tree is this test
/// binary itself, run as `--ignored --exact` helpers. Run under Wine by
/// `cargo xtask wine-host --tests`.
#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::io::Write as _;
    use std::time::{Duration, Instant};

    use std::os::windows::io::AsRawHandle as _;

    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, WAIT_OBJECT_0};
    use windows_sys::Win32::System::Threading::{
        OpenProcess, WaitForSingleObject, PROCESS_SYNCHRONIZE,
    };

    use super::{spawn, wine_failed_to_start};
    use crate::os::{self, GroupSignal, WATCHDOG_EXIT_CODE};

    /// Only Wine's own failure to start a process is started again: not on
    /// Windows itself, and never an error about the program (a missing
    /// file, 2; access denied, 5), which is what a spawn-failure case
    /// observes.
    #[test]
    fn only_wines_failure_to_start_a_process_is_tried_again() {
        let internal = std::io::Error::from_raw_os_error(1359);
        assert!(wine_failed_to_start(&internal, true));
        assert!(!wine_failed_to_start(&internal, false));
        for code in [2, 5, 193] {
            let error = std::io::Error::from_raw_os_error(code);
            assert!(!wine_failed_to_start(&error, true), "{code}");
        }
    }

    const MARK: &str = "grandchild-pid=";

    fn helper(name: &str) -> Vec<OsString> {
        vec![
            std::env::current_exe().unwrap().into(),
            "--ignored".into(),
            "--exact".into(),
            format!("process::windows::tests::{name}").into(),
            "--nocapture".into(),
            "--test-threads=1".into(),
        ]
    }

    /// Helper: waits forever.
    #[test]
    #[ignore = "a helper of job_ends_the_whole_tree"]
    fn helper_sleeps() {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }

    /// Helper: starts `helper_sleeps` as a child, prints its pid, waits
    /// forever.
    #[test]
    #[ignore = "a helper of job_ends_the_whole_tree"]
    #[expect(
        clippy::zombie_processes,
        reason = "the sleeper is never waited for: the job ends it with this helper"
    )]
    fn helper_starts_a_sleeper() {
        let argv = helper("helper_sleeps");
        #[expect(clippy::disallowed_methods, reason = "the tree under test")]
        let child = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .spawn()
            .unwrap();
        println!("{MARK}{}", child.id());
        std::io::stdout().flush().unwrap();
        helper_sleeps();
    }

    #[test]
    fn job_ends_the_whole_tree() {
        let (mut child, dir) = spawn(&helper("helper_starts_a_sleeper"), "out", "err").unwrap();
        // The grandchild's pid, once the probe has printed it.
        let deadline = Instant::now() + Duration::from_secs(30);
        let grandchild: u32 = loop {
            let out = std::fs::read_to_string(dir.path().join("out")).unwrap();
            // libtest prints the test's name on the same line first.
            let digits = out.split(MARK).nth(1).map(|rest| {
                rest.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            });
            if let Some(pid) = digits.and_then(|d| d.parse().ok()) {
                break pid;
            }
            assert!(Instant::now() < deadline, "no grandchild pid in {out:?}");
            std::thread::sleep(Duration::from_millis(50));
        };
        // SAFETY: opens a live process by pid, for waiting only.
        let handle = unsafe { OpenProcess(PROCESS_SYNCHRONIZE, 0, grandchild) };
        assert!(!handle.is_null(), "the grandchild {grandchild} is running");
        os::signal_group(child.id(), GroupSignal::Terminate);
        // SAFETY: the child's live handle.
        let probe_ended = unsafe { WaitForSingleObject(child.as_raw_handle() as HANDLE, 10_000) }
            == WAIT_OBJECT_0;
        if !probe_ended {
            // Never leave it behind, even when the job failed.
            let _ = child.kill();
        }
        let status = child.wait().unwrap();
        assert!(probe_ended, "the probe outlived TerminateJobObject");
        // SAFETY: a live handle, closed once.
        let ended = unsafe {
            let r = WaitForSingleObject(handle, 10_000);
            CloseHandle(handle);
            r
        };
        os::release_job(child.id());
        assert_eq!(status.code().map(|c| c as u32), Some(WATCHDOG_EXIT_CODE));
        assert_eq!(ended, WAIT_OBJECT_0, "the grandchild outlived the job");
    }
}
