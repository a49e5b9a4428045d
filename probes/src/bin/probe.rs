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
//!   [`illegal_instruction`]), or a thread or pipe that could not be created.
//!   One line `probe: <verb>: ...` on stderr.
//!
//! This file must build with rustc 1.63 and no dependencies: the few C
//! functions it needs are declared in [`os`].

use std::alloc::{self, Layout};
use std::env;
use std::fmt::Display;
use std::process;
use std::ptr;
use std::thread;

/// The status for a usage error, shared by every probe.
const USAGE_ERROR: i32 = 120;

/// The status for a verb that cannot be carried out on this target.
const CANNOT: i32 = 121;

/// Every verb with the synopsis of its arguments, in `--list` order.
const VERBS: [(&str, &str); 24] = [
    ("exit", " <i32>"),
    ("panic-main", ""),
    ("panic-thread", ""),
    ("panic-thread-unwrap", ""),
    ("panic-in-drop", ""),
    ("abort", ""),
    ("alloc-failure", ""),
    ("stack-overflow", ""),
    ("null-write", ""),
    ("illegal-instruction", ""),
    ("raise", " <signum>"),
    ("kill", " <signum>"),
    ("raise-then-exit", " <signum> <i32>"),
    ("sigpipe-ignored", ""),
    ("sigpipe-default", ""),
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
        ("panic-main", []) => panic!("probe panic in main"),
        ("panic-thread", []) => panic_thread(verb, false),
        ("panic-thread-unwrap", []) => panic_thread(verb, true),
        ("panic-in-drop", []) => panic_in_drop(),
        ("abort", []) => process::abort(),
        ("alloc-failure", []) => alloc::handle_alloc_error(Layout::new::<[u64; 512]>()),
        ("stack-overflow", []) => stack_overflow(),
        ("null-write", []) => null_write(),
        ("illegal-instruction", []) => illegal_instruction(verb),
        ("raise", [sig]) => os::raise(verb, int_arg(verb, sig)),
        ("kill", [sig]) => os::kill(verb, int_arg(verb, sig)),
        ("raise-then-exit", [sig, code]) => {
            let (sig, code) = (int_arg(verb, sig), int_arg(verb, code));
            os::raise(verb, sig);
            process::exit(code)
        }
        ("sigpipe-ignored", []) => os::sigpipe(verb, false),
        ("sigpipe-default", []) => os::sigpipe(verb, true),
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

/// Signals and pipes through the C library, declared here by hand.
///
/// # References
/// - POSIX `signal`, `sigprocmask`, `raise`, `kill`, `pipe`.
#[cfg(unix)]
mod os {
    use std::fs::File;
    use std::io::{self, Write};
    use std::os::raw::c_int;
    use std::os::unix::io::FromRawFd;

    /// `sighandler_t`: a function pointer, or one of the special values.
    type SigHandler = usize;

    /// `SIG_DFL`, which is 0 on every Unix.
    const SIG_DFL: SigHandler = 0;

    /// `SIG_IGN`, which is 1 on every Unix.
    const SIG_IGN: SigHandler = 1;

    /// `SIGPIPE`, which is 13 on every Unix Rust supports (Linux on every
    /// architecture, the BSDs, Apple, illumos).
    const SIGPIPE: c_int = 13;

    /// `SIG_UNBLOCK`: 1 on Linux and Android except MIPS and SPARC, where it
    /// is 2, as it is on the BSDs, Apple and illumos.
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
    const SIG_UNBLOCK: c_int = 1;
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
    const SIG_UNBLOCK: c_int = 2;

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
            pub fn sigprocmask(how: c_int, set: *const SigSet, oldset: *mut SigSet) -> c_int;
            pub fn raise(sig: c_int) -> c_int;
            pub fn kill(pid: c_int, sig: c_int) -> c_int;
            pub fn getpid() -> c_int;
            pub fn pipe(fds: *mut c_int) -> c_int;
            pub fn close(fd: c_int) -> c_int;
        }
    }

    /// Gives `sig` its default disposition and unblocks it. Failures are
    /// ignored: SIGKILL and SIGSTOP cannot be caught, and an unknown number
    /// is for `raise` itself to refuse.
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

    /// `ignore-then-sleep <signum>`: sets `sig` to SIG_IGN.
    pub fn ignore(_verb: &str, sig: c_int) {
        // SAFETY: `signal` with SIG_IGN installs no code of ours.
        unsafe { c::signal(sig, SIG_IGN) };
    }

    /// `raise <signum>`: `raise(sig)` with the signal reset and unblocked.
    pub fn raise(_verb: &str, sig: c_int) {
        reset_and_unblock(sig);
        // SAFETY: `raise` takes any number and has no memory effects.
        unsafe { c::raise(sig) };
    }

    /// `kill <signum>`: `kill(getpid(), sig)` with the signal reset and
    /// unblocked.
    pub fn kill(_verb: &str, sig: c_int) {
        reset_and_unblock(sig);
        // SAFETY: `getpid` and `kill` take plain numbers and have no memory
        // effects.
        unsafe { c::kill(c::getpid(), sig) };
    }

    /// `sigpipe-ignored` and `sigpipe-default`: writes to a pipe whose read
    /// end is closed, with SIGPIPE as std left it (ignored) or reset to
    /// default, and prints the error kind (or `written`) if still alive.
    pub fn sigpipe(verb: &str, reset: bool) {
        if reset {
            reset_and_unblock(SIGPIPE);
        }
        let mut fds: [c_int; 2] = [-1; 2];
        // SAFETY: `fds` is a live, writable array of two `c_int`, as
        // `pipe(2)` requires.
        if unsafe { c::pipe(fds.as_mut_ptr()) } != 0 {
            crate::cannot(
                verb,
                format_args!("pipe(2) failed: {}", io::Error::last_os_error()),
            );
        }
        // SAFETY: `fds[0]` is the read end just created, owned by nothing
        // else and never used again.
        unsafe { c::close(fds[0]) };
        // SAFETY: `fds[1]` is the write end just created; the `File` becomes
        // its only owner.
        let mut writer = unsafe { File::from_raw_fd(fds[1]) };
        match writer.write_all(b"probe") {
            Ok(()) => println!("written"),
            Err(e) => println!("{:?}", e.kind()),
        }
    }
}

/// The signal and pipe verbs on targets that are not Unix: each one says so
/// and exits with 121.
#[cfg(not(unix))]
mod os {
    /// `raise <signum>`: unsupported here.
    pub fn raise(verb: &str, _sig: i32) {
        crate::cannot(verb, "unsupported on this target");
    }

    /// `ignore-then-sleep <signum>`: unsupported here.
    pub fn ignore(verb: &str, _sig: i32) {
        crate::cannot(verb, "unsupported on this target");
    }

    /// `kill <signum>`: unsupported here.
    pub fn kill(verb: &str, _sig: i32) {
        crate::cannot(verb, "unsupported on this target");
    }

    /// `sigpipe-ignored` and `sigpipe-default`: unsupported here.
    pub fn sigpipe(verb: &str, _reset: bool) {
        crate::cannot(verb, "unsupported on this target");
    }
}
