//! The foreign targets as data, and what a runner is (its words, kind and
//! source).
//!
//! A target is described by one file, `targets/<triple>.toml`, and by
//! nothing else: [`load_all`] reads a directory of them, [`known`] the
//! shipped one (once per process). Every key is required:
//!
//! ```toml
//! triple = "aarch64-unknown-linux-gnu"  # the Rust target; the file's name
//! arch = "aarch64"                      # Rust's target_arch
//! family = "unix"                       # unix | windows | wasi
//! signals = "linux-generic"             # a signal table (pure::signal)
//! wait = "linux"                        # a wait layout (pure::decode)
//! standard = true                       # false: installed with --extra
//! linker = "aarch64-linux-gnu-gcc"      # "": rustc's own
//! rustc-flags = []
//! sysroot-arch = "arm64"                # "": the std is installed in /usr
//! c-compiler = "aarch64-linux-gnu-gcc"  # "": no C probe
//! c-flags = []
//! builds = ["unwind", "abort", "c"]
//! exe-suffix = ""
//!
//! [runner]                              # the default runner
//! kind = "qemu-user"                    # native | qemu-user | wine | node-wasi
//! binary = "qemu-aarch64"               # qemu-user only
//! prefix = "/usr/aarch64-linux-gnu"     # qemu-user only: -L
//!
//! [install]                             # read by scripts/install-targets.sh
//! packages = ["rustc", "qemu-user", "gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross"]
//! ```
//!
//! A mistake (a syntax error, an unknown or missing key, a wrong type, an
//! unknown family, signal table, wait layout, build or runner kind, a
//! triple that is not the file's name) is a [`TargetError`]: one line
//! with the file, line and column, naming the key.
//!
//! Finding a runner on this machine and checking that a target's toolchain
//! is installed is I/O, and lives in [`crate::toolchain::runners`].

use std::ffi::OsString;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::pure::catalogue::Build;
use crate::pure::decode::WaitConventions;
use crate::pure::observers::{AGENT, HOST_VIA_RUNNER};
use crate::pure::profile::Location;
use crate::pure::signal::SignalTable;

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
    /// Every family, as a description's `family` names them.
    pub const ALL: [Family; 3] = [Family::Unix, Family::Windows, Family::Wasi];

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
            (Family::Windows, Capability::UndefinedInstruction) => true,
            (Family::Windows, Capability::CSignals | Capability::Threads) => true,
            (Family::Windows, Capability::PosixSignals) => false,
            // The in-target agent ends no process tree at a deadline yet; a
            // Windows *host* does (a Job object, `os::host_provides`).
            (Family::Windows, Capability::Watchdog) => false,
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

/// How a target runs by default (`[runner]` in its description).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultRunner {
    /// `kind = "native"`: the host kernel runs it (i686 on x86_64).
    Native,
    /// `kind = "qemu-user"`: `qemu-<arch> -L /usr/<gnu triple>`.
    Qemu {
        /// The qemu-user binary (`binary`).
        binary: &'static str,
        /// The cross C library's root, for `-L` (`prefix`).
        prefix: &'static str,
    },
    /// `kind = "wine"`: `/usr/lib/wine/wine64` with a prefix in the cache
    /// directory.
    Wine,
    /// `kind = "node-wasi"`: `node --no-warnings runners/wasi.mjs`.
    NodeWasi,
}

/// The runner kinds a description may name, as `[runner] kind` spells them.
pub const RUNNER_KINDS: [&str; 4] = ["native", "qemu-user", "wine", "node-wasi"];

/// The wait layouts a description may name
/// ([`crate::pure::decode::WaitConventions::by_name`]).
pub const WAIT_LAYOUTS: [&str; 4] = ["linux", "freebsd", "macos", "none"];

/// Everything the harness knows about building for, running and installing
/// one foreign target: one file, `targets/<triple>.toml`.
///
/// The strings are leaked when a file is loaded (see [`load_all`]), so a
/// `TargetSpec` is `Copy` and the engine can hold `&'static TargetSpec`
/// ([`crate::engine::run::Target::Foreign`]). The shipped directory is
/// loaded once per process ([`known`]); a test that loads other copies
/// leaks a few hundred bytes per file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetSpec {
    /// The Rust target triple (`triple`, the file's name).
    pub triple: &'static str,
    /// Its architecture, as Rust's `target_arch` names it (`arch`).
    pub arch: &'static str,
    /// Its family (`family`).
    pub family: Family,
    /// Its signal table, unless its profile says otherwise (`signals`).
    pub signals: &'static str,
    /// Its wait-status layout, unless its profile says otherwise (`wait`).
    pub wait: &'static str,
    /// Whether it is one of the standard targets (`standard`): installed by
    /// `cargo xtask install-targets` without `--extra`, and required by
    /// `--all-targets --require all`. `--all-targets` runs every described
    /// target that is installed; a missing extra one is listed and never
    /// fails the run.
    pub standard: bool,
    /// `-C linker=` for rustc, if not rustc's default (`linker`; `""`:
    /// none).
    pub linker: Option<&'static str>,
    /// Extra rustc flags (`rustc-flags`).
    pub rustc_flags: &'static [&'static str],
    /// The Debian architecture whose `libstd-rust-dev` is unpacked into
    /// `<cache>/foreign/sysroots/<arch>` (`sysroot-arch`; `""`: the std is
    /// installed in `/usr` by a package of the host's).
    pub sysroot_arch: Option<&'static str>,
    /// The C compiler for the C probe (`c-compiler`; `""`: no C probe).
    pub c_compiler: Option<&'static str>,
    /// Extra C compiler flags (`c-flags`).
    pub c_flags: &'static [&'static str],
    /// The Rust builds the target supports (`builds`).
    pub builds: &'static [Build],
    /// The runner used when none is configured (`[runner]`).
    pub default_runner: DefaultRunner,
    /// Executable file suffix (`exe-suffix`).
    pub exe_suffix: &'static str,
    /// The Debian packages of the host's architecture it needs
    /// (`[install] packages`), installed by `scripts/install-targets.sh`.
    pub packages: &'static [&'static str],
}

impl TargetSpec {
    /// Whether programs of this target can carry out what `needs` names:
    /// what its family provides, and an undefined instruction only on the
    /// architectures the probe knows one for (`probes/src/bin/probe.rs`,
    /// `undefined_instruction`).
    pub fn provides(&self, needs: crate::pure::catalogue::Capability) -> bool {
        use crate::pure::catalogue::Capability;
        let known_undefined = matches!(
            self.arch,
            "x86" | "x86_64" | "aarch64" | "arm" | "riscv32" | "riscv64"
        );
        self.family.provides(needs)
            && (needs != Capability::UndefinedInstruction || known_undefined)
    }
}

/// A target description that cannot be used. Its message is one line that
/// names the file (with line and column) and the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The directory or a file in it cannot be read.
    #[error("cannot read target description {}: {message}", path.display())]
    Read {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Something in a file is wrong: syntax, a type, an unknown or missing
    /// key, a name that does not exist.
    #[error("{location}: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// What, naming the key.
        message: String,
    },
}

/// One `targets/<triple>.toml` as written. Every key is required; the
/// values are typed by hand so that each error names its key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTarget {
    triple: Spanned<toml::Value>,
    arch: Spanned<toml::Value>,
    family: Spanned<toml::Value>,
    signals: Spanned<toml::Value>,
    wait: Spanned<toml::Value>,
    standard: Spanned<toml::Value>,
    linker: Spanned<toml::Value>,
    rustc_flags: Spanned<toml::Value>,
    sysroot_arch: Spanned<toml::Value>,
    c_compiler: Spanned<toml::Value>,
    c_flags: Spanned<toml::Value>,
    builds: Spanned<toml::Value>,
    exe_suffix: Spanned<toml::Value>,
    runner: RawRunner,
    install: RawInstall,
}

/// `[runner]`.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a `[runner]` table (kind, and binary and prefix for qemu-user)"
)]
struct RawRunner {
    kind: Spanned<toml::Value>,
    binary: Option<Spanned<toml::Value>>,
    prefix: Option<Spanned<toml::Value>>,
}

/// `[install]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "an `[install]` table (packages)")]
struct RawInstall {
    packages: Spanned<toml::Value>,
}

/// One file being read: its path and text, for locating errors.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn invalid(&self, span: Range<usize>, message: impl Into<String>) -> TargetError {
        let before = &self.text[..span.start.min(self.text.len())];
        TargetError::Invalid {
            location: Location {
                file: self.path.to_owned(),
                line: before.matches('\n').count() + 1,
                column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
            },
            // One line, whatever the TOML parser said.
            message: message.into().lines().collect::<Vec<_>>().join("; "),
        }
    }

    /// `key`'s value as a string.
    fn string(&self, key: &str, v: &Spanned<toml::Value>) -> Result<String, TargetError> {
        match v.get_ref() {
            toml::Value::String(s) => Ok(s.clone()),
            other => Err(self.invalid(
                v.span(),
                format!("`{key}` must be a string, not {}", kind_of(other)),
            )),
        }
    }

    /// `key`'s value as a string that `""` makes absent.
    fn optional(&self, key: &str, v: &Spanned<toml::Value>) -> Result<Option<String>, TargetError> {
        self.string(key, v)
            .map(|s| Some(s).filter(|s| !s.is_empty()))
    }

    /// `key`'s value as an array of strings.
    fn strings(&self, key: &str, v: &Spanned<toml::Value>) -> Result<Vec<String>, TargetError> {
        let wrong = |what: &str| {
            self.invalid(
                v.span(),
                format!("`{key}` must be an array of strings, not {what}"),
            )
        };
        match v.get_ref() {
            toml::Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| wrong(&format!("an array holding {}", kind_of(i))))
                })
                .collect(),
            other => Err(wrong(kind_of(other))),
        }
    }

    /// `key`'s value, a string that must be one of `known`.
    fn one_of<T>(
        &self,
        key: &str,
        v: &Spanned<toml::Value>,
        what: &str,
        known: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, TargetError> {
        let name = self.string(key, v)?;
        parse(&name).ok_or_else(|| {
            self.invalid(
                v.span(),
                format!(
                    "`{key}` is `{name}`, which is not {what} (known: {})",
                    known.join(", ")
                ),
            )
        })
    }
}

/// How an error names a TOML value's type.
fn kind_of(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

/// Gives a loaded string the program's lifetime (see [`TargetSpec`]).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Gives loaded strings the program's lifetime (see [`TargetSpec`]).
fn leak_all(v: Vec<String>) -> &'static [&'static str] {
    Box::leak(
        v.into_iter()
            .map(leak)
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

/// Reads one description, `<dir>/<triple>.toml`.
pub fn load(path: &Path) -> Result<TargetSpec, TargetError> {
    let text = std::fs::read_to_string(path).map_err(|e| TargetError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let src = Source { path, text: &text };
    let raw: RawTarget =
        toml::from_str(&text).map_err(|e| src.invalid(e.span().unwrap_or(0..0), e.message()))?;

    let triple = src.string("triple", &raw.triple)?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    if stem.as_deref() != Some(triple.as_str()) {
        return Err(src.invalid(
            raw.triple.span(),
            format!(
                "`triple` is `{triple}`, but the file is named `{}.toml`: the file's name is the triple",
                stem.unwrap_or_default()
            ),
        ));
    }
    let family_names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
    let family = src.one_of("family", &raw.family, "a family", &family_names, |n| {
        Family::ALL.into_iter().find(|f| f.name() == n)
    })?;
    let table_names: Vec<&str> = SignalTable::ALL.iter().map(|t| t.name).collect();
    let signals = src.one_of(
        "signals",
        &raw.signals,
        "a signal table",
        &table_names,
        |n| SignalTable::by_name(n).map(|t| t.name),
    )?;
    let wait = src.one_of("wait", &raw.wait, "a wait layout", &WAIT_LAYOUTS, |n| {
        WaitConventions::by_name(n).and(WAIT_LAYOUTS.into_iter().find(|w| *w == n))
    })?;
    let standard = match raw.standard.get_ref() {
        toml::Value::Boolean(b) => *b,
        other => {
            return Err(src.invalid(
                raw.standard.span(),
                format!("`standard` must be true or false, not {}", kind_of(other)),
            ))
        }
    };
    let build_names: Vec<&str> = Build::ALL.iter().map(|b| b.name()).collect();
    let mut builds = Vec::new();
    for name in src.strings("builds", &raw.builds)? {
        let build = Build::from_name(&name).ok_or_else(|| {
            src.invalid(
                raw.builds.span(),
                format!(
                    "`builds` names `{name}`, which is not a build (known: {})",
                    build_names.join(", ")
                ),
            )
        })?;
        if !builds.contains(&build) {
            builds.push(build);
        }
    }
    if builds.is_empty() {
        return Err(src.invalid(
            raw.builds.span(),
            "`builds` is empty: a target needs at least one build",
        ));
    }
    let default_runner = runner(&src, &raw.runner)?;
    let packages = &raw.install.packages;
    if src.text[packages.span()].contains('\n') {
        // scripts/install-targets.sh reads the list with sed, line by line.
        return Err(src.invalid(
            packages.span(),
            "`install.packages` must be written on one line (scripts/install-targets.sh reads it line by line)",
        ));
    }
    let packages = src.strings("install.packages", packages)?;

    Ok(TargetSpec {
        arch: leak(src.string("arch", &raw.arch)?),
        family,
        signals,
        wait,
        standard,
        linker: src.optional("linker", &raw.linker)?.map(leak),
        rustc_flags: leak_all(src.strings("rustc-flags", &raw.rustc_flags)?),
        sysroot_arch: src.optional("sysroot-arch", &raw.sysroot_arch)?.map(leak),
        c_compiler: src.optional("c-compiler", &raw.c_compiler)?.map(leak),
        c_flags: leak_all(src.strings("c-flags", &raw.c_flags)?),
        builds: Box::leak(builds.into_boxed_slice()),
        default_runner,
        exe_suffix: leak(src.string("exe-suffix", &raw.exe_suffix)?),
        packages: leak_all(packages),
        triple: leak(triple),
    })
}

/// `[runner]` as a [`DefaultRunner`]: `binary` and `prefix` are required
/// for qemu-user and not allowed for the others.
fn runner(src: &Source<'_>, raw: &RawRunner) -> Result<DefaultRunner, TargetError> {
    let kind = src.one_of(
        "runner.kind",
        &raw.kind,
        "a runner kind",
        &RUNNER_KINDS,
        |n| RUNNER_KINDS.into_iter().find(|k| *k == n),
    )?;
    if kind == "qemu-user" {
        let field = |key: &str, v: &Option<Spanned<toml::Value>>| match v {
            Some(v) => src.string(&format!("runner.{key}"), v).map(leak),
            None => Err(src.invalid(
                raw.kind.span(),
                format!(
                    "`runner.{key}` is missing: a qemu-user runner needs `binary` and `prefix`"
                ),
            )),
        };
        return Ok(DefaultRunner::Qemu {
            binary: field("binary", &raw.binary)?,
            prefix: field("prefix", &raw.prefix)?,
        });
    }
    for (key, v) in [("binary", &raw.binary), ("prefix", &raw.prefix)] {
        if let Some(v) = v {
            return Err(src.invalid(
                v.span(),
                format!("`runner.{key}` applies only to kind = \"qemu-user\", not to `{kind}`"),
            ));
        }
    }
    Ok(match kind {
        "native" => DefaultRunner::Native,
        "wine" => DefaultRunner::Wine,
        _ => DefaultRunner::NodeWasi,
    })
}

/// Reads every `*.toml` in `dir` (other files are ignored), in
/// `--all-targets` order: the standard targets, then the extra ones, each
/// by triple. The first file with a mistake is the error.
pub fn load_all(dir: &Path) -> Result<Vec<TargetSpec>, TargetError> {
    let read_error = |e: std::io::Error| TargetError::Read {
        path: dir.to_owned(),
        message: e.to_string(),
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    files.sort();
    let mut specs = files
        .iter()
        .map(|f| load(f))
        .collect::<Result<Vec<_>, _>>()?;
    specs.sort_by_key(|t| (!t.standard, t.triple));
    Ok(specs)
}

/// The directory of the shipped descriptions: `targets/` in the workspace
/// this harness was built from (as `toolchain::probes::workspace_root`
/// finds it).
pub fn shipped_dir() -> PathBuf {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
    harness.parent().unwrap_or(harness).join("targets")
}

/// Every foreign target the harness knows: [`shipped_dir`], loaded once
/// per process (later calls return the same descriptions, or the same
/// error), in `--all-targets` order.
pub fn known() -> Result<&'static [TargetSpec], TargetError> {
    static KNOWN: OnceLock<Result<Vec<TargetSpec>, TargetError>> = OnceLock::new();
    match KNOWN.get_or_init(|| load_all(&shipped_dir())) {
        Ok(specs) => Ok(specs),
        Err(e) => Err(e.clone()),
    }
}

/// Looks a known foreign target up (`Ok(None)`: no description names it).
pub fn spec(triple: &str) -> Result<Option<&'static TargetSpec>, TargetError> {
    Ok(known()?.iter().find(|t| t.triple == triple))
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
    /// `--remote HOST:PORT`: an agent serving on a device.
    Remote(String),
    /// An offline kit's directory (`cargo xtask kit`, `import`).
    Kit(String),
}

impl fmt::Display for RunnerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunnerSource::CommandLine => f.write_str("--runner"),
            RunnerSource::Environment(var) => write!(f, "${var}"),
            RunnerSource::Config(path) => write!(f, "{}", path.display()),
            RunnerSource::Default => f.write_str("default"),
            RunnerSource::Remote(addr) => write!(f, "--remote {addr}"),
            RunnerSource::Kit(dir) => write!(f, "offline kit {dir}"),
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
