//! Observers: the parents whose view of an ending is a column of the matrix.
//!
//! `observe` defines the `Observer` trait and the direct reapers; `parent`
//! runs a parent program that starts the probe itself; `shell`, `rc`,
//! `python`, `java` and `cmd` (cmd.exe, on Windows) are the views, as are
//! the other language runtimes in `runtime`; `jobcontrol` starts an
//! interactive shell on a pseudo-terminal; `spawnfail` makes the files
//! of the spawn-failure cases and is std's view of them; `registry` is the
//! one place that builds the concrete observers; `served` is what the
//! long-lived servers (Python's, the forking parents') share.

pub mod cmd;
pub mod java;
pub mod jobcontrol;
pub mod observe;
pub mod parent;
pub mod python;
pub mod rc;
pub mod registry;
pub mod runtime;
pub mod served;
pub mod shell;
pub mod spawnfail;

/// Ends every idle observer server (Python's and the forking parents'). The
/// engine calls it when a run's cells are done, before it sweeps what is
/// left: a server still running then would be reported as left behind.
pub fn stop_servers() {
    python::stop_servers();
    parent::stop_fork_servers();
}
