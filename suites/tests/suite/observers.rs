//! The shell and Python observers: the pure mapping, derived expectations,
//! "not installed", the fixtures, and the README's conformance table, which
//! a fresh run of the whole matrix must reproduce.

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::symlink;
use std::path::PathBuf;

use clap::Parser;
use exitmatrix::cli::{self, ExitCode, MatrixArgs};
use exitmatrix::observers::shell::SHELLS;
use exitmatrix::process::spawn::{self, Invocation};
use exitmatrix::pure::catalogue::Build;
use exitmatrix::pure::decode::StateChange;
use exitmatrix::pure::profile::{Profile, ProfileError};
use exitmatrix::pure::signal::{Signal, SignalTable};
use exitmatrix::pure::view::{self, Effect, Formula, Mapping, Reported};
use exitmatrix::toolchain::probes::HOST;
use rstest::rstest;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{observer_path, root, target_dir};

const TABLE: &SignalTable = &exitmatrix::pure::signal::LINUX_GENERIC;

fn code(value: i64) -> Reported {
    Reported::Code { value }
}

fn raised(exception: &str) -> Reported {
    Reported::Raised {
        exception: exception.into(),
    }
}

// ---------------------------------------------------------------- the pure view

#[rstest]
#[case::identity("N", 7, 7)]
#[case::bash("128+N", 15, 143)]
#[case::ksh93("256+N", 15, 271)]
#[case::yash("384+N", 6, 390)]
#[case::python("-N", 15, -15)]
#[case::spaces(" 128 + N ", 9, 137)]
#[case::constant("-1", 15, -1)]
fn formulas_parse_and_apply(#[case] text: &str, #[case] n: i64, #[case] value: i64) {
    let f = Formula::parse(text).unwrap();
    assert_eq!(f.apply(n), value);
    // Display gives back words parse reads, to the same formula.
    assert_eq!(Formula::parse(&f.to_string()).unwrap(), f);
}

#[rstest]
#[case::empty("")]
#[case::no_n("128+")]
#[case::times("2*N")]
#[case::bad_offset("x+N")]
#[case::minus_offset("N-128")]
fn bad_formulas_are_refused(#[case] text: &str) {
    let e = Formula::parse(text).unwrap_err();
    assert!(e.contains(&format!("`{text}`")), "{e}");
}

fn shell_mapping(signal: &str) -> Mapping {
    Mapping {
        exit: Formula::IDENTITY,
        signal: Formula::parse(signal).unwrap(),
        stopped: Effect::Unseen,
        continued: Effect::Unseen,
    }
}

#[test]
fn a_mapping_reports_the_final_state_and_drops_the_core_flag() {
    let sigabrt = Signal(6);
    let bash = shell_mapping("128+N");
    assert_eq!(
        bash.apply(&[StateChange::Exited { code: 255 }]),
        [code(255)]
    );
    for core_dumped in [false, true] {
        assert_eq!(
            bash.apply(&[StateChange::Signaled {
                signal: sigabrt,
                core_dumped
            }]),
            [code(134)]
        );
    }
    // A shell without job control never hears of the stop.
    let stop = [
        StateChange::Stopped { signal: Signal(19) },
        StateChange::Continued,
        StateChange::Exited { code: 7 },
    ];
    assert_eq!(bash.apply(&stop), [code(7)]);
    // os.waitstatus_to_exitcode raises for the stop; no WCONTINUED.
    let waitstatus = Mapping {
        exit: Formula::IDENTITY,
        signal: Formula::parse("-N").unwrap(),
        stopped: Effect::parse("ValueError").unwrap(),
        continued: Effect::Unseen,
    };
    assert_eq!(waitstatus.apply(&stop), [raised("ValueError"), code(7)]);
}

#[rstest]
#[case::number("143", vec![code(143)])]
#[case::negative("-15", vec![code(-15)])]
#[case::sequence("ValueError, 7", vec![raised("ValueError"), code(7)])]
#[case::parent_exit("parent exit 2", vec![Reported::Parent { ending: StateChange::Exited { code: 2 } }])]
#[case::parent_signal(
    "parent signal SIGTERM",
    vec![Reported::Parent { ending: StateChange::Signaled { signal: Signal(15), core_dumped: false } }]
)]
fn reported_words_round_trip(#[case] text: &str, #[case] values: Vec<Reported>) {
    assert!(view::is_reported_words(text));
    assert_eq!(view::parse(text, TABLE).unwrap(), values);
    assert_eq!(view::display(&values, TABLE), text);
}

#[rstest]
#[case::lowercase("valueerror")]
#[case::two_states("parent stopped SIGSTOP, continued")]
#[case::empty_part("1,,2")]
#[case::unknown_signal("parent signal SIGNOPE")]
fn bad_reported_words_are_refused(#[case] text: &str) {
    assert!(view::parse(text, TABLE).is_err(), "{text}");
}

#[test]
fn wait_words_are_not_reported_words() {
    for text in [
        "exit 0",
        "signal SIGTERM",
        "stopped SIGSTOP, exit 0",
        "continued",
    ] {
        assert!(!view::is_reported_words(text), "{text}");
    }
}

// ---------------------------------------------------------------- derived expectations

fn native() -> Profile {
    Profile::load(
        &root().join("profiles"),
        HOST,
        &exitmatrix::pure::observers::NATIVE,
    )
    .unwrap()
}

/// Every view's expectation of raise-SIGTERM is its mapping of the waitpid
/// one (`signal SIGTERM`), and says where both come from.
#[rstest]
#[case::dash("dash", "143")]
#[case::bash("bash", "143")]
#[case::ksh93("ksh93", "271")]
#[case::mksh("mksh", "143")]
#[case::zsh("zsh", "143")]
#[case::busybox("busybox-sh", "143")]
#[case::yash("yash", "399")]
#[case::posh("posh", "143")]
#[case::subprocess("py-subprocess", "-15")]
#[case::waitstatus("py-waitstatus", "-15")]
#[case::mp_fork("py-mp-fork", "-15")]
fn views_derive_from_the_waitpid_expectation(#[case] observer: &str, #[case] value: &str) {
    let p = native();
    let e = p
        .expectation("raise-SIGTERM", Build::Unwind, observer)
        .unwrap();
    assert_eq!(e.outcome, [value]);
    let from = e.derived_from.as_ref().expect("a derived expectation");
    assert_eq!(from.observer, "waitpid");
    assert_eq!(from.outcome, ["signal SIGTERM"]);
    assert_eq!(from.location.file.file_name().unwrap(), "posix.toml");
    assert_eq!(e.profile, "observers");
    assert!(
        e.cite.contains(&p.view(observer).unwrap().cite),
        "{}",
        e.cite
    );
    // The case still runs as the reaper's would (no core for SIGTERM).
    assert!(!e.wants_core());
    let abort = p.expectation("abort", Build::Unwind, observer).unwrap();
    assert!(abort.wants_core(), "{observer}: SIGABRT cases dump core");
}

#[test]
fn a_stop_derives_one_value_per_view() {
    let p = native();
    let shell = p
        .expectation("stop-then-exit-7", Build::Unwind, "zsh")
        .unwrap();
    // waitpid accepts two sequences (with and without "continued"); both
    // map to the same value, listed once.
    assert_eq!(shell.derived_from.as_ref().unwrap().outcome.len(), 2);
    assert_eq!(shell.outcome, ["7"]);
    let waitstatus = p
        .expectation("stop-then-exit-7", Build::Unwind, "py-waitstatus")
        .unwrap();
    assert_eq!(waitstatus.outcome, ["ValueError, 7"]);
}

/// Changing the reaper's rule changes every view's expectation: there is no
/// second table to keep in step.
#[test]
fn changing_the_reaper_rule_changes_the_views() {
    let dir = profiles_copy();
    let posix = dir.path().join("posix.toml");
    let text = fs::read_to_string(&posix).unwrap();
    let changed = text.replace(
        "behaviours = [\"raise-SIGTERM\", \"kill-SIGTERM\", \"c-raise-SIGTERM\"]\noutcome = \"signal SIGTERM\"",
        "behaviours = [\"raise-SIGTERM\", \"kill-SIGTERM\", \"c-raise-SIGTERM\"]\noutcome = \"signal SIGKILL\"",
    );
    assert_ne!(text, changed);
    fs::write(&posix, changed).unwrap();
    let p = Profile::load(dir.path(), HOST, &exitmatrix::pure::observers::NATIVE).unwrap();
    let value = |o| {
        p.expectation("raise-SIGTERM", Build::Abort, o)
            .unwrap()
            .outcome
            .clone()
    };
    assert_eq!(value("bash"), ["137"]);
    assert_eq!(value("ksh93"), ["265"]);
    assert_eq!(value("py-subprocess"), ["-9"]);
}

#[test]
fn an_explicit_rule_for_a_view_wins_over_the_derivation() {
    let dir = profiles_copy();
    let host = dir.path().join(format!("{HOST}.toml"));
    let mut text = fs::read_to_string(&host).unwrap();
    text.push_str(
        "\n[[expect]]\nbehaviours = [\"raise-SIGTERM\"]\nobservers = [\"mksh\"]\noutcome = \"255\"\ncite = \"a test override\"\n",
    );
    fs::write(&host, text).unwrap();
    let p = Profile::load(dir.path(), HOST, &exitmatrix::pure::observers::NATIVE).unwrap();
    let e = p
        .expectation("raise-SIGTERM", Build::Unwind, "mksh")
        .unwrap();
    assert_eq!(e.outcome, ["255"]);
    assert!(e.derived_from.is_none());
    // Other shells keep the derived value.
    let bash = p
        .expectation("raise-SIGTERM", Build::Unwind, "bash")
        .unwrap();
    assert_eq!(bash.outcome, ["143"]);
}

/// The hostile probes are the reapers' alone, and `py-mp-spawn` runs only
/// its own cases: neither gets a derived expectation.
#[test]
fn what_a_view_does_not_run_has_no_derived_expectation() {
    let p = native();
    assert!(p
        .expectation("hostile-sleeps-forever", Build::Unwind, "bash")
        .is_none());
    assert!(p
        .expectation("exit-0", Build::Unwind, "py-mp-spawn")
        .is_none());
    let bash = exitmatrix::observers::registry::by_name_in("bash", &observer_path()).unwrap();
    let hostile = exitmatrix::pure::catalogue::find("hostile-spins").unwrap();
    assert!(!bash.runs(&hostile));
    assert!(exitmatrix::observers::registry::by_name("waitpid")
        .unwrap()
        .runs(&hostile));
}

/// Every own case of every observer has an expectation, and a cite that
/// says where it comes from.
#[test]
fn every_own_case_has_a_cited_expectation() {
    let p = native();
    let mut checked = 0;
    for o in exitmatrix::observers::registry::all(&observer_path()) {
        for case in o.own_cases() {
            let e = p
                .own_case_expectation(case.name, o.name())
                .unwrap_or_else(|| panic!("{} [{}] has no expectation", case.name, o.name()));
            assert!(!e.reported.is_empty(), "{}", case.name);
            assert!(
                e.cite.contains("POSIX") || e.cite.contains("docs") || e.cite.contains("observed"),
                "{}: {}",
                case.name,
                e.cite
            );
            checked += 1;
        }
    }
    // Shells: their fourteen, the six spawn failures and job control;
    // py-mp-*: fifteen; std, py-subprocess, node, perl, go and ruby: the
    // six spawn failures.
    assert_eq!(checked, 8 * (14 + 6 + 1) + 2 * 15 + 6 * 6);
    // Every view that runs probes has a mapping.
    for o in exitmatrix::observers::registry::all(&observer_path()) {
        let runs_probes = exitmatrix::pure::catalogue::catalogue()
            .iter()
            .any(|b| o.runs(b));
        if !exitmatrix::pure::observers::is_reaper(o.name()) && runs_probes {
            assert!(
                p.view(o.name()).is_some(),
                "{} has no [[observer]] table",
                o.name()
            );
        }
    }
}

/// Each shell's table cites its own manual or a run of that shell.
#[test]
fn every_mapping_cites_the_parent_it_maps() {
    let p = native();
    for kind in SHELLS {
        let cite = &p.view(kind.name).unwrap().cite;
        let program = kind.program;
        assert!(cite.contains(program), "{}: {cite}", kind.name);
        assert!(
            cite.contains("observed on Debian 12"),
            "{}: {cite}",
            kind.name
        );
    }
}

/// A copy of the shipped profiles (files and subdirectories) a test may
/// change.
fn profiles_copy() -> TempDir {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = TempDir::new().unwrap();
    copy(&root().join("profiles"), dir.path());
    dir
}

fn load_error(file: &str, append: &str) -> String {
    let dir = profiles_copy();
    let path = dir.path().join(file);
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str(append);
    fs::write(&path, text).unwrap();
    match Profile::load(dir.path(), HOST, &exitmatrix::pure::observers::NATIVE) {
        Err(e @ ProfileError::Invalid { .. }) => e.to_string(),
        other => panic!("expected an invalid profile, got {other:?}"),
    }
}

#[rstest]
#[case::wait_words_for_a_shell(
    "\n[[expect]]\nbehaviours = [\"exit-0\"]\nobservers = [\"bash\"]\noutcome = \"exit 0\"\ncite = \"x\"\n",
    "`bash` reports values"
)]
#[case::reported_words_for_a_reaper(
    "\n[[expect]]\nbehaviours = [\"exit-0\"]\nobservers = [\"waitpid\"]\noutcome = \"0\"\ncite = \"x\"\n",
    "`waitpid` is a reaper"
)]
#[case::own_case_in_wait_words(
    "\n[[expect]]\nbehaviours = [\"sh-command-not-found\"]\noutcome = \"exit 127\"\ncite = \"x\"\n",
    "own case"
)]
#[case::own_case_with_builds(
    "\n[[expect]]\nbehaviours = [\"sh-command-not-found\"]\nbuilds = [\"c\"]\noutcome = \"127\"\ncite = \"x\"\n",
    "has no build"
)]
#[case::mixed_words(
    "\n[[expect]]\nbehaviours = [\"exit-0\"]\noutcome = [\"exit 0\", \"0\"]\ncite = \"x\"\n",
    "mixes"
)]
#[case::mapping_a_reaper(
    "\n[[observer]]\nname = \"waitid\"\nexit = \"N\"\nsignal = \"-N\"\ncite = \"x\"\n",
    "is a reaper"
)]
#[case::unknown_observer(
    "\n[[observer]]\nname = \"fish\"\nexit = \"N\"\nsignal = \"128+N\"\ncite = \"x\"\n",
    "unknown observer `fish`"
)]
#[case::bad_formula(
    "\n[[observer]]\nname = \"bash\"\nexit = \"N\"\nsignal = \"N*2\"\ncite = \"x\"\n",
    "cannot read formula `N*2`"
)]
#[case::from_a_view(
    "\n[[observer]]\nname = \"bash\"\nfrom = \"dash\"\nexit = \"N\"\nsignal = \"128+N\"\ncite = \"x\"\n",
    "`from` names the reaper"
)]
#[case::no_cite(
    "\n[[observer]]\nname = \"bash\"\nexit = \"N\"\nsignal = \"128+N\"\ncite = \" \"\n",
    "cites its source"
)]
#[case::bad_stop_effect(
    "\n[[observer]]\nname = \"bash\"\nexit = \"N\"\nsignal = \"128+N\"\nstopped = \"148\"\ncite = \"x\"\n",
    "expected `unseen`"
)]
fn bad_view_rules_name_file_line_and_column(#[case] append: &str, #[case] fragment: &str) {
    let e = load_error("observers.toml", append);
    assert!(e.contains("observers.toml:"), "{e}");
    assert!(e.contains(fragment), "{e}");
}

// ---------------------------------------------------------------- running

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: MatrixArgs,
}

struct Run {
    code: u8,
    stdout: String,
    stderr: String,
    report: Value,
}

fn matrix(args: &[&str]) -> Run {
    crate::common::probes();
    let out = TempDir::new().unwrap();
    let target = target_dir();
    let mut argv = vec![
        "test-matrix",
        "--no-build",
        "--target-dir",
        target.to_str().unwrap(),
        "--out-dir",
        out.path().to_str().unwrap(),
    ];
    argv.extend_from_slice(args);
    let parsed = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{e}"));
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = cli::test_matrix(&parsed.args, &mut stdout, &mut stderr);
    let report = fs::read_to_string(out.path().join(format!("report-{HOST}.json")))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    Run {
        code,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
        report,
    }
}

/// A directory holding links to every program the observers need but
/// `without`: a search path from which one program is taken away.
#[cfg(unix)]
fn path_without(without: &str) -> TempDir {
    let dir = TempDir::new().unwrap();
    for name in SHELLS
        .iter()
        .map(|k| k.program)
        .chain(["python3"])
        .filter(|&n| n != without)
    {
        let found = exitmatrix::observers::parent::find_program(name, &observer_path())
            .unwrap_or_else(|| panic!("{name} is not installed (see .ci/run)"));
        symlink(found, dir.path().join(name)).unwrap();
    }
    dir
}

/// Taking zsh off the search path makes its column "not installed" in the
/// table, the findings and the JSON report: never a pass, and the run exits
/// 3 as for a cell that could not be observed.
#[test]
#[cfg(unix)]
#[cfg_attr(
    not(have_observer_bash),
    ignore = "bash is not installed: cargo xtask install observers"
)]
fn a_shell_taken_away_is_not_installed() {
    let path = path_without("zsh");
    let run = matrix(&[
        "--observer-path",
        path.path().to_str().unwrap(),
        "-b",
        "raise-SIGTERM",
        "-b",
        "sh-command-not-found",
        "--build",
        "unwind",
        "--observer",
        "waitpid",
        "--observer",
        "bash",
        "--observer",
        "zsh",
        "-j",
        "2",
        "--require",
        "all",
    ]);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(run.code, ExitCode::NotObserved.code(), "{all}");
    assert!(
        run.stdout
            .contains("not installed here: zsh (install with `cargo xtask install observers`"),
        "{all}"
    );
    assert!(
        run.stdout
            .contains("not installed: zsh (2 cells): no executable `zsh` in"),
        "{all}"
    );
    assert!(run.stdout.contains("Debian package zsh"), "{all}");
    assert!(run.stdout.contains("2 not installed"), "{all}");
    let r = &run.report;
    assert_eq!(r["summary"]["not_installed"], 2, "{r}");
    assert_eq!(r["summary"]["conforms"], 3, "{r}");
    let zsh = r["observers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "zsh")
        .unwrap();
    assert_eq!(zsh["installed"], false);
    let verdicts: Vec<&Value> = r["cells"]
        .as_array()
        .unwrap()
        .iter()
        .chain(r["cases"].as_array().unwrap())
        .filter(|c| c["observer"] == "zsh")
        .map(|c| &c["verdict"])
        .collect();
    assert_eq!(verdicts, ["not-installed", "not-installed"], "{r}");
    // bash, still on the path, ran.
    let bash = r["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["observer"] == "bash")
        .unwrap();
    assert_eq!(bash["observed_text"], "143");
    assert_eq!(
        bash["reported"],
        serde_json::json!([{"kind": "code", "value": 143}])
    );
}

#[test]
fn an_empty_search_path_leaves_only_the_reapers() {
    let empty = TempDir::new().unwrap();
    let run = matrix(&[
        "--observer-path",
        empty.path().to_str().unwrap(),
        "-b",
        "exit-0",
        "--build",
        "c",
        "-j",
        "2",
        "--require",
        "all",
    ]);
    assert_eq!(
        run.code,
        ExitCode::NotObserved.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let installed: Vec<(&str, bool)> = run.report["observers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap(),
                o["installed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(installed.len(), exitmatrix::pure::observers::NATIVE.len());
    for (name, installed) in installed {
        assert_eq!(
            installed,
            exitmatrix::pure::observers::is_reaper(name),
            "{name}"
        );
    }
    let markdown = matrix(&[
        "--observer-path",
        empty.path().to_str().unwrap(),
        "-b",
        "c-exit-0",
        "--observer",
        "waitpid",
        "--observer",
        "posh",
        "--format",
        "markdown",
    ]);
    assert_eq!(
        markdown.stdout,
        "| behaviour | waitpid | posh |\n|---|---|---|\n| c-exit-0 | exit 0 | not installed |\n\n"
    );
}

/// What the shells and Python see of a probe that stops, and of a signal:
/// the harness continues a stopped probe for a parent that cannot see the
/// stop, and says so.
#[test]
#[cfg_attr(
    not(have_all_observers),
    ignore = "an observer is not installed: cargo xtask install observers"
)]
fn parents_see_a_stopped_probe_end() {
    let run = matrix(&[
        "-b",
        "stop-then-exit-7",
        "--build",
        "unwind",
        "--observer",
        "dash",
        "--observer",
        "py-subprocess",
        "--observer",
        "py-waitstatus",
        "-j",
        "3",
    ]);
    assert_eq!(
        run.code,
        ExitCode::Conforms.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let cells = run.report["cells"].as_array().unwrap();
    let get = |o: &str| cells.iter().find(|c| c["observer"] == o).unwrap();
    assert_eq!(get("dash")["observed_text"], "7");
    assert!(
        get("dash")["notes"][0]
            .as_str()
            .unwrap()
            .contains("continued a stopped process"),
        "{}",
        get("dash")
    );
    assert_eq!(get("py-subprocess")["observed_text"], "7");
    // The Python script sees the stop and continues the probe itself.
    assert_eq!(get("py-waitstatus")["observed_text"], "ValueError, 7");
    assert!(get("py-waitstatus").get("notes").is_none());
}

/// The exec-format fixture is what its name says: execve refuses it with
/// ENOEXEC. (Asked through posix_spawn, which reports the exec error; std's
/// spawn goes through execvp, which would hand the file to /bin/sh.)
#[test]
#[cfg(unix)]
fn the_exec_format_fixture_is_refused_with_enoexec() {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;

    use exitmatrix::observers::shell;
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("elf-for-no-machine");
    fs::write(&file, shell::elf_header_for_no_machine()).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).unwrap();
    let path = CString::new(file.as_os_str().as_bytes()).unwrap();
    let argv: [*const libc::c_char; 2] = [path.as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    let mut pid: libc::pid_t = 0;
    // SAFETY: every pointer is valid for the call and the arrays end with a
    // null; no file actions or attributes are given.
    let r = unsafe {
        libc::posix_spawn(
            &mut pid,
            path.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            argv.as_ptr().cast(),
            envp.as_ptr().cast(),
        )
    };
    if r == 0 {
        let mut status = 0;
        // SAFETY: reaps the child just started, by pid.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        panic!("the fixture ran (status {status:#x})");
    }
    assert_eq!(r, libc::ENOEXEC);
}

/// The cases the Rust side lists are the ones the Python script has.
#[test]
#[cfg_attr(
    not(have_observer_py_subprocess),
    ignore = "python3 is not installed: cargo xtask install observers"
)]
fn the_python_script_has_the_listed_cases() {
    let python = exitmatrix::observers::parent::find_program("python3", &observer_path())
        .expect("python3 is installed (see .ci/run)");
    let mut spawned = spawn::spawn(
        &Invocation {
            runner: vec![python.into_os_string(), "-I".into()],
            program: exitmatrix::observers::python::script_path(),
            args: vec!["list-cases".into()],
        },
        false,
    )
    .unwrap();
    let status = spawned.child.wait().unwrap();
    let left = spawned.finish().unwrap();
    assert!(
        status.success(),
        "{}",
        String::from_utf8_lossy(&left.stderr)
    );
    let listed: Vec<String> = String::from_utf8(left.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let rust: Vec<&str> = exitmatrix::observers::python::MP_CASES
        .iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(listed, rust);
}

#[test]
fn python_reports_are_read_strictly() {
    use exitmatrix::observers::python::parse_result;
    assert_eq!(
        parse_result(r#"{"reported": [{"raised": "ValueError"}, {"code": -6}]}"#).unwrap(),
        [raised("ValueError"), code(-6)]
    );
    assert!(parse_result(r#"{"reported": [{"code": "x"}]}"#).is_err());
    assert!(parse_result(r#"{"reported": [], "extra": 1}"#).is_err());
    assert!(parse_result("").is_err());
}

// ---------------------------------------------------------------- the README's table

const BEGIN: &str =
    "<!-- conformance-table:begin (cargo xtask test-matrix --format markdown) -->\n";
const END: &str = "<!-- conformance-table:end -->";

fn readme() -> PathBuf {
    root().join("README.md")
}

/// The table between the README's markers is what a fresh run of the whole
/// matrix prints with `--format markdown`. With `EXITMATRIX_BLESS=1` the
/// test writes the fresh table into the README instead.
#[test]
#[cfg_attr(
    not(have_all_observers),
    ignore = "an observer is not installed: cargo xtask install observers"
)]
fn the_readme_conformance_table_matches_a_fresh_run() {
    let run = matrix(&["--format", "markdown", "-j", "2"]);
    assert_eq!(
        run.code,
        ExitCode::Conforms.code(),
        "the full matrix must conform before its table goes into the README:\n{}{}",
        run.stdout,
        run.stderr
    );
    let fresh = run.stdout.trim_end().to_owned() + "\n";
    assert!(fresh.lines().count() > 150, "{fresh}");
    let text = fs::read_to_string(readme()).unwrap();
    let (before, rest) = text
        .split_once(BEGIN)
        .unwrap_or_else(|| panic!("README.md lacks the marker {BEGIN:?}"));
    let (held, after) = rest
        .split_once(END)
        .unwrap_or_else(|| panic!("README.md lacks the marker {END:?}"));
    if held == fresh {
        return;
    }
    if std::env::var_os("EXITMATRIX_BLESS").is_some() {
        fs::write(readme(), format!("{before}{BEGIN}{fresh}{END}{after}")).unwrap();
        return;
    }
    let diff: Vec<String> = held
        .lines()
        .zip(fresh.lines())
        .filter(|(a, b)| a != b)
        .take(5)
        .map(|(a, b)| format!("README: {a}\nfresh:  {b}"))
        .collect();
    panic!(
        "the README's conformance table is out of date ({} lines held, {} fresh); first differences:\n{}\n\
         regenerate it with EXITMATRIX_BLESS=1 cargo test -p exitmatrix-suites -- observers::the_readme",
        held.lines().count(),
        fresh.lines().count(),
        diff.join("\n")
    );
}

/// The README test would be no use if the table could not show a
/// deviation: a wrong mapping shows up in it, marked.
#[test]
#[cfg_attr(
    not(have_observer_ksh93),
    ignore = "ksh93 is not installed: cargo xtask install observers"
)]
fn a_deviation_shows_in_the_markdown_table() {
    let dir = profiles_copy();
    let path = dir.path().join("observers.toml");
    let text = fs::read_to_string(&path).unwrap();
    let wrong = text.replacen("signal = \"256+N\"", "signal = \"128+N\"", 1);
    assert_ne!(text, wrong);
    fs::write(&path, wrong).unwrap();
    let run = matrix(&[
        "--profiles",
        dir.path().to_str().unwrap(),
        "-b",
        "c-raise-SIGKILL",
        "--observer",
        "ksh93",
        "--format",
        "markdown",
    ]);
    assert_eq!(
        run.code,
        ExitCode::Deviates.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout
            .contains("| c-raise-SIGKILL | ✗ 265 (expected 137) |"),
        "{}",
        run.stdout
    );
}

/// Without `--require all`, missing observers are listed and counted as
/// not installed, and a run whose every cell that ran conforms passes: what
/// a newcomer sees on a fresh machine.
#[test]
fn missing_observers_do_not_fail_a_run_unless_required() {
    let empty = TempDir::new().unwrap();
    let run = matrix(&[
        "--observer-path",
        empty.path().to_str().unwrap(),
        "-b",
        "exit-0",
        "--build",
        "c",
    ]);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(run.code, ExitCode::Conforms.code(), "{all}");
    assert!(
        run.stdout.contains("not installed here: dash, bash"),
        "{all}"
    );
    assert!(
        run.report["summary"]["not_installed"].as_u64().unwrap() > 0,
        "{all}"
    );
    let s = &run.report["summary"];
    assert_eq!(
        s["conforms"].as_u64().unwrap() + s["not_installed"].as_u64().unwrap(),
        s["cells"].as_u64().unwrap(),
        "{all}"
    );
}

// ---------------------------------------------------------------- the Python server

/// A case for a Python observer: `program args` with the harness's limits.
#[cfg(unix)]
fn python_case_run(
    observer: &dyn exitmatrix::observers::observe::Observer,
    program: &str,
    args: &[&str],
) -> Result<exitmatrix::observers::observe::Observation, String> {
    let invocation = Invocation {
        runner: Vec::new(),
        program: PathBuf::from(program),
        args: args.iter().map(|&a| a.to_owned()).collect(),
    };
    observer.observe(&exitmatrix::observers::observe::Case {
        invocation: &invocation,
        core: false,
        wait: &exitmatrix::pure::decode::WaitConventions::LINUX,
        timeout: std::time::Duration::from_secs(20),
        grace: std::time::Duration::from_secs(1),
        continue_stops: true,
        interrupt: None,
    })
}

/// `python3` reached through a symlink of a private directory, so that the
/// Python observers built on it have a server pool of their own (the pool
/// is keyed by the interpreter's path) that no other test uses.
#[cfg(unix)]
fn private_python() -> (TempDir, PathBuf) {
    let python = exitmatrix::observers::parent::find_program("python3", &observer_path())
        .expect("python3 is installed (see .ci/run)");
    let dir = TempDir::new().unwrap();
    let link = dir.path().join("python3");
    symlink(&python, &link).unwrap();
    (dir, link)
}

/// Whether a process with exactly this command line is alive.
#[cfg(unix)]
fn alive_with_cmdline(words: &[&str]) -> bool {
    let wanted: Vec<u8> = words
        .iter()
        .flat_map(|w| [w.as_bytes(), b"\0"].concat())
        .collect();
    fs::read_dir("/proc").unwrap().flatten().any(|e| {
        fs::read(e.path().join("cmdline")).is_ok_and(|c| c == wanted)
            && fs::read_to_string(e.path().join("stat")).is_ok_and(|s| {
                s.rsplit_once(')')
                    .is_some_and(|(_, a)| !a.trim_start().starts_with('Z'))
            })
    })
}

/// The server killed in the middle of a case: that cell is an error (not
/// observed), never a value, the case's probe does not outlive it, and the
/// next cell gets a new server that works.
#[test]
#[cfg(unix)]
#[cfg_attr(
    not(have_observer_py_subprocess),
    ignore = "python3 is not installed: cargo xtask install observers"
)]
fn a_python_server_killed_mid_case_is_not_observed_and_restarted() {
    use exitmatrix::observers::python::idle_server_pids;
    let (dir, python) = private_python();
    let observer =
        exitmatrix::observers::registry::by_name_in("py-subprocess", &dir.path().to_string_lossy())
            .unwrap();
    // Starts this interpreter's server; it goes back to the pool.
    let first = python_case_run(observer.as_ref(), "/bin/sh", &["-c", "exit 7"]).unwrap();
    assert_eq!(first.reported, Some(vec![code(7)]));
    let servers = idle_server_pids(&python);
    assert_eq!(servers.len(), 1, "{servers:?}");
    let server = libc::pid_t::try_from(servers[0]).unwrap();

    // The next case takes that server; kill it while the probe sleeps.
    let killer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(500));
        // SAFETY: kill(2) on the server, which is this process's unreaped
        // child (the pool holds it), so the pid is its own.
        unsafe { libc::kill(server, libc::SIGKILL) }
    });
    let started = std::time::Instant::now();
    let killed = python_case_run(observer.as_ref(), "/bin/sleep", &["7.25"]);
    assert_eq!(killer.join().unwrap(), 0);
    let error = killed.expect_err("a dead server's cell has no value");
    assert!(error.contains("Python server failed"), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The probe, orphaned by the server, was killed with its group.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while alive_with_cmdline(&["/bin/sleep", "7.25"]) {
        assert!(
            std::time::Instant::now() < deadline,
            "the probe outlived the server"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    // A new server serves the next cell.
    let again = python_case_run(observer.as_ref(), "/bin/sh", &["-c", "kill -TERM $$"]).unwrap();
    assert_eq!(again.reported, Some(vec![code(-15)]));
    let now = idle_server_pids(&python);
    assert_eq!(now.len(), 1);
    assert_ne!(now[0], servers[0]);
}

/// A "python3" that answers garbage: every cell is an error, never a value.
/// The server's protocol (observers/python_observer.py, `serve`): a ready
/// line with the pid of the fork that takes the next case, then, per case,
/// the case process's wait status and report. Each fake breaks one of them;
/// the pid it names is its own background child, which is no group leader,
/// so the harness's kill of that "group" hits nothing.
#[test]
#[cfg(unix)]
fn a_python_server_that_answers_garbage_is_not_observed() {
    use std::os::unix::fs::PermissionsExt;
    let fakes = [
        // Ready, then an end that is not JSON.
        (
            "sleep 5 &\necho \"{\\\"ready\\\": true, \\\"next\\\": $!}\"\nread request\necho 'status: 12'\nwait\n",
            "is not the case's end",
        ),
        // Ready, but without the next case process's pid.
        (
            "echo '{\"ready\": true}'\nsleep 5\n",
            "did not start",
        ),
        // A pid that no case process can have.
        (
            "echo '{\"ready\": true, \"next\": 1}'\nsleep 5\n",
            "1 is not a case process's pid",
        ),
    ];
    for (script, expected) in fakes {
        let dir = TempDir::new().unwrap();
        let fake = dir.path().join("python3");
        fs::write(&fake, format!("#!/bin/sh\n{script}")).unwrap();
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
        for name in ["py-subprocess", "py-waitstatus", "py-mp-fork"] {
            let observer =
                exitmatrix::observers::registry::by_name_in(name, &dir.path().to_string_lossy())
                    .unwrap();
            let started = std::time::Instant::now();
            let error = python_case_run(observer.as_ref(), "/bin/true", &[])
                .expect_err("garbage is not an observation");
            assert!(error.contains(expected), "{name}: {error}");
            assert!(
                started.elapsed() < std::time::Duration::from_secs(4),
                "{name}"
            );
        }
    }
}

/// A server that died while it was idle in the pool: the cell that takes
/// it is not observed (the server failed, whatever the cell), the fork it
/// had waiting for that cell does not outlive it, and the cell after that
/// gets a new server that works.
#[test]
#[cfg(unix)]
#[cfg_attr(
    not(have_observer_py_subprocess),
    ignore = "python3 is not installed: cargo xtask install observers"
)]
fn a_python_server_killed_while_idle_is_not_observed_and_restarted() {
    use exitmatrix::observers::python::idle_server_pids;
    let (dir, python) = private_python();
    let observer =
        exitmatrix::observers::registry::by_name_in("py-mp-fork", &dir.path().to_string_lossy())
            .unwrap();
    let first = python_case_run(observer.as_ref(), "/bin/sh", &["-c", "exit 3"]).unwrap();
    assert_eq!(first.reported, Some(vec![code(3)]));
    let servers = idle_server_pids(&python);
    assert_eq!(servers.len(), 1, "{servers:?}");
    let server = libc::pid_t::try_from(servers[0]).unwrap();
    // The server's children: the fork waiting for the next case.
    let waiting: Vec<String> = fs::read_to_string(format!("/proc/{server}/task/{server}/children"))
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    // SAFETY: kill(2) on the server, which is this process's unreaped child
    // (the pool holds it), so the pid is its own.
    assert_eq!(unsafe { libc::kill(server, libc::SIGKILL) }, 0);
    let error = python_case_run(observer.as_ref(), "/bin/sh", &["-c", "exit 4"])
        .expect_err("a dead server's cell has no value");
    assert!(error.contains("Python server failed"), "{error}");
    for pid in &waiting {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, a)| !a.trim_start().starts_with('Z'))
        }) {
            assert!(
                std::time::Instant::now() < deadline,
                "the waiting fork {pid} outlived its server"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    let again = python_case_run(observer.as_ref(), "/bin/sh", &["-c", "exit 5"]).unwrap();
    assert_eq!(again.reported, Some(vec![code(5)]));
    let now = idle_server_pids(&python);
    assert_eq!(now.len(), 1);
    assert_ne!(now[0], servers[0]);
}

/// Under every Python observer the probe holds descriptors 0, 1 and 2 and
/// no other: `subprocess` closes the rest (`close_fds` defaults to true,
/// Python docs, subprocess.Popen), and every descriptor Python itself opens
/// is non-inheritable (PEP 446), so `os.execv` in a multiprocessing child
/// closes them; the server's pipes (to the harness, and the one a served
/// case process reports on) are Python's too.
#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(
    not(have_observer_py_subprocess),
    ignore = "python3 is not installed: cargo xtask install observers"
)]
fn a_probe_under_python_holds_only_its_standard_descriptors() {
    let (dir, _python) = private_python();
    for name in ["py-subprocess", "py-waitstatus", "py-mp-fork"] {
        let observer =
            exitmatrix::observers::registry::by_name_in(name, &dir.path().to_string_lossy())
                .unwrap();
        // The shell's own descriptors, listed by a child of it (`:` keeps
        // the shell from exec'ing `ls` in its place).
        let seen = python_case_run(
            observer.as_ref(),
            "/bin/sh",
            &["-c", "/bin/ls /proc/$$/fd; :"],
        )
        .unwrap();
        assert_eq!(seen.reported, Some(vec![code(0)]), "{name}");
        assert_eq!(
            String::from_utf8_lossy(&seen.leftovers.stdout),
            "0\n1\n2\n",
            "{name}"
        );
    }
}

// ------------------------------------------------- the job-control terminal

/// A job-control shell, in Python, that takes the terminal back from a
/// stopped job late and then discards what was typed, as ksh93 does
/// (`tcsetattr(TCSAFLUSH)` after `tcsetpgrp`, seen with strace of ksh93u+m
/// 1.0.4 on Debian 12), only later than ksh93 does on a quiet machine:
/// 1.5 s after the stop. It answers `echo ...=$?` with 148.
const LATE_FLUSHING_SHELL: &str = r#"
import os, signal, sys, termios, time
for s in (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
    signal.signal(s, signal.SIG_IGN)
def say(text):
    os.write(1, text.encode())
say("$ ")
for line in sys.stdin:
    if "ADY" in line:
        say("READY\n$ ")
    elif line.startswith("/bin/sleep"):
        job = os.fork()
        if job == 0:
            os.setpgid(0, 0)
            os.tcsetpgrp(0, os.getpid())
            signal.signal(signal.SIGTSTP, signal.SIG_DFL)
            os.execv("/bin/sleep", ["sleep", "30"])
        os.waitpid(job, os.WUNTRACED)
        time.sleep(1.5)
        os.tcsetpgrp(0, os.getpgrp())
        termios.tcflush(0, termios.TCIFLUSH)
        say("[1] + Stopped\n$ ")
    elif "ATUS" in line:
        say("STATUS=148\n$ ")
"#;

/// `observers/jobcontrol.py` types its question again when a shell has
/// not answered within a second: a line typed before the shell flushed
/// its input is lost, and a CI run reported 4 ("no STATUS=") for ksh93
/// that way. Against the shell above, which flushes 1.5 s after the stop,
/// the script typing once (0.5 s after ^Z) would report 4; it reports 0
/// and writes what the shell said.
#[test]
#[cfg_attr(
    not(have_observer_py_subprocess),
    ignore = "python3 is not installed: cargo xtask install observers"
)]
fn the_terminal_types_a_question_again_after_the_shell_flushed_it() {
    let dir = TempDir::new().unwrap();
    let shell = dir.path().join("late-flushing-shell.py");
    fs::write(&shell, LATE_FLUSHING_SHELL).unwrap();
    let result = dir.path().join("result");
    #[expect(
        clippy::disallowed_methods,
        reason = "runs the terminal script on a fake shell, not a probe"
    )]
    let out = std::process::Command::new("python3")
        .arg("-I")
        .arg(root().join("observers/jobcontrol.py"))
        .arg(&result)
        .args(["/usr/bin/env", "python3", "-I"])
        .arg(&shell)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", observer_path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(fs::read_to_string(&result).unwrap(), "148\n");
}
