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
