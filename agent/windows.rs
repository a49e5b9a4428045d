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
    fn GetLastError() -> u32;
}

pub fn run(req: &Request, lines: &mut Vec<String>) -> Result<(), String> {
    let child = Command::new(&req.argv[0])
        .args(&req.argv[1..])
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", req.argv[0]))?;
    let handle = child.as_raw_handle() as *mut c_void;
    let millis = u32::try_from(req.timeout_ms).unwrap_or(INFINITE - 1);
    // SAFETY: `handle` is the live process handle std owns for `child`.
    let mut waited = unsafe { WaitForSingleObject(handle, millis) };
    if waited == WAIT_TIMEOUT {
        // Windows has no SIGTERM: the watchdog ends the process at once,
        // with exit code 1 as taskkill /F does.
        // SAFETY: as above.
        unsafe { TerminateProcess(handle, 1) };
        lines.push("watchdog TerminateProcess".to_owned());
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
    drop(child);
    Ok(())
}
