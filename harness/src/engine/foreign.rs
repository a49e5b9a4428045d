//! `test-matrix --target <foreign triple>` and `--all-targets`: building for
//! a foreign target, running through its runner and its in-target agent,
//! deriving the host's view, marking known emulator divergences, and
//! `--bless`.
//!
//! A foreign run has these columns (see [`crate::pure::target::Family::observers`]):
//! on Unix targets `waitpid`, `waitid` and `std` as the agent saw them
//! inside the target, on Windows and WASI `agent`; then `host-via-runner`,
//! what the Linux host's `waitpid` saw of the runner process, decoded with
//! the host's conventions. The profile states what the real system does;
//! the host's view is derived from the base column's expectation through
//! the runner's `[host-view]` (`profiles/emulators/<kind>.toml`), so a
//! runner's folding (Wine keeps 8 of 32 bits) is asserted too.

use std::path::{Path, PathBuf};

use crate::engine::agent::{AgentContext, HostViaRunner};
use crate::engine::error::RunError;
use crate::engine::matrix::{self, Limits};
use crate::engine::run::Request;
use crate::observers::observe::{Case, Observer};
use crate::process::spawn::Invocation;
use crate::pure::catalogue::{Behaviour, Build, ProbeBin};
use crate::pure::decode::{StateChange, WaitConventions};
use crate::pure::emulator::{Emulator, HostView};
use crate::pure::observers::{self, HOST_VIA_RUNNER};
use crate::pure::outcome;
use crate::pure::profile::Profile;
use crate::pure::signal::SignalTable;
use crate::pure::target::{Family, Runner, RunnerKind, RunnerSource, TargetSpec};
use crate::report::model::{ForeignInfo, NotApplicable, Report, Row, Verdict};
use crate::toolchain::crossbuild;
use crate::toolchain::probes::ProbeSet;
use crate::toolchain::runners;

/// A foreign target, prepared: what settling its cells and blessing its
/// profile need.
#[derive(Debug)]
pub struct Foreign {
    spec: &'static TargetSpec,
    runner: Runner,
    emulator: Emulator,
    host_view: HostView,
    /// Where `--bless` writes the target's own profile.
    own_profile: PathBuf,
    /// What the report says about the foreign run.
    pub info: ForeignInfo,
}

/// What [`prepare`] hands the pipeline: the foreign part, the profile, the
/// probes, and the columns (the agent's, then the host's view).
pub type PreparedForeign = (Foreign, Profile, ProbeSet, Vec<Box<dyn Observer>>);

/// Prepares a foreign target: finds its runner and checks that it is
/// installed, loads the profile (the target's own, the one asked for, or
/// with `--bless` the family's) and the emulator notes, leaves out the
/// behaviours and builds the target cannot carry out, and builds the probes
/// and the agent.
pub fn prepare(
    request: &Request,
    spec: &'static TargetSpec,
    root: &Path,
    selected: &[&Behaviour],
    mut builds: Vec<Build>,
) -> Result<PreparedForeign, RunError> {
    let foreign = runners::foreign_dir(root);
    let runner = runners::resolve_runner(
        spec,
        request.runner.as_deref(),
        |var| std::env::var(var).ok(),
        &runners::config_dirs(root),
        root,
        &foreign,
    )
    .map_err(RunError::Config)?;
    // A runner the user chose and that is not there cannot be fixed by
    // installing the targets: say which runner, and where it came from.
    if runner.source != RunnerSource::Default {
        if let Some(program) = runners::program(&runner) {
            if runners::find_on_path(program).is_none() {
                return Err(RunError::Runner(format!(
                    "runner `{program}` (from {}) is not an executable file",
                    runner.source
                )));
            }
        }
    }
    if let Err(missing) = runners::check_installed(spec, &runner, &foreign) {
        return Err(RunError::NotInstalled {
            triple: spec.triple.to_owned(),
            missing,
        });
    }

    // The profile: the target's own, or the one asked for; with --bless,
    // the family's, since the target has none yet.
    let profiles_dir = &request.profiles_dir;
    let own = profiles_dir.join(format!("{}.toml", spec.triple));
    let profile_name = match (&request.profile, request.bless) {
        (Some(_), true) => {
            return Err(RunError::Usage(
                "--bless writes the target's own profile; drop --profile".into(),
            ))
        }
        (_, true) if own.exists() => {
            return Err(RunError::Usage(format!(
                "{} exists: --bless only writes a starting profile for a target that has none (check against it without --bless)",
                own.display()
            )))
        }
        (_, true) => spec.family.profile().to_owned(),
        (Some(p), false) => p.clone(),
        (None, false) if !own.exists() => {
            return Err(RunError::Usage(format!(
                "no profile for {} in {}: write a starting one with `--bless`, or check against the family with `--profile {}`",
                spec.triple,
                profiles_dir.display(),
                spec.family.profile()
            )))
        }
        (None, false) => spec.triple.to_owned(),
    };
    let defaults = (
        SignalTable::by_name(spec.signals).expect("known targets name known tables"),
        WaitConventions::by_name(spec.wait).expect("known targets name known layouts"),
    );
    let names = observers::all_names();
    let profile = Profile::load_with(profiles_dir, &profile_name, &names, Some(defaults))?;
    let emulator = Emulator::load(
        &profiles_dir.join("emulators"),
        runner.kind.name(),
        &names,
        profile.signals,
    )
    .map_err(RunError::Config)?;
    let host_view = emulator
        .host_view
        .clone()
        .unwrap_or_else(HostView::default_for_native);

    // What runs: applicable behaviours × supported builds.
    let mut not_applicable = Vec::new();
    let mut behaviours = Vec::new();
    for b in selected {
        match b.needs() {
            Some(needs) if !spec.provides(needs) => not_applicable.push(NotApplicable {
                behaviour: b.name.clone(),
                needs: needs.name(),
            }),
            _ => behaviours.push(b),
        }
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

    let built = crossbuild::build(spec, &foreign, &request.target_dir.join("foreign"), &needed)
        .map_err(|source| RunError::Build {
            for_target: format!(" for {}", spec.triple),
            source,
        })?;
    if runner.kind == RunnerKind::Wine {
        prepare_wine(&runner, &foreign).map_err(RunError::Runner)?;
    }
    let canary = canary(spec, &runner, &built.probes, profile.signals)?;
    // WASI's agent is the runner script itself, told to --report.
    let agent_words = match spec.family {
        Family::Wasi => wasi_agent_words(&runner, root),
        _ => runner.words.clone(),
    };
    let context = std::sync::Arc::new(AgentContext::new(
        spec.family,
        &agent_words,
        built.agent.as_deref(),
        profile.signals,
    ));
    let mut columns: Vec<Box<dyn Observer>> = context.observers();
    columns.push(Box::new(HostViaRunner::new(&runner.words)));
    let tools = tool_versions(spec, &runner);
    let info = ForeignInfo {
        family: spec.family,
        runner: runner.clone(),
        tools,
        not_applicable,
        builds_not_made,
        emulator_notes: emulator.file.clone(),
        canary,
    };
    Ok((
        Foreign {
            spec,
            runner,
            emulator,
            host_view,
            own_profile: own,
            info,
        },
        profile,
        built.probes,
        columns,
    ))
}

/// Proves the runner before any cell counts: runs the target's probe
/// through it as the host's view does, and checks that the host sees an
/// ending no broken runner imitates. The probe prints a nonce and exits
/// with a code chosen from it (a runner that runs nothing, runs another
/// program, or drops the status cannot produce both); on a target with
/// signals it also dies of SIGTERM, which the host must see as a signal
/// death. Returns what was checked, for the report; a failure is a
/// [`RunError::Runner`] naming the runner and what it did.
fn canary(
    spec: &TargetSpec,
    runner: &Runner,
    probes: &ProbeSet,
    table: &SignalTable,
) -> Result<Vec<String>, RunError> {
    let Some(program) = [Build::Abort, Build::Unwind]
        .into_iter()
        .find_map(|b| probes.path(b, ProbeBin::Probe))
    else {
        return Ok(vec!["not run: no Rust probe was built".into()]);
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let nonce = format!("exitmatrix-canary-{:08x}{:08x}", std::process::id(), nanos);
    // An exit code no runner returns by accident: not 0, 1, 2 or 126-128+.
    let code = 17 + i64::from(nanos % 89);
    let host = HostViaRunner::new(&runner.words);
    let who = match runners::program(runner) {
        Some(p) => format!("runner `{p}` (from {})", runner.source),
        None => "the host kernel, as the runner,".to_owned(),
    };
    let limits = Limits::default();
    let wait = WaitConventions::LINUX;
    let run = |args: Vec<String>| {
        let invocation = Invocation {
            runner: Vec::new(),
            program: program.clone(),
            args,
        };
        let case = Case {
            invocation: &invocation,
            core: false,
            wait: &wait,
            timeout: limits.timeout,
            grace: limits.grace,
            continue_stops: false,
            interrupt: None,
        };
        host.observe(&case).map_err(|e| {
            RunError::Runner(format!("{who} could not be started for the canary: {e}"))
        })
    };
    let failed = |what: String, seen: &crate::observers::observe::Observation| {
        let stderr = String::from_utf8_lossy(&seen.leftovers.stderr);
        let first = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        RunError::Runner(format!(
            "{who} cannot run {} programs: {what}{}",
            spec.triple,
            if first.is_empty() {
                String::new()
            } else {
                format!("; it said: {first}")
            }
        ))
    };
    let mut checked = Vec::new();
    let seen = run(vec!["canary".into(), nonce.clone(), code.to_string()])?;
    let last = seen.states.last().map(|o| o.change);
    let stdout = String::from_utf8_lossy(&seen.leftovers.stdout);
    if last != Some(StateChange::Exited { code }) || stdout.trim_end() != nonce {
        let shown = last.map_or_else(
            || "nothing".to_owned(),
            |s| s.display(HostViaRunner::signals()).to_string(),
        );
        return Err(failed(
            format!(
                "the canary should exit {code} and print {nonce}; the host saw {shown} and stdout {:?}",
                stdout.trim_end()
            ),
            &seen,
        ));
    }
    checked.push(format!("exit {code} with a nonce on stdout: seen"));
    if let (Family::Unix, Some(term)) = (spec.family, table.number("SIGTERM")) {
        let seen = run(vec!["raise".into(), term.0.to_string()])?;
        let last = seen.states.last().map(|o| o.change);
        let host_term = HostViaRunner::signals().number("SIGTERM");
        if !matches!(last, Some(StateChange::Signaled { signal, .. }) if Some(signal) == host_term)
        {
            let shown = last.map_or_else(
                || "nothing".to_owned(),
                |s| s.display(HostViaRunner::signals()).to_string(),
            );
            return Err(failed(
                format!("the canary should die of SIGTERM; the host saw {shown}"),
                &seen,
            ));
        }
        checked.push("death by SIGTERM: seen".into());
    }
    Ok(checked)
}

impl Foreign {
    /// A foreign target prepared elsewhere (`engine::remote`).
    pub fn new(
        spec: &'static TargetSpec,
        runner: Runner,
        emulator: Emulator,
        host_view: HostView,
        own_profile: PathBuf,
        info: ForeignInfo,
    ) -> Foreign {
        Foreign {
            spec,
            runner,
            emulator,
            host_view,
            own_profile,
            info,
        }
    }

    /// Derives the host's view and marks known emulator divergences (see
    /// [`settle`]).
    pub fn settle(&self, cell: &mut Row, profile: &Profile, limits: Limits) {
        settle(
            cell,
            self.spec,
            profile,
            &self.host_view,
            &self.emulator,
            limits,
        );
    }

    /// Writes the target's starting profile (see [`bless`]); returns its
    /// path and number of rules.
    pub fn bless(&self, report: &Report, profile: &Profile) -> Result<(PathBuf, usize), RunError> {
        let n = bless(
            report,
            self.spec,
            profile,
            &self.runner,
            &self.info.tools,
            &self.own_profile,
        )?;
        Ok((self.own_profile.clone(), n))
    }
}

/// The runner words that make the WASI runner script report (`--report`
/// is added by the agent context): the configured runner if it is the
/// script, else the default script on Node.js.
fn wasi_agent_words(runner: &Runner, root: &Path) -> Vec<String> {
    if runner.kind == RunnerKind::NodeWasi {
        runner.words.clone()
    } else {
        vec![
            runners::node_path(),
            "--no-warnings".into(),
            root.join("runners/wasi.mjs").display().to_string(),
        ]
    }
}

/// Derives the host's view and marks known emulator divergences.
fn settle(
    cell: &mut Row,
    spec: &TargetSpec,
    profile: &Profile,
    host_view: &HostView,
    emulator: &Emulator,
    limits: Limits,
) {
    if matches!(cell.verdict, Verdict::Error | Verdict::NotInstalled) {
        return;
    }
    let states: Vec<StateChange> = cell.observed.iter().map(|o| o.decoded).collect();
    let host = HostViaRunner::signals();
    let table = if cell.observer == HOST_VIA_RUNNER {
        host
    } else {
        profile.signals
    };
    if cell.observer == HOST_VIA_RUNNER {
        cell.observed_text = outcome::display(&states, host);
        let base = cell
            .build()
            .and_then(|build| profile.expectation(&cell.name, build, spec.family.base_observer()));
        let Some(base) = base else {
            cell.expected = None;
            cell.verdict = Verdict::NoExpectation;
            cell.problems =
                vec!["no expectation in the profile for this cell's base column".into()];
            return;
        };
        let mut folded: Vec<Vec<StateChange>> = Vec::new();
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
        let mask_core = !limits.cores_contained && (e.ends_by_signal() || e.wants_core());
        cell.core_unchecked = mask_core;
        cell.problems = matrix::compare(&e, cell, &states, mask_core);
        cell.verdict = if cell.problems.is_empty() {
            Verdict::Conforms
        } else {
            Verdict::Deviates
        };
        cell.expected = Some(e);
    }
    let Some(build) = cell.build() else { return };
    if cell.verdict == Verdict::Deviates {
        if let Some(d) = emulator.divergence(
            spec.triple,
            &cell.name,
            build,
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
pub(crate) fn prepare_wine(runner: &Runner, foreign: &Path) -> Result<(), String> {
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
    // Released when `lock` is dropped at the end of the function.
    crate::os::lock_exclusive(&lock).map_err(|e| format!("cannot lock the Wine prefix: {e}"))?;
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
    let mut tools = vec![runners::DEBIAN_RUSTC.to_owned()];
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
            runners::tool_version(&t).map(|v| format!("{t}: {v}"))
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
) -> Result<usize, RunError> {
    let unexplained: Vec<&Row> = report
        .cells
        .iter()
        .filter(|c| c.observer != HOST_VIA_RUNNER)
        .filter(|c| matches!(c.verdict, Verdict::Deviates | Verdict::NoExpectation))
        .collect();
    if let Some(c) = report.cells.iter().find(|c| c.verdict == Verdict::Error) {
        return Err(RunError::Usage(format!(
            "cannot bless: {} could not be observed ({})",
            c.label(),
            c.problems.join("; ")
        )));
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
        let Some(build) = c.build() else { continue };
        match rules.iter_mut().find(|r| {
            r.behaviour == c.name
                && r.build == build
                && r.outcome == c.observed_text
                && r.stdout == stdout
        }) {
            Some(r) => r.observers.push(c.observer.clone()),
            None => rules.push(Blessed {
                behaviour: c.name.clone(),
                build,
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
    std::fs::write(path, text).map_err(|source| RunError::Report {
        path: path.to_owned(),
        source,
    })?;
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
