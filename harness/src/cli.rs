//! The `test-matrix` command: its arguments, the targets it runs, what it
//! prints and writes, and its exit code.
//!
//! This is the top layer: it turns the command line into an
//! [`engine::run::Request`](crate::engine::run::Request), runs each target
//! through [`crate::engine::run::run_target`] (and each older system, `dos`
//! and `amigaos`, through [`crate::engine::systems::run_system`]), writes
//! the report files and prints the chosen rendering. Nothing imports it but
//! `xtask`. The exit codes are [`ExitCode`]; a failure's code is
//! [`RunError::exit_code`].

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};

pub use crate::engine::error::{ExitCode, RunError};
use crate::engine::matrix::{self, Limits};
use crate::engine::run::{self, Request, Shard, Target};
use crate::engine::systems;
use crate::pure::catalogue::{self, Build};
use crate::pure::signal::Signal;
use crate::pure::target;
use crate::report::model::{Report, Summary};
use crate::report::text;
use crate::toolchain::probes::{self, HOST};
use crate::toolchain::runners;

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

/// What a run requires to be installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Require {
    /// What is present runs; what is missing is listed and counted as not
    /// installed, without failing the run.
    Present,
    /// Every observer and every standard target must be installed.
    All,
}

/// Writes the report files (JSON at `path`, and JUnit XML, Markdown and
/// HTML beside it) and returns what `format` prints on standard output.
fn write_and_render(
    report: &Report,
    path: &std::path::Path,
    format: Format,
    color: bool,
) -> Result<String, RunError> {
    let json = serde_json::to_string_pretty(report).expect("reports serialise");
    crate::report::formats::write_all(report, &json, path)?;
    Ok(match format {
        Format::Table => text::styled_table(report, color) + &text::findings(report),
        Format::Json => json,
        Format::Summary => text::findings(report),
        Format::Markdown => text::markdown(report),
        Format::Junit => crate::report::formats::junit(report)?,
        Format::Html => crate::report::formats::html(report),
    })
}

/// The help line of `--observer`, from the names in
/// [`crate::pure::observers`], so that it lists every column there is.
pub fn observer_help() -> String {
    use crate::pure::observers::{
        CMD, GET_EXIT_CODE, JAVA, PYTHONS, RC, REAPERS, RUNTIMES, SHELLS,
    };
    format!(
        "Run only these observers (repeatable): the reapers {}; the shells {}; Plan 9's {RC}; {}; {JAVA}; {}; on a Windows host {GET_EXIT_CODE} and {CMD} (default: all)",
        REAPERS.join(", "),
        SHELLS.join(", "),
        PYTHONS.join(", "),
        RUNTIMES.join(", "),
    )
}

/// Arguments of `test-matrix`.
#[derive(Clone, Debug, Args)]
pub struct MatrixArgs {
    /// Target triple being checked, or an older system: `dos` (in DOSBox)
    /// or `amigaos` (in vamos).
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
    /// Run only these observers (repeatable; the help lists them from
    /// `pure::observers`, see [`observer_help`]).
    #[arg(
        long = "observer",
        visible_alias = "reaper",
        value_name = "OBSERVER",
        help = observer_help()
    )]
    pub observers: Vec<String>,
    /// Colon-separated directories the shells and python3 are looked up in;
    /// one that is not found there is "not installed".
    #[arg(long, value_name = "DIRS", default_value = crate::observers::shell::DEFAULT_SEARCH_PATH, env = "EXITMATRIX_OBSERVER_PATH")]
    pub observer_path: String,
    /// Cells run in parallel (default: the number of CPUs; with
    /// `--all-targets`, twice that: a cell spends much of its time waiting
    /// for a process's or an emulator's start or a watchdog).
    #[arg(short, long, value_parser = at_least_one)]
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
    /// (default: `$CARGO_TARGET_<TRIPLE>_RUNNER`, then `target.<triple>.runner`
    /// in .cargo/config.toml, then qemu-user, Wine or Node's WASI).
    #[arg(long, value_name = "WORDS")]
    pub runner: Option<String>,
    /// What must be installed for the run to pass: `present` (the default)
    /// runs what is here and lists what is missing, which never counts as a
    /// pass but does not fail the run; `all` (what CI passes) makes a
    /// missing observer or target fail it (exit 3).
    #[arg(long, value_enum, default_value_t = Require::Present, env = "EXITMATRIX_REQUIRE")]
    pub require: Require,
    /// Run the native target, every foreign target (targets/*.toml) and
    /// every older system that is installed (`cargo xtask install targets
    /// systems`); one that is not is reported as "not installed" and the
    /// run does not pass (an extra target, `standard = false`, is only
    /// listed).
    #[arg(long, conflicts_with = "target")]
    pub all_targets: bool,
    /// With `--all-targets`: run the targets at once, sharing one budget of
    /// `-j` workers, and print each one's output in the usual order when
    /// all have run (measured slower than one after another on 2 CPUs).
    #[arg(long, requires = "all_targets")]
    pub overlap_targets: bool,
    /// For a --target without a profile: check it against --profile (a
    /// name or a .toml file; default: its family profile) and write what it
    /// did as `profiles/<target>.toml`, an `unverified` starting profile that
    /// records the runner and tool versions.
    #[arg(long)]
    pub bless: bool,
    /// Run only shard K of N (a stable share of the cells, by a hash of
    /// each cell's name, build and observer): N machines with 1/N … N/N
    /// together run every cell once.
    #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// Run a foreign --target's cases on a device, through
    /// `exitmatrix-agent serve` listening at HOST:PORT (see the README's
    /// porter's guide; `cargo xtask serve` starts one here).
    #[arg(long, value_name = "HOST:PORT", requires = "token")]
    pub remote: Option<String>,
    /// The token the remote agent was started with.
    #[arg(long, value_name = "TOKEN", env = "EXITMATRIX_REMOTE_TOKEN")]
    pub token: Option<String>,
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
            return ExitCode::Usage.code();
        }
    }
    let mut args = args.clone();
    args.color = text::color_wanted();
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
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            e.exit_code().code()
        }
    }
}

fn run(
    args: &MatrixArgs,
    out: &mut dyn Write,
    interrupt: &Arc<AtomicUsize>,
) -> Result<u8, RunError> {
    if args.list {
        for b in &catalogue::catalogue() {
            writeln!(out, "{:<34} {}", b.name, b.summary)?;
        }
        for c in run::own_cases() {
            writeln!(out, "{:<34} {} (own case)", c.name, c.summary)?;
        }
        return Ok(ExitCode::Conforms.code());
    }
    let request = request(args)?;
    if !args.all_targets && systems::is_system(&args.target) {
        return run_system(args, &request, &args.target, out, interrupt).map(|(code, _)| code);
    }
    if !args.all_targets {
        let target = if args.target == HOST {
            Target::Native
        } else {
            let spec = target::spec(&args.target).map_err(|e| RunError::Config(e.to_string()))?;
            Target::Foreign(spec.ok_or_else(|| unknown_target(&args.target))?)
        };
        return run_one(args, &request, target, out, interrupt).map(|(code, _)| code);
    }
    if args.runner.is_some() || args.bless || args.remote.is_some() {
        return Err(RunError::Usage(
            "--runner, --remote and --bless apply to one --target, not to --all-targets".into(),
        ));
    }
    let mut lines = Vec::new();
    let mut reports = Vec::new();
    let mut code = ExitCode::Conforms.code();
    // Every described target, the standard ones first; a missing extra one
    // (`standard = false`) is listed but never fails the run.
    let known = target::known().map_err(|e| RunError::Config(e.to_string()))?;
    let checked: Vec<Checked> = std::iter::once(Target::Native)
        .chain(known.iter().map(Target::Foreign))
        .map(Checked::Target)
        .chain(systems::names().map(Checked::System))
        .collect();
    // Without -j, twice the CPUs: a cell spends much of its time waiting
    // (a process's start, an emulator's, a hostile probe's watchdog).
    // Measured back to back on 2 CPUs: 192 s at -j 2, 116 s at -j 4.
    let mut request = request.clone();
    if args.jobs.is_none() {
        request.jobs *= 2;
    }
    let bars = indicatif::MultiProgress::new();
    let start = |t: Checked, request: &Request| -> Started {
        match t {
            Checked::Target(t) => Started::Target(start_one(
                args,
                request,
                t,
                interrupt,
                request.shared.as_ref().map(|_| &bars),
            )),
            Checked::System(system) => match systems::skipped_by(system, request) {
                Some(why) => Started::Skipped(why),
                None => {
                    // An emulator's run is one job of a shared budget.
                    let _job = request.shared.as_ref().and_then(|b| b.hold_job(interrupt));
                    Started::System(start_system(args, request, system, interrupt))
                }
            },
        }
    };
    let mut leaked: Vec<String> = Vec::new();
    let started: Vec<Option<Started>> = if args.overlap_targets {
        // The targets run at once, sharing one budget of `-j` workers;
        // each one's output waits, and is printed in the order above once
        // all have run and the run-wide sweep has ended what they left.
        let mut shared = request.clone();
        shared.shared = Some(matrix::Budget::new(request.jobs));
        let started = std::thread::scope(|scope| {
            let handles: Vec<_> = checked
                .iter()
                .map(|&t| {
                    let (shared, start) = (&shared, &start);
                    scope.spawn(move || {
                        (interrupt.load(Ordering::SeqCst) == 0).then(|| start(t, shared))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        // No target runs now: what the harness still has as children was
        // left behind by one of them, which cannot be told; every report
        // of the run lists it (see `Report::leaked_after_run`).
        leaked = crate::process::orphans::sweep_run()
            .iter()
            .map(ToString::to_string)
            .collect();
        started
    } else {
        // One after another, each printed as it ends (below).
        checked.iter().map(|_| None).collect()
    };
    for (i, (&t, started)) in checked.iter().zip(started).enumerate() {
        if started.is_none() && (args.overlap_targets || interrupt.load(Ordering::SeqCst) != 0) {
            break;
        }
        let name = match t {
            Checked::Target(t) => t.triple(),
            Checked::System(system) => system,
        };
        let native = if matches!(t, Checked::Target(Target::Native)) {
            " (native)"
        } else {
            ""
        };
        writeln!(out, "{}==> {name}{native}", if i == 0 { "" } else { "\n" })?;
        // One after another: the header is out before the target runs.
        out.flush()?;
        let started = match started {
            Some(s) => s,
            None => start(t, &request),
        };
        let ran = match started {
            Started::Target(ran) => ran.and_then(|(mut run, path)| {
                run.report.leaked_after_run.extend(leaked.iter().cloned());
                finish_one(args, run, &path, out, interrupt)
            }),
            Started::Skipped(why) => {
                writeln!(out, "{name}: skipped: {why}")?;
                lines.push(format!("{name}: skipped ({why})"));
                continue;
            }
            Started::System(ran) => ran.and_then(|(mut report, path)| {
                report.leaked_after_run.extend(leaked.iter().cloned());
                finish(args, report, &path, None, out, interrupt)
            }),
        };
        match ran {
            Ok((c, report)) => {
                code = ExitCode::worse(code, c);
                lines.push(if native.is_empty() {
                    format!("{name}: exit {c}: {}", summary_words(&report.summary))
                } else {
                    format!("{name}: exit {c}{native}")
                });
                // An older system's cases are rows of their own in the
                // compatibility table (`dos:exit-42`, see report::compat).
                reports.push(report);
            }
            Err(RunError::NotInstalled { triple, missing }) => {
                let e = RunError::NotInstalled { triple, missing };
                writeln!(out, "{e}")?;
                let extra = matches!(t, Checked::Target(Target::Foreign(s)) if !s.standard);
                if args.require == Require::All && !extra {
                    code = ExitCode::worse(code, e.exit_code().code());
                }
                if let RunError::NotInstalled { triple, missing } = e {
                    let what = if extra { "an extra target, " } else { "" };
                    lines.push(format!(
                        "{triple}: not installed ({what}run `{}`)",
                        missing.fix
                    ));
                }
            }
            Err(e) => return Err(e),
        }
    }
    writeln!(out, "\nall targets:")?;
    for line in lines {
        writeln!(out, "  {line}")?;
    }
    if !reports.is_empty() {
        let written = crate::report::compat::write(&reports, &out_dir(args, &request))?;
        if let Some(html) = written
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "html"))
        {
            writeln!(out, "compatibility table: {}", html.display())?;
        }
    }
    if let n @ 1.. = interrupt.load(Ordering::SeqCst) {
        return Ok(ExitCode::interrupted(i32::try_from(n).unwrap_or(i32::MAX)));
    }
    Ok(code)
}

/// What `--all-targets` runs, in order: the catalogue's targets, then the
/// older systems.
#[derive(Clone, Copy)]
enum Checked {
    /// The native target or a foreign one.
    Target(Target),
    /// An older system (`dos`, `amigaos`).
    System(&'static str),
}

/// What one target of `--all-targets` gave before its output is printed.
enum Started {
    /// A target's run, and where its report goes.
    Target(Result<(run::TargetRun, PathBuf), RunError>),
    /// An older system's report, and where it goes.
    System(Result<(Report, PathBuf), RunError>),
    /// An older system skipped, and why.
    Skipped(String),
}

/// Runs one target, writes its report files, prints what `--format` asks
/// for, and returns the exit code with the counts.
fn run_one(
    args: &MatrixArgs,
    request: &Request,
    target: Target,
    out: &mut dyn Write,
    interrupt: &Arc<AtomicUsize>,
) -> Result<(u8, Report), RunError> {
    let (run, path) = start_one(args, request, target, interrupt, None)?;
    finish_one(args, run, &path, out, interrupt)
}

/// Runs one target (with its progress bar in `bars`, when several run at
/// once) and returns its run and the path of its report, not yet written.
fn start_one(
    args: &MatrixArgs,
    request: &Request,
    target: Target,
    interrupt: &Arc<AtomicUsize>,
    bars: Option<&indicatif::MultiProgress>,
) -> Result<(run::TargetRun, PathBuf), RunError> {
    let out_dir = out_dir(args, request);
    let path = out_dir.join(format!("report-{}.json", target.triple()));
    run::check_writable(&out_dir, &path)?;
    let bar = std::sync::Mutex::new(indicatif::ProgressBar::hidden());
    let run = run::run_target(
        request,
        target,
        interrupt,
        &mut |n| {
            let mut new = progress_bar(args, n);
            if let Some(bars) = bars {
                new = bars.add(new.with_prefix(target.triple()));
            }
            *bar.lock().unwrap_or_else(|e| e.into_inner()) = new;
        },
        &|| bar.lock().unwrap_or_else(|e| e.into_inner()).inc(1),
    )?;
    bar.lock()
        .unwrap_or_else(|e| e.into_inner())
        .finish_and_clear();
    Ok((run, path))
}

/// Writes and prints a target's run, as [`run_one`] does.
fn finish_one(
    args: &MatrixArgs,
    run: run::TargetRun,
    path: &std::path::Path,
    out: &mut dyn Write,
    interrupt: &Arc<AtomicUsize>,
) -> Result<(u8, Report), RunError> {
    if let Some(failure) = &run.remote_failure {
        let lost = run.report.summary.errors;
        writeln!(out, "error: {failure} ({lost} cells not observed)")?;
    }
    finish(args, run.report, path, run.blessed.as_ref(), out, interrupt)
}

/// Runs an older system (`dos`, `amigaos`) in its emulator, then writes and
/// prints its report as [`run_one`] does a target's.
fn run_system(
    args: &MatrixArgs,
    request: &Request,
    system: &str,
    out: &mut dyn Write,
    interrupt: &Arc<AtomicUsize>,
) -> Result<(u8, Report), RunError> {
    let (report, path) = start_system(args, request, system, interrupt)?;
    finish(args, report, &path, None, out, interrupt)
}

/// Runs an older system and returns its report, not yet written, and its
/// path.
fn start_system(
    args: &MatrixArgs,
    request: &Request,
    system: &str,
    interrupt: &Arc<AtomicUsize>,
) -> Result<(Report, PathBuf), RunError> {
    let out_dir = out_dir(args, request);
    let path = out_dir.join(format!("report-{system}.json"));
    run::check_writable(&out_dir, &path)?;
    let mut report = systems::run_system(system, request)?;
    if let n @ 1.. = interrupt.load(Ordering::SeqCst) {
        // The emulator was interrupted too: what it left is incomplete.
        report.incomplete = true;
        report.interrupted_by = Some(
            crate::os::host_signal_table()
                .display(Signal(i32::try_from(n).unwrap_or(i32::MAX)))
                .to_string(),
        );
    }
    Ok((report, path))
}

/// Writes a finished run's report files, prints what `--format` asks for,
/// and returns the exit code with the report.
fn finish(
    args: &MatrixArgs,
    report: Report,
    path: &std::path::Path,
    blessed: Option<&(PathBuf, usize)>,
    out: &mut dyn Write,
    interrupt: &Arc<AtomicUsize>,
) -> Result<(u8, Report), RunError> {
    let mut text = write_and_render(&report, path, args.format, args.color)?;
    if !matches!(args.format, Format::Json) {
        text.push_str(&text::foreign_lines(&report));
    }
    writeln!(out, "{text}")?;
    if matches!(args.format, Format::Table | Format::Summary) {
        writeln!(out, "report: {}", path.display())?;
    }
    let s = report.summary;
    if let Some((written, rules)) = blessed {
        writeln!(
            out,
            "blessed: wrote {} ({rules} rules); run again without --bless to check against it",
            written.display()
        )?;
        return Ok((ExitCode::Conforms.code(), report));
    }
    if report.incomplete {
        writeln!(
            out,
            "interrupted by {}: the report is incomplete",
            report.interrupted_by.as_deref().unwrap_or("?")
        )?;
        let n = interrupt.load(Ordering::SeqCst);
        return Ok((
            ExitCode::interrupted(i32::try_from(n).unwrap_or(i32::MAX)),
            report,
        ));
    }
    Ok((verdict_code(&s, args.require).code(), report))
}

/// Where the reports go: `--out-dir`, else `exitmatrix/` in the target
/// directory.
fn out_dir(args: &MatrixArgs, request: &Request) -> PathBuf {
    args.out_dir
        .clone()
        .unwrap_or_else(|| request.target_dir.join("exitmatrix"))
}

/// The exit code a finished run's counts give: a deviation or a missing
/// expectation fails it; a cell that could not be observed makes it
/// "not observed"; an observer that is not installed does too when
/// `require` is [`Require::All`].
pub fn verdict_code(s: &Summary, require: Require) -> ExitCode {
    if s.deviates > 0 || s.no_expectation > 0 {
        ExitCode::Deviates
    } else if s.errors > 0 || (s.not_installed > 0 && require == Require::All) {
        ExitCode::NotObserved
    } else {
        ExitCode::Conforms
    }
}

fn summary_words(s: &Summary) -> String {
    format!(
        "{} cells, {} conform, {} deviate, {} known emulator divergences, {} without expectation, {} not observed",
        s.cells, s.conforms, s.deviates, s.known_divergences, s.no_expectation, s.errors
    )
}

fn unknown_target(triple: &str) -> RunError {
    // Only called once the descriptions have loaded.
    let known: Vec<&str> = target::known()
        .unwrap_or_default()
        .iter()
        .map(|t| t.triple)
        .collect();
    RunError::Usage(format!(
        "unknown target `{triple}` (known: {HOST} natively; {} through runners; {} in their emulators)",
        known.join(", "),
        systems::names().collect::<Vec<_>>().join(", ")
    ))
}

/// Why `kit` cannot be made for `triple`: it is this host (run
/// `test-matrix` here), an older system (run in its emulator here), or not
/// a target at all. A kit is for a foreign target only.
fn not_a_kit_target(triple: &str) -> RunError {
    let why = if triple == HOST {
        "is this machine: run `cargo xtask test-matrix` here".to_owned()
    } else if systems::names().any(|name| name == triple) {
        format!("runs in its emulator here: run `cargo xtask test-matrix --target {triple}`")
    } else {
        return unknown_target(triple);
    };
    let known: Vec<&str> = target::known()
        .unwrap_or_default()
        .iter()
        .map(|t| t.triple)
        .collect();
    RunError::Usage(format!(
        "a kit is for a foreign target (name one with --target: {}); `{triple}` {why}",
        known.join(", ")
    ))
}

/// The engine's request from the command line.
fn request(args: &MatrixArgs) -> Result<Request, RunError> {
    let root = probes::workspace_root();
    let mut builds = Vec::new();
    for name in &args.builds {
        builds.push(Build::from_name(name).ok_or_else(|| {
            RunError::Usage(format!("unknown build `{name}` (known: unwind, abort, c)"))
        })?);
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let core_pattern = crate::os::core_pattern();
    let limits = Limits {
        timeout: args.timeout,
        start_allowance: Duration::ZERO,
        grace: args.grace,
        cores_contained: core_pattern.as_deref().is_some_and(matrix::cores_contained),
    };
    Ok(Request {
        behaviours: args.behaviours.clone(),
        builds,
        observers: args.observers.clone(),
        observer_path: args.observer_path.clone(),
        profile: args.profile.clone(),
        profiles_dir: args
            .profiles
            .clone()
            .unwrap_or_else(|| root.join("profiles")),
        target_dir: args
            .target_dir
            .clone()
            .unwrap_or_else(|| root.join("target")),
        jobs,
        limits,
        core_pattern,
        no_build: args.no_build,
        runner: args.runner.clone(),
        remote: args.remote.as_ref().map(|addr| {
            crate::engine::remote::Via::Remote(crate::engine::remote::RemoteAddr {
                addr: addr.clone(),
                token: args.token.clone().unwrap_or_default(),
            })
        }),
        bless: args.bless,
        shard: args.shard,
        shared: None,
    })
}

/// A progress bar for `cells` cells on a terminal only (when the table is
/// coloured and stderr is a terminal): never on a pipe or in CI.
fn progress_bar(args: &MatrixArgs, cells: usize) -> indicatif::ProgressBar {
    if !(args.color && std::io::IsTerminal::is_terminal(&std::io::stderr())) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(cells as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} cells {elapsed} {prefix}")
    {
        bar.set_style(style);
    }
    bar
}

/// `cargo xtask install-targets`, as the library runs it.
pub fn install_targets(extra: bool, check: bool) -> u8 {
    runners::install(extra, check)
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

/// `-j N`: a count of workers, at least one (no worker would run nothing).
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("`0` workers would run nothing: give at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a number of workers")),
    }
}

/// `cargo xtask kit`: writes the offline kit for `args.target` (see
/// [`crate::engine::kit`]) into `--out-dir` and prints the archive's path.
pub fn kit(args: &MatrixArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let made = (|| -> Result<PathBuf, RunError> {
        let request = request(args)?;
        let spec = target::spec(&args.target)
            .map_err(|e| RunError::Config(e.to_string()))?
            .ok_or_else(|| not_a_kit_target(&args.target))?;
        let dir = out_dir(args, &request);
        std::fs::create_dir_all(&dir).map_err(|source| RunError::Report {
            path: dir.clone(),
            source,
        })?;
        crate::engine::kit::write(&request, spec, &dir)
    })();
    match made {
        Ok(archive) => {
            let _ = writeln!(
                out,
                "kit: {} (copy it to the device, unpack it, run `sh run.sh` there, bring the directory back and run `cargo xtask import` on it)",
                archive.display()
            );
            ExitCode::Conforms.code()
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            e.exit_code().code()
        }
    }
}

/// `cargo xtask import DIR-or-ARCHIVE`: checks an offline kit's results
/// against the profile, as a direct run of the same selection would, and
/// returns that run's exit code.
pub fn import(
    args: &MatrixArgs,
    path: &std::path::Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let interrupt = Arc::new(AtomicUsize::new(0));
    let ran = (|| -> Result<u8, RunError> {
        let (kit, manifest, _unpacked) = crate::engine::kit::open(path)?;
        let spec = target::spec(&manifest.triple)
            .map_err(|e| RunError::Config(e.to_string()))?
            .ok_or_else(|| unknown_target(&manifest.triple))?;
        let mut args = args.clone();
        args.target = manifest.triple.clone();
        args.behaviours = manifest.behaviours.clone();
        args.builds = manifest.builds.clone();
        if args.profile.is_none() {
            args.profile = manifest.profile.clone();
        }
        let mut request = request(&args)?;
        request.remote = Some(crate::engine::remote::Via::Replay(kit));
        run_one(&args, &request, Target::Foreign(spec), out, &interrupt).map(|(code, _)| code)
    })();
    match ran {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            e.exit_code().code()
        }
    }
}

#[cfg(test)]
mod tests {
    //! The command line's own texts.

    #[test]
    fn the_observer_help_names_every_native_column() {
        let help = super::observer_help();
        for name in crate::pure::observers::NATIVE {
            assert!(
                help.split([' ', ',', ';']).any(|w| w == name),
                "{name} is missing from: {help}"
            );
        }
    }
}
