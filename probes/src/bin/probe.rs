//! The multiplexed probe: `probe <verb> [args]` ends the process in the one
//! way the verb names, and in no other way. `probe --list` prints the verbs.
//!
//! Signal verbs take signal *numbers*: the harness resolves names with the
//! numbering of the target being checked, so this probe carries no signal
//! table (SIGPIPE, whose number is 13 on every Unix, is the one exception).
//!
//! When the chosen ending does not happen (a signal that is ignored by
//! default, a stop that is later continued, a null write that does not fault),
//! the probe returns from `main` without printing anything, so the status is
//! then 0.
//!
//! # Statuses of the probe's own
//! - **120**: usage error (unknown verb, missing, extra or malformed
//!   argument). One line `probe: usage: ...` on stderr. Every probe uses 120.
//! - **121**: the verb cannot be carried out here: signal and pipe verbs on a
//!   target that is not Unix (Windows, WASI), `illegal-instruction` on an
//!   architecture without a known undefined instruction (see
//!   [`illegal_instruction`]), a thread, pipe or child process that could not
//!   be created, or a signal number the C library refuses (`raise` of 32 or
//!   33, which glibc keeps for itself, or of a number the system lacks). One
//!   line `probe: <verb>: ...` on stderr.
//!
//! This file must build with rustc 1.63 and no dependencies: the few C
//! functions it needs are declared in [`os`].

use std::alloc::{self, Layout};
use std::env;
use std::fmt::Display;
use std::io::{self, Write};
use std::panic;
use std::process;
use std::ptr;
use std::thread;

/// The status for a usage error, shared by every probe.
const USAGE_ERROR: i32 = 120;

/// The status for a verb that cannot be carried out on this target.
const CANNOT: i32 = 121;

/// Every verb with the synopsis of its arguments, in `--list` order.
const VERBS: [(&str, &str); 36] = [
    ("exit", " <i32>"),
    ("canary", " <text> <i32>"),
    ("panic-main", ""),
    ("panic-thread", ""),
    ("panic-thread-unwrap", ""),
    ("panic-in-drop", ""),
    ("panic-payload-drop-panics", ""),
    ("join-payload-drop-panics", ""),
    ("panic-extern-c", ""),
    ("abort", ""),
    ("alloc-failure", ""),
    ("stack-overflow", ""),
    ("stack-overflow-thread", ""),
    ("null-write", ""),
    ("illegal-instruction", ""),
    ("raise", " <signum>"),
    ("kill", " <signum>"),
    ("raise-then-exit", " <signum> <i32>"),
    ("raise-rt", " min|min+<n>|max|max-<n>"),
    ("sigrt-range", ""),
    ("sigpipe-ignored", ""),
    ("sigpipe-default", ""),
    ("println-closed-pipe", ""),
    ("print-closed-pipe", ""),
    ("sigpipe-at-start", ""),
    ("sigpipe-to-child", ""),
    ("sigpipe-blocked-to-child", ""),
    ("exit-from-thread", " <i32>"),
    ("exit-after-print", ""),
    ("abort-after-print", ""),
    ("exit-skips-drop", ""),
    ("sleep-forever", ""),
    ("ignore-then-sleep", " <signum>"),
    ("spin", ""),
    ("grandchild-holds-stdout", ""),
    ("--list", ""),
];

fn main() {
    let args: Vec<String> = match env::args_os().skip(1).map(|a| a.into_string()).collect() {
        Ok(args) => args,
        Err(_) => usage(None),
    };
    let verb = match args.first() {
        Some(verb) => verb.as_str(),
        None => usage(None),
    };
    let rest = &args[1..];
    if !VERBS.iter().any(|(v, _)| *v == verb) {
        usage(None);
    }
    // Every argument is checked before anything happens, so a usage error
    // never ends the process halfway through a behaviour.
    match (verb, rest) {
        ("exit", [code]) => process::exit(int_arg(verb, code)),
        ("canary", [text, code]) => canary(int_arg(verb, code), text),
        ("panic-main", []) => panic!("probe panic in main"),
        ("panic-thread", []) => panic_thread(verb, false),
        ("panic-thread-unwrap", []) => panic_thread(verb, true),
        ("panic-in-drop", []) => panic_in_drop(),
        ("panic-payload-drop-panics", []) => panic::panic_any(PanicOnDrop),
        ("join-payload-drop-panics", []) => join_payload_drop_panics(verb),
        ("panic-extern-c", []) => panic_extern_c(),
        ("abort", []) => process::abort(),
        ("alloc-failure", []) => alloc::handle_alloc_error(Layout::new::<[u64; 512]>()),
        ("stack-overflow", []) => stack_overflow(),
        ("stack-overflow-thread", []) => stack_overflow_thread(verb),
        ("null-write", []) => null_write(),
        ("illegal-instruction", []) => illegal_instruction(verb),
        ("raise", [sig]) => os::raise(verb, int_arg(verb, sig)),
        ("kill", [sig]) => os::kill(verb, int_arg(verb, sig)),
        ("raise-then-exit", [sig, code]) => {
            let (sig, code) = (int_arg(verb, sig), int_arg(verb, code));
            os::raise(verb, sig);
            process::exit(code)
        }
        ("raise-rt", [which]) => os::raise_rt(verb, rt_arg(verb, which)),
        ("sigrt-range", []) => {
            let (min, max) = os::sigrt_range(verb);
            println!("{min} {max}");
        }
        ("sigpipe-ignored", []) => os::sigpipe(verb, false),
        ("sigpipe-default", []) => os::sigpipe(verb, true),
        ("println-closed-pipe", []) => {
            os::widow_stdout(verb);
            println!("probe");
        }
        ("print-closed-pipe", []) => {
            os::widow_stdout(verb);
            print!("probe");
        }
        ("sigpipe-at-start", []) => process::exit(os::sigpipe_at_start(verb)),
        ("sigpipe-to-child", []) => sigpipe_to_child(verb, false),
        ("sigpipe-blocked-to-child", []) => sigpipe_to_child(verb, true),
        ("exit-from-thread", [code]) => exit_from_thread(verb, int_arg(verb, code)),
        ("exit-after-print", []) => {
            print!("partial line");
            process::exit(0)
        }
        ("abort-after-print", []) => {
            print!("partial line");
            process::abort()
        }
        ("exit-skips-drop", []) => exit_skips_drop(),
        ("sleep-forever", []) => sleep_forever(),
        ("ignore-then-sleep", [sig]) => {
            os::ignore(verb, int_arg(verb, sig));
            sleep_forever()
        }
        ("spin", []) => spin(),
        ("grandchild-holds-stdout", []) => grandchild_holds_stdout(verb),
        ("--list", []) => list(),
        _ => usage(Some(verb)),
    }
}

/// Prints the usage line for `verb` (or the general one) and exits with 120.
fn usage(verb: Option<&str>) -> ! {
    match verb.and_then(|v| VERBS.iter().find(|(name, _)| *name == v)) {
        Some((name, synopsis)) => eprintln!("probe: usage: probe {name}{synopsis}"),
        None => eprintln!("probe: usage: probe <verb> [args...]; `probe --list` prints the verbs"),
    }
    process::exit(USAGE_ERROR)
}

/// Says on stderr why `verb` cannot be carried out here, and exits with 121.
fn cannot(verb: &str, why: impl Display) -> ! {
    eprintln!("probe: {verb}: {why}");
    process::exit(CANNOT)
}

/// Parses a decimal `i32` argument of `verb`, or ends with a usage error.
fn int_arg(verb: &str, arg: &str) -> i32 {
    match arg.parse() {
        Ok(n) => n,
        Err(_) => usage(Some(verb)),
    }
}

/// A real-time signal named relative to the C library's `SIGRTMIN` or
/// `SIGRTMAX`, as signal(7) writes them: `SIGRTMIN+n` or `SIGRTMAX-n`.
///
/// `pub` only because rustc 1.63 rejects a private type in the signature of
/// the public `os::raise_rt` (E0446).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtSignal {
    /// `SIGRTMIN+n`.
    MinPlus(i32),
    /// `SIGRTMAX-n`.
    MaxMinus(i32),
}

impl Display for RtSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RtSignal::MinPlus(n) => write!(f, "SIGRTMIN+{n}"),
            RtSignal::MaxMinus(n) => write!(f, "SIGRTMAX-{n}"),
        }
    }
}

/// Parses the argument of `raise-rt` (`min`, `min+<n>`, `max`, `max-<n>`
/// with `n >= 0`), or ends with a usage error.
fn rt_arg(verb: &str, arg: &str) -> RtSignal {
    let offset = |rest: &str, sign: char| -> i32 {
        if rest.is_empty() {
            return 0;
        }
        match rest.strip_prefix(sign).map(str::parse::<i32>) {
            Some(Ok(n)) if n >= 0 => n,
            _ => usage(Some(verb)),
        }
    };
    if let Some(rest) = arg.strip_prefix("min") {
        RtSignal::MinPlus(offset(rest, '+'))
    } else if let Some(rest) = arg.strip_prefix("max") {
        RtSignal::MaxMinus(offset(rest, '-'))
    } else {
        usage(Some(verb))
    }
}

/// `--list`: every verb, one per line.
fn list() {
    for (verb, _) in VERBS {
        println!("{verb}");
    }
}

/// `panic-thread` and `panic-thread-unwrap`: a spawned thread panics; main
/// joins it and either ignores the `Err` (and returns) or unwraps it.
fn panic_thread(verb: &str, unwrap: bool) {
    let spawned = thread::Builder::new()
        .name("probe-thread".to_owned())
        .spawn(|| panic!("probe panic in a spawned thread"));
    let handle = match spawned {
        Ok(handle) => handle,
        Err(e) => cannot(verb, format_args!("cannot spawn a thread: {e}")),
    };
    let joined: thread::Result<()> = handle.join();
    if unwrap {
        joined.unwrap();
    }
}

/// A value whose destructor panics.
#[derive(Debug)]
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("probe panic in drop");
    }
}

/// `panic-in-drop`: main panics while a [`PanicOnDrop`] is live, so with
/// `panic=unwind` its destructor panics again during unwinding.
fn panic_in_drop() {
    let _live = PanicOnDrop;
    panic!("probe panic in main");
}

/// `join-payload-drop-panics`: a spawned thread panics with a
/// [`PanicOnDrop`] as its payload (`panic_any`); main joins it and drops the
/// `Err`, so the payload's destructor panics in main, outside any unwinding.
/// Compare `panic-payload-drop-panics`, where std's runtime drops main's own
/// payload.
fn join_payload_drop_panics(verb: &str) {
    let spawned = thread::Builder::new()
        .name("probe-thread".to_owned())
        .spawn(|| panic::panic_any(PanicOnDrop));
    let handle = match spawned {
        Ok(handle) => handle,
        Err(e) => cannot(verb, format_args!("cannot spawn a thread: {e}")),
    };
    let joined: thread::Result<()> = handle.join();
    drop(joined);
}

/// A function with the C ABI that panics. Since Rust 1.81 a panic cannot
/// leave an `extern "C"` function: it becomes an abort. Before, with
/// `panic=unwind`, it was undefined behaviour, and rustc let it unwind.
#[inline(never)]
extern "C" fn panics_with_c_abi() {
    panic!("probe panic in an extern \"C\" function");
}

/// `panic-extern-c`: main calls [`panics_with_c_abi`].
fn panic_extern_c() {
    panics_with_c_abi();
}

/// `stack-overflow-thread`: [`stack_overflow`] in a spawned thread (std
/// gives each thread it spawns a guard page and a signal stack); main joins
/// it and returns if it ever ends.
fn stack_overflow_thread(verb: &str) {
    let spawned = thread::Builder::new()
        .name("probe-thread".to_owned())
        .spawn(stack_overflow);
    match spawned {
        Ok(handle) => drop(handle.join()),
        Err(e) => cannot(verb, format_args!("cannot spawn a thread: {e}")),
    }
}

/// `stack-overflow`: recursion without end that the optimiser can neither
/// remove nor turn into a loop.
fn stack_overflow() {
    // SAFETY: reads a live local; the read is volatile so the limit is
    // unknown to the optimiser, and the recursion cannot be proven finite.
    let limit = unsafe { ptr::read_volatile(&u64::MAX) };
    // The result is printed only if the recursion somehow ends, which it
    // cannot do before the stack does.
    let sum = recurse(0, limit);
    println!("{sum}");
}

/// One frame of [`stack_overflow`]: a 1 KiB local array, written and read
/// back through volatile accesses at an index only known at run time (so the
/// optimiser can neither drop the array nor shrink it), and read *after* the
/// recursive call (so the call is not a tail call).
#[inline(never)]
fn recurse(depth: u64, limit: u64) -> u64 {
    if depth == limit {
        return depth;
    }
    // Frames well under a page: with 4 KiB frames the stack pointer could
    // step past std's one-page guard range (depending on where ASLR put the
    // stack), and std would then see a plain SIGSEGV, not an overflow (seen
    // in about 0.3% of runs on x86_64 Linux).
    let mut frame = [0u8; 1024];
    let at = (depth % 1024) as usize;
    // SAFETY: `at < frame.len()`, so the pointer is in bounds of the live
    // local array `frame`.
    unsafe { ptr::write_volatile(frame.as_mut_ptr().add(at), depth as u8) };
    let below = recurse(depth + 1, limit);
    // SAFETY: as above.
    let top = unsafe { ptr::read_volatile(frame.as_ptr().add(at)) };
    below.wrapping_add(u64::from(top))
}

/// `null-write`: a volatile write of one byte through a null pointer.
fn null_write() {
    // SAFETY: a volatile read of a live local. It hides from the optimiser
    // that the pointer is null, so the store below stays a real store rather
    // than being folded into a trap or removed.
    let null: *mut u8 = unsafe { ptr::read_volatile(&ptr::null_mut::<u8>()) };
    // SAFETY: none: writing through a null pointer is invalid, and making
    // the process fault on it is the whole point of this probe. The write is
    // volatile so that it is emitted exactly as written. Where address 0 is
    // writable (WebAssembly's linear memory) it does not fault, and `main`
    // then returns.
    unsafe { ptr::write_volatile(null, 1) };
}

/// `illegal-instruction`: executes the architecture's permanently undefined
/// instruction (see [`undefined_instruction`]), or exits with 121 where none
/// is known.
fn illegal_instruction(verb: &str) {
    if !undefined_instruction() {
        cannot(
            verb,
            "no undefined instruction is known for this architecture",
        );
    }
}

/// Executes `ud2` (x86, x86_64) and returns `true` if it ever returns.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn undefined_instruction() -> bool {
    // SAFETY: `ud2` touches no memory or register; it raises #UD, which is
    // the point of this probe.
    unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
    true
}

/// Executes `udf #0` (AArch64, and 32-bit Arm in both A32 and T32) and
/// returns `true` if it ever returns.
#[cfg(any(target_arch = "aarch64", target_arch = "arm"))]
fn undefined_instruction() -> bool {
    // SAFETY: `udf #0` touches no memory or register; it raises an undefined
    // instruction exception, which is the point of this probe.
    unsafe { core::arch::asm!("udf #0", options(nomem, nostack)) };
    true
}

/// Executes `unimp` (RISC-V) and returns `true` if it ever returns.
#[cfg(any(target_arch = "riscv32", target_arch = "riscv64"))]
fn undefined_instruction() -> bool {
    // SAFETY: `unimp` touches no memory or register; it raises an illegal
    // instruction exception, which is the point of this probe.
    unsafe { core::arch::asm!("unimp", options(nomem, nostack)) };
    true
}

/// Elsewhere (PowerPC, s390x, MIPS, WebAssembly) inline assembly needs the
/// unstable `asm_experimental_arch`, so no instruction is executed and this
/// returns `false`.
#[cfg(not(any(
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv32",
    target_arch = "riscv64",
)))]
fn undefined_instruction() -> bool {
    false
}

/// A spawned thread calls `process::exit(code)` while main waits for ever.
fn exit_from_thread(verb: &str, code: i32) {
    let spawned = thread::Builder::new()
        .name("probe-thread".to_owned())
        .spawn(move || process::exit(code));
    if let Err(e) = spawned {
        cannot(verb, format_args!("cannot spawn a thread: {e}"));
    }
    // `park` may wake spuriously, hence the loop.
    loop {
        thread::park();
    }
}

/// A value whose destructor prints `drop ran`.
#[derive(Debug)]
struct PrintOnDrop;

impl Drop for PrintOnDrop {
    fn drop(&mut self) {
        println!("drop ran");
    }
}

/// `exit-skips-drop`: `process::exit(0)` while a [`PrintOnDrop`] is live.
fn exit_skips_drop() {
    let _live = PrintOnDrop;
    process::exit(0);
}

/// `sleep-forever`: never ends by itself.
fn sleep_forever() -> ! {
    loop {
        thread::sleep(std::time::Duration::from_secs(3600));
    }
}

/// `spin`: keeps one CPU busy forever.
fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        // A volatile write keeps the loop from being optimised away.
        // SAFETY: `n` is a live local, written through a valid pointer.
        unsafe { ptr::write_volatile(&mut n, n.wrapping_add(1)) };
    }
}

/// `grandchild-holds-stdout`: starts a copy of itself that sleeps forever
/// with the same stdout, then exits 0 at once. The grandchild is in the
/// probe's process group, so a harness that cleans up by group ends it.
fn grandchild_holds_stdout(verb: &str) {
    let exe = match env::current_exe() {
        Ok(exe) => exe,
        Err(e) => cannot(verb, format_args!("cannot find my own executable: {e}")),
    };
    let started = process::Command::new(exe).arg("sleep-forever").spawn();
    if let Err(e) = started {
        cannot(verb, format_args!("cannot start the grandchild: {e}"));
    }
}

/// `sigpipe-to-child` and `sigpipe-blocked-to-child`: starts a copy of
/// itself with `sigpipe-at-start` through std's `Command` (so std decides
/// what the child gets), waits for it and exits with its status: 0 means the
/// child began with SIGPIPE at `SIG_DFL` and unblocked, bit 0 that it was
/// ignored, bit 1 that it was blocked. With `block`, the probe first blocks
/// SIGPIPE in itself (std has already set it to ignored).
fn sigpipe_to_child(verb: &str, block: bool) {
    if !cfg!(unix) {
        cannot(verb, "unsupported on this target");
    }
    if block {
        os::block_sigpipe(verb);
    }
    let exe = match env::current_exe() {
        Ok(exe) => exe,
        Err(e) => cannot(verb, format_args!("cannot find my own executable: {e}")),
    };
    let status = match process::Command::new(exe).arg("sigpipe-at-start").status() {
        Ok(status) => status,
        Err(e) => cannot(verb, format_args!("cannot start the child: {e}")),
    };
    match status.code() {
        Some(code) => process::exit(code),
        None => cannot(verb, format_args!("the child did not exit: {status}")),
    }
}

/// Signals and pipes through the C library, declared here by hand.
///
/// # References
/// - POSIX `signal`, `sigprocmask`, `sigismember`, `raise`, `kill`, `pipe`,
///   `dup2`.
#[cfg(unix)]
mod os {
    use std::fs::File;
    use std::io::{self, Write};
    use std::os::raw::c_int;
    use std::os::unix::io::FromRawFd;
    use std::sync::atomic::{AtomicI32, Ordering};

    /// `sighandler_t`: a function pointer, or one of the special values.
    type SigHandler = usize;

    /// `SIG_DFL`, which is 0 on every Unix.
    const SIG_DFL: SigHandler = 0;

    /// `SIG_IGN`, which is 1 on every Unix.
    const SIG_IGN: SigHandler = 1;

    /// `SIGPIPE`, which is 13 on every Unix Rust supports (Linux on every
    /// architecture, the BSDs, Apple, illumos).
    const SIGPIPE: c_int = 13;

    /// `STDOUT_FILENO`.
    const STDOUT: c_int = 1;

    /// `SIG_BLOCK` and `SIG_UNBLOCK`: 0 and 1 on Linux and Android except
    /// MIPS and SPARC, where they are 1 and 2, as they are on the BSDs, Apple
    /// and illumos.
    #[cfg(all(
        any(target_os = "linux", target_os = "android"),
        not(any(
            target_arch = "mips",
            target_arch = "mips64",
            target_arch = "mips32r6",
            target_arch = "mips64r6",
            target_arch = "sparc",
            target_arch = "sparc64",
        ))
    ))]
    const SIG_BLOCK: c_int = 0;
    #[cfg(not(all(
        any(target_os = "linux", target_os = "android"),
        not(any(
            target_arch = "mips",
            target_arch = "mips64",
            target_arch = "mips32r6",
            target_arch = "mips64r6",
            target_arch = "sparc",
            target_arch = "sparc64",
        ))
    )))]
    const SIG_BLOCK: c_int = 1;
    const SIG_UNBLOCK: c_int = SIG_BLOCK + 1;

    /// Storage for a `sigset_t`, which is never larger than 128 bytes
    /// (glibc and musl use 128, Apple 4, the BSDs 16). Only the C library
    /// reads or writes it.
    ///
    /// `pub` only so that rustc 1.63 does not warn about a private type in
    /// the signatures of [`c`] (`private_in_public`); the module is private.
    #[repr(C, align(8))]
    pub struct SigSet([u8; 128]);

    /// The C library's functions, under their C names.
    mod c {
        use super::{SigHandler, SigSet};
        use std::os::raw::c_int;

        extern "C" {
            pub fn signal(signum: c_int, handler: SigHandler) -> SigHandler;
            pub fn sigemptyset(set: *mut SigSet) -> c_int;
            pub fn sigaddset(set: *mut SigSet, signum: c_int) -> c_int;
            pub fn sigismember(set: *const SigSet, signum: c_int) -> c_int;
            pub fn sigprocmask(how: c_int, set: *const SigSet, oldset: *mut SigSet) -> c_int;
            pub fn raise(sig: c_int) -> c_int;
            pub fn kill(pid: c_int, sig: c_int) -> c_int;
            pub fn getpid() -> c_int;
            pub fn pipe(fds: *mut c_int) -> c_int;
            pub fn dup2(old: c_int, new: c_int) -> c_int;
            pub fn close(fd: c_int) -> c_int;
        }

        // The C library's SIGRTMIN and SIGRTMAX are these calls, not
        // constants: the C library keeps the first real-time signals for
        // itself (glibc 32 and 33, so its SIGRTMIN is 34; musl 32 to 34).
        #[cfg(any(target_os = "linux", target_os = "android"))]
        extern "C" {
            pub fn __libc_current_sigrtmin() -> c_int;
            pub fn __libc_current_sigrtmax() -> c_int;
        }
    }

    /// Gives `sig` its default disposition and unblocks it. Failures are
    /// ignored: SIGKILL and SIGSTOP cannot be caught, glibc refuses to touch
    /// the two real-time signals it keeps for itself (32 and 33), and an
    /// unknown number is for `raise` itself to refuse.
    ///
    /// This matters for more than SIGPIPE: std installs handlers for SIGSEGV
    /// and SIGBUS (to report stack overflows), and a blocked signal mask is
    /// inherited across `exec`.
    fn reset_and_unblock(sig: c_int) {
        let mut set = SigSet([0; 128]);
        // SAFETY: `signal` with SIG_DFL installs no code of ours; the set is
        // a live, writable buffer at least as large as `sigset_t`, and a null
        // `oldset` is allowed.
        unsafe {
            c::signal(sig, SIG_DFL);
            c::sigemptyset(&mut set);
            c::sigaddset(&mut set, sig);
            c::sigprocmask(SIG_UNBLOCK, &set, std::ptr::null_mut());
        }
    }

    /// Ends with 121 if a C library call returned `result` (non-zero) for
    /// failure.
    fn check(verb: &str, call: impl std::fmt::Display, result: c_int) {
        if result != 0 {
            crate::cannot(
                verb,
                format_args!("{call} failed: {}", io::Error::last_os_error()),
            );
        }
    }

    /// `ignore-then-sleep <signum>`: sets `sig` to SIG_IGN.
    pub fn ignore(_verb: &str, sig: c_int) {
        // SAFETY: `signal` with SIG_IGN installs no code of ours.
        unsafe { c::signal(sig, SIG_IGN) };
    }

    /// `raise <signum>`: `raise(sig)` with the signal reset and unblocked.
    /// A number the C library refuses ends with 121.
    pub fn raise(verb: &str, sig: c_int) {
        reset_and_unblock(sig);
        // SAFETY: `raise` takes any number and has no memory effects.
        let result = unsafe { c::raise(sig) };
        check(verb, format_args!("raise({sig})"), result);
    }

    /// `kill <signum>`: `kill(getpid(), sig)` with the signal reset and
    /// unblocked. A number the kernel refuses ends with 121.
    pub fn kill(verb: &str, sig: c_int) {
        reset_and_unblock(sig);
        // SAFETY: `getpid` and `kill` take plain numbers and have no memory
        // effects.
        let result = unsafe { c::kill(c::getpid(), sig) };
        check(verb, format_args!("kill(getpid(), {sig})"), result);
    }

    /// The C library's `SIGRTMIN` and `SIGRTMAX`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn sigrt_range(_verb: &str) -> (c_int, c_int) {
        // SAFETY: both take nothing and return a number.
        unsafe { (c::__libc_current_sigrtmin(), c::__libc_current_sigrtmax()) }
    }

    /// No real-time signals are known here (Apple has none; the BSDs'
    /// are constants this probe does not carry): ends with 121.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub fn sigrt_range(verb: &str) -> (c_int, c_int) {
        crate::cannot(verb, "no real-time signals are known on this target")
    }

    /// `raise-rt min|min+<n>|max|max-<n>`: [`raise`] of that real-time
    /// signal. One beyond the range ends with 121.
    pub fn raise_rt(verb: &str, which: crate::RtSignal) {
        let (min, max) = sigrt_range(verb);
        let sig = match which {
            crate::RtSignal::MinPlus(n) => min.checked_add(n),
            crate::RtSignal::MaxMinus(n) => max.checked_sub(n),
        };
        match sig {
            Some(sig) if (min..=max).contains(&sig) => raise(verb, sig),
            _ => crate::cannot(
                verb,
                format_args!("{which} is outside SIGRTMIN..=SIGRTMAX ({min}..={max})"),
            ),
        }
    }

    /// A pipe with its read end already closed: returns the write end.
    fn widowed_pipe(verb: &str) -> c_int {
        let mut fds: [c_int; 2] = [-1; 2];
        // SAFETY: `fds` is a live, writable array of two `c_int`, as
        // `pipe(2)` requires.
        let result = unsafe { c::pipe(fds.as_mut_ptr()) };
        check(verb, "pipe(2)", result);
        // SAFETY: `fds[0]` is the read end just created, owned by nothing
        // else and never used again.
        unsafe { c::close(fds[0]) };
        fds[1]
    }

    /// `sigpipe-ignored` and `sigpipe-default`: writes to a pipe whose read
    /// end is closed, with SIGPIPE as std left it (ignored) or reset to
    /// default, and prints the error kind (or `written`) if still alive.
    pub fn sigpipe(verb: &str, reset: bool) {
        if reset {
            reset_and_unblock(SIGPIPE);
        }
        let write_end = widowed_pipe(verb);
        // SAFETY: `write_end` was just created; the `File` becomes its only
        // owner.
        let mut writer = unsafe { File::from_raw_fd(write_end) };
        match writer.write_all(b"probe") {
            Ok(()) => println!("written"),
            Err(e) => println!("{:?}", e.kind()),
        }
    }

    /// `println-closed-pipe` and `print-closed-pipe`: makes standard output
    /// the write end of a pipe whose read end is closed, SIGPIPE left as std
    /// set it (ignored), so that writing to it fails with `EPIPE`.
    pub fn widow_stdout(verb: &str) {
        let write_end = widowed_pipe(verb);
        // SAFETY: both are open descriptors; `dup2` replaces standard
        // output, which std's `Stdout` reaches only by its number, and
        // nothing has been printed yet.
        if unsafe { c::dup2(write_end, STDOUT) } != STDOUT {
            crate::cannot(
                verb,
                format_args!("dup2(2) failed: {}", io::Error::last_os_error()),
            );
        }
        // SAFETY: `write_end` is ours and now duplicated as fd 1.
        unsafe { c::close(write_end) };
    }

    /// SIGPIPE as the process found it when it was loaded, recorded by
    /// [`record_sigpipe_at_start`] before std's runtime sets it to
    /// ignored: bit 0 ignored, bit 1 blocked; -1 if nothing was recorded.
    static SIGPIPE_AT_START: AtomicI32 = AtomicI32::new(-1);

    /// Registers [`record_sigpipe_at_start`] as a constructor (ELF
    /// `.init_array`), which the C library's start-up code runs before
    /// `main`, so before std's runtime (called from `main`) sets SIGPIPE to
    /// ignored.
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos",
        target_os = "solaris",
    ))]
    #[used]
    #[link_section = ".init_array"]
    static RECORD_SIGPIPE_AT_START: extern "C" fn() = record_sigpipe_at_start;

    /// The same for Mach-O (`__mod_init_func`), on Apple's systems.
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    #[used]
    #[link_section = "__DATA,__mod_init_func"]
    static RECORD_SIGPIPE_AT_START: extern "C" fn() = record_sigpipe_at_start;

    /// Records SIGPIPE's disposition and mask bit in [`SIGPIPE_AT_START`].
    /// The disposition is read by swapping in SIG_IGN and putting the old
    /// one back, which needs no `struct sigaction` (whose layout differs
    /// between C libraries and architectures); across `exec` it can only be
    /// SIG_DFL or SIG_IGN.
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos",
        target_os = "solaris",
        target_os = "macos",
        target_os = "ios",
    ))]
    extern "C" fn record_sigpipe_at_start() {
        let mut mask = SigSet([0; 128]);
        // SAFETY: `signal` with SIG_IGN, then with the previous value (SIG_DFL
        // or SIG_IGN after an exec), installs no code of ours. `mask` is a
        // live, writable buffer at least as large as `sigset_t`; with a null
        // `set`, `sigprocmask` only stores the current mask and `how` is not
        // looked at.
        let (ignored, blocked) = unsafe {
            let previous = c::signal(SIGPIPE, SIG_IGN);
            c::signal(SIGPIPE, previous);
            let queried = c::sigprocmask(SIG_BLOCK, std::ptr::null(), &mut mask);
            (
                previous == SIG_IGN,
                queried == 0 && c::sigismember(&mask, SIGPIPE) == 1,
            )
        };
        let code = i32::from(ignored) | i32::from(blocked) << 1;
        SIGPIPE_AT_START.store(code, Ordering::SeqCst);
    }

    /// `sigpipe-at-start`: the recorded SIGPIPE state (0 to 3), or 121 if
    /// no constructor ran on this target.
    pub fn sigpipe_at_start(verb: &str) -> i32 {
        match SIGPIPE_AT_START.load(Ordering::SeqCst) {
            -1 => crate::cannot(verb, "no constructor ran before main on this target"),
            code => code,
        }
    }

    /// Blocks SIGPIPE in this process (`sigpipe-blocked-to-child`).
    pub fn block_sigpipe(verb: &str) {
        let mut set = SigSet([0; 128]);
        // SAFETY: the set is a live, writable buffer at least as large as
        // `sigset_t`, and a null `oldset` is allowed.
        let result = unsafe {
            c::sigemptyset(&mut set);
            c::sigaddset(&mut set, SIGPIPE);
            c::sigprocmask(SIG_BLOCK, &set, std::ptr::null_mut())
        };
        check(verb, "sigprocmask(SIG_BLOCK, {SIGPIPE})", result);
    }
}

/// The signal and pipe verbs on targets that are not Unix: each one says so
/// and exits with 121.
#[cfg(not(unix))]
mod os {
    /// Says that `verb` is not supported here, and exits with 121.
    fn unsupported(verb: &str) -> ! {
        crate::cannot(verb, "unsupported on this target")
    }

    /// `raise <signum>`: unsupported here.
    pub fn raise(verb: &str, _sig: i32) {
        unsupported(verb)
    }

    /// `ignore-then-sleep <signum>`: unsupported here.
    pub fn ignore(verb: &str, _sig: i32) {
        unsupported(verb)
    }

    /// `kill <signum>`: unsupported here.
    pub fn kill(verb: &str, _sig: i32) {
        unsupported(verb)
    }

    /// `sigrt-range`: unsupported here.
    pub fn sigrt_range(verb: &str) -> (i32, i32) {
        unsupported(verb)
    }

    /// `raise-rt`: unsupported here.
    pub fn raise_rt(verb: &str, _which: crate::RtSignal) {
        unsupported(verb)
    }

    /// `sigpipe-ignored` and `sigpipe-default`: unsupported here.
    pub fn sigpipe(verb: &str, _reset: bool) {
        unsupported(verb)
    }

    /// `println-closed-pipe` and `print-closed-pipe`: unsupported here.
    pub fn widow_stdout(verb: &str) {
        unsupported(verb)
    }

    /// `sigpipe-at-start`: unsupported here.
    pub fn sigpipe_at_start(verb: &str) -> i32 {
        unsupported(verb)
    }

    /// `sigpipe-blocked-to-child`: unsupported here.
    pub fn block_sigpipe(verb: &str) {
        unsupported(verb)
    }
}

/// Prints `text` and a newline on stdout, then exits with `code`: the
/// runner canary, an ending no broken runner imitates (it must run the
/// program to print the harness's nonce, and keep its exit code).
fn canary(code: i32, text: &str) -> ! {
    let mut out = io::stdout();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
    process::exit(code)
}
