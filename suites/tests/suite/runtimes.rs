//! The language runtimes as parents: Node.js's `child_process`, Perl's
//! `system`, Go's `os/exec` and Ruby's `Process::Status`. Their words and
//! mappings, the cross-checks of Perl's `$?` and Go's `WaitStatus` (a
//! mutated value must be caught), and each runtime end to end.
//!
//! Every expected value below is written from the runtime's documentation
//! (cited at the mapping in profiles/observers.toml), not copied from a run.

use std::path::PathBuf;
use std::time::Duration;

use exitmatrix::observers::observe::{Case, Observer};
use exitmatrix::observers::registry;
use exitmatrix::observers::runtime::{self, GoWaitStatus, Language};
use exitmatrix::process::spawn::Invocation;
use exitmatrix::pure::catalogue::{Build, ProbeBin};
use exitmatrix::pure::decode::WaitConventions;
use exitmatrix::pure::observers::{self, ObserverKind};
use exitmatrix::pure::profile::Profile;
use exitmatrix::pure::signal::{Signal, LINUX_GENERIC};
use exitmatrix::pure::view::{self, Formula, Reported};
use exitmatrix::toolchain::probes::HOST;
use rstest::rstest;

use crate::common::{observer_path, probes, root};

const WAIT: &WaitConventions = &WaitConventions::LINUX;

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
fn the_runtimes_are_the_last_columns_in_their_order() {
    let names = ["node", "perl", "go", "ruby"];
    assert_eq!(observers::RUNTIMES, names);
    let n = observers::NATIVE.len();
    assert_eq!(observers::NATIVE[n - 4..], names);
    assert_eq!(observers::NATIVE[n - 5], "java");
    for (name, language) in names.iter().zip(Language::ALL) {
        assert_eq!(observers::kind_of(name), Some(ObserverKind::Runtime));
        assert!(observers::is_view(name));
        assert_eq!(language.column(), *name);
    }
    assert_eq!(ObserverKind::Runtime.name(), "runtime");
    for o in registry::all(&observer_path()) {
        assert_eq!(Some(o.info().kind), observers::kind_of(o.name()));
    }
}

// ---------------------------------------------------------------- formulas

#[rstest]
#[case::wait("wait(N)", Formula::WaitWord)]
#[case::node("node( N )", Formula::Node)]
#[case::ruby("ruby(N)", Formula::Ruby)]
#[case::minus_one("-1", Formula::Constant { value: -1 })]
fn the_new_formulas_parse_and_print(#[case] words: &str, #[case] formula: Formula) {
    let parsed = Formula::parse(words).unwrap();
    assert_eq!(parsed, formula);
    assert_eq!(Formula::parse(&parsed.to_string()).unwrap(), formula);
}

#[rstest]
#[case::unknown("python(N)")]
#[case::not_a_number("1.5")]
fn bad_formulas_are_refused(#[case] words: &str) {
    let e = Formula::parse(words).unwrap_err();
    assert!(e.contains("wait(N)"), "{e}");
}

/// perlvar: the 16-bit word of wait(), exit value in the high byte, the
/// signal in the low seven bits, 128 for a core.
#[rstest]
#[case::exit_0(0, 0)]
#[case::exit_2(2, 512)]
#[case::exit_255(255, 65280)]
fn the_wait_word_of_an_exit_is_n_shifted_8(#[case] n: i64, #[case] word: i64) {
    assert_eq!(Formula::WaitWord.exit(n), code(word));
}

#[test]
fn the_wait_word_of_a_signal_keeps_the_core_flag() {
    let w = |n, core| Formula::WaitWord.signal(Signal(n), core, &LINUX_GENERIC);
    assert_eq!(w(15, false), code(15));
    assert_eq!(w(6, true), code(6 | 128));
    // Go's -1 ignores the signal and the core.
    let go = Formula::Constant { value: -1 };
    assert_eq!(go.signal(Signal(9), true, &LINUX_GENERIC), code(-1));
    assert_eq!(
        go.exit(3),
        code(-1),
        "a constant is for the signal side only"
    );
}

#[test]
fn node_and_ruby_strings() {
    assert_eq!(
        Formula::Node.exit(3),
        text("status: 3, signal: null"),
        "status is the exit code, signal null"
    );
    assert_eq!(
        Formula::Node.signal(Signal(15), true, &LINUX_GENERIC),
        text("status: null, signal: SIGTERM"),
        "the issue's own example: status null, signal 'SIGTERM'"
    );
    assert_eq!(Formula::Ruby.exit(3), text("exitstatus: 3"));
    assert_eq!(
        Formula::Ruby.signal(Signal(6), true, &LINUX_GENERIC),
        text("termsig: 6, coredump?: true")
    );
    assert_eq!(
        view::ruby_text(None, None, false),
        "exitstatus: nil, termsig: nil"
    );
    // The strings survive the profile's quoting.
    let words = "'status: null, signal: SIGTERM'";
    assert_eq!(
        view::parse(words, &LINUX_GENERIC).unwrap(),
        [text("status: null, signal: SIGTERM")]
    );
}

// ---------------------------------------------------------------- the profile

fn native() -> Profile {
    Profile::load(&root().join("profiles"), HOST, &observers::NATIVE).unwrap()
}

/// Derived from waitpid's expectation through each documented mapping;
/// the two Node.js rows are explicit rules (its own signal names).
#[rstest]
#[case::exit_2("exit-2", "'status: 2, signal: null'", "512", "2", "'exitstatus: 2'")]
#[case::exit_256("exit-256", "'status: 0, signal: null'", "0", "0", "'exitstatus: 0'")]
#[case::sigterm(
    "raise-SIGTERM",
    "'status: null, signal: SIGTERM'",
    "15",
    "-1",
    "'termsig: 15'"
)]
#[case::abort(
    "abort",
    "'status: null, signal: SIGABRT'",
    "134",
    "-1",
    "'termsig: 6, coredump?: true'"
)]
#[case::stop(
    "stop-then-exit-7",
    "'status: 7, signal: null'",
    "1792",
    "7",
    "'exitstatus: 7'"
)]
#[case::sigpoll(
    "raise-SIGPOLL",
    "'status: null, signal: SIGIO'",
    "29",
    "-1",
    "'termsig: 29'"
)]
#[case::rtmin(
    "raise-SIGRTMIN",
    "'status: null, signal: '",
    "34",
    "-1",
    "'termsig: 34'"
)]
fn the_runtimes_expectations(
    #[case] behaviour: &str,
    #[case] node: &str,
    #[case] perl: &str,
    #[case] go: &str,
    #[case] ruby: &str,
) {
    let p = native();
    for (observer, value) in [("node", node), ("perl", perl), ("go", go), ("ruby", ruby)] {
        let e = p
            .expectation(behaviour, Build::Unwind, observer)
            .unwrap_or_else(|| panic!("{behaviour} [{observer}]: no expectation"));
        assert_eq!(e.outcome, [value], "{behaviour} [{observer}]");
        let explicit =
            observer == "node" && (behaviour.contains("SIGPOLL") || behaviour.contains("SIGRT"));
        assert_eq!(
            e.derived_from.is_none(),
            explicit,
            "{behaviour} [{observer}]"
        );
    }
}

// ---------------------------------------------------------------- what the parents write

#[rstest]
#[case::node_exit(Language::Node, "{\"status\":3,\"signal\":null}\n", vec![text("status: 3, signal: null")])]
#[case::node_signal(Language::Node, "{\"status\":null,\"signal\":\"SIGKILL\"}\n", vec![text("status: null, signal: SIGKILL")])]
#[case::perl_exit(Language::Perl, "768 3 0 0\n", vec![code(768)])]
#[case::perl_core(Language::Perl, "134 0 6 128\n", vec![code(134)])]
#[case::go_exit(Language::Go, "3 768 true 3 false -1 false\n", vec![code(3)])]
#[case::go_core(Language::Go, "-1 134 false -1 true 6 true\n", vec![code(-1)])]
#[case::ruby_exit(Language::Ruby, "3 nil false\n", vec![text("exitstatus: 3")])]
#[case::ruby_core(Language::Ruby, "nil 6 true\n", vec![text("termsig: 6, coredump?: true")])]
fn what_the_parents_write_is_read(
    #[case] language: Language,
    #[case] written: &str,
    #[case] values: Vec<Reported>,
) {
    assert_eq!(runtime::parse(language, written, WAIT).unwrap(), values);
}

#[rstest]
#[case::node_not_json(Language::Node, "status 3\n")]
#[case::node_extra_field(Language::Node, "{\"status\":3,\"signal\":null,\"pid\":1}\n")]
#[case::perl_three(Language::Perl, "768 3 0\n")]
#[case::go_short(Language::Go, "3 768 true 3\n")]
#[case::go_not_bool(Language::Go, "3 768 yes 3 false -1 false\n")]
#[case::ruby_word(Language::Ruby, "three nil false\n")]
fn bad_parent_output_is_an_error(#[case] language: Language, #[case] written: &str) {
    assert!(
        runtime::parse(language, written, WAIT).is_err(),
        "{written}"
    );
}

/// A decomposition that disagrees with the harness's decoding of the
/// same word adds a second value, so the cell cannot match its one
/// expected value.
#[rstest]
#[case::perl_wrong_exit(Language::Perl, "768 4 0 0\n")]
#[case::perl_wrong_signal(Language::Perl, "134 0 7 128\n")]
#[case::perl_lost_core(Language::Perl, "134 0 6 0\n")]
#[case::go_not_exited(Language::Go, "3 768 false 3 false -1 false\n")]
#[case::go_wrong_signal(Language::Go, "-1 15 false -1 true 9 false\n")]
#[case::go_core_invented(Language::Go, "-1 15 false -1 true 15 true\n")]
fn a_mutated_decomposition_is_caught(#[case] language: Language, #[case] written: &str) {
    let values = runtime::parse(language, written, WAIT).unwrap();
    assert_eq!(values.len(), 2, "{values:?}");
    let Reported::Text { value } = &values[1] else {
        panic!("{values:?}")
    };
    assert!(value.contains("decodes as"), "{value}");
}

#[test]
fn the_checks_pass_on_agreement() {
    assert_eq!(runtime::check_perl(15, 0, 15, 0, WAIT), None);
    let go = GoWaitStatus {
        exited: true,
        exit_status: 0,
        signaled: false,
        signal: -1,
        core_dump: false,
    };
    assert_eq!(runtime::check_go(0, &go, WAIT), None);
}

// ---------------------------------------------------------------- end to end

fn probe() -> PathBuf {
    probes().path(Build::Unwind, ProbeBin::Probe).unwrap()
}

fn observe(observer: &dyn Observer, args: &[&str], core: bool) -> Vec<Reported> {
    let invocation = Invocation {
        runner: Vec::new(),
        program: probe(),
        args: args.iter().map(|&a| a.to_owned()).collect(),
    };
    let case = Case {
        invocation: &invocation,
        core,
        wait: WAIT,
        timeout: Duration::from_secs(60),
        grace: Duration::from_secs(1),
        continue_stops: true,
        interrupt: None,
    };
    let seen = observer
        .observe(&case)
        .unwrap_or_else(|e| panic!("{} {args:?}: {e}", observer.name()));
    seen.reported.expect("a view reports values")
}

/// Runs `cases` (probe words, core, what the documentation says) under
/// the runtime's parent.
fn check(name: &str, cases: &[(&[&str], bool, Reported)]) {
    let o = registry::by_name_in(name, &observer_path()).unwrap();
    for (args, core, expected) in cases {
        assert_eq!(
            observe(&*o, args, *core),
            std::slice::from_ref(expected),
            "{name} {args:?}"
        );
    }
}

#[test]
#[cfg_attr(
    not(have_observer_node),
    ignore = "node is not installed: cargo xtask install observers"
)]
fn node_reports_status_and_signal() {
    check(
        "node",
        &[
            (&["exit", "3"], false, text("status: 3, signal: null")),
            (&["exit", "256"], false, text("status: 0, signal: null")),
            (
                &["raise", "15"],
                false,
                text("status: null, signal: SIGTERM"),
            ),
            (&["abort"], true, text("status: null, signal: SIGABRT")),
            (
                &["raise", "16"],
                false,
                text("status: null, signal: SIGSTKFLT"),
            ),
            // The finding: a real-time signal has no name.
            (&["raise-rt", "min"], false, text("status: null, signal: ")),
        ],
    );
}

#[test]
#[cfg_attr(
    not(have_observer_perl),
    ignore = "perl is not installed: cargo xtask install observers"
)]
fn perl_reports_the_raw_wait_word() {
    check(
        "perl",
        &[
            (&["exit", "3"], false, code(3 << 8)),
            (&["exit", "255"], false, code(255 << 8)),
            (&["raise", "15"], false, code(15)),
            (&["abort"], true, code(6 | 128)),
            (&["abort"], false, code(6)),
        ],
    );
}

#[test]
#[cfg_attr(
    not(have_observer_go),
    ignore = "go is not installed: cargo xtask install observers"
)]
fn go_reports_minus_one_for_a_signal() {
    check(
        "go",
        &[
            (&["exit", "3"], false, code(3)),
            (&["exit", "256"], false, code(0)),
            (&["raise", "15"], false, code(-1)),
            (&["abort"], true, code(-1)),
        ],
    );
}

#[test]
#[cfg_attr(
    not(have_observer_ruby),
    ignore = "ruby is not installed: cargo xtask install observers"
)]
fn ruby_reports_exitstatus_termsig_and_coredump() {
    check(
        "ruby",
        &[
            (&["exit", "3"], false, text("exitstatus: 3")),
            (&["raise", "15"], false, text("termsig: 15")),
            (&["abort"], true, text("termsig: 6, coredump?: true")),
            (&["abort"], false, text("termsig: 6")),
        ],
    );
}

/// A runtime that is not on the search path is "not installed", and says
/// which Debian package to install.
#[test]
fn a_runtime_off_the_search_path_is_not_installed() {
    let empty = tempfile::TempDir::new().unwrap();
    let path = empty.path().to_str().unwrap();
    for language in Language::ALL {
        let o = registry::by_name_in(language.column(), path).unwrap();
        let e = o.available().unwrap_err();
        assert!(e.starts_with("not installed"), "{e}");
        assert!(e.contains(language.package()), "{e}");
        assert!(!o.info().installed);
    }
}

// ------------------------------------------------------ Ruby's forking server

/// `program` under a private path (a symbolic link in a new directory),
/// so that this test's servers are its own in the shared pool.
#[cfg(unix)]
fn private_program(program: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::TempDir::new().unwrap();
    let found = exitmatrix::observers::parent::find_program(program, &observer_path())
        .unwrap_or_else(|| panic!("{program} on the observer path"));
    let link = dir.path().join(program);
    std::os::unix::fs::symlink(found, &link).unwrap();
    (dir, link)
}

/// What a probe can see of the process state it was given: its process
/// group and session against its parent's, its descriptors (and where
/// standard input goes), ignored and blocked signals, environment, core
/// limit, umask and working directory's name pattern. The signal masks
/// are read by the shell itself: a command it forks would read them while
/// the shell blocks every signal around that fork (dash's `forkshell`).
#[cfg(unix)]
const STATE_SCRIPT: &str = r#"set -- $(cat /proc/$$/stat)
ppid=$4; pgrp=$5; sid=$6
set -- $(cat /proc/$ppid/stat)
echo "group is the parent's: $([ "$pgrp" = "$ppid" ] && echo yes || echo no)"
echo "session is the parent's: $([ "$sid" = "$6" ] && echo yes || echo no)"
echo "session: $sid"
echo "fds: $(ls /proc/$$/fd | tr '\n' ' ')"
echo "stdin: $(readlink /proc/$$/fd/0)"
while read -r key value; do case $key in SigIgn:|SigBlk:) echo "$key $value";; esac; done < /proc/$$/status
echo "env: $(env | grep -v -e '^PWD=' -e '^SHLVL=' -e '^_=' | tr '\n' ' ')"
echo "core: $(ulimit -c) umask: $(umask)"
pwd | sed 's/exitmatrix-[A-Za-z0-9]*$/exitmatrix-X/'
exit 5"#;

/// The case process a forking server (Ruby's) forks gives the probe what
/// a fresh parent (`ruby ruby_observer.rb`) gives it
/// (`issues show 15`: "what the observer sees must not change"): the same
/// group (the parent's own), session, descriptors, signal state,
/// environment, limits and directory, and the same report, with and
/// without a core dump allowed.
#[cfg(unix)]
fn a_served_case_gives_the_probe_what_a_fresh_parent_does(
    program: &str,
    flags: &[&str],
    script: &str,
    reported: &str,
) {
    use exitmatrix::observers::parent::{self, ParentRun, Setting};
    assert!(parent::can_fork_serve(), "pidfds are needed here");
    let (dir, found) = private_program(program);
    let script = root().join("observers").join(script);
    let mut runner = vec![found.clone().into_os_string()];
    runner.extend(flags.iter().map(Into::into));
    let start = Invocation {
        runner: runner.clone(),
        program: script.clone(),
        args: vec!["--serve".to_owned()],
    };
    runner.push(script.into());
    runner.push(".exitmatrix-status".into());
    let invocation = Invocation {
        runner,
        program: "/bin/sh".into(),
        args: vec!["-c".to_owned(), STATE_SCRIPT.to_owned()],
    };
    let skip = 2 + flags.len();
    for core in [false, true] {
        let run = ParentRun {
            invocation: &invocation,
            core,
            continue_stops: true,
            result_file: ".exitmatrix-status",
            setting: Setting {
                wait: WAIT,
                timeout: Duration::from_secs(60),
                grace: Duration::from_secs(1),
                interrupt: None,
            },
        };
        let fresh = parent::run(&run).unwrap();
        let served = parent::run_forked(&start, &run, skip).unwrap();
        let text =
            |end: &parent::ParentEnd| String::from_utf8_lossy(&end.leftovers.stdout).into_owned();
        // The parent leads its own group and gives the probe the empty
        // mask and default dispositions the harness gave it
        // (crate::process::spawn's guarantees).
        for line in [
            "group is the parent's: yes\n",
            "SigBlk: 0000000000000000\n",
            "SigIgn: 0000000000000000\n",
        ] {
            assert!(text(&fresh).contains(line), "{}", text(&fresh));
        }
        assert_eq!(text(&served), text(&fresh), "core {core}");
        assert_eq!(served.leftovers.stderr, fresh.leftovers.stderr);
        assert_eq!(fresh.result.as_deref(), Some(reported));
        assert_eq!(served.result, fresh.result);
        assert_eq!(served.ending.change, fresh.ending.change);
    }
    assert_eq!(parent::idle_fork_server_pids(&found).len(), 1);
    drop(dir);
}

#[test]
#[cfg(unix)]
#[cfg_attr(
    not(have_observer_ruby),
    ignore = "ruby is not installed: cargo xtask install observers"
)]
fn a_served_ruby_case_gives_the_probe_what_a_fresh_ruby_does() {
    // Ruby's Process::Status of an exit 5: exitstatus 5, termsig nil.
    a_served_case_gives_the_probe_what_a_fresh_parent_does(
        "ruby",
        &["--disable-gems"],
        "ruby_observer.rb",
        "5 nil false\n",
    );
}

/// The server killed in the middle of a case: that cell is an error (not
/// observed), never a value, the case's probe does not outlive it, and the
/// next cell gets a new server that works.
#[test]
#[cfg(unix)]
#[cfg_attr(
    not(have_observer_ruby),
    ignore = "ruby is not installed: cargo xtask install observers"
)]
fn a_ruby_server_killed_mid_case_is_not_observed_and_restarted() {
    use exitmatrix::observers::parent::idle_fork_server_pids;
    let (dir, ruby) = private_program("ruby");
    let observer = registry::by_name_in("ruby", &dir.path().to_string_lossy()).unwrap();
    let run = |program: &str, args: &[&str]| {
        let invocation = Invocation {
            runner: Vec::new(),
            program: program.into(),
            args: args.iter().map(|&a| a.to_owned()).collect(),
        };
        observer.observe(&Case {
            invocation: &invocation,
            core: false,
            wait: WAIT,
            timeout: Duration::from_secs(60),
            grace: Duration::from_secs(1),
            continue_stops: true,
            interrupt: None,
        })
    };
    let first = run("/bin/sh", &["-c", "exit 7"]).unwrap();
    assert_eq!(first.reported, Some(vec![text("exitstatus: 7")]));
    let servers = idle_fork_server_pids(&ruby);
    assert_eq!(servers.len(), 1, "{servers:?}");
    let server = libc::pid_t::try_from(servers[0]).unwrap();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        // SAFETY: kill(2) on the server, which is this process's unreaped
        // child (the pool lent it to the cell that runs), so the pid is its own.
        unsafe { libc::kill(server, libc::SIGKILL) }
    });
    let started = std::time::Instant::now();
    let killed = run("/bin/sleep", &["6.75"]);
    assert_eq!(killer.join().unwrap(), 0);
    let error = killed.expect_err("a dead server's cell has no value");
    assert!(error.contains("forking server failed"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // A new server serves the next cell.
    let again = run("/bin/sh", &["-c", "kill -TERM $$"]).unwrap();
    assert_eq!(again.reported, Some(vec![text("termsig: 15")]));
    let now = idle_fork_server_pids(&ruby);
    assert_eq!(now.len(), 1);
    assert_ne!(now[0], servers[0]);
}
