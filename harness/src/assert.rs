//! Assertions on how a process ended, for other people's tests.
//!
//! assert_cmd can check an exit code, but not that a process died of a
//! signal or dumped core (`interrupted()` only says "no exit code"). This
//! module fills that hole two ways:
//!
//! - [`ends`]: predicates (built on `predicates-core`) over a
//!   [`StateChange`] or a `std::process::ExitStatus`, which explain a failure
//!   with a case tree, the way predicates-rs does;
//! - [`AssertEnd`]: an extension for assert_cmd's `Assert`, so a test reads
//!   `Command::new(x).assert().signaled(Signal::ABRT)`. It uses the
//!   `Output` that assert_cmd already has: no second spawn.
//!
//! ```
//! use assert_cmd::Command;
//! use exitmatrix::assert::AssertEnd;
//! use exitmatrix::Signal;
//!
//! Command::new("sh").args(["-c", "kill -ABRT $$"]).assert().signaled(Signal::ABRT);
//! Command::new("sh").args(["-c", "exit 255"]).assert().exited(255);
//! ```
//!
//! Signal names and numbers are the host's: these assertions run where the
//! test runs.
//!
//! [`vms`] decodes OpenVMS condition values (severity, facility, message),
//! and [`ends::vms_severity`] checks an exit code read as one.

use std::fmt;
use std::process::ExitStatus;

use predicates_core::reflection::{Case, PredicateReflection, Product};
use predicates_core::Predicate;
use predicates_tree::CaseTreeExt;

use crate::pure::decode::StateChange;
use crate::pure::signal::{Signal, SignalTable};
use crate::systems::vms::{Condition, Severity};

/// The host's signal table (for naming signals in messages).
fn host_table() -> &'static SignalTable {
    crate::os::host_signal_table()
}

/// What std's `ExitStatus` says, as a [`StateChange`] (host conventions).
///
/// ```
/// use std::os::unix::process::ExitStatusExt;
/// use std::process::ExitStatus;
/// use exitmatrix::assert::state_change_of;
/// use exitmatrix::StateChange;
/// use exitmatrix::Signal;
///
/// let status = ExitStatus::from_raw(0x86); // SIGABRT with a core dump
/// assert_eq!(
///     state_change_of(&status),
///     StateChange::Signaled { signal: Signal::ABRT, core_dumped: true }
/// );
/// ```
pub fn state_change_of(status: &ExitStatus) -> StateChange {
    crate::os::state_change_of(status)
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
    VmsSeverity(Severity),
}

/// OpenVMS condition values, decoded as the documentation describes them
/// (`$STSDEF`: severity in bits 0–2, message number, facility, control
/// bits), and the C run-time library's mapping of `exit(status)` in its
/// classic and POSIX modes. There is no OpenVMS on the machines this
/// project runs on: the decoder is written from HP's and VSI's manuals and
/// checked against their examples, not observed.
///
/// ```
/// use exitmatrix::assert::vms::{crtl_exit, Condition, CrtlExit, ExitMode, Severity};
///
/// let abort = Condition(44); // SS$_ABORT
/// assert_eq!(abort.severity(), Severity::Severe);
/// assert!(!abort.is_success()); // even: a failure
/// assert_eq!(
///     abort.to_string(),
///     "%X0000002C (severity F = STS$K_SEVERE, failure, facility 0 SYSTEM, message 5)"
/// );
/// // exit(2) is "an error-level exit status": the manual gives no more.
/// assert_eq!(crtl_exit(2, ExitMode::Classic), CrtlExit::SeverityOnly(Severity::Error));
/// ```
pub mod vms {
    pub use crate::systems::vms::{
        crtl_exit, Condition, CrtlExit, ExitMode, Severity, C_FAC_POSIX, SS_ABORT, SS_NORMAL,
        STS_M_CUST_DEF, STS_M_FAC_SP, STS_M_INHIB_MSG,
    };
}

/// Predicates over how a process ended.
///
/// ```
/// use exitmatrix::assert::ends;
/// use exitmatrix::StateChange;
/// use exitmatrix::Signal;
/// use predicates_core::Predicate;
///
/// let died = StateChange::Signaled { signal: Signal::SEGV, core_dumped: false };
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
    /// use exitmatrix::{assert::ends, StateChange};
    /// use predicates_core::Predicate;
    /// assert!(ends::exited(3).eval(&StateChange::Exited { code: 3 }));
    /// ```
    pub fn exited(code: i64) -> EndPredicate {
        EndPredicate {
            kind: Kind::Exited(code),
        }
    }

    /// Killed by `signal` (with or without a core dump).
    ///
    /// ```
    /// use exitmatrix::{assert::ends, Signal, StateChange};
    /// use predicates_core::Predicate;
    /// let t = StateChange::Signaled { signal: Signal::TERM, core_dumped: false };
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
    /// use exitmatrix::{assert::ends, Signal, StateChange};
    /// use predicates_core::Predicate;
    /// let t = StateChange::Signaled { signal: Signal::QUIT, core_dumped: true };
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
    /// use exitmatrix::{assert::ends, Signal, StateChange};
    /// use predicates_core::Predicate;
    /// assert!(ends::stopped(Signal::STOP).eval(&StateChange::Stopped { signal: Signal::STOP }));
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
    /// use exitmatrix::{assert::ends, StateChange};
    /// use predicates_core::Predicate;
    /// assert!(ends::ntstatus(0xC000_0409).eval(&StateChange::Exited { code: 0xC000_0409 }));
    /// ```
    pub fn ntstatus(status: u32) -> EndPredicate {
        EndPredicate {
            kind: Kind::NtStatus(status),
        }
    }

    /// Exited with a code that, read as an OpenVMS condition value (see
    /// [`super::vms`]), has `severity`: what DCL's `$SEVERITY` would say of
    /// it. A code is read as its 32 bits; one that does not fit 32 bits
    /// never holds. (A Unix parent gets only 8 bits of an exit code, which
    /// still hold the severity.) A failure shows the code decoded.
    ///
    /// ```
    /// use exitmatrix::assert::{ends, vms::Severity};
    /// use exitmatrix::StateChange;
    /// use predicates_core::Predicate;
    /// // 196610 is %CLI-E-NORMAL; 0x1000_0002 is the C headers' EXIT_FAILURE.
    /// assert!(ends::vms_severity(Severity::Error).eval(&StateChange::Exited { code: 196_610 }));
    /// assert!(ends::vms_severity(Severity::Error).eval(&StateChange::Exited { code: 0x1000_0002 }));
    /// assert!(!ends::vms_severity(Severity::Success).eval(&StateChange::Exited { code: 44 }));
    /// ```
    pub fn vms_severity(severity: super::Severity) -> EndPredicate {
        EndPredicate {
            kind: Kind::VmsSeverity(severity),
        }
    }
}

/// An exit code read as an OpenVMS condition value: its 32 bits, if it has
/// no more.
fn condition_of(t: &StateChange) -> Option<Condition> {
    match *t {
        StateChange::Exited { code }
            if (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(&code) =>
        {
            Some(Condition(code as u32))
        }
        _ => None,
    }
}

impl EndPredicate {
    fn holds(&self, t: &StateChange) -> bool {
        match (self.kind, *t) {
            (Kind::Exited(want), StateChange::Exited { code }) => code == want,
            (Kind::Signaled(want), StateChange::Signaled { signal, .. }) => signal == want,
            (Kind::CoreDumped, StateChange::Signaled { core_dumped, .. }) => core_dumped,
            (Kind::Stopped(want), StateChange::Stopped { signal }) => signal == want,
            (Kind::NtStatus(want), StateChange::Exited { code }) => code == i64::from(want),
            (Kind::VmsSeverity(want), _) => condition_of(t).is_some_and(|c| c.severity() == want),
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
            Kind::VmsSeverity(s) => write!(
                f,
                "exited with an OpenVMS condition value of severity {} ({})",
                s.letter(),
                s.stsdef_name()
            ),
        }
    }
}

impl PredicateReflection for EndPredicate {}

impl EndPredicate {
    /// Adds what the predicate read the ending as, where that is more than
    /// the ending itself: an OpenVMS condition value, decoded.
    fn decoded<'a>(&self, case: Case<'a>, t: &StateChange) -> Case<'a> {
        match (self.kind, condition_of(t)) {
            (Kind::VmsSeverity(_), Some(c)) => {
                case.add_product(Product::new("as an OpenVMS condition value", c.to_string()))
            }
            _ => case,
        }
    }
}

impl Predicate<StateChange> for EndPredicate {
    fn eval(&self, t: &StateChange) -> bool {
        self.holds(t)
    }

    fn find_case<'a>(&'a self, expected: bool, t: &StateChange) -> Option<Case<'a>> {
        let result = self.holds(t);
        (result == expected).then(|| {
            self.decoded(
                Case::new(Some(self), result).add_product(Product::new(
                    "observed",
                    t.display(host_table()).to_string(),
                )),
                t,
            )
        })
    }
}

impl Predicate<ExitStatus> for EndPredicate {
    fn eval(&self, status: &ExitStatus) -> bool {
        self.holds(&state_change_of(status))
    }

    fn find_case<'a>(&'a self, expected: bool, status: &ExitStatus) -> Option<Case<'a>> {
        let t = state_change_of(status);
        let result = self.holds(&t);
        (result == expected).then(|| {
            let case = Case::new(Some(self), result)
                .add_product(Product::new(
                    "observed",
                    t.display(host_table()).to_string(),
                ))
                .add_product(Product::new("raw status", format!("{status:?}")));
            self.decoded(case, &t)
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
/// use exitmatrix::Signal;
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
    /// use exitmatrix::{assert::AssertEnd, Signal};
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

    /// Asserts a 32-bit Windows exit code such as an NTSTATUS
    /// (`0xC000_0409`, `STATUS_STACK_BUFFER_OVERRUN`: what Rust's
    /// `std::process::abort` ends with on Windows). The same as
    /// `.exited(0xC000_0409)`, named for what it checks.
    ///
    /// ```no_run
    /// use assert_cmd::Command;
    /// use exitmatrix::assert::AssertEnd;
    /// Command::new("my-program.exe").arg("abort").assert().ntstatus(0xC000_0409);
    /// ```
    #[track_caller]
    fn ntstatus(self, status: u32) -> Self {
        self.ended(ends::ntstatus(status))
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
