//! Nothing escapes unseen: a process that leaves the probe's process group
//! is adopted by the harness (a child subreaper), ended at the end of its
//! cell and reported on the cell as leaked.
//!
//! Making a process a subreaper changes where *every* orphan of it goes, so
//! the run happens in a child process: the test re-runs this test binary
//! with only itself selected and `EXITMATRIX_TEST_ORPHANS_CHILD` set, and
//! that child adopts and runs the matrix as `cargo xtask test-matrix` does
//! (it adopts in `xtask/src/main.rs`).

use assert_cmd::Command;
use std::fs;
use std::os::unix::fs::PermissionsExt;

use exitmatrix::process::orphans;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{matrix_args, private_probes, run_args};

const CHILD: &str = "EXITMATRIX_TEST_ORPHANS_CHILD";

/// The probe that escapes: it starts `sleep` in a new session (setsid(2):
/// a new session and a new process group, out of reach of a group kill),
/// waits until `sleep` runs in its new session (fields 2 and 6 of
/// `/proc/<pid>/stat`, proc(5): the command name and the session id, the
/// pid itself once it leads one), then
/// exits with the code it was asked for (`probe exit N`), so each cell
/// itself conforms. `-b exit-1` selects exit-1, exit-126, exit-127 and
/// exit-128: four cells, four leaks.
const ESCAPING_PROBE: &str = "#!/bin/sh
setsid sleep 300 </dev/null >/dev/null 2>&1 &
while [ \"$(cut -d' ' -f2,6 /proc/$!/stat)\" != \"(sleep) $!\" ]; do :; done
exit \"$2\"
";

/// The child's part: adopt, run the matrix on the escaping probe, and exit
/// with the run's code.
fn child_runs_a_probe_that_escapes(out: &str) -> ! {
    orphans::adopt().expect("PR_SET_CHILD_SUBREAPER");
    let target = private_probes();
    let probe = target.path().join("probe-unwind").join("probe");
    fs::write(&probe, ESCAPING_PROBE).unwrap();
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o755)).unwrap();
    let run = run_args(&matrix_args(
        target.path(),
        std::path::Path::new(out),
        &["-b", "exit-1", "--build", "unwind", "--observer", "waitpid"],
    ));
    print!("{}", run.stdout);
    eprint!("{}", run.stderr);
    std::process::exit(i32::from(run.code));
}

#[test]
fn a_process_that_leaves_the_group_is_ended_and_reported() {
    if let Ok(out) = std::env::var(CHILD) {
        child_runs_a_probe_that_escapes(&out);
    }
    let out = TempDir::new().unwrap();
    let me = std::env::current_exe().unwrap();
    let child = Command::new(me)
        .args([
            "--exact",
            "orphans::a_process_that_leaves_the_group_is_ended_and_reported",
            "--nocapture",
        ])
        .env(CHILD, out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    let story = format!(
        "exit {:?}\n--- stdout\n{stdout}\n--- stderr\n{}",
        child.status.code(),
        String::from_utf8_lossy(&child.stderr)
    );
    // The cell conforms (the probe did exit 1): a leak is reported, not a
    // verdict on the platform.
    assert_eq!(child.status.code(), Some(0), "{story}");
    assert!(
        stdout.contains("rows left a process outside the probe's process group"),
        "{story}"
    );
    let report = fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("report-")
                && p.extension().is_some_and(|e| e == "json")
        })
        .unwrap_or_else(|| panic!("no JSON report\n{story}"));
    let json: Value = serde_json::from_str(&fs::read_to_string(report).unwrap()).unwrap();
    let cells = json["cells"].as_array().unwrap().len();
    assert_eq!(cells, 4, "{story}");
    assert_eq!(json["summary"]["leaked"], cells, "{story}");
    let cell = &json["cells"][0];
    let leaked = cell["leaked"].as_array().expect("the cell lists its leak");
    let text = leaked[0].as_str().unwrap();
    assert!(text.contains("(sleep)"), "{text}");
    // It was ended, not just named: its pid no longer exists.
    let pid: i32 = text
        .strip_prefix("process ")
        .and_then(|t| t.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {text:?}"));
    // SAFETY: signal 0 only checks for existence.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    assert!(!alive, "the leaked sleep (pid {pid}) is still running");
}

const SCOPE_CHILD: &str = "EXITMATRIX_TEST_ORPHANS_SCOPE_CHILD";

/// Starts `sleep 300` in a new session through a shell that exits at once,
/// so that the sleep is an orphan of this process (a subreaper), with
/// `env` added to its environment; returns its pid once it runs `sleep`.
fn orphan_sleep(env: &[(&str, &str)]) -> i32 {
    #[expect(clippy::disallowed_methods, reason = "makes an orphan, not a probe")]
    let out = std::process::Command::new("/bin/sh")
        .args([
            "-c",
            "setsid sleep 300 </dev/null >/dev/null 2>&1 & \
             while [ \"$(cut -d' ' -f2,6 /proc/$!/stat)\" != \"(sleep) $!\" ]; do :; done; echo $!",
        ])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Whether `pid` exists and is not a zombie (proc(5), field 3 of stat).
fn running(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, r)| !r.trim_start().starts_with('Z'))
    })
}

/// The child's part: two orphans, one carrying the marker; a run of one
/// target that shares a budget (as in `--all-targets`) ends neither, the
/// scoped sweep ends only the marked one, and the run-wide sweep the other.
/// Prints what it found and exits 0 only if all of that held.
fn child_checks_scoped_sweeps() -> ! {
    use exitmatrix::engine::matrix::{Budget, Limits};
    use exitmatrix::engine::run::{self, Request, Target};
    orphans::adopt().expect("PR_SET_CHILD_SUBREAPER");
    let marked = orphan_sleep(&[("EXITMATRIX_TEST_MARK", "scope")]);
    let other = orphan_sleep(&[]);
    let mut problems = Vec::new();
    crate::common::probes();
    let request = Request {
        behaviours: vec!["exit-2".into()],
        builds: vec![exitmatrix::pure::catalogue::Build::Unwind],
        observers: vec!["waitpid".into()],
        observer_path: crate::common::observer_path(),
        profile: None,
        profiles_dir: crate::common::root().join("profiles"),
        target_dir: crate::common::target_dir(),
        jobs: 2,
        limits: Limits::default(),
        core_pattern: None,
        no_build: true,
        runner: None,
        remote: None,
        bless: false,
        shard: None,
        shared: Some(Budget::new(2)),
    };
    let interrupt = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ran = run::run_target(&request, Target::Native, &interrupt, &mut |_| {}, &|| {});
    match ran {
        Ok(run) if run.report.leaked_after_run.is_empty() => {}
        Ok(run) => problems.push(format!(
            "a shared target listed {:?} as its own leaks",
            run.report.leaked_after_run
        )),
        Err(e) => problems.push(format!("the run failed: {e}")),
    }
    for pid in [marked, other] {
        if !running(pid) {
            problems.push(format!("a shared target's end ended process {pid}"));
        }
    }
    let scoped: Vec<i32> = orphans::sweep_scope(
        "EXITMATRIX_TEST_MARK=scope",
        std::path::Path::new("/nonexistent"),
    )
    .iter()
    .map(|l| l.pid)
    .collect();
    if scoped != [marked] {
        problems.push(format!("sweep_scope ended {scoped:?}, not [{marked}]"));
    }
    if !running(other) {
        problems.push(format!("sweep_scope ended the unmarked process {other}"));
    }
    let left: Vec<i32> = orphans::sweep_run().iter().map(|l| l.pid).collect();
    if left != [other] {
        problems.push(format!("sweep_run ended {left:?}, not [{other}]"));
    }
    for pid in [marked, other] {
        // Reaped by the sweeps: the pid is gone.
        if fs::metadata(format!("/proc/{pid}")).is_ok() {
            problems.push(format!("process {pid} is still there"));
        }
    }
    println!("problems: {problems:?}");
    std::process::exit(i32::from(!problems.is_empty()));
}

/// Targets that run at once (`--all-targets`) must not end each other's
/// processes: a target that ends sweeps only what is recognisably its own
/// (`orphans::sweep_scope`: an environment entry such as Wine's
/// `WINEPREFIX`), and the run-wide sweep comes once, after the last target
/// (`engine::run::Request::shared`). Runs in a child process that adopts.
#[test]
fn a_target_sharing_the_run_sweeps_only_its_own() {
    if std::env::var_os(SCOPE_CHILD).is_some() {
        child_checks_scoped_sweeps();
    }
    let me = std::env::current_exe().unwrap();
    let child = Command::new(me)
        .args([
            "--exact",
            "orphans::a_target_sharing_the_run_sweeps_only_its_own",
            "--nocapture",
        ])
        .env(SCOPE_CHILD, "1")
        .output()
        .unwrap();
    let story = format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        child.status.code(),
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    assert_eq!(child.status.code(), Some(0), "{story}");
    assert!(story.contains("problems: []"), "{story}");
}
