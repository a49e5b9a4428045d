//! The process layer: starting a probe in a known state, waiting for it by
//! pid, and ending it when it overstays.
//!
//! `spawn` is the portable path, `fastspawn` Linux's vfork-style one; `reap`
//! turns what the kernel reports into [`RawStatus`](crate::pure::decode::RawStatus)
//! values; `watchdog` kills a probe's process group at its deadline. This is
//! the only layer besides the OS layer that may contain `unsafe`.
//!
//! The spawn and reap paths are Unix's. On Windows every function that
//! would start or wait for a process fails with an `io::Error` of kind
//! `Unsupported`, so an observer there reports that it saw nothing (a cell
//! that is not observed, never a pass).

pub mod fastspawn;
pub mod orphans;
pub mod probe;
pub mod reap;
pub mod spawn;
pub mod watchdog;

/// The error of every function of this layer that would start or wait for
/// a process on Windows, which has no native path here yet.
#[cfg(windows)]
pub(crate) fn unsupported() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "spawning probes natively on Windows is not implemented yet: \
         run the matrix from Linux with --target x86_64-pc-windows-gnu",
    )
}
