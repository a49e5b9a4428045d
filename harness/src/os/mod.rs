//! The OS layer: the one place that names an operating system.
//!
//! Each OS file has the same set of functions; this module picks one and
//! re-exports it, so the layers above call `os::is_executable` and never
//! write a `cfg`. On Unix, `linux.rs` adds what only Linux has (pidfds,
//! `/proc`), with portable stand-ins in `other_unix.rs` elsewhere.
//!
//! The process layer ([`crate::process`]), which spawns and reaps, is the
//! only other place allowed `unsafe` and `cfg(target_os)`: it *is* system
//! code. Everything else goes through here.

#[cfg(unix)]
#[path = "unix.rs"]
mod imp;
#[cfg(windows)]
#[path = "windows.rs"]
mod imp;

pub use imp::*;

/// A signal the harness sends to a process group it started, named for what
/// it does: the layers above never name the host's signal numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupSignal {
    /// `SIGTERM`: asks the group to end (the watchdog's first word).
    Terminate,
    /// `SIGKILL`: ends the group.
    Kill,
    /// `SIGCONT`: continues the group's stopped processes.
    Continue,
}

impl GroupSignal {
    /// The signal's name, as the watchdog's record of a case shows it
    /// (on Windows, where a job stands in for the group, the call's).
    pub fn name(self) -> &'static str {
        group_signal_name(self)
    }
}
