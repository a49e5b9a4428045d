//! `test-matrix --target <foreign triple>` and `--all-targets`: building for
//! a foreign target, running through its runner and its in-target agent,
//! deriving the host's view, marking known emulator divergences, and
//! `--bless`.
//!
//! A foreign run has these columns (see [`crate::engine::target::Family::observers`]):
//! on Unix targets `waitpid`, `waitid` and `std` as the agent saw them
//! inside the target, on Windows and WASI `agent`; then `host-via-runner`,
//! what the Linux host's `waitpid` saw of the runner process, decoded with
//! the host's conventions. The profile states what the real system does;
//! the host's view is derived from the base column's expectation through
//! the runner's `[host-view]` (`profiles/emulators/<kind>.toml`), so a
//! runner's folding (Wine keeps 8 of 32 bits) is asserted too.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde::Serialize;

use crate::cli::{exit, Format, MatrixArgs};
use crate::engine::agent::{AgentContext, HostViaRunner};
use crate::engine::matrix::{self, Cell, CellReport, Verdict};
use crate::engine::target::{self, Family, Missing, Runner, TargetSpec, HOST_VIA_RUNNER};
use crate::observers::observe::Observer;
use crate::pure::catalogue::{self, Build};
use crate::pure::decode::{Termination, WaitConventions};
use crate::pure::emulator::{Emulator, HostView};
use crate::pure::outcome;
use crate::pure::profile::Profile;
use crate::pure::signal::{Signal, SignalTable};
use crate::report::model::{Report, Summary, SCHEMA_VERSION};
use crate::toolchain::crossbuild;
use crate::toolchain::probes::{self, HOST};

/// What a foreign run adds to the report.
#[derive(Clone, Debug, Serialize)]
pub struct ForeignInfo {
    /// The target's family.
    pub family: Family,
    /// The runner, and where it came from.
    pub runner: Runner,
    /// `--version` of the tools the results depend on.
    pub tools: Vec<String>,
    /// Behaviours that do not apply to the family, with what they need.
    pub not_applicable: Vec<NotApplicable>,
    /// Builds that the target does not support (wasm32: only `abort`).
    pub builds_not_made: Vec<Build>,
    /// The emulator notes in force, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emulator_notes: Option<PathBuf>,
}

/// A behaviour that was not run because the target's family lacks what it
/// needs.
#[derive(Clone, Debug, Serialize)]
pub struct NotApplicable {
    /// The behaviour.
    pub behaviour: String,
    /// What it needs.
    pub needs: &'static str,
}

/// The function that runs the native matrix (`cli`'s own), so that
/// `--all-targets` can include the host.
pub type NativeRun = fn(&MatrixArgs, &mut dyn Write, &Arc<AtomicUsize>) -> Result<u8, String>;

/// Every observer name a profile or emulator note may use.
pub fn observer_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = crate::observers::observe::NAMES.to_vec();
    names.extend(target::FOREIGN_OBSERVERS);
    names
}

/// Runs `--all-targets`, or one foreign `--target`.
pub fn dispatch(
    args: &MatrixArgs,
    out: &mut dyn Write,
    interrupt: &Arc<AtomicUsize>,
    native: NativeRun,
) -> Result<u8, String> {
    if !args.all_targets {
        let spec = target::spec(&args.target).ok_or_else(|| unknown_target(&args.target))?;
        return match run_target(args, spec, out, interrupt)? {
            TargetResult::Ran(code, _) => Ok(code),
            TargetResult::NotInstalled(missing) => {
                not_installed_line(out, spec.triple, &missing)?;
                Ok(exit::INFRASTRUCTURE)
            }
        };
    }
    if args.runner.is_some() || args.bless {
        return Err("--runner and --bless apply to one --target, not to --all-targets".into());
    }
    let mut lines = Vec::new();
    let mut code = exit::CONFORMS;
    let worse = |code: u8, next: u8| -> u8 {
        let rank = |c: u8| match c {
            exit::CONFORMS => 0,
            exit::INFRASTRUCTURE => 1,
            exit::DEVIATES => 2,
            _ => 3,
        };
        if rank(next) > rank(code) {
            next
        } else {
            code
        }
    };
    // The host first, natively.
    let mut host_args = args.clone();
    host_args.all_targets = false;
    host_args.target = HOST.to_owned();
    writeln!(out, "==> {HOST} (native)").map_err(write_error)?;
    let host_code = native(&host_args, out, interrupt)?;
    code = worse(code, host_code);
    lines.push(format!("{HOST}: exit {host_code} (native)"));
    for spec in target::standard() {
        if interrupt.load(Ordering::SeqCst) != 0 {
            break;
        }
        let mut one = args.clone();
        one.all_targets = false;
        one.target = spec.triple.to_owned();
        writeln!(out, "\n==> {}", spec.triple).map_err(write_error)?;
        match run_target(&one, spec, out, interrupt)? {
            TargetResult::Ran(c, summary) => {
                code = worse(code, c);
                lines.push(format!(
                    "{}: exit {c}: {}",
                    spec.triple,
                    summary_words(&summary)
                ));
            }
            TargetResult::NotInstalled(missing) => {
                not_installed_line(out, spec.triple, &missing)?;
                code = worse(code, exit::INFRASTRUCTURE);
                lines.push(format!(
                    "{}: not installed (run `{}`)",
                    spec.triple, missing.fix
                ));
            }
        }
    }
    writeln!(out, "\nall targets:").map_err(write_error)?;
    for line in lines {
        writeln!(out, "  {line}").map_err(write_error)?;
    }
    if let n @ 1.. = interrupt.load(Ordering::SeqCst) {
        return Ok(u8::try_from(128 + n).unwrap_or(u8::MAX));
    }
    Ok(code)
}

fn summary_words(s: &Summary) -> String {
    format!(
        "{} cells, {} conform, {} deviate, {} known emulator divergences, {} without expectation, {} not observed",
        s.cells, s.conforms, s.deviates, s.known_divergences, s.no_expectation, s.errors
    )
}

fn write_error(e: std::io::Error) -> String {
    format!("cannot write: {e}")
}

fn unknown_target(triple: &str) -> String {
    let known: Vec<&str> = target::KNOWN.iter().map(|t| t.triple).collect();
    format!(
        "unknown target `{triple}` (known: {HOST} natively; {} through runners)",
        known.join(", ")
    )
}

fn not_installed_line(out: &mut dyn Write, triple: &str, missing: &Missing) -> Result<(), String> {
    writeln!(
        out,
        "{triple}: not installed: missing {}; install with `{}`",
        missing.what.join(", "),
        missing.fix
    )
    .map_err(write_error)
}

/// How one target's run went.
#[derive(Debug)]
pub enum TargetResult {
    /// It ran: the exit code and the counts.
    Ran(u8, Summary),
    /// Its toolchain or runner is missing.
    NotInstalled(Missing),
}

/// Runs the matrix for one foreign target.
pub fn run_target(
    args: &MatrixArgs,
    spec: &'static TargetSpec,
    out: &mut dyn Write,
    interrupt: &Arc<AtomicUsize>,
) -> Result<TargetResult, String> {
    let root = probes::workspace_root();
    let target_dir = args
        .target_dir
        .clone()
        .unwrap_or_else(|| root.join("target"));
    let foreign = target::foreign_dir(&root);
    let runner = target::resolve_runner(
        spec,
        args.runner.as_deref(),
        |var| std::env::var(var).ok(),
        &target::config_dirs(&root),
        &root,
        &foreign,
    )?;
    if let Err(missing) = target::check_installed(spec, &runner, &foreign) {
        return Ok(TargetResult::NotInstalled(missing));
    }

    // The profile: the target's own, or the one asked for; with --bless,
    // the family's, since the target has none yet.
    let profiles_dir = args
        .profiles
        .clone()
        .unwrap_or_else(|| root.join("profiles"));
    let own = profiles_dir.join(format!("{}.toml", spec.triple));
    let profile_name = match (&args.profile, args.bless) {
        (Some(_), true) => return Err("--bless writes the target's own profile; drop --profile".into()),
        (_, true) if own.exists() => {
            return Err(format!(
                "{} exists: --bless only writes a starting profile for a target that has none (check against it without --bless)",
                own.display()
            ))
        }
        (_, true) => spec.family.profile().to_owned(),
        (Some(p), false) => p.clone(),
        (None, false) if !own.exists() => {
            return Err(format!(
                "no profile for {} in {}: write a starting one with `--bless`, or check against the family with `--profile {}`",
                spec.triple,
                profiles_dir.display(),
                spec.family.profile()
            ))
        }
        (None, false) => spec.triple.to_owned(),
    };
    let defaults = (
        SignalTable::by_name(spec.signals).expect("known targets name known tables"),
        WaitConventions::by_name(spec.wait).expect("known targets name known layouts"),
    );
    let names = observer_names();
    let profile = Profile::load_with(&profiles_dir, &profile_name, &names, Some(defaults))
        .map_err(|e| e.to_string())?;
    let emulator = Emulator::load(
        &profiles_dir.join("emulators"),
        runner.kind.name(),
        &names,
        profile.signals,
    )?;
    let host_view = emulator
        .host_view
        .clone()
        .unwrap_or_else(HostView::default_for_native);

    // What runs: applicable behaviours × supported builds × columns.
    let all = catalogue::catalogue();
    let selected: Vec<&catalogue::Behaviour> = all
        .iter()
        .filter(|b| {
            args.behaviours.is_empty()
                || args.behaviours.iter().any(|p| b.name.contains(p.as_str()))
        })
        .collect();
    if selected.is_empty() {
        return Err(format!(
            "no behaviour matches {:?} (see `cargo xtask test-matrix --list`)",
            args.behaviours
        ));
    }
    let mut not_applicable = Vec::new();
    let mut behaviours = Vec::new();
    for b in selected {
        match b.needs() {
            Some(needs) if !spec.family.provides(needs) => not_applicable.push(NotApplicable {
                behaviour: b.name.clone(),
                needs: needs.name(),
            }),
            _ => behaviours.push(b),
        }
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
    let builds_not_made: Vec<Build> = builds
        .iter()
        .copied()
        .filter(|b| !spec.builds.contains(b))
        .collect();
    builds.retain(|b| spec.builds.contains(b));
    let needed: Vec<Build> = builds
        .iter()
        .copied()
        .filter(|b| behaviours.iter().any(|beh| beh.builds().contains(b)))
        .filter(|&b| b != Build::C || spec.c_compiler.is_some())
        .collect();

    let out_dir = args
        .out_dir
        .clone()
        .unwrap_or_else(|| target_dir.join("exitmatrix"));
    let path = out_dir.join(format!("report-{}.json", spec.triple));
    std::fs::create_dir_all(&out_dir)
        .and_then(|()| tempfile::NamedTempFile::new_in(&out_dir).map(drop))
        .map_err(|e| format!("cannot write the report to {}: {e}", path.display()))?;

    let built = crossbuild::build(spec, &foreign, &target_dir.join("foreign"), &needed)
        .map_err(|e| format!("building for {}: {e}", spec.triple))?;
    if runner.kind == target::RunnerKind::Wine {
        prepare_wine(&runner, &foreign)?;
    }
    // WASI's agent is the runner script itself, told to --report.
    let agent_words = match spec.family {
        Family::Wasi => wasi_agent_words(&runner, &root),
        _ => runner.words.clone(),
    };
    let context = Arc::new(AgentContext::new(
        spec.family,
        &agent_words,
        built.agent.as_deref(),
        profile.signals,
    ));
    let mut observers: Vec<Box<dyn Observer>> = context.observers();
    observers.push(Box::new(HostViaRunner::new(&runner.words)));
    if !args.observers.is_empty() {
        for name in &args.observers {
            if !observers.iter().any(|o| o.name() == name) {
                let known: Vec<&str> = observers.iter().map(|o| o.name()).collect();
                return Err(format!(
                    "observer `{name}` does not run on {} (its columns: {})",
                    spec.triple,
                    known.join(", ")
                ));
            }
        }
        observers.retain(|o| args.observers.iter().any(|n| n == o.name()));
    }

    let mut cells = Vec::new();
    for b in &behaviours {
        for build in b.builds().iter().filter(|b| needed.contains(b)) {
            for o in &observers {
                cells.push(Cell {
                    behaviour: b,
                    build: *build,
                    observer: o.as_ref(),
                });
            }
        }
    }
    let (jobs, core_pattern, limits) = crate::cli::run_settings(args);
    let bar = crate::cli::progress_bar(args, cells.len());
    let mut cells = matrix::run_with_progress(
        &cells,
        &profile,
        &built.probes,
        jobs,
        limits,
        interrupt,
        &|| bar.inc(1),
    );
    bar.finish_and_clear();
    for cell in &mut cells {
        settle(cell, spec, &profile, &host_view, &emulator, limits);
    }
    let interrupted_by = match interrupt.load(Ordering::SeqCst) {
        0 => None,
        n => Some(i32::try_from(n).expect("a signal number")),
    };
    let tools = tool_versions(spec, &runner);
    let foreign_info = ForeignInfo {
        family: spec.family,
        runner: runner.clone(),
        tools: tools.clone(),
        not_applicable,
        builds_not_made,
        emulator_notes: emulator.file.clone(),
    };
    let report = Report {
        schema: SCHEMA_VERSION,
        tool: format!("exitmatrix {}", env!("CARGO_PKG_VERSION")),
        target: spec.triple.to_owned(),
        host: HOST.to_owned(),
        profile_chain: profile.chain.clone(),
        unverified: profile.unverified.clone(),
        signal_table: profile.signals.name.to_owned(),
        cores_contained: limits.cores_contained,
        core_pattern,
        incomplete: interrupted_by.is_some(),
        interrupted_by: interrupted_by.map(|n| {
            crate::pure::signal::LINUX_GENERIC
                .display(Signal(n))
                .to_string()
        }),
        observers: observers.iter().map(|o| o.info()).collect(),
        summary: Summary::of(&cells),
        cells,
        cases: Vec::new(),
        foreign: Some(foreign_info),
    };
    let mut text = crate::cli::write_and_render(&report, &path, args.format, args.color)?;
    if !matches!(args.format, Format::Json) {
        text.push_str(&foreign_lines(&report));
    }
    writeln!(out, "{text}").map_err(write_error)?;
    if matches!(args.format, Format::Table | Format::Summary) {
        writeln!(out, "report: {}", path.display()).map_err(write_error)?;
    }
    if args.bless && interrupted_by.is_none() {
        let written = bless(&report, spec, &profile, &runner, &tools, &own)?;
        writeln!(
            out,
            "blessed: wrote {} ({written} rules); run again without --bless to check against it",
            own.display()
        )
        .map_err(write_error)?;
        return Ok(TargetResult::Ran(exit::CONFORMS, report.summary));
    }
    if let Some(n) = interrupted_by {
        writeln!(out, "interrupted: the report is incomplete").map_err(write_error)?;
        return Ok(TargetResult::Ran(
            u8::try_from(128 + n).unwrap_or(u8::MAX),
            report.summary,
        ));
    }
    let s = report.summary;
    let code = if s.deviates > 0 || s.no_expectation > 0 {
        exit::DEVIATES
    } else if s.errors > 0 || s.not_installed > 0 {
        exit::INFRASTRUCTURE
    } else {
        exit::CONFORMS
    };
    Ok(TargetResult::Ran(code, s))
}

/// The runner words that make the WASI runner script report (`--report`
/// is added by the agent context): the configured runner if it is the
/// script, else the default script on Node.js.
fn wasi_agent_words(runner: &Runner, root: &Path) -> Vec<String> {
    if runner.kind == target::RunnerKind::NodeWasi {
        runner.words.clone()
    } else {
        vec![
            target::node_path(),
            "--no-warnings".into(),
            root.join("runners/wasi.mjs").display().to_string(),
        ]
    }
}

/// The lines a foreign run adds below the findings: the runner, the tools,
/// and what did not apply.
fn foreign_lines(report: &Report) -> String {
    let Some(f) = &report.foreign else {
        return String::new();
    };
    let mut out = format!(
        "runner ({}): {}\ntools: {}\n",
        f.runner.source,
        if f.runner.words.is_empty() {
            "none (the host kernel runs the target's binaries)".to_owned()
        } else {
            f.runner.words.join(" ")
        },
        f.tools.join("; ")
    );
    if !f.not_applicable.is_empty() {
        let mut by_need: Vec<(&str, Vec<&str>)> = Vec::new();
        for n in &f.not_applicable {
            match by_need.iter_mut().find(|(k, _)| *k == n.needs) {
                Some((_, v)) => v.push(&n.behaviour),
                None => by_need.push((n.needs, vec![&n.behaviour])),
            }
        }
        for (needs, list) in by_need {
            out.push_str(&format!(
                "not applicable to {} (need {needs}): {} behaviours: {}\n",
                f.family,
                list.len(),
                list.join(", ")
            ));
        }
    }
    if !f.builds_not_made.is_empty() {
        let names: Vec<&str> = f.builds_not_made.iter().map(|b| b.name()).collect();
        out.push_str(&format!(
            "builds the target does not support: {}\n",
            names.join(", ")
        ));
    }
    if report.summary.known_divergences > 0 {
        out.push_str(&format!(
            "{} cells are known emulator divergences: the real system is expected to differ (see above)\n",
            report.summary.known_divergences
        ));
    }
    out
}

/// Derives the host's view and marks known emulator divergences.
fn settle(
    cell: &mut CellReport,
    spec: &TargetSpec,
    profile: &Profile,
    host_view: &HostView,
    emulator: &Emulator,
    limits: matrix::Limits,
) {
    if matches!(cell.verdict, Verdict::Error | Verdict::NotInstalled) {
        return;
    }
    let states: Vec<Termination> = cell.observed.iter().map(|o| o.decoded).collect();
    let host = HostViaRunner::signals();
    let table = if cell.observer == HOST_VIA_RUNNER {
        host
    } else {
        profile.signals
    };
    if cell.observer == HOST_VIA_RUNNER {
        cell.observed_text = outcome::display(&states, host);
        let base = profile.expectation(&cell.behaviour, cell.build, spec.family.base_observer());
        let Some(base) = base else {
            cell.expected = None;
            cell.verdict = Verdict::NoExpectation;
            cell.problems =
                vec!["no expectation in the profile for this cell's base column".into()];
            return;
        };
        let mut folded: Vec<Vec<Termination>> = Vec::new();
        for seq in &base.any_of {
            if let Some(f) = host_view.fold(seq, profile.signals, host) {
                if !folded.contains(&f) {
                    folded.push(f);
                }
            }
        }
        let mut e = base.clone();
        e.outcome = folded.iter().map(|s| outcome::display(s, host)).collect();
        e.any_of = folded;
        e.cite = format!(
            "{} — as the Linux host sees it through the runner: {}",
            base.cite, host_view.cite
        );
        let mask_core = !limits.cores_contained && e.wants_core();
        cell.problems = matrix::compare(&e, cell, &states, mask_core);
        cell.verdict = if cell.problems.is_empty() {
            Verdict::Conforms
        } else {
            Verdict::Deviates
        };
        cell.expected = Some(e);
    }
    if cell.verdict == Verdict::Deviates {
        if let Some(d) = emulator.divergence(
            spec.triple,
            &cell.behaviour,
            cell.build,
            &cell.observer,
            &states,
            table,
        ) {
            cell.verdict = Verdict::KnownDivergence;
            cell.problems.push(format!(
                "known emulator divergence ({}): {} [{}]",
                emulator.kind, d.cite, d.location
            ));
        }
    }
}

/// Creates the Wine prefix on first use (about 8 s), before cells run in
/// parallel and race to create it.
fn prepare_wine(runner: &Runner, foreign: &Path) -> Result<(), String> {
    let prefix = foreign.join("wine-prefix");
    if prefix.join("system.reg").exists() {
        return Ok(());
    }
    // Two runs (parallel tests, or two test processes under nextest) must not
    // both run wineboot on one prefix: the second fails. An advisory lock
    // serialises them; the loser finds the prefix made.
    std::fs::create_dir_all(foreign)
        .map_err(|e| format!("cannot create {}: {e}", foreign.display()))?;
    let lock = std::fs::File::create(foreign.join("wine-prefix.lock")).map_err(|e| {
        format!(
            "cannot create the Wine prefix lock in {}: {e}",
            foreign.display()
        )
    })?;
    // SAFETY: flock(2) on a descriptor this function owns; it is released
    // when `lock` is dropped at the end of the function.
    if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) } != 0 {
        return Err(format!(
            "cannot lock the Wine prefix: {}",
            std::io::Error::last_os_error()
        ));
    }
    if prefix.join("system.reg").exists() {
        return Ok(());
    }
    let mut words = runner.words.clone();
    words.extend(["wineboot".to_owned(), "--init".to_owned()]);
    #[expect(clippy::disallowed_methods, reason = "sets up the runner, not a probe")]
    let status = std::process::Command::new(&words[0])
        .args(&words[1..])
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot start Wine to create its prefix: {e}"))?;
    // wineboot returns before the server has written the registry; wait
    // for the server to finish (it exits a few seconds after its last
    // client).
    let env: Vec<(&str, &str)> = runner
        .words
        .iter()
        .filter_map(|w| w.split_once('='))
        .collect();
    #[expect(clippy::disallowed_methods, reason = "sets up the runner, not a probe")]
    let _ = std::process::Command::new("/usr/lib/wine/wineserver")
        .arg("-w")
        .env_clear()
        .envs(env)
        .status();
    if !status.success() || !prefix.join("system.reg").exists() {
        return Err(format!(
            "Wine could not create its prefix {} ({status})",
            prefix.display()
        ));
    }
    Ok(())
}

/// `--version` of the compiler, linker and runner.
fn tool_versions(spec: &TargetSpec, runner: &Runner) -> Vec<String> {
    let mut tools = vec![target::DEBIAN_RUSTC.to_owned()];
    tools.extend(spec.c_compiler.map(str::to_owned));
    let program = runner
        .words
        .iter()
        .find(|w| !w.contains('=') && !w.ends_with("/env") && *w != "env");
    tools.extend(program.cloned());
    let mut seen = Vec::new();
    tools
        .into_iter()
        .filter_map(|t| {
            if seen.contains(&t) {
                return None;
            }
            seen.push(t.clone());
            target::tool_version(&t).map(|v| format!("{t}: {v}"))
        })
        .collect()
}

/// Writes the starting profile of `--bless`: it inherits the profile the
/// run was checked against and records, as rules, every cell that did not
/// conform to it (known emulator divergences and the host's view aside,
/// which are explained elsewhere). Returns the number of rules.
fn bless(
    report: &Report,
    spec: &TargetSpec,
    profile: &Profile,
    runner: &Runner,
    tools: &[String],
    path: &Path,
) -> Result<usize, String> {
    let unexplained: Vec<&CellReport> = report
        .cells
        .iter()
        .filter(|c| c.observer != HOST_VIA_RUNNER)
        .filter(|c| matches!(c.verdict, Verdict::Deviates | Verdict::NoExpectation))
        .collect();
    if let Some(c) = report.cells.iter().find(|c| c.verdict == Verdict::Error) {
        return Err(format!(
            "cannot bless: {} [{} · {}] could not be observed ({})",
            c.behaviour,
            c.build,
            c.observer,
            c.problems.join("; ")
        ));
    }
    // One rule per behaviour, build and observed outcome, listing the
    // observers that saw it.
    struct Blessed {
        behaviour: String,
        build: Build,
        outcome: String,
        observers: Vec<String>,
        stdout: Option<String>,
    }
    let mut rules: Vec<Blessed> = Vec::new();
    for c in unexplained {
        let stdout = c
            .expected
            .as_ref()
            .and_then(|e| e.stdout.as_ref())
            .map(|_| c.stdout.clone());
        match rules.iter_mut().find(|r| {
            r.behaviour == c.behaviour
                && r.build == c.build
                && r.outcome == c.observed_text
                && r.stdout == stdout
        }) {
            Some(r) => r.observers.push(c.observer.clone()),
            None => rules.push(Blessed {
                behaviour: c.behaviour.clone(),
                build: c.build,
                outcome: c.observed_text.clone(),
                observers: vec![c.observer.clone()],
                stdout,
            }),
        }
    }
    let date = today();
    let mut text = format!(
        "# A starting profile for {triple}, written by\n\
         # `cargo xtask test-matrix --target {triple} --bless` on {date}.\n\
         # It inherits the {base} profile and records, as rules, what this target did\n\
         # where {base} expected otherwise. Observed with:\n\
         #   runner ({source}): {runner}\n",
        triple = spec.triple,
        base = profile.name,
        source = runner.source,
        runner = if runner.words.is_empty() {
            "none".to_owned()
        } else {
            runner.words.join(" ")
        },
    );
    for t in tools {
        text.push_str(&format!("#   {t}\n"));
    }
    text.push_str(&format!(
        "#   {}\n\
         # Each rule's `cite` says only that it was observed: replace it with the\n\
         # source that explains it, or fix the target and delete the rule.\n\
         description = \"{triple}: observed on {date} (blessed), based on {base}\"\n\
         inherits = \"{base}\"\n\
         signals = \"{signals}\"\n\
         wait = \"{wait}\"\n",
        report.tool,
        triple = spec.triple,
        base = profile.name,
        signals = profile.signals.name,
        wait = spec.wait,
    ));
    for Blessed {
        behaviour,
        build,
        outcome,
        observers,
        stdout,
    } in &rules
    {
        let list: Vec<String> = observers.iter().map(|o| format!("{o:?}")).collect();
        text.push_str(&format!(
            "\n[[expect]]\nbehaviours = [{behaviour:?}]\nbuilds = [{:?}]\nobservers = [{}]\noutcome = {outcome:?}\n",
            build.name(),
            list.join(", ")
        ));
        if let Some(stdout) = stdout {
            text.push_str(&format!("stdout = {stdout:?}\n"));
        }
        text.push_str(&format!(
            "cite = \"blessed: observed on {date} with {}; not yet explained\"\n",
            if runner.words.is_empty() {
                "no runner".to_owned()
            } else {
                format!("runner {}", runner.kind.name())
            }
        ));
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(rules.len())
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
