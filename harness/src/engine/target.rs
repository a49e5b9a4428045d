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
//!   is provided, executables for the target <triple> will be executed by
//!   invoking the specified runner with the actual executable passed as an
//!   argument"; environment `CARGO_TARGET_<triple>_RUNNER`

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::pure::catalogue::Build;

/// A target's family: which API its programs end with and its parents see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// POSIX: wait statuses and signals.
    Unix,
    /// Windows: 32-bit exit codes, NTSTATUS for crashes, no signals.
    Windows,
    /// WASI: `proc_exit` codes and traps; no processes, no signals, no
    /// threads.
    Wasi,
}

impl Family {
    /// The name used in reports and profiles (`unix`, `windows`, `wasi`).
    pub fn name(self) -> &'static str {
        match self {
            Family::Unix => "unix",
            Family::Windows => "windows",
            Family::Wasi => "wasi",
        }
    }

    /// The family profile: the standard behaviour a target of the family is
    /// checked against when it has no profile of its own.
    pub fn profile(self) -> &'static str {
        match self {
            Family::Unix => "posix",
            Family::Windows => "windows",
            Family::Wasi => "wasi",
        }
    }

    /// Whether programs of this family can carry out what `needs` names.
    pub fn provides(self, needs: crate::pure::catalogue::Capability) -> bool {
        use crate::pure::catalogue::Capability;
        match (self, needs) {
            (Family::Unix, _) => true,
            (Family::Windows, Capability::CSignals | Capability::Threads) => true,
            (Family::Windows, Capability::PosixSignals) => false,
            (Family::Wasi, _) => false,
        }
    }

    /// The observer names of a run of this family, in column order: what the
    /// in-target agent reports, then what the Linux host sees through the
    /// runner.
    pub fn observers(self) -> &'static [&'static str] {
        match self {
            Family::Unix => &["waitpid", "waitid", "std", HOST_VIA_RUNNER],
            Family::Windows | Family::Wasi => &[AGENT, HOST_VIA_RUNNER],
        }
    }

    /// The column whose expectation the host's view through the runner is
    /// derived from (see [`crate::pure::emulator::HostView`]).
    pub fn base_observer(self) -> &'static str {
        match self {
            Family::Unix => "waitpid",
            Family::Windows | Family::Wasi => AGENT,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The column of what the in-target agent of a Windows or WASI target saw.
pub const AGENT: &str = "agent";
/// The column of what the Linux host saw of the runner process.
pub const HOST_VIA_RUNNER: &str = "host-via-runner";
/// Every observer name a foreign run adds to the native ones.
pub const FOREIGN_OBSERVERS: [&str; 2] = [AGENT, HOST_VIA_RUNNER];

/// How a known target runs by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultRunner {
    /// The host kernel runs it (i686 on x86_64).
    Native,
    /// `qemu-<arch> -L /usr/<gnu triple>`.
    Qemu {
        /// The qemu-user binary.
        binary: &'static str,
        /// The cross C library's root, for `-L`.
        prefix: &'static str,
    },
    /// `/usr/lib/wine/wine64` with a prefix under `target/`.
    Wine,
    /// `node --no-warnings runners/wasi.mjs`.
    NodeWasi,
}

/// Everything the harness knows about building for and running one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetSpec {
    /// The Rust target triple.
    pub triple: &'static str,
    /// Its family.
    pub family: Family,
    /// Its signal table, unless its profile says otherwise.
    pub signals: &'static str,
    /// Its wait-status layout, unless its profile says otherwise.
    pub wait: &'static str,
    /// `-C linker=` for rustc, if not rustc's default.
    pub linker: Option<&'static str>,
    /// Extra rustc flags.
    pub rustc_flags: &'static [&'static str],
    /// The Debian architecture whose `libstd-rust-dev` is unpacked into
    /// `target/foreign/sysroots/<arch>` (`None`: installed in `/usr`).
    pub sysroot_arch: Option<&'static str>,
    /// The C compiler for the C probe (`None`: no C probe).
    pub c_compiler: Option<&'static str>,
    /// Extra C compiler flags.
    pub c_flags: &'static [&'static str],
    /// The Rust builds the target supports.
    pub builds: &'static [Build],
    /// The runner used when none is configured.
    pub default_runner: DefaultRunner,
    /// Executable file suffix.
    pub exe_suffix: &'static str,
}

/// Every foreign target the harness knows, in `--all-targets` order.
pub const KNOWN: [TargetSpec; 6] = [
    TargetSpec {
        triple: "i686-unknown-linux-gnu",
        family: Family::Unix,
        signals: "linux-generic",
        wait: "linux",
        linker: Some("i686-linux-gnu-gcc"),
        // No i386 C library is installed on the host: link statically.
        rustc_flags: &["-C", "target-feature=+crt-static"],
        sysroot_arch: Some("i386"),
        c_compiler: Some("i686-linux-gnu-gcc"),
        c_flags: &["-static"],
        builds: &[Build::Unwind, Build::Abort, Build::C],
        default_runner: DefaultRunner::Native,
        exe_suffix: "",
    },
    TargetSpec {
        triple: "aarch64-unknown-linux-gnu",
        family: Family::Unix,
        signals: "linux-generic",
        wait: "linux",
        linker: Some("aarch64-linux-gnu-gcc"),
        rustc_flags: &[],
        sysroot_arch: Some("arm64"),
        c_compiler: Some("aarch64-linux-gnu-gcc"),
        c_flags: &[],
        builds: &[Build::Unwind, Build::Abort, Build::C],
        default_runner: DefaultRunner::Qemu {
            binary: "qemu-aarch64",
            prefix: "/usr/aarch64-linux-gnu",
        },
        exe_suffix: "",
    },
    TargetSpec {
        triple: "mips64el-unknown-linux-gnuabi64",
        family: Family::Unix,
        signals: "linux-mips",
        wait: "linux",
        linker: Some("mips64el-linux-gnuabi64-gcc"),
        rustc_flags: &[],
        sysroot_arch: Some("mips64el"),
        c_compiler: Some("mips64el-linux-gnuabi64-gcc"),
        c_flags: &[],
        builds: &[Build::Unwind, Build::Abort, Build::C],
        default_runner: DefaultRunner::Qemu {
            binary: "qemu-mips64el",
            prefix: "/usr/mips64el-linux-gnuabi64",
        },
        exe_suffix: "",
    },
    TargetSpec {
        triple: "x86_64-pc-windows-gnu",
        family: Family::Windows,
        signals: "windows-crt",
        wait: "none",
        linker: Some("x86_64-w64-mingw32-gcc"),
        rustc_flags: &[],
        sysroot_arch: None,
        c_compiler: Some("x86_64-w64-mingw32-gcc"),
        c_flags: &[],
        builds: &[Build::Unwind, Build::Abort, Build::C],
        default_runner: DefaultRunner::Wine,
        exe_suffix: ".exe",
    },
    TargetSpec {
        triple: "wasm32-wasi",
        family: Family::Wasi,
        signals: "none",
        wait: "none",
        linker: None,
        rustc_flags: &[],
        sysroot_arch: None,
        // No C compiler for WASI is installed (wasi-sdk is not packaged).
        c_compiler: None,
        c_flags: &[],
        // "panic=abort is the only strategy" on wasm32 with this std.
        builds: &[Build::Abort],
        default_runner: DefaultRunner::NodeWasi,
        exe_suffix: ".wasm",
    },
    // Known so that a new target can be walked through (`--bless`), but not
    // installed by default: `scripts/install-targets.sh --extra`.
    TargetSpec {
        triple: "s390x-unknown-linux-gnu",
        family: Family::Unix,
        signals: "linux-generic",
        wait: "linux",
        linker: Some("s390x-linux-gnu-gcc"),
        rustc_flags: &[],
        sysroot_arch: Some("s390x"),
        c_compiler: Some("s390x-linux-gnu-gcc"),
        c_flags: &[],
        builds: &[Build::Unwind, Build::Abort, Build::C],
        default_runner: DefaultRunner::Qemu {
            binary: "qemu-s390x",
            prefix: "/usr/s390x-linux-gnu",
        },
        exe_suffix: "",
    },
];

/// The targets `--all-targets` runs when they are installed (the extra ones
/// are run only when asked for by name).
pub fn standard() -> impl Iterator<Item = &'static TargetSpec> {
    KNOWN
        .iter()
        .filter(|t| t.triple != "s390x-unknown-linux-gnu")
}

/// Looks a known foreign target up.
pub fn spec(triple: &str) -> Option<&'static TargetSpec> {
    KNOWN.iter().find(|t| t.triple == triple)
}

/// The command that installs every toolchain and runner.
pub const INSTALL_COMMAND: &str = "cargo xtask install-targets";

/// Debian's rustc, called directly (never through cargo).
pub const DEBIAN_RUSTC: &str = "/usr/bin/rustc";

/// Wine's loader for 64-bit programs (Debian's `wine64` has no `/usr/bin/wine`).
pub const WINE64: &str = "/usr/lib/wine/wine64";

/// Where `scripts/install-targets.sh` puts what it installs outside the
/// system (the unpacked sysroots, the apt lists) and the Wine prefix:
/// `$EXITMATRIX_FOREIGN_DIR`, else `<workspace>/target/foreign`, whatever
/// `--target-dir` says (builds go under the target directory).
pub fn foreign_dir(root: &Path) -> PathBuf {
    std::env::var_os("EXITMATRIX_FOREIGN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("foreign"))
}

/// What kind of program a runner is: it decides which emulator notes
/// (`profiles/emulators/<kind>.toml`) apply and how paths are passed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunnerKind {
    /// No runner: the host kernel runs the program.
    Native,
    /// qemu-user.
    QemuUser,
    /// Wine.
    Wine,
    /// `runners/wasi.mjs` on Node.js.
    NodeWasi,
    /// Anything else, by the file name of its program.
    Other(String),
}

impl RunnerKind {
    /// The name of the kind (`qemu-user`, `wine`, `node-wasi`).
    pub fn name(&self) -> &str {
        match self {
            RunnerKind::Native => "native",
            RunnerKind::QemuUser => "qemu-user",
            RunnerKind::Wine => "wine",
            RunnerKind::NodeWasi => "node-wasi",
            RunnerKind::Other(name) => name,
        }
    }

    /// Guesses the kind from the runner's words.
    pub fn of(words: &[String]) -> RunnerKind {
        // `env VAR=... program ...`: the program is the first word that is
        // neither `env` nor an assignment.
        let program = words
            .iter()
            .find(|w| !w.contains('=') && Path::new(w).file_name().is_some_and(|n| n != "env"));
        let Some(program) = program else {
            return RunnerKind::Native;
        };
        let name = Path::new(program)
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        if name.starts_with("qemu-") {
            RunnerKind::QemuUser
        } else if name.starts_with("wine") {
            RunnerKind::Wine
        } else if name == "node" && words.iter().any(|w| w.ends_with("wasi.mjs")) {
            RunnerKind::NodeWasi
        } else {
            RunnerKind::Other(name)
        }
    }
}

/// Where a runner came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunnerSource {
    /// `--runner`.
    CommandLine,
    /// `CARGO_TARGET_<TRIPLE>_RUNNER`.
    Environment(String),
    /// `target.<triple>.runner` in this file.
    Config(PathBuf),
    /// The harness's default for the target.
    Default,
}

impl fmt::Display for RunnerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunnerSource::CommandLine => f.write_str("--runner"),
            RunnerSource::Environment(var) => write!(f, "${var}"),
            RunnerSource::Config(path) => write!(f, "{}", path.display()),
            RunnerSource::Default => f.write_str("default"),
        }
    }
}

/// The runner of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Runner {
    /// The words put before the program (empty: run it directly).
    pub words: Vec<String>,
    /// What kind of runner it is.
    pub kind: RunnerKind,
    /// Where it came from.
    pub source: RunnerSource,
}

impl Runner {
    /// The words as OS strings, for [`crate::process::spawn::Invocation::runner`].
    pub fn os_words(&self) -> Vec<OsString> {
        self.words.iter().map(OsString::from).collect()
    }
}

/// The environment variable cargo reads a target's runner from.
pub fn runner_env_var(triple: &str) -> String {
    let upper: String = triple
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("CARGO_TARGET_{upper}_RUNNER")
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
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
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
    let program = runner
        .words
        .iter()
        .find(|w| !w.contains('=') && !w.ends_with("/env") && *w != "env");
    if let Some(program) = program {
        if find_on_path(program).is_none() {
            what.push(format!("the runner `{program}`"));
        }
    }
    if what.is_empty() {
        Ok(())
    } else {
        Err(Missing {
            what,
            fix: INSTALL_COMMAND.to_owned(),
        })
    }
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
/// installs every foreign toolchain and runner idempotently (`--extra`
/// adds the targets `--all-targets` does not run; `--check` only reports).
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
