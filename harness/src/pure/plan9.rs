//! Plan 9's wait messages, as the Unix ports of its C library make them.
//!
//! On Plan 9 a process ends with a string, not a number, and the shell, rc,
//! sets `$status` to the wait message of the command it waited for: rc(1),
//! "`$status` gets the process's wait message (see wait(3)); it will be the
//! null string if the command was successful". The Unix ports (plan9port,
//! and 9base, which Debian packages) make that message from a wait status in
//! `_await()` (`lib9/await.c`):
//!
//! - an exit with code N gives `N` in decimal, and `''` (the null string)
//!   for 0;
//! - a death by signal gives `signal: ` and the signal's note from the table
//!   `tab[]` of the same file (looked up by `_p9sigstr`, `sys: signal N` for
//!   a signal the table lacks), followed by ` (core dumped)` when
//!   `WCOREDUMP` is set.
//!
//! The table is written with the C library's names (`SIGTERM`, not 15), so
//! [`NOTES`] keeps those names and a signal number is looked up through the
//! signal table of the profile in force, never the host's constants. A name
//! the signal table lacks is skipped, as the C file's `#ifdef SIGEMT` and
//! `#ifdef SIGINFO` leave those rows out on Linux. Everything here is pure.

use crate::pure::signal::{Signal, SignalTable};

/// `tab[]` of `lib9/await.c`, in its order: a C signal name and its note.
/// `_p9sigstr` returns the first row whose signal matches.
///
/// # References
/// - 9base (Debian package `9base`, 1:6-13), `lib9/await.c`, `tab[]` and
///   `_p9sigstr`; plan9port `src/lib9/await.c` has the same table.
pub const NOTES: [(&str, &str); 30] = [
    ("SIGHUP", "hangup"),
    ("SIGINT", "interrupt"),
    ("SIGQUIT", "quit"),
    ("SIGILL", "sys: illegal instruction"),
    ("SIGTRAP", "sys: breakpoint"),
    ("SIGABRT", "sys: abort"),
    ("SIGEMT", "sys: emulate instruction executed"),
    ("SIGFPE", "sys: fp: trap"),
    ("SIGKILL", "sys: kill"),
    ("SIGBUS", "sys: bus error"),
    ("SIGSEGV", "sys: segmentation violation"),
    ("SIGALRM", "alarm"),
    ("SIGTERM", "kill"),
    ("SIGURG", "sys: urgent condition on socket"),
    ("SIGSTOP", "sys: stop"),
    ("SIGTSTP", "sys: tstp"),
    ("SIGCONT", "sys: cont"),
    ("SIGCHLD", "sys: child"),
    ("SIGTTIN", "sys: ttin"),
    ("SIGTTOU", "sys: ttou"),
    ("SIGIO", "sys: i/o possible on fd"),
    ("SIGXCPU", "sys: cpu time limit exceeded"),
    ("SIGXFSZ", "sys: file size limit exceeded"),
    ("SIGVTALRM", "sys: virtual time alarm"),
    ("SIGPROF", "sys: profiling timer alarm"),
    ("SIGWINCH", "sys: window size change"),
    ("SIGINFO", "sys: status request"),
    ("SIGUSR1", "sys: usr1"),
    ("SIGUSR2", "sys: usr2"),
    ("SIGPIPE", "sys: write on closed pipe"),
];

/// The note `_p9sigstr` gives for `signal`, read through `table`: the first
/// row of [`NOTES`] whose name `table` numbers as `signal`, else
/// `sys: signal N`.
pub fn note(signal: Signal, table: &SignalTable) -> String {
    NOTES
        .iter()
        .find(|(name, _)| table.number(name) == Some(signal))
        .map_or_else(
            || format!("sys: signal {}", signal.0),
            |(_, note)| (*note).to_owned(),
        )
}

/// The wait message of an exit with `code` (8 bits, as `WEXITSTATUS` gives
/// it): the null string for 0, else the code in decimal.
pub fn exit_message(code: i64) -> String {
    if code == 0 {
        String::new()
    } else {
        code.to_string()
    }
}

/// The wait message of a death by `signal`: `signal: <note>`, with
/// ` (core dumped)` when a core was dumped.
pub fn signal_message(signal: Signal, core_dumped: bool, table: &SignalTable) -> String {
    let core = if core_dumped { " (core dumped)" } else { "" };
    format!("signal: {}{core}", note(signal, table))
}
