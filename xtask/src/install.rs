//! `cargo xtask install`: the optional parts, each installed by its own
//! idempotent script under `scripts/`, or only checked with `--check`.
//!
//! | part | script | what |
//! |---|---|---|
//! | `observers` | `install-observers.sh` | the eight shells, Plan 9's rc (9base), python3, a JDK (java, javac), Chromium |
//! | `targets` | `install-targets.sh` | Debian's rustc 1.63, target std, cross C compilers, qemu-user, Wine |
//! | `systems` | `install-systems.sh` | DOSBox, and vamos in a private Python environment |
//! | `platforms` | `install-rust-web.sh` | a private Rust 1.96 for `check-platforms` |
//!
//! With no part named, `observers` and `targets` (what `--all-targets` and
//! the test suite use) are installed.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

/// One optional part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// The shells, Plan 9's rc, python3, a JDK and Chromium.
    Observers,
    /// The foreign targets' toolchains and runners.
    Targets,
    /// The older systems' emulators (DOSBox, vamos).
    Systems,
    /// A private Rust 1.96 for type-checking other OSes.
    Platforms,
}

impl Part {
    fn script(self) -> &'static str {
        match self {
            Part::Observers => "install-observers.sh",
            Part::Targets => "install-targets.sh",
            Part::Systems => "install-systems.sh",
            Part::Platforms => "install-rust-web.sh",
        }
    }
}

/// Arguments of `install`.
#[derive(Clone, Debug, Args)]
pub struct InstallArgs {
    /// What to install (default: observers and targets).
    #[arg(value_enum)]
    pub parts: Vec<Part>,
    /// With `targets`: also the targets `--all-targets` does not run.
    #[arg(long)]
    pub extra: bool,
    /// Only say what is missing; exit 1 if anything is.
    #[arg(long)]
    pub check: bool,
}

/// Runs each part's script in turn; the exit code is the first failure's,
/// else 0.
pub fn run(args: &InstallArgs) -> ExitCode {
    let parts = if args.parts.is_empty() {
        vec![Part::Observers, Part::Targets]
    } else {
        args.parts.clone()
    };
    let root = exitmatrix::toolchain::probes::workspace_root();
    let mut code = 0u8;
    for part in parts {
        let script = root.join("scripts").join(part.script());
        let mut words: Vec<&str> = Vec::new();
        if args.check {
            words.push("--check");
        }
        if args.extra && part == Part::Targets {
            words.push("--extra");
        }
        #[expect(clippy::disallowed_methods, reason = "an installer, not a probe")]
        let status = std::process::Command::new("bash")
            .arg(&script)
            .args(&words)
            .status();
        let this = match status {
            Ok(s) => s.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1),
            Err(e) => {
                eprintln!("error: cannot run {}: {e}", script.display());
                2
            }
        };
        if code == 0 {
            code = this;
        }
    }
    ExitCode::from(code)
}
