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
