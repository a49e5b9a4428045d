//! The process layer: starting a probe in a known state, waiting for it by
//! pid, and ending it when it overstays.
//!
//! `spawn` is the portable path, `fastspawn` Linux's vfork-style one; `reap`
//! turns what the kernel reports into [`RawStatus`](crate::pure::decode::RawStatus)
//! values; `watchdog` kills a probe's process group at its deadline. This is
//! the only layer besides the OS layer that may contain `unsafe`.
//!
//! On Windows, `windows` starts every probe in a Job object of its own and
//! waits for it by its process handle; the reapers that only Unix has
//! (`waitpid`, `waitid`) fail there with an error of kind `Unsupported`,
//! so a cell of theirs is not observed, never a pass.

pub mod fastspawn;
pub mod orphans;
pub mod probe;
pub mod reap;
pub mod spawn;
pub mod watchdog;
#[cfg(windows)]
pub mod windows;

/// The error of a reaper this OS does not have (`waitpid` and `waitid` on
/// Windows, `GetExitCodeProcess` on Unix).
pub(crate) fn unsupported() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "this reaper does not exist on this OS",
    )
}
