//! Assertions on how a process ended, for other people's tests.
//!
//! assert_cmd can check an exit code, but not that a process died of a
//! signal or dumped core (`interrupted()` only says "no exit code"). This
//! module fills that hole two ways:
//!
//! - [`ends`]: predicates (built on `predicates-core`) over a
//!   [`Termination`] or a `std::process::ExitStatus`, which explain a failure
//!   with a case tree, the way predicates-rs does;
//! - [`AssertEnd`]: an extension for assert_cmd's `Assert`, so a test reads
//!   `Command::new(x).assert().signaled(Signal::ABRT)`. It uses the
//!   `Output` that assert_cmd already has: no second spawn.
//!
//! ```
//! use assert_cmd::Command;
//! use exitmatrix::assert::AssertEnd;
//! use exitmatrix::pure::signal::Signal;
//!
//! Command::new("sh").args(["-c", "kill -ABRT $$"]).assert().signaled(Signal::ABRT);
//! Command::new("sh").args(["-c", "exit 255"]).assert().exited(255);
//! ```
//!
//! Signal names and numbers are the host's: these assertions run where the
//! test runs.

use std::fmt;
use std::process::ExitStatus;

use predicates_core::reflection::{Case, PredicateReflection, Product};
use predicates_core::Predicate;
use predicates_tree::CaseTreeExt;

use crate::pure::decode::{RawStatus, Termination};
use crate::pure::signal::{Signal, SignalTable, LINUX_GENERIC, LINUX_MIPS};

/// The host's signals, under their short names, for assertions.
///
/// ```
/// use exitmatrix::pure::signal::Signal;
/// assert_eq!(Signal::ABRT.number(), libc::SIGABRT);
/// ```
#[cfg(unix)]
impl Signal {
    /// `SIGHUP` on the host.
    pub const HUP: Signal = Signal(libc::SIGHUP);
    /// `SIGINT` on the host.
    pub const INT: Signal = Signal(libc::SIGINT);
    /// `SIGQUIT` on the host.
    pub const QUIT: Signal = Signal(libc::SIGQUIT);
    /// `SIGILL` on the host.
    pub const ILL: Signal = Signal(libc::SIGILL);
    /// `SIGTRAP` on the host.
    pub const TRAP: Signal = Signal(libc::SIGTRAP);
    /// `SIGABRT` on the host.
    pub const ABRT: Signal = Signal(libc::SIGABRT);
    /// `SIGBUS` on the host.
    pub const BUS: Signal = Signal(libc::SIGBUS);
    /// `SIGFPE` on the host.
    pub const FPE: Signal = Signal(libc::SIGFPE);
    /// `SIGKILL` on the host.
    pub const KILL: Signal = Signal(libc::SIGKILL);
    /// `SIGUSR1` on the host.
    pub const USR1: Signal = Signal(libc::SIGUSR1);
    /// `SIGSEGV` on the host.
    pub const SEGV: Signal = Signal(libc::SIGSEGV);
    /// `SIGUSR2` on the host.
    pub const USR2: Signal = Signal(libc::SIGUSR2);
    /// `SIGPIPE` on the host.
    pub const PIPE: Signal = Signal(libc::SIGPIPE);
    /// `SIGALRM` on the host.
    pub const ALRM: Signal = Signal(libc::SIGALRM);
    /// `SIGTERM` on the host.
    pub const TERM: Signal = Signal(libc::SIGTERM);
    /// `SIGCHLD` on the host.
    pub const CHLD: Signal = Signal(libc::SIGCHLD);
    /// `SIGCONT` on the host.
    pub const CONT: Signal = Signal(libc::SIGCONT);
    /// `SIGSTOP` on the host.
    pub const STOP: Signal = Signal(libc::SIGSTOP);
    /// `SIGTSTP` on the host.
    pub const TSTP: Signal = Signal(libc::SIGTSTP);
    /// `SIGSYS` on the host.
    pub const SYS: Signal = Signal(libc::SIGSYS);
}

/// The host's signal table (for naming signals in messages).
fn host_table() -> &'static SignalTable {
    if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
        &LINUX_MIPS
    } else {
        &LINUX_GENERIC
    }
}

/// What std's `ExitStatus` says, as a [`Termination`] (host conventions).
///
/// ```
/// use std::os::unix::process::ExitStatusExt;
/// use std::process::ExitStatus;
/// use exitmatrix::assert::termination_of;
/// use exitmatrix::pure::decode::Termination;
/// use exitmatrix::pure::signal::Signal;
///
/// let status = ExitStatus::from_raw(0x86); // SIGABRT with a core dump
/// assert_eq!(
///     termination_of(&status),
///     Termination::Signaled { signal: Signal::ABRT, core_dumped: true }
/// );
/// ```
#[cfg(unix)]
pub fn termination_of(status: &ExitStatus) -> Termination {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        Termination::Exited {
            code: i64::from(code),
        }
    } else if let Some(signal) = status.signal() {
        Termination::Signaled {
            signal: Signal(signal),
            core_dumped: status.core_dumped(),
        }
    } else if let Some(signal) = status.stopped_signal() {
        Termination::Stopped {
            signal: Signal(signal),
        }
    } else if status.continued() {
        Termination::Continued
    } else {
        Termination::Unrecognised {
            raw: RawStatus::WaitStatus {
                status: status.into_raw(),
            },
        }
    }
}

/// What std's `ExitStatus` says, as a [`Termination`]: on Windows the full
/// 32-bit exit code (an NTSTATUS when the process crashed).
#[cfg(not(unix))]
pub fn termination_of(status: &ExitStatus) -> Termination {
    match status.code() {
        Some(code) => Termination::Exited {
            code: i64::from(code as u32),
        },
        None => Termination::Unrecognised {
            raw: RawStatus::WaitStatus { status: -1 },
        },
    }
}

/// One expectation about an ending; build it with the functions of [`ends`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndPredicate {
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Exited(i64),
    Signaled(Signal),
    CoreDumped,
    Stopped(Signal),
    NtStatus(u32),
}

/// Predicates over how a process ended.
///
/// ```
/// use exitmatrix::assert::ends;
/// use exitmatrix::pure::decode::Termination;
/// use exitmatrix::pure::signal::Signal;
/// use predicates_core::Predicate;
///
/// let died = Termination::Signaled { signal: Signal::SEGV, core_dumped: false };
/// assert!(ends::signaled(Signal::SEGV).eval(&died));
/// assert!(!ends::core_dumped().eval(&died));
/// assert!(!ends::exited(0).eval(&died));
/// ```
pub mod ends {
    use super::{EndPredicate, Kind};
    use crate::pure::signal::Signal;

    /// Exited normally with `code`.
    ///
    /// ```
    /// use exitmatrix::{assert::ends, decode::Termination};
    /// use predicates_core::Predicate;
    /// assert!(ends::exited(3).eval(&Termination::Exited { code: 3 }));
    /// ```
    pub fn exited(code: i64) -> EndPredicate {
        EndPredicate {
            kind: Kind::Exited(code),
        }
    }

    /// Killed by `signal` (with or without a core dump).
    ///
    /// ```
    /// use exitmatrix::{assert::ends, decode::Termination, signal::Signal};
    /// use predicates_core::Predicate;
    /// let t = Termination::Signaled { signal: Signal::TERM, core_dumped: false };
    /// assert!(ends::signaled(Signal::TERM).eval(&t));
    /// ```
    pub fn signaled(signal: Signal) -> EndPredicate {
        EndPredicate {
            kind: Kind::Signaled(signal),
        }
    }

    /// Killed by a signal and dumped core.
    ///
    /// ```
    /// use exitmatrix::{assert::ends, decode::Termination, signal::Signal};
    /// use predicates_core::Predicate;
    /// let t = Termination::Signaled { signal: Signal::QUIT, core_dumped: true };
    /// assert!(ends::core_dumped().eval(&t));
    /// ```
    pub fn core_dumped() -> EndPredicate {
        EndPredicate {
            kind: Kind::CoreDumped,
        }
    }

    /// Stopped by `signal`.
    ///
    /// ```
    /// use exitmatrix::{assert::ends, decode::Termination, signal::Signal};
    /// use predicates_core::Predicate;
    /// assert!(ends::stopped(Signal::STOP).eval(&Termination::Stopped { signal: Signal::STOP }));
    /// ```
    pub fn stopped(signal: Signal) -> EndPredicate {
        EndPredicate {
            kind: Kind::Stopped(signal),
        }
    }

    /// Exited with the 32-bit Windows code `status`, such as an NTSTATUS
    /// (`0xC0000005`, access violation). A Unix exit code is at most 8 bits,
    /// so this only holds for Windows processes.
    ///
    /// ```
    /// use exitmatrix::{assert::ends, decode::Termination};
    /// use predicates_core::Predicate;
    /// assert!(ends::ntstatus(0xC000_0409).eval(&Termination::Exited { code: 0xC000_0409 }));
    /// ```
    pub fn ntstatus(status: u32) -> EndPredicate {
        EndPredicate {
            kind: Kind::NtStatus(status),
        }
    }
}

impl EndPredicate {
    fn holds(&self, t: &Termination) -> bool {
        match (self.kind, *t) {
            (Kind::Exited(want), Termination::Exited { code }) => code == want,
            (Kind::Signaled(want), Termination::Signaled { signal, .. }) => signal == want,
            (Kind::CoreDumped, Termination::Signaled { core_dumped, .. }) => core_dumped,
            (Kind::Stopped(want), Termination::Stopped { signal }) => signal == want,
            (Kind::NtStatus(want), Termination::Exited { code }) => code == i64::from(want),
            _ => false,
        }
    }
}

impl fmt::Display for EndPredicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = host_table();
        match self.kind {
            Kind::Exited(code) => write!(f, "exited with code {code}"),
            Kind::Signaled(s) => write!(f, "killed by {} ({})", table.display(s), s.0),
            Kind::CoreDumped => f.write_str("killed by a signal with a core dump"),
            Kind::Stopped(s) => write!(f, "stopped by {} ({})", table.display(s), s.0),
            Kind::NtStatus(code) => write!(f, "exited with Windows code {code:#010x}"),
        }
    }
}

impl PredicateReflection for EndPredicate {}

impl Predicate<Termination> for EndPredicate {
    fn eval(&self, t: &Termination) -> bool {
        self.holds(t)
    }

    fn find_case<'a>(&'a self, expected: bool, t: &Termination) -> Option<Case<'a>> {
        let result = self.holds(t);
        (result == expected).then(|| {
            Case::new(Some(self), result).add_product(Product::new(
                "observed",
                t.display(host_table()).to_string(),
            ))
        })
    }
}

impl Predicate<ExitStatus> for EndPredicate {
    fn eval(&self, status: &ExitStatus) -> bool {
        self.holds(&termination_of(status))
    }

    fn find_case<'a>(&'a self, expected: bool, status: &ExitStatus) -> Option<Case<'a>> {
        let t = termination_of(status);
        let result = self.holds(&t);
        (result == expected).then(|| {
            Case::new(Some(self), result)
                .add_product(Product::new(
                    "observed",
                    t.display(host_table()).to_string(),
                ))
                .add_product(Product::new("raw status", format!("{status:?}")))
        })
    }
}

/// Extends assert_cmd's `Assert` with endings it cannot check by itself.
///
/// Each method panics, like `Assert`'s own, with the predicate's case tree
/// followed by assert_cmd's account of the command, status and output.
///
/// ```
/// use assert_cmd::Command;
/// use exitmatrix::assert::AssertEnd;
/// use exitmatrix::pure::signal::Signal;
///
/// Command::new("sh").args(["-c", "kill -TERM $$"]).assert().signaled(Signal::TERM);
/// ```
pub trait AssertEnd: Sized {
    /// Asserts that the process ended as `predicate` says.
    ///
    /// ```
    /// use assert_cmd::Command;
    /// use exitmatrix::assert::{ends, AssertEnd};
    /// Command::new("true").assert().ended(ends::exited(0));
    /// ```
    #[track_caller]
    fn ended(self, predicate: EndPredicate) -> Self;

    /// Asserts an exit code. Unlike `Assert::code`, it names the signal
    /// when the process was killed instead.
    ///
    /// ```
    /// use assert_cmd::Command;
    /// use exitmatrix::assert::AssertEnd;
    /// Command::new("sh").args(["-c", "exit 255"]).assert().exited(255);
    /// ```
    #[track_caller]
    fn exited(self, code: i64) -> Self {
        self.ended(ends::exited(code))
    }

    /// Asserts death by `signal`.
    ///
    /// ```
    /// use assert_cmd::Command;
    /// use exitmatrix::{assert::AssertEnd, signal::Signal};
    /// Command::new("sh").args(["-c", "kill -KILL $$"]).assert().signaled(Signal::KILL);
    /// ```
    #[track_caller]
    fn signaled(self, signal: Signal) -> Self {
        self.ended(ends::signaled(signal))
    }

    /// Asserts death by a signal with a core dump. Whether a core is dumped
    /// depends on `RLIMIT_CORE` and `core_pattern` (core(5)).
    ///
    /// ```no_run
    /// use assert_cmd::Command;
    /// use exitmatrix::assert::AssertEnd;
    /// Command::new("sh").args(["-c", "ulimit -c unlimited; exec kill -QUIT $$"]).assert().core_dumped();
    /// ```
    #[track_caller]
    fn core_dumped(self) -> Self {
        self.ended(ends::core_dumped())
    }
}

impl AssertEnd for assert_cmd::assert::Assert {
    #[track_caller]
    fn ended(self, predicate: EndPredicate) -> Self {
        let status = self.get_output().status;
        if let Some(case) = predicate.find_case(false, &status) {
            panic!("unexpected ending:\n{}\n{}", case.tree(), self);
        }
        self
    }
}
