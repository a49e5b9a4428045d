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
use crate::engine::remote::Remote;
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
    /// The connection to this run's agent server, if the cases go to one
    /// ([`crate::engine::remote::LocalServer`], restarted if it crashes).
    server: std::sync::Mutex<Option<std::sync::Arc<Remote>>>,
    /// Under Wine: the run's hold on the prefix and its persistent
    /// `wineserver`, if this run started it.
    wine: std::sync::Mutex<Option<WineRun>>,
}

/// A `wineserver -p -f` this run started for its Wine prefix, so that every
/// Windows cell (and the canary) finds a warm server: Wine's own server
/// ends a few seconds after its last client (wineserver(1), `-p`), and a
/// cold start (the server, then `services.exe`, `explorer.exe` and the
/// others, started by the first client) took 1.9 s here against 0.12 s
/// for a client of a running server (observed with Wine 8.0 on Debian 12).
/// It is ended when the target's cells are done, or when dropped: SIGINT,
/// as its own `-k` sends first (wineserver(1)), then SIGKILL after 2 s,
/// reaped by pid. SIGINT ends the prefix's own processes (`services.exe`,
/// `explorer.exe`, `winedevice.exe` and the others) with the server;
/// after SIGTERM they stayed, blocked for ever with the server gone and
/// reparented to init where no subreaper took them (a test binary that
/// runs the Windows target in process), observed with Wine 8.0 on Debian 12.
#[derive(Debug)]
struct WineServer(std::process::Child);

/// A hold on the shared Wine prefix (`wine-prefix` in the foreign
/// directory): the advisory lock `wine-run.lock` beside it, and the warm
/// server this hold started, if any. Whatever runs Windows programs in the
/// prefix holds one for as long as they run: a foreign Windows run, and
/// a served Windows agent ([`crate::engine::remote::serve_command`]). The
/// lock guards the prefix's creation (two `wineboot`s on one prefix fail)
/// and its server: one holder at a time (tests run targets in parallel in
/// one process, and nextest in several), so that no holder ends the
/// server, and with it the processes, of another that found it running.
/// A process must not ask for a second hold while it has one: the lock
/// is per open file, so the second waits for ever. Fields drop in order:
/// the server ends before the prefix is free.
#[derive(Debug)]
pub struct WineRun {
    _server: Option<WineServer>,
    _lock: std::fs::File,
}

impl WineRun {
    /// Waits for the lock, creates the prefix on first use (about 8 s)
    /// and starts its warm server with `runner`'s words.
    pub(crate) fn start(runner: &Runner, foreign: &Path) -> Result<WineRun, String> {
        std::fs::create_dir_all(foreign)
            .map_err(|e| format!("cannot create {}: {e}", foreign.display()))?;
        let path = foreign.join("wine-run.lock");
        let lock = std::fs::File::create(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        crate::os::lock_exclusive(&lock)
            .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
        create_prefix(runner, foreign)?;
        Ok(WineRun {
            _server: WineServer::start(runner),
            _lock: lock,
        })
    }
}

/// Where Debian's `wine64` package puts the server.
const WINESERVER: &str = "/usr/lib/wine/wineserver";

impl WineServer {
    /// Starts the server with the runner's environment words
    /// (`WINEPREFIX=...`); `None` if it cannot start or ends at once (a
    /// server of the prefix already runs, started by another run: the
    /// cells use that one, as they would without this).
    fn start(runner: &Runner) -> Option<WineServer> {
        let env: Vec<(&str, &str)> = runner
            .words
            .iter()
            .filter_map(|w| w.split_once('='))
            .collect();
        #[expect(
            clippy::disallowed_methods,
            reason = "the runner's server, not a probe"
        )]
        let child = std::process::Command::new(WINESERVER)
            .args(["-p", "-f"])
            .env_clear()
            .envs(env)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let mut server = WineServer(child);
        // The server either stays (it took the prefix's lock) or says at
        // once that another holds it.
        std::thread::sleep(std::time::Duration::from_millis(50));
        match server.0.try_wait() {
            Ok(None) => Some(server),
            _ => {
                let _ = server.0.wait();
                std::mem::forget(server);
                None
            }
        }
    }
}

impl Drop for WineServer {
    fn drop(&mut self) {
        let Some(pid) = crate::os::pid_from_raw(i64::from(self.0.id())) else {
            return;
        };
        crate::os::interrupt_process(pid);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while std::time::Instant::now() < deadline {
            if !matches!(self.0.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How the local agent runs its cases: `EXITMATRIX_AGENT=one-shot` starts
/// one agent process per case (as before the agent server), anything
/// else one server per target and run (Unix targets; the Windows and WASI
/// agents run one-shot). The one-shot path is kept to compare against.
pub const AGENT_MODE_VAR: &str = "EXITMATRIX_AGENT";

/// Whether this run's Unix agent is served (see [`AGENT_MODE_VAR`]).
fn served(family: Family) -> bool {
    family == Family::Unix && std::env::var(AGENT_MODE_VAR).as_deref() != Ok("one-shot")
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
    // the one the porter names (a name or a path) or else the family's,
    // since the target has none yet.
    let profiles_dir = &request.profiles_dir;
    let own = profiles_dir.join(format!("{}.toml", spec.triple));
    let asked = request
        .profile
        .as_deref()
        .map(|p| profile_reference(p, profiles_dir))
        .transpose()?;
    let profile_name = match (asked, request.bless) {
        (_, true) if own.exists() => {
            return Err(RunError::Usage(format!(
                "{} exists: --bless only writes a starting profile for a target that has none (check against it without --bless)",
                own.display()
            )))
        }
        (Some(p), _) => p,
        (None, true) => spec.family.profile().to_owned(),
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
    let Plan {
        not_applicable,
        builds_not_made,
        needed,
    } = plan(spec, selected, &mut builds);

    let built = crossbuild::build(spec, &foreign, &request.target_dir.join("foreign"), &needed)
        .map_err(|source| RunError::Build {
            for_target: format!(" for {}", spec.triple),
            source,
        })?;
    let wine = if runner.kind == RunnerKind::Wine {
        Some(WineRun::start(&runner, &foreign).map_err(RunError::Runner)?)
    } else {
        None
    };
    let canary = canary(spec, &runner, &built.probes, profile.signals)?;
    // WASI's agent is the runner script itself, told to --report.
    let agent_words = match spec.family {
        Family::Wasi => wasi_agent_words(&runner, root),
        _ => runner.words.clone(),
    };
    let (context, server) = match built.agent.as_deref() {
        Some(agent) if served(spec.family) => {
            let remote = std::sync::Arc::new(Remote::serve_local(spec.family, &runner, agent)?);
            let context = AgentContext::with_backend(
                spec.family,
                std::sync::Arc::clone(&remote)
                    as std::sync::Arc<dyn crate::engine::agent::CaseRunner>,
                profile.signals,
            );
            (std::sync::Arc::new(context), Some(remote))
        }
        _ => (
            std::sync::Arc::new(AgentContext::new(
                spec.family,
                &agent_words,
                built.agent.as_deref(),
                profile.signals,
            )),
            None,
        ),
    };
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
            server: std::sync::Mutex::new(server),
            wine: std::sync::Mutex::new(wine),
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
            server: std::sync::Mutex::new(None),
            wine: std::sync::Mutex::new(None),
        }
    }

    /// How many cells run at once: `jobs` is the number of processes meant
    /// to run at once. The columns of one agent run (`waitpid`, `waitid`
    /// and `std` of a Unix target) wait for the one run they share, so
    /// each column but the host's view adds a waiting worker: with
    /// `columns` columns of which one runs the agent and one the host's
    /// view, `jobs * columns / 2` workers keep `jobs` processes going.
    /// Twice that again overlaps the emulators' start and the hostile
    /// probes' timeouts (they sleep) with other cases.
    pub fn workers(&self, jobs: usize, columns: usize) -> usize {
        (jobs * columns.max(2)).max(1)
    }

    /// Whether a program (qemu-user, Wine, Node.js) starts every probe,
    /// rather than the host's kernel.
    pub fn runs_probes_through_a_program(&self) -> bool {
        self.runner.kind != RunnerKind::Native
    }

    /// What marks the processes this target's runner leaves behind on
    /// purpose, for [`crate::process::orphans::sweep_scope`]: under Wine,
    /// its `WINEPREFIX=...` word (which `wineserver` carries in its
    /// environment) and the prefix (where Wine's own programs run).
    pub fn runner_marker(&self) -> Option<(&str, &Path)> {
        if self.runner.kind != RunnerKind::Wine {
            return None;
        }
        self.runner
            .words
            .iter()
            .find_map(|w| Some((w.as_str(), Path::new(w.strip_prefix("WINEPREFIX=")?))))
    }

    /// The first failure of a connection to this run's agent server (a
    /// crash of it, which restarted it), for the command's one line.
    pub fn server_failure(&self) -> Option<String> {
        self.server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|r| r.failure())
    }

    /// Stops this run's agent server, if it has one; call when no cell is
    /// running (before the run's final sweep).
    pub fn stop_server(&self) {
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(server) = server {
            server.stop_local();
        }
        drop(self.wine.lock().unwrap_or_else(|e| e.into_inner()).take());
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

/// Marks the known divergences of the emulator a *native* run runs under
/// (a Windows host under Wine, `os::emulator`): each deviating cell whose
/// states (or, for a view, reported values) a rule of
/// `profiles/emulators/<kind>.toml` explains becomes a known divergence,
/// as a foreign target's cell does in [`Foreign::settle`].
pub fn settle_emulated_host(
    cells: &mut [Row],
    profiles_dir: &Path,
    kind: &str,
    version: &str,
    profile: &Profile,
) -> Result<(), RunError> {
    let names = observers::all_names();
    let emulator = Emulator::load(
        &profiles_dir.join("emulators"),
        kind,
        &names,
        profile.signals,
    )
    .map_err(RunError::Config)?;
    for cell in cells.iter_mut() {
        if cell.verdict != Verdict::Deviates {
            continue;
        }
        let Some(build) = cell.build() else { continue };
        let states: Vec<StateChange> = cell.observed.iter().map(|o| o.decoded).collect();
        let rule = match &cell.reported {
            Some(reported) => emulator.view_divergence(
                crate::toolchain::probes::HOST,
                &cell.name,
                build,
                &cell.observer,
                reported,
                profile.signals,
            ),
            None => emulator.divergence(
                crate::toolchain::probes::HOST,
                &cell.name,
                build,
                &cell.observer,
                &states,
                profile.signals,
            ),
        };
        if let Some(d) = rule {
            cell.verdict = Verdict::KnownDivergence;
            cell.problems.push(format!(
                "known emulator divergence (this host runs under {} {version}): {} [{}]",
                emulator.kind, d.cite, d.location
            ));
        }
    }
    Ok(())
}

/// What of a selection a target can carry out.
pub(crate) struct Plan {
    /// The behaviours it cannot, with what each needs.
    pub not_applicable: Vec<NotApplicable>,
    /// The requested builds it does not make.
    pub builds_not_made: Vec<Build>,
    /// The builds to make for the rest (C only where the target has a C
    /// compiler).
    pub needed: Vec<Build>,
}

/// Splits `selected` by what `spec` provides and removes from `builds` the
/// ones `spec` does not make: one rule for local, remote and kit runs.
pub(crate) fn plan(spec: &TargetSpec, selected: &[&Behaviour], builds: &mut Vec<Build>) -> Plan {
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
    let needed = builds
        .iter()
        .copied()
        .filter(|b| behaviours.iter().any(|beh| beh.builds().contains(b)))
        .filter(|&b| b != Build::C || spec.c_compiler.is_some())
        .collect();
    Plan {
        not_applicable,
        builds_not_made,
        needed,
    }
}

/// Creates the Wine prefix if it is not there; the caller holds the
/// prefix's lock ([`WineRun`]).
fn create_prefix(runner: &Runner, foreign: &Path) -> Result<(), String> {
    let prefix = foreign.join("wine-prefix");
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

/// What `--profile` names: a profile of the profile directory, or a file.
/// A file (a value with a `/` or ending in `.toml`) in the profile
/// directory is named by its stem; one elsewhere by its absolute path
/// without `.toml`, which [`Profile::load`] and an `inherits` line read as
/// that file (the directory is joined to it, and an absolute path wins).
pub(crate) fn profile_reference(asked: &str, profiles_dir: &Path) -> Result<String, RunError> {
    if !asked.contains('/') && !asked.ends_with(".toml") {
        return Ok(asked.to_owned());
    }
    let path = Path::new(asked);
    let bad = |why: &str| RunError::Usage(format!("--profile {asked}: {why}"));
    let Some(stem) = asked.strip_suffix(".toml") else {
        return Err(bad("a profile file's name ends in .toml"));
    };
    let file = path
        .canonicalize()
        .map_err(|e| bad(&format!("cannot read it ({e})")))?;
    if !file.is_file() {
        return Err(bad("not a file"));
    }
    let parent = file.parent().map(Path::to_path_buf);
    let dir = profiles_dir.canonicalize().ok();
    let name = Path::new(stem)
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| bad("not a file name"))?;
    if parent.is_some() && parent == dir {
        return Ok(name.to_owned());
    }
    let absolute = file.with_file_name(name);
    absolute
        .to_str()
        .map(str::to_owned)
        .ok_or_else(|| bad("the path is not UTF-8"))
}

/// Whether the probe said it could not carry the behaviour out on this
/// target: every probe then prints `<probe>: <verb>: <why>` on stderr and
/// exits with 121 (`CANNOT` in `probes/src/bin/probe.rs` and
/// `probes/c/cprobe.c`), or 120 for an argument it could not read there.
/// Such a cell says nothing about the target's exit behaviour.
fn probe_could_not(cell: &Row) -> bool {
    let said = cell.stderr.lines().any(|l| {
        l.strip_prefix("probe: ")
            .or_else(|| l.strip_prefix("cprobe: "))
            .is_some_and(|rest| rest.contains(": "))
    });
    let code = match (cell.observed.last(), cell.reported.as_deref()) {
        (Some(o), _) => match o.decoded {
            StateChange::Exited { code } => Some(code),
            _ => None,
        },
        (None, Some([.., crate::pure::view::Reported::Code { value }])) => Some(*value),
        _ => None,
    };
    said && matches!(code, Some(120 | 121))
}

/// The fragment of `stderr` a blessed `stderr-contains` records: its first
/// line that is not blank, trimmed, cut before the first absolute path in
/// it (rustc 1.63's panic message names the source file by the path it was
/// built from, which another checkout does not share) and to at most 80
/// bytes (at a character boundary).
fn stderr_fragment(stderr: &str) -> Option<String> {
    let line = stderr.lines().map(str::trim).find(|l| !l.is_empty())?;
    let starts_path = |at: usize| {
        let rest = &line[at..];
        let after_gap = at == 0
            || line[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_whitespace() || "'\"(".contains(c));
        let drive = rest.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
            && rest.as_bytes().get(1..3) == Some(b":\\".as_slice());
        after_gap && (rest.starts_with('/') || drive)
    };
    let cut = line
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| i > 0 && starts_path(i))
        .unwrap_or(line.len());
    let line = line[..cut].trim_end();
    let mut end = line.len().min(80);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    Some(line[..end].to_owned())
}

/// The output checks a blessed rule keeps for `cell`: the ones of the rule
/// it departed from, each rewritten to what the cell showed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Checks {
    stdout: Option<String>,
    stderr_contains: Vec<String>,
    stderr_lacks: Vec<String>,
    timed_out: Vec<String>,
    /// What could not be kept, as comment lines.
    dropped: Vec<String>,
}

impl Checks {
    fn of(cell: &Row) -> Checks {
        let mut checks = Checks {
            timed_out: cell.watchdog.iter().map(|s| (*s).to_owned()).collect(),
            ..Checks::default()
        };
        let Some(e) = &cell.expected else {
            return checks;
        };
        if e.stdout.is_some() {
            checks.stdout = Some(cell.stdout.clone());
        }
        for f in &e.stderr_contains {
            let kept = if cell.stderr.contains(f.as_str()) {
                Some(f.clone())
            } else {
                stderr_fragment(&cell.stderr)
            };
            match kept {
                Some(k) if !checks.stderr_contains.contains(&k) => checks.stderr_contains.push(k),
                Some(_) => {}
                None => checks.dropped.push(format!(
                    "{} expected stderr to contain {f:?}; it was empty",
                    e.profile
                )),
            }
        }
        for f in &e.stderr_lacks {
            if cell.stderr.contains(f.as_str()) {
                checks.dropped.push(format!(
                    "{} expected stderr to lack {f:?}; it held it",
                    e.profile
                ));
            } else {
                checks.stderr_lacks.push(f.clone());
            }
        }
        checks
    }
}

/// Writes the starting profile of `--bless`: it inherits the profile the
/// run was checked against and records, as rules, every cell that did not
/// conform to it (known emulator divergences and the host's view aside,
/// which are explained elsewhere). A rule keeps the output checks of the
/// rule it replaces, rewritten to what was seen; builds that agree share
/// one rule; a cell whose probe could not carry its behaviour out is not
/// blessed (it is listed in the file's header instead). The profile says
/// `unverified`, so its rules are counted apart. Returns the number of
/// rules.
fn bless(
    report: &Report,
    spec: &TargetSpec,
    profile: &Profile,
    runner: &Runner,
    tools: &[String],
    path: &Path,
) -> Result<usize, RunError> {
    if let Some(c) = report.cells.iter().find(|c| c.verdict == Verdict::Error) {
        return Err(RunError::Usage(format!(
            "cannot bless: {} could not be observed ({})",
            c.label(),
            c.problems.join("; ")
        )));
    }
    let date = today();
    let text = blessed_profile(
        report,
        spec.triple,
        spec.wait,
        profile,
        runner,
        tools,
        &date,
    );
    std::fs::write(path, &text.0).map_err(|source| RunError::Report {
        path: path.to_owned(),
        source,
    })?;
    Ok(text.1)
}

/// The text of a blessed profile (see [`bless`]) and its number of rules.
fn blessed_profile(
    report: &Report,
    triple: &str,
    wait: &str,
    profile: &Profile,
    runner: &Runner,
    tools: &[String],
    date: &str,
) -> (String, usize) {
    let unexplained = report
        .cells
        .iter()
        .filter(|c| c.observer != HOST_VIA_RUNNER)
        .filter(|c| matches!(c.verdict, Verdict::Deviates | Verdict::NoExpectation));
    let mut could_not: Vec<String> = Vec::new();
    // First one rule per behaviour, build, observed outcome and checks,
    // listing the observers that saw it; then the builds whose rules agree
    // in everything else are merged, so a behaviour gets one rule when its
    // builds agree.
    struct Seen {
        behaviour: String,
        build: Build,
        outcome: String,
        checks: Checks,
        observers: Vec<String>,
    }
    let mut seen: Vec<Seen> = Vec::new();
    for c in unexplained {
        let Some(build) = c.build() else { continue };
        if probe_could_not(c) {
            let what = format!("{} ({})", c.name, build.name());
            if !could_not.contains(&what) {
                could_not.push(what);
            }
            continue;
        }
        let checks = Checks::of(c);
        match seen.iter_mut().find(|r| {
            r.behaviour == c.name
                && r.build == build
                && r.outcome == c.observed_text
                && r.checks == checks
        }) {
            Some(r) => r.observers.push(c.observer.clone()),
            None => seen.push(Seen {
                behaviour: c.name.clone(),
                build,
                outcome: c.observed_text.clone(),
                checks,
                observers: vec![c.observer.clone()],
            }),
        }
    }
    struct Blessed {
        behaviour: String,
        builds: Vec<Build>,
        outcome: String,
        checks: Checks,
        observers: Vec<String>,
    }
    let mut rules: Vec<Blessed> = Vec::new();
    for s in seen {
        match rules.iter_mut().find(|r| {
            r.behaviour == s.behaviour
                && r.outcome == s.outcome
                && r.checks == s.checks
                && r.observers == s.observers
        }) {
            Some(r) => r.builds.push(s.build),
            None => rules.push(Blessed {
                behaviour: s.behaviour,
                builds: vec![s.build],
                outcome: s.outcome,
                checks: s.checks,
                observers: s.observers,
            }),
        }
    }
    let mut text = format!(
        "# A starting profile for {triple}, written by\n\
         # `cargo xtask test-matrix --target {triple} --bless` on {date}.\n\
         # It inherits the {base} profile and records, as rules, what this target did\n\
         # where {base} expected otherwise. Observed with:\n\
         #   runner ({source}): {runner}\n",
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
         # source that explains it, or fix the target and delete the rule. While\n\
         # `unverified` stays, the report counts the cells that pass on this file's\n\
         # rules apart from those that pass on cited ones.\n",
        report.tool
    ));
    if !could_not.is_empty() {
        text.push_str(
            "# Not blessed: the probe said it could not carry these out here (exit 121),\n\
             # which says nothing about the target's exit behaviour:\n",
        );
        for w in &could_not {
            text.push_str(&format!("#   {w}\n"));
        }
    }
    text.push_str(&format!(
        "description = \"{triple}: observed on {date} (blessed), based on {base}\"\n\
         inherits = {inherits}\n\
         unverified = \"written by --bless on {date} from what this target did; its rules cite no source yet\"\n\
         signals = \"{signals}\"\n\
         wait = \"{wait}\"\n",
        base = profile.name,
        inherits = toml_string(&profile.name),
        signals = profile.signals.name,
    ));
    let quoted = |items: &[String]| {
        items
            .iter()
            .map(|o| toml_string(o))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for Blessed {
        behaviour,
        builds,
        outcome,
        checks,
        observers,
    } in &rules
    {
        let builds: Vec<String> = builds.iter().map(|b| b.name().to_owned()).collect();
        text.push_str(&format!(
            "\n[[expect]]\nbehaviours = [{}]\nbuilds = [{}]\nobservers = [{}]\noutcome = {}\n",
            toml_string(behaviour),
            quoted(&builds),
            quoted(observers),
            toml_string(outcome)
        ));
        if let Some(stdout) = &checks.stdout {
            text.push_str(&format!("stdout = {}\n", toml_string(stdout)));
        }
        if !checks.stderr_contains.is_empty() {
            text.push_str(&format!(
                "stderr-contains = [{}]\n",
                quoted(&checks.stderr_contains)
            ));
        }
        if !checks.stderr_lacks.is_empty() {
            text.push_str(&format!(
                "stderr-lacks = [{}]\n",
                quoted(&checks.stderr_lacks)
            ));
        }
        if !checks.timed_out.is_empty() {
            text.push_str(&format!("timed-out = [{}]\n", quoted(&checks.timed_out)));
        }
        for d in &checks.dropped {
            text.push_str(&format!("# not kept: {d}\n"));
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
    (text, rules.len())
}

/// `text` as a TOML basic string, escaped as TOML requires (a probe's
/// output may hold any character).
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
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

#[cfg(test)]
mod tests {
    //! `--bless` written from made-up reports: what the blessed profile
    //! keeps, merges and leaves out, and that it loads and counts apart.

    use super::*;
    use crate::pure::decode::RawStatus;
    use crate::report::model::{ObservedState, RowKind, Summary};

    fn profiles_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles")
    }

    fn posix() -> Profile {
        let names = observers::all_names();
        Profile::load_with(
            &profiles_dir(),
            "posix",
            &names,
            Some((&crate::pure::signal::LINUX_GENERIC, WaitConventions::LINUX)),
        )
        .unwrap()
    }

    /// A reaper cell that saw `exit code`, checked against `profile`.
    fn cell(profile: &Profile, name: &str, build: Build, observer: &str, code: i32) -> Row {
        let expected = profile.expectation(name, build, observer).cloned();
        let mut row = Row::new(RowKind::Cell(build), name, observer, expected);
        row.observed = vec![ObservedState {
            raw: RawStatus::WaitStatus { status: code << 8 },
            raw_text: format!("0x{:04x}", code << 8),
            decoded: StateChange::Exited {
                code: i64::from(code),
            },
        }];
        row.observed_text = format!("exit {code}");
        row.verdict = Verdict::Deviates;
        row
    }

    fn report(cells: Vec<Row>) -> Report {
        Report {
            schema: crate::report::model::SCHEMA_VERSION,
            tool: "exitmatrix test".into(),
            target: "i686-unknown-linux-gnu".into(),
            host: "x86_64-unknown-linux-gnu".into(),
            profile_chain: vec!["posix".into()],
            unverified: None,
            signal_table: "linux-generic".into(),
            core_pattern: None,
            cores_contained: true,
            incomplete: false,
            interrupted_by: None,
            observers: Vec::new(),
            summary: Summary::of(&cells),
            cells,
            cases: Vec::new(),
            foreign: None,
            leaked_after_run: Vec::new(),
        }
    }

    fn native() -> Runner {
        Runner {
            words: Vec::new(),
            kind: RunnerKind::Native,
            source: RunnerSource::Default,
        }
    }

    fn bless_text(cells: Vec<Row>) -> (String, usize) {
        blessed_profile(
            &report(cells),
            "i686-unknown-linux-gnu",
            "linux",
            &posix(),
            &native(),
            &[],
            "2026-01-01",
        )
    }

    #[test]
    fn builds_that_agree_share_one_rule_and_builds_that_differ_do_not() {
        let p = posix();
        let cells = vec![
            cell(&p, "exit-2", Build::Unwind, "waitpid", 3),
            cell(&p, "exit-2", Build::Abort, "waitpid", 3),
            cell(&p, "exit-2", Build::Unwind, "waitid", 3),
            cell(&p, "exit-2", Build::Abort, "waitid", 3),
            cell(&p, "exit-1", Build::Unwind, "waitpid", 4),
            cell(&p, "exit-1", Build::Abort, "waitpid", 5),
        ];
        let (text, n) = bless_text(cells);
        assert_eq!(n, 3, "{text}");
        assert!(
            text.contains(
                "behaviours = [\"exit-2\"]\nbuilds = [\"unwind\", \"abort\"]\nobservers = [\"waitpid\", \"waitid\"]\noutcome = \"exit 3\""
            ),
            "{text}"
        );
        assert_eq!(
            text.matches("behaviours = [\"exit-1\"]").count(),
            2,
            "{text}"
        );
    }

    #[test]
    fn a_missing_stderr_fragment_is_replaced_by_the_one_observed() {
        let p = posix();
        // profiles/posix.toml expects "panicked at" on stderr of panic-main.
        let mut c = cell(&p, "panic-main", Build::Unwind, "waitpid", 101);
        let wanted = &c.expected.as_ref().unwrap().stderr_contains;
        assert!(wanted.iter().any(|f| f == "panicked at"), "{wanted:?}");
        c.stderr = "\n  thread 'main' paniqué à src/main.rs:1\nmore\n".into();
        let (text, _) = bless_text(vec![c]);
        assert!(
            text.contains("stderr-contains = [\"thread 'main' paniqué à src/main.rs:1\"]"),
            "{text}"
        );
        // rustc 1.63's message names the file by its absolute path: the
        // fragment stops before it, so another checkout still matches.
        let mut c = cell(&p, "panic-main", Build::Unwind, "waitpid", 101);
        c.stderr = "thread 'main' panicked at 'boom', /work/x/probes/src/bin/probe.rs:9:5\n".into();
        let (text, _) = bless_text(vec![c]);
        assert!(
            // "panicked at" of posix.toml is there and is kept as it is.
            text.contains(
                "stderr-contains = [\"panicked at\", \"thread 'main' panicked at 'boom',\"]"
            ),
            "{text}"
        );
        assert_eq!(
            stderr_fragment("error at C:\\work\\x.rs").as_deref(),
            Some("error at")
        );

        // Nothing on stderr: nothing can be recorded, and the file says so.
        let mut c = cell(&p, "panic-main", Build::Unwind, "waitpid", 101);
        c.stderr.clear();
        let (text, _) = bless_text(vec![c]);
        assert!(!text.contains("stderr-contains"), "{text}");
        assert!(
            text.contains(
                "# not kept: posix expected stderr to contain \"panicked at\"; it was empty"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_probe_that_could_not_do_its_behaviour_is_not_blessed() {
        let p = posix();
        // probes/src/bin/probe.rs `cannot`: "probe: <verb>: <why>", exit 121.
        let mut c = cell(&p, "exit-2", Build::Unwind, "waitpid", 121);
        c.stderr = "probe: exit: unsupported on this target\n".into();
        // The same exit without the probe's words is a fact to record.
        let plain = cell(&p, "exit-1", Build::Unwind, "waitpid", 121);
        let (text, n) = bless_text(vec![c, plain]);
        assert_eq!(n, 1, "{text}");
        assert!(!text.contains("behaviours = [\"exit-2\"]"), "{text}");
        assert!(text.contains("#   exit-2 (unwind)"), "{text}");
        assert!(text.contains("behaviours = [\"exit-1\"]"), "{text}");
    }

    #[test]
    fn the_blessed_profile_is_unverified_loads_and_its_passes_count_apart() {
        let p = posix();
        let dir = std::env::temp_dir().join(format!("exitmatrix-bless-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(profiles_dir()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
            }
        }
        let (text, _) = bless_text(vec![cell(&p, "exit-2", Build::Unwind, "waitpid", 3)]);
        assert!(
            text.contains("\nunverified = \"written by --bless"),
            "{text}"
        );
        std::fs::write(dir.join("blessed-test.toml"), &text).unwrap();
        let names = observers::all_names();
        let blessed = Profile::load(&dir, "blessed-test", &names);
        std::fs::remove_dir_all(&dir).unwrap();
        let blessed = blessed.unwrap();
        assert_eq!(
            blessed.unverified.as_ref().map(|u| u.profile.as_str()),
            Some("blessed-test")
        );
        // A cell passing on the blessed rule is counted apart; one passing
        // on an inherited, cited rule of posix.toml is not.
        let mut on_blessed = cell(&blessed, "exit-2", Build::Unwind, "waitpid", 3);
        on_blessed.verdict = Verdict::Conforms;
        let mut on_cited = cell(&blessed, "exit-1", Build::Unwind, "waitpid", 1);
        on_cited.verdict = Verdict::Conforms;
        assert!(on_cited
            .expected
            .as_ref()
            .is_some_and(|e| e.profile == "posix"));
        let s = Summary::of([&on_blessed, &on_cited]);
        assert_eq!((s.conforms, s.conforms_blessed), (2, 1));
    }

    #[test]
    fn a_profile_named_by_path_is_read_from_that_file() {
        let dir = profiles_dir();
        let inside = dir.join("linux-gnu.toml");
        assert_eq!(
            profile_reference(inside.to_str().unwrap(), &dir).unwrap(),
            "linux-gnu"
        );
        assert_eq!(profile_reference("linux-gnu", &dir).unwrap(), "linux-gnu");
        let outside =
            std::env::temp_dir().join(format!("exitmatrix-own-{}.toml", std::process::id()));
        std::fs::write(&outside, "inherits = \"posix\"\n").unwrap();
        let named = profile_reference(outside.to_str().unwrap(), &dir);
        let loaded = named.as_deref().map(|n| {
            Profile::load_with(
                &dir,
                n,
                &observers::all_names(),
                Some((&crate::pure::signal::LINUX_GENERIC, WaitConventions::LINUX)),
            )
        });
        std::fs::remove_file(&outside).unwrap();
        let loaded = loaded.unwrap().unwrap();
        assert_eq!(loaded.chain.get(1).map(String::as_str), Some("posix"));
        assert!(matches!(
            profile_reference("/nonexistent/x.toml", &dir),
            Err(RunError::Usage(_))
        ));
        assert!(matches!(
            profile_reference("./README", &dir),
            Err(RunError::Usage(_))
        ));
    }
}
