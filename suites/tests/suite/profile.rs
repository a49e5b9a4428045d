//! Profiles: loading, inheritance, rule choice, and one clear error with
//! file, line and column for every kind of bad input.

use std::fs;
use std::path::Path;

use exitmatrix::pure::catalogue::{self, Build};
use exitmatrix::pure::decode::StateChange;
use exitmatrix::pure::profile::{Profile, ProfileError};
use exitmatrix::toolchain::probes::HOST;
use rstest::rstest;
use tempfile::TempDir;

use crate::common::root;

fn load(dir: &Path, name: &str) -> Result<Profile, ProfileError> {
    Profile::load(dir, name, &exitmatrix::pure::observers::NATIVE)
}

/// A profile directory holding `files`, plus a minimal valid base.
fn dir_with(files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new().unwrap();
    fs::write(
        dir.path().join("base.toml"),
        "signals = \"linux-generic\"\nwait = \"linux\"\n",
    )
    .unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(format!("{name}.toml")), text).unwrap();
    }
    dir
}

/// Every behaviour × build × reaper of the catalogue has an expectation in
/// the native target's profile: a new behaviour without one fails here.
/// (A shell or Python observer's expectation is derived from the waitpid
/// one; cells an observer does not run, such as the hostile probes under a
/// shell, need none.)
#[test]
fn every_catalogue_cell_has_an_expectation_in_the_native_profile() {
    let profile = load(&root().join("profiles"), HOST).unwrap();
    let observers = exitmatrix::observers::registry::all(&crate::common::observer_path());
    let mut missing = Vec::new();
    for b in catalogue::catalogue() {
        for &build in b.builds() {
            for o in observers.iter().filter(|o| o.runs(&b)) {
                let reaper = o.name();
                if profile.expectation(&b.name, build, reaper).is_none() {
                    missing.push(format!("{} [{build} · {reaper}]", b.name));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "cells without expectation:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_shipped_profile_loads_and_every_rule_cites() {
    let dir = root().join("profiles");
    let names = exitmatrix::pure::profile::available(&dir);
    assert!(names.contains(&HOST.to_owned()), "{names:?}");
    // Every column of every host: the Windows profiles map `cmd` from
    // `GetExitCodeProcess`, columns of a Windows host only.
    let all = exitmatrix::pure::observers::all_names();
    for name in names {
        match Profile::load(&dir, &name, &all) {
            Ok(p) => {
                for b in catalogue::catalogue() {
                    for &build in b.builds() {
                        for reaper in &all {
                            if let Some(e) = p.expectation(&b.name, build, reaper) {
                                assert!(
                                    e.cite.len() > 10,
                                    "{name}: {}: thin citation {:?}",
                                    b.name,
                                    e.cite
                                );
                            }
                        }
                    }
                }
            }
            // Family profiles (posix, linux) leave numbering to the target.
            Err(ProfileError::Missing { key, .. }) => assert!(key == "signals" || key == "wait"),
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

#[test]
fn native_chain_and_conventions() {
    let p = load(&root().join("profiles"), HOST).unwrap();
    assert_eq!(p.chain, [HOST, "linux-gnu", "linux", "posix", "observers"]);
    assert_eq!(p.signals.name, "linux-generic");
    assert_eq!(p.wait, exitmatrix::pure::decode::WaitConventions::LINUX);
}

/// The waitid rule for exit(256) comes from linux.toml, overriding POSIX's
/// "full value", while waitpid keeps POSIX's rule.
#[test]
fn derived_profile_overrides_base_for_the_same_filters() {
    let p = load(&root().join("profiles"), HOST).unwrap();
    let waitid = p.expectation("exit-256", Build::Unwind, "waitid").unwrap();
    assert_eq!(waitid.profile, "linux");
    assert_eq!(waitid.any_of, vec![vec![StateChange::Exited { code: 0 }]]);
    let waitpid = p.expectation("exit-256", Build::Unwind, "waitpid").unwrap();
    assert_eq!(waitpid.profile, "posix");
}

#[test]
fn more_filters_win_then_depth_then_order() {
    let dir = dir_with(&[(
        "t",
        r#"inherits = "base"
[[expect]]
behaviours = ["abort"]
outcome = "exit 1"
cite = "first"
[[expect]]
behaviours = ["abort"]
outcome = "exit 2"
cite = "later in the file"
[[expect]]
behaviours = ["abort"]
builds = ["abort"]
outcome = "exit 3"
cite = "build filter"
[[expect]]
behaviours = ["abort"]
builds = ["abort"]
observers = ["std"]
outcome = "exit 4"
cite = "two filters"
"#,
    )]);
    let p = load(dir.path(), "t").unwrap();
    let cite = |build, reaper| p.expectation("abort", build, reaper).unwrap().cite.clone();
    assert_eq!(cite(Build::Unwind, "waitpid"), "later in the file");
    assert_eq!(cite(Build::Abort, "waitpid"), "build filter");
    assert_eq!(cite(Build::Abort, "std"), "two filters");
    assert!(p.expectation("panic-main", Build::Unwind, "std").is_none());
}

#[test]
fn core_is_wanted_only_when_an_outcome_ends_in_a_core_dump() {
    let p = load(&root().join("profiles"), HOST).unwrap();
    assert!(p
        .expectation("abort", Build::Unwind, "std")
        .unwrap()
        .wants_core());
    assert!(!p
        .expectation("raise-SIGTERM", Build::Unwind, "std")
        .unwrap()
        .wants_core());
    assert!(!p
        .expectation("exit-0", Build::Unwind, "std")
        .unwrap()
        .wants_core());
}

/// One clear error for each kind of malformed profile, with file, line and
/// column, and the message naming the problem.
#[rstest]
#[case::syntax("[[expect]\n", 1, "")]
#[case::wrong_type(
    "inherits = \"base\"\n[[expect]]\nbehaviours = [\"abort\"]\noutcome = 5\ncite = \"x\"\n",
    4,
    ""
)]
#[case::unknown_key("inherits = \"base\"\nflavour = \"x\"\n", 2, "unknown field")]
#[case::unknown_behaviour(
    "inherits = \"base\"\n[[expect]]\nbehaviours = [\"abort\", \"abrot\"]\noutcome = \"exit 0\"\ncite = \"x\"\n",
    3,
    "unknown behaviour `abrot`"
)]
#[case::unknown_signal(
    "inherits = \"base\"\n[[expect]]\nbehaviours = [\"abort\"]\noutcome = \"signal SIGABORT\"\ncite = \"x\"\n",
    4,
    "unknown signal name `SIGABORT`"
)]
#[case::bad_outcome(
    "inherits = \"base\"\n[[expect]]\nbehaviours = [\"abort\"]\noutcome = \"died horribly\"\ncite = \"x\"\n",
    4,
    "cannot read `died horribly`"
)]
#[case::not_final(
    "inherits = \"base\"\n[[expect]]\nbehaviours = [\"abort\"]\noutcome = \"exit 0, continued\"\ncite = \"x\"\n",
    4,
    "must end with exactly one final state"
)]
#[case::unknown_build(
    "inherits = \"base\"\n[[expect]]\nbehaviours = [\"abort\"]\nbuilds = [\"debug\"]\noutcome = \"exit 0\"\ncite = \"x\"\n",
    4,
    "unknown build `debug`"
)]
#[case::unknown_observer(
    "inherits = \"base\"\n[[expect]]\nbehaviours = [\"abort\"]\nobservers = [\"wait3\"]\noutcome = \"exit 0\"\ncite = \"x\"\n",
    4,
    "unknown observer `wait3`"
)]
#[case::empty_cite(
    "inherits = \"base\"\n[[expect]]\nbehaviours = [\"abort\"]\noutcome = \"exit 0\"\ncite = \"  \"\n",
    5,
    "cites its source"
)]
#[case::unknown_parent("inherits = \"nowhere\"\n", 1, "no profile `nowhere`")]
#[case::unknown_table(
    "signals = \"plan9\"\nwait = \"linux\"\n",
    1,
    "unknown signal table `plan9`"
)]
#[case::unknown_wait(
    "inherits = \"base\"\nwait = \"vms\"\n",
    2,
    "unknown wait layout `vms`"
)]
fn malformed_profile_gives_file_line_and_message(
    #[case] text: &str,
    #[case] line: usize,
    #[case] needle: &str,
) {
    let dir = dir_with(&[("t", text)]);
    let err = load(dir.path(), "t").unwrap_err();
    let shown = err.to_string();
    let ProfileError::Invalid { location, message } = &err else {
        panic!("expected a located error, got {shown}");
    };
    assert_eq!(location.file, dir.path().join("t.toml"), "{shown}");
    assert_eq!(location.line, line, "{shown}");
    assert!(location.column >= 1);
    assert!(message.contains(needle), "{shown}");
    assert!(
        shown.starts_with(&format!("{}:{line}:", dir.path().join("t.toml").display())),
        "{shown}"
    );
    assert_eq!(shown.lines().count(), 1, "one line: {shown}");
}

#[test]
fn inheritance_cycle_is_an_error() {
    let dir = dir_with(&[("a", "inherits = \"b\"\n"), ("b", "inherits = \"a\"\n")]);
    let err = load(dir.path(), "a").unwrap_err().to_string();
    assert!(err.contains("inheritance cycle through `a`"), "{err}");
}

#[test]
fn unknown_profile_lists_the_known_ones() {
    let dir = dir_with(&[]);
    let err = load(dir.path(), "sparc-sun-solaris")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no profile `sparc-sun-solaris`") && err.contains("base"),
        "{err}"
    );
}

#[test]
fn a_chain_without_numbering_says_which_key_is_missing() {
    let dir = dir_with(&[("t", "wait = \"linux\"\n")]);
    let err = load(dir.path(), "t").unwrap_err();
    assert!(
        matches!(err, ProfileError::Missing { key: "signals", .. }),
        "{err}"
    );
}
