//! Building the probes and the in-target agent for a foreign target.
//!
//! rustup cannot download a std for other targets here, but Debian's rustc
//! 1.63 ships them as packages (see `scripts/install-targets.sh`). Each
//! probe is one dependency-free source file, so it is compiled by calling
//! `/usr/bin/rustc` on it directly, never through cargo (cargo 1.95 cannot
//! drive rustc 1.63):
//!
//! ```text
//! /usr/bin/rustc --edition 2021 --crate-type bin --crate-name probe
//!     --target T [-C linker=L] -C panic=unwind|abort -C opt-level=2
//!     -C strip=debuginfo [--sysroot <cache>/foreign/sysroots/<arch>/usr]
//!     -o target/foreign/T/probe-unwind/probe probes/src/bin/probe.rs
//! ```
//!
//! The C probe is compiled by the target's cross C compiler. A build is
//! skipped when a stamp next to its output records the same command line
//! and the same source, so a second run starts at once.

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::pure::catalogue::{Build, ProbeBin};
use crate::pure::target::TargetSpec;
use crate::toolchain::probes::{BuildError, ProbeSet};
use crate::toolchain::runners;

/// The agent's file stem.
pub const AGENT_STEM: &str = "exitmatrix-agent";

/// A foreign build: the probes and, but for WASI, the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignBuild {
    /// The probes, per build.
    pub probes: ProbeSet,
    /// The agent binary (`None` for WASI, whose agent is the runner script).
    pub agent: Option<PathBuf>,
}

/// One compiler invocation.
#[derive(Debug)]
struct Job {
    what: String,
    program: String,
    args: Vec<String>,
    source: PathBuf,
    out: PathBuf,
}

/// The directory of a target's foreign builds.
pub fn build_dir(foreign: &Path, triple: &str) -> PathBuf {
    foreign.join("builds").join(triple)
}

/// Builds what `builds` need of the probes, and the agent, for `spec` into
/// `out/builds/<triple>`, with the std found under `foreign` (see
/// [`runners::foreign_dir`]). `builds` the target does not support are left
/// out of the returned set (a wasm32 `unwind` build, say).
pub fn build(
    spec: &TargetSpec,
    foreign: &Path,
    out: &Path,
    builds: &[Build],
) -> Result<ForeignBuild, BuildError> {
    let root = crate::toolchain::probes::workspace_root();
    let dir = build_dir(out, spec.triple);
    // Two runs building the same target at once (parallel tests, or test
    // processes under nextest) would share rustc's intermediate files in
    // the build directory: one build at a time in this process, and an
    // advisory lock on the directory across processes. The second finds
    // the first's binaries up to date by their stamps.
    static BUILDING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    std::fs::create_dir_all(&dir).map_err(|source| BuildError::Spawn {
        tool: format!("mkdir {}", dir.display()),
        source,
    })?;
    let lock = std::fs::File::create(dir.join(".lock")).map_err(|source| BuildError::Spawn {
        tool: format!("create {}", dir.join(".lock").display()),
        source,
    })?;
    crate::os::lock_exclusive(&lock).map_err(|source| BuildError::Spawn {
        tool: format!("lock {}", dir.join(".lock").display()),
        source,
    })?;
    let mut jobs = Vec::new();
    let mut dirs = BTreeMap::new();
    let sysroot = runners::sysroot(spec, foreign);
    let rustc = |name: &str, source: PathBuf, panic: &str, out: PathBuf| {
        let mut args: Vec<String> = [
            "--edition",
            "2021",
            "--crate-type",
            "bin",
            "--crate-name",
            name,
            "--target",
            spec.triple,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if let Some(linker) = spec.linker {
            args.push(format!("-Clinker={linker}"));
        }
        args.extend([
            format!("-Cpanic={panic}"),
            "-Copt-level=2".into(),
            "-Cstrip=debuginfo".into(),
            // A probe that does not compile cleanly is a finding for
            // the probe, not a build failure: show warnings, never
            // deny them.
            "--cap-lints=warn".into(),
        ]);
        args.extend(spec.rustc_flags.iter().map(|s| (*s).to_owned()));
        if let Some(sysroot) = &sysroot {
            args.push("--sysroot".into());
            args.push(sysroot.display().to_string());
        }
        args.push("-o".into());
        args.push(out.display().to_string());
        args.push(source.display().to_string());
        Job {
            what: format!("{} for {} ({panic})", name, spec.triple),
            program: runners::DEBIAN_RUSTC.to_owned(),
            args,
            source,
            out,
        }
    };
    for &b in builds.iter().filter(|b| spec.builds.contains(b)) {
        let sub = dir.join(b.cargo_profile().unwrap_or("probe-c"));
        match b {
            Build::Unwind | Build::Abort => {
                let panic = if b == Build::Unwind {
                    "unwind"
                } else {
                    "abort"
                };
                for bin in ProbeBin::ALL
                    .into_iter()
                    .filter(|p| p.lang() == crate::pure::catalogue::Lang::Rust)
                {
                    let stem = bin.file_stem();
                    let source = root.join("probes/src/bin").join(format!("{stem}.rs"));
                    let out = sub.join(format!("{stem}{}", spec.exe_suffix));
                    jobs.push(rustc(&stem.replace('-', "_"), source, panic, out));
                }
            }
            Build::C => {
                let Some(cc) = spec.c_compiler else { continue };
                let source = root.join("probes/c/cprobe.c");
                let out = sub.join(format!("cprobe{}", spec.exe_suffix));
                let mut args: Vec<String> = ["-std=c11", "-O2", "-Wall", "-Wextra"]
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect();
                args.extend(spec.c_flags.iter().map(|s| (*s).to_owned()));
                args.extend([
                    "-o".to_owned(),
                    out.display().to_string(),
                    source.display().to_string(),
                ]);
                jobs.push(Job {
                    what: format!("cprobe for {}", spec.triple),
                    program: cc.to_owned(),
                    args,
                    source,
                    out,
                });
            }
        }
        dirs.insert(b, sub);
    }
    let agent = if spec.family == crate::pure::target::Family::Wasi {
        None
    } else {
        let out = dir
            .join("agent")
            .join(format!("{AGENT_STEM}{}", spec.exe_suffix));
        jobs.push(rustc(
            "exitmatrix_agent",
            root.join("agent/main.rs"),
            "unwind",
            out.clone(),
        ));
        Some(out)
    };
    run_jobs(jobs)?;
    Ok(ForeignBuild {
        probes: ProbeSet {
            dirs,
            exe_suffix: spec.exe_suffix,
        },
        agent,
    })
}

/// Runs the jobs on two threads (the machines have two cores), skipping
/// those whose stamp is current.
fn run_jobs(jobs: Vec<Job>) -> Result<(), BuildError> {
    let queue = Mutex::new(jobs);
    let failure: Mutex<Option<BuildError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let job = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let Some(job) = job else { break };
                if let Err(e) = run_job(&job) {
                    failure
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(e);
                    break;
                }
            });
        }
    });
    match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn stamp_of(job: &Job) -> Option<String> {
    let source = std::fs::read(&job.source).ok()?;
    let mut h = DefaultHasher::new();
    job.program.hash(&mut h);
    job.args.hash(&mut h);
    source.hash(&mut h);
    // The compiler's and the linker's identity: their version and the
    // size and time of the files that would run, so a changed toolchain
    // rebuilds and the report's `tools` name what built the probes.
    let linker = job
        .args
        .iter()
        .find_map(|a| a.strip_prefix("-Clinker="))
        .map(str::to_owned);
    for tool in std::iter::once(job.program.clone()).chain(linker) {
        tool_identity(&tool).hash(&mut h);
    }
    if job.source.ends_with("agent/main.rs") {
        // The agent's own modules.
        for os in [
            "unix.rs",
            "windows.rs",
            "serve.rs",
            "../harness/src/pure/remote.rs",
        ] {
            std::fs::read(job.source.with_file_name(os))
                .ok()
                .hash(&mut h);
        }
    }
    Some(format!("{:016x}", h.finish()))
}

/// `program --version` and the size and modification time of the file it
/// resolves to, once per process per program.
fn tool_identity(program: &str) -> String {
    static SEEN: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(id) = seen.get(program) {
        return id.clone();
    }
    let file = runners::find_on_path(program).and_then(|p| std::fs::metadata(p).ok());
    let id = format!(
        "{} {:?} {:?}",
        runners::tool_version(program).unwrap_or_default(),
        file.as_ref().map(std::fs::Metadata::len),
        file.and_then(|m| m.modified().ok()),
    );
    seen.insert(program.to_owned(), id.clone());
    id
}

fn run_job(job: &Job) -> Result<(), BuildError> {
    let stamp_path = job.out.with_extension("stamp");
    let stamp = stamp_of(job);
    if job.out.exists() && stamp.is_some() && std::fs::read_to_string(&stamp_path).ok() == stamp {
        return Ok(());
    }
    let parent = job.out.parent().expect("outputs are in a directory");
    std::fs::create_dir_all(parent).map_err(|source| BuildError::Spawn {
        tool: format!("mkdir {}", parent.display()),
        source,
    })?;
    // Written under a temporary name and renamed: a concurrent run never
    // sees half a binary.
    let partial = parent.join(format!(
        ".{}.{}.partial",
        job.out
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let mut args = job.args.clone();
    let out_text = job.out.display().to_string();
    for a in &mut args {
        if *a == out_text {
            *a = partial.display().to_string();
        }
    }
    #[expect(clippy::disallowed_methods, reason = "a build tool, not a probe")]
    let output = Command::new(&job.program)
        .args(&args)
        .env_remove("RUSTFLAGS")
        .output()
        .map_err(|source| BuildError::Spawn {
            tool: job.program.clone(),
            source,
        })?;
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        let _ = std::fs::remove_file(&partial);
        return Err(BuildError::Failed {
            what: job.what.clone(),
            status: output.status,
        });
    }
    // rustc writes `<out>.wasm`-style siblings for some targets; the
    // partial name has no extension of its own to confuse it.
    std::fs::rename(&partial, &job.out).map_err(|source| BuildError::Spawn {
        tool: format!("rename to {}", job.out.display()),
        source,
    })?;
    if let Some(stamp) = stamp {
        let _ = std::fs::write(&stamp_path, stamp);
    }
    Ok(())
}
