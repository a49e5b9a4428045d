//! The fast spawn path: a probe started with `clone(CLONE_VM | CLONE_VFORK)`
//! on a stack of its own, then `execve`. It is how the `waitpid` and
//! `waitid` observers ([`crate::observers::observe::Direct`]) start their probes.
//!
//! It keeps every guarantee of [`crate::process::spawn`]: an empty environment,
//! standard input from `/dev/null`, standard output and error captured apart,
//! a working directory of the probe's own, its own process group, an explicit
//! `RLIMIT_CORE`, every signal disposition at its default (SIGPIPE included)
//! and an empty signal mask. It adds one: the probe holds no descriptor but
//! 0, 1 and 2. Exec errors (`ENOENT`, `EACCES`, `ENOEXEC`, ...) come back as
//! the `io::Error` of [`spawn`](fn@spawn), with the errno the child saw.
//!
//! # Why it is faster
//! - No copy of the parent's page tables: the child borrows the parent's
//!   memory until it execs, and the parent sleeps meanwhile (`CLONE_VFORK`),
//!   which is how glibc's `posix_spawn` works too.
//! - Few system calls in the child, none of them reads: one `rt_sigaction`
//!   per signal (glibc's `posix_spawn` reads every disposition, then resets
//!   the caught ones; nothing about them is remembered between spawns, so
//!   nothing can be stale), then `setpgid`, `prlimit`, `fchdir`, three `dup2`,
//!   `close_range`, the mask and `execve`.
//! - The descriptors above 2 are marked close-on-exec
//!   (`CLOSE_RANGE_CLOEXEC`) rather than closed in the child: `execve`
//!   closes them after it has released the parent, so the parent does not
//!   wait for them (plain `close_range` where the flag is refused, before
//!   Linux 5.11).
//! - No error pipe: the child shares the parent's memory, so it writes its
//!   errno into a slot the parent reads once `clone` returns. That is sound
//!   because `CLONE_VFORK` returns only after the child has exec'd (the slot
//!   then stays 0) or exited (the slot holds why), never while it runs.
//! - Output is captured in two `memfd`s (regular files in memory, as a probe
//!   sees them), not in files of the working directory. Each probe gets a
//!   fresh pair: a used one is never handed to another probe, since a
//!   grandchild that escaped its probe's group could still write into it.
//! - Working directories are reused: a directory the previous probe left
//!   empty, with its mode and owner untouched, goes back to a pool and is the next
//!   probe's working directory. A probe cannot tell it from a fresh one; a
//!   directory with anything left in it (a core file, say) is removed. On a
//!   disk-backed `/tmp` creating and removing a directory costs more than
//!   the spawn itself. It is listed with `getdents64` on the descriptor
//!   already open on it. The pool is emptied (directories removed) when the
//!   process exits through `exit`.
//!
//! # What the child may do
//! Between `clone` and `execve` the child runs on the parent's memory while
//! other threads of the parent keep running. It therefore only makes system
//! calls through async-signal-safe libc wrappers, on data the parent prepared
//! (paths, `argv`, `envp`, descriptors, the core limit), allocates nothing,
//! takes no lock and cannot panic. The parent blocks every signal around
//! `clone`, so no signal handler of the parent can run in the child; the
//! child resets every disposition to the default before it unblocks signals.
//! The glibc wrappers may write `errno`, which is the suspended parent
//! thread's own: the parent never reads `errno` across a successful `clone`.
//!
//! # Differences from [`crate::process::spawn`]
//! - A program name without a `/` is looked up in the parent's `PATH`
//!   before the spawn (std's `Command` asks `execvp` in the child).
//! - `ENOEXEC` is an error: a file that is neither an executable nor a
//!   `#!` script is not handed to `/bin/sh` (glibc's `execvp`, behind std's
//!   `Command`, does that).
//! - The working directory holds no capture files; it starts empty.
//!
//! Linux only.
//!
//! # References
//! - clone(2), execve(2), vfork(2), close_range(2), memfd_create(2)
//! - POSIX.1-2017 XSH 2.4.3, "Signal Actions" (async-signal-safe functions)

#![cfg(target_os = "linux")]

use std::cell::Cell;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, Once, OnceLock, PoisonError};

use tempfile::TempDir;

use crate::process::reap::{self, Pid, Reapable};
use crate::process::spawn::{self, errno, Invocation, Leftovers};

/// A running probe started by [`spawn`](fn@spawn).
///
/// Reap it by pid (it is [`Reapable`], so any reaper that waits by pid
/// takes it; or `waitpid`, `waitid`, a pidfd), then call
/// [`FastSpawned::finish`]. Like std's `Child`, dropping it neither kills
/// nor reaps the probe; its working directory is then removed.
#[derive(Debug)]
pub struct FastSpawned {
    pid: libc::pid_t,
    workdir: Workdir,
    stdout: File,
    stderr: File,
}

impl Reapable for FastSpawned {
    fn pid(&self) -> libc::pid_t {
        self.pid
    }
}

impl FastSpawned {
    /// The probe's pid, which is also its process group id.
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// The probe's working directory.
    pub fn dir(&self) -> &Path {
        self.workdir.dir.path()
    }

    /// Reads what the probe wrote and which core files it dumped, then
    /// releases its directory: back to the pool if the probe left it empty,
    /// removed otherwise. Call after the probe has been reaped.
    pub fn finish(self) -> io::Result<Leftovers> {
        let stdout = read_capture(&self.stdout)?;
        let stderr = read_capture(&self.stderr)?;
        let names = self.workdir.names()?;
        let cores = spawn::core_files(&names);
        if names.is_empty() && self.workdir.untouched()? {
            pool_put(self.workdir);
        } else {
            self.workdir.dir.close()?;
        }
        Ok(Leftovers {
            stdout,
            stderr,
            cores,
        })
    }
}

/// Starts `invocation` as a probe. `core` says whether the case expects a
/// core dump: `RLIMIT_CORE` is then the hard limit, otherwise one byte (as
/// [`crate::process::spawn::spawn`] sets it).
///
/// On error nothing is left running: a child that could not exec has been
/// reaped, and the error is the errno of the step that failed (`execve`'s
/// `ENOENT`, `EACCES`, `ENOEXEC`, ..., as `raw_os_error`).
pub fn spawn(invocation: &Invocation, core: bool) -> io::Result<FastSpawned> {
    // The words of `invocation.argv()`, borrowed rather than copied.
    let words = || {
        let program = std::iter::once(invocation.program.as_os_str());
        let args = invocation.args.iter().map(OsStr::new);
        invocation
            .runner
            .iter()
            .map(OsString::as_os_str)
            .chain(program)
            .chain(args)
    };
    let first = words()
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command line"))?;
    let program = resolve(first)?;
    let args = words()
        .map(|w| c_string(w.as_bytes()))
        .collect::<io::Result<Vec<CString>>>()?;
    let argv: Vec<*const libc::c_char> = args
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(ptr::null()))
        .collect();
    let envp: [*const libc::c_char; 1] = [ptr::null()];
    let core_limit = spawn::core_limit(core)?;
    let stdin = dev_null()?;
    let stdout = capture(c"exitmatrix-stdout")?;
    let stderr = capture(c"exitmatrix-stderr")?;
    let workdir = pool_take()?;

    let child = ChildArgs {
        program: program.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        dir: workdir.fd.as_raw_fd(),
        stdio: [stdin.as_raw_fd(), stdout.as_raw_fd(), stderr.as_raw_fd()],
        core_limit,
        errno: AtomicI32::new(0),
    };
    let pid = match clone_vfork(&child) {
        Ok(pid) => pid,
        Err(e) => {
            pool_put(workdir);
            return Err(e);
        }
    };
    // `args`, `argv`, `envp` and `program` are alive up to here: the child
    // has exec'd or exited by now.
    let errno = child.errno.load(Ordering::SeqCst);
    if errno != 0 {
        // The child exited with 127 without exec'ing: reap it, so that no
        // zombie is left, and report what it saw.
        let _ = reap::discard(&mut Pid(pid));
        pool_put(workdir);
        return Err(io::Error::from_raw_os_error(errno));
    }
    Ok(FastSpawned {
        pid,
        workdir,
        stdout,
        stderr,
    })
}

/// Everything the child needs, prepared by the parent. The child only reads
/// it, but for `errno`.
#[derive(Debug)]
struct ChildArgs {
    program: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    dir: libc::c_int,
    stdio: [libc::c_int; 3],
    core_limit: libc::rlimit,
    /// Set by the child to the errno of the step that failed, before it
    /// exits; 0 if it exec'd.
    errno: AtomicI32,
}

/// Runs [`child_main`] in a `clone(CLONE_VM | CLONE_VFORK)` child and
/// returns its pid once it has exec'd or exited.
fn clone_vfork(child: &ChildArgs) -> io::Result<libc::pid_t> {
    let stack = match STACK.try_with(Cell::take) {
        Ok(Some(stack)) => stack,
        _ => ChildStack::new()?,
    };
    let mut all = empty_sigset();
    let mut old = empty_sigset();
    // SAFETY: sigfillset fills a valid sigset_t; pthread_sigmask reads `all`
    // and writes the previous mask into `old`, both valid.
    let r = unsafe {
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old)
    };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    // SAFETY: `child_main` only makes async-signal-safe system calls on the
    // data behind `child`, which outlives the child's use of it: with
    // CLONE_VFORK, clone returns only after the child has exec'd or exited.
    // The stack is a mapping of ours with a guard page, used by nobody else
    // until clone returns, and `top()` is its 16-byte-aligned upper end.
    // Every signal is blocked, so no handler of ours can run on it.
    let pid = unsafe {
        libc::clone(
            child_main,
            stack.top(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            ptr::from_ref(child).cast_mut().cast(),
        )
    };
    // Only meaningful if clone failed, in which case no child ran and wrote
    // errno.
    let clone_error = io::Error::last_os_error();
    // SAFETY: restores the mask saved above; `old` is a valid sigset_t.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, ptr::null_mut()) };
    // Keep the stack for this thread's next spawn (dropped if the thread is
    // going away).
    let _ = STACK.try_with(|s| s.set(Some(stack)));
    if pid < 0 {
        return Err(clone_error);
    }
    Ok(pid)
}

/// The child, from `clone` to `execve`.
///
/// Never returns: it execs or calls `_exit(127)` after recording the errno.
extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildArgs` the parent passed to clone, alive and
    // unchanged while the parent is suspended (CLONE_VFORK).
    let child = unsafe { &*arg.cast::<ChildArgs>() };
    // SAFETY: this is the child between clone and exec: `run_child`'s
    // contract.
    let errno = unsafe { run_child(child) };
    child.errno.store(errno.max(1), Ordering::SeqCst);
    // SAFETY: _exit is async-signal-safe and ends the child without running
    // anything of the parent's (no atexit handlers, no stdio flush).
    unsafe { libc::_exit(127) }
}

/// The child's steps; returns the errno of the step that failed (execve
/// returns only on failure).
///
/// # Safety
/// Only for the child of [`clone_vfork`], with signals blocked: every call
/// is an async-signal-safe system-call wrapper on data the parent prepared.
unsafe fn run_child(child: &ChildArgs) -> libc::c_int {
    // Every disposition back to the default, before signals are unblocked:
    // a handler inherited from the parent must never run here, and an
    // inherited "ignore" (SIGPIPE from std, SIGINT/SIGQUIT/SIGHUP from a
    // shell or nohup) must not reach the probe. See `spawn::reset_signals`.
    // SAFETY: async-signal-safe system calls on constant data, in the child
    // between clone and exec.
    unsafe { spawn::reset_dispositions() };
    // SAFETY: plain async-signal-safe system-call wrappers, with arguments
    // the parent prepared and keeps alive; each failure is reported by errno.
    unsafe {
        if libc::setpgid(0, 0) != 0 {
            return errno();
        }
        if libc::setrlimit(libc::RLIMIT_CORE, &child.core_limit) != 0 {
            return errno();
        }
        if libc::fchdir(child.dir) != 0 {
            return errno();
        }
        // The parent made sure all three descriptors are above 2, so no
        // dup2 overwrites a later one's source.
        for (target, &fd) in (0..).zip(child.stdio.iter()) {
            if libc::dup2(fd, target) != target {
                return errno();
            }
        }
        // Nothing but 0, 1 and 2 reaches the probe: every other descriptor
        // is marked close-on-exec (a bit each), and `execve` closes them
        // after it has released the suspended parent (the vfork completion
        // comes with the new memory map, the close-on-exec sweep later), so
        // closing them no longer holds the parent up. Before Linux 5.11
        // the flag is refused (EINVAL) and they are closed here instead.
        // Failure of both (ENOSYS before Linux 5.9) is harmless: std opens
        // every descriptor close-on-exec, and so does this module.
        if libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        ) != 0
            && errno() == libc::EINVAL
        {
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
        }
        if spawn::unblock_all() != 0 {
            return errno();
        }
        libc::execve(child.program, child.argv, child.envp);
        errno()
    }
}

fn empty_sigset() -> libc::sigset_t {
    // SAFETY: an all-zero sigset_t is a valid (empty) value.
    unsafe { std::mem::zeroed() }
}

/// The child's stack: an anonymous mapping with a guard page below it.
#[derive(Debug)]
struct ChildStack {
    base: *mut libc::c_void,
    len: usize,
}

/// The child needs little stack (a few frames of system-call wrappers); this
/// leaves a wide margin, and the guard page turns an overflow into a fault of
/// the child instead of a write into the parent's memory.
const CHILD_STACK_BYTES: usize = 64 * 1024;

thread_local! {
    /// One cached stack per thread, so a spawn maps nothing.
    static STACK: Cell<Option<ChildStack>> = const { Cell::new(None) };
}

impl ChildStack {
    fn new() -> io::Result<ChildStack> {
        // SAFETY: sysconf has no memory effects.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        let len = CHILD_STACK_BYTES + page;
        // SAFETY: a fresh private anonymous mapping at an address of the
        // kernel's choosing; the result is checked.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = ChildStack { base, len };
        // SAFETY: the lowest page of our own mapping becomes the guard page.
        if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// The upper end, where a downward-growing stack starts; page-aligned.
    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of our mapping, as a stack top must be.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`, which no child
        // uses any more (clone has returned).
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// A probe's working directory, a descriptor on it (for `fchdir`), and the
/// mode and owner it was created with.
#[derive(Debug)]
struct Workdir {
    dir: TempDir,
    fd: OwnedFd,
    created: (libc::mode_t, libc::uid_t),
}

impl Workdir {
    fn new() -> io::Result<Workdir> {
        let dir = tempfile::Builder::new().prefix("exitmatrix-").tempdir()?;
        let fd = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(dir.path())?;
        let fd = above_stdio(fd.into())?;
        let created = mode_and_owner(&fd)?;
        Ok(Workdir { dir, fd, created })
    }

    /// Whether the directory still has the mode and owner it was created
    /// with (a probe may have changed them).
    fn untouched(&self) -> io::Result<bool> {
        Ok(mode_and_owner(&self.fd)? == self.created)
    }

    /// The names in the directory (but `.` and `..`), read through the
    /// descriptor already open on it: `getdents64` from offset 0 until it
    /// returns nothing, which costs a fraction of opening the directory by
    /// its path again (std's `read_dir`).
    fn names(&self) -> io::Result<Vec<OsString>> {
        let fd = self.fd.as_raw_fd();
        // SAFETY: lseek on a descriptor we own; no memory effects.
        if unsafe { libc::lseek(fd, 0, libc::SEEK_SET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut names = Vec::new();
        let mut buf = DirentBuf([0; 2048]);
        loop {
            // SAFETY: getdents64 writes at most `buf.0.len()` bytes into our
            // buffer, which is 8-byte aligned as `linux_dirent64` requires.
            let n =
                unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.0.as_mut_ptr(), buf.0.len()) };
            let n = match usize::try_from(n) {
                Ok(0) => return Ok(names),
                Ok(n) => n.min(buf.0.len()),
                Err(_) => return Err(io::Error::last_os_error()),
            };
            dirent_names(&buf.0[..n], &mut names)?;
        }
    }
}

/// A buffer for `getdents64`, aligned for its records.
#[repr(C, align(8))]
struct DirentBuf([u8; 2048]);

/// Appends the names of the `linux_dirent64` records in `bytes` (what
/// getdents64 returned) to `names`, but `.` and `..`. A record is `d_ino`
/// (8 bytes), `d_off` (8), `d_reclen` (2), `d_type` (1), then the name and
/// its NUL (getdents(2)).
fn dirent_names(mut bytes: &[u8], names: &mut Vec<OsString>) -> io::Result<()> {
    const NAME_AT: usize = 19;
    let corrupt = || io::Error::new(io::ErrorKind::InvalidData, "a malformed directory entry");
    while !bytes.is_empty() {
        let reclen = bytes
            .get(16..18)
            .map(|r| usize::from(u16::from_ne_bytes([r[0], r[1]])))
            .ok_or_else(corrupt)?;
        let record = bytes
            .get(..reclen)
            .filter(|_| reclen > NAME_AT)
            .ok_or_else(corrupt)?;
        let name = CStr::from_bytes_until_nul(&record[NAME_AT..])
            .map_err(|_| corrupt())?
            .to_bytes();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(name).to_owned());
        }
        bytes = &bytes[reclen..];
    }
    Ok(())
}

fn mode_and_owner(fd: &OwnedFd) -> io::Result<(libc::mode_t, libc::uid_t)> {
    // SAFETY: an all-zero stat is a valid value for fstat to fill in.
    let mut meta: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat on a descriptor we own, into a valid out-pointer.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut meta) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((meta.st_mode & 0o7777, meta.st_uid))
}

/// Empty working directories ready for the next probe.
static POOL: Mutex<Vec<Workdir>> = Mutex::new(Vec::new());

/// More than any run needs at once (one per running probe).
const POOL_MAX: usize = 64;

fn pool_take() -> io::Result<Workdir> {
    let pooled = POOL.lock().unwrap_or_else(PoisonError::into_inner).pop();
    match pooled {
        Some(workdir) => Ok(workdir),
        None => {
            static CLEANUP: Once = Once::new();
            CLEANUP.call_once(|| {
                // SAFETY: registers a plain extern "C" function; failure only
                // means pooled directories outlive the process.
                unsafe { libc::atexit(drain_pool) };
            });
            Workdir::new()
        }
    }
}

fn pool_put(workdir: Workdir) {
    let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    if pool.len() < POOL_MAX {
        pool.push(workdir);
    }
}

/// Removes the pooled directories when the process exits. `try_lock`: a
/// thread still spawning at exit keeps its directory rather than deadlock.
extern "C" fn drain_pool() {
    if let Ok(mut pool) = POOL.try_lock() {
        pool.clear();
    }
}

/// `/dev/null`, opened once per process, for the probes' standard input.
fn dev_null() -> io::Result<&'static File> {
    static DEV_NULL: OnceLock<File> = OnceLock::new();
    if let Some(file) = DEV_NULL.get() {
        return Ok(file);
    }
    let file = File::from(above_stdio(File::open("/dev/null")?.into())?);
    Ok(DEV_NULL.get_or_init(|| file))
}

/// A capture file: a close-on-exec memfd.
fn capture(name: &CStr) -> io::Result<File> {
    // SAFETY: `name` is a valid C string; the result is checked.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: memfd_create returned a new descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(File::from(above_stdio(fd)?))
}

/// Moves a descriptor above 2 (close-on-exec), so that the child's `dup2`s
/// onto 0, 1 and 2 never overwrite one another's source. Only needed when
/// the parent runs with 0, 1 or 2 closed.
fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor we own; the result is checked.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fcntl returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

fn read_capture(file: &File) -> io::Result<Vec<u8>> {
    let len = usize::try_from(file.metadata()?.len())
        .map_err(|_| io::Error::other("captured output larger than memory"))?;
    let mut bytes = vec![0; len];
    if len > 0 {
        file.read_exact_at(&mut bytes, 0)?;
    }
    Ok(bytes)
}

/// The path to exec: as given if it has a `/`, else the first executable
/// file of that name in the parent's `PATH` (`ENOENT` if none).
fn resolve(program: &OsStr) -> io::Result<CString> {
    let bytes = program.as_bytes();
    if bytes.is_empty() {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    }
    if bytes.contains(&b'/') {
        return c_string(bytes);
    }
    let path: OsString =
        std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
        .map_or_else(
            || Err(io::Error::from_raw_os_error(libc::ENOENT)),
            |found: PathBuf| c_string(found.as_os_str().as_bytes()),
        )
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn c_string(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "a command-line word contains a NUL byte",
        )
    })
}
