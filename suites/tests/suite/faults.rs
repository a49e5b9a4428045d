//! Fault injection (issue #11): each test breaks one link of the chain
//! (the runner, the probe, the decoder, the profile, the selection) and
//! checks that the matrix does not pass: it must end non-zero, with a
//! reason that names the fault.
//!
//! [`FAULTS`] lists the faults, one test each, in the order of the issue;
//! `every_injected_fault_has_a_test_of_its_own` keeps the list and the tests
//! in step, so the count that `cargo test` shows (`faults::fault_*`, ok or
//! ignored) is the count of faults injected. A fault that needs a foreign
//! target is ignored, with the reason, where the target is not installed:
//! never counted as caught.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use clap::Parser;
use exitmatrix::cli::{self, ExitCode};
use exitmatrix::engine::matrix::{self, Cell, Limits};
use exitmatrix::observers::observe::{Case, Observation, Observer};
use exitmatrix::pure::catalogue::{self, Build};
use exitmatrix::pure::decode::{decode_wait_status, RawStatus, StateChange, WaitConventions};
use exitmatrix::pure::profile::Profile;
use exitmatrix::report::model::Verdict;
use exitmatrix::toolchain::probes::HOST;
use tempfile::TempDir;

use crate::common::{self, matrix, private_probes, probes, root, run_args, target_dir, Run};

/// Every fault this suite injects: the name of its test and what it breaks.
const FAULTS: [(&str, &str); 8] = [
    (
        "fault_1_a_runner_that_runs_nothing_fails_its_canary",
        "a runner that runs nothing (/bin/true)",
    ),
    (
        "fault_2_a_runner_that_drops_the_status_fails_its_canary",
        "a runner that runs the program and exits 0",
    ),
    (
        "fault_3_the_wrong_architectures_emulator_fails_its_canary",
        "qemu-mips64el as the runner of aarch64",
    ),
    (
        "fault_4_a_probe_replaced_by_another_program_deviates",
        "probe-unwind/probe replaced by /bin/true",
    ),
    (
        "fault_5_a_decoder_that_ignores_the_core_bit_deviates",
        "a decoder that ignores the core bit",
    ),
    (
        "fault_6_a_profile_that_denies_the_sigquit_core_deviates",
        "a profile that says SIGQUIT ends without a core",
    ),
    (
        "fault_7_an_empty_selection_is_a_usage_error_and_writes_no_report",
        "a selection with no cell (wasm32-wasi, --build unwind)",
    ),
    (
        "fault_8_an_unknown_behaviour_is_a_usage_error",
        "a behaviour that does not exist",
    ),
];

/// Says on stderr (shown with `--nocapture`, or when a test fails) which
/// fault was caught, and how.
fn caught(test: &str, how: &str) {
    let (n, (_, what)) = FAULTS
        .iter()
        .enumerate()
        .find(|(_, (name, _))| *name == test)
        .unwrap_or_else(|| panic!("{test} is not in FAULTS"));
    eprintln!("fault {} of {} caught: {what}: {how}", n + 1, FAULTS.len());
}

fn story(run: &Run) -> String {
    format!(
        "exit {}\n--- stdout\n{}\n--- stderr\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// The first line of stderr, which names the failure.
fn reason(run: &Run) -> &str {
    run.stderr.lines().next().unwrap_or("")
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: cli::MatrixArgs,
}

/// `test-matrix` in process for a foreign target, with a fresh interrupt
/// flag: the probes are cross-built (or found current) in the suite's
/// target directory, the reports go to `out`.
fn foreign(out: &Path, args: &[&str]) -> Run {
    let target = target_dir();
    let mut argv = vec![
        "test-matrix",
        "--target-dir",
        target.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ];
    argv.extend_from_slice(args);
    let args = Cli::try_parse_from(&argv)
        .unwrap_or_else(|e| panic!("{e}"))
        .args;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = cli::test_matrix_with(
        &args,
        &mut stdout,
        &mut stderr,
        Arc::new(AtomicUsize::new(0)),
    );
    Run {
        code,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// The report files `out` holds.
fn reports_in(out: &Path) -> Vec<String> {
    match fs::read_dir(out) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("report-"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Selections of behaviours that exit 0, which a runner that runs nothing
/// or loses the status would otherwise pass.
const EXIT_0_SELECTIONS: [&[&str]; 2] = [
    &["-b", "exit-0"],
    &[
        "-b",
        "exit-0",
        "-b",
        "main-unit",
        "-b",
        "exitcode-success",
        "-b",
        "exit-256",
    ],
];

/// Runs the i686 or aarch64 matrix with `runner` on each selection of
/// [`EXIT_0_SELECTIONS`] and checks that each run fails with a runner
/// error naming `program`. Returns the first reason seen.
fn runner_fails_its_canary(triple: &str, runner: &str, program: &str) -> String {
    let mut first = None;
    for selection in EXIT_0_SELECTIONS {
        let out = TempDir::new().unwrap();
        let mut args = vec!["--target", triple, "--runner", runner];
        args.extend_from_slice(selection);
        let run = foreign(out.path(), &args);
        assert_eq!(run.code, ExitCode::Runner.code(), "{}", story(&run));
        assert!(
            run.stderr.contains(&format!("runner `{program}`")),
            "the error names the runner:\n{}",
            story(&run)
        );
        first.get_or_insert_with(|| reason(&run).to_owned());
    }
    first.unwrap()
}

#[test]
#[cfg_attr(
    not(have_target_i686_unknown_linux_gnu),
    ignore = "target i686-unknown-linux-gnu is not installed: cargo xtask install-targets"
)]
fn fault_1_a_runner_that_runs_nothing_fails_its_canary() {
    // /bin/true runs no program and exits 0: every exit-0 cell would pass
    // through it. The canary's nonce and unusual exit code cannot.
    let why = runner_fails_its_canary("i686-unknown-linux-gnu", "/bin/true", "/bin/true");
    caught(
        "fault_1_a_runner_that_runs_nothing_fails_its_canary",
        &format!("exit 7: {why}"),
    );
}

#[test]
#[cfg_attr(
    not(have_target_i686_unknown_linux_gnu),
    ignore = "target i686-unknown-linux-gnu is not installed: cargo xtask install-targets"
)]
fn fault_2_a_runner_that_drops_the_status_fails_its_canary() {
    // The program runs (its output is there) but its status is lost: the
    // runner always exits 0.
    let dir = TempDir::new().unwrap();
    let script = dir.path().join("drop-status");
    fs::write(&script, "#!/bin/sh\n\"$@\"\nexit 0\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let script = script.to_str().unwrap();
    let why = runner_fails_its_canary("i686-unknown-linux-gnu", script, script);
    caught(
        "fault_2_a_runner_that_drops_the_status_fails_its_canary",
        &format!("exit 7: {why}"),
    );
}

#[test]
#[cfg_attr(
    not(all(
        have_target_aarch64_unknown_linux_gnu,
        have_target_mips64el_unknown_linux_gnuabi64
    )),
    ignore = "targets aarch64-unknown-linux-gnu and mips64el-unknown-linux-gnuabi64 are not both installed: cargo xtask install-targets"
)]
fn fault_3_the_wrong_architectures_emulator_fails_its_canary() {
    // qemu-mips64el cannot load an aarch64 binary: it complains and exits
    // non-zero, whatever the program was to do.
    let why = runner_fails_its_canary(
        "aarch64-unknown-linux-gnu",
        "/usr/bin/qemu-mips64el -L /usr/mips64el-linux-gnuabi64",
        "/usr/bin/qemu-mips64el",
    );
    caught(
        "fault_3_the_wrong_architectures_emulator_fails_its_canary",
        &format!("exit 7: {why}"),
    );
}

#[test]
fn fault_4_a_probe_replaced_by_another_program_deviates() {
    // `--no-build` checks only that the probe exists and is executable; a
    // program that exits 0 whatever it is asked must still deviate. The
    // catalogue has no `exit-3` (`-b exit-3` selects only the C row
    // `c-exit-from-atexit-3-7`), so the non-zero code is `exit-1`'s; the
    // pattern also selects exit-126, -127 and -128.
    let target = private_probes();
    let probe = target.path().join("probe-unwind").join("probe");
    fs::copy("/bin/true", &probe).unwrap();
    let out = TempDir::new().unwrap();
    let run = run_args(&common::matrix_args(
        target.path(),
        out.path(),
        // matrix_args puts `--no-build` first.
        &["-b", "exit-1", "--build", "unwind"],
    ));
    assert_eq!(run.code, ExitCode::Deviates.code(), "{}", story(&run));
    assert!(
        run.stdout.contains("deviation: exit-1 [unwind · waitpid]"),
        "{}",
        story(&run)
    );
    assert!(
        run.stdout
            .contains("outcome: expected exit 1, observed exit 0"),
        "{}",
        story(&run)
    );
    let summary = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{HOST}:")))
        .unwrap_or("")
        .to_owned();
    caught(
        "fault_4_a_probe_replaced_by_another_program_deviates",
        &format!("exit 1: deviation: exit-1 [unwind · waitpid]: outcome: expected exit 1, observed exit 0; {summary}"),
    );
}

/// The `waitpid` column with a decoder mutant. The decoder is pure and has
/// no hook, but the [`Observer`] trait is the engine's seam for columns:
/// this observer runs the real `waitpid` observer, then decodes each raw
/// status word it received again with the mutant, `decode_wait_status` of
/// the word with the core bit (WCOREFLAG, 0x80) cleared. Everything else
/// (spawn, the raw word, the profile, `run_cell`'s comparison) is the
/// engine's own, so the fault sits in the decoder alone.
#[derive(Debug)]
struct CoreBitIgnored(Box<dyn Observer>);

fn core_bit_ignored(status: i32, wait: &WaitConventions) -> StateChange {
    decode_wait_status(status & !0x80, wait)
}

impl Observer for CoreBitIgnored {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn observe(&self, case: &Case<'_>) -> Result<Observation, String> {
        let mut seen = self.0.observe(case)?;
        for state in &mut seen.states {
            if let RawStatus::WaitStatus { status } = state.raw {
                state.change = core_bit_ignored(status, case.wait);
            }
        }
        Ok(seen)
    }
}

/// Whether this machine keeps cores where the matrix can see them; if not,
/// the core flag is not compared at all and a fault in it cannot be caught.
fn cores_contained() -> bool {
    let pattern = exitmatrix::os::core_pattern().unwrap_or_default();
    assert!(
        matrix::cores_contained(&pattern),
        "core_pattern is `{pattern}`: cores are not kept in the case's directory, so the matrix does not compare the core flag and this fault cannot be caught here"
    );
    true
}

#[test]
fn fault_5_a_decoder_that_ignores_the_core_bit_deviates() {
    let limits = Limits {
        cores_contained: cores_contained(),
        ..Limits::default()
    };
    let profile = Profile::load(
        &root().join("profiles"),
        HOST,
        &exitmatrix::pure::observers::NATIVE,
    )
    .unwrap();
    let quit = catalogue::find("raise-SIGQUIT").unwrap();
    let run = |observer: &dyn Observer| {
        let cell = Cell {
            behaviour: &quit,
            build: Build::Unwind,
            observer,
        };
        matrix::run_cell(&cell, &profile, probes(), limits, None)
    };

    // The control: the real decoder sees the core, and the cell conforms.
    let real = exitmatrix::observers::registry::by_name("waitpid").unwrap();
    let row = run(real.as_ref());
    assert_eq!(row.verdict, Verdict::Conforms, "{row:?}");
    assert_eq!(row.observed_text, "signal SIGQUIT core", "{row:?}");

    // The mutant: the same raw word, the core bit still set in it, but
    // decoded without it; the comparison catches it.
    let mutant = CoreBitIgnored(exitmatrix::observers::registry::by_name("waitpid").unwrap());
    let row = run(&mutant);
    assert_eq!(row.verdict, Verdict::Deviates, "{row:?}");
    let RawStatus::WaitStatus { status } = row.observed[0].raw else {
        panic!("waitpid gives a status word: {row:?}")
    };
    assert_ne!(status & 0x80, 0, "the kernel set the core bit: {row:?}");
    assert_eq!(
        row.problems,
        ["outcome: expected signal SIGQUIT core, observed signal SIGQUIT"],
        "{row:?}"
    );
    caught(
        "fault_5_a_decoder_that_ignores_the_core_bit_deviates",
        &format!(
            "raise-SIGQUIT [unwind · waitpid], raw {}: deviates: {}",
            row.observed[0].raw_text, row.problems[0]
        ),
    );
}

/// A copy of the shipped profiles (the files only: `emulators/` is for
/// foreign runs) that a test may break.
fn profiles_copy() -> TempDir {
    let dir = TempDir::new().unwrap();
    for entry in fs::read_dir(root().join("profiles")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    dir
}

#[test]
fn fault_6_a_profile_that_denies_the_sigquit_core_deviates() {
    // Cores are enabled for every case that may end by a signal (when the
    // core_pattern keeps them in the case's directory), so "no core" is
    // observed, not imposed: a rule that says SIGQUIT leaves none is
    // wrong, and the matrix shows it.
    cores_contained();
    let profiles = profiles_copy();
    let dir = profiles.path().to_str().unwrap();
    let args = [
        "-b",
        "raise-SIGQUIT",
        "--profiles",
        dir,
        "--observer",
        "waitpid",
        "--observer",
        "waitid",
        "--observer",
        "std",
    ];

    // The control: the unchanged copy passes the same selection.
    let out = TempDir::new().unwrap();
    let run = matrix(out.path(), &args);
    assert_eq!(run.code, ExitCode::Conforms.code(), "{}", story(&run));

    // The fault: the rule of raise-SIGQUIT (with kill-SIGQUIT and
    // c-raise-SIGQUIT in the same rule) loses its core.
    let posix = profiles.path().join("posix.toml");
    let text = fs::read_to_string(&posix).unwrap();
    let rule = text
        .find("\"raise-SIGQUIT\"")
        .expect("posix.toml has a rule for raise-SIGQUIT");
    let wanted = "outcome = \"signal SIGQUIT core\"";
    let at = rule + text[rule..].find(wanted).unwrap();
    assert!(
        !text[rule..at].contains("[[expect]]"),
        "the outcome belongs to the rule of raise-SIGQUIT"
    );
    let broken = format!(
        "{}outcome = \"signal SIGQUIT\"{}",
        &text[..at],
        &text[at + wanted.len()..]
    );
    fs::write(&posix, broken).unwrap();
    let out = TempDir::new().unwrap();
    let run = matrix(out.path(), &args);
    assert_eq!(run.code, ExitCode::Deviates.code(), "{}", story(&run));
    let line = "deviation: raise-SIGQUIT [unwind · waitpid]";
    assert!(run.stdout.contains(line), "{}", story(&run));
    let problem = "outcome: expected signal SIGQUIT, observed signal SIGQUIT core";
    assert!(run.stdout.contains(problem), "{}", story(&run));
    caught(
        "fault_6_a_profile_that_denies_the_sigquit_core_deviates",
        &format!("exit 1: {line}: {problem} (the unchanged profiles: exit 0)"),
    );
}

#[test]
#[cfg_attr(
    not(have_target_wasm32_wasi),
    ignore = "target wasm32-wasi is not installed: cargo xtask install-targets"
)]
fn fault_7_an_empty_selection_is_a_usage_error_and_writes_no_report() {
    // wasm32-wasi builds only `abort`: `--build unwind` leaves no cell, and
    // a run of nothing must not look like a pass.
    let out = TempDir::new().unwrap();
    let run = foreign(
        out.path(),
        &["--target", "wasm32-wasi", "--build", "unwind"],
    );
    assert_eq!(run.code, ExitCode::Usage.code(), "{}", story(&run));
    assert!(!reason(&run).is_empty(), "{}", story(&run));
    assert_eq!(
        reports_in(out.path()),
        Vec::<String>::new(),
        "{}",
        story(&run)
    );
    caught(
        "fault_7_an_empty_selection_is_a_usage_error_and_writes_no_report",
        &format!("exit 2, no report: {}", reason(&run)),
    );
}

#[test]
fn fault_8_an_unknown_behaviour_is_a_usage_error() {
    let out = TempDir::new().unwrap();
    let run = matrix(out.path(), &["-b", "no-such-behaviour"]);
    assert_eq!(run.code, ExitCode::Usage.code(), "{}", story(&run));
    assert!(
        run.stderr.contains("no-such-behaviour"),
        "the error names the pattern:\n{}",
        story(&run)
    );
    assert_eq!(
        reports_in(out.path()),
        Vec::<String>::new(),
        "{}",
        story(&run)
    );
    caught(
        "fault_8_an_unknown_behaviour_is_a_usage_error",
        &format!("exit 2, no report: {}", reason(&run)),
    );
}

/// [`FAULTS`] and the `fault_*` tests of this file are the same list, in
/// the same order, so `cargo test`'s count of them is the count of faults.
#[test]
fn every_injected_fault_has_a_test_of_its_own() {
    let source = include_str!("faults.rs");
    let tests: Vec<&str> = source
        .split("\nfn ")
        .skip(1)
        .filter_map(|rest| rest.split('(').next())
        .filter(|name| name.starts_with("fault_"))
        .collect();
    let listed: Vec<&str> = FAULTS.iter().map(|(name, _)| *name).collect();
    assert_eq!(tests, listed);
    for name in &tests {
        let at = source.find(&format!("\nfn {name}(")).unwrap();
        let before = &source[..at];
        let attrs = &before[before.rfind("\n}\n").unwrap()..];
        assert!(attrs.contains("#[test]"), "{name} is a test");
    }
    eprintln!(
        "faults injected: {} (each caught by its own test: faults::fault_*)",
        FAULTS.len()
    );
}
