//! The native macOS and Windows profiles, which the project cannot run:
//! each one loads, covers every cell its family runs, resolves its signal
//! names with its own numbering, and says that it is unverified, in the
//! profile and in the report of a run against it.

use std::fs;

use exitmatrix::observers::observe;
use exitmatrix::pure::catalogue::{self, Build};
use exitmatrix::pure::decode::{StateChange, WaitConventions};
use exitmatrix::pure::observers::AGENT;
use exitmatrix::pure::profile::{Profile, ProfileError};
use exitmatrix::pure::signal::{Signal, DARWIN, WINDOWS_CRT};
use exitmatrix::pure::target::Family;
use exitmatrix::toolchain::probes::HOST;
use rstest::rstest;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{matrix, root};

/// A native profile and what loading it must give. Its family decides the
/// columns of a run and which behaviours apply; every target here has all
/// three builds (unwind, abort, c).
struct Native {
    name: &'static str,
    chain: &'static [&'static str],
    family: Family,
    signals: &'static str,
    wait: WaitConventions,
}

const NATIVE: [Native; 4] = [
    Native {
        name: "x86_64-apple-darwin",
        chain: &["x86_64-apple-darwin", "macos", "posix", "observers"],
        family: Family::Unix,
        signals: "darwin",
        wait: WaitConventions::MACOS,
    },
    Native {
        name: "aarch64-apple-darwin",
        chain: &["aarch64-apple-darwin", "macos", "posix", "observers"],
        family: Family::Unix,
        signals: "darwin",
        wait: WaitConventions::MACOS,
    },
    Native {
        name: "x86_64-pc-windows-msvc",
        chain: &["x86_64-pc-windows-msvc", "windows"],
        family: Family::Windows,
        signals: "windows-crt",
        wait: WaitConventions::NONE,
    },
    // The family profile of the Darwin targets, loaded with their numbering.
    Native {
        name: "macos",
        chain: &["macos", "posix", "observers"],
        family: Family::Unix,
        signals: "darwin",
        wait: WaitConventions::MACOS,
    },
];

fn load(native: &Native) -> Profile {
    let names = exitmatrix::pure::observers::all_names();
    let defaults = (&DARWIN, WaitConventions::MACOS);
    let dir = root().join("profiles");
    // `macos` leaves the numbering to its targets, as `linux` does.
    let result = if native.name == "macos" {
        Profile::load_with(&dir, native.name, &names, Some(defaults))
    } else {
        Profile::load(&dir, native.name, &names)
    };
    result.unwrap_or_else(|e| panic!("{}: {e}", native.name))
}

fn native(name: &str) -> Profile {
    load(NATIVE.iter().find(|n| n.name == name).unwrap())
}

/// The observers of a native Unix run: the reapers and the parents (shells,
/// Python). A Windows run has the one column [`AGENT`] instead.
fn columns(family: Family) -> Vec<Box<dyn observe::Observer>> {
    match family {
        Family::Unix => exitmatrix::observers::registry::all(&crate::common::observer_path()),
        Family::Windows | Family::Wasi => Vec::new(),
    }
}

#[test]
fn each_native_profile_loads_with_its_chain_and_conventions() {
    for n in &NATIVE {
        let p = load(n);
        assert_eq!(p.chain, n.chain, "{}", n.name);
        assert_eq!(p.signals.name, n.signals, "{}", n.name);
        assert_eq!(p.wait, n.wait, "{}", n.name);
    }
    // Without the targets' numbering, the family profile says what it lacks.
    let err = Profile::load(
        &root().join("profiles"),
        "macos",
        &exitmatrix::pure::observers::all_names(),
    )
    .unwrap_err();
    assert!(
        matches!(err, ProfileError::Missing { key: "signals", .. }),
        "{err}"
    );
}

/// Every behaviour × build × column a native run of the family would have
/// an expectation for has one, and it is marked unverified: a behaviour the
/// family cannot carry out (`Behaviour::needs`, `Family::provides`) is not
/// run and needs none.
#[test]
fn every_applicable_cell_has_an_unverified_expectation() {
    let mut missing = Vec::new();
    let mut unmarked = Vec::new();
    for n in &NATIVE {
        let p = load(n);
        let observers = columns(n.family);
        let mut check = |behaviour: &str, build: Option<Build>, observer: &str| {
            let e = match build {
                Some(build) => p.expectation(behaviour, build, observer),
                None => p.own_case_expectation(behaviour, observer),
            };
            let cell = format!(
                "{} {behaviour} [{} · {observer}]",
                n.name,
                build.map_or("own case", Build::name)
            );
            match e {
                None => missing.push(cell),
                Some(e) if e.unverified.is_none() || e.cite.len() < 20 => unmarked.push(cell),
                Some(_) => {}
            }
        };
        for b in catalogue::catalogue() {
            if b.needs().is_some_and(|need| !n.family.provides(need)) {
                continue;
            }
            for &build in b.builds() {
                match n.family {
                    Family::Unix => {
                        for o in observers.iter().filter(|o| o.runs(&b)) {
                            check(&b.name, Some(build), o.name());
                        }
                    }
                    Family::Windows | Family::Wasi => check(&b.name, Some(build), AGENT),
                }
            }
        }
        for o in &observers {
            for case in o.own_cases() {
                check(case.name, None, o.name());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "cells without expectation:\n{}",
        missing.join("\n")
    );
    assert!(
        unmarked.is_empty(),
        "expectations not marked unverified, or without a citation:\n{}",
        unmarked.join("\n")
    );
}

/// The note is the most derived profile's, and the profiles the project
/// does run are not marked.
#[test]
fn the_unverified_note_names_its_profile() {
    for n in NATIVE.iter().filter(|n| n.name != "macos") {
        let u = load(n).unverified.unwrap_or_else(|| panic!("{}", n.name));
        assert_eq!(u.profile, n.name);
        assert_eq!(
            u.note,
            "written from documentation; not run by this project yet"
        );
        assert!(u.to_string().starts_with("unverified here ("), "{u}");
    }
    let host = Profile::load(
        &root().join("profiles"),
        HOST,
        &exitmatrix::pure::observers::NATIVE,
    )
    .unwrap();
    assert_eq!(host.unverified, None);
    assert!(host
        .expectation("exit-256", Build::Unwind, "waitid")
        .unwrap()
        .unverified
        .is_none());
}

/// A run against an unverified profile says so in its JSON report: every
/// cell's expectation carries the note. (Here the Linux probes are checked
/// against macOS's expectation for waitid, which they do not meet: macOS
/// keeps all 32 bits of exit(256), Linux 8.)
#[test]
fn a_run_against_an_unverified_profile_says_so_in_the_report() {
    let out = TempDir::new().unwrap();
    let run = matrix(
        out.path(),
        &[
            "--profile",
            "x86_64-apple-darwin",
            "-b",
            "exit-256",
            "--observer",
            "waitid",
            "--build",
            "unwind",
        ],
    );
    let path = out.path().join(format!("report-{HOST}.json"));
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}\n{}", path.display(), run.stdout, run.stderr));
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        report["profile_chain"][0], "x86_64-apple-darwin",
        "{}",
        run.stdout
    );
    let cells = report["cells"].as_array().unwrap();
    assert!(!cells.is_empty(), "{}", run.stdout);
    for cell in cells {
        let expected = &cell["expected"];
        assert_eq!(expected["outcome"][0], "exit 256", "{cell}");
        assert_eq!(
            expected["unverified"]["profile"], "x86_64-apple-darwin",
            "{cell}"
        );
        assert_eq!(
            expected["unverified"]["note"],
            "written from documentation; not run by this project yet",
            "{cell}"
        );
    }
}

#[test]
fn an_empty_unverified_note_is_an_error_with_its_line() {
    let dir = TempDir::new().unwrap();
    fs::write(
        dir.path().join("t.toml"),
        "signals = \"darwin\"\nwait = \"macos\"\nunverified = \" \"\n",
    )
    .unwrap();
    let err = Profile::load(dir.path(), "t", &exitmatrix::pure::observers::NATIVE).unwrap_err();
    let ProfileError::Invalid { location, message } = &err else {
        panic!("expected a located error, got {err}");
    };
    assert_eq!(location.line, 3, "{err}");
    assert!(message.contains("`unverified` says why"), "{err}");
}

// ---------------------------------------------------------------------------
// Darwin's numbering in the rules.
// ---------------------------------------------------------------------------

/// The words of the rules resolve with Darwin's numbers, not the host's:
/// `stopped SIGSTOP` is 17 on macOS (19 on x86_64 Linux).
#[rstest]
#[case::raise_sigstop("raise-SIGSTOP", "waitpid", StateChange::Stopped { signal: Signal(17) })]
#[case::stop_then_exit("stop-then-exit-7", "waitid", StateChange::Stopped { signal: Signal(17) })]
#[case::abort("abort", "waitpid", StateChange::Signaled { signal: Signal(6), core_dumped: true })]
#[case::raise_sigbus("raise-SIGBUS", "waitpid", StateChange::Signaled { signal: Signal(10), core_dumped: true })]
#[case::raise_sigusr1("raise-SIGUSR1", "waitid", StateChange::Signaled { signal: Signal(30), core_dumped: false })]
#[case::raise_sigsys("raise-SIGSYS", "waitpid", StateChange::Signaled { signal: Signal(12), core_dumped: true })]
#[case::sigxcpu_without_core("kill-SIGXCPU", "waitpid", StateChange::Signaled { signal: Signal(24), core_dumped: false })]
#[case::sigpoll_is_sigemt("raise-SIGPOLL", "waitpid", StateChange::Signaled { signal: Signal(7), core_dumped: true })]
#[case::null_write("null-write", "std", StateChange::Signaled { signal: Signal(11), core_dumped: true })]
fn darwin_rules_use_darwin_numbers(
    #[case] behaviour: &str,
    #[case] observer: &str,
    #[case] first: StateChange,
) {
    for name in ["x86_64-apple-darwin", "aarch64-apple-darwin"] {
        let p = native(name);
        let e = p
            .expectation(behaviour, Build::Unwind, observer)
            .unwrap_or_else(|| panic!("{name}: {behaviour}"));
        assert_eq!(e.any_of[0][0], first, "{name}: {behaviour} {:?}", e.outcome);
    }
}

/// The probes are given Darwin's numbers, and a view's value is computed
/// with them: bash reports a death by SIGUSR1 (30) as 158.
#[test]
fn probes_and_views_get_darwin_numbers() {
    let number = |name: &str| DARWIN.number(name).map(|s| s.number());
    let raise = catalogue::find("raise-SIGSTOP").unwrap();
    assert_eq!(raise.resolved_args(number).unwrap(), ["raise", "17"]);
    let sigpoll = catalogue::find("kill-SIGPOLL").unwrap();
    assert_eq!(sigpoll.resolved_args(number).unwrap(), ["kill", "7"]);
    let p = native("aarch64-apple-darwin");
    let bash = p
        .expectation("raise-SIGUSR1", Build::Abort, "bash")
        .unwrap();
    assert_eq!(bash.outcome, ["158"]);
    assert!(bash.unverified.is_some());
    let sigpoll = p
        .expectation("raise-SIGPOLL", Build::Abort, "waitpid")
        .unwrap();
    assert_eq!(sigpoll.outcome, ["signal SIGEMT core"]);
}

// ---------------------------------------------------------------------------
// Where the native profiles depart from their families.
// ---------------------------------------------------------------------------

/// macOS keeps all 32 bits of exit() for waitid, as POSIX asks and Linux
/// does not (the native Linux profile expects 0 for exit(256)); waitpid and
/// std see 8.
#[rstest]
#[case::exit_256("exit-256", 256)]
#[case::c_exit_256("c-exit-256", 256)]
#[case::minus_1("exit-minus-1", -1)]
#[case::i32_min("exit-i32-min", i64::from(i32::MIN))]
fn macos_waitid_sees_the_full_exit_value(#[case] behaviour: &str, #[case] full: i64) {
    let build = catalogue::find(behaviour).unwrap().builds()[0];
    let p = native("x86_64-apple-darwin");
    let waitid = p.expectation(behaviour, build, "waitid").unwrap();
    assert_eq!(waitid.any_of, [[StateChange::Exited { code: full }]]);
    assert_eq!(waitid.profile, "macos");
    for reaper in ["waitpid", "std"] {
        let e = p.expectation(behaviour, build, reaper).unwrap();
        assert_eq!(e.any_of, [[StateChange::Exited { code: full & 0xff }]]);
    }
    let host = Profile::load(
        &root().join("profiles"),
        HOST,
        &exitmatrix::pure::observers::NATIVE,
    )
    .unwrap();
    let linux = host.expectation(behaviour, build, "waitid").unwrap();
    assert_eq!(linux.any_of, [[StateChange::Exited { code: full & 0xff }]]);
}

/// The UCRT's abort() fails fast where mingw's msvcrt exits 3; raise()
/// with the default action exits 3 in both.
#[rstest]
#[case::c_abort("c-abort", 0xC000_0409, "x86_64-pc-windows-msvc", 3)]
#[case::c_raise_sigabrt("c-raise-SIGABRT", 3, "x86_64-pc-windows-msvc", 3)]
#[case::c_raise_sigsegv("c-raise-SIGSEGV", 3, "x86_64-pc-windows-msvc", 3)]
#[case::rust_abort("abort", 0xC000_0409, "windows", 0xC000_0409)]
fn msvc_departs_from_the_windows_family_where_the_ucrt_does(
    #[case] behaviour: &str,
    #[case] msvc: i64,
    #[case] written_in: &str,
    #[case] family: i64,
) {
    let build = catalogue::find(behaviour).unwrap().builds()[0];
    let p = native("x86_64-pc-windows-msvc");
    let e = p.expectation(behaviour, build, AGENT).unwrap();
    assert_eq!(e.any_of, [[StateChange::Exited { code: msvc }]]);
    assert_eq!(e.profile, written_in);
    assert!(e.unverified.is_some());
    let names = exitmatrix::pure::observers::all_names();
    let gnu = Profile::load(&root().join("profiles"), "x86_64-pc-windows-gnu", &names).unwrap();
    let e = gnu.expectation(behaviour, build, AGENT).unwrap();
    assert_eq!(e.any_of, [[StateChange::Exited { code: family }]]);
    assert_eq!(p.signals.name, WINDOWS_CRT.name);
}

/// A run against an unverified profile says so in the summary line and in
/// the JSON report (here the native probes checked against the macOS
/// profile, which only tests the marking, not macOS).
#[test]
fn a_run_against_an_unverified_profile_says_so() {
    let out = TempDir::new().unwrap();
    let run = matrix(
        out.path(),
        &[
            "--profile",
            "x86_64-apple-darwin",
            "-b",
            "exit-0",
            "--observer",
            "waitpid",
            "--format",
            "summary",
        ],
    );
    assert!(
        run.stdout
            .contains("the profile is unverified here (x86_64-apple-darwin: "),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let path = out.path().join(format!("report-{}.json", HOST));
    let report: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(report["unverified"]["profile"], "x86_64-apple-darwin");
    assert!(report["unverified"]["note"].as_str().unwrap().len() > 10);
}
