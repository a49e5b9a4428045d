//! `test-matrix` end to end, in process: exit codes, reports and diffs.

use std::fs;
use std::path::Path;

use exitmatrix::cli::ExitCode;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{matrix, parse_matrix_args, root};

fn report(out: &Path) -> Value {
    let path = out.join(format!(
        "report-{}.json",
        exitmatrix::toolchain::probes::HOST
    ));
    serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap()
}

/// A copy of the shipped profiles that a test may break (the profiles
/// only: `emulators/` holds notes for foreign runs).
fn profiles_copy() -> TempDir {
    let dir = TempDir::new().unwrap();
    for entry in fs::read_dir(root().join("profiles")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            continue;
        }
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

#[test]
fn a_conforming_run_exits_0_and_reports_every_cell() {
    let out = TempDir::new().unwrap();
    let reapers = [
        "--observer",
        "waitpid",
        "--observer",
        "waitid",
        "--observer",
        "std",
    ];
    let run = matrix(
        out.path(),
        &[&["-b", "exit-25", "-b", "c-abort", "-j", "2"][..], &reapers].concat(),
    );
    assert_eq!(
        run.code,
        ExitCode::Conforms.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    // Every matching behaviour × its builds × 3 observers.
    let cells: usize = exitmatrix::pure::catalogue::catalogue()
        .iter()
        .filter(|b| b.name.contains("exit-25") || b.name.contains("c-abort"))
        .map(|b| b.builds().len() * 3)
        .sum();
    assert!(cells > 20, "{cells}");
    let line = format!(
        "{cells} cells, {cells} conform ({cells} on cited rules, 0 on blessed rules), 0 deviate"
    );
    assert!(run.stdout.contains(&line), "{}", run.stdout);
    let r = report(out.path());
    assert_eq!(r["schema"], 1);
    assert_eq!(r["summary"]["cells"], cells);
    let cells = r["cells"].as_array().unwrap();
    let cell = cells
        .iter()
        .find(|c| {
            c["behaviour"] == "exit-256" && c["build"] == "abort" && c["observer"] == "waitid"
        })
        .unwrap();
    assert_eq!(
        cell["observed"][0]["raw"],
        serde_json::json!({"kind": "sig-info", "code": 1, "status": 0})
    );
    assert_eq!(cell["observed_text"], "exit 0");
    assert_eq!(cell["expected"]["profile"], "linux");
    assert!(cell["expected"]["cite"]
        .as_str()
        .unwrap()
        .contains("kernel/exit.c"));
    let abort = cells.iter().find(|c| c["behaviour"] == "c-abort").unwrap();
    assert_eq!(abort["core_enabled"], true);
    assert_eq!(abort["cores"], serde_json::json!(["core"]), "{abort}");
}

#[test]
fn a_wrong_expectation_exits_1_with_a_diff() {
    let profiles = profiles_copy();
    let linux = profiles.path().join("linux.toml");
    let text = fs::read_to_string(&linux).unwrap();
    let broken = text.replacen("outcome = \"exit 0\"", "outcome = \"exit 1\"", 1);
    assert_ne!(text, broken);
    fs::write(&linux, broken).unwrap();
    let out = TempDir::new().unwrap();
    let run = matrix(
        out.path(),
        &[
            "--profiles",
            profiles.path().to_str().unwrap(),
            "-b",
            "exit-256",
            "--build",
            "unwind",
        ],
    );
    assert_eq!(
        run.code,
        ExitCode::Deviates.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout.contains("deviation: exit-256 [unwind · waitid]")
            && run
                .stdout
                .contains("outcome: expected exit 1, observed exit 0")
            && run.stdout.contains("linux.toml:"),
        "{}",
        run.stdout
    );
    assert_eq!(report(out.path())["summary"]["deviates"], 1);
}

#[test]
fn a_malformed_profile_exits_4_with_file_and_line() {
    let profiles = profiles_copy();
    let posix = profiles.path().join("posix.toml");
    let text = fs::read_to_string(&posix).unwrap();
    fs::write(
        &posix,
        text.replacen("outcome = \"exit 1\"", "outcome = exit 1", 1),
    )
    .unwrap();
    let out = TempDir::new().unwrap();
    let run = matrix(
        out.path(),
        &["--profiles", profiles.path().to_str().unwrap()],
    );
    assert_eq!(run.code, ExitCode::Config.code());
    let line = text
        .lines()
        .position(|l| l == "outcome = \"exit 1\"")
        .unwrap()
        + 1;
    let want = format!("error: {}:{line}:", posix.display());
    assert!(run.stderr.starts_with(&want), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(!out
        .path()
        .join(format!(
            "report-{}.json",
            exitmatrix::toolchain::probes::HOST
        ))
        .exists());
}

#[test]
fn a_cell_without_expectation_exits_1() {
    let profiles = profiles_copy();
    let posix = profiles.path().join("posix.toml");
    let text = fs::read_to_string(&posix).unwrap();
    fs::write(
        &posix,
        text.replace("\"exitcode-from-42\"", "\"exitcode-from-125\""),
    )
    .unwrap();
    let out = TempDir::new().unwrap();
    let run = matrix(
        out.path(),
        &[
            "--profiles",
            profiles.path().to_str().unwrap(),
            "-b",
            "exitcode-from-42",
        ],
    );
    assert_eq!(
        run.code,
        ExitCode::Deviates.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout.contains("no expectation: exitcode-from-42"),
        "{}",
        run.stdout
    );
}

#[rstest::rstest]
#[case::unknown_target(&["--target", "sparc-sun-solaris"], "target `sparc-sun-solaris`")]
#[case::unknown_observer(&["--reaper", "wait3"], "unknown observer `wait3`")]
#[case::unknown_build(&["--build", "debug"], "unknown build `debug`")]
#[case::no_behaviour(&["-b", "no-such-behaviour"], "no behaviour matches")]
fn usage_errors_exit_2_with_one_line(#[case] args: &[&str], #[case] needle: &str) {
    let out = TempDir::new().unwrap();
    let run = matrix(out.path(), args);
    assert_eq!(
        run.code,
        ExitCode::Usage.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.starts_with("error: ") && run.stderr.contains(needle),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn a_profile_file_outside_the_profile_directory_is_checked_against_natively() {
    // A copy of the host's own profile, elsewhere and renamed, with one
    // rule changed: the run must read this file, not the directory's.
    let dir = TempDir::new().unwrap();
    let own = fs::read_to_string(root().join("profiles/x86_64-unknown-linux-gnu.toml")).unwrap();
    let copy = dir.path().join("draft.toml");
    fs::write(&copy, &own).unwrap();
    let out = TempDir::new().unwrap();
    let args = ["-b", "exit-0", "--observer", "waitpid", "--build", "c"];
    let mut with_file = vec!["--profile", copy.to_str().unwrap()];
    with_file.extend_from_slice(&args);
    let run = matrix(out.path(), &with_file);
    assert_eq!(
        run.code,
        ExitCode::Conforms.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout.contains("draft"),
        "the summary names the file: {}",
        run.stdout
    );

    // The same file with a wrong rule for c-exit-0: its cell deviates, so
    // the file is what was read.
    let wrong = "description = \"draft\"\ninherits = \"linux-gnu\"\nsignals = \"linux-generic\"\n\n[[expect]]\nbehaviours = [\"c-exit-0\"]\noutcome = \"exit 1\"\ncite = \"wrong on purpose\"\n";
    fs::write(&copy, wrong).unwrap();
    let run = matrix(out.path(), &with_file);
    assert_eq!(
        run.code,
        ExitCode::Deviates.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );

    let missing = dir.path().join("missing.toml");
    let mut with_missing = vec!["--profile", missing.to_str().unwrap()];
    with_missing.extend_from_slice(&args);
    let run = matrix(out.path(), &with_missing);
    assert_eq!(run.code, ExitCode::Usage.code(), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot read it"), "{}", run.stderr);
}

#[test]
fn an_unwritable_report_directory_exits_6() {
    let out = TempDir::new().unwrap();
    let file = out.path().join("not-a-dir");
    fs::write(&file, "").unwrap();
    let run = matrix(&file, &["-b", "exit-0", "--build", "c"]);
    assert_eq!(
        run.code,
        ExitCode::Output.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.contains("cannot write the report"),
        "{}",
        run.stderr
    );
}

#[test]
fn list_names_every_behaviour() {
    let out = TempDir::new().unwrap();
    let run = matrix(out.path(), &["--list"]);
    assert_eq!(run.code, ExitCode::Conforms.code());
    // The catalogue, then the observers' own cases (rows without a probe).
    assert_eq!(
        run.stdout.lines().count(),
        exitmatrix::pure::catalogue::catalogue().len()
            + exitmatrix::pure::observers::own_cases().count()
    );
    assert!(run.stdout.contains("stop-then-exit-7"));
    assert!(run.stdout.contains("sh-command-not-found"));
}

#[test]
fn json_format_prints_the_report() {
    let out = TempDir::new().unwrap();
    let run = matrix(out.path(), &["-b", "sigpipe", "--format", "json"]);
    assert_eq!(
        run.code,
        ExitCode::Conforms.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let printed: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(printed, report(out.path()));
}

#[test]
fn an_unknown_profile_exits_4_with_one_line() {
    let out = TempDir::new().unwrap();
    let run = matrix(out.path(), &["--profile", "plan9"]);
    assert_eq!(
        run.code,
        ExitCode::Config.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.starts_with("error: ") && run.stderr.contains("no profile `plan9`"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

/// The shards of a run hold every cell and own case exactly once: merged,
/// they are the unsharded run (apart from timings).
#[test]
fn merged_shards_equal_the_whole_run() {
    let key = |c: &Value| {
        format!(
            "{}|{}|{}|{}|{}",
            c["behaviour"].as_str().or(c["case"].as_str()).unwrap(),
            c["build"].as_str().unwrap_or("-"),
            c["observer"],
            c["observed_text"],
            c["verdict"]
        )
    };
    let rows = |r: &Value| -> Vec<String> {
        let mut all: Vec<String> = r["cells"]
            .as_array()
            .unwrap()
            .iter()
            .chain(r["cases"].as_array().unwrap())
            .map(key)
            .collect();
        all.sort();
        all
    };
    let args = [
        "-b",
        "exit-3",
        "-b",
        "raise-SIGTERM",
        "--observer",
        "waitpid",
        "--observer",
        "waitid",
        "--observer",
        "std",
    ];
    let whole = TempDir::new().unwrap();
    let run = matrix(whole.path(), &args);
    assert_eq!(
        run.code,
        ExitCode::Conforms.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let whole = rows(&report(whole.path()));
    assert!(whole.len() > 10, "{whole:?}");
    let mut merged = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let out = TempDir::new().unwrap();
        let run = matrix(out.path(), &[&args[..], &["--shard", shard]].concat());
        // A shard may hold no cell of a small selection: then it is a
        // usage error and writes nothing.
        if run.code == ExitCode::Usage.code() {
            assert!(run.stderr.contains("leaves no cell"), "{}", run.stderr);
            continue;
        }
        assert_eq!(
            run.code,
            ExitCode::Conforms.code(),
            "{}{}",
            run.stdout,
            run.stderr
        );
        let part = rows(&report(out.path()));
        assert!(part.len() < whole.len(), "shard {shard} holds everything");
        merged.extend(part);
    }
    merged.sort();
    assert_eq!(merged, whole);
}

#[rstest::rstest]
#[case::zero("0")]
#[case::not_a_number("two")]
fn a_bad_worker_count_is_refused_with_one_line(#[case] jobs: &str) {
    let e = parse_matrix_args(&["test-matrix", "-j", jobs]).unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation, "{e}");
    let first = e.to_string();
    let first = first.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: invalid value") && first.contains("--jobs"),
        "{first}"
    );
}

#[rstest::rstest]
#[case::zero("0/2")]
#[case::beyond("3/2")]
#[case::no_slash("2")]
#[case::no_count("1/0")]
fn a_bad_shard_is_refused_with_one_line(#[case] shard: &str) {
    // clap turns the parser's error into its usage error (exit 2).
    let e = exitmatrix::engine::run::Shard::parse(shard).unwrap_err();
    assert_eq!(e.lines().count(), 1, "{e}");
}
