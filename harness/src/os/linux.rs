//! Linux: pidfds and `/proc`.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use crate::os::Pid;

/// A pidfd: a file descriptor that becomes readable when its process ends.
pub type Pidfd = OwnedFd;

/// `pidfd_open(2)`, or `None` where the kernel lacks it.
pub fn pidfd_open(pid: Pid) -> Option<Pidfd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(fd).ok().filter(|&fd| fd >= 0)?;
    // SAFETY: the kernel just gave us this fd; nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Blocks until the process behind `fd` ends or `timeout` passes.
pub fn wait_readable(fd: &Pidfd, timeout: Duration) {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd; EINTR or an error just ends the wait
    // early, and the caller looks again.
    unsafe { libc::poll(&mut pfd, 1, ms) };
}

/// The children of every thread of `pid` (`/proc/<pid>/task/*/children`).
pub fn children(pid: Pid) -> Vec<Pid> {
    let mut found = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return found;
    };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            found.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<Pid>().ok()),
            );
        }
    }
    found
}

/// The state letter of `pid` (`R`, `S`, `T`, `Z`, ...).
pub fn process_state(pid: Pid) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ...; comm may hold spaces and parentheses.
    let (_, after) = stat.rsplit_once(')')?;
    after.trim_start().chars().next()
}
