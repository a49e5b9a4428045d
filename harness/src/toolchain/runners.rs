//! The targets exitmatrix knows how to build for and run, and how each one
//! is run: its runner, found in the order the README gives.
//!
//! A *target* is a Rust target triple. The native one is built by cargo and
//! run directly; every other is built with Debian's rustc 1.63 and its
//! target std (see [`crate::toolchain::crossbuild`]) and run through a *runner*: words
//! put before the program, such as `qemu-aarch64 -L /usr/aarch64-linux-gnu`.
//! The runner is, first found wins:
//!
//! 1. `--runner` on the command line;
//! 2. the environment variable `CARGO_TARGET_<TRIPLE>_RUNNER` (the triple in
//!    upper case, `-` and `.` as `_`), split on whitespace as cargo does;
//! 3. `target.<triple>.runner` in `.cargo/config.toml`, looked for from the
//!    workspace root upwards and then in `$CARGO_HOME`, as cargo does (a
//!    string or an array of words);
//! 4. the known default: none for i686 (the x86_64 kernel runs it),
//!    qemu-user for other Linux architectures, Wine for windows-gnu, and
//!    `runners/wasi.mjs` on Node.js for wasm32-wasi.
//!
//! # References
//! - The Cargo Book, Configuration: `target.<triple>.runner`, "If a runner
//!   is provided, executables for the target `<triple>` will be executed by
//!   invoking the specified runner with the actual executable passed as an
//!   argument"; environment `CARGO_TARGET_<triple>_RUNNER`

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::pure::target::runner_env_var;
use crate::pure::target::{DefaultRunner, Runner, RunnerKind, RunnerSource, TargetSpec};

/// The command that installs the standard targets' toolchains and runners.
pub const INSTALL_COMMAND: &str = "cargo xtask install-targets";

/// The command that also installs the extra targets (`standard = false`).
pub const INSTALL_EXTRA_COMMAND: &str = "cargo xtask install-targets --extra";

/// The command that installs `spec`'s toolchain and runner.
pub fn install_command(spec: &TargetSpec) -> &'static str {
    if spec.standard {
        INSTALL_COMMAND
    } else {
        INSTALL_EXTRA_COMMAND
    }
}

/// Debian's rustc, called directly (never through cargo).
pub const DEBIAN_RUSTC: &str = "/usr/bin/rustc";

/// Wine's loader for 64-bit programs (Debian's `wine64` has no `/usr/bin/wine`).
pub const WINE64: &str = "/usr/lib/wine/wine64";

/// The project's cache directory, outside `target/` so that `cargo clean`
/// does not throw away what took the network to get:
/// `$EXITMATRIX_CACHE_DIR`, else `$XDG_CACHE_HOME/exitmatrix`, else
/// `~/.cache/exitmatrix` (the scripts under `scripts/` use the same rule).
pub fn cache_dir(root: &Path) -> PathBuf {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("EXITMATRIX_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("exitmatrix")))
        .or_else(|| var("HOME").map(|h| h.join(".cache").join("exitmatrix")))
        .unwrap_or_else(|| root.join("target").join("cache"))
}

/// Where `scripts/install-targets.sh` puts what it installs outside the
/// system (the unpacked sysroots) and the Wine prefix:
/// `$EXITMATRIX_FOREIGN_DIR`, else `foreign/` in the [`cache_dir`]. Builds
/// go under the target directory.
pub fn foreign_dir(root: &Path) -> PathBuf {
    std::env::var_os("EXITMATRIX_FOREIGN_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir(root).join("foreign"))
}

/// Finds the runner for `spec` (see the module documentation for the order).
/// `env` reads an environment variable; `config_dirs` are the directories
/// whose `.cargo/config.toml` (or `config`) may say `target.<triple>.runner`,
/// nearest first.
pub fn resolve_runner(
    spec: &TargetSpec,
    command_line: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
    config_dirs: &[PathBuf],
    root: &Path,
    foreign: &Path,
) -> Result<Runner, String> {
    let split = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let found = if let Some(words) = command_line {
        Some((split(words), RunnerSource::CommandLine))
    } else {
        let var = runner_env_var(spec.triple);
        match env(&var) {
            Some(value) if !value.trim().is_empty() => {
                Some((split(&value), RunnerSource::Environment(var)))
            }
            _ => config_runner(spec.triple, config_dirs)?,
        }
    };
    let (mut words, source) = match found {
        Some(found) => found,
        None => (default_runner(spec, root), RunnerSource::Default),
    };
    let kind = RunnerKind::of(&words);
    if kind == RunnerKind::Wine && !words.iter().any(|w| w.starts_with("WINEPREFIX=")) {
        // Probes run with an empty environment; Wine needs a prefix of its
        // own (in the target directory), quiet debug output, and no crash
        // dialog (winedbg would write to stdout).
        let mut env = wine_env(foreign);
        if words
            .first()
            .is_some_and(|w| w == "env" || w.ends_with("/env"))
        {
            words.remove(0);
        }
        env.extend(words);
        words = env;
    }
    Ok(Runner {
        words,
        kind,
        source,
    })
}

/// `env WINEPREFIX=... WINEDEBUG=-all WINEDLLOVERRIDES=winedbg.exe=d`.
pub fn wine_env(foreign: &Path) -> Vec<String> {
    vec![
        "/usr/bin/env".to_owned(),
        format!("WINEPREFIX={}", foreign.join("wine-prefix").display()),
        "WINEDEBUG=-all".to_owned(),
        "WINEDLLOVERRIDES=winedbg.exe=d".to_owned(),
    ]
}

fn default_runner(spec: &TargetSpec, root: &Path) -> Vec<String> {
    match spec.default_runner {
        DefaultRunner::Native => Vec::new(),
        DefaultRunner::Qemu { binary, prefix } => {
            vec![format!("/usr/bin/{binary}"), "-L".into(), prefix.into()]
        }
        DefaultRunner::Wine => vec![WINE64.into()],
        DefaultRunner::NodeWasi => vec![
            node_path(),
            "--no-warnings".into(),
            root.join("runners/wasi.mjs").display().to_string(),
        ],
    }
}

/// Node.js, by absolute path (probes run with an empty `PATH`).
pub fn node_path() -> String {
    find_on_path("node").map_or_else(|| "/usr/bin/node".to_owned(), |p| p.display().to_string())
}

/// The first executable `name` on `$PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Some(PathBuf::from(name)).filter(|p| is_executable(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    crate::os::is_executable(path)
}

/// The directories whose `.cargo/config.toml` cargo would read for a build
/// in `root`: `root` and its ancestors, then `$CARGO_HOME` (or
/// `~/.cargo`).
pub fn config_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = root.ancestors().map(|d| d.join(".cargo")).collect();
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(home) = home {
        if !dirs.contains(&home) {
            dirs.push(home);
        }
    }
    dirs
}

/// `target.<triple>.runner` from the first config file that sets it.
fn config_runner(
    triple: &str,
    dirs: &[PathBuf],
) -> Result<Option<(Vec<String>, RunnerSource)>, String> {
    for dir in dirs {
        for file in ["config.toml", "config"] {
            let path = dir.join(file);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let value: toml::Value = toml::from_str(&text)
                .map_err(|e| format!("cannot read {}: {}", path.display(), e.message()))?;
            let runner = value
                .get("target")
                .and_then(|t| t.get(triple))
                .and_then(|t| t.get("runner"));
            let words = match runner {
                None => continue,
                Some(toml::Value::String(s)) => {
                    s.split_whitespace().map(str::to_owned).collect::<Vec<_>>()
                }
                Some(toml::Value::Array(a)) => a
                    .iter()
                    .map(|w| w.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        format!(
                            "{}: target.{triple}.runner must be a string or an array of strings",
                            path.display()
                        )
                    })?,
                Some(_) => {
                    return Err(format!(
                        "{}: target.{triple}.runner must be a string or an array of strings",
                        path.display()
                    ))
                }
            };
            return Ok(Some((words, RunnerSource::Config(path))));
        }
    }
    Ok(None)
}

/// What is missing to build for or run a target, if anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Missing {
    /// Each missing piece, as a short phrase.
    pub what: Vec<String>,
    /// The command that installs them.
    pub fix: String,
}

/// Checks that everything `spec` needs is installed: Debian's rustc, the
/// target's std, the linker, the C compiler, and the runner's program.
pub fn check_installed(spec: &TargetSpec, runner: &Runner, foreign: &Path) -> Result<(), Missing> {
    let mut what = Vec::new();
    if !Path::new(DEBIAN_RUSTC).exists() {
        what.push(format!("Debian's rustc ({DEBIAN_RUSTC})"));
    }
    let std_dir = sysroot(spec, foreign)
        .unwrap_or_else(|| PathBuf::from("/usr"))
        .join("lib/rustlib")
        .join(spec.triple)
        .join("lib");
    if !std_dir.is_dir() {
        what.push(format!("the {} std ({})", spec.triple, std_dir.display()));
    }
    for tool in spec.linker.iter().chain(spec.c_compiler.iter()) {
        if find_on_path(tool).is_none() {
            what.push(format!("`{tool}`"));
        }
    }
    if let Some(program) = program(runner) {
        if find_on_path(program).is_none() {
            what.push(format!("the runner `{program}`"));
        }
    }
    if what.is_empty() {
        Ok(())
    } else {
        Err(Missing {
            what,
            fix: install_command(spec).to_owned(),
        })
    }
}

/// The program a runner starts: its first word that is neither `env` nor
/// an assignment (`None` for the empty runner).
pub fn program(runner: &Runner) -> Option<&str> {
    runner
        .words
        .iter()
        .find(|w| !w.contains('=') && !w.ends_with("/env") && *w != "env")
        .map(String::as_str)
}

/// The unpacked sysroot of a foreign Linux architecture, if the target uses
/// one.
pub fn sysroot(spec: &TargetSpec, foreign: &Path) -> Option<PathBuf> {
    spec.sysroot_arch
        .map(|arch| foreign.join("sysroots").join(arch).join("usr"))
}

/// The first line of `program --version` (or `-V`), for reports and blessed
/// profiles: the tools a result depends on.
pub fn tool_version(program: &str) -> Option<String> {
    #[expect(clippy::disallowed_methods, reason = "a tool's version, not a probe")]
    let out = std::process::Command::new(program)
        .arg("--version")
        .env("WINEDEBUG", "-all")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())?
        .trim()
        .to_owned();
    Some(line)
}

/// `cargo xtask install-targets`: runs `scripts/install-targets.sh`, which
/// installs what the standard targets' descriptions (`targets/*.toml`)
/// list, idempotently (`--extra` adds the other described targets;
/// `--check` only reports).
/// Returns the script's exit code.
pub fn install(extra: bool, check: bool) -> u8 {
    let script = crate::toolchain::probes::workspace_root().join("scripts/install-targets.sh");
    let mut args = Vec::new();
    if extra {
        args.push("--extra");
    }
    if check {
        args.push("--check");
    }
    #[expect(clippy::disallowed_methods, reason = "an installer, not a probe")]
    let status = std::process::Command::new("bash")
        .arg(&script)
        .args(args)
        .status();
    match status {
        Ok(s) => s.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1),
        Err(e) => {
            eprintln!("error: cannot run {}: {e}", script.display());
            2
        }
    }
}
