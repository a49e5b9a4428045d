//! The Unix agent: `fork`/`exec` through std's `Command`, then, on Linux,
//! `waitid` with `WNOWAIT` to read each state's `siginfo_t`, and `waitpid`
//! to read (and consume) the same state's raw status word.
//!
//! On the other Unixes (FreeBSD, macOS, illumos, NetBSD) it uses only
//! POSIX `waitpid` with that system's option bits and lets the target's
//! own std classify each status (`ExitStatusExt`, which calls that C
//! library's `W*` macros): the `siginfo_t` layout and the `WNOWAIT` and
//! `P_PID` values differ per system and are not verified here, so their
//! reports have no `waitid` lines (that column is "not observed" there).
//! `PR_SET_PDEATHSIG` is Linux's only.
//!
//! # References
//! - POSIX.1-2017 XSH `waitid`, `waitpid`, `setpgid`, `kill`, `setrlimit`
//! - waitid(2), waitpid(2), prctl(2) `PR_SET_PDEATHSIG`
//! - the option bits: Linux `<linux/wait.h>`; FreeBSD `sys/sys/wait.h`
//!   (WCONTINUED 4); Darwin `bsd/sys/wait.h` (WCONTINUED 0x10); illumos
//!   `usr/src/uts/common/sys/wait.h` (WUNTRACED 0004, WCONTINUED 0010,
//!   WNOHANG 0100, octal)

// The Linux waitid path's helpers are unused on the other Unixes.
#![cfg_attr(
    not(any(target_os = "linux", target_os = "android")),
    allow(dead_code)
)]

use std::io;
use std::os::raw::c_int;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use crate::Request;

/// The family word of the report's first line.
pub const FAMILY: &str = "unix";

// <linux/wait.h>: the same values on every Linux architecture.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod bits {
    use std::os::raw::c_int;
    pub const WNOHANG: c_int = 1;
    pub const WUNTRACED: c_int = 2;
    pub const WCONTINUED: c_int = 8;
}
#[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
mod bits {
    use std::os::raw::c_int;
    pub const WNOHANG: c_int = 1;
    pub const WUNTRACED: c_int = 2;
    pub const WCONTINUED: c_int = 4;
}
#[cfg(any(target_os = "macos", target_os = "ios"))]
mod bits {
    use std::os::raw::c_int;
    pub const WNOHANG: c_int = 1;
    pub const WUNTRACED: c_int = 2;
    pub const WCONTINUED: c_int = 0x10;
}
#[cfg(any(target_os = "illumos", target_os = "solaris"))]
mod bits {
    use std::os::raw::c_int;
    pub const WNOHANG: c_int = 0o100;
    pub const WUNTRACED: c_int = 0o004;
    pub const WCONTINUED: c_int = 0o010;
}
// Elsewhere (NetBSD, OpenBSD, ...): the historical BSD bits, and no
// continued states asked for, since this value is not verified here: a
// stop is reported, its continuation not.
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "macos",
    target_os = "ios",
    target_os = "illumos",
    target_os = "solaris"
)))]
mod bits {
    use std::os::raw::c_int;
    pub const WNOHANG: c_int = 1;
    pub const WUNTRACED: c_int = 2;
    pub const WCONTINUED: c_int = 0;
}
use bits::{WCONTINUED, WNOHANG, WUNTRACED};

// Linux's waitid, <linux/wait.h>.
const WEXITED: c_int = 4;
const WNOWAIT: c_int = 0x0100_0000;
const P_PID: c_int = 1;
#[cfg(any(target_os = "linux", target_os = "android"))]
const PR_SET_PDEATHSIG: c_int = 1;
/// prctl(2): "PR_SET_CHILD_SUBREAPER (since Linux 3.4)", <linux/prctl.h>.
#[cfg(any(target_os = "linux", target_os = "android"))]
const PR_SET_CHILD_SUBREAPER: c_int = 36;
/// `ESRCH`: 3 on every Linux architecture (asm-generic/errno-base.h; MIPS
/// keeps the same low numbers).
const ESRCH: i32 = 3;

const CLD_EXITED: i32 = 1;
const CLD_KILLED: i32 = 2;
const CLD_DUMPED: i32 = 3;
const CLD_TRAPPED: i32 = 4;
const CLD_STOPPED: i32 = 5;

/// A stopped probe is continued at most this many times, then killed.
const MAX_STOPS: u32 = 8;

/// `RLIMIT_CORE`: 4 on Linux (asm-generic/resource.h; MIPS has its own
/// table, where it is 4 too), and on FreeBSD, macOS and illumos
/// (`sys/resource.h`: CPU, FSIZE, DATA, STACK, CORE).
const RLIMIT_CORE: c_int = 4;

/// `rlim_t`: glibc's `unsigned long`; a 64-bit integer on the BSDs, macOS
/// and illumos (on their 64-bit targets, the only ones checked here).
#[cfg(any(target_os = "linux", target_os = "android"))]
type RlimT = std::os::raw::c_ulong;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
type RlimT = u64;

/// `struct rlimit`: two `rlim_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RLimit {
    cur: RlimT,
    max: RlimT,
}

/// The core limit a served case gets: the hard limit when it expects a
/// core, else one byte, which dumps nothing whatever `core_pattern` says
/// (as `harness/src/process/spawn.rs` does for the host's probes).
fn core_limit(core: bool) -> Result<RLimit, String> {
    let mut limit = RLimit { cur: 0, max: 0 };
    // SAFETY: `limit` is a valid out-pointer of the right layout.
    if unsafe { c::getrlimit(RLIMIT_CORE, &mut limit) } != 0 {
        return Err(last_error("getrlimit"));
    }
    limit.cur = if core { limit.max } else { limit.max.min(1) };
    Ok(limit)
}

/// Storage for a `siginfo_t` (128 bytes on every Linux architecture).
#[repr(C, align(8))]
pub struct SigInfo([u8; 128]);

mod c {
    use super::SigInfo;
    use std::os::raw::c_int;

    extern "C" {
        pub fn waitid(idtype: c_int, id: u32, info: *mut SigInfo, options: c_int) -> c_int;
        pub fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
        pub fn kill(pid: c_int, sig: c_int) -> c_int;
        pub fn setpgid(pid: c_int, pgid: c_int) -> c_int;
        // Variadic, as glibc defines it (sysdeps/unix/sysv/linux/prctl.c
        // reads its arguments with va_arg): declaring five fixed arguments
        // breaks the calling convention on ppc64le, where the callee of a
        // variadic function writes a save area the caller must provide.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        pub fn prctl(option: c_int, ...) -> c_int;
        pub fn getrlimit(resource: c_int, limit: *mut super::RLimit) -> c_int;
        pub fn setrlimit(resource: c_int, limit: *const super::RLimit) -> c_int;
    }
}

impl SigInfo {
    fn int_at(&self, offset: usize) -> i32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.0[offset..offset + 4]);
        i32::from_ne_bytes(b)
    }

    /// `si_code`: the third `int`, but the second on MIPS, which swaps
    /// `si_code` and `si_errno` (arch/mips/include/uapi/asm/siginfo.h).
    fn code(&self) -> i32 {
        if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
            self.int_at(4)
        } else {
            self.int_at(8)
        }
    }

    /// The start of the union: after three `int`s, aligned to a pointer.
    fn union_at() -> usize {
        if cfg!(target_pointer_width = "64") {
            16
        } else {
            12
        }
    }

    /// `si_pid`: the union's first field for SIGCHLD; 0 if nothing was
    /// waitable under WNOHANG.
    fn pid(&self) -> i32 {
        self.int_at(Self::union_at())
    }

    /// `si_status`: after `si_pid` and `si_uid`.
    fn status(&self) -> i32 {
        self.int_at(Self::union_at() + 8)
    }
}

fn last_error(what: &str) -> String {
    format!("{what}: {}", io::Error::last_os_error())
}

/// `waitid(P_PID, pid, ..., options)`, retried on EINTR; `None` when
/// `WNOHANG` found nothing.
fn waitid(pid: i32, options: c_int) -> Result<Option<(i32, i32)>, String> {
    loop {
        let mut info = SigInfo([0; 128]);
        // SAFETY: `info` is a writable buffer at least as large as siginfo_t.
        let r = unsafe { c::waitid(P_PID, pid as u32, &mut info, options) };
        if r == 0 {
            if info.pid() == 0 {
                return Ok(None);
            }
            return Ok(Some((info.code(), info.status())));
        }
        if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return Err(last_error("waitid"));
        }
    }
}

fn waitpid(pid: i32) -> Result<i32, String> {
    loop {
        let mut status: c_int = 0;
        // SAFETY: `status` is a valid out-pointer; `pid` is our child.
        let r = unsafe { c::waitpid(pid, &mut status, WUNTRACED | WCONTINUED) };
        if r == pid {
            return Ok(status);
        }
        if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return Err(last_error("waitpid"));
        }
    }
}

fn signal_group(pgid: i32, sig: i32) {
    // SAFETY: kill(2) of our child's process group; ESRCH is harmless.
    unsafe { c::kill(-pgid, sig) };
}

/// What the target's std makes of the final raw status.
fn std_view(status: i32) -> String {
    let s = ExitStatus::from_raw(status);
    if let Some(code) = s.code() {
        format!("std exit {code}")
    } else if let Some(sig) = s.signal() {
        if s.core_dumped() {
            format!("std signal {sig} core")
        } else {
            format!("std signal {sig}")
        }
    } else {
        format!("std other {:#x}", status)
    }
}

pub fn run(req: &Request, lines: &mut Vec<String>) -> Result<(), String> {
    let mut command = Command::new(&req.argv[0]);
    command.args(&req.argv[1..]);
    if let Some(dir) = &req.dir {
        // Served: a clean start in the case's own directory, as the host
        // gives its own probes (harness/src/process/spawn.rs).
        let out = std::path::Path::new(dir);
        let open = |name: &str| {
            std::fs::File::create(out.join(name)).map_err(|e| format!("cannot create {name}: {e}"))
        };
        command
            .env_clear()
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(open(crate::STDOUT_FILE)?)
            .stderr(open(crate::STDERR_FILE)?);
    }
    let limit = match req.core {
        Some(core) => Some(core_limit(core)?),
        None => None,
    };
    // SAFETY: between fork and exec the closure only calls setpgid,
    // setrlimit and prctl, async-signal-safe system calls; it allocates
    // nothing (`limit` was computed before the fork).
    unsafe {
        command.pre_exec(move || {
            if let Some(limit) = &limit {
                if c::setrlimit(RLIMIT_CORE, limit) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            // Its own process group, so that the watchdog and the clean-up
            // reach whatever the probe starts; and killed if the agent dies.
            c::setpgid(0, 0);
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                use std::os::raw::c_ulong;
                c::prctl(PR_SET_PDEATHSIG, 9 as c_ulong, 0 as c_ulong, 0 as c_ulong, 0 as c_ulong);
            }
            Ok(())
        });
    }
    // What the probe leaves when it ends is re-parented to the agent, so
    // that the sweep below can end and reap it (Linux; elsewhere a probe's
    // leftovers that outlive the group kill go to init, unseen).
    let adopting = become_subreaper();
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", req.argv[0]))?;
    let pid = child.id() as i32;
    // The probe's process group, for a host that sweeps it itself (under
    // qemu-user, which refuses PR_SET_CHILD_SUBREAPER with EINVAL: what the
    // probe leaves goes to the host's subreaper, the harness).
    lines.push(format!("group {pid}"));
    let watched = watch(pid, req, lines, &mut Watchdog::new(req));
    if adopting {
        sweep(pid, req, lines);
    }
    watched
}

/// Makes the agent a child subreaper (prctl(2) `PR_SET_CHILD_SUBREAPER`).
/// Whether it worked: qemu-user 7.2 answers EINVAL (linux-user/syscall.c,
/// do_prctl: `PR_SET_CHILD_SUBREAPER` is among the options marked TODO).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn become_subreaper() -> bool {
    use std::os::raw::c_ulong;
    // SAFETY: prctl with an integer option and integer arguments.
    unsafe { c::prctl(PR_SET_CHILD_SUBREAPER, 1 as c_ulong, 0 as c_ulong, 0 as c_ulong, 0 as c_ulong) == 0 }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn become_subreaper() -> bool {
    false
}

/// How long the sweep waits for the probe's group to empty.
const SWEEP_LIMIT: Duration = Duration::from_secs(2);

/// After the probe was reaped: ends what it left behind, as the host's
/// `harness/src/process/orphans.rs` does for its own probes. The probe's
/// group got SIGKILL when its final state was seen; what was in it is
/// re-parented to the agent (a subreaper) as its parents die, and is reaped
/// here by pid without a word (it never left the group: it was only late
/// to die). A child of the agent that is in another group and started in
/// the case's directory (or, for the one-shot agent, which runs one probe,
/// any other child) left the group: it is killed, reaped and reported as a
/// `leaked` record.
fn sweep(pgid: i32, req: &Request, lines: &mut Vec<String>) {
    // The group kill again: a stopped probe left stopped, or a watch that
    // failed, did not send it.
    signal_group(pgid, req.sigkill);
    let started = Instant::now();
    loop {
        for pid in children() {
            let (group, name) = match process_stat(pid) {
                Some(stat) => stat,
                None => continue,
            };
            if group == pgid {
                reap_now(pid, req.sigkill);
            } else if is_this_cases(pid, req) {
                reap_now(pid, req.sigkill);
                lines.push(format!("leaked {pid} {name}"));
            }
        }
        // SAFETY: kill(2) with signal 0 only checks that the group has a
        // member (a zombie not yet reaped is one).
        let alive = unsafe { c::kill(-pgid, 0) } == 0
            || io::Error::last_os_error().raw_os_error() != Some(ESRCH);
        if !alive {
            return;
        }
        if started.elapsed() >= SWEEP_LIMIT {
            lines.push(format!(
                "error the probe's process group {pgid} still had members {} ms after the probe ended",
                SWEEP_LIMIT.as_millis()
            ));
            return;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Kills `pid` and reaps it, by pid.
fn reap_now(pid: i32, sigkill: i32) {
    // SAFETY: kill(2) and waitpid(2) of a child of this agent.
    unsafe {
        c::kill(pid, sigkill);
        let mut status: c_int = 0;
        while c::waitpid(pid, &mut status, 0) < 0
            && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
        {}
    }
}

/// The agent's children, from every thread's
/// `/proc/self/task/<tid>/children` (proc(5); orphans are re-parented to
/// one of the subreaper's threads).
fn children() -> Vec<i32> {
    let mut pids = Vec::new();
    let tasks = match std::fs::read_dir("/proc/self/task") {
        Ok(t) => t,
        Err(_) => return pids,
    };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            pids.extend(text.split_whitespace().filter_map(|w| w.parse::<i32>().ok()));
        }
    }
    pids
}

/// A process's group and command name, from `/proc/<pid>/stat` (proc(5):
/// `pid (comm) state ppid pgrp ...`; `comm` may hold spaces and parentheses,
/// so the fields are read after the last `)`).
fn process_stat(pid: i32) -> Option<(i32, String)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text.get(open + 1..close)?.to_owned();
    let mut rest = text.get(close + 1..)?.split_whitespace();
    let _state = rest.next()?;
    let _ppid = rest.next()?;
    let group = rest.next()?.parse().ok()?;
    Some((group, name))
}

/// Whether a child in another group than the probe's belongs to this case:
/// for the one-shot agent any child does (it runs one probe); for a served
/// case, one whose working directory is inside the case's directory.
fn is_this_cases(pid: i32, req: &Request) -> bool {
    match &req.dir {
        None => true,
        Some(dir) => std::fs::read_link(format!("/proc/{pid}/cwd"))
            .map(|cwd| cwd.starts_with(dir))
            .unwrap_or(false),
    }
}

/// The agent's own watchdog: SIGTERM to the probe's group after the
/// timeout, SIGKILL after the grace, while nothing happens.
struct Watchdog {
    started: Instant,
    timeout: Duration,
    grace: Duration,
    sent_term: Option<Instant>,
    sent_kill: bool,
    nap: Duration,
}

impl Watchdog {
    fn new(req: &Request) -> Watchdog {
        Watchdog {
            started: Instant::now(),
            timeout: Duration::from_millis(req.timeout_ms),
            grace: Duration::from_millis(req.grace_ms),
            sent_term: None,
            sent_kill: false,
            nap: Duration::from_millis(1),
        }
    }

    /// Nothing happened: act if a limit passed, then sleep a little.
    fn idle(&mut self, pid: i32, req: &Request, lines: &mut Vec<String>) {
        let now = Instant::now();
        if self.sent_term.is_none() && now.duration_since(self.started) >= self.timeout {
            signal_group(pid, req.sigterm);
            lines.push("watchdog SIGTERM".to_owned());
            self.sent_term = Some(now);
        } else if let Some(at) = self.sent_term {
            if !self.sent_kill && now.duration_since(at) >= self.grace {
                signal_group(pid, req.sigkill);
                lines.push("watchdog SIGKILL".to_owned());
                self.sent_kill = true;
            }
        }
        thread::sleep(self.nap);
        self.nap = (self.nap * 2).min(Duration::from_millis(10));
    }

    /// Something happened: poll quickly again.
    fn woke(&mut self) {
        self.nap = Duration::from_millis(1);
    }
}

/// A stopped probe is continued (unless asked not to), and killed after
/// [`MAX_STOPS`] stops.
fn after_stop(pid: i32, req: &Request, stops: &mut u32) {
    *stops += 1;
    if *stops > MAX_STOPS {
        // SAFETY: kill(2) of our own unreaped child.
        unsafe { c::kill(pid, req.sigkill) };
    }
    if !req.stay_stopped {
        // SAFETY: kill(2) of our own unreaped child.
        unsafe { c::kill(pid, req.sigcont) };
    }
}

/// POSIX `waitpid` only, the status classified by the target's std.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn watch(pid: i32, req: &Request, lines: &mut Vec<String>, dog: &mut Watchdog) -> Result<(), String> {
    let mut stops = 0;
    loop {
        let mut raw: c_int = 0;
        // SAFETY: `raw` is a valid out-pointer; `pid` is our child.
        let r = unsafe { c::waitpid(pid, &mut raw, WNOHANG | WUNTRACED | WCONTINUED) };
        if r == 0 {
            dog.idle(pid, req, lines);
            continue;
        }
        if r != pid {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(last_error("waitpid"));
        }
        dog.woke();
        lines.push(format!("waitpid {:#06x}", raw));
        let status = ExitStatus::from_raw(raw);
        if status.code().is_some() || status.signal().is_some() {
            signal_group(pid, req.sigkill);
            lines.push(std_view(raw));
            return Ok(());
        }
        if status.stopped_signal().is_some() {
            after_stop(pid, req, &mut stops);
        }
    }
}

/// Linux: `waitid(WNOWAIT)` peeks at each state, `waitpid` reaps it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn watch(pid: i32, req: &Request, lines: &mut Vec<String>, dog: &mut Watchdog) -> Result<(), String> {
    let mut stops = 0;
    loop {
        let peek = waitid(pid, WEXITED | WUNTRACED | WCONTINUED | WNOWAIT | WNOHANG)?;
        let (code, status) = match peek {
            Some(state) => state,
            None => {
                dog.idle(pid, req, lines);
                continue;
            }
        };
        dog.woke();
        let is_final = matches!(code, CLD_EXITED | CLD_KILLED | CLD_DUMPED);
        if is_final {
            // The probe is a zombie: its pid, and so its group id, cannot be
            // reused. Whatever it left in its group goes with it.
            signal_group(pid, req.sigkill);
        }
        lines.push(format!("waitid {code} {status}"));
        let raw = waitpid(pid)?;
        lines.push(format!("waitpid {:#06x}", raw));
        let raw_final = raw & 0x7f != 0x7f && raw != 0xffff;
        if raw_final {
            if !is_final {
                // The state changed between the peek and the wait (a
                // continued probe exited at once): the final siginfo is the
                // one that waitid would now have given, derived from the
                // status exactly as the kernel derives it.
                let (c2, s2) = if raw & 0x7f == 0 {
                    (CLD_EXITED, (raw >> 8) & 0xff)
                } else if raw & 0x80 != 0 {
                    (CLD_DUMPED, raw & 0x7f)
                } else {
                    (CLD_KILLED, raw & 0x7f)
                };
                lines.push(format!("waitid {c2} {s2} derived"));
            }
            lines.push(std_view(raw));
            return Ok(());
        }
        if code == CLD_STOPPED || code == CLD_TRAPPED {
            after_stop(pid, req, &mut stops);
        }
    }
}

/// Makes a stored probe executable (mode 0755).
pub fn make_executable(path: &std::path::Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}
