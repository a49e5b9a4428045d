//! `cargo xtask`: the project's commands (see `cargo xtask --help`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use exitmatrix::cli::{self, MatrixArgs};

mod bench_report;
mod compare;
mod install;
mod platforms;
mod serve;
mod totality;
mod wine_host;

/// exitmatrix's tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Xtask {
    #[command(subcommand)]
    command: Command,
}

// Several variants hold a whole `MatrixArgs` (test-matrix, kit, import), so
// no variant is much larger than the others and `large_enum_variant` does
// not fire.
#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process; boxing would only obscure clap's derive"
)]
enum Command {
    /// Build the probes, run every behaviour × build × reaper, compare with
    /// the target's profile, print a table and write a JSON report.
    /// Exits 0 if everything conforms, 1 on a deviation, 2 on a usage or
    /// configuration error, 3 if some cell could not be observed.
    TestMatrix(MatrixArgs),
    /// Turn the results of `cargo bench` into Markdown ratio tables (each
    /// method against the fastest of the same run) and check the benches'
    /// goals; `--matrix` first measures the matrix's -j2 speed-up over -j1.
    BenchReport(bench_report::BenchReportArgs),
    /// Decode every possible raw input (all 2^32 wait statuses under each
    /// wait layout, every si_code) and check that nothing panics and every
    /// result is in range. Run it in release mode:
    /// `cargo run --release --package xtask -- decoder-totality`.
    DecoderTotality,
    /// Install the optional parts, idempotently: `observers` (shells,
    /// python3, Chromium), `targets` (foreign toolchains and runners),
    /// `systems` (DOSBox, vamos), `platforms` (a private Rust 1.96); with
    /// none named, observers and targets. `--check` only lists what is
    /// missing (exit 1 if anything is).
    Install(install::InstallArgs),
    /// Install the foreign targets' toolchains and runners (Debian's rustc
    /// 1.63 and target std, cross compilers, qemu-user, Wine), idempotently:
    /// runs scripts/install-targets.sh.
    InstallTargets {
        /// Also the extra targets (`standard = false` in targets/: armv7, powerpc64le, s390x).
        #[arg(long)]
        extra: bool,
        /// Only say what is missing; exit 1 if anything is.
        #[arg(long)]
        check: bool,
    },
    /// Type-check the workspace (and the agent) for macOS, the BSDs,
    /// illumos and Windows with a private Rust 1.96 that builds std from
    /// source (installed by scripts/install-rust-web.sh if missing).
    CheckPlatforms(platforms::CheckPlatformsArgs),
    /// Compare two reports (a `report-<target>.json` or a `compat.json` each):
    /// list the cells whose value, verdict, expectation, rule or citation
    /// changed, and those only one side has. Exits 0 when nothing changed,
    /// 1 when anything did, 2 when a file cannot be read.
    Compare(compare::CompareArgs),
    /// Build the harness and the probes for x86_64-pc-windows-gnu (private
    /// Rust 1.96, mingw-w64) and run the harness inside Wine as a native
    /// Windows host: `cargo xtask wine-host -- ARGS` passes ARGS to its
    /// test-matrix; `--tests` runs the harness's tests under Wine instead.
    /// Exit codes are test-matrix's (5: a build failed; 1 also when a
    /// process of the run was left behind).
    WineHost(wine_host::WineHostArgs),
    /// Build the in-target agent for a foreign --target and run
    /// `exitmatrix-agent serve` under its local runner (qemu-user, Wine),
    /// so that `test-matrix --target T --remote ADDR --token TOK` can be
    /// tried on this machine. For trusted networks only.
    Serve(serve::ServeArgs),
    /// Write an offline kit for a foreign --target (its agent, its probes
    /// and a POSIX sh script, in one tar) for a device nothing can reach.
    /// Takes test-matrix's selection options (-b, --build, --profile).
    Kit(MatrixArgs),
    /// Check an offline kit's results (the directory `run.sh` ran in, or a
    /// tar of it) against the profile, as a direct run would; exits as
    /// test-matrix does.
    Import {
        /// The kit directory or archive.
        path: std::path::PathBuf,
        #[command(flatten)]
        args: MatrixArgs,
    },
}

fn main() -> ExitCode {
    let xtask = Xtask::parse();
    let code = match &xtask.command {
        Command::TestMatrix(args) => {
            // A child subreaper sees (and ends, and reports) what leaves a
            // probe's process group. Linux only; elsewhere such processes
            // go to init unseen, as the README says. Only this process, not
            // a test binary that calls the library, may take every orphan.
            let _ = exitmatrix::process::orphans::adopt();
            cli::test_matrix(args, &mut std::io::stdout(), &mut std::io::stderr())
        }
        Command::BenchReport(args) => match bench_report::run(args) {
            Ok(markdown) => {
                print!("{markdown}");
                0
            }
            Err(message) => {
                eprintln!("error: {message}");
                2
            }
        },
        Command::DecoderTotality => totality::run(),
        Command::CheckPlatforms(args) => platforms::run(args),
        Command::Compare(args) => compare::run(args),
        Command::WineHost(args) => wine_host::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Kit(args) => cli::kit(args, &mut std::io::stdout(), &mut std::io::stderr()),
        Command::Import { path, args } => {
            cli::import(args, path, &mut std::io::stdout(), &mut std::io::stderr())
        }
        Command::Install(args) => return install::run(args),
        Command::InstallTargets { extra, check } => {
            exitmatrix::toolchain::runners::install(*extra, *check)
        }
    };
    ExitCode::from(code)
}
