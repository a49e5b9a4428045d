//! The assertion library as another crate's tests would use it.

use std::panic;

use assert_cmd::Command;
use exitmatrix::assert::{ends, state_change_of, AssertEnd};
use exitmatrix::pure::decode::StateChange;
use exitmatrix::pure::signal::Signal;
use predicates_core::Predicate;
use predicates_tree::CaseTreeExt;
use rstest::rstest;

fn sh(script: &str) -> Command {
    let mut c = Command::new("/bin/sh");
    c.args(["-c", script]).env_clear();
    c
}

/// The panic message of `f`, which must panic.
fn panic_message(f: impl FnOnce() + panic::UnwindSafe) -> String {
    let err = panic::catch_unwind(f).expect_err("the assertion should fail");
    err.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn passing_assertions_chain() {
    sh("kill -ABRT $$")
        .assert()
        .signaled(Signal::ABRT)
        .failure();
    sh("exit 255").assert().exited(255).code(255);
    sh("kill -TERM $$")
        .assert()
        .ended(ends::signaled(Signal::TERM));
}

#[test]
#[cfg(unix)]
fn a_core_dump_is_seen_when_one_is_made() {
    // The shell raises its own limit and dies of SIGQUIT in a directory of
    // its own, so the core file goes there and away with it.
    let dir = tempfile::TempDir::new().unwrap();
    let assert = sh("ulimit -c unlimited; kill -QUIT $$")
        .current_dir(dir.path())
        .assert();
    // Only a relative core_pattern writes into that directory (core(5)).
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    if exitmatrix::engine::matrix::cores_contained(pattern.trim()) {
        assert.core_dumped().signaled(Signal::QUIT);
    } else {
        assert.signaled(Signal::QUIT);
    }
}

/// A failure explains itself: what was expected, what was observed, and
/// assert_cmd's account of the command.
#[rstest]
#[case::exit_instead_of_signal("exit 3", ends::signaled(Signal::ABRT), &["killed by SIGABRT (6)", "observed: exit 3"])]
#[case::signal_instead_of_exit("kill -KILL $$", ends::exited(0), &["exited with code 0", "observed: signal SIGKILL"])]
#[case::no_core("kill -TERM $$", ends::core_dumped(), &["with a core dump", "observed: signal SIGTERM"])]
fn a_failure_shows_expected_and_observed(
    #[case] script: &'static str,
    #[case] pred: exitmatrix::assert::EndPredicate,
    #[case] needles: &[&str],
) {
    let message = panic_message(move || {
        sh(script).assert().ended(pred);
    });
    for needle in needles {
        assert!(message.contains(needle), "{needle:?} not in:\n{message}");
    }
    assert!(
        message.contains("/bin/sh"),
        "the command is named:\n{message}"
    );
}

#[test]
fn predicates_work_on_exit_status_and_termination() {
    let status = sh("kill -SEGV $$").output().unwrap().status;
    assert!(ends::signaled(Signal::SEGV).eval(&status));
    assert!(!ends::exited(0).eval(&status));
    let t = state_change_of(&status);
    assert!(matches!(t, StateChange::Signaled { signal, .. } if signal == Signal::SEGV));
    let exited_0 = ends::exited(0);
    let case = exited_0.find_case(false, &status).unwrap();
    let tree = case.tree().to_string();
    assert!(
        tree.contains("exited with code 0") && tree.contains("raw status"),
        "{tree}"
    );
    assert!(ends::exited(0).find_case(true, &status).is_none());
}

#[test]
#[cfg(unix)]
fn host_signal_constants_match_libc() {
    assert_eq!(Signal::ABRT.number(), libc::SIGABRT);
    assert_eq!(Signal::KILL.number(), libc::SIGKILL);
    assert_eq!(Signal::STOP.number(), libc::SIGSTOP);
}
