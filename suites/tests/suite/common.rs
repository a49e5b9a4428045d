//! Shared helpers: the probe set built once per test run, in-process
//! `test-matrix` runs, and headless Chromium for the HTML pages.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock};

use clap::Parser;
use exitmatrix::cli::{self, MatrixArgs};
use exitmatrix::pure::catalogue::Build;
use exitmatrix::toolchain::probes::{self, ProbeSet};

/// The workspace root.
pub fn root() -> PathBuf {
    probes::workspace_root()
}

/// A cargo target directory of the suite's own, so building probes from a
/// test never waits on the lock of the `cargo test` that runs it.
pub fn target_dir() -> PathBuf {
    root().join("target").join("suites")
}

/// The probes, built once for all tests of this binary.
pub fn probes() -> &'static ProbeSet {
    static PROBES: OnceLock<ProbeSet> = OnceLock::new();
    PROBES.get_or_init(|| {
        probes::build_native(&target_dir(), &Build::ALL)
            .unwrap_or_else(|e| panic!("building the probes: {e}"))
    })
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: MatrixArgs,
}

/// `test-matrix`'s command line `argv` (with the command's name first),
/// parsed as the xtask parses it.
pub fn parse_matrix_args(argv: &[&str]) -> Result<MatrixArgs, clap::Error> {
    Cli::try_parse_from(argv).map(|cli| cli.args)
}

/// What one in-process `test-matrix` run printed and returned.
#[derive(Debug)]
pub struct Run {
    /// The exit code.
    pub code: u8,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Parses `args` as `test-matrix` would (after `--no-build --target-dir
/// TARGET --out-dir OUT`), so a test can adjust the arguments before a run.
pub fn matrix_args(target: &Path, out: &Path, args: &[&str]) -> MatrixArgs {
    let mut argv = vec![
        "test-matrix",
        "--no-build",
        "--target-dir",
        target.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ];
    argv.extend_from_slice(args);
    Cli::try_parse_from(&argv)
        .unwrap_or_else(|e| panic!("{e}"))
        .args
}

/// Runs `test-matrix` in process on the probes already built in `target`
/// (the suite's own, see [`probes`], unless a test made a private copy),
/// writing the reports into `out`. No signal handler is installed: the
/// run's interrupt flag is a fresh one.
pub fn run_args(args: &MatrixArgs) -> Run {
    probes();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = cli::test_matrix_with(
        args,
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

/// [`run_args`] on the suite's own probes.
pub fn matrix(out: &Path, args: &[&str]) -> Run {
    run_args(&matrix_args(&target_dir(), out, args))
}

/// Where the tests look for the observers' programs: `$EXITMATRIX_OBSERVER_PATH`
/// (as `--observer-path` reads it), else the harness's default, so a fresh
/// machine can be simulated on any machine with
/// `EXITMATRIX_OBSERVER_PATH=/nonexistent`.
pub fn observer_path() -> String {
    std::env::var("EXITMATRIX_OBSERVER_PATH")
        .unwrap_or_else(|_| exitmatrix::observers::shell::DEFAULT_SEARCH_PATH.to_owned())
}

/// A private copy of the built probes, laid out as a target directory.
#[cfg(unix)]
pub fn private_probes() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::TempDir::new().unwrap();
    for from in probes().dirs.values() {
        let to = dir.path().join(from.file_name().unwrap());
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
    }
    dir
}

/// The flags every headless Chromium of the suite (and
/// `scripts/screenshot-compat.sh`) starts with: no sandbox (the tests may
/// run as root), no GPU, and none of its background connections, which a
/// machine without internet refuses many at a time.
pub const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The DOM of `page` (with the URL fragment `fragment`, which may be empty)
/// after its scripts ran, as headless Chromium in a fresh, empty profile
/// dumps it. Panics, with Chromium's output, if it fails.
pub fn dump_dom(page: &Path, fragment: &str) -> String {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("Chromium is installed (the build script found it)");
    let profile = tempfile::TempDir::new().unwrap();
    let dom = assert_cmd::Command::new(chromium)
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", page.display()))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(dom.status.success(), "{dom:?}");
    String::from_utf8_lossy(&dom.stdout).into_owned()
}
