//! The Windows agent: `CreateProcessW` through std's `Command` (which quotes
//! the command line correctly), then `WaitForSingleObject` and
//! `GetExitCodeProcess` on the process handle: the full 32-bit exit code a
//! Windows parent sees.
//!
//! # References
//! - Microsoft Learn, GetExitCodeProcess: "If the process has terminated,
//!   the termination status returned may be one of the following: the exit
//!   value specified in the ExitProcess or TerminateProcess function; the
//!   return value from the main or WinMain function of the process; the
//!   exception value for an unhandled exception that caused the process to
//!   terminate"
//! - Microsoft Learn, WaitForSingleObject, TerminateProcess
//! - Microsoft Learn, Job Objects: "terminating a job terminates all
//!   processes associated with the job"; CreateJobObjectW,
//!   AssignProcessToJobObject, TerminateJobObject
//!
//! Under Wine (its `ntdll.dll` exports `wine_get_version`), a start that
//! fails with `ERROR_INTERNAL_ERROR` (1359) is tried again, 3 times at
//! most, on emptied output files: Wine's `NtCreateUserProcess` gives it
//! when the new process ended before its start was complete, before any of
//! the probe's own code ran (dlls/ntdll/unix/process.c, after
//! `get_new_process_info`). Seen under load on Wine 8.0 (Debian 12).

use std::os::raw::c_void;
use std::os::windows::io::AsRawHandle;
use std::process::Command;

use crate::Request;

/// The family word of the report's first line.
pub const FAMILY: &str = "windows";

const WAIT_OBJECT_0: u32 = 0;
const WAIT_TIMEOUT: u32 = 0x102;
const INFINITE: u32 = 0xFFFF_FFFF;

#[link(name = "kernel32")]
extern "system" {
    fn WaitForSingleObject(handle: *mut c_void, millis: u32) -> u32;
    fn GetExitCodeProcess(handle: *mut c_void, code: *mut u32) -> i32;
    fn TerminateProcess(handle: *mut c_void, code: u32) -> i32;
    fn CreateJobObjectW(attributes: *mut c_void, name: *const u16) -> *mut c_void;
    fn AssignProcessToJobObject(job: *mut c_void, process: *mut c_void) -> i32;
    fn TerminateJobObject(job: *mut c_void, code: u32) -> i32;
    fn CloseHandle(handle: *mut c_void) -> i32;
    fn GetLastError() -> u32;
    fn GetModuleHandleW(name: *const u16) -> *mut c_void;
    fn GetProcAddress(module: *mut c_void, name: *const u8) -> *mut c_void;
}

/// How many times a probe is started under Wine when Wine itself fails to
/// start the process (see the module's documentation).
const WINE_START_ATTEMPTS: u32 = 3;

/// `ERROR_INTERNAL_ERROR`, from Wine's `STATUS_INTERNAL_ERROR`.
const ERROR_INTERNAL_ERROR: i32 = 1359;

/// Whether this agent runs under Wine: its `ntdll.dll` exports
/// `wine_get_version`, which Windows's does not.
fn under_wine() -> bool {
    let ntdll: Vec<u16> = "ntdll.dll\0".encode_utf16().collect();
    // SAFETY: a NUL-terminated UTF-16 name; ntdll is in every process.
    let module = unsafe { GetModuleHandleW(ntdll.as_ptr()) };
    // SAFETY: a loaded module and a NUL-terminated ASCII name.
    !module.is_null()
        && !unsafe { GetProcAddress(module, b"wine_get_version\0".as_ptr()) }.is_null()
}

pub fn run(req: &Request, lines: &mut Vec<String>) -> Result<(), String> {
    let mut command = Command::new(&req.argv[0]);
    command.args(&req.argv[1..]);
    let mut outputs = Vec::new();
    if let Some(dir) = &req.dir {
        // Served: the case's own directory, its output in files there.
        // The environment is the server's (a Windows program needs
        // `SystemRoot` and the like), as the local agent passes its own on.
        let out = std::path::Path::new(dir);
        let mut open = |name: &str| {
            let file = std::fs::File::create(out.join(name))
                .map_err(|e| format!("cannot create {name}: {e}"))?;
            outputs.push(
                file.try_clone()
                    .map_err(|e| format!("cannot share {name}: {e}"))?,
            );
            Ok::<_, String>(file)
        };
        let (stdout, stderr) = (open(crate::STDOUT_FILE)?, open(crate::STDERR_FILE)?);
        command
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
    }
    let wine = under_wine();
    let mut attempt = 1;
    let child = loop {
        match command.spawn() {
            Ok(child) => break child,
            Err(e)
                if wine
                    && attempt < WINE_START_ATTEMPTS
                    && e.raw_os_error() == Some(ERROR_INTERNAL_ERROR) =>
            {
                // Nothing of the probe ran: start it again on empty files.
                for file in &outputs {
                    file.set_len(0)
                        .map_err(|e| format!("cannot empty an output file: {e}"))?;
                }
                attempt += 1;
            }
            Err(e) => return Err(format!("cannot start {}: {e}", req.argv[0])),
        }
    };
    let handle = child.as_raw_handle() as *mut c_void;
    // A job, so that the watchdog ends what the probe started too. A
    // process the probe starts before it joins escapes the job: the window
    // is the few instructions between spawn and the assignment.
    // SAFETY: null attributes and name are allowed; the handle is live.
    let job = unsafe { CreateJobObjectW(std::ptr::null_mut(), std::ptr::null()) };
    // SAFETY: `job` is checked for null; `handle` is live.
    let in_job = !job.is_null() && unsafe { AssignProcessToJobObject(job, handle) } != 0;
    let millis = u32::try_from(req.timeout_ms).unwrap_or(INFINITE - 1);
    // SAFETY: `handle` is the live process handle std owns for `child`.
    let mut waited = unsafe { WaitForSingleObject(handle, millis) };
    if waited == WAIT_TIMEOUT {
        // Windows has no SIGTERM: the watchdog ends the job (the process
        // and what it started) at once, with exit code 1 as taskkill /F
        // does; without a job, the process alone.
        if in_job {
            // SAFETY: `job` is a live job handle.
            unsafe { TerminateJobObject(job, 1) };
            lines.push("watchdog TerminateJobObject".to_owned());
        } else {
            // SAFETY: as above.
            unsafe { TerminateProcess(handle, 1) };
            lines.push("watchdog TerminateProcess".to_owned());
        }
        // SAFETY: as above.
        waited = unsafe { WaitForSingleObject(handle, INFINITE) };
    }
    if waited != WAIT_OBJECT_0 {
        // SAFETY: no arguments.
        return Err(format!(
            "WaitForSingleObject returned {waited:#x} (error {})",
            unsafe { GetLastError() }
        ));
    }
    let mut code: u32 = 0;
    // SAFETY: `code` is a valid out-pointer; the handle is live.
    if unsafe { GetExitCodeProcess(handle, &mut code) } == 0 {
        // SAFETY: no arguments.
        return Err(format!("GetExitCodeProcess failed (error {})", unsafe {
            GetLastError()
        }));
    }
    lines.push(format!("exit-code {:#010x}", code));
    if !job.is_null() {
        // SAFETY: `job` is a live handle we own.
        unsafe { CloseHandle(job) };
    }
    drop(child);
    Ok(())
}

/// A stored probe is executable by its name (`.exe`) alone.
pub fn make_executable(_path: &std::path::Path) -> std::io::Result<()> {
    Ok(())
}
