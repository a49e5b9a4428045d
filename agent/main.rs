//! exitmatrix-agent: the in-target reaper.
//!
//! The harness builds this program for the target being checked (with
//! Debian's rustc 1.63, no dependencies) and runs it under the target's
//! runner. It starts one probe with the target's own process API, waits for
//! it, and writes what it saw, raw, to a report file in the line format
//! below. The host parses the file (`exitmatrix::engine::agent::parse`) and decodes
//! it with the target's conventions.
//!
//! ```text
//! agent --report FILE --timeout-ms N --grace-ms N
//!       --sigterm N --sigkill N --sigcont N [--stay-stopped]
//!       [--dir DIR --core 0|1] -- PROGRAM ARGS...
//! ```
//!
//! With `--dir` (the offline kit's `run.sh`, and the server) the probe
//! starts in `DIR` with an empty environment (on Unix), its output in
//! `DIR/.exitmatrix-stdout` and `.exitmatrix-stderr`; `--core 1` gives it
//! the hard core limit, `--core 0` one byte (no core).
//!
//! On Unix `PROGRAM ARGS...` is the whole command line of the probe, runner
//! words first: a foreign binary cannot be executed by the host kernel, so
//! under qemu-user the agent starts `qemu-<arch> ... probe args`, which the
//! emulator passes straight to the host. The signal numbers are the target's
//! (the harness resolves them from the profile's table): the agent carries
//! no signal table. On Windows the signal options are accepted and unused.
//!
//! # The report file (version 1)
//! One record per line, words separated by one space:
//!
//! ```text
//! exitmatrix-agent 1 unix|windows
//! waitid <si_code> <si_status>        Unix: one per state, peeked with WNOWAIT
//! waitpid <status>                     Unix: the raw status word, hex (0x...)
//! std exit <code> | std signal <n> [core] | std other <status>
//!                                      Unix: the final status read through the
//!                                      target's std ExitStatus
//! exit-code <code>                     Windows: GetExitCodeProcess, hex, 32 bits
//! watchdog <what>                      the agent's own timeout acted: SIGTERM,
//!                                      SIGKILL, TerminateJobObject (or
//!                                      TerminateProcess if no job)
//! error <text>                         the agent could not do its job
//! group <pgid>                        Unix: the probe's process group (its
//!                                      pid), once it is started
//! leaked <pid> <name>                  Linux: a process that left the probe's
//!                                      group (its name from /proc), killed
//!                                      and reaped by the agent
//! end
//! ```
//!
//! On Linux the agent is a child subreaper (prctl(2)): when the probe has
//! ended, what it left in its process group is killed (the group was sent
//! SIGKILL), re-parented to the agent and reaped by pid; what left the
//! group is reported as `leaked` (see `unix.rs`, `sweep`).
//!
//! The agent exits 0 once `end` is written, 2 on a usage error and 3 when
//! it cannot write its report.
//!
//! # Serving (the remote runner)
//! ```text
//! agent serve --token TOKEN [--listen ADDR] [--dir DIR] [--under KIND] [-- RUNNER WORDS...]
//! ```
//! listens on `ADDR` (default `127.0.0.1:7878`, loopback) and runs the
//! cases a host sends it over the protocol of `harness/src/pure/remote.rs`
//! (see `serve.rs`). It is for trusted networks only: the token keeps out
//! a stray client, not an attacker who can read the traffic.
//!
//! This file must build with rustc 1.63: no `let ... else`, no `OnceLock`.

use std::env;
use std::fs::File;
use std::io::Write;
use std::process;

#[cfg(unix)]
#[path = "unix.rs"]
mod os;
#[cfg(windows)]
#[path = "windows.rs"]
mod os;

#[allow(dead_code)]
#[path = "../harness/src/pure/remote.rs"]
mod protocol;
mod serve;

/// What the harness asked for.
#[derive(Debug)]
pub struct Request {
    /// The report file.
    pub report: String,
    /// Milliseconds before the probe's group gets `sigterm`.
    pub timeout_ms: u64,
    /// Milliseconds between `sigterm` and `sigkill`.
    pub grace_ms: u64,
    /// The target's SIGTERM.
    pub sigterm: i32,
    /// The target's SIGKILL.
    pub sigkill: i32,
    /// The target's SIGCONT.
    pub sigcont: i32,
    /// Whether a stopped probe is left stopped (else it is continued).
    pub stay_stopped: bool,
    /// The command line to start.
    pub argv: Vec<String>,
    /// When serving: the probe's working directory, where its standard
    /// output and error go too (`None`: inherit the agent's).
    pub dir: Option<String>,
    /// When serving: whether the case expects a core dump (else the
    /// probe's core limit is one byte); `None` leaves the limit as it is.
    pub core: Option<bool>,
}

/// The file names of a served probe's output, in its directory (those of
/// `harness/src/process/spawn.rs`).
pub const STDOUT_FILE: &str = ".exitmatrix-stdout";
/// See [`STDOUT_FILE`].
pub const STDERR_FILE: &str = ".exitmatrix-stderr";

/// What `--help` prints: both ways to run the agent.
pub const HELP: &str = "\
exitmatrix-agent: the in-target reaper of exitmatrix. The harness starts it
(under the target's runner, over `--remote`, or from an offline kit's run.sh);
run by hand it is for bringing a target up.

usage:
  exitmatrix-agent --report FILE [--timeout-ms N] [--grace-ms N]
      [--sigterm N] [--sigkill N] [--sigcont N] [--stay-stopped]
      [--dir DIR --core 0|1] -- PROGRAM ARGS...
    Starts PROGRAM once, waits for it with the target's own process API and
    writes what it saw, raw, to FILE (exit 0; 2 on a usage error, 3 if FILE
    cannot be written). The signal numbers are the target's.

  exitmatrix-agent serve --token TOKEN [--listen ADDR] [--dir DIR]
      [--under KIND] [--in-place] [-- RUNNER WORDS...]
    Serves cases to `cargo xtask test-matrix --target T --remote ADDR
    --token TOKEN` on the host. ADDR defaults to 127.0.0.1:7878 (loopback);
    for trusted networks only.
";

fn usage(why: &str) -> ! {
    eprintln!("exitmatrix-agent: {why} (see exitmatrix-agent --help)");
    process::exit(2)
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> T {
    match value.as_deref().map(str::parse) {
        Some(Ok(n)) => n,
        _ => usage(&format!("{flag} takes a number")),
    }
}

fn parse_args() -> Request {
    let mut args = env::args().skip(1);
    let mut req = Request {
        report: String::new(),
        timeout_ms: 10_000,
        grace_ms: 500,
        sigterm: 15,
        sigkill: 9,
        sigcont: 18,
        stay_stopped: false,
        argv: Vec::new(),
        dir: None,
        core: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--report" => req.report = args.next().unwrap_or_else(|| usage("--report FILE")),
            "--timeout-ms" => req.timeout_ms = number(&arg, args.next()),
            "--grace-ms" => req.grace_ms = number(&arg, args.next()),
            "--sigterm" => req.sigterm = number(&arg, args.next()),
            "--sigkill" => req.sigkill = number(&arg, args.next()),
            "--sigcont" => req.sigcont = number(&arg, args.next()),
            "--stay-stopped" => req.stay_stopped = true,
            "--dir" => req.dir = Some(args.next().unwrap_or_else(|| usage("--dir DIR"))),
            "--core" => req.core = Some(number::<u8>(&arg, args.next()) != 0),
            "--help" | "-h" => {
                print!("{HELP}");
                process::exit(0)
            }
            "--" => {
                req.argv = args.by_ref().collect();
                break;
            }
            other => usage(&format!("unknown option {other}")),
        }
    }
    if req.report.is_empty() || req.argv.is_empty() {
        usage("usage: exitmatrix-agent --report FILE [options] -- PROGRAM ARGS...");
    }
    req
}

/// Runs `req` and returns the report text.
pub fn report_of(req: &Request) -> String {
    let mut lines = vec![format!("exitmatrix-agent 1 {}", os::FAMILY)];
    if let Err(e) = os::run(req, &mut lines) {
        lines.push(format!("error {}", e.replace('\n', " ")));
    }
    lines.push("end".to_owned());
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn main() {
    if env::args().nth(1).as_deref() == Some("serve") {
        process::exit(serve::main(env::args().skip(2).collect()));
    }
    let req = parse_args();
    let text = report_of(&req);
    let written = File::create(&req.report).and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        eprintln!("exitmatrix-agent: cannot write {}: {}", req.report, e);
        process::exit(3);
    }
}
