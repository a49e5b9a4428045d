//! The pure status decoder: raw values in, a [`Termination`] out.
//!
//! Nothing here makes a system call or looks at the host's `#[cfg]`: the
//! layout of a wait status is a [`WaitConventions`] value chosen by the
//! profile of the target being checked. Decoding never fails; a value no
//! kernel of that family produces comes back as [`Termination::Unrecognised`]
//! with the raw value kept, so a report can show it instead of guessing.

use std::fmt;

use serde::Serialize;

use crate::signal::{Signal, SignalTable};

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
        }
    }
}

/// How a process ended, stopped or continued, as one report from a reaper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Termination {
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
    /// A value no kernel of the target's family produces.
    Unrecognised {
        /// What the reaper received.
        raw: RawStatus,
    },
}

impl Termination {
    /// Whether this is a final state (the process is gone).
    pub fn is_final(&self) -> bool {
        !matches!(self, Termination::Stopped { .. } | Termination::Continued)
    }

    /// Shows the termination with `table`'s signal names, in the same words
    /// that profiles use (`exit 0`, `signal SIGABRT core`).
    pub fn display<'a>(&'a self, table: &'a SignalTable) -> TerminationDisplay<'a> {
        TerminationDisplay {
            termination: self,
            table,
        }
    }
}

/// See [`Termination::display`].
#[derive(Debug)]
pub struct TerminationDisplay<'a> {
    termination: &'a Termination,
    table: &'a SignalTable,
}

impl fmt::Display for TerminationDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.table;
        match *self.termination {
            Termination::Exited { code } => write!(f, "exit {code}"),
            Termination::Signaled {
                signal,
                core_dumped,
            } => {
                write!(f, "signal {}", t.display(signal))?;
                if core_dumped {
                    f.write_str(" core")?;
                }
                Ok(())
            }
            Termination::Stopped { signal } => write!(f, "stopped {}", t.display(signal)),
            Termination::Continued => f.write_str("continued"),
            Termination::Unrecognised { raw } => write!(f, "unrecognised {raw}"),
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

    /// Looks conventions up by the name a profile gives.
    pub fn by_name(name: &str) -> Option<WaitConventions> {
        match name {
            "linux" => Some(WaitConventions::LINUX),
            "freebsd" => Some(WaitConventions::FREEBSD),
            "macos" => Some(WaitConventions::MACOS),
            _ => None,
        }
    }
}

/// Decodes a `waitpid(2)` status word.
///
/// Precedence follows the C macros: the "continued" word first, then stopped
/// (`0x7f` in the low byte), exited (low seven bits zero), signalled. Words a
/// kernel never stores for a parent that does not trace its child are
/// [`Termination::Unrecognised`]: bits above the low sixteen (Linux puts
/// ptrace event numbers there, for tracers only), the core flag on a normal
/// exit, `0xff` in the low byte, a stop with signal 0, and a signal with a
/// non-zero high byte.
pub fn decode_wait_status(status: i32, conv: &WaitConventions) -> Termination {
    let unrecognised = Termination::Unrecognised {
        raw: RawStatus::WaitStatus { status },
    };
    if status == conv.continued {
        return Termination::Continued;
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
        0x7f => Termination::Stopped {
            signal: Signal(high),
        },
        0 if core => unrecognised,
        0 => Termination::Exited {
            code: i64::from(high),
        },
        // A signalled status has nothing in the high byte.
        _ if high != 0 => unrecognised,
        sig => Termination::Signaled {
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
pub fn decode_siginfo(code: i32, status: i32) -> Termination {
    match code {
        CLD_EXITED => Termination::Exited {
            code: i64::from(status),
        },
        CLD_KILLED | CLD_DUMPED => Termination::Signaled {
            signal: Signal(status),
            core_dumped: code == CLD_DUMPED,
        },
        CLD_STOPPED | CLD_TRAPPED => Termination::Stopped {
            signal: Signal(status),
        },
        CLD_CONTINUED => Termination::Continued,
        _ => Termination::Unrecognised {
            raw: RawStatus::SigInfo { code, status },
        },
    }
}
