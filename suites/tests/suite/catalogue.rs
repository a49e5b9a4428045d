//! The catalogue and the probes agree: names are unique, every verb the
//! catalogue uses exists, and the C probe's <signal.h> agrees with the
//! harness's tables.

use std::collections::HashSet;

use assert_cmd::Command;
use exitmatrix::pure::catalogue::{self, Build, ProbeBin, POSIX_SIGNALS};
use exitmatrix::pure::signal::LINUX_GENERIC;

use crate::common::probes;

#[test]
fn names_are_unique_and_readable() {
    let all = catalogue::catalogue();
    let mut seen = HashSet::new();
    for b in &all {
        assert!(
            seen.insert(b.name.clone()),
            "duplicate behaviour {}",
            b.name
        );
        assert!(!b.name.contains(char::is_whitespace), "{}", b.name);
        assert!(!b.summary.is_empty(), "{}", b.name);
    }
    assert!(all.len() > 100, "{}", all.len());
}

#[test]
fn every_placeholder_resolves_in_the_native_table() {
    for b in catalogue::catalogue() {
        b.resolved_args(|n| LINUX_GENERIC.number(n).map(|s| s.0))
            .unwrap_or_else(|n| panic!("{}: unknown signal {n}", b.name));
    }
}

fn listed_verbs(bin: ProbeBin, build: Build) -> HashSet<String> {
    let path = probes().path(build, bin).unwrap();
    let out = Command::new(path)
        .arg("--list")
        .env_clear()
        .output()
        .unwrap();
    assert!(out.status.success(), "{bin:?} --list: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The probes know every verb the catalogue sends them.
#[test]
fn every_catalogue_verb_is_known_to_its_probe() {
    let rust = listed_verbs(ProbeBin::Probe, Build::Unwind);
    let c = listed_verbs(ProbeBin::CProbe, Build::C);
    for b in catalogue::catalogue() {
        let verbs = match b.probe {
            ProbeBin::Probe => &rust,
            ProbeBin::CProbe => &c,
            _ => continue,
        };
        assert!(
            verbs.contains(&b.args[0]),
            "{}: verb {} not in {:?}",
            b.name,
            b.args[0],
            verbs
        );
    }
}

/// The C probe names signals through the C library's own <signal.h>: an
/// independent check of the table the harness uses for the native target.
#[test]
fn c_signal_h_agrees_with_the_native_table() {
    let cprobe = probes().path(Build::C, ProbeBin::CProbe).unwrap();
    for name in POSIX_SIGNALS {
        let out = Command::new(&cprobe)
            .args(["signum", name])
            .env_clear()
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {out:?}");
        let number: i32 = String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(
            Some(number),
            LINUX_GENERIC.number(name).map(|s| s.0),
            "{name}"
        );
    }
}

/// A probe given a bad argument says so on one line and exits 120, the
/// probes' usage status, which no catalogue behaviour expects.
#[test]
fn probes_reject_bad_arguments_with_status_120() {
    for (bin, build) in [
        (ProbeBin::Probe, Build::Abort),
        (ProbeBin::MainExitCode, Build::Unwind),
        (ProbeBin::CProbe, Build::C),
    ] {
        let path = probes().path(build, bin).unwrap();
        Command::new(path)
            .arg("no-such-verb")
            .env_clear()
            .assert()
            .code(120)
            .stderr(predicates::str::contains("usage"));
    }
}
