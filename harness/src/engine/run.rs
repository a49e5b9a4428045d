//! One run of one target, native or foreign: select, build, observe,
//! compare, and assemble the report.
//!
//! A foreign target is the same pipeline as the native one, with three
//! differences that [`Target`] carries: its probes are cross-built, its
//! columns are an in-target agent and the host's view through a runner,
//! and its cells are *settled* afterwards (the host's view is derived, and
//! known emulator divergences are marked; see [`crate::engine::foreign`]).
//! Everything else (selection, the pool, the report) is written once, here.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::engine::error::RunError;
use crate::engine::foreign::{self, Foreign};
use crate::engine::matrix::{self, Cell, Limits, Work};
use crate::observers::observe::Observer;
use crate::observers::registry;
use crate::pure::catalogue::{self, Behaviour, Build};
use crate::pure::observers::{self, OwnCase};
use crate::pure::profile::Profile;
use crate::pure::target::TargetSpec;
use crate::report::model::{Report, Summary, SCHEMA_VERSION};
use crate::toolchain::probes::{self, ProbeSet, HOST};

/// What a run asks for, whatever the target: the command line's choices,
/// already parsed.
#[derive(Clone, Debug)]
pub struct Request {
    /// Keep behaviours (and own cases) whose name contains one of these
    /// (all when empty).
    pub behaviours: Vec<String>,
    /// The builds to run (all when empty).
    pub builds: Vec<Build>,
    /// The observers (columns) to run, by name (all when empty).
    pub observers: Vec<String>,
    /// Where the parents' programs (shells, python3) are looked up.
    pub observer_path: String,
    /// The profile to check against, if not the target's own.
    pub profile: Option<String>,
    /// The profile directory.
    pub profiles_dir: PathBuf,
    /// The cargo target directory the probes are built in.
    pub target_dir: PathBuf,
    /// Worker threads.
    pub jobs: usize,
    /// Time limits and whether cores are contained.
    pub limits: Limits,
    /// The kernel's `core_pattern`, for the report.
    pub core_pattern: Option<String>,
    /// Use the probes already built instead of building them (native only).
    pub no_build: bool,
    /// The runner words given on the command line (foreign only).
    pub runner: Option<String>,
    /// Run a foreign target's cases on a remote agent (`--remote`), or
    /// record them for an offline kit, or read a kit's results.
    pub remote: Option<crate::engine::remote::Via>,
    /// Write a starting profile from what the target did (foreign only).
    pub bless: bool,
    /// Run only this shard of the rows (`--shard K/N`).
    pub shard: Option<Shard>,
    /// For targets that run at once (`--all-targets`): the budget of
    /// workers they share. Such a target leaves the run-wide sweep of
    /// orphans ([`crate::process::orphans::sweep_run`]) to its caller,
    /// after the last target (it would end the other targets' processes),
    /// and its report's `leaked_after_run` to be filled in then.
    pub shared: Option<Arc<matrix::Budget>>,
}

/// One of N shards of a run: a stable share of the rows, so that a CI
/// matrix can split a target over several machines and merge the reports.
/// A row belongs to shard `K` of `N` when the FNV-1a hash of its name,
/// build and observer is `K - 1` modulo `N`: the assignment depends on
/// nothing but the row, so the N shards together hold every row once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 1.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

impl Shard {
    /// Parses `K/N` with `1 <= K <= N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not K/N"))?;
        let index: u32 = k
            .trim()
            .parse()
            .map_err(|_| format!("`{k}` is not a shard number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` is not a number of shards"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!("shard {index}/{count}: K must be between 1 and N"));
        }
        Ok(Shard { index, count })
    }

    /// Whether the row (`name`, `build`, `observer`) is in this shard.
    pub fn holds(&self, name: &str, build: Option<Build>, observer: &str) -> bool {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let build = build.map_or("", Build::name);
        for byte in [name, "\0", build, "\0", observer].concat().bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl Request {
    /// Whether `name` (a behaviour or own case) is selected.
    pub fn selects(&self, name: &str) -> bool {
        self.behaviours.is_empty() || self.behaviours.iter().any(|p| name.contains(p.as_str()))
    }
}

/// Which target a run checks.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// The host, its probes built by cargo and run directly.
    Native,
    /// A foreign target, through its runner and in-target agent.
    Foreign(&'static TargetSpec),
}

impl Target {
    /// The target's triple.
    pub fn triple(self) -> &'static str {
        match self {
            Target::Native => HOST,
            Target::Foreign(spec) => spec.triple,
        }
    }
}

/// What one target's run produced.
#[derive(Debug)]
pub struct TargetRun {
    /// The report.
    pub report: Report,
    /// For `--bless`: the profile written and its number of rules.
    pub blessed: Option<(PathBuf, usize)>,
    /// For `--remote`: the first lost connection, timeout or garbage; for
    /// a target served by the harness's own agent server: the first crash
    /// of it (it was restarted, `engine::remote::MAX_RESTARTS`).
    pub remote_failure: Option<String>,
}

/// Reports progress: called once per row that finished.
pub type Progress<'a> = &'a (dyn Fn() + Sync);

/// What the pipeline needs of a target, once it is prepared.
struct Prepared {
    profile: Profile,
    probes: ProbeSet,
    observers: Vec<Box<dyn Observer>>,
    /// Whether the observers' own cases run (native only: they need the
    /// host's shells and Python).
    own_cases: bool,
    /// The foreign part: runner, emulator notes, what did not apply.
    foreign: Option<Foreign>,
    /// The remote agent or kit, for `--remote`.
    remote: Option<Arc<dyn crate::engine::agent::CaseRunner>>,
}

/// Runs the matrix of one target and returns its report. `total` is told
/// how many rows will run, before the first starts (for a progress bar).
pub fn run_target(
    request: &Request,
    target: Target,
    interrupt: &Arc<AtomicUsize>,
    total: &mut dyn FnMut(usize),
    progress: Progress<'_>,
) -> Result<TargetRun, RunError> {
    let all = catalogue::catalogue();
    let mut selected: Vec<&Behaviour> = all.iter().filter(|b| request.selects(&b.name)).collect();
    // What the host cannot carry out (POSIX signals on a Windows host) is
    // not run natively; counted below as not applicable.
    let mut host_lacks: Vec<&Behaviour> = Vec::new();
    if let Target::Native = target {
        let (can, cannot): (Vec<&Behaviour>, Vec<&Behaviour>) = selected
            .into_iter()
            .partition(|b| b.needs().is_none_or(crate::os::host_provides));
        selected = can;
        host_lacks = cannot;
    }
    let own_selected = observers::own_cases().any(|c| request.selects(c.name));
    if selected.is_empty() && !own_selected {
        return Err(RunError::Usage(format!(
            "no behaviour matches {:?} (see `cargo xtask test-matrix --list`)",
            request.behaviours
        )));
    }
    let builds = if request.builds.is_empty() {
        Build::ALL.to_vec()
    } else {
        request.builds.clone()
    };
    // Preparing (building, proving the runner, starting the agent server)
    // takes a job of a shared budget too: ten targets starting at once
    // must not crowd the cells of one already running.
    // (Interrupted meanwhile, it prepares without a job, and no cell runs.)
    let preparing = request
        .shared
        .as_ref()
        .and_then(|budget| budget.hold_job(interrupt));
    let prepared = match target {
        Target::Native => prepare_native(request, &selected, &builds)?,
        Target::Foreign(spec) => prepare_foreign(request, spec, &selected, builds.clone())?,
    };
    drop(preparing);
    let behaviours: Vec<&Behaviour> = match &prepared.foreign {
        Some(f) => selected
            .into_iter()
            .filter(|b| !f.info.not_applicable.iter().any(|n| n.behaviour == b.name))
            .collect(),
        None => selected,
    };

    let mut work: Vec<Work<'_>> = Vec::new();
    for b in &behaviours {
        for &build in b.builds() {
            if !prepared.probes.has(build) {
                continue;
            }
            for o in prepared.observers.iter().filter(|o| o.runs(b)) {
                work.push(Work::Cell(Cell {
                    behaviour: b,
                    build,
                    observer: o.as_ref(),
                }));
            }
        }
    }
    if prepared.own_cases {
        for o in &prepared.observers {
            for case in o.own_cases() {
                if request.selects(case.name) {
                    work.push(Work::OwnCase(o.as_ref(), case));
                }
            }
        }
    }
    if let Some(shard) = request.shard {
        work.retain(|w| match w {
            Work::Cell(c) => shard.holds(&c.behaviour.name, Some(c.build), c.observer.name()),
            Work::OwnCase(o, case) => shard.holds(case.name, None, o.name()),
        });
    }
    let cells_len = work.iter().filter(|w| matches!(w, Work::Cell(_))).count();
    if work.is_empty() {
        return Err(RunError::Usage(format!(
            "the selection leaves no cell to run on {} (behaviours {:?}, builds {:?}, observers {:?}){}",
            target.triple(),
            request.behaviours,
            request.builds.iter().map(|b| b.name()).collect::<Vec<_>>(),
            request.observers,
            match &prepared.foreign {
                Some(f) if !f.info.not_applicable.is_empty() || !f.info.builds_not_made.is_empty() =>
                    "; the target cannot carry out some of it (see --list and the target's builds)",
                _ => "",
            }
        )));
    }
    total(work.len());
    // A foreign target's columns share one agent run: more workers wait
    // than run (engine::foreign::Foreign::workers).
    let jobs = prepared.foreign.as_ref().map_or(request.jobs, |f| {
        f.workers(request.jobs, prepared.observers.len())
    });
    let budget = request
        .shared
        .as_deref()
        .map(|b| (b, matrix::Budget::share(request.jobs, jobs)));
    // A runner that starts every probe (an emulator) needs more of the
    // time the hostile probes are given to start; so does a host that is
    // itself emulated.
    let emulated = match &prepared.foreign {
        Some(f) => f.runs_probes_through_a_program(),
        None => crate::os::emulator().is_some(),
    };
    let limits = Limits {
        start_allowance: if emulated {
            matrix::EMULATED_START_ALLOWANCE
        } else {
            request.limits.start_allowance
        },
        ..request.limits
    };
    let mut rows = matrix::run_shared(
        &work,
        &prepared.profile,
        &prepared.probes,
        jobs,
        limits,
        interrupt,
        progress,
        budget,
    );
    // No cell of this target is running now. The observers' servers
    // (Python's and Ruby's, native only) end with the run; whatever else the harness
    // (a child subreaper, when the command line made it one) still has as
    // children was left behind, unless other targets still run: then
    // their caller sweeps after the last (`Request::shared`).
    if let Target::Native = target {
        crate::observers::stop_servers();
    }
    // A crash of the local agent server (restarted) is said once, as a
    // lost connection to a remote one is.
    let server_failure = prepared.foreign.as_ref().and_then(Foreign::server_failure);
    if let Some(f) = &prepared.foreign {
        f.stop_server();
    }
    let leaked_after_run: Vec<String> = match (&request.shared, &prepared.foreign) {
        (None, _) => crate::process::orphans::sweep_run(),
        // Other targets still run: only what this target's runner left
        // (Wine's servers) is swept now, the rest after the last target.
        (Some(_), Some(f)) => f
            .runner_marker()
            .map(|(entry, dir)| crate::process::orphans::sweep_scope(entry, dir))
            .unwrap_or_default(),
        (Some(_), None) => Vec::new(),
    }
    .iter()
    .map(ToString::to_string)
    .collect();
    // Rows come back in work order, cells first; an interrupted run may
    // have fewer of either.
    let cases = rows.split_off(
        rows.iter()
            .position(|r| r.build().is_none())
            .unwrap_or(rows.len())
            .min(cells_len),
    );
    let mut cells = rows;
    if let Some(f) = &prepared.foreign {
        for cell in &mut cells {
            f.settle(cell, &prepared.profile, request.limits);
        }
    }
    if let (Target::Native, Some((kind, version))) = (target, crate::os::emulator()) {
        // The host is itself emulated (a Windows host under Wine): the
        // emulator's known divergences explain what they explain.
        foreign::settle_emulated_host(
            &mut cells,
            &request.profiles_dir,
            kind,
            &version,
            &prepared.profile,
        )?;
    }
    let interrupted_by = match interrupt.load(Ordering::SeqCst) {
        0 => None,
        n => Some(i32::try_from(n).expect("a signal number")),
    };
    let mut summary = Summary::of(cells.iter().chain(&cases));
    summary.not_applicable = host_lacks
        .iter()
        .map(|b| {
            b.builds()
                .iter()
                .filter(|x| prepared.probes.has(**x))
                .count()
                * prepared.observers.len()
        })
        .sum();
    if let Some(f) = &prepared.foreign {
        // Each behaviour the target cannot carry out would have been a cell
        // per build made and column.
        let columns = prepared.observers.len();
        summary.not_applicable = f
            .info
            .not_applicable
            .iter()
            .filter_map(|n| catalogue::find(&n.behaviour))
            .map(|b| {
                b.builds()
                    .iter()
                    .filter(|x| prepared.probes.has(**x))
                    .count()
                    * columns
            })
            .sum();
    }
    let report = Report {
        schema: SCHEMA_VERSION,
        tool: format!("exitmatrix {}", env!("CARGO_PKG_VERSION")),
        target: target.triple().to_owned(),
        host: HOST.to_owned(),
        profile_chain: prepared.profile.chain.clone(),
        unverified: prepared.profile.unverified.clone(),
        leaked_after_run,
        signal_table: prepared.profile.signals.name.to_owned(),
        cores_contained: request.limits.cores_contained,
        core_pattern: request.core_pattern.clone(),
        incomplete: interrupted_by.is_some(),
        // The interrupting signal was delivered to the harness: name it
        // with the host's table, whatever the target's.
        interrupted_by: interrupted_by.map(|n| {
            crate::os::host_signal_table()
                .display(crate::pure::signal::Signal(n))
                .to_string()
        }),
        observers: prepared.observers.iter().map(|o| o.info()).collect(),
        summary,
        cells,
        cases,
        foreign: prepared.foreign.as_ref().map(|f| f.info.clone()),
    };
    let blessed = match (&prepared.foreign, request.bless, interrupted_by) {
        (Some(f), true, None) => Some(f.bless(&report, &prepared.profile)?),
        _ => None,
    };
    Ok(TargetRun {
        report,
        blessed,
        remote_failure: prepared
            .remote
            .as_ref()
            .and_then(|r| r.failure())
            .or(server_failure),
    })
}

/// Selects the native observers, loads the profile and builds the probes.
fn prepare_native(
    request: &Request,
    behaviours: &[&Behaviour],
    builds: &[Build],
) -> Result<Prepared, RunError> {
    if request.bless || request.runner.is_some() || request.remote.is_some() {
        return Err(RunError::Usage(format!(
            "--bless, --runner and --remote are for a foreign --target; the native target `{HOST}` runs directly"
        )));
    }
    let mut chosen = Vec::new();
    for name in &request.observers {
        chosen.push(
            registry::by_name_in(name, &request.observer_path).ok_or_else(|| {
                RunError::Usage(format!(
                    "unknown observer `{name}` (known: {})",
                    crate::os::NATIVE_OBSERVERS.join(", ")
                ))
            })?,
        );
    }
    if chosen.is_empty() {
        chosen = registry::all(&request.observer_path);
    }
    // `--profile` names a profile of the directory or a file, as for a
    // foreign target.
    let profile_name = match request.profile.as_deref() {
        Some(asked) => foreign::profile_reference(asked, &request.profiles_dir)?,
        None => HOST.to_owned(),
    };
    let profile = Profile::load(
        &request.profiles_dir,
        &profile_name,
        crate::os::NATIVE_OBSERVERS,
    )?;
    let needed: Vec<Build> = builds
        .iter()
        .copied()
        .filter(|b| behaviours.iter().any(|beh| beh.builds().contains(b)))
        .collect();
    let build_error = |source| RunError::Build {
        for_target: String::new(),
        source,
    };
    let probes = if request.no_build {
        ProbeSet::in_target_dir(&request.target_dir, &needed)
    } else {
        probes::build_native(&request.target_dir, &needed).map_err(build_error)?
    };
    for b in behaviours {
        for build in b.builds().iter().filter(|b| needed.contains(b)) {
            probes.check(*build, b.probe).map_err(build_error)?;
        }
    }
    Ok(Prepared {
        profile,
        probes,
        observers: chosen,
        own_cases: true,
        foreign: None,
        remote: None,
    })
}

/// Finds the runner, loads the profile and the emulator notes, builds the
/// probes and the agent for `spec`.
fn prepare_foreign(
    request: &Request,
    spec: &'static TargetSpec,
    behaviours: &[&Behaviour],
    builds: Vec<Build>,
) -> Result<Prepared, RunError> {
    let root = probes::workspace_root();
    let ((foreign, profile, probes, mut columns), remote) = match &request.remote {
        Some(via) => {
            let (prepared, remote) =
                crate::engine::remote::prepare(request, via, spec, &root, behaviours, builds)?;
            (prepared, Some(remote))
        }
        None => (
            foreign::prepare(request, spec, &root, behaviours, builds)?,
            None,
        ),
    };
    if !request.observers.is_empty() {
        for name in &request.observers {
            if !columns.iter().any(|o| o.name() == name) {
                let known: Vec<&str> = columns.iter().map(|o| o.name()).collect();
                return Err(RunError::Usage(format!(
                    "observer `{name}` does not run on {} (its columns: {})",
                    spec.triple,
                    known.join(", ")
                )));
            }
        }
        columns.retain(|o| request.observers.iter().any(|n| n == o.name()));
    }
    Ok(Prepared {
        profile,
        probes,
        observers: columns,
        own_cases: false,
        foreign: Some(foreign),
        remote,
    })
}

/// Fails before a run, not after it, if the report cannot be written in
/// `out_dir`.
pub fn check_writable(out_dir: &Path, path: &Path) -> Result<(), RunError> {
    std::fs::create_dir_all(out_dir)
        .and_then(|()| tempfile::NamedTempFile::new_in(out_dir).map(drop))
        .map_err(|source| RunError::Report {
            path: path.to_owned(),
            source,
        })
}

/// The own cases every observer of the registry has, for `--list`.
pub fn own_cases() -> Vec<OwnCase> {
    observers::own_cases().collect()
}
