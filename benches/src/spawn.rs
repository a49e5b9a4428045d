//! Ways to start a child, each as lean as it can be: an empty environment,
//! nothing else set up. They are the reference points the harness's own
//! paths are measured against.

use std::ffi::CString;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;

/// A program and its arguments, as C strings prepared once.
#[derive(Debug)]
pub struct Program {
    path: PathBuf,
    c_path: CString,
    _args: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: [*const libc::c_char; 1],
}

impl Program {
    /// `path` with `args` (`argv[0]` is `path`), run with an empty environment.
    pub fn new(path: &Path, args: &[&str]) -> Program {
        let c = |b: &[u8]| CString::new(b).expect("no NUL in a bench's command line");
        let c_path = c(path.as_os_str().as_bytes());
        let args: Vec<CString> = std::iter::once(c_path.clone())
            .chain(args.iter().map(|a| c(a.as_bytes())))
            .collect();
        let argv = args
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(ptr::null()))
            .collect();
        Program {
            path: path.to_owned(),
            c_path,
            _args: args,
            argv,
            envp: [ptr::null()],
        }
    }

    /// The program's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `execve`, then `_exit(127)` if it failed.
    ///
    /// # Safety
    /// Only in a child between fork/clone and exec: it makes async-signal-
    /// safe calls on `self`, which must stay alive and unchanged.
    unsafe fn exec(&self) -> ! {
        // SAFETY: execve and _exit are async-signal-safe; the pointers are
        // valid NUL-terminated strings and arrays owned by `self`.
        unsafe {
            libc::execve(self.c_path.as_ptr(), self.argv.as_ptr(), self.envp.as_ptr());
            libc::_exit(127)
        }
    }
}

/// `clone(CLONE_VM | CLONE_VFORK | SIGCHLD)` on a stack of its own, then
/// `execve`: what `vfork` does, but sound from Rust (the child runs a
/// function on its own stack instead of returning twice). The floor.
#[derive(Debug)]
pub struct Vfork {
    stack: Vec<u128>,
}

impl Default for Vfork {
    fn default() -> Self {
        Vfork::new()
    }
}

impl Vfork {
    /// With a 64 KiB child stack (the child only calls `execve`).
    pub fn new() -> Vfork {
        Vfork {
            stack: vec![0; 64 * 1024 / 16],
        }
    }

    /// Starts `program`; returns once it has exec'd.
    pub fn spawn(&mut self, program: &Program) -> io::Result<libc::pid_t> {
        self.clone_exec(program, 0, ptr::null_mut())
    }

    /// Starts `program` after setting every signal disposition back to
    /// SIG_DFL in the child (one `rt_sigaction` per signal, as the harness
    /// does): what that guarantee alone costs over [`Vfork::spawn`].
    pub fn spawn_reset_signals(&mut self, program: &Program) -> io::Result<libc::pid_t> {
        let top = self.stack.as_mut_ptr_range().end;
        // SAFETY: as in `clone_exec`; the child also makes rt_sigaction
        // calls (async-signal-safe) on a constant all-zero action.
        let pid = unsafe {
            libc::clone(
                reset_exec_child,
                top.cast(),
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                ptr::from_ref(program).cast_mut().cast(),
            )
        };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(pid)
    }

    /// Starts `program` with `CLONE_PIDFD`; returns its pid and pidfd.
    pub fn spawn_pidfd(&mut self, program: &Program) -> io::Result<(libc::pid_t, OwnedFd)> {
        let mut pidfd: libc::c_int = -1;
        let pid = self.clone_exec(program, libc::CLONE_PIDFD, &mut pidfd)?;
        // SAFETY: with CLONE_PIDFD, a successful clone stored a new pidfd
        // that nothing else owns.
        Ok((pid, unsafe { OwnedFd::from_raw_fd(pidfd) }))
    }

    fn clone_exec(
        &mut self,
        program: &Program,
        extra: libc::c_int,
        pidfd: *mut libc::c_int,
    ) -> io::Result<libc::pid_t> {
        let top = self.stack.as_mut_ptr_range().end;
        // SAFETY: the child runs `exec_child` on `self.stack` (16-byte
        // aligned, unused by anything else until clone returns, which with
        // CLONE_VFORK is after the child exec'd or exited) and only calls
        // execve/_exit on `program`, which outlives it. The benches install
        // no signal handler that could run in the child meanwhile.
        let pid = unsafe {
            libc::clone(
                exec_child,
                top.cast(),
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD | extra,
                ptr::from_ref(program).cast_mut().cast(),
                pidfd,
            )
        };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(pid)
    }
}

extern "C" fn exec_child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `Program` passed to clone, alive while the parent
    // is suspended; this is the child before exec.
    unsafe { (*arg.cast::<Program>()).exec() }
}

extern "C" fn reset_exec_child(arg: *mut libc::c_void) -> libc::c_int {
    /// An all-zero kernel `struct sigaction`: SIG_DFL, no flags, no mask.
    static DEFAULT: [u64; 8] = [0; 8];
    /// The kernel's sigset_t: 64 signals, 128 on MIPS.
    const SIGSET_BYTES: usize = if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
        16
    } else {
        8
    };
    for signal in 1..=(SIGSET_BYTES as libc::c_long * 8) {
        if signal == libc::c_long::from(libc::SIGKILL)
            || signal == libc::c_long::from(libc::SIGSTOP)
        {
            continue;
        }
        // SAFETY: the raw system call with a valid all-zero action larger
        // than the kernel's struct; the old action is not asked for.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                DEFAULT.as_ptr(),
                ptr::null_mut::<u64>(),
                SIGSET_BYTES,
            )
        };
    }
    // SAFETY: as in `exec_child`.
    unsafe { (*arg.cast::<Program>()).exec() }
}

/// `fork` then `execve`: the parent's page tables are copied (and then
/// thrown away), so the cost grows with the parent's memory.
pub fn fork_exec(program: &Program) -> io::Result<libc::pid_t> {
    // SAFETY: fork; the child only calls execve/_exit (async-signal-safe) on
    // `program`, its own copy.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        // SAFETY: the child between fork and exec.
        0 => unsafe { program.exec() },
        pid => Ok(pid),
    }
}

/// glibc's `posix_spawn` with no attributes and no file actions.
pub fn posix_spawn(program: &Program) -> io::Result<libc::pid_t> {
    let mut pid = 0;
    // SAFETY: valid out-pointer, NUL-terminated path, argv and envp arrays;
    // null file actions and attributes are allowed.
    let r = unsafe {
        libc::posix_spawn(
            &mut pid,
            program.c_path.as_ptr(),
            ptr::null(),
            ptr::null(),
            program.argv.as_ptr().cast(),
            program.envp.as_ptr().cast(),
        )
    };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    Ok(pid)
}

/// std's `Command::new(path).env_clear().status()`: a posix_spawn (or
/// fork/exec) and a waitpid, with std's own set-up.
#[expect(
    clippy::disallowed_methods,
    reason = "std's Command is one of the methods measured"
)]
pub fn std_status(path: &Path) -> io::Result<std::process::ExitStatus> {
    std::process::Command::new(path).env_clear().status()
}

/// `pidfd_open(pid, 0)`.
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: a plain system call with no memory arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = libc::c_int::try_from(fd).expect("a descriptor fits in c_int");
    // SAFETY: pidfd_open returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
