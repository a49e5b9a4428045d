//! The targets exitmatrix knows, as data: each one's family, signal table,
//! wait layout, how its probes are built, and how it runs by default; and
//! what a runner is (its words, kind and source).
//!
//! Finding a runner on this machine and checking that a target's toolchain
//! is installed is I/O, and lives in [`crate::toolchain::runners`].

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::pure::catalogue::Build;
use crate::pure::observers::{AGENT, HOST_VIA_RUNNER};

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
            (Family::Windows, Capability::UndefinedInstruction) => true,
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
    /// Its architecture, as Rust's `target_arch` names it.
    pub arch: &'static str,
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
    /// `<cache>/foreign/sysroots/<arch>` (`None`: installed in `/usr`).
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
        arch: "x86",
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
        arch: "aarch64",
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
        arch: "mips64",
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
        arch: "x86_64",
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
        arch: "wasm32",
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
        arch: "s390x",
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
