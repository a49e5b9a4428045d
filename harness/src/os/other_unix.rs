//! Unix without Linux's pidfds and `/proc`: stand-ins that make the
//! caller poll, and that see no stopped descendants. What POSIX gives for
//! any pid is used (`getpgid`, `getsid`); on FreeBSD the harness can be a
//! child subreaper and list its children with `procctl(2)`'s reaper
//! commands. None of it runs on this project's builders: it is
//! type-checked (`cargo xtask check-platforms`), never run.

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

/// FreeBSD: `procctl(P_PID, getpid(), PROC_REAP_ACQUIRE, NULL)`, which makes
/// this process the reaper of its descendants orphaned later
/// (procctl(2), "PROC_REAP_ACQUIRE", since FreeBSD 10.2).
#[cfg(target_os = "freebsd")]
pub fn become_subreaper() -> std::io::Result<()> {
    // SAFETY: procctl with PROC_REAP_ACQUIRE takes no data (a null pointer)
    // and has no memory effects.
    let rc = unsafe {
        libc::procctl(
            libc::P_PID,
            libc::id_t::from(std::process::id()),
            libc::PROC_REAP_ACQUIRE,
            std::ptr::null_mut(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// No child subreaper wired up here (DragonFly's `procctl` can acquire
/// one but not list its children; macOS, NetBSD, OpenBSD and illumos have
/// none): orphaned descendants go to init and are not seen.
#[cfg(not(target_os = "freebsd"))]
pub fn become_subreaper() -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "no child subreaper on this OS: processes that leave a probe's group are not seen",
    ))
}

/// `getpgid(pid)` (POSIX.1-2017 XSH getpgid), which a zombie still has.
pub fn process_group(pid: Pid) -> Option<Pid> {
    // SAFETY: getpgid has no memory effects.
    let pgid = unsafe { libc::getpgid(pid) };
    (pgid >= 0).then_some(pgid)
}

/// Unknown without `/proc`.
pub fn process_cwd(_pid: Pid) -> Option<std::path::PathBuf> {
    None
}

/// `getsid(pid)` (POSIX.1-2017 XSH getsid).
pub fn process_session(pid: Pid) -> Option<Pid> {
    // SAFETY: getsid has no memory effects.
    let sid = unsafe { libc::getsid(pid) };
    (sid >= 0).then_some(sid)
}

/// Unknown without `/proc`.
pub fn process_environ_has(_pid: Pid, _entry: &str) -> bool {
    false
}

/// Unknown without `/proc`.
pub fn process_name(_pid: Pid) -> Option<String> {
    None
}

/// FreeBSD: this process's children, if it is a reaper
/// ([`become_subreaper`]): the descendants `PROC_REAP_GETPIDS` lists with
/// `REAPER_PIDINFO_CHILD`, its own children and those it adopted. Empty if
/// it is not a reaper (the list would then be its reaper's, init's).
#[cfg(target_os = "freebsd")]
pub fn own_children() -> Vec<Pid> {
    reaper::children().unwrap_or_default()
}

/// Unknown without `/proc`.
#[cfg(not(target_os = "freebsd"))]
pub fn own_children() -> Vec<Pid> {
    Vec::new()
}

/// The children of this process, adopted or not ([`own_children`]): a
/// reaper's orphans become its children.
pub fn adopted_children() -> Vec<Pid> {
    own_children()
}

/// FreeBSD's reaper commands of procctl(2), with the structures of
/// `<sys/procctl.h>` that the `libc` crate does not define.
#[cfg(target_os = "freebsd")]
mod reaper {
    use crate::os::Pid;

    /// `struct procctl_reaper_status`.
    #[repr(C)]
    struct Status {
        rs_flags: libc::c_uint,
        rs_children: libc::c_uint,
        rs_descendants: libc::c_uint,
        rs_reaper: libc::pid_t,
        rs_pid: libc::pid_t,
        rs_pad0: [libc::c_uint; 15],
    }

    /// `struct procctl_reaper_pidinfo`.
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct PidInfo {
        pi_pid: libc::pid_t,
        pi_subtree: libc::pid_t,
        pi_flags: libc::c_uint,
        pi_pad0: [libc::c_uint; 15],
    }

    /// `struct procctl_reaper_pids`.
    #[repr(C)]
    struct Pids {
        rp_count: libc::c_uint,
        rp_pad0: [libc::c_uint; 15],
        rp_pids: *mut PidInfo,
    }

    const PROC_REAP_STATUS: libc::c_int = 4;
    const REAPER_STATUS_OWNED: libc::c_uint = 0x1;
    const REAPER_PIDINFO_VALID: libc::c_uint = 0x1;
    const REAPER_PIDINFO_CHILD: libc::c_uint = 0x2;

    fn procctl(command: libc::c_int, data: *mut libc::c_void) -> Option<()> {
        // SAFETY: `data` points to the structure `command` takes, alive
        // and writable for the call (the callers below).
        let rc = unsafe {
            libc::procctl(
                libc::P_PID,
                libc::id_t::from(std::process::id()),
                command,
                data,
            )
        };
        (rc == 0).then_some(())
    }

    /// The children of this process, or `None` if it is not a reaper or
    /// the kernel refused.
    pub(super) fn children() -> Option<Vec<Pid>> {
        let mut status = Status {
            rs_flags: 0,
            rs_children: 0,
            rs_descendants: 0,
            rs_reaper: 0,
            rs_pid: 0,
            rs_pad0: [0; 15],
        };
        procctl(PROC_REAP_STATUS, (&raw mut status).cast())?;
        if status.rs_flags & REAPER_STATUS_OWNED == 0 {
            return None;
        }
        // Room for descendants started since the count; the kernel fills
        // at most `rp_count` entries and marks each it filled
        // `REAPER_PIDINFO_VALID`.
        let room = status.rs_descendants as usize + 64;
        let empty = PidInfo {
            pi_pid: 0,
            pi_subtree: 0,
            pi_flags: 0,
            pi_pad0: [0; 15],
        };
        let mut infos = vec![empty; room];
        let mut pids = Pids {
            rp_count: libc::c_uint::try_from(room).ok()?,
            rp_pad0: [0; 15],
            rp_pids: infos.as_mut_ptr(),
        };
        procctl(libc::PROC_REAP_GETPIDS, (&raw mut pids).cast())?;
        Some(
            infos
                .iter()
                .filter(|i| {
                    i.pi_flags & REAPER_PIDINFO_VALID != 0 && i.pi_flags & REAPER_PIDINFO_CHILD != 0
                })
                .map(|i| i.pi_pid)
                .collect(),
        )
    }
}
