//! Ways to wait for a child, and the shared page through which a child
//! stamps the moment it exits.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};

/// `CLOCK_MONOTONIC` in nanoseconds (the clock `probes/stamp.c` stamps with).
pub fn now_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    let secs = u64::try_from(t.tv_sec).expect("the monotonic clock is positive");
    let nanos = u64::try_from(t.tv_nsec).expect("nanoseconds are positive");
    secs * 1_000_000_000 + nanos
}

/// A page shared with the child: a memfd mapped `MAP_SHARED`, which the
/// child opens as `/proc/<pid>/fd/<fd>`.
#[derive(Debug)]
pub struct StampPage {
    fd: OwnedFd,
    page: *mut AtomicU64,
}

impl StampPage {
    /// A zeroed page.
    pub fn new() -> io::Result<StampPage> {
        // SAFETY: a valid C string; the result is checked.
        let fd = unsafe { libc::memfd_create(c"exitmatrix-stamp".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: memfd_create returned a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: ftruncate on our own memfd.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), 4096) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a shared mapping of one page of our memfd; checked.
        let page = unsafe {
            libc::mmap(
                ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if page == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(StampPage {
            fd,
            page: page.cast(),
        })
    }

    /// The path the child opens.
    pub fn path(&self) -> String {
        format!("/proc/{}/fd/{}", std::process::id(), self.fd.as_raw_fd())
    }

    fn stamp(&self) -> &AtomicU64 {
        // SAFETY: the mapping is page-aligned, one page long and lives as
        // long as `self`; the child writes it as a whole aligned u64.
        unsafe { &*self.page }
    }

    /// Clears the stamp before a spawn.
    pub fn clear(&self) {
        self.stamp().store(0, Ordering::SeqCst);
    }

    /// The child's exit stamp, once reaped (0 if it did not stamp).
    pub fn read(&self) -> u64 {
        self.stamp().load(Ordering::SeqCst)
    }
}

impl Drop for StampPage {
    fn drop(&mut self) {
        // SAFETY: unmaps the page mapped in `new`; no reference outlives self.
        unsafe { libc::munmap(self.page.cast(), 4096) };
    }
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Calls `f` until it does not fail with EINTR.
fn retry(mut f: impl FnMut() -> libc::c_int) -> io::Result<libc::c_int> {
    loop {
        match check(f()) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Blocking `waitpid(pid, &status, 0)`; returns the status.
pub fn waitpid(pid: libc::pid_t) -> io::Result<libc::c_int> {
    let mut status = 0;
    // SAFETY: waitpid on our own child with a valid out-pointer.
    retry(|| unsafe { libc::waitpid(pid, &mut status, 0) })?;
    Ok(status)
}

/// Blocking `waitid(P_PID, pid, &info, WEXITED)`; returns `si_status`.
pub fn waitid(pid: libc::pid_t) -> io::Result<libc::c_int> {
    waitid_by(libc::P_PID, pid_id(pid), libc::WEXITED)
}

/// `waitid(P_PIDFD, pidfd, &info, WEXITED)`; returns `si_status`.
pub fn waitid_pidfd(pidfd: &OwnedFd) -> io::Result<libc::c_int> {
    let id = libc::id_t::try_from(pidfd.as_raw_fd()).expect("a descriptor is positive");
    waitid_by(libc::P_PIDFD, id, libc::WEXITED)
}

fn pid_id(pid: libc::pid_t) -> libc::id_t {
    libc::id_t::try_from(pid).expect("a child's pid is positive")
}

fn waitid_by(
    idtype: libc::idtype_t,
    id: libc::id_t,
    options: libc::c_int,
) -> io::Result<libc::c_int> {
    // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid on our own child with a valid out-pointer.
    retry(|| unsafe { libc::waitid(idtype, id, &mut info, options) })?;
    // SAFETY: waitid succeeded for a child: the SIGCHLD fields are filled.
    Ok(unsafe { info.si_status() })
}

/// `waitpid(pid, &status, WNOHANG)` in a busy loop.
pub fn wnohang_poll(pid: libc::pid_t) -> io::Result<libc::c_int> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own child with a valid out-pointer.
        if retry(|| unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) })? == pid {
            return Ok(status);
        }
    }
}

/// `poll` on the pidfd until it is readable (the child has exited), then
/// `waitid(P_PIDFD)`. Returns the time it woke and `si_status`.
pub fn pidfd_poll(pidfd: &OwnedFd) -> io::Result<(u64, libc::c_int)> {
    let mut fds = [libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: poll on one valid pollfd.
    retry(|| unsafe { libc::poll(fds.as_mut_ptr(), 1, -1) })?;
    let woke = now_ns();
    Ok((woke, waitid_pidfd(pidfd)?))
}

/// An epoll instance, reused across waits.
#[derive(Debug)]
pub struct Epoll(OwnedFd);

impl Epoll {
    /// `epoll_create1(EPOLL_CLOEXEC)`.
    pub fn new() -> io::Result<Epoll> {
        // SAFETY: a plain system call; the result is checked.
        let fd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: a new descriptor that nothing else owns.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Adds the pidfd, waits for it, removes it, then `waitid(P_PIDFD)`.
    /// Returns the time it woke and `si_status`.
    pub fn wait(&self, pidfd: &OwnedFd) -> io::Result<(u64, libc::c_int)> {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: 0,
        };
        let (ep, fd) = (self.0.as_raw_fd(), pidfd.as_raw_fd());
        // SAFETY: epoll_ctl with valid descriptors and event.
        check(unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut event) })?;
        // SAFETY: epoll_wait into one valid event.
        retry(|| unsafe { libc::epoll_wait(ep, &mut event, 1, -1) })?;
        let woke = now_ns();
        // SAFETY: removes what was added above.
        check(unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_DEL, fd, ptr::null_mut()) })?;
        Ok((woke, waitid_pidfd(pidfd)?))
    }
}

/// Blocks SIGCHLD in the calling thread, and so in every thread it starts
/// afterwards. Call first thing in `main`: a signalfd only receives a
/// process-directed signal if no thread of the process would take it, and
/// criterion starts threads of its own.
///
/// With SIGCHLD blocked, each child's exit queues a SIGCHLD instead of the
/// kernel dropping it (its default action is to ignore it). That costs every
/// method alike.
pub fn block_sigchld() -> io::Result<()> {
    let set = sigchld_set();
    // SAFETY: pthread_sigmask with a valid set, on this thread only.
    let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, ptr::null_mut()) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    Ok(())
}

fn sigchld_set() -> libc::sigset_t {
    // SAFETY: an all-zero sigset_t is valid for sigemptyset; sigaddset adds
    // a valid signal.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        set
    }
}

/// SIGCHLD through a signalfd, then `waitpid`. Needs SIGCHLD blocked in
/// every thread ([`block_sigchld`]).
#[derive(Debug)]
pub struct Sigchld {
    fd: OwnedFd,
    set: libc::sigset_t,
}

impl Sigchld {
    /// A signalfd for SIGCHLD.
    pub fn new() -> io::Result<Sigchld> {
        let set = sigchld_set();
        // SAFETY: signalfd with a valid set; the result is checked.
        let fd = check(unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC) })?;
        // SAFETY: a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Sigchld { fd, set })
    }

    /// Discards a SIGCHLD left pending by earlier children; call before
    /// spawning.
    pub fn drain(&self) {
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: sigtimedwait with a valid set and a zero timeout only
        // consumes a pending SIGCHLD, if any.
        while unsafe { libc::sigtimedwait(&self.set, ptr::null_mut(), &zero) } > 0 {}
    }

    /// Reads a SIGCHLD from the signalfd, then reaps `pid`. Returns the
    /// time it woke and the status.
    pub fn wait(&self, pid: libc::pid_t) -> io::Result<(u64, libc::c_int)> {
        // SAFETY: an all-zero signalfd_siginfo is a valid buffer.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = size_of::<libc::signalfd_siginfo>();
        // SAFETY: reads at most `size` bytes into `info`.
        let n = retry(|| unsafe {
            libc::read(self.fd.as_raw_fd(), ptr::from_mut(&mut info).cast(), size) as libc::c_int
        })?;
        assert_eq!(usize::try_from(n).ok(), Some(size));
        let woke = now_ns();
        Ok((woke, waitpid(pid)?))
    }
}
