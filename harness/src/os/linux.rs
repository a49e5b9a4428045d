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

/// `prctl(PR_SET_CHILD_SUBREAPER, 1)`: descendants orphaned later are
/// re-parented to this process instead of to init, so it can see and reap
/// them (prctl(2), "PR_SET_CHILD_SUBREAPER", since Linux 3.4).
pub fn become_subreaper() -> std::io::Result<()> {
    // SAFETY: prctl with an integer option and argument; no memory is
    // passed. The call is variadic in glibc: the extra arguments are
    // ignored for this option.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The process group of `pid`: field 5 of `/proc/<pid>/stat` (proc(5)),
/// which a zombie still has.
pub fn process_group(pid: Pid) -> Option<Pid> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after) = stat.rsplit_once(')')?;
    // state ppid pgrp ...
    after.split_whitespace().nth(2)?.parse().ok()
}

/// The working directory of `pid` (`/proc/<pid>/cwd`); `None` for a zombie
/// or a process gone.
pub fn process_cwd(pid: Pid) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/cwd")).ok()
}

/// The session of `pid`: field 6 of `/proc/<pid>/stat` (proc(5)), which a
/// zombie still has.
pub fn process_session(pid: Pid) -> Option<Pid> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after) = stat.rsplit_once(')')?;
    // state ppid pgrp session ...
    after.split_whitespace().nth(3)?.parse().ok()
}

/// Whether the environment `pid` started with (`/proc/<pid>/environ`,
/// proc(5)) holds the entry `entry` (`NAME=value`); `false` for a zombie
/// or a process gone.
pub fn process_environ_has(pid: Pid, entry: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|&b| b == 0).any(|e| e == entry.as_bytes()))
}

/// The command name of `pid` (`/proc/<pid>/comm`).
pub fn process_name(pid: Pid) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end().to_owned())
}

/// The children of this process, found however the kernel allows: the
/// `children` files of its threads where the kernel has them
/// (`CONFIG_PROC_CHILDREN`), else a scan of every `/proc/<pid>/stat` for a
/// parent pid of this process (proc(5), field 4), which costs about half
/// a millisecond on a machine with a hundred processes.
pub fn own_children() -> Vec<Pid> {
    let me = Pid::try_from(std::process::id()).expect("a pid fits in pid_t");
    let main_task = format!("/proc/{me}/task/{me}/children");
    if std::path::Path::new(&main_task).exists() {
        return children(me);
    }
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<Pid>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, after)| after.split_whitespace().nth(1))
            .and_then(|p| p.parse::<Pid>().ok());
        if ppid == Some(me) {
            found.push(pid);
        }
    }
    found
}

/// The processes this process adopted as a child subreaper, and any other
/// child of its main thread: the kernel re-parents an orphan to the first
/// live thread of the subreaper, its main thread while that lives
/// (`find_new_reaper` and `find_alive_thread` in kernel/exit.c), so one
/// `children` file is enough, where [`own_children`] reads every thread's.
/// Falls back to [`own_children`] where the kernel has no `children` files.
pub fn adopted_children() -> Vec<Pid> {
    let me = Pid::try_from(std::process::id()).expect("a pid fits in pid_t");
    match std::fs::read_to_string(format!("/proc/{me}/task/{me}/children")) {
        Ok(text) => text
            .split_whitespace()
            .filter_map(|p| p.parse::<Pid>().ok())
            .collect(),
        Err(_) => own_children(),
    }
}
