//! Signal numbers and names of the *target being checked*.
//!
//! Signal numbering is a property of the target, not of the host: MIPS Linux
//! numbers SIGSTOP 23 where x86_64 Linux numbers it 19 and macOS 17. The
//! harness never uses the host's `libc::SIG*` constants to name what a probe
//! died of; it looks the number up in the table of the profile in force.

use std::fmt;

use serde::Serialize;

/// A signal number as the target numbers it.
///
/// A newtype rather than an enum because we may not know about all of a
/// target's values (real-time signals, a new OS): an unknown number is still a
/// valid `Signal` and is shown by its number.
#[doc(alias = "signo")]
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Signal(pub i32);

impl Signal {
    /// The raw number.
    pub fn number(self) -> i32 {
        self.0
    }
}

/// A target family's signal numbering.
#[derive(Debug, PartialEq, Eq)]
pub struct SignalTable {
    /// The table's name, as profiles refer to it (`linux-generic`).
    pub name: &'static str,
    /// Canonical names first; a later entry with an already-seen number is an
    /// alias (`SIGIOT` for `SIGABRT`), accepted on input, never printed.
    entries: &'static [(&'static str, i32)],
}

impl SignalTable {
    /// Every table the harness knows.
    pub const ALL: [&'static SignalTable; 5] =
        [&LINUX_GENERIC, &LINUX_MIPS, &DARWIN, &WINDOWS_CRT, &NONE];

    /// Looks a table up by the name a profile gives.
    pub fn by_name(name: &str) -> Option<&'static SignalTable> {
        SignalTable::ALL.into_iter().find(|t| t.name == name)
    }

    /// The signal called `name` (`SIGABRT`; aliases such as `SIGIOT` too).
    pub fn number(&self, name: &str) -> Option<Signal> {
        self.entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, v)| Signal(v))
    }

    /// Reads what [`SignalTable::display`] writes: a name of this table, or
    /// a positive number (for signals the table does not name).
    pub fn parse(&self, word: &str) -> Option<Signal> {
        match word.parse::<i32>() {
            Ok(n) if n > 0 => Some(Signal(n)),
            Ok(_) => None,
            Err(_) => self.number(word),
        }
    }

    /// The canonical name of `signal`, if the table has it.
    pub fn name(&self, signal: Signal) -> Option<&'static str> {
        self.entries
            .iter()
            .find(|(_, v)| *v == signal.0)
            .map(|&(n, _)| n)
    }

    /// Canonical names and numbers, without aliases.
    pub fn canonical(&self) -> impl Iterator<Item = (&'static str, Signal)> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(|(i, (_, v))| !self.entries[..*i].iter().any(|(_, w)| w == v))
            .map(|(_, &(n, v))| (n, Signal(v)))
    }

    /// `signal` shown with the table's name for it (`SIGABRT`), or as its
    /// number (`77`) if the table does not name it.
    pub fn display(&self, signal: Signal) -> SignalDisplay<'_> {
        SignalDisplay {
            table: self,
            signal,
        }
    }
}

/// See [`SignalTable::display`].
#[derive(Debug)]
pub struct SignalDisplay<'a> {
    table: &'a SignalTable,
    signal: Signal,
}

impl fmt::Display for SignalDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.table.name(self.signal) {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.signal.0),
        }
    }
}

/// The asm-generic numbering used by x86, x86_64, arm, aarch64, riscv,
/// powerpc and s390x Linux.
///
/// # References
/// - Linux `include/uapi/asm-generic/signal.h` and
///   `arch/x86/include/uapi/asm/signal.h`
/// - signal(7), "Signal numbering for standard signals" (x86/ARM column)
pub static LINUX_GENERIC: SignalTable = SignalTable {
    name: "linux-generic",
    entries: &[
        ("SIGHUP", 1),
        ("SIGINT", 2),
        ("SIGQUIT", 3),
        ("SIGILL", 4),
        ("SIGTRAP", 5),
        ("SIGABRT", 6),
        ("SIGBUS", 7),
        ("SIGFPE", 8),
        ("SIGKILL", 9),
        ("SIGUSR1", 10),
        ("SIGSEGV", 11),
        ("SIGUSR2", 12),
        ("SIGPIPE", 13),
        ("SIGALRM", 14),
        ("SIGTERM", 15),
        ("SIGSTKFLT", 16),
        ("SIGCHLD", 17),
        ("SIGCONT", 18),
        ("SIGSTOP", 19),
        ("SIGTSTP", 20),
        ("SIGTTIN", 21),
        ("SIGTTOU", 22),
        ("SIGURG", 23),
        ("SIGXCPU", 24),
        ("SIGXFSZ", 25),
        ("SIGVTALRM", 26),
        ("SIGPROF", 27),
        ("SIGWINCH", 28),
        ("SIGPOLL", 29),
        ("SIGPWR", 30),
        ("SIGSYS", 31),
        // Aliases.
        ("SIGIOT", 6),
        ("SIGIO", 29),
        ("SIGUNUSED", 31),
    ],
};

/// The MIPS numbering, which follows the older System V layout.
///
/// # References
/// - Linux `arch/mips/include/uapi/asm/signal.h`
/// - signal(7), "Signal numbering for standard signals" (MIPS column)
pub static LINUX_MIPS: SignalTable = SignalTable {
    name: "linux-mips",
    entries: &[
        ("SIGHUP", 1),
        ("SIGINT", 2),
        ("SIGQUIT", 3),
        ("SIGILL", 4),
        ("SIGTRAP", 5),
        ("SIGABRT", 6),
        ("SIGEMT", 7),
        ("SIGFPE", 8),
        ("SIGKILL", 9),
        ("SIGBUS", 10),
        ("SIGSEGV", 11),
        ("SIGSYS", 12),
        ("SIGPIPE", 13),
        ("SIGALRM", 14),
        ("SIGTERM", 15),
        ("SIGUSR1", 16),
        ("SIGUSR2", 17),
        ("SIGCHLD", 18),
        ("SIGPWR", 19),
        ("SIGWINCH", 20),
        ("SIGURG", 21),
        ("SIGPOLL", 22),
        ("SIGSTOP", 23),
        ("SIGTSTP", 24),
        ("SIGCONT", 25),
        ("SIGTTIN", 26),
        ("SIGTTOU", 27),
        ("SIGVTALRM", 28),
        ("SIGPROF", 29),
        ("SIGXCPU", 30),
        ("SIGXFSZ", 31),
        // Aliases.
        ("SIGIOT", 6),
        ("SIGIO", 22),
        ("SIGCLD", 18),
    ],
};

/// The Darwin (macOS, iOS) numbering, the 4.4BSD layout: SIGEMT 7, SIGBUS
/// 10, SIGSYS 12, SIGURG 16, SIGSTOP 17, SIGCHLD 20, SIGINFO 29, SIGUSR1 30.
/// The same on x86_64 and arm64: `<sys/signal.h>` has one list for every
/// architecture.
///
/// Darwin has no SIGPOLL of its own. `<sys/signal.h>` defines
/// `SIGPOLL 7 /* pollable event ([XSR] generated, not supported) */` only
/// for a strict POSIX compilation (`_POSIX_C_SOURCE` without
/// `_DARWIN_C_SOURCE`), where the same 7 is otherwise `SIGEMT`; in the
/// default (Darwin) compilation SIGPOLL is not defined at all, and SIGIO
/// (23) is a separate signal. It is therefore an alias of 7 here, as the C
/// probe (built with `_POSIX_C_SOURCE`) sees it, and a death by 7 is shown
/// as SIGEMT. The kernel never generates it; `raise(SIGPOLL)` is
/// `raise(SIGEMT)`, whose default action is to terminate with a core
/// (`sigprop[SIGEMT] = SA_KILL | SA_CORE`).
///
/// # References
/// - XNU `bsd/sys/signal.h` (apple-oss-distributions/xnu): `SIGHUP 1` ...
///   `SIGUSR2 31`, `__DARWIN_NSIG 32`; `SIGIOT SIGABRT` and `SIGEMT 7` under
///   `!_POSIX_C_SOURCE || _DARWIN_C_SOURCE`, else `SIGPOLL 7`
/// - XNU `bsd/sys/signalvar.h`: `sigprop[NSIG]`, the default actions, in
///   this numbering
pub static DARWIN: SignalTable = SignalTable {
    name: "darwin",
    entries: &[
        ("SIGHUP", 1),
        ("SIGINT", 2),
        ("SIGQUIT", 3),
        ("SIGILL", 4),
        ("SIGTRAP", 5),
        ("SIGABRT", 6),
        ("SIGEMT", 7),
        ("SIGFPE", 8),
        ("SIGKILL", 9),
        ("SIGBUS", 10),
        ("SIGSEGV", 11),
        ("SIGSYS", 12),
        ("SIGPIPE", 13),
        ("SIGALRM", 14),
        ("SIGTERM", 15),
        ("SIGURG", 16),
        ("SIGSTOP", 17),
        ("SIGTSTP", 18),
        ("SIGCONT", 19),
        ("SIGCHLD", 20),
        ("SIGTTIN", 21),
        ("SIGTTOU", 22),
        ("SIGIO", 23),
        ("SIGXCPU", 24),
        ("SIGXFSZ", 25),
        ("SIGVTALRM", 26),
        ("SIGPROF", 27),
        ("SIGWINCH", 28),
        ("SIGINFO", 29),
        ("SIGUSR1", 30),
        ("SIGUSR2", 31),
        // Aliases.
        ("SIGIOT", 6),
        ("SIGPOLL", 7),
    ],
};

/// The C runtime's signals on Windows: the six of C11 and `SIGBREAK`. They
/// exist only inside the C runtime (`raise`, `signal`); the system itself
/// has no signals, and no parent is ever told of one.
///
/// # References
/// - Microsoft Learn, `signal` (C runtime): SIGABRT, SIGFPE, SIGILL, SIGINT,
///   SIGSEGV, SIGTERM; `signal.h` of the UCRT (`SIGABRT` is 22, with
///   `SIGABRT_COMPAT` 6) and of mingw-w64
pub static WINDOWS_CRT: SignalTable = SignalTable {
    name: "windows-crt",
    entries: &[
        ("SIGINT", 2),
        ("SIGILL", 4),
        ("SIGFPE", 8),
        ("SIGSEGV", 11),
        ("SIGTERM", 15),
        ("SIGBREAK", 21),
        ("SIGABRT", 22),
        // Aliases.
        ("SIGABRT_COMPAT", 6),
    ],
};

/// No signals at all (WASI: a module cannot be signalled, and wasi-libc's
/// `raise` is an emulation inside the module).
pub static NONE: SignalTable = SignalTable {
    name: "none",
    entries: &[],
};
