//! Starting a probe through std's `Command`, and what both spawn paths
//! share.
//!
//! Every probe runs with an empty environment (this project's machines set
//! `RUST_BACKTRACE=1`, which changes what a panicking probe prints and makes it
//! far slower), standard input from `/dev/null`, standard output and error
//! into files, in a temporary working directory of its own, in its own
//! process group, with every signal disposition at its default and an
//! explicit core-dump limit.
//!
//! [`spawn`] starts the probes of the `std` reaper (so that std's own spawn
//! and `Child::wait` are what that column shows) and the parents (shells,
//! Python, the foreign agents). The `waitpid` and `waitid` reapers' probes
//! are started by [`crate::process::fastspawn`] on Linux, with the same guarantees;
//! the core limit, the signal reset and the listing of core files are
//! shared from here.
//!
//! On Windows [`spawn`] starts the probe in a Job object of its own
//! (`process::windows`, Windows only).

use std::ffi::OsString;
use std::fs::File;
use std::io;
#[cfg(unix)]
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Child;
#[cfg(unix)]
use std::process::{Command, Stdio};

use tempfile::TempDir;

/// What to execute: the probe, its arguments and a runner prefix (empty for
/// native probes; `qemu-aarch64`, `wine64`, ... later).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    /// Words put before the program, such as an emulator.
    pub runner: Vec<OsString>,
    /// The probe binary.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

impl Invocation {
    /// The whole command line, runner first.
    pub fn argv(&self) -> Vec<OsString> {
        let mut v = self.runner.clone();
        v.push(self.program.clone().into_os_string());
        v.extend(self.args.iter().map(OsString::from));
        v
    }

    /// The command line as text, for reports.
    pub fn display(&self) -> String {
        let words: Vec<String> = self
            .argv()
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect();
        words.join(" ")
    }
}

/// A running probe and the directory it runs in.
#[derive(Debug)]
pub struct Spawned {
    /// The child; reap it with a [`crate::process::reap::Reaper`].
    pub child: Child,
    dir: TempDir,
}

/// What a probe left behind once reaped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: Vec<u8>,
    /// Names of core files found in its directory (removed with it).
    pub cores: Vec<String>,
}

const STDOUT_FILE: &str = ".exitmatrix-stdout";
const STDERR_FILE: &str = ".exitmatrix-stderr";

impl Spawned {
    /// The probe's working directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Reads what the probe wrote and which core files it dumped, then
    /// removes its directory. Call after the child has been reaped.
    pub fn finish(self) -> io::Result<Leftovers> {
        // The probe's Job object, if a reaper has not closed it already.
        #[cfg(windows)]
        crate::os::release_job(self.child.id());
        collect(self.dir)
    }
}

/// A case directory for a process someone else starts (a
/// [`Server`]'s case process): a fresh temporary directory holding the two
/// empty capture files, named and placed as [`spawn`] places them.
#[derive(Debug)]
pub struct CaseDir {
    dir: TempDir,
}

impl CaseDir {
    /// Makes the directory and its capture files.
    pub fn new() -> io::Result<CaseDir> {
        let dir = tempfile::Builder::new().prefix("exitmatrix-").tempdir()?;
        File::create(dir.path().join(STDOUT_FILE))?;
        File::create(dir.path().join(STDERR_FILE))?;
        Ok(CaseDir { dir })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The standard output capture file.
    pub fn stdout_path(&self) -> PathBuf {
        self.dir.path().join(STDOUT_FILE)
    }

    /// The standard error capture file.
    pub fn stderr_path(&self) -> PathBuf {
        self.dir.path().join(STDERR_FILE)
    }

    /// As [`Spawned::finish`]: the output and core files, then the
    /// directory is removed.
    pub fn finish(self) -> io::Result<Leftovers> {
        collect(self.dir)
    }
}

fn collect(dir: TempDir) -> io::Result<Leftovers> {
    let stdout = std::fs::read(dir.path().join(STDOUT_FILE))?;
    let stderr = std::fs::read(dir.path().join(STDERR_FILE))?;
    let cores = core_files(&entries(dir.path())?);
    dir.close()?;
    Ok(Leftovers {
        stdout,
        stderr,
        cores,
    })
}

/// A long-lived parent that runs cases it is sent (the Python observers'
/// server): started with [`spawn`]'s guarantees (empty environment, every
/// signal disposition at its default and an empty mask, its own process
/// group, no core dump), but with standard input and output as pipes of
/// line-based requests and replies, and standard error into an unlinked
/// temporary file that [`Server::log`] reads (for error messages).
#[derive(Debug)]
#[cfg_attr(windows, allow(dead_code, reason = "no server path on Windows yet"))]
pub struct Server {
    child: Child,
    requests: std::process::ChildStdin,
    replies: std::process::ChildStdout,
    pending: Vec<u8>,
    log: File,
}

/// Starts `invocation` as a [`Server`], in `/`.
#[cfg(unix)]
#[expect(
    clippy::disallowed_methods,
    reason = "the other place parents are spawned, with spawn's guarantees"
)]
pub fn spawn_server(invocation: &Invocation) -> io::Result<Server> {
    let log = tempfile::tempfile()?;
    let argv = invocation.argv();
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::other("empty command line"))?;
    let core_limit = core_limit(false)?;
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log.try_clone()?)
        .process_group(0);
    reset_in_child(&mut command, core_limit);
    let mut child = command.spawn()?;
    let requests = child.stdin.take().expect("stdin is piped");
    let replies = child.stdout.take().expect("stdout is piped");
    Ok(Server {
        child,
        requests,
        replies,
        pending: Vec::new(),
        log,
    })
}

/// Windows has no server path: fails with an error of kind `Unsupported`.
#[cfg(windows)]
pub fn spawn_server(_invocation: &Invocation) -> io::Result<Server> {
    Err(crate::process::unsupported())
}

#[cfg(unix)]
impl Server {
    /// The server's pid (and process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends one request line (a newline is added).
    pub fn send(&mut self, line: &str) -> io::Result<()> {
        use std::io::Write as _;
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.requests.write_all(&bytes)?;
        self.requests.flush()
    }

    /// The next reply line, without its newline; `Ok(None)` if none came
    /// within `timeout`. The end of the server's output is an error of kind
    /// `UnexpectedEof`.
    pub fn receive(&mut self, timeout: std::time::Duration) -> io::Result<Option<String>> {
        use std::io::Read as _;
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                return String::from_utf8(line[..end].to_vec())
                    .map(Some)
                    .map_err(|_| {
                        io::Error::new(io::ErrorKind::InvalidData, "a reply is not UTF-8")
                    });
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if !readable(&self.replies, left)? {
                // Nothing yet: the time is up, or a signal interrupted the
                // wait (EINTR), which must not end it early.
                if std::time::Instant::now() >= deadline {
                    return Ok(None);
                }
                continue;
            }
            let mut chunk = [0u8; 4096];
            let n = self.replies.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed its output",
                ));
            }
            self.pending.extend_from_slice(&chunk[..n]);
        }
    }

    /// The last `max` bytes the server wrote to its standard error.
    pub fn log(&self, max: usize) -> String {
        use std::os::unix::fs::FileExt as _;
        let len = self.log.metadata().map_or(0, |m| m.len());
        let start = len.saturating_sub(max as u64);
        let mut bytes = vec![0; usize::try_from(len - start).unwrap_or(0)];
        let n = self.log.read_at(&mut bytes, start).unwrap_or(0);
        String::from_utf8_lossy(&bytes[..n]).trim().to_owned()
    }

    /// Kills the server's process group and reaps the server.
    pub fn kill(mut self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap_or(0);
        if pid > 0 {
            // SAFETY: kill(2) on the server's own group (it is unreaped, so
            // the id is still its own); no memory effects.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let _ = self.child.wait();
    }
}

/// Windows: [`spawn_server`] fails there, so no `Server` exists; these
/// only keep the callers compiling.
#[cfg(windows)]
impl Server {
    /// The server's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Unsupported.
    pub fn send(&mut self, _line: &str) -> io::Result<()> {
        Err(crate::process::unsupported())
    }

    /// Unsupported.
    pub fn receive(&mut self, _timeout: std::time::Duration) -> io::Result<Option<String>> {
        Err(crate::process::unsupported())
    }

    /// Nothing.
    pub fn log(&self, _max: usize) -> String {
        String::new()
    }

    /// Kills and reaps the server.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `fd` becomes readable (or hung up) within `timeout`.
#[cfg(unix)]
fn readable(fd: &impl std::os::fd::AsRawFd, timeout: std::time::Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut pfd, 1, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(e);
    }
    Ok(r > 0)
}

/// Starts `invocation` as a probe. `core` says whether the case expects a
/// core dump: it sets `RLIMIT_CORE` to the hard limit, otherwise to one
/// byte, which dumps nothing whatever `core_pattern` says.
#[cfg(unix)]
#[expect(
    clippy::disallowed_methods,
    reason = "this is the one place probes are spawned"
)]
pub fn spawn(invocation: &Invocation, core: bool) -> io::Result<Spawned> {
    let dir = tempfile::Builder::new().prefix("exitmatrix-").tempdir()?;
    let stdout = File::create(dir.path().join(STDOUT_FILE))?;
    let stderr = File::create(dir.path().join(STDERR_FILE))?;
    let argv = invocation.argv();
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::other("empty command line"))?;
    let core_limit = core_limit(core)?;

    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    reset_in_child(&mut command, core_limit);
    let child = command.spawn()?;
    Ok(Spawned { child, dir })
}

/// Starts `invocation` as a probe on Windows, in a Job object of its own
/// ([`crate::process::windows::spawn`]). Windows has no core limit or
/// signal dispositions to set: `core` changes nothing.
#[cfg(windows)]
pub fn spawn(invocation: &Invocation, _core: bool) -> io::Result<Spawned> {
    let (child, dir) =
        crate::process::windows::spawn(&invocation.argv(), STDOUT_FILE, STDERR_FILE)?;
    Ok(Spawned { child, dir })
}

/// The names in a probe's directory.
pub(crate) fn entries(dir: &Path) -> io::Result<Vec<OsString>> {
    std::fs::read_dir(dir)?
        .map(|entry| Ok(entry?.file_name()))
        .collect()
}

/// The core files among `names` (`core`, `core.<anything>`), sorted.
pub(crate) fn core_files(names: &[OsString]) -> Vec<String> {
    let mut cores: Vec<String> = names
        .iter()
        .filter_map(|n| n.to_str())
        .filter(|n| *n == "core" || n.starts_with("core."))
        .map(str::to_owned)
        .collect();
    cores.sort();
    cores
}

/// Has `command`'s child, between fork and exec, set `core_limit` and reset
/// every signal disposition and the mask (the probes' and the Python
/// server's shared guarantees).
#[cfg(unix)]
fn reset_in_child(command: &mut Command, core_limit: libc::rlimit) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec, so it may
    // only call async-signal-safe functions: setrlimit and `reset_signals`
    // (sigaction and sigprocmask, or their system calls) are on POSIX's list
    // (XSH 2.4.3). It allocates nothing and touches no lock (an `io::Error`
    // from an errno allocates nothing); `core_limit` was computed in the
    // parent and is copied in.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_CORE, &core_limit) != 0 {
                return Err(io::Error::last_os_error());
            }
            match reset_signals() {
                0 => Ok(()),
                errno => Err(io::Error::from_raw_os_error(errno)),
            }
        });
    }
}

/// The core limit for a case, keeping the hard limit as it is.
#[cfg(unix)]
pub(crate) fn core_limit(core: bool) -> io::Result<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a valid pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // "Off" is one byte, not zero: the kernel ignores a zero limit when
    // core_pattern pipes cores to a program, but refuses to dump for a limit
    // of exactly 1 (fs/coredump.c), and a file dump needs at least a page.
    limit.rlim_cur = if core {
        limit.rlim_max
    } else {
        limit.rlim_max.min(1)
    };
    Ok(limit)
}

/// Puts every signal back to its default action and unblocks all of them.
/// Returns 0, or the errno of the step that failed.
///
/// `exec` resets caught signals, but ignored ones stay ignored: the harness
/// may itself have been started with SIGINT and SIGQUIT ignored (a background
/// job of a non-interactive shell) or SIGHUP ignored (`nohup`), and std
/// ignores SIGPIPE. A probe must meet the defaults. The dispositions are
/// written without being read first: reading them costs as many system
/// calls.
///
/// On Linux this calls the `rt_sigaction` and `rt_sigprocmask` system calls
/// directly, because the C library's wrappers refuse or skip the signals it
/// reserves for itself (glibc's 32 and 33), and an inherited "ignore" or
/// block on those must not reach a probe either. An all-zero kernel
/// `struct sigaction` is SIG_DFL with no flags and an empty mask on every
/// architecture, whatever the field order.
///
/// # Safety
/// Async-signal-safe, allocates nothing and takes no lock; meant for a
/// child between fork (or [`crate::process::fastspawn`]'s clone) and exec. Once it
/// has returned, no signal handler of the parent can run in the child.
#[cfg(unix)]
unsafe fn reset_signals() -> libc::c_int {
    // SAFETY: async-signal-safe system calls on constant data, as this
    // function's own contract requires.
    unsafe { reset_dispositions() };
    // SAFETY: as above.
    if unsafe { unblock_all() } != 0 {
        return errno();
    }
    0
}

/// Every disposition but SIGKILL's and SIGSTOP's to SIG_DFL (the first half
/// of [`reset_signals`]).
///
/// # Safety
/// As [`reset_signals`].
#[cfg(target_os = "linux")]
pub(crate) unsafe fn reset_dispositions() {
    for signal in 1..=(KERNEL_SIGSET_BYTES as libc::c_long * 8) {
        if signal == libc::c_long::from(libc::SIGKILL)
            || signal == libc::c_long::from(libc::SIGSTOP)
        {
            continue;
        }
        // SAFETY: `SIG_DFL_ACTION` is larger than the kernel's struct
        // sigaction on every architecture and all zero; the old action is
        // not asked for. Failure (none expected) leaves the default anyway.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                SIG_DFL_ACTION.as_ptr(),
                std::ptr::null_mut::<u64>(),
                KERNEL_SIGSET_BYTES,
            )
        };
    }
}

/// Every disposition but SIGKILL's and SIGSTOP's to SIG_DFL (the first half
/// of [`reset_signals`]).
///
/// # Safety
/// As [`reset_signals`].
#[cfg(all(unix, not(target_os = "linux")))]
pub(crate) unsafe fn reset_dispositions() {
    // SAFETY: an all-zero sigaction is a valid value to fill in.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = libc::SIG_DFL;
    for signal in 1..32 {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        // SAFETY: `action` is valid; reserved numbers fail harmlessly.
        unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) };
    }
}

/// Sets the signal mask to the empty set (the second half of
/// [`reset_signals`]); 0 on success, else errno says why.
///
/// # Safety
/// As [`reset_signals`].
#[cfg(target_os = "linux")]
pub(crate) unsafe fn unblock_all() -> libc::c_long {
    let none = [0u64; 2];
    // SAFETY: an empty kernel sigset, at least KERNEL_SIGSET_BYTES long, as
    // the new mask; the old one is not asked for.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            none.as_ptr(),
            std::ptr::null_mut::<u64>(),
            KERNEL_SIGSET_BYTES,
        )
    }
}

/// Sets the signal mask to the empty set (the second half of
/// [`reset_signals`]); 0 on success, else errno says why.
///
/// # Safety
/// As [`reset_signals`].
#[cfg(all(unix, not(target_os = "linux")))]
pub(crate) unsafe fn unblock_all() -> libc::c_int {
    // SAFETY: an all-zero sigset_t is a valid value for sigemptyset to fill.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t; SIG_SETMASK with an empty set
    // unblocks every signal.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut())
    }
}

/// The kernel's sigset_t: 64 signals, 128 on MIPS.
#[cfg(target_os = "linux")]
const KERNEL_SIGSET_BYTES: usize = if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
    16
} else {
    8
};

/// An all-zero kernel `struct sigaction`: SIG_DFL, no flags, empty mask.
#[cfg(target_os = "linux")]
static SIG_DFL_ACTION: [u64; 8] = [0; 8];

/// The calling thread's errno, read without allocating (safe in a child
/// between fork or clone and exec).
#[cfg(unix)]
pub(crate) fn errno() -> libc::c_int {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}
