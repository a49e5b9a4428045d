//! `exitmatrix::pure::decode` and `exitmatrix::pure::signal` checked against the C
//! library: the real `<sys/wait.h>` macros and `<signal.h>` constants through
//! `csrc/waitshim.c`, and std's `ExitStatusExt`, which uses the `libc` crate's
//! copies of the same macros.
//!
//! The decoder is pure and parameterised by [`WaitConventions`]; the host's C
//! library can only vouch for the host's conventions, so the differential
//! tests run on Linux and the other conventions are checked against the
//! header definitions quoted in comments.

use std::collections::HashSet;
use std::sync::LazyLock;

use exitmatrix::pure::catalogue::POSIX_SIGNALS;
use exitmatrix::pure::decode::{
    decode_siginfo, decode_wait_status, RawStatus, StateChange, WaitConventions, CLD_CONTINUED,
    CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, CLD_TRAPPED,
};
use exitmatrix::pure::signal::{Signal, SignalTable, DARWIN, LINUX_GENERIC, LINUX_MIPS};
use proptest::prelude::*;
use rstest::rstest;

/// Safe wrappers around `csrc/waitshim.c`.
#[cfg(unix)]
mod c {
    use std::ffi::{c_char, c_int, CString};

    // The wait-status macros are compared with the decoder on Linux only
    // (`Macros`).
    #[cfg(target_os = "linux")]
    extern "C" {
        fn em_wifexited(status: c_int) -> c_int;
        fn em_wexitstatus(status: c_int) -> c_int;
        fn em_wifsignaled(status: c_int) -> c_int;
        fn em_wtermsig(status: c_int) -> c_int;
        fn em_wcoredump(status: c_int) -> c_int;
        fn em_wifstopped(status: c_int) -> c_int;
        fn em_wstopsig(status: c_int) -> c_int;
        fn em_wifcontinued(status: c_int) -> c_int;
    }

    extern "C" {
        fn em_signum(name: *const c_char) -> c_int;
        fn em_cld_exited() -> c_int;
        fn em_cld_killed() -> c_int;
        fn em_cld_dumped() -> c_int;
        fn em_cld_trapped() -> c_int;
        fn em_cld_stopped() -> c_int;
        fn em_cld_continued() -> c_int;
    }

    /// What the C library's `<sys/wait.h>` macros say about one status word.
    #[cfg(target_os = "linux")]
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Macros {
        pub wifexited: bool,
        pub wexitstatus: i32,
        pub wifsignaled: bool,
        pub wtermsig: i32,
        pub wcoredump: bool,
        pub wifstopped: bool,
        pub wstopsig: i32,
        pub wifcontinued: bool,
    }

    #[cfg(target_os = "linux")]
    impl Macros {
        pub fn of(status: i32) -> Macros {
            // SAFETY: each shim function applies one `<sys/wait.h>` macro to
            // an `int` passed by value; none touches memory or global state,
            // and every macro is defined for every `int`.
            unsafe {
                Macros {
                    wifexited: em_wifexited(status) != 0,
                    wexitstatus: em_wexitstatus(status),
                    wifsignaled: em_wifsignaled(status) != 0,
                    wtermsig: em_wtermsig(status),
                    wcoredump: em_wcoredump(status) != 0,
                    wifstopped: em_wifstopped(status) != 0,
                    wstopsig: em_wstopsig(status),
                    wifcontinued: em_wifcontinued(status) != 0,
                }
            }
        }
    }

    /// The `<signal.h>` number of `name`, if this C library defines it.
    pub fn signum(name: &str) -> Option<i32> {
        let name = CString::new(name).expect("signal names have no NUL");
        // SAFETY: `name` is a valid NUL-terminated string that outlives the
        // call; `em_signum` only reads it with `strcmp`.
        let n = unsafe { em_signum(name.as_ptr()) };
        (n != -1).then_some(n)
    }

    /// `<signal.h>`'s `CLD_*` codes, in `CLD_EXITED`..`CLD_CONTINUED` order.
    pub fn cld_codes() -> [(&'static str, i32); 6] {
        // SAFETY: the shim functions take nothing and return a constant.
        unsafe {
            [
                ("CLD_EXITED", em_cld_exited()),
                ("CLD_KILLED", em_cld_killed()),
                ("CLD_DUMPED", em_cld_dumped()),
                ("CLD_TRAPPED", em_cld_trapped()),
                ("CLD_STOPPED", em_cld_stopped()),
                ("CLD_CONTINUED", em_cld_continued()),
            ]
        }
    }

    /// One `CLD_*` code by name.
    pub fn cld(name: &str) -> i32 {
        cld_codes()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("{name} is not a CLD_* code the shim exports"))
    }
}

// ---------------------------------------------------------------------------
// Wait status: the differential test against the C macros and std.
// ---------------------------------------------------------------------------

/// Every status word a Linux kernel writes, ptrace event stops aside (see
/// [`why_unrecognised`]), with what it means. Built from the kernel's
/// encoders, not the decoder's:
///
/// - `kernel/exit.c`, `do_exit` via `exit_group(2)`: `(code & 0xff) << 8`;
/// - a fatal signal: `sig`, `| 0x80` when a core was dumped (the kernel's
///   `_NSIG` is 64, so 1..=0x7e is a generous superset);
/// - `wait_task_stopped`: `(sig << 8) | 0x7f`, with the stop signal as wide as
///   a byte (ptrace's `PTRACE_O_TRACESYSGOOD` reports `SIGTRAP | 0x80`);
/// - `wait_task_continued`: `0xffff`.
fn kernel_words() -> Vec<(i32, StateChange)> {
    let mut words = Vec::new();
    for code in 0..=0xff {
        words.push((
            code << 8,
            StateChange::Exited {
                code: i64::from(code),
            },
        ));
    }
    for sig in 1..=0x7e {
        for (core_flag, core_dumped) in [(0, false), (0x80, true)] {
            let signal = Signal(sig);
            words.push((
                sig | core_flag,
                StateChange::Signaled {
                    signal,
                    core_dumped,
                },
            ));
        }
    }
    for sig in 1..=0xff {
        words.push((
            (sig << 8) | 0x7f,
            StateChange::Stopped {
                signal: Signal(sig),
            },
        ));
    }
    words.push((0xffff, StateChange::Continued));
    words
}

static KERNEL_WORDS: LazyLock<HashSet<i32>> =
    LazyLock::new(|| kernel_words().into_iter().map(|(w, _)| w).collect());

/// Why the decoder calls `raw` unrecognised where the C macros still answer:
/// the deliberate differences from `<sys/wait.h>`. `None` if `raw` is in none
/// of the documented classes.
///
/// The macros are total functions of the low 16 bits and will name an exit
/// code or a signal for any `int`; the decoder refuses the words no Linux
/// kernel writes for an untraced child, so a corrupted or misrouted status
/// shows up in a report instead of reading as, say, `exit 0`.
fn why_unrecognised(raw: i32) -> Option<&'static str> {
    let low7 = raw & 0x7f;
    let core = raw & 0x80 != 0;
    let high = (raw >> 8) & 0xff;
    if raw as u32 > 0xffff {
        // The macros ignore bits 16..=31 (WIFEXITED(0x10000) holds with
        // WEXITSTATUS 0). Linux stores only a 16-bit word for an untraced
        // child; ptrace event stops (`status >> 16 == PTRACE_EVENT_*`) reach
        // a tracer only, and the harness never traces.
        Some("bits above the low sixteen")
    } else if low7 == 0 && core {
        // WIFEXITED holds, but the kernel sets 0x80 only beside a signal.
        Some("the core flag on a normal exit")
    } else if raw & 0xff == 0xff && raw != 0xffff {
        // Neither WIFSTOPPED nor WIFSIGNALED holds (glibc's WIFSIGNALED
        // excludes 0x7f); only 0xffff means anything, and it is "continued".
        Some("0xff in the low byte other than the continued word")
    } else if low7 == 0x7f && high == 0 {
        // WIFSTOPPED holds with WSTOPSIG 0, but there is no signal 0 to stop
        // with.
        Some("a stop with signal 0")
    } else if low7 != 0 && low7 != 0x7f && high != 0 {
        // WIFSIGNALED holds, but a signal death is written as `sig | 0x80`
        // with the high byte clear.
        Some("a signal with a non-zero high byte")
    } else {
        None
    }
}

/// What std's `ExitStatusExt::from_raw(raw)` says about one status word.
#[cfg(target_os = "linux")]
#[derive(Debug)]
struct StdView {
    code: Option<i32>,
    signal: Option<i32>,
    core_dumped: bool,
    stopped_signal: Option<i32>,
    continued: bool,
}

#[cfg(target_os = "linux")]
impl StdView {
    fn of(raw: i32) -> StdView {
        use std::os::unix::process::ExitStatusExt;
        let s = std::process::ExitStatus::from_raw(raw);
        StdView {
            code: s.code(),
            signal: s.signal(),
            core_dumped: s.core_dumped(),
            stopped_signal: s.stopped_signal(),
            continued: s.continued(),
        }
    }
}

/// The differential property: whatever the decoder recognises, the C macros
/// and std agree with, each exclusively; whatever it does not, is no word a
/// Linux kernel writes and is one of the documented differences.
///
/// The property holds with glibc's and musl's macros alike: they differ only
/// on words the decoder calls unrecognised (musl's WIFSIGNALED holds for
/// 0x7f and 0x80, glibc's does not).
#[cfg(target_os = "linux")]
fn check_against_c_and_std(raw: i32) -> Result<(), String> {
    let decoded = decode_wait_status(raw, &WaitConventions::LINUX);
    let m = c::Macros::of(raw);
    let s = StdView::of(raw);
    let mut failed: Vec<&str> = Vec::new();
    let mut check = |what, ok: bool| {
        if !ok {
            failed.push(what);
        }
    };
    match decoded {
        StateChange::Exited { code } => {
            check("WIFEXITED", m.wifexited);
            check("WEXITSTATUS == code", i64::from(m.wexitstatus) == code);
            check("!WIFSIGNALED", !m.wifsignaled);
            check("!WIFSTOPPED", !m.wifstopped);
            check("!WIFCONTINUED", !m.wifcontinued);
            check(
                "std code() == Some(code)",
                s.code.map(i64::from) == Some(code),
            );
            check("std signal() == None", s.signal.is_none());
            check("std stopped_signal() == None", s.stopped_signal.is_none());
            check("!std continued()", !s.continued);
        }
        StateChange::Signaled {
            signal,
            core_dumped,
        } => {
            check("WIFSIGNALED", m.wifsignaled);
            check("WTERMSIG == signal", m.wtermsig == signal.number());
            check(
                "(WCOREDUMP != 0) == core_dumped",
                m.wcoredump == core_dumped,
            );
            check("!WIFEXITED", !m.wifexited);
            check("!WIFSTOPPED", !m.wifstopped);
            check("!WIFCONTINUED", !m.wifcontinued);
            check(
                "std signal() == Some(signal)",
                s.signal == Some(signal.number()),
            );
            check(
                "std core_dumped() == core_dumped",
                s.core_dumped == core_dumped,
            );
            check("std code() == None", s.code.is_none());
            check("std stopped_signal() == None", s.stopped_signal.is_none());
            check("!std continued()", !s.continued);
        }
        StateChange::Stopped { signal } => {
            check("WIFSTOPPED", m.wifstopped);
            check("WSTOPSIG == signal", m.wstopsig == signal.number());
            check("!WIFEXITED", !m.wifexited);
            check("!WIFSIGNALED", !m.wifsignaled);
            check("!WIFCONTINUED", !m.wifcontinued);
            check(
                "std stopped_signal() == Some(signal)",
                s.stopped_signal == Some(signal.number()),
            );
            check("std code() == None", s.code.is_none());
            check("std signal() == None", s.signal.is_none());
            check("!std continued()", !s.continued);
        }
        StateChange::Continued => {
            check("WIFCONTINUED", m.wifcontinued);
            check("!WIFEXITED", !m.wifexited);
            check("!WIFSIGNALED", !m.wifsignaled);
            check("!WIFSTOPPED", !m.wifstopped);
            check("std continued()", s.continued);
            check("std code() == None", s.code.is_none());
            check("std signal() == None", s.signal.is_none());
            check("std stopped_signal() == None", s.stopped_signal.is_none());
        }
        StateChange::Unrecognised { raw: kept } => {
            check(
                "the raw word is kept",
                kept == RawStatus::WaitStatus { status: raw },
            );
            check(
                "not a word a Linux kernel writes",
                !KERNEL_WORDS.contains(&raw),
            );
            check(
                "one of the documented differences",
                why_unrecognised(raw).is_some(),
            );
        }
        StateChange::Trapped { .. } => check("a wait status never decodes to a trap", false),
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "raw {raw:#x} ({raw}) decodes to {decoded:?}, but not: {}\n  C macros: {m:?}\n  std:      {s:?}\n  \
             difference class: {:?}",
            failed.join(", "),
            why_unrecognised(raw),
        ))
    }
}

/// The words the exhaustive test covers beyond its dense range: each kernel
/// word with one stray bit above the low sixteen, ptrace event stops, and the
/// extremes of `i32`.
fn sparse_words() -> Vec<i32> {
    let mut words: Vec<i32> = kernel_words()
        .into_iter()
        .flat_map(|(w, _)| (16..32).map(move |bit| w | (1i32 << bit)))
        .collect();
    words.extend([
        // PTRACE_EVENT_EXEC (4) and PTRACE_EVENT_STOP (0x80) stops.
        (4 << 16) | (5 << 8) | 0x7f,
        (0x80 << 16) | (19 << 8) | 0x7f,
        i32::MIN,
        i32::MIN + 1,
        i32::MIN | 0xffff,
        i32::MAX,
        i32::MAX - 0xffff,
        -1,
        -0x100,
        -0x10000,
        0x1_ffff,
    ]);
    words
}

#[cfg(target_os = "linux")]
#[test]
fn wait_status_agrees_with_glibc_macros_and_std_exhaustively() {
    let dense = -70_000..=200_000;
    assert!(
        dense.contains(&0) && dense.contains(&0xffff),
        "the dense range covers every 16-bit word"
    );
    let mut checked = 0usize;
    let mut failures = Vec::new();
    for raw in dense.chain(sparse_words()) {
        checked += 1;
        if let Err(e) = check_against_c_and_std(raw) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} status words disagree; the first {}:\n{}",
        failures.len(),
        failures.len().min(20),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

#[cfg(target_os = "linux")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// The same property over the whole of `i32`.
    #[test]
    fn wait_status_agrees_with_glibc_macros_and_std_for_any_i32(raw in any::<i32>()) {
        check_against_c_and_std(raw).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn every_kernel_word_decodes_to_its_meaning() {
    let words = kernel_words();
    assert_eq!(KERNEL_WORDS.len(), words.len(), "kernel words are distinct");
    for (raw, expected) in words {
        let decoded = decode_wait_status(raw, &WaitConventions::LINUX);
        assert_eq!(decoded, expected, "raw {raw:#06x}");
        assert_eq!(
            why_unrecognised(raw),
            None,
            "raw {raw:#06x} is in no unrecognised class"
        );
    }
}

#[rstest]
#[case::exit_0(0x0000, StateChange::Exited { code: 0 })]
#[case::exit_1(0x0100, StateChange::Exited { code: 1 })]
#[case::exit_255(0xff00, StateChange::Exited { code: 255 })]
#[case::sighup(0x0001, signaled(1, false))]
#[case::sigabrt_core(0x0086, signaled(6, true))]
#[case::sigkill(0x0009, signaled(9, false))]
#[case::sigsegv_core(0x008b, signaled(11, true))]
#[case::signal_0x7e_core(0x00fe, signaled(0x7e, true))]
#[case::stopped_sigstop(0x137f, StateChange::Stopped { signal: Signal(19) })]
#[case::stopped_sigtrap_sysgood(0x857f, StateChange::Stopped { signal: Signal(0x85) })]
#[case::continued(0xffff, StateChange::Continued)]
#[case::unrecognised_core_on_exit_0(0x0080, unrecognised(0x0080))]
#[case::unrecognised_core_on_exit_1(0x0180, unrecognised(0x0180))]
#[case::unrecognised_stop_with_signal_0(0x007f, unrecognised(0x007f))]
#[case::unrecognised_low_byte_ff(0x01ff, unrecognised(0x01ff))]
#[case::unrecognised_signal_with_high_byte(0x0109, unrecognised(0x0109))]
#[case::unrecognised_bit_16(0x1_0000, unrecognised(0x1_0000))]
#[case::unrecognised_minus_1(-1, unrecognised(-1))]
#[case::unrecognised_i32_min(i32::MIN, unrecognised(i32::MIN))]
// A ptrace PTRACE_EVENT_EXEC stop: a word Linux does write, but only to a
// tracer. The decoder's doc says "bits above the low sixteen" are never
// stored, which holds for the untraced children the harness reaps.
#[case::unrecognised_ptrace_event_exec(0x4_057f, unrecognised(0x4_057f))]
fn wait_status_decodes(#[case] raw: i32, #[case] expected: StateChange) {
    assert_eq!(
        decode_wait_status(raw, &WaitConventions::LINUX),
        expected,
        "raw {raw:#x}"
    );
}

fn signaled(sig: i32, core_dumped: bool) -> StateChange {
    StateChange::Signaled {
        signal: Signal(sig),
        core_dumped,
    }
}

fn unrecognised(status: i32) -> StateChange {
    StateChange::Unrecognised {
        raw: RawStatus::WaitStatus { status },
    }
}

// ---------------------------------------------------------------------------
// Other conventions: FreeBSD and macOS.
// ---------------------------------------------------------------------------

/// Each convention's continued word, and only it, decodes to `Continued`;
/// every other 16-bit word decodes as it does on Linux, except Linux's own
/// continued word `0xffff`, which no other kernel writes.
#[rstest]
#[case::linux(WaitConventions::LINUX, 0xffff)]
#[case::freebsd(WaitConventions::FREEBSD, 0x13)]
#[case::macos(WaitConventions::MACOS, 0x137f)]
fn only_the_continued_word_is_continued(#[case] conv: WaitConventions, #[case] word: i32) {
    assert_eq!(conv.continued, word);
    for raw in (0..=0xffff).chain(sparse_words()) {
        let decoded = decode_wait_status(raw, &conv);
        let expected = if raw == word {
            StateChange::Continued
        } else if raw == 0xffff {
            unrecognised(0xffff)
        } else {
            decode_wait_status(raw, &WaitConventions::LINUX)
        };
        assert_eq!(decoded, expected, "raw {raw:#06x} under {conv:?}");
    }
}

/// FreeBSD `sys/sys/wait.h`:
///
/// ```c
/// #define WIFSIGNALED(x)  (_WSTATUS(x) != _WSTOPPED && _WSTATUS(x) != 0 && (x) != 0x13)
/// #define WIFCONTINUED(x) (x == 0x13)     /* 0x13 == SIGCONT */
/// ```
///
/// so 0x13 is "continued", never "killed by signal 19"; SIGCONT (19 there)
/// cannot kill, so no real signal death is lost. macOS `sys/wait.h`:
///
/// ```c
/// #define WIFCONTINUED(x) (_WSTATUS(x) == _WSTOPPED && WSTOPSIG(x) == 0x13)
/// #define WIFSTOPPED(x)   (_WSTATUS(x) == _WSTOPPED && WSTOPSIG(x) != 0x13)
/// ```
///
/// so 0x137f is "continued", never "stopped by signal 19".
#[rstest]
#[case::freebsd_0x13_is_continued(WaitConventions::FREEBSD, 0x13, StateChange::Continued)]
#[case::freebsd_0x137f_is_stopped(WaitConventions::FREEBSD, 0x137f, StateChange::Stopped { signal: Signal(0x13) })]
#[case::freebsd_0xffff_is_unrecognised(WaitConventions::FREEBSD, 0xffff, unrecognised(0xffff))]
#[case::freebsd_sigkill(WaitConventions::FREEBSD, 0x09, signaled(9, false))]
#[case::macos_0x137f_is_continued(WaitConventions::MACOS, 0x137f, StateChange::Continued)]
#[case::macos_0x13_is_signal_19(WaitConventions::MACOS, 0x13, signaled(0x13, false))]
#[case::macos_0xffff_is_unrecognised(WaitConventions::MACOS, 0xffff, unrecognised(0xffff))]
#[case::macos_stopped_sigstop(WaitConventions::MACOS, 0x117f, StateChange::Stopped { signal: Signal(0x11) })]
#[case::linux_0x13_is_signal_19(WaitConventions::LINUX, 0x13, signaled(0x13, false))]
#[case::linux_0x137f_is_stopped(WaitConventions::LINUX, 0x137f, StateChange::Stopped { signal: Signal(0x13) })]
fn continued_word_does_not_collide(
    #[case] conv: WaitConventions,
    #[case] raw: i32,
    #[case] expected: StateChange,
) {
    assert_eq!(
        decode_wait_status(raw, &conv),
        expected,
        "raw {raw:#06x} under {conv:?}"
    );
}

#[rstest]
#[case::linux("linux", Some(WaitConventions::LINUX))]
#[case::freebsd("freebsd", Some(WaitConventions::FREEBSD))]
#[case::macos("macos", Some(WaitConventions::MACOS))]
#[case::unknown("netbsd", None)]
#[case::case_sensitive("Linux", None)]
fn wait_conventions_by_name(#[case] name: &str, #[case] expected: Option<WaitConventions>) {
    assert_eq!(WaitConventions::by_name(name), expected);
}

// ---------------------------------------------------------------------------
// waitid(2): si_code and si_status.
// ---------------------------------------------------------------------------

/// The Rust `CLD_*` constants are `<signal.h>`'s.
#[cfg(unix)]
#[test]
fn cld_constants_match_signal_h() {
    let rust = [
        ("CLD_EXITED", CLD_EXITED),
        ("CLD_KILLED", CLD_KILLED),
        ("CLD_DUMPED", CLD_DUMPED),
        ("CLD_TRAPPED", CLD_TRAPPED),
        ("CLD_STOPPED", CLD_STOPPED),
        ("CLD_CONTINUED", CLD_CONTINUED),
    ];
    assert_eq!(rust, c::cld_codes());
}

/// Each `CLD_*` code, taken from the C library rather than the harness,
/// decodes with `si_status` kept at full width.
#[cfg(unix)]
#[rstest]
#[case::cld_exited("CLD_EXITED", |s: i32| StateChange::Exited { code: i64::from(s) })]
#[case::cld_killed("CLD_KILLED", |s: i32| signaled(s, false))]
#[case::cld_dumped("CLD_DUMPED", |s: i32| signaled(s, true))]
#[case::cld_trapped("CLD_TRAPPED", |s: i32| StateChange::Stopped { signal: Signal(s) })]
#[case::cld_stopped("CLD_STOPPED", |s: i32| StateChange::Stopped { signal: Signal(s) })]
#[case::cld_continued("CLD_CONTINUED", |_: i32| StateChange::Continued)]
fn siginfo_decodes_each_cld_code(
    #[case] name: &str,
    #[case] expected: fn(i32) -> StateChange,
    #[values(0, 1, 6, 19, 255, 256, 0x1_0000, i32::MAX, -1, i32::MIN)] status: i32,
) {
    let code = c::cld(name);
    assert_eq!(
        decode_siginfo(code, status),
        expected(status),
        "{name} ({code}), si_status {status}"
    );
}

#[cfg(unix)]
#[test]
fn siginfo_with_an_unknown_code_is_unrecognised() {
    let known: Vec<i32> = c::cld_codes().iter().map(|&(_, v)| v).collect();
    let codes = (-1000..=1000)
        .chain([i32::MIN, i32::MAX])
        .filter(|c| !known.contains(c));
    for code in codes {
        for status in [0, 1, -1, 256, i32::MAX, i32::MIN] {
            let expected = StateChange::Unrecognised {
                raw: RawStatus::SigInfo { code, status },
            };
            assert_eq!(
                decode_siginfo(code, status),
                expected,
                "si_code {code}, si_status {status}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    /// Whatever the code, `si_status` comes back unchanged.
    #[test]
    fn siginfo_keeps_si_status(code in prop_oneof![1..=6, any::<i32>()], status in any::<i32>()) {
        let kept = match decode_siginfo(code, status) {
            StateChange::Exited { code: c } => c == i64::from(status),
            StateChange::Signaled { signal, .. } | StateChange::Stopped { signal } => signal == Signal(status),
            StateChange::Continued => code == CLD_CONTINUED,
            StateChange::Trapped { .. } => false,
            StateChange::Unrecognised { raw } => {
                !(CLD_EXITED..=CLD_CONTINUED).contains(&code) && raw == RawStatus::SigInfo { code, status }
            }
        };
        prop_assert!(kept, "si_code {}, si_status {}: {:?}", code, status, decode_siginfo(code, status));
    }
}

// ---------------------------------------------------------------------------
// Signal tables.
// ---------------------------------------------------------------------------

/// The names the shim must know: POSIX's 28 and the Linux extras the tables
/// use. `SIGUNUSED` is left out: glibc 2.26 dropped it from its headers.
#[cfg(unix)]
const SHIM_NAMES: [&str; 33] = [
    "SIGABRT",
    "SIGALRM",
    "SIGBUS",
    "SIGCHLD",
    "SIGCONT",
    "SIGFPE",
    "SIGHUP",
    "SIGILL",
    "SIGINT",
    "SIGKILL",
    "SIGPIPE",
    "SIGQUIT",
    "SIGSEGV",
    "SIGSTOP",
    "SIGTERM",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGUSR1",
    "SIGUSR2",
    "SIGPOLL",
    "SIGPROF",
    "SIGSYS",
    "SIGTRAP",
    "SIGURG",
    "SIGVTALRM",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGSTKFLT",
    "SIGWINCH",
    "SIGPWR",
    "SIGIO",
    "SIGIOT",
];

/// Alias names the tables may carry (a later entry with an earlier number).
/// The entries themselves are private, so the aliases are named here.
const ALIASES: [&str; 4] = ["SIGIOT", "SIGIO", "SIGUNUSED", "SIGCLD"];

/// The harness table whose numbering the host's `<signal.h>` follows, for
/// the architectures `LINUX_GENERIC` documents.
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "arm",
        target_arch = "aarch64",
        target_arch = "riscv64",
        target_arch = "powerpc64",
        target_arch = "s390x",
    )
))]
const HOST_TABLE: Option<&SignalTable> = Some(&LINUX_GENERIC);
#[cfg(all(target_os = "linux", any(target_arch = "mips", target_arch = "mips64")))]
const HOST_TABLE: Option<&SignalTable> = Some(&LINUX_MIPS);
#[cfg(all(
    unix,
    not(all(
        target_os = "linux",
        any(
            target_arch = "x86",
            target_arch = "x86_64",
            target_arch = "arm",
            target_arch = "aarch64",
            target_arch = "riscv64",
            target_arch = "powerpc64",
            target_arch = "s390x",
            target_arch = "mips",
            target_arch = "mips64",
        )
    ))
))]
const HOST_TABLE: Option<&SignalTable> = None;

/// Every canonical and alias entry of the host's table has `<signal.h>`'s
/// number, and every name the shim must know is in the table with it.
#[cfg(unix)]
#[test]
fn host_table_matches_signal_h() {
    let Some(table) = HOST_TABLE else {
        return;
    };
    let mut mismatches = Vec::new();
    let mut compared = 0;
    let entries = table.canonical().chain(
        ALIASES
            .iter()
            .filter_map(|&a| table.number(a).map(|s| (a, s))),
    );
    for (name, signal) in entries {
        if let Some(n) = c::signum(name) {
            compared += 1;
            if n != signal.number() {
                mismatches.push(format!("{name}: table {}, <signal.h> {n}", signal.number()));
            }
        }
    }
    for name in SHIM_NAMES {
        match (c::signum(name), table.number(name)) {
            (Some(n), Some(s)) if n == s.number() => {}
            (c, t) => mismatches.push(format!("{name}: table {t:?}, <signal.h> {c:?}")),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} ({compared} entries compared):\n{}",
        table.name,
        mismatches.join("\n")
    );
    assert!(
        compared >= SHIM_NAMES.len() - 2,
        "the shim knew only {compared} of {}'s names",
        table.name
    );
}

/// POSIX's signals are all in each table, each under its own name (not
/// hidden as an alias of another signal's number).
#[rstest]
#[case::linux_generic(&LINUX_GENERIC)]
#[case::linux_mips(&LINUX_MIPS)]
fn every_posix_signal_is_canonical(#[case] table: &SignalTable) {
    for name in POSIX_SIGNALS {
        let signal = table
            .number(name)
            .unwrap_or_else(|| panic!("{} has no {name}", table.name));
        assert_eq!(
            table.name(signal),
            Some(name),
            "{}: {name} ({}) is shown as",
            table.name,
            signal.number()
        );
    }
}

/// No two canonical names share a number and no name has two numbers, so a
/// mistyped number cannot quietly turn a signal into an alias.
#[rstest]
#[case::linux_generic(&LINUX_GENERIC, 31)]
#[case::linux_mips(&LINUX_MIPS, 31)]
fn canonical_entries_are_unique(#[case] table: &SignalTable, #[case] count: usize) {
    let canonical: Vec<(&str, Signal)> = table.canonical().collect();
    let names: HashSet<&str> = canonical.iter().map(|&(n, _)| n).collect();
    let numbers: HashSet<Signal> = canonical.iter().map(|&(_, s)| s).collect();
    assert_eq!(
        names.len(),
        canonical.len(),
        "{}: a canonical name repeats: {canonical:?}",
        table.name
    );
    assert_eq!(
        numbers.len(),
        canonical.len(),
        "{}: a number repeats: {canonical:?}",
        table.name
    );
    assert_eq!(canonical.len(), count, "{}: {canonical:?}", table.name);
    for (name, signal) in canonical {
        assert_eq!(table.number(name), Some(signal), "{}: {name}", table.name);
        assert_eq!(
            table.name(signal),
            Some(name),
            "{}: {}",
            table.name,
            signal.number()
        );
    }
    for alias in ALIASES {
        if let Some(signal) = table.number(alias) {
            assert_ne!(
                table.name(signal),
                Some(alias),
                "{}: alias {alias} is printed",
                table.name
            );
        }
    }
}

/// signal(7), "Signal numbering for standard signals", the "x86/ARM most
/// others" and "MIPS" columns (man-pages 6.x); `None` is the page's "-".
/// SIGPOLL is "Same as SIGIO".
///
/// # References
/// - <https://man7.org/linux/man-pages/man7/signal.7.html>
const SIGNAL_7: [(&str, Option<i32>, Option<i32>); 38] = [
    ("SIGHUP", Some(1), Some(1)),
    ("SIGINT", Some(2), Some(2)),
    ("SIGQUIT", Some(3), Some(3)),
    ("SIGILL", Some(4), Some(4)),
    ("SIGTRAP", Some(5), Some(5)),
    ("SIGABRT", Some(6), Some(6)),
    ("SIGIOT", Some(6), Some(6)),
    ("SIGBUS", Some(7), Some(10)),
    ("SIGEMT", None, Some(7)),
    ("SIGFPE", Some(8), Some(8)),
    ("SIGKILL", Some(9), Some(9)),
    ("SIGUSR1", Some(10), Some(16)),
    ("SIGSEGV", Some(11), Some(11)),
    ("SIGUSR2", Some(12), Some(17)),
    ("SIGPIPE", Some(13), Some(13)),
    ("SIGALRM", Some(14), Some(14)),
    ("SIGTERM", Some(15), Some(15)),
    ("SIGSTKFLT", Some(16), None),
    ("SIGCHLD", Some(17), Some(18)),
    ("SIGCLD", None, Some(18)),
    ("SIGCONT", Some(18), Some(25)),
    ("SIGSTOP", Some(19), Some(23)),
    ("SIGTSTP", Some(20), Some(24)),
    ("SIGTTIN", Some(21), Some(26)),
    ("SIGTTOU", Some(22), Some(27)),
    ("SIGURG", Some(23), Some(21)),
    ("SIGXCPU", Some(24), Some(30)),
    ("SIGXFSZ", Some(25), Some(31)),
    ("SIGVTALRM", Some(26), Some(28)),
    ("SIGPROF", Some(27), Some(29)),
    ("SIGWINCH", Some(28), Some(20)),
    ("SIGIO", Some(29), Some(22)),
    ("SIGPOLL", Some(29), Some(22)),
    ("SIGPWR", Some(30), Some(19)),
    ("SIGINFO", None, None),
    ("SIGLOST", None, None),
    ("SIGSYS", Some(31), Some(12)),
    ("SIGUNUSED", Some(31), None),
];

/// A numbered column of [`SIGNAL_7`].
#[derive(Clone, Copy, Debug)]
enum Signal7Column {
    /// "x86/ARM most others".
    X86,
    /// "MIPS".
    Mips,
}

/// Each table against its column of signal(7): every name the page gives a
/// number has it, every name the page marks "-" is absent, and the table
/// has no name the page does not list.
#[rstest]
#[case::linux_generic(&LINUX_GENERIC, Signal7Column::X86)]
#[case::linux_mips(&LINUX_MIPS, Signal7Column::Mips)]
fn table_matches_signal_7(#[case] table: &SignalTable, #[case] column: Signal7Column) {
    let mut mismatches = Vec::new();
    for (name, x86, mips) in SIGNAL_7 {
        let expected = match column {
            Signal7Column::X86 => x86,
            Signal7Column::Mips => mips,
        }
        .map(Signal);
        if table.number(name) != expected {
            mismatches.push(format!(
                "{name}: table {:?}, signal(7) {expected:?}",
                table.number(name)
            ));
        }
    }
    for (name, _) in table.canonical() {
        if !SIGNAL_7.iter().any(|row| row.0 == name) {
            mismatches.push(format!("{name}: not in signal(7)"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}:\n{}",
        table.name,
        mismatches.join("\n")
    );
}

/// XNU's `bsd/sys/signal.h`, written out: every signal it defines in the
/// default (Darwin) compilation, with its number, in the header's order.
/// `SIGIOT` is `#define SIGIOT SIGABRT`. `__DARWIN_NSIG` is 32, "counting
/// 0", so 1..=31 are all the signals there are.
///
/// # References
/// - <https://github.com/apple-oss-distributions/xnu/blob/main/bsd/sys/signal.h>
const XNU_SIGNAL_H: [(&str, i32); 32] = [
    ("SIGHUP", 1),
    ("SIGINT", 2),
    ("SIGQUIT", 3),
    ("SIGILL", 4),
    ("SIGTRAP", 5),
    ("SIGABRT", 6),
    ("SIGIOT", 6),
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
];

/// POSIX signals Darwin does not have under their own number, each with the
/// number the table gives the name and why.
///
/// # References
/// - XNU `bsd/sys/signal.h`: `#if (defined(_POSIX_C_SOURCE) &&
///   !defined(_DARWIN_C_SOURCE))` / `#define SIGPOLL 7 /* pollable event
///   ([XSR] generated, not supported) */` / `#else` / `#define SIGEMT 7`
const DARWIN_WITHOUT_OWN_NUMBER: [(&str, i32, &str); 1] = [(
    "SIGPOLL",
    7,
    "defined only in a strict POSIX compilation, as 7 (SIGEMT otherwise), and never generated",
)];

/// The Darwin table is XNU's header: the same name for each number, the
/// same number for each name, nothing more, and SIGPOLL where the header
/// puts it.
#[test]
fn darwin_table_matches_xnu_signal_h() {
    let mut mismatches = Vec::new();
    for (name, number) in XNU_SIGNAL_H {
        if DARWIN.number(name) != Some(Signal(number)) {
            mismatches.push(format!(
                "{name}: table {:?}, <sys/signal.h> {number}",
                DARWIN.number(name)
            ));
        }
    }
    for (name, number, _) in DARWIN_WITHOUT_OWN_NUMBER {
        if DARWIN.number(name) != Some(Signal(number)) {
            mismatches.push(format!(
                "{name}: table {:?}, <sys/signal.h> (POSIX-only) {number}",
                DARWIN.number(name)
            ));
        }
    }
    for (name, signal) in DARWIN.canonical() {
        if !XNU_SIGNAL_H.contains(&(name, signal.number())) {
            mismatches.push(format!("{name} {}: not in <sys/signal.h>", signal.number()));
        }
    }
    assert!(mismatches.is_empty(), "darwin:\n{}", mismatches.join("\n"));
}

/// Every number 1..=31 has exactly one canonical name and no name has two
/// numbers; the aliases (SIGIOT, SIGPOLL) are accepted but never printed.
#[test]
fn darwin_numbers_are_unique_and_complete() {
    let canonical: Vec<(&str, Signal)> = DARWIN.canonical().collect();
    let numbers: Vec<i32> = canonical.iter().map(|&(_, s)| s.number()).collect();
    assert_eq!(numbers, (1..=31).collect::<Vec<_>>(), "{canonical:?}");
    let names: HashSet<&str> = canonical.iter().map(|&(n, _)| n).collect();
    assert_eq!(names.len(), 31, "a canonical name repeats: {canonical:?}");
    for (alias, shown) in [("SIGIOT", "SIGABRT"), ("SIGPOLL", "SIGEMT")] {
        let signal = DARWIN.number(alias).unwrap();
        assert_eq!(DARWIN.name(signal), Some(shown), "{alias}");
        assert_eq!(DARWIN.parse(alias), Some(signal), "{alias}");
    }
}

/// All 28 POSIX names resolve; 27 are Darwin signals of their own, and the
/// one that is not (SIGPOLL) is listed with its reason.
#[test]
fn darwin_has_every_posix_signal_or_says_why_not() {
    for name in POSIX_SIGNALS {
        let signal = DARWIN
            .number(name)
            .unwrap_or_else(|| panic!("darwin has no {name}"));
        match DARWIN_WITHOUT_OWN_NUMBER.iter().find(|(n, ..)| *n == name) {
            Some((_, number, why)) => {
                assert_eq!(signal, Signal(*number), "{name}");
                assert_ne!(DARWIN.name(signal), Some(name), "{name}: {why}");
                assert!(!why.is_empty());
            }
            None => assert_eq!(DARWIN.name(signal), Some(name), "{name}"),
        }
    }
}

#[rstest]
#[case::generic("linux-generic", Some(&LINUX_GENERIC))]
#[case::mips("linux-mips", Some(&LINUX_MIPS))]
#[case::darwin("darwin", Some(&DARWIN))]
#[case::unknown("linux-sparc", None)]
fn signal_table_by_name(#[case] name: &str, #[case] expected: Option<&SignalTable>) {
    assert_eq!(SignalTable::by_name(name), expected);
}

// ---------------------------------------------------------------------------
// Display.
// ---------------------------------------------------------------------------

#[rstest]
#[case::exit_0(StateChange::Exited { code: 0 }, "exit 0")]
#[case::exit_255(StateChange::Exited { code: 255 }, "exit 255")]
#[case::exit_minus_1(StateChange::Exited { code: -1 }, "exit -1")]
#[case::exit_i32_max(StateChange::Exited { code: i64::from(i32::MAX) }, "exit 2147483647")]
#[case::signal_sigabrt_core(signaled(6, true), "signal SIGABRT core")]
#[case::signal_sigkill(signaled(9, false), "signal SIGKILL")]
#[case::signal_sigpoll_not_sigio(signaled(29, false), "signal SIGPOLL")]
#[case::stopped_sigstop(StateChange::Stopped { signal: Signal(19) }, "stopped SIGSTOP")]
#[case::continued(StateChange::Continued, "continued")]
#[case::signal_unknown_77(signaled(77, false), "signal 77")]
#[case::signal_unknown_77_core(signaled(77, true), "signal 77 core")]
#[case::unrecognised_core_on_exit(unrecognised(0x80), "unrecognised 0x0080")]
#[case::unrecognised_bit_16(unrecognised(0x1_0000), "unrecognised 0x10000")]
#[case::unrecognised_minus_1(unrecognised(-1), "unrecognised 0xffffffff")]
#[case::unrecognised_siginfo(
    StateChange::Unrecognised { raw: RawStatus::SigInfo { code: 7, status: -1 } },
    "unrecognised si_code=7 si_status=-1"
)]
fn termination_display_generic(#[case] change: StateChange, #[case] expected: &str) {
    assert_eq!(
        change.display(&LINUX_GENERIC).to_string(),
        expected,
        "{change:?}"
    );
}

#[rstest]
#[case::signal_sigpwr(signaled(19, false), "signal SIGPWR")]
#[case::stopped_sigstop(StateChange::Stopped { signal: Signal(23) }, "stopped SIGSTOP")]
#[case::signal_sigchld_not_sigcld(signaled(18, false), "signal SIGCHLD")]
#[case::signal_sigemt_core(signaled(7, true), "signal SIGEMT core")]
fn termination_display_mips(#[case] change: StateChange, #[case] expected: &str) {
    assert_eq!(
        change.display(&LINUX_MIPS).to_string(),
        expected,
        "{change:?}"
    );
}

#[rstest]
#[case::stopped_sigstop(StateChange::Stopped { signal: Signal(17) }, "stopped SIGSTOP")]
#[case::signal_sigbus_core(signaled(10, true), "signal SIGBUS core")]
#[case::signal_sigemt_not_sigpoll(signaled(7, true), "signal SIGEMT core")]
#[case::signal_sigio(signaled(23, false), "signal SIGIO")]
#[case::signal_sigusr1(signaled(30, false), "signal SIGUSR1")]
#[case::signal_unknown_32(signaled(32, false), "signal 32")]
fn termination_display_darwin(#[case] change: StateChange, #[case] expected: &str) {
    assert_eq!(change.display(&DARWIN).to_string(), expected, "{change:?}");
}

#[rstest]
#[case::known(Signal(6), "SIGABRT")]
#[case::unknown(Signal(77), "77")]
fn signal_display(#[case] signal: Signal, #[case] expected: &str) {
    assert_eq!(LINUX_GENERIC.display(signal).to_string(), expected);
}

#[rstest]
#[case::wait_status_0(RawStatus::WaitStatus { status: 0 }, "0x0000")]
#[case::wait_status_sigabrt_core(RawStatus::WaitStatus { status: 0x86 }, "0x0086")]
#[case::cld_exited_256(RawStatus::SigInfo { code: CLD_EXITED, status: 256 }, "CLD_EXITED si_status=256")]
#[case::cld_killed(RawStatus::SigInfo { code: CLD_KILLED, status: 9 }, "CLD_KILLED si_status=9")]
#[case::cld_dumped(RawStatus::SigInfo { code: CLD_DUMPED, status: 6 }, "CLD_DUMPED si_status=6")]
#[case::cld_trapped(RawStatus::SigInfo { code: CLD_TRAPPED, status: 5 }, "CLD_TRAPPED si_status=5")]
#[case::cld_stopped(RawStatus::SigInfo { code: CLD_STOPPED, status: 19 }, "CLD_STOPPED si_status=19")]
#[case::cld_continued(RawStatus::SigInfo { code: CLD_CONTINUED, status: 18 }, "CLD_CONTINUED si_status=18")]
#[case::cld_exited_minus_1(RawStatus::SigInfo { code: CLD_EXITED, status: -1 }, "CLD_EXITED si_status=-1")]
#[case::cld_exited_i32_min(RawStatus::SigInfo { code: CLD_EXITED, status: i32::MIN }, "CLD_EXITED si_status=-2147483648")]
#[case::unknown_code(RawStatus::SigInfo { code: 0, status: 0 }, "si_code=0 si_status=0")]
#[case::unknown_code_minus_1(RawStatus::SigInfo { code: -1, status: i32::MAX }, "si_code=-1 si_status=2147483647")]
fn raw_status_display(#[case] raw: RawStatus, #[case] expected: &str) {
    assert_eq!(raw.to_string(), expected);
}
