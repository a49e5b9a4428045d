//! `cargo xtask`: the project's commands (see `cargo xtask --help`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use exitmatrix::cli::{self, MatrixArgs};

/// exitmatrix's tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Xtask {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the probes, run every behaviour × build × reaper, compare with
    /// the target's profile, print a table and write a JSON report.
    /// Exits 0 if everything conforms, 1 on a deviation, 2 on a usage or
    /// configuration error, 3 if some cell could not be observed.
    TestMatrix(MatrixArgs),
}

fn main() -> ExitCode {
    let xtask = Xtask::parse();
    let code = match &xtask.command {
        Command::TestMatrix(args) => {
            cli::test_matrix(args, &mut std::io::stdout(), &mut std::io::stderr())
        }
    };
    ExitCode::from(code)
}
