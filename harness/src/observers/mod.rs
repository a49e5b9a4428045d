//! Observers: the parents whose view of an ending is a column of the matrix.
//!
//! `observe` defines the `Observer` trait and the direct reapers; `parent`
//! runs a parent program that starts the probe itself; `shell`, `rc`,
//! `python`, `java` and `cmd` (cmd.exe, on Windows) are the views, as are
//! the other language runtimes in `runtime`; `jobcontrol` starts an
//! interactive shell on a pseudo-terminal; `spawnfail` makes the files
//! of the spawn-failure cases and is std's view of them; `registry` is the
//! one place that builds the concrete observers.

pub mod cmd;
pub mod java;
pub mod jobcontrol;
pub mod observe;
pub mod parent;
pub mod python;
pub mod rc;
pub mod registry;
pub mod runtime;
pub mod shell;
pub mod spawnfail;
