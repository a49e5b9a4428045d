//! The parents that are neither a POSIX shell nor Python: Plan 9's rc,
//! whose `$status` is a string (the wait message), and Java's
//! `Process.waitFor()`. Their words and mappings, the rc table against the
//! C file's and against rc itself, and a few cells end to end.

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::Duration;

use exitmatrix::observers::observe::{Case, Observer};
use exitmatrix::observers::rc;
use exitmatrix::observers::registry;
use exitmatrix::process::spawn::Invocation;
use exitmatrix::pure::catalogue::{Build, ProbeBin};
use exitmatrix::pure::decode::{StateChange, WaitConventions};
use exitmatrix::pure::observers::{self, ObserverKind};
use exitmatrix::pure::plan9;
use exitmatrix::pure::profile::Profile;
use exitmatrix::pure::signal::{Signal, SignalTable, LINUX_GENERIC, LINUX_MIPS};
use exitmatrix::pure::view::{self, Effect, Formula, Mapping, Reported};
use exitmatrix::toolchain::probes::HOST;
use rstest::rstest;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{observer_path, probes, root};

const TABLE: &SignalTable = &LINUX_GENERIC;

fn text(value: &str) -> Reported {
    Reported::Text {
        value: value.to_owned(),
    }
}

fn code(value: i64) -> Reported {
    Reported::Code { value }
}

// ---------------------------------------------------------------- names and kinds

#[test]
fn rc_is_a_shell_and_java_a_jvm_in_their_places() {
    assert_eq!(observers::kind_of("rc"), Some(ObserverKind::Shell));
    assert_eq!(observers::kind_of("java"), Some(ObserverKind::Jvm));
    assert_eq!(ObserverKind::Jvm.name(), "jvm");
    assert!(observers::is_view("rc") && observers::is_view("java"));
    let at = |name| observers::NATIVE.iter().position(|&n| n == name).unwrap();
    assert_eq!(at("rc"), at("posh") + 1, "rc follows the POSIX shells");
    assert_eq!(
        at("java"),
        observers::NATIVE.len() - 1 - observers::RUNTIMES.len(),
        "java comes before the other runtimes"
    );
    // The registry builds them, and says the same kinds in reports.
    for o in registry::all(&observer_path()) {
        assert_eq!(
            Some(o.info().kind),
            observers::kind_of(o.name()),
            "{}",
            o.name()
        );
    }
}

// ---------------------------------------------------------------- Plan 9's table

/// The table is lib9/await.c's `tab[]`: every name but the two the C file
/// guards with `#ifdef` (SIGEMT, SIGINFO; neither exists on x86_64 Linux)
/// is one of Linux's, and a few notes as the file spells them.
#[test]
fn the_plan9_table_is_the_c_files() {
    let names: Vec<&str> = plan9::NOTES.iter().map(|(n, _)| *n).collect();
    for (i, name) in names.iter().enumerate() {
        assert!(!names[..i].contains(name), "{name} twice");
        let guarded = matches!(*name, "SIGEMT" | "SIGINFO");
        assert_eq!(
            TABLE.number(name).is_none(),
            guarded,
            "{name} and linux-generic"
        );
    }
    let note = |name| plan9::note(TABLE.number(name).unwrap(), TABLE);
    assert_eq!(note("SIGTERM"), "kill");
    assert_eq!(note("SIGKILL"), "sys: kill");
    assert_eq!(note("SIGINT"), "interrupt");
    assert_eq!(note("SIGPIPE"), "sys: write on closed pipe");
    // SIGPOLL is the C file's SIGIO, an alias in the signal table.
    assert_eq!(note("SIGPOLL"), "sys: i/o possible on fd");
    // A signal the table lacks: _p9sigstr's "sys: signal %d".
    assert_eq!(note("SIGSYS"), "sys: signal 31");
    assert_eq!(plan9::note(Signal(34), TABLE), "sys: signal 34");
    // Names, not numbers: 7 is SIGBUS here and SIGEMT on MIPS.
    assert_eq!(plan9::note(Signal(7), TABLE), "sys: bus error");
    assert_eq!(
        plan9::note(Signal(7), &LINUX_MIPS),
        "sys: emulate instruction executed"
    );
    assert_eq!(plan9::exit_message(0), "");
    assert_eq!(plan9::exit_message(3), "3");
    assert_eq!(
        plan9::signal_message(Signal(6), true, TABLE),
        "signal: sys: abort (core dumped)"
    );
}

// ---------------------------------------------------------------- words and mappings

#[rstest]
#[case::plan9("plan9(N)")]
#[case::spaced(" plan9( N ) ")]
fn the_plan9_formula_parses(#[case] words: &str) {
    let f = Formula::parse(words).unwrap();
    assert_eq!(f, Formula::Plan9);
    assert_eq!(f.to_string(), "plan9(N)");
    // Its number is N itself; the string is written from it.
    assert_eq!(f.apply(15), 15);
    assert_eq!(f.exit(0), text(""));
    assert_eq!(f.signal(Signal(15), false, TABLE), text("signal: kill"));
    assert!(Formula::parse("plan9(128+N)").is_err());
}

#[rstest]
#[case::null("''", vec![text("")])]
#[case::signal("'signal: kill'", vec![text("signal: kill")])]
#[case::number_as_text("'3'", vec![text("3")])]
#[case::quote_and_comma("'it''s, here', 3", vec![text("it's, here"), code(3)])]
#[case::core("'signal: sys: abort (core dumped)'", vec![text("signal: sys: abort (core dumped)")])]
fn text_words_round_trip(#[case] words: &str, #[case] values: Vec<Reported>) {
    assert!(view::is_reported_words(words), "{words}");
    assert_eq!(view::parse(words, TABLE).unwrap(), values);
    assert_eq!(view::display(&values, TABLE), words);
}

#[rstest]
#[case::unterminated("'signal: kill")]
#[case::lone_quote_inside("'a' 'b'")]
#[case::trailing_words("'a'b")]
fn bad_text_words_are_refused(#[case] words: &str) {
    assert!(view::parse(words, TABLE).is_err(), "{words}");
}

fn rc_mapping() -> Mapping {
    Mapping {
        exit: Formula::Plan9,
        signal: Formula::Plan9,
        stopped: Effect::Unseen,
        continued: Effect::Unseen,
    }
}

/// Unlike `$?`, rc's string keeps the core flag.
#[test]
fn the_rc_mapping_writes_wait_messages() {
    let m = rc_mapping();
    let apply = |states: &[StateChange]| m.apply_in(states, TABLE);
    assert_eq!(apply(&[StateChange::Exited { code: 0 }]), [text("")]);
    assert_eq!(apply(&[StateChange::Exited { code: 255 }]), [text("255")]);
    let segv = |core_dumped| StateChange::Signaled {
        signal: Signal(11),
        core_dumped,
    };
    assert_eq!(
        apply(&[segv(false)]),
        [text("signal: sys: segmentation violation")]
    );
    assert_eq!(
        apply(&[segv(true)]),
        [text("signal: sys: segmentation violation (core dumped)")]
    );
    let stop = [
        StateChange::Stopped { signal: Signal(19) },
        StateChange::Continued,
        StateChange::Exited { code: 7 },
    ];
    assert_eq!(apply(&stop), [text("7")]);
    assert_eq!(
        m.to_string(),
        "exit N → plan9(N), signal N → plan9(N), stopped → unseen, continued → unseen"
    );
}

fn native() -> Profile {
    Profile::load(&root().join("profiles"), HOST, &observers::NATIVE).unwrap()
}

/// The columns' expectations come from the waitpid ones through the
/// mappings in observers.toml.
#[rstest]
#[case::exit_0("exit-0", "''", "0")]
#[case::exit_2("exit-2", "'2'", "2")]
#[case::exit_256("exit-256", "''", "0")]
#[case::exit_minus_1("exit-minus-1", "'255'", "255")]
#[case::sigterm("raise-SIGTERM", "'signal: kill'", "143")]
#[case::sigkill("raise-SIGKILL", "'signal: sys: kill'", "137")]
#[case::abort("abort", "'signal: sys: abort (core dumped)'", "134")]
#[case::sigsegv(
    "raise-SIGSEGV",
    "'signal: sys: segmentation violation (core dumped)'",
    "139"
)]
#[case::sigsys("raise-SIGSYS", "'signal: sys: signal 31 (core dumped)'", "159")]
#[case::stop("stop-then-exit-7", "'7'", "7")]
fn rc_and_java_derive_from_waitpid(#[case] behaviour: &str, #[case] rc: &str, #[case] java: &str) {
    let p = native();
    for (observer, value) in [("rc", rc), ("java", java)] {
        let e = p
            .expectation(behaviour, Build::Unwind, observer)
            .unwrap_or_else(|| panic!("{behaviour} [{observer}]: no expectation"));
        assert_eq!(e.outcome, [value], "{behaviour} [{observer}]");
        let from = e.derived_from.as_ref().expect("a derived expectation");
        assert_eq!(from.observer, "waitpid");
        assert_eq!(e.profile, "observers");
        assert!(e.cite.contains(&p.view(observer).unwrap().cite));
    }
    assert!(p.view("rc").unwrap().cite.contains("9base"));
    assert!(p
        .view("java")
        .unwrap()
        .cite
        .contains("ProcessHandleImpl_unix.c"));
}

// ---------------------------------------------------------------- rc's own words

#[rstest]
#[case::null("probestatus=''\n", "")]
#[case::number("probestatus=3\n", "3")]
#[case::signal("probestatus='signal: kill'\n", "signal: kill")]
#[case::quote("probestatus='it''s'\n", "it's")]
fn whatis_output_is_read(#[case] written: &str, #[case] status: &str) {
    assert_eq!(rc::parse_status(written).unwrap(), status);
}

#[rstest]
#[case::list("probestatus=(a b)\n")]
#[case::other_name("status=3\n")]
#[case::unterminated("probestatus='signal\n")]
#[case::nothing("")]
fn bad_whatis_output_is_refused(#[case] written: &str) {
    assert!(rc::parse_status(written).is_err(), "{written:?}");
}

#[rstest]
#[case::debian("/usr/lib/plan9/bin/rc", true)]
#[case::plan9port("/usr/local/plan9/bin/rc", true)]
#[case::byron_rc("/usr/bin/rc", false)]
#[case::other_program("/usr/lib/plan9/bin/sh", false)]
fn only_plan9s_rc_is_rc(#[case] path: &str, #[case] plan9: bool) {
    assert_eq!(rc::is_plan9_rc(Path::new(path)), plan9);
}

/// An `rc` that is not Plan 9's, or a `java` without `javac`, is not
/// installed; so is either on an empty search path.
#[test]
#[cfg(unix)]
fn look_alikes_and_halves_are_not_installed() {
    let dir = TempDir::new().unwrap();
    symlink("/bin/sh", dir.path().join("rc")).unwrap();
    symlink("/bin/sh", dir.path().join("java")).unwrap();
    let path = dir.path().to_str().unwrap();
    let missing = |name: &str, path: &str| {
        registry::by_name_in(name, path)
            .unwrap()
            .available()
            .unwrap_err()
    };
    let e = missing("rc", path);
    assert!(
        e.starts_with("not installed") && e.contains("not Plan 9's rc"),
        "{e}"
    );
    assert!(e.contains("9base"), "{e}");
    let e = missing("java", path);
    assert!(e.contains("no executable `javac`"), "{e}");
    let empty = TempDir::new().unwrap();
    for name in ["rc", "java"] {
        let e = missing(name, empty.path().to_str().unwrap());
        assert!(e.contains(&format!("no executable `{name}`")), "{e}");
    }
}

// ---------------------------------------------------------------- end to end

fn probe() -> PathBuf {
    probes().path(Build::Unwind, ProbeBin::Probe).unwrap()
}

fn invocation(program: &Path, args: &[&str]) -> Invocation {
    Invocation {
        runner: Vec::new(),
        program: program.to_owned(),
        args: args.iter().map(|&a| a.to_owned()).collect(),
    }
}

fn observe(observer: &dyn Observer, invocation: &Invocation, core: bool) -> Vec<Reported> {
    let case = Case {
        invocation,
        core,
        wait: &WaitConventions::LINUX,
        timeout: Duration::from_secs(30),
        grace: Duration::from_secs(1),
        continue_stops: true,
        interrupt: None,
    };
    let seen = observer
        .observe(&case)
        .unwrap_or_else(|e| panic!("{}: {e}", invocation.display()));
    seen.reported.expect("a view reports values")
}

/// Whether a signal's default action ends the process (signal(7)): the
/// others cannot make a probe die, so rc never shows their notes.
fn ends_a_process(name: &str) -> bool {
    !matches!(
        name,
        "SIGCHLD"
            | "SIGCONT"
            | "SIGSTOP"
            | "SIGTSTP"
            | "SIGTTIN"
            | "SIGTTOU"
            | "SIGURG"
            | "SIGWINCH"
    )
}

/// rc itself says, for every signal that can end a probe, what the table
/// says: the C file's note, or `sys: signal N` for one it lacks (SIGSYS,
/// SIGSTKFLT, SIGPWR, a real-time signal); ` (core dumped)` only after a
/// core dump.
#[test]
#[cfg_attr(
    not(have_observer_rc),
    ignore = "rc is not installed: cargo xtask install observers"
)]
fn rc_says_the_tables_note_for_every_signal_that_ends_a_probe() {
    let rc = registry::by_name_in("rc", &observer_path()).unwrap();
    let probe = probe();
    let mut checked = 0;
    for (name, signal) in TABLE.canonical().filter(|(n, _)| ends_a_process(n)) {
        let number = signal.0.to_string();
        let seen = observe(&*rc, &invocation(&probe, &["raise", &number]), false);
        assert_eq!(
            seen,
            [text(&plan9::signal_message(signal, false, TABLE))],
            "{name}"
        );
        checked += 1;
    }
    assert!(checked >= 23, "{checked}");
    let rt = observe(&*rc, &invocation(&probe, &["raise-rt", "min"]), false);
    assert_eq!(rt, [text("signal: sys: signal 34")]);
    let core = observe(&*rc, &invocation(&probe, &["abort"]), true);
    assert_eq!(core, [text("signal: sys: abort (core dumped)")]);
    for (arg, status) in [("0", ""), ("3", "3"), ("255", "255"), ("256", "")] {
        let seen = observe(&*rc, &invocation(&probe, &["exit", arg]), false);
        assert_eq!(seen, [text(status)], "exit {arg}");
    }
}

/// 128+N is what every shell gives too, and as with them an exit with
/// code 143 and a death by SIGTERM are the same value; OpenJDK's comment
/// says 0x80 + N "allows callers to distinguish between process exit and
/// process death by signal", which holds only for exits below 129.
///
/// The probe starts with signals 32 and 33 ignored: OpenJDK starts it
/// through posix_spawn (`jspawnhelper`), and glibc's posix_spawn sets its
/// two internal signals, which it catches, to SIG_IGN in the child, where
/// POSIX says a caught signal is reset to SIG_DFL. No catalogue probe uses
/// them (glibc's `raise` refuses them).
#[test]
#[cfg(unix)]
#[cfg_attr(
    not(have_observer_java),
    ignore = "java is not installed: cargo xtask install observers"
)]
fn java_reports_128_plus_n_and_cannot_tell_it_from_an_exit() {
    let java = registry::by_name_in("java", &observer_path()).unwrap();
    let probe = probe();
    let sigterm = observe(&*java, &invocation(&probe, &["raise", "15"]), false);
    let exit = observe(&*java, &invocation(&probe, &["exit", "143"]), false);
    assert_eq!(sigterm, [code(143)]);
    assert_eq!(exit, sigterm);
    assert_eq!(
        observe(&*java, &invocation(&probe, &["exit", "256"]), false),
        [code(0)]
    );
    // What the probe inherits: no environment, and 32 and 33 ignored.
    let sh = invocation(
        Path::new("/bin/sh"),
        &[
            "-c",
            "tr '\\0' ' ' < /proc/$$/environ; grep '^SigIgn' /proc/$$/status",
        ],
    );
    let case = linux_case(&sh);
    let seen = java.observe(&case).unwrap();
    assert_eq!(seen.reported, Some(vec![code(0)]));
    assert_eq!(
        String::from_utf8_lossy(&seen.leftovers.stdout),
        "SigIgn:\t0000000180000000\n"
    );
}

/// A case of `invocation` with Linux's wait layout, no core dump and
/// stops continued.
#[cfg(unix)]
fn linux_case(invocation: &Invocation) -> Case<'_> {
    Case {
        invocation,
        core: false,
        wait: &WaitConventions::LINUX,
        timeout: Duration::from_secs(30),
        grace: Duration::from_secs(1),
        continue_stops: true,
        interrupt: None,
    }
}

/// The cells' JVMs run on a class-data archive made for the run (`jar`
/// comes with `javac` in Debian's openjdk-17-jdk-headless), and the probe
/// under it sees nothing of it: only descriptors 0, 1 and 2, since
/// OpenJDK's child set-up closes every other one before the `exec`
/// (`childproc.c`, `closeDescriptors`), and no line of the JVM's in its
/// output.
#[test]
#[cfg(unix)]
#[cfg_attr(
    not(have_observer_java),
    ignore = "java is not installed: cargo xtask install observers"
)]
fn java_runs_on_its_archive_and_the_probe_sees_none_of_it() {
    let java = exitmatrix::observers::java::Java::new(&observer_path());
    assert_eq!(java.uses_archive(), Ok(true));
    let sh = invocation(Path::new("/bin/sh"), &["-c", "ls /proc/self/fd; exit 3"]);
    let case = linux_case(&sh);
    let seen = java.observe(&case).unwrap();
    assert!(
        seen.command.contains("-XX:SharedArchiveFile="),
        "{}",
        seen.command
    );
    assert_eq!(seen.reported, Some(vec![code(3)]));
    // `ls` itself opens /proc/self/fd as descriptor 3.
    assert_eq!(
        String::from_utf8_lossy(&seen.leftovers.stdout),
        "0\n1\n2\n3\n"
    );
    assert_eq!(String::from_utf8_lossy(&seen.leftovers.stderr), "");
}

/// A few cells of the matrix under both columns, against the profile.
#[test]
#[cfg_attr(
    not(all(have_observer_rc, have_observer_java)),
    ignore = "rc or java is not installed: cargo xtask install observers"
)]
fn a_few_cells_conform_end_to_end() {
    let out = TempDir::new().unwrap();
    let run = crate::common::matrix(
        out.path(),
        &[
            "-b",
            "exit-256",
            "-b",
            "raise-SIGTERM",
            "-b",
            "c-raise-SIGSEGV",
            "-b",
            "stop-then-exit-7",
            "--observer",
            "rc",
            "--observer",
            "java",
            "--format",
            "markdown",
            "-j",
            "2",
            "--require",
            "all",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "| c-raise-SIGSEGV | 'signal: sys: segmentation violation (core dumped)' | 139 |"
        ),
        "{}",
        run.stdout
    );
    let report: Value = serde_json::from_str(
        &fs::read_to_string(out.path().join(format!("report-{HOST}.json"))).unwrap(),
    )
    .unwrap();
    let cells = report["cells"].as_array().unwrap();
    let cell = |behaviour: &str, build: &str, observer: &str| {
        cells
            .iter()
            .find(|c| {
                c["behaviour"] == behaviour && c["build"] == build && c["observer"] == observer
            })
            .unwrap_or_else(|| panic!("no cell {behaviour} {build} {observer}"))
    };
    let rc = cell("raise-SIGTERM", "unwind", "rc");
    assert_eq!(rc["observed_text"], "'signal: kill'");
    assert_eq!(
        rc["reported"],
        serde_json::json!([{"kind": "text", "value": "signal: kill"}])
    );
    assert_eq!(cell("exit-256", "abort", "rc")["observed_text"], "''");
    assert_eq!(
        cell("raise-SIGTERM", "abort", "java")["observed_text"],
        "143"
    );
    let stop = cell("stop-then-exit-7", "unwind", "java");
    assert_eq!(stop["observed_text"], "7");
    assert!(
        stop["notes"][0]
            .as_str()
            .unwrap()
            .contains("continued a stopped process"),
        "{stop}"
    );
    let kinds: Vec<(&str, &str)> = report["observers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap(), o["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("rc", "shell"), ("java", "jvm")]);
}
