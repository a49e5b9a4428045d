//! Offline kits, for a device nothing can reach: `cargo xtask kit --target
//! T` writes one archive with the agent, the probes and a POSIX `sh`
//! script; the script runs every case there; `cargo xtask import` reads
//! what it left and checks it against the profile exactly as a direct run
//! would.
//!
//! Both ends go through the one pipeline (`engine::run::run_target`). The
//! kit is made by a run whose cases are *recorded* instead of carried out
//! ([`Recorder`]): so the kit holds exactly the cases a direct run asks
//! its agent for (the same arguments, core setting, time limits and
//! signal numbers). The import is a run whose cases are *read back* from
//! the kit's results ([`Replay`]): a case without a result is "not
//! observed", never a pass.
//!
//! # The kit
//! ```text
//! exitmatrix-kit-<triple>/
//!   kit.json            the target, the selection and, per case, its id,
//!                       program, arguments, core setting and limits
//!   agent/exitmatrix-agent
//!   probes/<build>/...  the probes
//!   run.sh              runs every case: results/<id>/{report,
//!                       .exitmatrix-stdout, .exitmatrix-stderr, cores}
//! ```
//! `run.sh` needs a POSIX `sh` and nothing else. `EXITMATRIX_RUNNER` (words
//! put before the agent and each probe, e.g. `qemu-aarch64 -L
//! /usr/aarch64-linux-gnu`) and `EXITMATRIX_UNDER` (`native`,
//! `qemu-user`) let it be tried under an emulator; `results/under` tells
//! the import which emulator notes apply.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::engine::agent::{self, AgentReport, CaseRunner};
use crate::engine::error::RunError;
use crate::engine::remote::{Via, Welcome};
use crate::engine::run::{self, Request, Target};
use crate::observers::observe::Case;
use crate::process::spawn::Leftovers;
use crate::pure::catalogue::Build;
use crate::pure::target::TargetSpec;
use crate::toolchain::crossbuild::{ForeignBuild, AGENT_STEM};
use crate::toolchain::probes::ProbeSet;

/// The kit format's version.
pub const KIT_VERSION: u32 = 1;

const CASES_FILE: &str = "cases.json";
const KIT_FILE: &str = "kit.json";
const SCRIPT: &str = "run.sh";

/// One case of a kit, as the pipeline asked for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitCase {
    /// Its number, from 1: its results are in `results/<id>`.
    pub id: u32,
    /// The probe, relative to the kit, `/`-separated.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Whether it may dump core.
    pub core: bool,
    /// The agent's timeout, in milliseconds.
    pub timeout_ms: u64,
    /// The agent's grace, in milliseconds.
    pub grace_ms: u64,
    /// Leave a stopped probe stopped.
    pub stay_stopped: bool,
    /// The target's SIGTERM, SIGKILL and SIGCONT.
    pub signals: (i32, i32, i32),
}

/// What `kit.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// [`KIT_VERSION`].
    pub version: u32,
    /// The target.
    pub triple: String,
    /// The behaviours selected (`-b`), empty for all.
    pub behaviours: Vec<String>,
    /// The builds selected (`--build`), empty for all.
    pub builds: Vec<String>,
    /// The profile asked for (`--profile`), if not the target's own.
    pub profile: Option<String>,
    /// The cases.
    pub cases: Vec<KitCase>,
}

/// The probe's path relative to `kit`, `/`-separated.
fn relative(kit: &Path, program: &Path) -> Option<String> {
    let rel = program.strip_prefix(kit).ok()?;
    let words: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(words.join("/"))
}

/// Records the cases a run asks for, carrying none out; writes them to
/// `cases.json` in the kit when the run is over (when it is dropped).
#[derive(Debug)]
pub struct Recorder {
    kit: PathBuf,
    cases: Mutex<Vec<KitCase>>,
}

impl Recorder {
    /// A recorder for the kit in `kit`.
    pub fn new(kit: &Path, _spec: &TargetSpec) -> Recorder {
        Recorder {
            kit: kit.to_owned(),
            cases: Mutex::new(Vec::new()),
        }
    }
}

impl CaseRunner for Recorder {
    fn run_case(
        &self,
        case: &Case<'_>,
        signals: (i32, i32, i32),
    ) -> Result<(String, AgentReport, Leftovers), String> {
        let program = relative(&self.kit, &case.invocation.program)
            .ok_or_else(|| format!("{} is not in the kit", case.invocation.program.display()))?;
        let mut cases = self.cases.lock().unwrap_or_else(|e| e.into_inner());
        let known = cases
            .iter()
            .any(|c| c.program == program && c.args == case.invocation.args && c.core == case.core);
        if !known {
            let id = u32::try_from(cases.len() + 1).unwrap_or(u32::MAX);
            cases.push(KitCase {
                id,
                program,
                args: case.invocation.args.clone(),
                core: case.core,
                timeout_ms: u64::try_from(case.timeout.as_millis()).unwrap_or(u64::MAX),
                grace_ms: u64::try_from(case.grace.as_millis()).unwrap_or(u64::MAX),
                stay_stopped: !case.continue_stops,
                signals,
            });
        }
        Err("recorded for the offline kit".to_owned())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let cases = self.cases.lock().unwrap_or_else(|e| e.into_inner());
        let json = serde_json::to_string_pretty(&*cases).expect("cases serialise");
        // `write` checks that the file is there.
        let _ = std::fs::write(self.kit.join(CASES_FILE), json);
    }
}

/// Copies the agent and the probes of `built` into the kit, and returns
/// the probe set there (so that the cases name the kit's copies).
pub fn copy_build(kit: &Path, built: &ForeignBuild, spec: &TargetSpec) -> io::Result<ProbeSet> {
    let mut dirs = BTreeMap::new();
    for (build, dir) in &built.probes.dirs {
        let to = kit.join("probes").join(build.name());
        std::fs::create_dir_all(&to)?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let text = name.to_string_lossy();
            if text.starts_with('.') || text.ends_with(".stamp") || !entry.file_type()?.is_file() {
                continue;
            }
            std::fs::copy(entry.path(), to.join(&name))?;
        }
        dirs.insert(*build, to);
    }
    if let Some(agent) = &built.agent {
        let to = kit.join("agent");
        std::fs::create_dir_all(&to)?;
        std::fs::copy(agent, to.join(format!("{AGENT_STEM}{}", spec.exe_suffix)))?;
    }
    Ok(ProbeSet {
        dirs,
        exe_suffix: spec.exe_suffix,
    })
}

/// The probe set of an unpacked kit.
pub fn probe_set(kit: &Path, spec: &TargetSpec) -> Result<ProbeSet, String> {
    let dirs: BTreeMap<Build, PathBuf> = Build::ALL
        .iter()
        .map(|b| (*b, kit.join("probes").join(b.name())))
        .filter(|(_, d)| d.is_dir())
        .collect();
    if dirs.is_empty() {
        return Err(format!(
            "{}: not an offline kit (no probes/)",
            kit.display()
        ));
    }
    Ok(ProbeSet {
        dirs,
        exe_suffix: spec.exe_suffix,
    })
}

fn read_manifest(kit: &Path) -> Result<Manifest, String> {
    let path = kit.join(KIT_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: not an offline kit: {e}", path.display()))?;
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if manifest.version != KIT_VERSION {
        return Err(format!(
            "{}: kit version {} (this harness reads {KIT_VERSION})",
            path.display(),
            manifest.version
        ));
    }
    Ok(manifest)
}

/// The canary's recorded nonce and exit code.
pub fn canary_of(kit: &Path) -> Result<(String, i64), String> {
    let manifest = read_manifest(kit)?;
    manifest
        .cases
        .iter()
        .find_map(|c| match c.args.as_slice() {
            [verb, nonce, code] if verb == "canary" => {
                code.parse().ok().map(|code| (nonce.clone(), code))
            }
            _ => None,
        })
        .ok_or_else(|| format!("{}: the kit has no canary case", kit.display()))
}

/// Reads the cases' results back from a kit that `run.sh` ran.
#[derive(Debug)]
pub struct Replay {
    kit: PathBuf,
    under: String,
    runner: Vec<String>,
    by_key: HashMap<(String, Vec<String>, bool), u32>,
}

impl Replay {
    /// Opens the kit in `kit` (unpacked).
    pub fn load(kit: &Path, spec: &TargetSpec) -> Result<Replay, String> {
        let manifest = read_manifest(kit)?;
        if manifest.triple != spec.triple {
            return Err(format!(
                "{}: a kit for {}, not {}",
                kit.display(),
                manifest.triple,
                spec.triple
            ));
        }
        let under = std::fs::read_to_string(kit.join("results/under")).map_err(|e| {
            format!(
                "{}: no results/under ({e}): was run.sh run there?",
                kit.display()
            )
        })?;
        let by_key = manifest
            .cases
            .iter()
            .map(|c| ((c.program.clone(), c.args.clone(), c.core), c.id))
            .collect();
        let runner = std::fs::read_to_string(kit.join("results/runner"))
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        Ok(Replay {
            kit: kit.to_owned(),
            under: under.trim().to_owned(),
            runner,
            by_key,
        })
    }

    /// What the kit's run says it was.
    pub fn welcome(&self) -> Welcome {
        Welcome {
            family: "unix".to_owned(),
            under: self.under.clone(),
            runner: self.runner.clone(),
        }
    }
}

impl CaseRunner for Replay {
    fn run_case(
        &self,
        case: &Case<'_>,
        _signals: (i32, i32, i32),
    ) -> Result<(String, AgentReport, Leftovers), String> {
        let program = relative(&self.kit, &case.invocation.program)
            .ok_or_else(|| format!("{} is not in the kit", case.invocation.program.display()))?;
        let key = (program, case.invocation.args.clone(), case.core);
        let id = *self
            .by_key
            .get(&key)
            .ok_or_else(|| format!("the kit has no case {} {}", key.0, key.1.join(" ")))?;
        let dir = self.kit.join("results").join(id.to_string());
        let text = std::fs::read_to_string(dir.join("report")).map_err(|e| {
            format!(
                "the kit has no result for case {id} ({}): {e}",
                dir.display()
            )
        })?;
        let report = agent::parse(&text).map_err(|e| format!("case {id}: {e}"))?;
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_default();
        let cores = String::from_utf8_lossy(&read("cores"))
            .lines()
            .map(str::to_owned)
            .collect();
        Ok((
            format!(
                "offline kit case {id}: {} {}",
                key.0,
                case.invocation.args.join(" ")
            ),
            report,
            Leftovers {
                stdout: read(".exitmatrix-stdout"),
                stderr: read(".exitmatrix-stderr"),
                cores,
            },
        ))
    }
}

/// Quotes `word` for `sh`.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// The kit's script.
fn script(manifest: &Manifest, agent: &str) -> String {
    let mut s = format!(
        r#"#!/bin/sh
# exitmatrix offline kit for {triple} ({cases} cases).
# Run it on the device with a POSIX sh:   sh run.sh
# then bring the whole directory back and check it on the host:
#   cargo xtask import <this directory, or a tar of it>
# EXITMATRIX_RUNNER: words put before the agent and each probe (empty on the
# device itself). EXITMATRIX_UNDER: what it runs under (native, qemu-user),
# so that the host applies that emulator's notes.
set -u
cd "$(dirname "$0")" || exit 1
K=$(pwd)
R=${{EXITMATRIX_RUNNER:-}}
rm -rf results && mkdir results || exit 1
printf '%s\n' "${{EXITMATRIX_UNDER:-native}}" > results/under
printf '%s\n' "$R" > results/runner
n=0
run() {{
  id=$1 core=$2 timeout=$3 grace=$4 term=$5 kill=$6 cont=$7 stay=$8 prog=$9
  shift 9
  d=$K/results/$id
  mkdir "$d" || exit 1
  # $R and $stay are split into words on purpose.
  $R "$K/{agent}" --report "$d/report" --dir "$d" --core "$core" \
    --timeout-ms "$timeout" --grace-ms "$grace" \
    --sigterm "$term" --sigkill "$kill" --sigcont "$cont" $stay \
    -- $R "$K/$prog" "$@"
  for f in "$d"/core "$d"/core.*; do
    if [ -e "$f" ]; then basename "$f" >> "$d/cores"; rm -f "$f"; fi
  done
  n=$((n + 1))
}}
"#,
        triple = manifest.triple,
        cases = manifest.cases.len(),
    );
    for c in &manifest.cases {
        let (term, kill, cont) = c.signals;
        let mut line = format!(
            "run {} {} {} {} {term} {kill} {cont} {} {}",
            c.id,
            u8::from(c.core),
            c.timeout_ms,
            c.grace_ms,
            if c.stay_stopped {
                "--stay-stopped"
            } else {
                "''"
            },
            quote(&c.program),
        );
        for a in &c.args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        line.push('\n');
        s.push_str(&line);
    }
    s.push_str(
        "printf '%s\\n' \"$n\" > results/complete\necho \"exitmatrix kit: $n cases run; bring back $K\"\n",
    );
    s
}

/// Writes the offline kit for `spec` in `out`: the directory
/// `exitmatrix-kit-<triple>` and the archive `exitmatrix-kit-<triple>.tar`
/// (made with the system's `tar`). Returns the archive's path.
pub fn write(
    request: &Request,
    spec: &'static TargetSpec,
    out: &Path,
) -> Result<PathBuf, RunError> {
    let name = format!("exitmatrix-kit-{}", spec.triple);
    let kit = out.join(&name);
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |source| RunError::Report { path, source }
    };
    if kit.exists() {
        std::fs::remove_dir_all(&kit).map_err(io_error(&kit))?;
    }
    std::fs::create_dir_all(&kit).map_err(io_error(&kit))?;
    let mut recording = request.clone();
    recording.remote = Some(Via::Record(kit.clone()));
    // Every cell is recorded, none carried out: the run's report is not a
    // result and is dropped.
    run::run_target(
        &recording,
        Target::Foreign(spec),
        &Arc::new(AtomicUsize::new(0)),
        &mut |_| {},
        &|| {},
    )?;
    let cases_path = kit.join(CASES_FILE);
    let cases: Vec<KitCase> = std::fs::read_to_string(&cases_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| RunError::Report {
            path: cases_path.clone(),
            source: io::Error::other("the recorded cases were not written"),
        })?;
    let _ = std::fs::remove_file(&cases_path);
    let manifest = Manifest {
        version: KIT_VERSION,
        triple: spec.triple.to_owned(),
        behaviours: request.behaviours.clone(),
        builds: request.builds.iter().map(|b| b.name().to_owned()).collect(),
        profile: request.profile.clone(),
        cases,
    };
    let json = serde_json::to_string_pretty(&manifest).expect("manifests serialise");
    std::fs::write(kit.join(KIT_FILE), json).map_err(io_error(&kit.join(KIT_FILE)))?;
    let agent = format!("agent/{AGENT_STEM}{}", spec.exe_suffix);
    std::fs::write(kit.join(SCRIPT), script(&manifest, &agent))
        .map_err(io_error(&kit.join(SCRIPT)))?;
    let archive = out.join(format!("{name}.tar"));
    tar(&[
        "-cf",
        &archive.display().to_string(),
        "-C",
        &out.display().to_string(),
        &name,
    ])
    .map_err(io_error(&archive))?;
    Ok(archive)
}

/// Runs the system's `tar` with `args`; its complaint, if it fails, is
/// the error's text (its first line), not printed on the way.
fn tar(args: &[&str]) -> io::Result<()> {
    #[expect(clippy::disallowed_methods, reason = "packs a kit, not a probe")]
    let output = std::process::Command::new("tar")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let why = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message");
    Err(io::Error::other(format!(
        "tar {} failed ({}): {why}",
        args.first().copied().unwrap_or_default(),
        output.status
    )))
}

/// An unpacked kit for `import`: `path` itself if it is a directory, else
/// the archive unpacked into a temporary directory (kept alive by the
/// returned guard). Gives the kit's directory and its manifest.
pub fn open(path: &Path) -> Result<(PathBuf, Manifest, Option<tempfile::TempDir>), RunError> {
    let config = RunError::Config;
    if !path.exists() {
        return Err(RunError::Usage(format!(
            "{}: no such file or directory (give the directory `run.sh` ran in, or a tar of it)",
            path.display()
        )));
    }
    if path.is_dir() {
        let manifest = read_manifest(path).map_err(config)?;
        return Ok((path.to_owned(), manifest, None));
    }
    let temp = tempfile::Builder::new()
        .prefix("exitmatrix-import-")
        .tempdir()
        .map_err(|source| RunError::Report {
            path: path.to_owned(),
            source,
        })?;
    tar(&[
        "-xf",
        &path.display().to_string(),
        "-C",
        &temp.path().display().to_string(),
    ])
    .map_err(|e| {
        RunError::Config(format!(
            "{}: not an offline kit: neither a directory nor a tar archive that unpacks ({e})",
            path.display()
        ))
    })?;
    let kit = std::fs::read_dir(temp.path())
        .ok()
        .and_then(|mut d| d.next())
        .and_then(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .ok_or_else(|| RunError::Config(format!("{}: not an offline kit", path.display())))?;
    let manifest = read_manifest(&kit).map_err(config)?;
    Ok((kit, manifest, Some(temp)))
}
