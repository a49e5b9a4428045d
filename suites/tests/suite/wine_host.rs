//! A Windows host under Wine, end to end: `cargo xtask wine-host` builds the
//! harness for x86_64-pc-windows-gnu, runs it inside Wine as the probes'
//! parent, and leaves no process behind. Needs Wine, mingw-w64 and the
//! private Rust 1.96 (`have_wine_host`); the first run builds std for
//! Windows (about 6 minutes on two cores), later ones take about 30 s.

use std::process::Command;

use serde_json::Value;

use crate::common::{root, target_dir};

/// `cargo xtask wine-host ARGS`, with xtask built in the suite's own target
/// directory (the `cargo test` running this holds the lock of `target/`).
fn wine_host(args: &[&str]) -> (Option<i32>, String) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    #[expect(clippy::disallowed_methods, reason = "builds xtask, not a probe")]
    let built = Command::new(&cargo)
        .current_dir(root())
        .args(["build", "--quiet", "--package", "xtask", "--target-dir"])
        .arg(target_dir())
        .status()
        .expect("cargo runs");
    assert!(built.success(), "building xtask: {built}");
    #[expect(clippy::disallowed_methods, reason = "runs xtask, not a probe")]
    let out = Command::new(target_dir().join("debug/xtask"))
        .current_dir(root())
        .arg("wine-host")
        .args(args)
        .env("CARGO", &cargo)
        .output()
        .expect("xtask runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), stderr)
}

/// The hostile probes on a Windows host end by the Job-object watchdog with
/// its recorded code (profiles/windows.toml: `exit 258`, `timed-out =
/// ["TerminateJobObject"]`), a grandchild holding stdout does not outlive
/// its probe, the report names the Windows host and its three columns, and
/// no process of the prefix is left. Cited expectations: the profile's.
#[test]
#[cfg_attr(
    not(have_wine_host),
    ignore = "no Windows host under Wine here: cargo xtask install targets platforms"
)]
fn a_windows_host_under_wine_bounds_the_hostile_probes() {
    let (code, stderr) = wine_host(&[
        "--",
        "-b",
        "hostile-",
        "-b",
        "exit-259",
        "-b",
        "exit-minus-1",
        "--format",
        "summary",
    ]);
    assert_eq!(code, Some(0), "wine-host failed:\n{stderr}");
    assert!(
        stderr.contains("processes of the run left after it: 0"),
        "{stderr}"
    );
    let path = root().join("target/exitmatrix/wine-host/report-x86_64-pc-windows-gnu.json");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(report["host"], "x86_64-pc-windows-gnu");
    let columns: Vec<&str> = report["observers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["std", "GetExitCodeProcess", "cmd"]);
    let cells = report["cells"].as_array().unwrap();
    let cell = |behaviour: &str, observer: &str| {
        cells
            .iter()
            .find(|c| c["behaviour"] == behaviour && c["observer"] == observer)
            .unwrap_or_else(|| panic!("no cell {behaviour} · {observer}"))
    };
    for behaviour in ["hostile-sleeps-forever", "hostile-spins"] {
        for observer in ["std", "GetExitCodeProcess"] {
            let c = cell(behaviour, observer);
            assert_eq!(c["verdict"], "conforms", "{c}");
            assert_eq!(c["observed_text"], "exit 258", "{c}");
            assert_eq!(
                c["watchdog"],
                serde_json::json!(["TerminateJobObject"]),
                "{c}"
            );
        }
    }
    let c = cell("hostile-grandchild-holds-stdout", "GetExitCodeProcess");
    assert_eq!(c["verdict"], "conforms", "{c}");
    // All 32 bits (Microsoft Learn, GetExitCodeProcess), and cmd's signed
    // int (Wine programs/cmd/wcmdmain.c).
    assert_eq!(
        cell("exit-minus-1", "GetExitCodeProcess")["observed_text"],
        "exit 0xFFFFFFFF"
    );
    assert_eq!(cell("exit-minus-1", "cmd")["verdict"], "conforms");
    // Wine's cmd turns 259 into 0 on purpose: a known divergence, not a pass.
    assert_eq!(cell("exit-259", "cmd")["verdict"], "known-divergence");
    // The POSIX-signal rows do not run on a Windows host.
    assert!(cells
        .iter()
        .all(|c| c["behaviour"] != "hostile-ignores-sigterm"));
}
