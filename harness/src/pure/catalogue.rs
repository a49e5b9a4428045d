//! The catalogue of behaviours: each one ends a probe process in exactly one
//! way, and is named so that a table row reads by itself.
//!
//! The catalogue is the contract between the harness and the probes: a
//! behaviour names a probe binary and the arguments that select the ending.
//! Arguments may hold `{SIGNAME}` placeholders, which are resolved with the
//! signal numbering of the *target being checked* (see [`crate::pure::signal`]),
//! so the Rust probes carry no signal table of their own. The C probe resolves
//! signal names with its own `<signal.h>`, which makes it an independent check
//! of the harness's tables.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// One binary of the probe set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeBin {
    /// The multiplexed Rust probe (`probes/src/bin/probe.rs`).
    Probe,
    /// `fn main() {}` falling off the end.
    MainUnit,
    /// `fn main() -> ExitCode`.
    MainExitCode,
    /// `fn main() -> Result<(), E>`.
    MainResult,
    /// `fn main() -> impl std::process::Termination` with a custom type.
    MainTermination,
    /// The multiplexed C probe (`probes/c/cprobe.c`).
    CProbe,
}

impl ProbeBin {
    /// Every probe binary.
    pub const ALL: [ProbeBin; 6] = [
        ProbeBin::Probe,
        ProbeBin::MainUnit,
        ProbeBin::MainExitCode,
        ProbeBin::MainResult,
        ProbeBin::MainTermination,
        ProbeBin::CProbe,
    ];

    /// The binary's file stem, as cargo (or the C build) names it.
    pub fn file_stem(self) -> &'static str {
        match self {
            ProbeBin::Probe => "probe",
            ProbeBin::MainUnit => "main-unit",
            ProbeBin::MainExitCode => "main-exitcode",
            ProbeBin::MainResult => "main-result",
            ProbeBin::MainTermination => "main-termination",
            ProbeBin::CProbe => "cprobe",
        }
    }

    /// The language the binary is written in, which decides its builds.
    pub fn lang(self) -> Lang {
        match self {
            ProbeBin::CProbe => Lang::C,
            _ => Lang::Rust,
        }
    }
}

/// The language a probe is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lang {
    /// Rust: built twice, with `panic=unwind` and `panic=abort`.
    Rust,
    /// C, built once with the system C compiler.
    C,
}

/// How a probe was built. A behaviour runs once per build of its language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Build {
    /// Rust, cargo profile `probe-unwind` (`panic = "unwind"`).
    Unwind,
    /// Rust, cargo profile `probe-abort` (`panic = "abort"`).
    Abort,
    /// C, compiled by the system C compiler.
    C,
}

impl Build {
    /// Every build, in table order.
    pub const ALL: [Build; 3] = [Build::Unwind, Build::Abort, Build::C];

    /// The builds a probe of `lang` gets.
    pub fn for_lang(lang: Lang) -> &'static [Build] {
        match lang {
            Lang::Rust => &[Build::Unwind, Build::Abort],
            Lang::C => &[Build::C],
        }
    }

    /// The name used in profiles, reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Build::Unwind => "unwind",
            Build::Abort => "abort",
            Build::C => "c",
        }
    }

    /// Parses [`Build::name`].
    pub fn from_name(name: &str) -> Option<Build> {
        Build::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The cargo profile that makes this build, if it is a Rust one.
    pub fn cargo_profile(self) -> Option<&'static str> {
        match self {
            Build::Unwind => Some("probe-unwind"),
            Build::Abort => Some("probe-abort"),
            Build::C => None,
        }
    }
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One catalogue entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Behaviour {
    /// The row name, unique in the catalogue (`exit-256`, `raise-SIGABRT`).
    pub name: String,
    /// The binary that carries it out.
    pub probe: ProbeBin,
    /// Its arguments; `{SIGNAME}` is replaced by the target's number.
    pub args: Vec<String>,
    /// One line saying what the probe does.
    pub summary: String,
    /// How long the probe may run before the watchdog ends it, if not the
    /// run's default (hostile probes get a short one).
    pub timeout: Option<Duration>,
    /// Whether a reaper continues the probe when it stops (true but for the
    /// probe that must stay stopped).
    pub continue_stops: bool,
}

impl Behaviour {
    fn new(
        name: impl Into<String>,
        probe: ProbeBin,
        args: &[&str],
        summary: impl Into<String>,
    ) -> Self {
        Behaviour {
            name: name.into(),
            probe,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            summary: summary.into(),
            timeout: None,
            continue_stops: true,
        }
    }

    /// The builds this behaviour runs in.
    pub fn builds(&self) -> &'static [Build] {
        Build::for_lang(self.probe.lang())
    }

    /// The arguments with every `{SIGNAME}` placeholder replaced through
    /// `resolve`, which maps a signal name to the target's number.
    ///
    /// Returns the name of the first signal `resolve` does not know.
    pub fn resolved_args(
        &self,
        mut resolve: impl FnMut(&str) -> Option<i32>,
    ) -> Result<Vec<String>, String> {
        self.args
            .iter()
            .map(
                |arg| match arg.strip_prefix('{').and_then(|a| a.strip_suffix('}')) {
                    Some(name) => resolve(name)
                        .map(|n| n.to_string())
                        .ok_or_else(|| name.to_owned()),
                    None => Ok(arg.clone()),
                },
            )
            .collect()
    }
}

/// What a behaviour needs of its target beyond ending a process: a
/// behaviour runs only on targets whose family provides it (see
/// [`crate::pure::target::Family::provides`]); on the others its cells are "not
/// applicable", listed in the report and never counted as conforming.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// POSIX signals: `raise` and `kill` by number, stops, SIGPIPE, and the
    /// watchdog's SIGTERM and SIGKILL (the hostile probes). Unix only.
    PosixSignals,
    /// The C standard's signals through the C library's `raise` (SIGABRT,
    /// SIGFPE, SIGILL, SIGINT, SIGSEGV, SIGTERM; C11 7.14): Unix and
    /// Windows' C runtime.
    CSignals,
    /// `std::thread::spawn`: not on WASI (wasm32-wasi has no threads).
    Threads,
    /// A watchdog that ends the probe and everything it started once it
    /// overstays (the hostile probes that need no signal of their own:
    /// sleeping, spinning, a grandchild holding stdout): a process group
    /// on Unix, a Job object on a Windows host.
    Watchdog,
    /// An instruction the architecture defines as undefined (`ud2` on x86,
    /// `udf` on Arm, `unimp` on RISC-V): the probe knows no such
    /// instruction for MIPS, s390x or WebAssembly, and there it could only
    /// say so, which is not the behaviour.
    UndefinedInstruction,
}

impl Capability {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Capability::PosixSignals => "posix-signals",
            Capability::CSignals => "c-signals",
            Capability::Threads => "threads",
            Capability::Watchdog => "a watchdog that ends a process tree",
            Capability::UndefinedInstruction => "an undefined instruction the probe knows",
        }
    }
}

/// The signals of the C standard (C11 7.14), which the C library of every
/// hosted implementation has.
pub const C_STANDARD_SIGNALS: [&str; 6] = [
    "SIGABRT", "SIGFPE", "SIGILL", "SIGINT", "SIGSEGV", "SIGTERM",
];

impl Behaviour {
    /// What the behaviour needs of its target, decided by the probe verb
    /// that carries it out.
    pub fn needs(&self) -> Option<Capability> {
        let verb = self.args.first().map(String::as_str);
        match (self.probe, verb) {
            (ProbeBin::CProbe, Some("raise")) => {
                let name = self.args.get(1).map_or("", String::as_str);
                Some(if C_STANDARD_SIGNALS.contains(&name) {
                    Capability::CSignals
                } else {
                    Capability::PosixSignals
                })
            }
            // A SIGABRT handler or SIG_IGN through C's signal() (C11 7.14.1.1).
            (ProbeBin::CProbe, Some("abort-handler-returns" | "abort-ignored")) => {
                Some(Capability::CSignals)
            }
            // A signal mask (sigprocmask), which only POSIX has.
            (ProbeBin::CProbe, Some("abort-blocked" | "raise-blocked")) => {
                Some(Capability::PosixSignals)
            }
            (
                ProbeBin::Probe,
                Some(
                    "raise"
                    | "kill"
                    | "raise-then-exit"
                    | "raise-rt"
                    | "sigpipe-ignored"
                    | "sigpipe-default"
                    | "println-closed-pipe"
                    | "print-closed-pipe"
                    | "sigpipe-at-start"
                    | "sigpipe-to-child"
                    | "sigpipe-blocked-to-child"
                    | "ignore-then-sleep",
                ),
            ) => Some(Capability::PosixSignals),
            (ProbeBin::Probe, Some("sleep-forever" | "spin" | "grandchild-holds-stdout")) => {
                Some(Capability::Watchdog)
            }
            (
                ProbeBin::Probe,
                Some(
                    "panic-thread"
                    | "panic-thread-unwrap"
                    | "exit-from-thread"
                    | "stack-overflow-thread"
                    | "join-payload-drop-panics",
                ),
            ) => Some(Capability::Threads),
            (ProbeBin::Probe, Some("illegal-instruction")) => {
                Some(Capability::UndefinedInstruction)
            }
            _ => None,
        }
    }
}

/// The signals of POSIX.1-2017 `<signal.h>` ("The <signal.h> header shall
/// define the following macros ... SIGABRT ... SIGXFSZ"), in that order.
pub const POSIX_SIGNALS: [&str; 28] = [
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
];

/// Arguments of `process::exit(n)` in the catalogue, with their row suffixes.
///
/// 259 is Windows' `STILL_ACTIVE`: a parent polling `GetExitCodeProcess`
/// cannot tell a process that exited with it from one still running.
pub const EXIT_ARGS: [(&str, i64); 15] = [
    ("0", 0),
    ("1", 1),
    ("2", 2),
    ("126", 126),
    ("127", 127),
    ("128", 128),
    ("255", 255),
    ("256", 256),
    ("257", 257),
    ("259", 259),
    ("511", 511),
    ("minus-1", -1),
    ("minus-255", -255),
    ("i32-max", i32::MAX as i64),
    ("i32-min", i32::MIN as i64),
];

/// Arguments of `ExitCode::from(n)` in the catalogue.
pub const EXIT_CODE_FROM: [u8; 9] = [0, 1, 2, 42, 125, 126, 127, 128, 255];

/// Arguments of the C probe's `return n`, `exit(n)` and `_exit(n)`.
pub const C_EXIT_ARGS: [(&str, i64); 5] = [
    ("0", 0),
    ("1", 1),
    ("255", 255),
    ("256", 256),
    ("minus-1", -1),
];

/// Signals the C probe raises by name through its own `<signal.h>`: some
/// of POSIX's, the rest of C11's (SIGFPE, SIGILL), Linux's own (SIGSTKFLT,
/// which MIPS does not have, and SIGPWR), SIGEMT (MIPS's and the BSDs'; the
/// other Linux numberings have none) and the C library's `SIGRTMIN`, which
/// is a call, not a constant. `SIGRTMAX` is left out for the reason given
/// at [`RT_SIGNALS`].
pub const C_RAISE_SIGNALS: [&str; 15] = [
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGABRT",
    "SIGFPE",
    "SIGKILL",
    "SIGSEGV",
    "SIGPIPE",
    "SIGTERM",
    "SIGUSR1",
    "SIGSTKFLT",
    "SIGPWR",
    "SIGEMT",
    "SIGRTMIN",
];

/// The real-time signals the Rust probe raises relative to the C library's
/// `SIGRTMIN` and `SIGRTMAX` (`raise-rt`), as signal(7) names them, with the
/// probe's argument.
///
/// `SIGRTMAX` itself is not a row: on MIPS glibc's `SIGRTMAX` is 127, and a
/// death by signal 127 leaves the wait status `0x7f`, which the wait macros
/// read as "stopped" (with signal 0) and the decoder as unrecognised; no
/// outcome word states that, so the row could not have an expectation there.
pub const RT_SIGNALS: [(&str, &str); 3] = [
    ("SIGRTMIN", "min"),
    ("SIGRTMIN+1", "min+1"),
    ("SIGRTMAX-1", "max-1"),
];

/// Signals the C probe raises while they are blocked (`raise-blocked`): one
/// whose default action is T and one whose is A (a core).
pub const C_RAISE_BLOCKED_SIGNALS: [&str; 2] = ["SIGUSR1", "SIGQUIT"];

/// The timeout of the hostile probes: long enough for any probe to start on
/// a loaded machine, short enough to keep the matrix quick.
pub const HOSTILE_TIMEOUT: Duration = Duration::from_millis(500);

/// The whole catalogue, in table order.
pub fn catalogue() -> Vec<Behaviour> {
    use ProbeBin::*;
    let mut v = Vec::new();
    let mut add = |name: String, probe, args: &[&str], summary: String| {
        v.push(Behaviour::new(name, probe, args, summary))
    };

    // Return from main: the signature of main is the behaviour.
    add(
        "main-unit".into(),
        MainUnit,
        &[],
        "fn main() {} returns".into(),
    );
    add(
        "exitcode-success".into(),
        MainExitCode,
        &["success"],
        "main returns ExitCode::SUCCESS".into(),
    );
    add(
        "exitcode-failure".into(),
        MainExitCode,
        &["failure"],
        "main returns ExitCode::FAILURE".into(),
    );
    for n in EXIT_CODE_FROM {
        let arg = n.to_string();
        add(
            format!("exitcode-from-{n}"),
            MainExitCode,
            &[&arg],
            format!("main returns ExitCode::from({n})"),
        );
    }
    add(
        "result-ok".into(),
        MainResult,
        &["ok"],
        "main returns Ok(()) from -> Result<(), E>".into(),
    );
    add(
        "result-err".into(),
        MainResult,
        &["err"],
        "main returns Err(e) from -> Result<(), E>".into(),
    );
    add(
        "termination-custom-3".into(),
        MainTermination,
        &["3"],
        "main returns a custom Termination reporting ExitCode::from(3)".into(),
    );

    // process::exit(n).
    for (suffix, n) in EXIT_ARGS {
        let arg = n.to_string();
        add(
            format!("exit-{suffix}"),
            Probe,
            &["exit", &arg],
            format!("std::process::exit({n})"),
        );
    }

    // Panics.
    add(
        "panic-main".into(),
        Probe,
        &["panic-main"],
        "panic!() in main".into(),
    );
    add(
        "panic-thread-main-returns".into(),
        Probe,
        &["panic-thread"],
        "a spawned thread panics; main joins it, ignores the Err and returns".into(),
    );
    add(
        "panic-thread-join-unwrap".into(),
        Probe,
        &["panic-thread-unwrap"],
        "a spawned thread panics; main calls join().unwrap()".into(),
    );
    add(
        "panic-in-drop-while-unwinding".into(),
        Probe,
        &["panic-in-drop"],
        "a Drop panics while main unwinds from a panic".into(),
    );
    add(
        "panic-payload-drop-panics".into(),
        Probe,
        &["panic-payload-drop-panics"],
        "panic_any() in main with a payload whose Drop panics".into(),
    );
    add(
        "join-payload-drop-panics".into(),
        Probe,
        &["join-payload-drop-panics"],
        "a spawned thread panics with a payload whose Drop panics; main joins and drops the Err"
            .into(),
    );
    add(
        "panic-extern-c".into(),
        Probe,
        &["panic-extern-c"],
        "main calls an extern \"C\" fn that panics".into(),
    );

    // Runtime aborts and faults.
    add(
        "abort".into(),
        Probe,
        &["abort"],
        "std::process::abort()".into(),
    );
    add(
        "alloc-failure".into(),
        Probe,
        &["alloc-failure"],
        "std::alloc::handle_alloc_error()".into(),
    );
    add(
        "stack-overflow".into(),
        Probe,
        &["stack-overflow"],
        "unbounded recursion in main".into(),
    );
    add(
        "stack-overflow-thread".into(),
        Probe,
        &["stack-overflow-thread"],
        "unbounded recursion in a spawned thread, which main joins".into(),
    );
    add(
        "null-write".into(),
        Probe,
        &["null-write"],
        "a volatile write through a null pointer".into(),
    );
    add(
        "illegal-instruction".into(),
        Probe,
        &["illegal-instruction"],
        "executes the architecture's permanently undefined instruction".into(),
    );

    // Signals, with the disposition reset to default first.
    for sig in POSIX_SIGNALS {
        let arg = format!("{{{sig}}}");
        add(
            format!("raise-{sig}"),
            Probe,
            &["raise", &arg],
            format!("raise({sig}) with its disposition reset to SIG_DFL"),
        );
    }
    for sig in POSIX_SIGNALS {
        let arg = format!("{{{sig}}}");
        add(
            format!("kill-{sig}"),
            Probe,
            &["kill", &arg],
            format!("kill(getpid(), {sig}) with its disposition reset to SIG_DFL"),
        );
    }
    for (name, which) in RT_SIGNALS {
        add(
            format!("raise-{name}"),
            Probe,
            &["raise-rt", which],
            format!("raise({name}) of the C library, with its disposition reset to SIG_DFL"),
        );
    }
    add(
        "sigpipe-std-ignored".into(),
        Probe,
        &["sigpipe-ignored"],
        "writes to a pipe whose read end is closed, SIGPIPE left as std set it (ignored)".into(),
    );
    add(
        "sigpipe-default".into(),
        Probe,
        &["sigpipe-default"],
        "writes to a pipe whose read end is closed, SIGPIPE reset to SIG_DFL".into(),
    );
    add(
        "println-closed-pipe".into(),
        Probe,
        &["println-closed-pipe"],
        "println!() with stdout a pipe whose read end is closed, SIGPIPE left ignored by std"
            .into(),
    );
    add(
        "print-closed-pipe".into(),
        Probe,
        &["print-closed-pipe"],
        "print!() without a newline, stdout a pipe whose read end is closed; main returns".into(),
    );
    add(
        "sigpipe-at-start".into(),
        Probe,
        &["sigpipe-at-start"],
        "exits with SIGPIPE's state before main: 1 if ignored, +2 if blocked".into(),
    );
    add(
        "sigpipe-to-child".into(),
        Probe,
        &["sigpipe-to-child"],
        "starts sigpipe-at-start through std's Command and exits with its status".into(),
    );
    add(
        "sigpipe-blocked-to-child".into(),
        Probe,
        &["sigpipe-blocked-to-child"],
        "blocks SIGPIPE, then starts sigpipe-at-start through std's Command and exits with its status".into(),
    );

    // Threads, output and destructors.
    add(
        "exit-from-thread-7".into(),
        Probe,
        &["exit-from-thread", "7"],
        "a spawned thread calls process::exit(7) while main waits".into(),
    );
    add(
        "exit-after-partial-print".into(),
        Probe,
        &["exit-after-print"],
        "print!() without a newline, then process::exit(0)".into(),
    );
    add(
        "abort-after-partial-print".into(),
        Probe,
        &["abort-after-print"],
        "print!() without a newline, then process::abort()".into(),
    );
    add(
        "exit-skips-drop".into(),
        Probe,
        &["exit-skips-drop"],
        "process::exit(0) with a live value whose Drop prints".into(),
    );
    add(
        "stop-then-exit-7".into(),
        Probe,
        &["raise-then-exit", "{SIGSTOP}", "7"],
        "raise(SIGSTOP); once continued, process::exit(7)".into(),
    );

    // C probes: the C library's own paths, to tell Rust's runtime apart.
    for (suffix, n) in C_EXIT_ARGS {
        let arg = n.to_string();
        add(
            format!("c-return-{suffix}"),
            CProbe,
            &["return", &arg],
            format!("C main returns {n}"),
        );
        add(
            format!("c-exit-{suffix}"),
            CProbe,
            &["exit", &arg],
            format!("C exit({n})"),
        );
        add(
            format!("c-_exit-{suffix}"),
            CProbe,
            &["_exit", &arg],
            format!("C _exit({n})"),
        );
        add(
            format!("c-_Exit-{suffix}"),
            CProbe,
            &["_Exit", &arg],
            format!("C _Exit({n})"),
        );
    }
    add(
        "c-quick_exit-7".into(),
        CProbe,
        &["quick_exit", "7"],
        "printf() without a newline, an atexit and an at_quick_exit handler, then quick_exit(7)"
            .into(),
    );
    add(
        "c-exit-from-atexit-3-7".into(),
        CProbe,
        &["exit-from-atexit", "3", "7"],
        "printf() without a newline, then exit(3); an atexit handler calls exit(7)".into(),
    );
    add("c-abort".into(), CProbe, &["abort"], "C abort()".into());
    add(
        "c-abort-handler-returns".into(),
        CProbe,
        &["abort-handler-returns"],
        "C abort() with a SIGABRT handler that returns".into(),
    );
    add(
        "c-abort-ignored".into(),
        CProbe,
        &["abort-ignored"],
        "C abort() with SIGABRT set to SIG_IGN".into(),
    );
    add(
        "c-abort-blocked".into(),
        CProbe,
        &["abort-blocked"],
        "C abort() with SIGABRT blocked".into(),
    );
    for sig in C_RAISE_SIGNALS {
        add(
            format!("c-raise-{sig}"),
            CProbe,
            &["raise", sig],
            format!("C raise({sig}) with its disposition reset to SIG_DFL"),
        );
    }
    for sig in C_RAISE_BLOCKED_SIGNALS {
        add(
            format!("c-raise-blocked-{sig}"),
            CProbe,
            &["raise-blocked", sig],
            format!("C raise({sig}) while it is blocked, then sigprocmask unblocks it"),
        );
    }
    add(
        "c-exit-after-partial-printf".into(),
        CProbe,
        &["exit-after-printf"],
        "printf() without a newline, then exit(0)".into(),
    );
    add(
        "c-_exit-after-partial-printf".into(),
        CProbe,
        &["_exit-after-printf"],
        "printf() without a newline, then _exit(0)".into(),
    );
    add(
        "c-_Exit-after-partial-printf".into(),
        CProbe,
        &["_Exit-after-printf"],
        "printf() without a newline, then _Exit(0)".into(),
    );
    add(
        "c-abort-after-partial-printf".into(),
        CProbe,
        &["abort-after-printf"],
        "printf() without a newline, then abort()".into(),
    );
    // Hostile probes: each must be ended by the watchdog within its bound.
    for (name, args, summary, continue_stops) in [
        (
            "hostile-sleeps-forever",
            &["sleep-forever"][..],
            "sleeps forever",
            true,
        ),
        (
            "hostile-ignores-sigterm",
            &["ignore-then-sleep", "{SIGTERM}"][..],
            "ignores SIGTERM, then sleeps forever",
            true,
        ),
        (
            "hostile-spins",
            &["spin"][..],
            "spins at 100% CPU forever",
            true,
        ),
        (
            "hostile-stops-forever",
            &["raise", "{SIGSTOP}"][..],
            "raise(SIGSTOP), and the harness never continues it",
            false,
        ),
        (
            "hostile-grandchild-holds-stdout",
            &["grandchild-holds-stdout"][..],
            "starts a grandchild that sleeps forever with stdout open, then exits 0",
            true,
        ),
    ] {
        let mut b = Behaviour::new(name, Probe, args, summary);
        b.timeout = Some(HOSTILE_TIMEOUT);
        b.continue_stops = continue_stops;
        v.push(b);
    }

    v
}

/// Looks a behaviour up by name.
pub fn find(name: &str) -> Option<Behaviour> {
    catalogue().into_iter().find(|b| b.name == name)
}
