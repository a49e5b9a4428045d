//! Unix without Linux's pidfds and `/proc`: stand-ins that make the
//! caller poll, and that see no stopped descendants.

use std::time::Duration;

use crate::os::Pid;

/// Stands in for a pidfd (never created here).
pub type Pidfd = std::os::fd::OwnedFd;

/// No pidfds here: the caller polls.
pub fn pidfd_open(_pid: Pid) -> Option<Pidfd> {
    None
}

/// Sleeps for `timeout` (there is no pidfd to wait on).
pub fn wait_readable(_fd: &Pidfd, timeout: Duration) {
    std::thread::sleep(timeout);
}

/// Unknown without `/proc`: stops of a parent's probe cannot be seen.
pub fn children(_pid: Pid) -> Vec<Pid> {
    Vec::new()
}

/// Unknown without `/proc`.
pub fn process_state(_pid: Pid) -> Option<char> {
    None
}

/// No child subreaper here (FreeBSD's `procctl(PROC_REAP_ACQUIRE)` and
/// DragonFly's are not wired up yet): orphaned descendants go to init and
/// are not seen.
pub fn become_subreaper() -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "no child subreaper on this OS: processes that leave a probe's group are not seen",
    ))
}

/// Unknown without `/proc`.
pub fn process_group(_pid: Pid) -> Option<Pid> {
    None
}

/// Unknown without `/proc`.
pub fn process_cwd(_pid: Pid) -> Option<std::path::PathBuf> {
    None
}

/// Unknown without `/proc`.
pub fn process_session(_pid: Pid) -> Option<Pid> {
    None
}

/// Unknown without `/proc`.
pub fn process_environ_has(_pid: Pid, _entry: &str) -> bool {
    false
}

/// Unknown without `/proc`.
pub fn process_name(_pid: Pid) -> Option<String> {
    None
}

/// Unknown without `/proc`.
pub fn own_children() -> Vec<Pid> {
    Vec::new()
}

/// Unknown without `/proc`.
pub fn adopted_children() -> Vec<Pid> {
    Vec::new()
}
