//! The `test-matrix` command: arguments, the run, and exit codes.
//!
//! Exit codes, as documented in the README:
//! - [`exit::CONFORMS`] (0): every cell conforms to the profile;
//! - [`exit::DEVIATES`] (1): at least one cell deviates, or has no expectation;
//! - [`exit::USAGE`] (2): a usage or configuration error (bad flag, unknown
//!   target, malformed profile, probes that do not build, unwritable output);
//! - [`exit::INFRASTRUCTURE`] (3): no deviation, but some cell could not be
//!   observed (spawn or wait failed, or its observer, a shell say, is not
//!   installed), which is neither a pass nor a deviation;
//! - 128 + N: interrupted by signal N (130 for SIGINT, 143 for SIGTERM); the
//!   report is written, marked incomplete.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::engine::matrix::{self, Cell};
use crate::observers::observe;
use crate::pure::catalogue::{self, Build};
use crate::pure::profile::Profile;
use crate::pure::signal::Signal;
use crate::report::model::{self as report, Report, Summary, SCHEMA_VERSION};
use crate::toolchain::probes::{self, HOST};

/// The harness's own exit codes.
pub mod exit {
    /// Every cell conforms.
    pub const CONFORMS: u8 = 0;
    /// A cell deviates from its expectation or has none.
    pub const DEVIATES: u8 = 1;
    /// Usage or configuration error.
    pub const USAGE: u8 = 2;
    /// Some cell could not be observed, or its observer is not installed.
    pub const INFRASTRUCTURE: u8 = 3;
}

/// What to print on standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The table, then deviations with their diffs, then a summary line.
    Table,
    /// The JSON report.
    Json,
    /// Only deviations and the summary line.
    Summary,
    /// The conformance table in Markdown, as the README holds it: one row
    /// per behaviour, one column per observer.
    Markdown,
    /// JUnit XML: one test case per cell.
    Junit,
    /// One self-contained HTML page: the matrix as a coloured grid.
    Html,
}

/// Writes the report files (JSON at `path`, and JUnit XML, Markdown and
/// HTML beside it) and returns what `format` prints on standard output.
pub(crate) fn write_and_render(
    report: &Report,
    path: &std::path::Path,
    format: Format,
    color: bool,
) -> Result<String, String> {
    let json = serde_json::to_string_pretty(report).expect("reports serialise");
    crate::report::formats::write_all(report, &json, path)?;
    Ok(match format {
        Format::Table => report::styled_table(report, color) + &report::findings(report),
        Format::Json => json,
        Format::Summary => report::findings(report),
        Format::Markdown => report::markdown(report),
        Format::Junit => crate::report::formats::junit(report)?,
        Format::Html => crate::report::formats::html(report),
    })
}

/// Arguments of `test-matrix`.
#[derive(Clone, Debug, Args)]
pub struct MatrixArgs {
    /// Target triple being checked.
    #[arg(long, default_value = HOST)]
    pub target: String,
    /// Profile to check against (default: the target's own, `profiles/<target>.toml`).
    #[arg(long)]
    pub profile: Option<String>,
    /// Directory of profiles.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
    /// Run only behaviours whose name contains PATTERN (repeatable).
    #[arg(short = 'b', long = "behaviour", value_name = "PATTERN")]
    pub behaviours: Vec<String>,
    /// Run only these builds (repeatable): unwind, abort, c.
    #[arg(long = "build", value_name = "BUILD")]
    pub builds: Vec<String>,
    /// Run only these observers (repeatable): the reapers waitpid, waitid,
    /// std; the shells dash, bash, ksh93, mksh, zsh, busybox-sh, yash, posh;
    /// py-subprocess, py-waitstatus, py-mp-fork, py-mp-spawn (default: all).
    #[arg(long = "observer", visible_alias = "reaper", value_name = "OBSERVER")]
    pub observers: Vec<String>,
    /// Colon-separated directories the shells and python3 are looked up in;
    /// one that is not found there is "not installed".
    #[arg(long, value_name = "DIRS", default_value = crate::observers::shell::DEFAULT_SEARCH_PATH)]
    pub observer_path: String,
    /// Cells run in parallel (default: the number of CPUs).
    #[arg(short, long)]
    pub jobs: Option<usize>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Where the JSON report is written (default: target/exitmatrix).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Cargo target directory the probes are built in (default: target).
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
    /// Seconds a probe may run before it is sent SIGTERM (hostile probes
    /// have their own, shorter, timeout).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub timeout: Duration,
    /// Seconds between SIGTERM and SIGKILL for a probe that timed out.
    #[arg(long, value_name = "SECS", default_value = "0.5", value_parser = seconds)]
    pub grace: Duration,
    /// Use the probes already built in the target directory (check that they
    /// are there and executable) instead of building them.
    #[arg(long)]
    pub no_build: bool,
    /// Colour the terminal table (set by `test_matrix` when standard output
    /// is a terminal, `NO_COLOR` is unset and `CI` is unset).
    #[arg(skip)]
    pub color: bool,
    /// List the catalogue's behaviours and exit.
    #[arg(long)]
    pub list: bool,
    /// The runner for a foreign --target: words put before each program
    /// (default: $CARGO_TARGET_<TRIPLE>_RUNNER, then target.<triple>.runner
    /// in .cargo/config.toml, then qemu-user, Wine or Node's WASI).
    #[arg(long, value_name = "WORDS")]
    pub runner: Option<String>,
    /// Run the native target and every foreign target that is installed
    /// (`cargo xtask install-targets`); one that is not is reported as
    /// "not installed" and the run does not pass.
    #[arg(long, conflicts_with = "target")]
    pub all_targets: bool,
    /// For a --target without a profile: check it against its family
    /// profile and write what it did as profiles/<target>.toml, a starting
    /// profile that records the runner and tool versions.
    #[arg(long)]
    pub bless: bool,
}

/// Runs `test-matrix` as a command: SIGINT and SIGTERM interrupt the run
/// (see [`test_matrix_with`]). Writes the report to `out` and errors to
/// `err`, and returns the exit code.
pub fn test_matrix(args: &MatrixArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let interrupt = Arc::new(AtomicUsize::new(0));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let as_flag = usize::try_from(signal).expect("signal numbers are positive");
        if let Err(e) = signal_hook::flag::register_usize(signal, Arc::clone(&interrupt), as_flag) {
            let _ = writeln!(
                err,
                "error: cannot install a handler for signal {signal}: {e}"
            );
            return exit::USAGE;
        }
    }
    let mut args = args.clone();
    args.color = report::color_wanted();
    test_matrix_with(&args, out, err, interrupt)
}

/// Runs `test-matrix` and returns the exit code. Once `interrupt` holds a
/// signal number, no new cell starts, the watchdog kills every running
/// probe's process group, a partial report marked `incomplete` is written,
/// and the exit code is 128 + that number, as a shell reports a command
/// killed by it (POSIX XCU 2.8.2).
pub fn test_matrix_with(
    args: &MatrixArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    interrupt: Arc<AtomicUsize>,
) -> u8 {
    match run(args, out, &interrupt) {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            exit::USAGE
        }
    }
}

fn run(args: &MatrixArgs, out: &mut dyn Write, interrupt: &Arc<AtomicUsize>) -> Result<u8, String> {
    let root = probes::workspace_root();
    let all = catalogue::catalogue();
    if args.list {
        for b in &all {
            writeln!(out, "{:<34} {}", b.name, b.summary)
                .map_err(|e| format!("cannot write: {e}"))?;
        }
        for c in observe::own_cases() {
            writeln!(out, "{:<34} {} (own case)", c.name, c.summary)
                .map_err(|e| format!("cannot write: {e}"))?;
        }
        return Ok(exit::CONFORMS);
    }
    if args.all_targets || args.target != HOST {
        return crate::engine::foreign::dispatch(args, out, interrupt, run);
    }
    if args.bless || args.runner.is_some() {
        return Err(format!(
            "--bless and --runner are for a foreign --target; the native target `{HOST}` runs directly"
        ));
    }
    let behaviours: Vec<_> = all
        .iter()
        .filter(|b| {
            args.behaviours.is_empty()
                || args.behaviours.iter().any(|p| b.name.contains(p.as_str()))
        })
        .collect();
    let own_case_matches = observe::own_case_names()
        .iter()
        .any(|c| args.behaviours.iter().any(|p| c.contains(p.as_str())));
    if behaviours.is_empty() && !own_case_matches {
        return Err(format!(
            "no behaviour matches {:?} (see `cargo xtask test-matrix --list`)",
            args.behaviours
        ));
    }
    let mut builds = Vec::new();
    for name in &args.builds {
        builds.push(
            Build::from_name(name)
                .ok_or_else(|| format!("unknown build `{name}` (known: unwind, abort, c)"))?,
        );
    }
    if builds.is_empty() {
        builds = Build::ALL.to_vec();
    }
    let mut observers = Vec::new();
    for name in &args.observers {
        let known = observe::NAMES.join(", ");
        observers.push(
            observe::by_name_in(name, &args.observer_path)
                .ok_or_else(|| format!("unknown observer `{name}` (known: {known})"))?,
        );
    }
    if observers.is_empty() {
        observers = observe::all(&args.observer_path);
    }

    let profiles_dir = args
        .profiles
        .clone()
        .unwrap_or_else(|| root.join("profiles"));
    let profile_name = args.profile.clone().unwrap_or_else(|| args.target.clone());
    let profile =
        Profile::load(&profiles_dir, &profile_name, &observe::NAMES).map_err(|e| e.to_string())?;

    let needed: Vec<Build> = builds
        .iter()
        .copied()
        .filter(|b| behaviours.iter().any(|beh| beh.builds().contains(b)))
        .collect();
    let target_dir = args
        .target_dir
        .clone()
        .unwrap_or_else(|| root.join("target"));
    let out_dir = args
        .out_dir
        .clone()
        .unwrap_or_else(|| target_dir.join("exitmatrix"));
    let path = out_dir.join(format!("report-{}.json", args.target));
    // Fail before the run, not after it, if the report cannot be written.
    std::fs::create_dir_all(&out_dir)
        .and_then(|()| tempfile::NamedTempFile::new_in(&out_dir).map(drop))
        .map_err(|e| format!("cannot write the report to {}: {e}", path.display()))?;

    let probe_set = if args.no_build {
        probes::ProbeSet::in_target_dir(&target_dir, &needed)
    } else {
        probes::build_native(&target_dir, &needed)
            .map_err(|e| format!("building the probes: {e}"))?
    };
    for b in &behaviours {
        for build in b.builds().iter().filter(|b| needed.contains(b)) {
            probe_set
                .check(*build, b.probe)
                .map_err(|e| e.to_string())?;
        }
    }

    let mut cells = Vec::new();
    for b in &behaviours {
        for build in b.builds() {
            if !needed.contains(build) {
                continue;
            }
            for o in observers.iter().filter(|o| o.runs(b)) {
                cells.push(Cell {
                    behaviour: b,
                    build: *build,
                    observer: o.as_ref(),
                });
            }
        }
    }
    let (jobs, core_pattern, limits) = run_settings(args);
    let bar = progress_bar(args, cells.len());
    let cells = matrix::run_with_progress(
        &cells,
        &profile,
        &probe_set,
        jobs,
        limits,
        interrupt,
        &|| bar.inc(1),
    );
    bar.finish_and_clear();
    let views: Vec<&dyn observe::Observer> = observers.iter().map(AsRef::as_ref).collect();
    let cases = crate::observers::parent::run_own_cases(
        &views,
        &args.behaviours,
        &profile,
        limits,
        jobs,
        interrupt,
    );
    let interrupted_by = match interrupt.load(Ordering::SeqCst) {
        0 => None,
        n => Some(i32::try_from(n).expect("a signal number")),
    };
    let report = Report {
        schema: SCHEMA_VERSION,
        tool: format!("exitmatrix {}", env!("CARGO_PKG_VERSION")),
        target: args.target.clone(),
        host: HOST.to_owned(),
        profile_chain: profile.chain.clone(),
        unverified: profile.unverified.clone(),
        signal_table: profile.signals.name.to_owned(),
        cores_contained: limits.cores_contained,
        core_pattern,
        incomplete: interrupted_by.is_some(),
        interrupted_by: interrupted_by.map(|n| profile.signals.display(Signal(n)).to_string()),
        observers: observers.iter().map(|o| o.info()).collect(),
        summary: Summary::of(&cells).with_cases(&cases),
        cells,
        cases,
        foreign: None,
    };

    let text = write_and_render(&report, &path, args.format, args.color)?;
    writeln!(out, "{text}").map_err(|e| format!("cannot write: {e}"))?;
    if matches!(args.format, Format::Table | Format::Summary) {
        writeln!(out, "report: {}", path.display()).map_err(|e| format!("cannot write: {e}"))?;
    }
    if let Some(n) = interrupted_by {
        writeln!(
            out,
            "interrupted by {}: the report is incomplete",
            report.interrupted_by.as_deref().unwrap_or("?")
        )
        .map_err(|e| format!("cannot write: {e}"))?;
        return Ok(u8::try_from(128 + n).unwrap_or(u8::MAX));
    }
    let s = report.summary;
    Ok(if s.deviates > 0 || s.no_expectation > 0 {
        exit::DEVIATES
    } else if s.errors > 0 || s.not_installed > 0 {
        exit::INFRASTRUCTURE
    } else {
        exit::CONFORMS
    })
}

/// The parallelism, the kernel's `core_pattern` and the limits of a run.
pub(crate) fn run_settings(args: &MatrixArgs) -> (usize, Option<String>, matrix::Limits) {
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let core_pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern")
        .ok()
        .map(|s| s.trim().to_owned());
    let limits = matrix::Limits {
        timeout: args.timeout,
        grace: args.grace,
        cores_contained: core_pattern.as_deref().is_some_and(matrix::cores_contained),
    };
    (jobs, core_pattern, limits)
}

/// A progress bar for `cells` cells on a terminal only (when the table is
/// coloured and stderr is a terminal): never on a pipe or in CI.
pub(crate) fn progress_bar(args: &MatrixArgs, cells: usize) -> indicatif::ProgressBar {
    if !(args.color && std::io::IsTerminal::is_terminal(&std::io::stderr())) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(cells as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} cells {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

/// Parses a positive number of seconds.
fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("`{text}` is not a positive number of seconds"))
}
