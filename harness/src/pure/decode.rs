//! The pure status decoder: raw values in, a [`StateChange`] out.
//!
//! Nothing here makes a system call or looks at the host's `#[cfg]`: the
//! layout of a wait status is a [`WaitConventions`] value chosen by the
//! profile of the target being checked. Decoding never fails; a value no
//! kernel of that family produces comes back as [`StateChange::Unrecognised`]
//! with the raw value kept, so a report can show it instead of guessing.

use std::fmt;

use serde::Serialize;

use crate::pure::signal::{Signal, SignalTable};

/// A raw status exactly as a reaper received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RawStatus {
    /// The `int` that `waitpid(2)` stores (also `ExitStatusExt::into_raw`).
    WaitStatus {
        /// The status word.
        status: i32,
    },
    /// The `si_code` and `si_status` of the `siginfo_t` that `waitid(2)`
    /// fills in. `si_status` is kept at full width.
    SigInfo {
        /// `CLD_EXITED`, `CLD_KILLED`, ...
        code: i32,
        /// The exit code or the signal number.
        status: i32,
    },
    /// The `DWORD` that Windows' `GetExitCodeProcess` stores: all 32 bits.
    ExitCode {
        /// The exit code, or the NTSTATUS of the exception that ended the
        /// process.
        code: u32,
    },
    /// What a WASI embedding's `_start` call returned: the module's
    /// `proc_exit` code as the embedding gives it (Node.js gives it as a
    /// signed 32-bit number).
    WasiExit {
        /// The code.
        code: i64,
    },
    /// A WebAssembly trap that escaped a WASI embedding's `_start` call.
    Trap {
        /// Which trap.
        trap: Trap,
    },
}

/// A WebAssembly trap, as the core specification names the conditions that
/// make execution trap.
///
/// # References
/// - WebAssembly Core Specification 2.0, 4.4 Instructions (`unreachable`:
///   "Trap"; memory instructions: "If ea + N/8 is larger than the length of
///   mem.data, then: Trap"), 4.5.5 (call stack exhaustion is an
///   implementation limit that traps)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trap {
    /// `unreachable` executed (Rust's and wasi-libc's `abort`).
    Unreachable,
    /// A load or store outside linear memory.
    MemoryOutOfBounds,
    /// The engine's call stack ran out.
    CallStackExhausted,
    /// Integer division or remainder by zero.
    IntegerDivideByZero,
    /// Signed division overflow.
    IntegerOverflow,
    /// A float-to-integer conversion out of range.
    InvalidConversion,
    /// `call_indirect` outside its table.
    TableOutOfBounds,
    /// `call_indirect` to a null entry.
    IndirectCallToNull,
    /// `call_indirect` with the wrong signature.
    BadSignature,
    /// A trap the harness does not name.
    Other,
}

impl Trap {
    /// Every trap, in the order above.
    pub const ALL: [Trap; 10] = [
        Trap::Unreachable,
        Trap::MemoryOutOfBounds,
        Trap::CallStackExhausted,
        Trap::IntegerDivideByZero,
        Trap::IntegerOverflow,
        Trap::InvalidConversion,
        Trap::TableOutOfBounds,
        Trap::IndirectCallToNull,
        Trap::BadSignature,
        Trap::Other,
    ];

    /// The word profiles and the agent's line format use (`unreachable`).
    pub fn name(self) -> &'static str {
        match self {
            Trap::Unreachable => "unreachable",
            Trap::MemoryOutOfBounds => "memory-out-of-bounds",
            Trap::CallStackExhausted => "call-stack-exhausted",
            Trap::IntegerDivideByZero => "integer-divide-by-zero",
            Trap::IntegerOverflow => "integer-overflow",
            Trap::InvalidConversion => "invalid-conversion",
            Trap::TableOutOfBounds => "table-out-of-bounds",
            Trap::IndirectCallToNull => "indirect-call-to-null",
            Trap::BadSignature => "bad-signature",
            Trap::Other => "other",
        }
    }

    /// Parses [`Trap::name`].
    pub fn from_name(name: &str) -> Option<Trap> {
        Trap::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// NTSTATUS values a process can end with, and their names.
///
/// An unhandled exception ends a Windows process with the exception code as
/// its exit code, and exception codes are NTSTATUS values.
///
/// # References
/// - [MS-ERREF] 2.3.1 NTSTATUS Values; `ntstatus.h` in the Windows SDK
/// - Microsoft Learn, GetExitCodeProcess: the exit code is "the exception
///   value for an unhandled exception that caused the process to terminate"
/// - Microsoft Learn, __fastfail: "the process is terminated with exception
///   code STATUS_STACK_BUFFER_OVERRUN (0xC0000409)"
pub const NTSTATUS: [(u32, &str); 26] = [
    (0x8000_0001, "STATUS_GUARD_PAGE_VIOLATION"),
    (0x8000_0002, "STATUS_DATATYPE_MISALIGNMENT"),
    (0x8000_0003, "STATUS_BREAKPOINT"),
    (0x8000_0004, "STATUS_SINGLE_STEP"),
    (0xC000_0005, "STATUS_ACCESS_VIOLATION"),
    (0xC000_0006, "STATUS_IN_PAGE_ERROR"),
    (0xC000_0008, "STATUS_INVALID_HANDLE"),
    (0xC000_0017, "STATUS_NO_MEMORY"),
    (0xC000_001D, "STATUS_ILLEGAL_INSTRUCTION"),
    (0xC000_0025, "STATUS_NONCONTINUABLE_EXCEPTION"),
    (0xC000_0026, "STATUS_INVALID_DISPOSITION"),
    (0xC000_008C, "STATUS_ARRAY_BOUNDS_EXCEEDED"),
    (0xC000_008E, "STATUS_FLOAT_DIVIDE_BY_ZERO"),
    (0xC000_0094, "STATUS_INTEGER_DIVIDE_BY_ZERO"),
    (0xC000_0095, "STATUS_INTEGER_OVERFLOW"),
    (0xC000_0096, "STATUS_PRIVILEGED_INSTRUCTION"),
    (0xC000_00FD, "STATUS_STACK_OVERFLOW"),
    (0xC000_0135, "STATUS_DLL_NOT_FOUND"),
    (0xC000_013A, "STATUS_CONTROL_C_EXIT"),
    (0xC000_0142, "STATUS_DLL_INIT_FAILED"),
    (0xC000_0374, "STATUS_HEAP_CORRUPTION"),
    (0xC000_0409, "STATUS_STACK_BUFFER_OVERRUN"),
    (0xC000_0420, "STATUS_ASSERTION_FAILURE"),
    (0xC000_0602, "STATUS_FAIL_FAST_EXCEPTION"),
    (0xC000_0194, "STATUS_POSSIBLE_DEADLOCK"),
    (0xC000_0144, "STATUS_UNHANDLED_EXCEPTION"),
];

/// `STILL_ACTIVE` (`STATUS_PENDING`), 259: what `GetExitCodeProcess` gives
/// for a process that is still running, and so also for one that exited
/// with 259.
///
/// # References
/// - Microsoft Learn, GetExitCodeProcess: "If a thread returns STILL_ACTIVE
///   (259) as an error code, then applications that test for that value
///   could interpret it to mean that the thread is still running"
pub const STILL_ACTIVE: u32 = 259;

/// The name of NTSTATUS `code`, if it is one of [`NTSTATUS`].
pub fn ntstatus_name(code: u32) -> Option<&'static str> {
    NTSTATUS.iter().find(|(c, _)| *c == code).map(|&(_, n)| n)
}

/// The code of an NTSTATUS name: one of [`NTSTATUS`], or `STILL_ACTIVE` /
/// `STATUS_PENDING` for 259.
pub fn ntstatus_code(name: &str) -> Option<u32> {
    match name {
        "STILL_ACTIVE" | "STATUS_PENDING" => Some(STILL_ACTIVE),
        _ => NTSTATUS.iter().find(|(_, n)| *n == name).map(|&(c, _)| c),
    }
}

impl fmt::Display for RawStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RawStatus::WaitStatus { status } => write!(f, "{:#06x}", status),
            RawStatus::SigInfo { code, status } => {
                let name = match code {
                    CLD_EXITED => "CLD_EXITED",
                    CLD_KILLED => "CLD_KILLED",
                    CLD_DUMPED => "CLD_DUMPED",
                    CLD_TRAPPED => "CLD_TRAPPED",
                    CLD_STOPPED => "CLD_STOPPED",
                    CLD_CONTINUED => "CLD_CONTINUED",
                    _ => return write!(f, "si_code={code} si_status={status}"),
                };
                write!(f, "{name} si_status={status}")
            }
            RawStatus::ExitCode { code } => write!(f, "0x{code:08X}"),
            RawStatus::WasiExit { code } => write!(f, "wasi-exit {code}"),
            RawStatus::Trap { trap } => write!(f, "trap {}", trap.name()),
        }
    }
}

/// How a process ended, stopped or continued, as one report from a reaper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StateChange {
    /// Exited normally with this code (`WIFEXITED`, `CLD_EXITED`). `i64`
    /// so that a full-width `si_status` or a Windows `DWORD` fits unchanged.
    #[doc(alias = "WIFEXITED")]
    #[doc(alias = "WEXITSTATUS")]
    Exited {
        /// The exit code as the reaper saw it.
        code: i64,
    },
    /// Killed by a signal (`WIFSIGNALED`, `CLD_KILLED`, `CLD_DUMPED`).
    #[doc(alias = "WIFSIGNALED")]
    #[doc(alias = "WTERMSIG")]
    Signaled {
        /// The signal, in the target's numbering.
        signal: Signal,
        /// `WCOREDUMP`, or `CLD_DUMPED`.
        core_dumped: bool,
    },
    /// Stopped by a signal (`WIFSTOPPED`, `CLD_STOPPED`, `CLD_TRAPPED`).
    #[doc(alias = "WIFSTOPPED")]
    #[doc(alias = "WSTOPSIG")]
    Stopped {
        /// The stop signal.
        signal: Signal,
    },
    /// Resumed by `SIGCONT` (`WIFCONTINUED`, `CLD_CONTINUED`).
    #[doc(alias = "WIFCONTINUED")]
    Continued,
    /// Ended by a WebAssembly trap (WASI).
    Trapped {
        /// Which trap.
        trap: Trap,
    },
    /// A value no kernel of the target's family produces.
    Unrecognised {
        /// What the reaper received.
        raw: RawStatus,
    },
}

impl StateChange {
    /// Whether this is a final state (the process is gone).
    pub fn is_final(&self) -> bool {
        !matches!(self, StateChange::Stopped { .. } | StateChange::Continued)
    }

    /// Shows the termination with `table`'s signal names, in the same words
    /// that profiles use (`exit 0`, `signal SIGABRT core`).
    pub fn display<'a>(&'a self, table: &'a SignalTable) -> StateChangeDisplay<'a> {
        StateChangeDisplay {
            change: self,
            table,
        }
    }
}

/// See [`StateChange::display`].
#[derive(Debug)]
pub struct StateChangeDisplay<'a> {
    change: &'a StateChange,
    table: &'a SignalTable,
}

impl fmt::Display for StateChangeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.table;
        match *self.change {
            // Only a Windows exit code (a `DWORD`) is above `i32::MAX`:
            // shown as the NTSTATUS it names, or in hex.
            StateChange::Exited { code } if code > i64::from(i32::MAX) => {
                match u32::try_from(code).ok().and_then(ntstatus_name) {
                    Some(name) => write!(f, "ntstatus {name}"),
                    None => write!(f, "exit 0x{code:08X}"),
                }
            }
            StateChange::Exited { code } => write!(f, "exit {code}"),
            StateChange::Trapped { trap } => write!(f, "trap {}", trap.name()),
            StateChange::Signaled {
                signal,
                core_dumped,
            } => {
                write!(f, "signal {}", t.display(signal))?;
                if core_dumped {
                    f.write_str(" core")?;
                }
                Ok(())
            }
            StateChange::Stopped { signal } => write!(f, "stopped {}", t.display(signal)),
            StateChange::Continued => f.write_str("continued"),
            StateChange::Unrecognised { raw } => write!(f, "unrecognised {raw}"),
        }
    }
}

/// `CLD_EXITED`: the same value on Linux, the BSDs and macOS.
pub const CLD_EXITED: i32 = 1;
/// `CLD_KILLED`.
pub const CLD_KILLED: i32 = 2;
/// `CLD_DUMPED`.
pub const CLD_DUMPED: i32 = 3;
/// `CLD_TRAPPED`.
pub const CLD_TRAPPED: i32 = 4;
/// `CLD_STOPPED`.
pub const CLD_STOPPED: i32 = 5;
/// `CLD_CONTINUED`.
pub const CLD_CONTINUED: i32 = 6;

/// The layout of a target's wait status.
///
/// Every Unix in common use keeps the traditional layout: bits 0..=6 the
/// terminating signal, bit 7 the core flag, bits 8..=15 the exit code or stop
/// signal, `0x7f` in the low byte for "stopped". They differ in how they
/// encode "continued", which is therefore the one parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct WaitConventions {
    /// The exact status word that means "continued".
    pub continued: i32,
}

impl WaitConventions {
    /// Linux (glibc and musl): `__W_CONTINUED` is `0xffff`.
    ///
    /// # References
    /// - glibc `bits/waitstatus.h`: `#define __W_CONTINUED 0xffff`
    /// - Linux `kernel/exit.c`, `wait_task_continued`: `0xffff`
    pub const LINUX: WaitConventions = WaitConventions { continued: 0xffff };
    /// FreeBSD: `#define WIFCONTINUED(x) (x == 0x13)`, 0x13 being its SIGCONT.
    ///
    /// # References
    /// - FreeBSD `sys/sys/wait.h`
    pub const FREEBSD: WaitConventions = WaitConventions { continued: 0x13 };
    /// macOS: stopped (`0x7f`) with stop signal 0x13 means continued.
    ///
    /// # References
    /// - macOS `sys/wait.h`: `WIFCONTINUED(x) (_WSTATUS(x) == _WSTOPPED && WSTOPSIG(x) == 0x13)`
    pub const MACOS: WaitConventions = WaitConventions { continued: 0x137f };
    /// A target without wait statuses (Windows, WASI): its agent reports an
    /// exit code or a trap instead, and nothing is decoded with this. The
    /// "continued" word is one no Unix writes (-1).
    pub const NONE: WaitConventions = WaitConventions { continued: -1 };

    /// Looks conventions up by the name a profile gives.
    pub fn by_name(name: &str) -> Option<WaitConventions> {
        match name {
            "linux" => Some(WaitConventions::LINUX),
            "freebsd" => Some(WaitConventions::FREEBSD),
            "macos" => Some(WaitConventions::MACOS),
            "none" => Some(WaitConventions::NONE),
            _ => None,
        }
    }
}

/// Decodes a `waitpid(2)` status word.
///
/// Precedence follows the C macros: the "continued" word first, then stopped
/// (`0x7f` in the low byte), exited (low seven bits zero), signalled. Words a
/// kernel never stores for a parent that does not trace its child are
/// [`StateChange::Unrecognised`]: bits above the low sixteen (Linux puts
/// ptrace event numbers there, for tracers only), the core flag on a normal
/// exit, `0xff` in the low byte, a stop with signal 0, and a signal with a
/// non-zero high byte.
pub fn decode_wait_status(status: i32, conv: &WaitConventions) -> StateChange {
    let unrecognised = StateChange::Unrecognised {
        raw: RawStatus::WaitStatus { status },
    };
    if status == conv.continued {
        return StateChange::Continued;
    }
    if status as u32 > 0xffff {
        return unrecognised;
    }
    let low7 = status & 0x7f;
    let core = status & 0x80 != 0;
    let high = (status >> 8) & 0xff;
    match low7 {
        0x7f if core => unrecognised,
        0x7f if high == 0 => unrecognised,
        0x7f => StateChange::Stopped {
            signal: Signal(high),
        },
        0 if core => unrecognised,
        0 => StateChange::Exited {
            code: i64::from(high),
        },
        // A signalled status has nothing in the high byte.
        _ if high != 0 => unrecognised,
        sig => StateChange::Signaled {
            signal: Signal(sig),
            core_dumped: core,
        },
    }
}

/// Decodes the `si_code` and `si_status` that `waitid(2)` reports.
///
/// `si_status` is used at its full width: on FreeBSD it carries all 32 bits
/// of the `exit()` argument, on Linux the kernel has already cut it to 8.
///
/// # References
/// - POSIX.1-2017 `<signal.h>`, "CLD_EXITED Child has exited" ...
/// - waitid(2): "si_status: either the exit status of the child, as given to
///   _exit(2) (or exit(3)), or the signal that caused the child to
///   terminate, stop, or continue"
pub fn decode_siginfo(code: i32, status: i32) -> StateChange {
    match code {
        CLD_EXITED => StateChange::Exited {
            code: i64::from(status),
        },
        CLD_KILLED | CLD_DUMPED => StateChange::Signaled {
            signal: Signal(status),
            core_dumped: code == CLD_DUMPED,
        },
        CLD_STOPPED | CLD_TRAPPED => StateChange::Stopped {
            signal: Signal(status),
        },
        CLD_CONTINUED => StateChange::Continued,
        _ => StateChange::Unrecognised {
            raw: RawStatus::SigInfo { code, status },
        },
    }
}

/// The fields of the `siginfo_t` that `waitid(2)` fills in for a child,
/// beyond what [`decode_siginfo`] reads: who the state is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfoFields {
    /// `si_code`: `CLD_EXITED`, `CLD_KILLED`, ...
    pub code: i32,
    /// `si_status`: the exit code, or the signal that ended, stopped or
    /// continued the child.
    pub status: i32,
    /// `si_pid`: the child's pid.
    pub pid: i32,
    /// `si_uid`: the child's real user id.
    pub uid: u32,
}

/// Checks what `waitid` said beyond the state itself, for a reap of
/// `child` by a parent whose real user id is `uid` (the probe runs as the
/// harness, with no set-user-ID bit), on a system whose `SIGCONT` is
/// `sigcont`. Returns what is wrong, as a lowercase fragment; `None` if
/// nothing is.
///
/// - `si_pid` is the child's pid and `si_uid` its real user id: waitid(2),
///   "si_pid: The process ID of the child", "si_uid: The real user ID of
///   the child"; POSIX.1-2017 XSH `waitid` fills in "the siginfo_t
///   structure ... with the status of the process".
/// - For `CLD_CONTINUED`, `si_status` is `SIGCONT`: waitid(2) says
///   `si_status` is "the signal that caused the child to terminate, stop,
///   or continue"; Linux `kernel/exit.c`, `wait_task_continued`, sets it to
///   `SIGCONT`, and LTP's waitid tests assert it.
/// - For `CLD_STOPPED` `si_status` is the stop signal. It needs no check
///   here: [`decode_siginfo`] makes it the state's signal
///   (`stopped SIGSTOP`), which the expectation names.
pub fn siginfo_problem(info: &SigInfoFields, child: i32, uid: u32, sigcont: i32) -> Option<String> {
    if info.pid != child {
        return Some(format!(
            "waitid reported si_pid {} for child {child}",
            info.pid
        ));
    }
    if info.uid != uid {
        return Some(format!(
            "waitid reported si_uid {} for a child of real uid {uid}",
            info.uid
        ));
    }
    if info.code == CLD_CONTINUED && info.status != sigcont {
        return Some(format!(
            "waitid reported CLD_CONTINUED with si_status {}, not SIGCONT ({sigcont})",
            info.status
        ));
    }
    None
}

/// Decodes the exit code that Windows' `GetExitCodeProcess` gives.
///
/// Every `DWORD` is a valid exit code, so this is the identity, kept
/// unsigned: 0xC0000409 is `Exited { code: 3221226505 }`, shown as
/// `ntstatus STATUS_STACK_BUFFER_OVERRUN`. Windows itself cannot tell
/// `ExitProcess(0xC0000005)` from an access violation, and neither can a
/// parent; nor `ExitProcess(259)` from a process still running
/// ([`STILL_ACTIVE`]).
///
/// # References
/// - Microsoft Learn, ExitProcess (`UINT uExitCode`), GetExitCodeProcess
pub fn decode_windows_exit_code(code: u32) -> StateChange {
    StateChange::Exited {
        code: i64::from(code),
    }
}

/// Decodes what a WASI embedding reported: the `proc_exit` code it returned,
/// or the trap that escaped.
///
/// # References
/// - WASI preview1 `proc_exit(rval: exitcode)`, `exitcode: u32`
pub fn decode_wasi(raw: RawStatus) -> StateChange {
    match raw {
        RawStatus::WasiExit { code } => StateChange::Exited { code },
        RawStatus::Trap { trap } => StateChange::Trapped { trap },
        other => StateChange::Unrecognised { raw: other },
    }
}
