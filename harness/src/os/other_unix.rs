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
