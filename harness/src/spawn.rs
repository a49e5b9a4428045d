//! Starting a probe: the one place where a probe process is created.
//!
//! Every probe runs with an empty environment (this project's machines set
//! `RUST_BACKTRACE=1`, which changes what a panicking probe prints and makes it
//! far slower), standard input from `/dev/null`, standard output and error
//! into files, in a temporary working directory of its own, in its own
//! process group, with every signal disposition at its default and an
//! explicit core-dump limit.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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
    /// The child; reap it with a [`crate::reap::Reaper`].
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
        let stdout = std::fs::read(self.dir.path().join(STDOUT_FILE))?;
        let stderr = std::fs::read(self.dir.path().join(STDERR_FILE))?;
        let mut cores: Vec<String> = std::fs::read_dir(self.dir.path())?
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n == "core" || n.starts_with("core."))
            .collect();
        cores.sort();
        self.dir.close()?;
        Ok(Leftovers {
            stdout,
            stderr,
            cores,
        })
    }
}

/// Starts `invocation` as a probe. `core` says whether the case expects a
/// core dump: it sets `RLIMIT_CORE` to the hard limit, otherwise to one
/// byte, which dumps nothing whatever `core_pattern` says.
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
    // SAFETY: the closure runs in the child between fork and exec, so it may
    // only call async-signal-safe functions: setrlimit, sigaction,
    // sigemptyset and sigprocmask are all on POSIX's list (XSH 2.4.3). It
    // allocates nothing and touches no lock; `core_limit` was computed in the
    // parent and is copied in.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_CORE, &core_limit) != 0 {
                return Err(io::Error::last_os_error());
            }
            reset_signals();
            Ok(())
        });
    }
    let child = command.spawn()?;
    Ok(Spawned { child, dir })
}

/// The core limit for a case, keeping the hard limit as it is.
fn core_limit(core: bool) -> io::Result<libc::rlimit> {
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
///
/// `exec` resets caught signals, but ignored ones stay ignored: the harness
/// may itself have been started with SIGINT and SIGQUIT ignored (a background
/// job of a non-interactive shell) or SIGHUP ignored (`nohup`), and std
/// ignores SIGPIPE. A probe must meet the defaults.
///
/// On Linux this calls the `rt_sigaction` system call directly, because the C
/// library's `sigaction` refuses the signals it reserves for itself (glibc's
/// 32 and 33), and an inherited "ignore" on those must not reach a probe
/// either. An all-zero kernel `struct sigaction` is SIG_DFL with no flags and
/// an empty mask on every architecture, whatever the field order.
///
/// # Safety
/// Async-signal-safe; meant for the child between fork and exec.
unsafe fn reset_signals() {
    #[cfg(target_os = "linux")]
    {
        // The kernel's sigset_t: 64 signals, 128 on MIPS.
        const SIGSET_SIZE: usize = if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
            16
        } else {
            8
        };
        let default = [0u64; 8];
        for signal in 1..=(SIGSET_SIZE as libc::c_long * 8) {
            if signal == libc::SIGKILL as libc::c_long || signal == libc::SIGSTOP as libc::c_long {
                continue;
            }
            // SAFETY: `default` is larger than the kernel's struct sigaction
            // on every architecture and all zero; the old action is not
            // asked for. Failure (none expected) leaves the default anyway.
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    signal,
                    default.as_ptr(),
                    std::ptr::null_mut::<u64>(),
                    SIGSET_SIZE,
                )
            };
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
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
    // SAFETY: an all-zero sigset_t is a valid value for sigemptyset to fill.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t; SIG_SETMASK with an empty set
    // unblocks every signal.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}
