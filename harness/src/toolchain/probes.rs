//! Building the probe set for the native target (foreign targets are built
//! by [`crate::toolchain::crossbuild`]).
//!
//! The Rust probes are built by cargo in the two named profiles
//! `probe-unwind` and `probe-abort` (the dev profile is never touched, so
//! `cargo test` cannot change what a panic probe does); the C probe is
//! compiled by the system C compiler, found the way the `cc` crate finds it
//! (`CC`, `CFLAGS`, then `cc`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::pure::catalogue::{Build, ProbeBin};

/// The directory, in a target directory, of the C probe's build.
const C_DIR: &str = "probe-c";

/// The host's target triple, recorded at build time.
pub const HOST: &str = env!("EXITMATRIX_HOST");

/// Where the built probes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSet {
    /// The directory holding each build's binaries.
    pub dirs: BTreeMap<Build, PathBuf>,
    /// The binaries' file suffix: the host's for native probes, `.exe` or
    /// `.wasm` for some foreign targets.
    pub exe_suffix: &'static str,
}

impl ProbeSet {
    /// The probes of `builds` where [`build_native`] puts them in
    /// `target_dir`, without building anything.
    pub fn in_target_dir(target_dir: &Path, builds: &[Build]) -> ProbeSet {
        let dirs = builds
            .iter()
            .map(|&b| (b, target_dir.join(b.cargo_profile().unwrap_or(C_DIR))))
            .collect();
        ProbeSet {
            dirs,
            exe_suffix: std::env::consts::EXE_SUFFIX,
        }
    }

    /// Checks that `bin` of `build` exists and is an executable file.
    pub fn check(&self, build: Build, bin: ProbeBin) -> Result<(), BuildError> {
        let path = self
            .path(build, bin)
            .ok_or(BuildError::NotBuilt { build })?;
        match std::fs::metadata(&path) {
            Ok(_) if crate::os::is_executable(&path) => Ok(()),
            Ok(_) => Err(BuildError::BadProbe {
                path,
                why: "is not an executable file",
            }),
            Err(_) => Err(BuildError::BadProbe {
                path,
                why: "is missing",
            }),
        }
    }

    /// Whether `build` was made (or asked for, with `--no-build`).
    pub fn has(&self, build: Build) -> bool {
        self.dirs.contains_key(&build)
    }

    /// The path of `bin` in `build`, or `None` if that build was not made.
    pub fn path(&self, build: Build, bin: ProbeBin) -> Option<PathBuf> {
        let dir = self.dirs.get(&build)?;
        Some(dir.join(format!("{}{}", bin.file_stem(), self.exe_suffix)))
    }
}

/// A probe build that failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A build tool could not be started.
    #[error("cannot run {tool}")]
    Spawn {
        /// The tool.
        tool: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A build tool ran and failed.
    #[error("{what} failed ({status}); its output is above")]
    Failed {
        /// What was being built.
        what: String,
        /// How the tool ended.
        status: std::process::ExitStatus,
    },
    /// A build was not made.
    #[error("build `{build}` was not made")]
    NotBuilt {
        /// The build.
        build: Build,
    },
    /// A probe binary cannot be run.
    #[error("probe {} {why} (build the probes: drop --no-build)", path.display())]
    BadProbe {
        /// The binary.
        path: PathBuf,
        /// What is wrong.
        why: &'static str,
    },
    /// The C compiler was not found.
    #[error("no C compiler for {target}: {message}")]
    NoCompiler {
        /// The target.
        target: String,
        /// What the `cc` crate said.
        message: String,
    },
}

/// The workspace root (the parent of the harness crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate is inside the workspace")
        .to_owned()
}

/// Builds the native probes for `builds` into `target_dir`.
///
/// Cargo is called through `$CARGO` when set (as cargo sets it for
/// `cargo xtask` and for tests), else `cargo`.
pub fn build_native(target_dir: &Path, builds: &[Build]) -> Result<ProbeSet, BuildError> {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut dirs = BTreeMap::new();
    for &build in builds {
        match build.cargo_profile() {
            Some(profile) => {
                #[expect(clippy::disallowed_methods, reason = "a build tool, not a probe")]
                let status = Command::new(&cargo)
                    .current_dir(&root)
                    .args([
                        "build",
                        "--quiet",
                        "--package",
                        "exitmatrix-probes",
                        "--bins",
                        "--profile",
                        profile,
                    ])
                    .arg("--target-dir")
                    .arg(target_dir)
                    .status()
                    .map_err(|source| BuildError::Spawn {
                        tool: "cargo".into(),
                        source,
                    })?;
                if !status.success() {
                    return Err(BuildError::Failed {
                        what: format!("cargo build --profile {profile}"),
                        status,
                    });
                }
                dirs.insert(build, target_dir.join(profile));
            }
            None => {
                let dir = target_dir.join(C_DIR);
                build_c(&root.join("probes/c/cprobe.c"), &dir)?;
                dirs.insert(build, dir);
            }
        }
    }
    Ok(ProbeSet {
        dirs,
        exe_suffix: std::env::consts::EXE_SUFFIX,
    })
}

/// Compiles the C probe into `dir/cprobe`, atomically (concurrent builds
/// never see a half-written binary).
fn build_c(source: &Path, dir: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(dir).map_err(|source| BuildError::Spawn {
        tool: format!("mkdir {}", dir.display()),
        source,
    })?;
    let compiler = cc::Build::new()
        .target(HOST)
        .host(HOST)
        .opt_level(2)
        .debug(false)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .try_get_compiler()
        .map_err(|e| BuildError::NoCompiler {
            target: HOST.into(),
            message: e.to_string(),
        })?;
    let out = dir.join(ProbeBin::CProbe.file_stem());
    let partial = dir.join(format!(".cprobe.{}.partial", std::process::id()));
    let mut command = compiler.to_command();
    command
        .args(["-std=c11", "-Wall", "-Wextra", "-o"])
        .arg(&partial)
        .arg(source);
    let status = command.status().map_err(|source| BuildError::Spawn {
        tool: compiler.path().display().to_string(),
        source,
    })?;
    if !status.success() {
        return Err(BuildError::Failed {
            what: format!("compiling {}", source.display()),
            status,
        });
    }
    std::fs::rename(&partial, &out).map_err(|source| BuildError::Spawn {
        tool: format!("rename to {}", out.display()),
        source,
    })
}
