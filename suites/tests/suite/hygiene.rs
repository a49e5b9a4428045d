//! Hygiene under faults: interrupts, zombies, orphans, cores, determinism
//! and bad input. These run on a private copy of the probes, so that a
//! process found in /proc can only be one of theirs.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use exitmatrix::cli::{self, ExitCode, MatrixArgs};
use exitmatrix::engine::matrix::{self, Cell, Limits, Work};
use exitmatrix::pure::catalogue::{self, Build};
use exitmatrix::pure::profile::Profile;
use exitmatrix::report::model::Verdict;
use exitmatrix::toolchain::probes::{ProbeSet, HOST};
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{private_probes, probes, root};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: MatrixArgs,
}

fn run_cli(
    target_dir: &Path,
    out: &Path,
    args: &[&str],
    interrupt: Arc<AtomicUsize>,
) -> (u8, String, String) {
    let mut argv = vec![
        "test-matrix",
        "--no-build",
        "--target-dir",
        target_dir.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ];
    argv.extend_from_slice(args);
    let parsed = Cli::try_parse_from(&argv).unwrap();
    let (mut o, mut e) = (Vec::new(), Vec::new());
    let code = cli::test_matrix_with(&parsed.args, &mut o, &mut e, interrupt);
    (
        code,
        String::from_utf8(o).unwrap(),
        String::from_utf8(e).unwrap(),
    )
}

/// The processes (`pid exe`) whose executable is under `dir`, now.
fn scan_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(exe) = fs::read_link(entry.path().join("exe")) {
            if exe.starts_with(dir) {
                found.push(format!(
                    "{} {}",
                    entry.file_name().to_string_lossy(),
                    exe.display()
                ));
            }
        }
    }
    found
}

/// Whether a process runs a program under `dir` now.
fn probe_runs_under(dir: &Path) -> bool {
    !scan_under(dir).is_empty()
}

/// Processes of this machine whose executable lies under `dir`.
///
/// A process the harness killed with SIGKILL a moment ago may still be on
/// its way out (signal delivery is asynchronous), so this looks again for up
/// to two seconds before it reports a survivor.
fn live_under(dir: &Path) -> Vec<String> {
    let scan = || scan_under(dir);
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let found = scan();
        if found.is_empty() || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Zombie children of this test process that stay zombies for a second:
/// other tests' children pass through the zombie state for microseconds,
/// a leaked one stays.
fn lasting_zombies() -> Vec<String> {
    let me = std::process::id().to_string();
    let scan = || -> Vec<String> {
        fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| {
                // pid (comm) state ppid ...
                let after = stat.rsplit_once(')').map_or("", |(_, a)| a);
                let mut f = after.split_whitespace();
                f.next() == Some("Z") && f.next() == Some(me.as_str())
            })
            .collect()
    };
    let mut lasting = scan();
    for _ in 0..10 {
        if lasting.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        let now = scan();
        lasting.retain(|z| now.contains(z));
    }
    lasting
}

#[test]
fn cores_are_contained_only_for_a_relative_core_pattern() {
    assert!(matrix::cores_contained("core"));
    assert!(matrix::cores_contained("core.%p.%e"));
    assert!(!matrix::cores_contained("|/usr/share/apport/apport %p"));
    assert!(!matrix::cores_contained("/var/crash/core.%p"));
}

/// With cores off (a piped core_pattern), a case that expects a core runs
/// without one, conforms on the signal alone, and says so in a note.
#[test]
fn uncontained_cores_are_disabled_and_noted() {
    let profile = Profile::load(
        &root().join("profiles"),
        HOST,
        &exitmatrix::pure::observers::NATIVE,
    )
    .unwrap();
    let abort = catalogue::find("abort").unwrap();
    let waitpid = exitmatrix::observers::registry::by_name("waitpid").unwrap();
    let cell = Cell {
        behaviour: &abort,
        build: Build::Unwind,
        observer: waitpid.as_ref(),
    };
    let limits = Limits {
        cores_contained: false,
        ..Limits::default()
    };
    let report = matrix::run_cell(&cell, &profile, probes(), limits, None);
    assert_eq!(report.verdict, Verdict::Conforms, "{report:?}");
    assert!(
        !report.core_enabled && report.cores.is_empty(),
        "{report:?}"
    );
    assert_eq!(report.observed_text, "signal SIGABRT");
    assert!(
        report.notes[0].contains("core flag not checked") && report.core_unchecked,
        "{report:?}"
    );
}

/// SIGINT mid-run: no new cell starts, running probes are killed, the
/// partial report is written and marked, and the status is 128 + 2.
#[test]
fn an_interrupt_writes_a_partial_report_and_leaves_no_probe() {
    let target = private_probes();
    let out = TempDir::new().unwrap();
    let interrupt = Arc::new(AtomicUsize::new(0));
    let flag = Arc::clone(&interrupt);
    // The interrupt comes once a hostile probe runs (not after a fixed
    // time: on a loaded machine the run may not have started a cell by
    // then, and an interrupt before the first cell interrupts no cell).
    let probes = target.path().to_owned();
    let setter = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline && !probe_runs_under(&probes) {
            std::thread::sleep(Duration::from_millis(10));
        }
        flag.store(libc::SIGINT as usize, Ordering::SeqCst);
        Instant::now()
    });
    let (code, stdout, stderr) = run_cli(
        target.path(),
        out.path(),
        &["-b", "hostile", "-j", "2"],
        interrupt,
    );
    let ended = Instant::now();
    let interrupted = setter.join().unwrap();
    assert_eq!(code, 130, "{stdout}{stderr}");
    // 30 hostile cells take about 10 s; the interrupt ends the run at once.
    assert!(
        ended - interrupted < Duration::from_secs(5),
        "{:?}",
        ended - interrupted
    );
    let report: Value = serde_json::from_str(
        &fs::read_to_string(out.path().join(format!("report-{HOST}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(report["incomplete"], true);
    assert_eq!(report["interrupted_by"], "SIGINT");
    let cells = report["summary"]["cells"].as_u64().unwrap();
    assert!(cells < 30, "{cells}");
    assert!(
        report["summary"]["errors"].as_u64().unwrap() >= 1,
        "{report}"
    );
    assert!(stdout.contains("interrupted by SIGINT"), "{stdout}");
    assert_eq!(live_under(target.path()), Vec::<String>::new());
}

/// Thousands of probes, many leaving a grandchild behind, run in parallel:
/// afterwards no zombie child and no probe process remains.
#[test]
fn thousands_of_probes_leave_no_zombie_and_no_orphan() {
    let target = private_probes();
    let set = ProbeSet::in_target_dir(target.path(), &Build::ALL);
    let profile = Profile::load(
        &root().join("profiles"),
        HOST,
        &exitmatrix::pure::observers::NATIVE,
    )
    .unwrap();
    let behaviours: Vec<_> = [
        "exit-0",
        "hostile-grandchild-holds-stdout",
        "abort",
        "c-_exit-1",
        "raise-SIGTERM",
    ]
    .iter()
    .map(|n| catalogue::find(n).unwrap())
    .collect();
    let observers = exitmatrix::observers::registry::direct();
    let mut cells = Vec::new();
    for round in 0..70 {
        for b in &behaviours {
            for &build in b.builds() {
                let o = &observers[round % observers.len()];
                cells.push(Work::Cell(Cell {
                    behaviour: b,
                    build,
                    observer: o.as_ref(),
                }));
            }
        }
    }
    assert!(cells.len() >= 600, "{}", cells.len());
    let interrupt = Arc::new(AtomicUsize::new(0));
    let reports = matrix::run(&cells, &profile, &set, 8, Limits::default(), &interrupt);
    assert_eq!(reports.len(), cells.len());
    let bad: Vec<_> = reports
        .iter()
        .filter(|r| r.verdict != Verdict::Conforms)
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    // Each grandchild-holds-stdout probe started a process that would sleep
    // forever; none may survive its probe.
    assert_eq!(live_under(target.path()), Vec::<String>::new());
    assert_eq!(lasting_zombies(), Vec::<String>::new());
}

/// Everything but timings (and the race of a "continued" report against
/// the exit after it, which POSIX leaves open) is the same at -j1 and -j2;
/// and a full matrix, core dumps included, leaves no core file in the tree.
#[test]
fn reports_at_j1_and_j2_are_identical_but_for_timings_and_leave_no_core() {
    let target = private_probes();
    let normalised = |jobs: &str| -> Value {
        let out = TempDir::new().unwrap();
        let (code, stdout, stderr) = run_cli(
            target.path(),
            out.path(),
            // The reapers: the shells' and Python's columns are checked
            // against the README's table (suite::observers).
            &[
                "-j",
                jobs,
                "--format",
                "summary",
                "--observer",
                "waitpid",
                "--observer",
                "waitid",
                "--observer",
                "std",
            ],
            Arc::new(AtomicUsize::new(0)),
        );
        assert_eq!(code, ExitCode::Conforms.code(), "{stdout}{stderr}");
        let mut r: Value = serde_json::from_str(
            &fs::read_to_string(out.path().join(format!("report-{HOST}.json"))).unwrap(),
        )
        .unwrap();
        for cell in r["cells"].as_array_mut().unwrap() {
            let c = cell.as_object_mut().unwrap();
            c.remove("micros");
            // Rust's panic message names the thread id (`thread 'main'
            // (4711)`), and a forced backtrace shows ASLR addresses.
            let stderr = c["stderr"].as_str().unwrap().to_owned();
            c.insert(
                "stderr".into(),
                Value::String(mask_addresses(&mask_thread_ids(&stderr))),
            );
            // The probe's own pid and thread ids are the only other
            // run-to-run differences; the continued report may race the exit.
            let observed = c["observed"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["decoded"]["kind"] != "continued")
                .cloned()
                .collect();
            c.insert("observed".into(), Value::Array(observed));
            let text = c["observed_text"]
                .as_str()
                .unwrap()
                .replace(", continued", "");
            c.insert("observed_text".into(), Value::String(text));
        }
        // The std column's own cases (the spawn failures) run in a fresh
        // temporary directory each, whose name is random.
        for case in r["cases"].as_array_mut().into_iter().flatten() {
            let c = case.as_object_mut().unwrap();
            c.remove("micros");
            for key in ["command", "stderr"] {
                let text = c[key].as_str().unwrap_or_default().to_owned();
                c.insert(key.into(), Value::String(mask_spawn_dirs(&text)));
            }
        }
        r
    };
    let one = normalised("1");
    let two = normalised("2");
    let count = |r: &Value| r["summary"]["cells"].as_u64().unwrap();
    assert!(count(&one) > 700);
    if one != two {
        let (a, b) = (
            one["cells"].as_array().unwrap(),
            two["cells"].as_array().unwrap(),
        );
        let diff: Vec<_> = a.iter().zip(b).filter(|(x, y)| x != y).take(3).collect();
        panic!("reports differ: {diff:#?}");
    }
    let cores: usize = one["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cores"].as_array().unwrap().len())
        .sum();
    assert!(cores > 100, "core-dumping cases dumped {cores} cores");
    assert_eq!(core_files(&root()), Vec::<PathBuf>::new());
}

/// `exitmatrix-spawn-XXXXXX` (a spawn case's temporary directory) as
/// `exitmatrix-spawn-DIR`.
fn mask_spawn_dirs(text: &str) -> String {
    const PREFIX: &str = "exitmatrix-spawn-";
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(PREFIX) {
        let (head, tail) = rest.split_at(i + PREFIX.len());
        out.push_str(head);
        out.push_str("DIR");
        let name = tail
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .map(char::len_utf8)
            .sum::<usize>();
        rest = &tail[name..];
    }
    out.push_str(rest);
    out
}

fn mask_thread_ids(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("' (") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && tail[digits..].starts_with(')') {
            out.push_str("TID");
            rest = &tail[digits..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

fn mask_addresses(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("0x") {
        let (head, tail) = rest.split_at(i + 2);
        out.push_str(head);
        let digits = tail.chars().take_while(char::is_ascii_hexdigit).count();
        out.push_str(if digits > 0 { "ADDR" } else { "" });
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// Core files anywhere in `dir`, outside build output.
fn core_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if path.is_dir() && name != "target" && name != ".git" {
                stack.push(path);
            } else if name == "core"
                || name.starts_with("core.") && name[5..].chars().all(|c| c.is_ascii_digit())
            {
                found.push(path);
            }
        }
    }
    found
}

/// A probe that is missing or not executable is a configuration error:
/// exit 2 and one line naming the file.
#[test]
fn missing_or_unexecutable_probes_exit_5() {
    let target = private_probes();
    let out = TempDir::new().unwrap();
    let probe = target.path().join("probe-unwind").join("probe");
    let mut perms = fs::metadata(&probe).unwrap().permissions();
    perms.set_mode(0o644);
    fs::set_permissions(&probe, perms).unwrap();
    let (code, _, stderr) = run_cli(
        target.path(),
        out.path(),
        &["-b", "exit-0"],
        Arc::new(AtomicUsize::new(0)),
    );
    assert_eq!(code, ExitCode::Build.code(), "{stderr}");
    assert!(
        stderr.contains("probe-unwind/probe is not an executable file"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);

    fs::remove_file(&probe).unwrap();
    let (code, _, stderr) = run_cli(
        target.path(),
        out.path(),
        &["-b", "exit-0"],
        Arc::new(AtomicUsize::new(0)),
    );
    assert_eq!(code, ExitCode::Build.code(), "{stderr}");
    assert!(stderr.contains("probe-unwind/probe is missing"), "{stderr}");
}

/// Every hostile probe ends within its bound: timeout + grace + slack.
#[test]
fn hostile_probes_end_within_their_bound() {
    let target = private_probes();
    let set = ProbeSet::in_target_dir(target.path(), &Build::ALL);
    let profile = Profile::load(
        &root().join("profiles"),
        HOST,
        &exitmatrix::pure::observers::NATIVE,
    )
    .unwrap();
    let limits = Limits::default();
    let hostile: Vec<_> = catalogue::catalogue()
        .into_iter()
        .filter(|b| b.name.starts_with("hostile-"))
        .collect();
    assert_eq!(hostile.len(), 5);
    for o in exitmatrix::observers::registry::direct() {
        for b in &hostile {
            let cell = Cell {
                behaviour: b,
                build: Build::Unwind,
                observer: o.as_ref(),
            };
            let started = Instant::now();
            let r = matrix::run_cell(&cell, &profile, &set, limits, None);
            let elapsed = started.elapsed();
            assert_eq!(r.verdict, Verdict::Conforms, "{r:#?}");
            let bound = b.timeout.unwrap() + limits.grace + Duration::from_secs(2);
            assert!(elapsed < bound, "{} took {elapsed:?}", b.name);
        }
    }
    assert_eq!(live_under(target.path()), Vec::<String>::new());
}
