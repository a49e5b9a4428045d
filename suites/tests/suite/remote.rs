//! The remote runner: the wire protocol (`pure::remote`), the agent as a
//! server (`exitmatrix-agent serve`) natively and under qemu-user and
//! Wine on loopback, `test-matrix --remote` against the local runner, a
//! server killed mid-run, and a wrong token.
//!
//! The expected values come from the protocol's definition in
//! `harness/src/pure/remote.rs`, from POSIX's wait status layout
//! (`WEXITSTATUS` is bits 8–15 on Linux, `<bits/waitstatus.h>`), and, for
//! the end-to-end tests, from the local runner's own report of the same
//! cells, run back to back: the remote path must agree with it cell for
//! cell, not with a value written here.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use exitmatrix::cli::{self, ExitCode, MatrixArgs};
use exitmatrix::engine::agent::{self, View};
use exitmatrix::engine::foreign::WineRun;
use exitmatrix::engine::remote::{self, Remote, RemoteAddr};
use exitmatrix::observers::observe::Case;
use exitmatrix::process::spawn::Invocation;
use exitmatrix::pure::catalogue::{Build, ProbeBin};
use exitmatrix::pure::decode::{StateChange, WaitConventions};
use exitmatrix::pure::remote::{decode, decode_stream, encode, frame_len, Message, MAX_FRAME};
use exitmatrix::pure::target;
use proptest::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{probes, root, target_dir};

// ---------------------------------------------------------------------------
// The protocol.
// ---------------------------------------------------------------------------

fn samples() -> Vec<Message> {
    vec![
        Message::Hello {
            version: 1,
            token: "sekrit".into(),
        },
        Message::Welcome {
            version: 1,
            family: "unix".into(),
            under: "qemu-user".into(),
            runner: vec!["/usr/bin/qemu-aarch64".into(), "-L".into(), "/x".into()],
        },
        Message::Refused {
            reason: "wrong token".into(),
        },
        Message::Put {
            name: "00ff-probe".into(),
            data: vec![0x7f, b'E', b'L', b'F'],
        },
        Message::Stored {
            name: "00ff-probe".into(),
        },
        Message::Run {
            id: 9,
            program: "00ff-probe".into(),
            args: vec!["exit".into(), "25".into()],
            timeout_ms: 10_000,
            grace_ms: 500,
            sigterm: 15,
            sigkill: 9,
            sigcont: 18,
            stay_stopped: true,
            core: false,
        },
        Message::Ran {
            id: 9,
            report: "exitmatrix-agent 1 unix\nend\n".into(),
            stdout: b"out".to_vec(),
            stderr: Vec::new(),
            cores: vec!["core.12".into()],
        },
        Message::Failed {
            reason: "no stored program `x`".into(),
        },
    ]
}

#[test]
fn every_message_survives_a_round_trip() {
    let messages = samples();
    let mut stream = Vec::new();
    for m in &messages {
        let frame = encode(m);
        // The header is the body's length, big-endian (pure/remote.rs).
        let len = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
        assert_eq!(len, frame.len() - 4);
        assert_eq!(decode(&frame[4..]).as_ref(), Ok(m));
        stream.extend(frame);
    }
    assert_eq!(decode_stream(&stream).unwrap(), messages);
}

#[test]
fn garbage_is_an_error_never_a_message() {
    let run = encode(&samples()[5]);
    let body = &run[4..];
    // Cut anywhere inside: an error, never a shorter message.
    for cut in 0..body.len() {
        assert!(decode(&body[..cut]).is_err(), "cut at {cut} decoded");
    }
    // A byte more: refused.
    let mut longer = body.to_vec();
    longer.push(0);
    assert!(decode(&longer).unwrap_err().0.contains("after the message"));
    // An unknown kind, a flag that is neither 0 nor 1.
    assert!(decode(&[0xee])
        .unwrap_err()
        .0
        .contains("unknown message kind"));
    let mut flag = body.to_vec();
    *flag.last_mut().unwrap() = 2;
    assert!(decode(&flag).unwrap_err().0.contains("neither 0 nor 1"));
    // A frame larger than the limit, or empty.
    let big = u32::try_from(MAX_FRAME + 1).unwrap().to_be_bytes();
    assert!(frame_len(big).is_err());
    assert!(frame_len([0; 4]).is_err());
    // A stream cut inside a frame (a lost connection) is an error.
    assert!(decode_stream(&run[..run.len() - 1]).is_err());
}

#[test]
fn a_put_cannot_name_a_path() {
    for name in ["../x", "a/b", "a\\b", "..", ".", "", "c:x"] {
        let frame = encode(&Message::Put {
            name: name.into(),
            data: Vec::new(),
        });
        assert!(decode(&frame[4..]).is_err(), "{name:?} was accepted");
    }
}

proptest! {
    #[test]
    fn decoding_any_bytes_is_total(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(m) = decode(&bytes) {
            prop_assert_eq!(&encode(&m)[4..], &bytes[..]);
        }
        let _ = decode_stream(&bytes);
    }
}

// ---------------------------------------------------------------------------
// The server, started here.
// ---------------------------------------------------------------------------

/// A running `exitmatrix-agent serve`; killed (by its pid) when dropped,
/// and then, under Wine, its hold on the shared prefix released.
struct Server {
    child: Child,
    addr: String,
    dir: TempDir,
    wine: Option<WineRun>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const TOKEN: &str = "exitmatrix-test-token";

/// Starts `words` (a server's command line) and reads the address it says
/// it listens on.
fn start(words: &[String], dir: TempDir, wine: Option<WineRun>) -> Server {
    #[expect(clippy::disallowed_methods, reason = "starts the server, not a probe")]
    let mut child = Command::new(&words[0])
        .args(&words[1..])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {words:?}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_prefix("exitmatrix-agent: listening on ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("the server said {line:?}, not where it listens ({words:?})"))
        .to_owned();
    Server {
        child,
        addr,
        dir,
        wine,
    }
}

/// The server of a foreign target under its local runner, as `cargo xtask
/// serve` starts it, on an ephemeral loopback port. Under Wine it holds
/// the shared prefix until dropped: a Windows run of this process waits
/// for that, so none may run while the server is there.
fn serve(triple: &str) -> Server {
    let spec = target::spec(triple).unwrap().unwrap();
    let dir = TempDir::new().unwrap();
    let serve = remote::serve_command(spec, "127.0.0.1:0", TOKEN, Some(dir.path()), &target_dir())
        .unwrap_or_else(|e| panic!("{e}"));
    start(&serve.words, dir, serve.wine)
}

/// The agent built for this host by the `rustc` on the path, serving
/// natively.
fn serve_natively() -> Server {
    let dir = TempDir::new().unwrap();
    let agent = dir.path().join("exitmatrix-agent");
    #[expect(clippy::disallowed_methods, reason = "builds the agent, not a probe")]
    let built = Command::new("rustc")
        .args(["--edition", "2021", "-Copt-level=1", "-o"])
        .arg(&agent)
        .arg(root().join("agent/main.rs"))
        .status()
        .unwrap();
    assert!(built.success(), "rustc agent/main.rs: {built}");
    let words: Vec<String> = [
        agent.display().to_string(),
        "serve".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--token".into(),
        TOKEN.into(),
        "--dir".into(),
        dir.path().join("work").display().to_string(),
    ]
    .into();
    start(&words, dir, None)
}

#[test]
fn the_server_binds_to_loopback_and_wants_a_token() {
    let dir = TempDir::new().unwrap();
    let agent = dir.path().join("exitmatrix-agent");
    #[expect(clippy::disallowed_methods, reason = "builds the agent, not a probe")]
    let built = Command::new("rustc")
        .args(["--edition", "2021", "-Copt-level=0", "-o"])
        .arg(&agent)
        .arg(root().join("agent/main.rs"))
        .status()
        .unwrap();
    assert!(built.success());
    #[expect(clippy::disallowed_methods, reason = "the agent's usage error")]
    let out = Command::new(&agent).arg("serve").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "agent/main.rs: 2 on a usage error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--token is required"));
    // agent/serve.rs: DEFAULT_LISTEN is loopback.
    let source = std::fs::read_to_string(root().join("agent/serve.rs")).unwrap();
    assert!(source.contains("pub const DEFAULT_LISTEN: &str = \"127.0.0.1:"));

    // A porter on a device types --help: both ways to run it, on stdout,
    // exit 0, with the default address serve.rs really uses.
    let listen = source
        .split("pub const DEFAULT_LISTEN: &str = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    for args in [&["--help"][..], &["serve", "--help"]] {
        #[expect(clippy::disallowed_methods, reason = "the agent's help")]
        let out = Command::new(&agent).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("--report FILE"), "{help}");
        assert!(help.contains("serve --token TOKEN"), "{help}");
        assert!(help.contains(listen), "{help}");
    }
    // Anything else it does not know: one line that points to --help.
    #[expect(clippy::disallowed_methods, reason = "the agent's usage error")]
    let out = Command::new(&agent).arg("--nosuch").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("unknown option --nosuch") && err.contains("--help"),
        "{err}"
    );
}

fn case_of<'a>(invocation: &'a Invocation, wait: &'a WaitConventions, core: bool) -> Case<'a> {
    Case {
        invocation,
        core,
        wait,
        timeout: Duration::from_secs(10),
        grace: Duration::from_millis(500),
        continue_stops: true,
        interrupt: None,
    }
}

#[test]
fn a_native_server_runs_the_hosts_probes_as_their_parent() {
    let server = serve_natively();
    let remote = Remote::connect(&RemoteAddr {
        addr: server.addr.clone(),
        token: TOKEN.into(),
    })
    .unwrap();
    assert_eq!(remote.welcome().family, "unix");
    assert_eq!(remote.welcome().under, "native");
    let program = probes().path(Build::Abort, ProbeBin::Probe).unwrap();
    let wait = WaitConventions::LINUX;
    // The probe's canary verb prints its nonce and exits with the code.
    let invocation = Invocation {
        runner: Vec::new(),
        program: program.clone(),
        args: vec!["canary".into(), "nonce-41".into(), "41".into()],
    };
    let (_, report, leftovers) = remote
        .run(&case_of(&invocation, &wait, false), (15, 9, 18))
        .unwrap();
    // POSIX: WEXITSTATUS is the low 8 bits of the code, bits 8-15 of the
    // Linux status word (<bits/waitstatus.h>).
    assert_eq!(report.waitpid, [41 << 8]);
    let states = agent::states(&report, View::WaitId, &wait).unwrap();
    assert_eq!(states[0].change, StateChange::Exited { code: 41 });
    assert_eq!(
        String::from_utf8_lossy(&leftovers.stdout).trim_end(),
        "nonce-41"
    );
    // A second case on the same connection, the probe already stored.
    let stop = Invocation {
        runner: Vec::new(),
        program,
        args: vec!["raise".into(), "19".into()],
    };
    let (_, report, _) = remote
        .run(&case_of(&stop, &wait, false), (15, 9, 18))
        .unwrap();
    // Stopped by SIGSTOP (19 on x86_64), continued by the agent, then the
    // probe returns (agent/unix.rs). The "continued" report is seen only
    // if the agent's wait runs before the continued probe exits: Linux
    // replaces an uncollected continued state with the exit (wait(2),
    // WCONTINUED), a race POSIX leaves open and a loaded machine loses.
    let seen: Vec<StateChange> = agent::states(&report, View::WaitPid, &wait)
        .unwrap()
        .iter()
        .map(|o| o.change)
        .collect();
    assert!(matches!(seen[0], StateChange::Stopped { .. }), "{report:?}");
    assert_eq!(
        seen.last(),
        Some(&StateChange::Exited { code: 0 }),
        "{report:?}"
    );
    match seen.len() {
        3 => assert_eq!(seen[1], StateChange::Continued, "{report:?}"),
        2 => {}
        _ => panic!("stopped, [continued,] exited expected: {report:?}"),
    }
    assert!(remote.failure().is_none());
    drop(server);
}

#[test]
fn a_wrong_token_is_one_clear_line() {
    let server = serve_natively();
    let error = Remote::connect(&RemoteAddr {
        addr: server.addr.clone(),
        token: "not-the-token".into(),
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "remote agent {} refused the connection: wrong token",
            server.addr
        )
    );
    // Through the command: exit 7 (the runner could not be prepared), one
    // line, no report. The target's profile loads before the connection,
    // so no cross toolchain is needed to get there.
    let out = TempDir::new().unwrap();
    let run = command(
        out.path(),
        &[
            "--target",
            "aarch64-unknown-linux-gnu",
            "--remote",
            &server.addr,
            "--token",
            "not-the-token",
        ],
    );
    assert_eq!(run.0, ExitCode::Runner.code(), "{run:?}");
    assert_eq!(
        run.2.trim_end(),
        format!(
            "error: remote agent {} refused the connection: wrong token",
            server.addr
        )
    );
}

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: MatrixArgs,
}

/// Runs `test-matrix` in process: exit code, stdout, stderr.
fn command(out: &Path, args: &[&str]) -> (u8, String, String) {
    let mut argv: Vec<String> = vec![
        "test-matrix".into(),
        "--target-dir".into(),
        target_dir().display().to_string(),
        "--out-dir".into(),
        out.display().to_string(),
        "--format".into(),
        "summary".into(),
    ];
    argv.extend(args.iter().map(|s| (*s).to_owned()));
    let parsed = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{e}"));
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = cli::test_matrix(&parsed.args, &mut stdout, &mut stderr);
    (
        code,
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

fn report(out: &Path, triple: &str) -> Value {
    let path = out.join(format!("report-{triple}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// (behaviour, build, observer) → (verdict, final state) for the columns
/// the agent fills (not the host's view, which a remote has not). Only the
/// final state: a probe continued from a stop may exit before the agent
/// peeks at the continuation, so `continued` comes and goes between runs,
/// local or remote alike (the profiles accept both).
fn verdicts(report: &Value) -> BTreeMap<(String, String, String), (String, String)> {
    report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["observer"] != "host-via-runner")
        .map(|c| {
            let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
            (
                (s(&c["behaviour"]), s(&c["build"]), s(&c["observer"])),
                (
                    s(&c["verdict"]),
                    s(&c["observed_text"])
                        .rsplit(", ")
                        .next()
                        .unwrap_or("")
                        .to_owned(),
                ),
            )
        })
        .collect()
}

/// Runs `behaviours` of `triple` through the local runner, then through a
/// server under the same runner, and checks that every agent cell has the
/// same verdict and the same observed value.
fn remote_agrees_with_local(triple: &str, behaviours: &[&str]) {
    let mut selection: Vec<&str> = vec!["--target", triple, "-j", "2"];
    for b in behaviours {
        selection.extend(["-b", b]);
    }
    let local_out = TempDir::new().unwrap();
    let local = command(local_out.path(), &selection);
    // The served phase after the local one, never beside it: under Wine
    // both hold the shared prefix's lock, and this process asking for it
    // a second time while it holds it would wait for ever.
    let server = serve(triple);
    assert_eq!(
        server.wine.is_some(),
        target::spec(triple).unwrap().unwrap().family == target::Family::Windows,
        "a server under Wine, and only one, holds the shared prefix"
    );
    let addr = server.addr.clone();
    let remote_out = TempDir::new().unwrap();
    let mut remote_args = selection.clone();
    remote_args.extend(["--remote", &addr, "--token", TOKEN]);
    let remote = command(remote_out.path(), &remote_args);
    drop(server);
    // Not the exit codes: the local run's own `host-via-runner` column,
    // which a remote has not, can decide the local one (under load the
    // host has been seen to deviate there).
    assert!(
        remote.0 == ExitCode::Conforms.code() || remote.0 == ExitCode::Deviates.code(),
        "local: {local:?}\nremote: {remote:?}"
    );
    let local = verdicts(&report(local_out.path(), triple));
    let remote_report = report(remote_out.path(), triple);
    let remote = verdicts(&remote_report);
    assert!(!local.is_empty());
    assert_eq!(remote, local);
    assert_eq!(
        remote_report["foreign"]["runner"]["source"]["remote"],
        addr.as_str()
    );
}

#[test]
#[cfg_attr(
    not(have_target_aarch64_unknown_linux_gnu),
    ignore = "target aarch64-unknown-linux-gnu is not installed: cargo xtask install-targets"
)]
fn aarch64_over_the_remote_agrees_with_the_local_runner() {
    remote_agrees_with_local(
        "aarch64-unknown-linux-gnu",
        &[
            "exit-",
            "raise-SIGSTOP",
            "raise-SIGABRT",
            "c-abort",
            "panic",
            "sigpipe",
            "sleep",
        ],
    );
}

#[test]
#[cfg_attr(
    not(have_target_x86_64_pc_windows_gnu),
    ignore = "target x86_64-pc-windows-gnu is not installed: cargo xtask install-targets"
)]
fn windows_over_the_remote_agrees_with_the_local_runner() {
    remote_agrees_with_local(
        "x86_64-pc-windows-gnu",
        &["exit-", "c-abort", "panic", "abort", "ntstatus"],
    );
}

#[test]
#[cfg_attr(
    not(have_target_mips64el_unknown_linux_gnuabi64),
    ignore = "target mips64el-unknown-linux-gnuabi64 is not installed: cargo xtask install-targets"
)]
fn mips64el_serves_under_qemu() {
    let server = serve("mips64el-unknown-linux-gnuabi64");
    let out = TempDir::new().unwrap();
    let run = command(
        out.path(),
        &[
            "--target",
            "mips64el-unknown-linux-gnuabi64",
            "-b",
            "exit-25",
            "-b",
            "raise-SIGSTOP",
            "--remote",
            &server.addr,
            "--token",
            TOKEN,
        ],
    );
    assert_eq!(run.0, ExitCode::Conforms.code(), "{run:?}");
    let r = report(out.path(), "mips64el-unknown-linux-gnuabi64");
    // SIGSTOP is 23 on MIPS (arch/mips/include/uapi/asm/signal.h): the
    // agent's raw waitpid word for the stop is 0x177f.
    let stop = r["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["behaviour"] == "raise-SIGSTOP" && c["observer"] == "waitpid")
        .unwrap();
    assert_eq!(stop["verdict"], "conforms");
    assert_eq!(stop["observed"][0]["raw_text"], "0x177f", "{stop}");
}

#[test]
#[cfg_attr(
    not(have_target_aarch64_unknown_linux_gnu),
    ignore = "target aarch64-unknown-linux-gnu is not installed: cargo xtask install-targets"
)]
fn a_server_killed_mid_run_leaves_cells_not_observed() {
    let triple = "aarch64-unknown-linux-gnu";
    let mut server = serve(triple);
    let files = server.dir.path().join("files");
    let out = TempDir::new().unwrap();
    let addr = server.addr.clone();
    let run = std::thread::scope(|scope| {
        let running = scope.spawn(|| {
            command(
                out.path(),
                &[
                    "--target", triple, "-j", "1", "-b", "exit-", "-b", "raise-", "-b", "sleep",
                    "--remote", &addr, "--token", TOKEN,
                ],
            )
        });
        // The canary stores one probe; a second file means cells are
        // running. Then the server goes.
        let started = Instant::now();
        while std::fs::read_dir(&files).map_or(0, |d| d.count()) < 2 {
            assert!(started.elapsed() < Duration::from_secs(300), "no cell ran");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        running.join().unwrap()
    });
    assert_eq!(run.0, ExitCode::NotObserved.code(), "{run:?}");
    let r = report(out.path(), triple);
    let s = &r["summary"];
    assert!(s["errors"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s["deviates"], 0, "{s}");
    // Every cell that did not run is an error, never a pass.
    for c in r["cells"].as_array().unwrap() {
        if c["verdict"] == "conforms" || c["verdict"] == "known-divergence" {
            assert!(!c["observed_text"].as_str().unwrap_or("").is_empty(), "{c}");
        } else {
            assert_eq!(c["verdict"], "error", "{c}");
        }
    }
    let lines: Vec<&str> = run
        .1
        .lines()
        .filter(|l| l.starts_with("error: remote agent"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.1);
    assert!(lines[0].ends_with("cells not observed)"), "{}", lines[0]);
}

// ---------------------------------------------------------------------------
// The offline kit.
// ---------------------------------------------------------------------------

#[test]
#[cfg_attr(
    not(have_target_aarch64_unknown_linux_gnu),
    ignore = "target aarch64-unknown-linux-gnu is not installed: cargo xtask install-targets"
)]
fn an_offline_kit_run_under_qemu_gives_the_direct_runs_verdicts() {
    let triple = "aarch64-unknown-linux-gnu";
    let selection = [
        "--target",
        triple,
        "-b",
        "exit-",
        "-b",
        "raise-SIGSTOP",
        "-b",
        "raise-SIGABRT",
        "-b",
        "c-abort",
        "-b",
        "sleep",
    ];
    let made = TempDir::new().unwrap();
    let mut argv = vec!["test-matrix", "--target-dir"];
    let target = target_dir().display().to_string();
    argv.push(&target);
    let out_dir = made.path().display().to_string();
    argv.extend(["--out-dir", &out_dir]);
    argv.extend(selection);
    let args = Cli::try_parse_from(&argv).unwrap().args;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(
        cli::kit(&args, &mut out, &mut err),
        0,
        "{}",
        String::from_utf8_lossy(&err)
    );
    let archive = made.path().join(format!("exitmatrix-kit-{triple}.tar"));
    assert!(archive.is_file());

    // Unpack it elsewhere, as on a device, and run its script there, under
    // qemu-user with an empty environment.
    let device = TempDir::new().unwrap();
    #[expect(clippy::disallowed_methods, reason = "unpacks the kit")]
    let unpacked = Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(device.path())
        .status()
        .unwrap();
    assert!(unpacked.success());
    let kit = device.path().join(format!("exitmatrix-kit-{triple}"));
    let spec = target::spec(triple).unwrap().unwrap();
    let runner = exitmatrix::toolchain::runners::resolve_runner(
        spec,
        None,
        |_| None,
        &[],
        &root(),
        &exitmatrix::toolchain::runners::foreign_dir(&root()),
    )
    .unwrap();
    #[expect(
        clippy::disallowed_methods,
        reason = "the kit's script runs the probes"
    )]
    let ran = Command::new("/bin/sh")
        .arg(kit.join("run.sh"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("EXITMATRIX_RUNNER", runner.words.join(" "))
        .env("EXITMATRIX_UNDER", runner.kind.name())
        .output()
        .unwrap();
    assert!(ran.status.success(), "{ran:?}");

    // Import the results, and run the same selection directly.
    let imported = TempDir::new().unwrap();
    let mut argv = vec![
        "test-matrix",
        "--target-dir",
        &target,
        "--format",
        "summary",
    ];
    let imported_dir = imported.path().display().to_string();
    argv.extend(["--out-dir", &imported_dir]);
    let args = Cli::try_parse_from(&argv).unwrap().args;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::import(&args, &kit, &mut out, &mut err);
    let direct_out = TempDir::new().unwrap();
    let direct = command(direct_out.path(), &selection);
    assert_eq!(
        code,
        direct.0,
        "import: {}{}\ndirect: {direct:?}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    );
    let imported = report(imported.path(), triple);
    assert_eq!(
        verdicts(&imported),
        verdicts(&report(direct_out.path(), triple))
    );
    assert_eq!(imported["foreign"]["runner"]["kind"], "qemu-user");

    // A result lost on the way back is "not observed", never a pass.
    std::fs::remove_file(kit.join("results/2/report")).unwrap();
    let lost = TempDir::new().unwrap();
    let lost_dir = lost.path().display().to_string();
    let mut argv = vec![
        "test-matrix",
        "--target-dir",
        &target,
        "--format",
        "summary",
    ];
    argv.extend(["--out-dir", &lost_dir]);
    let args = Cli::try_parse_from(&argv).unwrap().args;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(
        cli::import(&args, &kit, &mut out, &mut err),
        ExitCode::NotObserved.code()
    );
    assert!(
        report(lost.path(), triple)["summary"]["errors"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn importing_what_is_not_a_kit_is_one_line() {
    let empty = TempDir::new().unwrap();
    let args = Cli::try_parse_from(["test-matrix"]).unwrap().args;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::import(&args, empty.path(), &mut out, &mut err);
    assert_eq!(code, ExitCode::Config.code());
    let err = String::from_utf8(err).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not an offline kit"), "{err}");
}

#[test]
fn importing_a_missing_path_is_one_usage_line() {
    let empty = TempDir::new().unwrap();
    let args = Cli::try_parse_from(["test-matrix"]).unwrap().args;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::import(&args, &empty.path().join("gone"), &mut out, &mut err);
    assert_eq!(code, ExitCode::Usage.code());
    let err = String::from_utf8(err).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no such file or directory"), "{err}");
}

#[test]
fn importing_a_file_that_is_no_archive_is_one_line_with_tars_reason() {
    // `tar`'s own complaint goes into the one line, not onto stderr beside
    // it (it did: three lines before).
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("results.json");
    std::fs::write(&file, "{}\n").unwrap();
    let args = Cli::try_parse_from(["test-matrix"]).unwrap().args;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::import(&args, &file, &mut out, &mut err);
    assert_eq!(code, ExitCode::Config.code());
    let err = String::from_utf8(err).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not an offline kit"), "{err}");
    assert!(err.contains("tar: "), "tar's reason is kept: {err}");
}

#[rstest::rstest]
#[case::the_host(exitmatrix::toolchain::probes::HOST, "is this machine")]
#[case::an_older_system("dos", "runs in its emulator here")]
#[case::no_target("sparc-sun-solaris", "unknown target")]
fn a_kit_for_what_is_not_a_foreign_target_is_one_usage_line(
    #[case] triple: &str,
    #[case] why: &str,
) {
    let out = TempDir::new().unwrap();
    let args = Cli::try_parse_from([
        "kit",
        "--target",
        triple,
        "--out-dir",
        out.path().to_str().unwrap(),
    ])
    .unwrap()
    .args;
    let (mut stdout, mut err) = (Vec::new(), Vec::new());
    let code = cli::kit(&args, &mut stdout, &mut err);
    assert_eq!(code, ExitCode::Usage.code());
    let err = String::from_utf8(err).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(why), "{err}");
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

/// A fake device: welcomes the host as the protocol says, then answers
/// every request with `answer`'s bytes and closes.
fn fake_device(answer: &'static [u8]) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let read_frame = |stream: &mut std::net::TcpStream| -> Option<Message> {
                let mut header = [0u8; 4];
                stream.read_exact(&mut header).ok()?;
                let mut body = vec![0u8; frame_len(header).ok()?];
                stream.read_exact(&mut body).ok()?;
                decode(&body).ok()
            };
            if !matches!(read_frame(&mut stream), Some(Message::Hello { .. })) {
                continue;
            }
            let welcome = encode(&Message::Welcome {
                version: 1,
                family: "unix".into(),
                under: "native".into(),
                runner: Vec::new(),
            });
            let _ = stream.write_all(&welcome);
            if read_frame(&mut stream).is_some() {
                let _ = stream.write_all(answer);
            }
        }
    });
    addr
}

#[test]
fn a_device_that_answers_garbage_leaves_the_case_not_observed() {
    // A frame header announcing more than MAX_FRAME bytes; a frame cut
    // short; a device that hangs up (pure/remote.rs: all are errors).
    for (answer, why) in [
        (&b"\xff\xff\xff\xffnoise"[..], "garbage from the agent"),
        (
            &b"\x00\x00\x00\x09\x07\x00"[..],
            "the connection broke inside a frame",
        ),
        (&b""[..], "the connection was closed"),
    ] {
        let addr = fake_device(answer);
        let remote = Remote::connect(&RemoteAddr {
            addr: addr.clone(),
            token: TOKEN.into(),
        })
        .unwrap();
        let program = probes().path(Build::Abort, ProbeBin::Probe).unwrap();
        let invocation = Invocation {
            runner: Vec::new(),
            program,
            args: vec!["exit".into(), "0".into()],
        };
        let wait = WaitConventions::LINUX;
        let error = remote
            .run(&case_of(&invocation, &wait, false), (15, 9, 18))
            .unwrap_err();
        assert!(error.contains(why), "{error}");
        assert_eq!(remote.failure().as_deref(), Some(error.as_str()));
    }
}

// ---------------------------------------------------------------------------
// The harness's own agent server, restarted when it crashes.
// ---------------------------------------------------------------------------

/// The local agent servers this test process runs for `triple` (children
/// of this process whose command line is `exitmatrix-agent serve ...
/// --in-place` with the target's agent).
#[cfg(target_os = "linux")]
fn local_servers(triple: &str) -> Vec<i32> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(pid) = name.parse::<i32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1))
            .unwrap_or("");
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
            .unwrap_or_default()
            .split(|&b| b == 0)
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect::<Vec<_>>();
        if ppid == me
            && cmdline.iter().any(|w| w == "serve")
            && cmdline.iter().any(|w| w == "--in-place")
            && cmdline.iter().any(|w| w.contains(triple))
        {
            found.push(pid);
        }
    }
    found
}

/// The harness's own agent server (`engine::remote::LocalServer`) that
/// crashes mid-run is restarted: the cases that were running on it are
/// "not observed" and say so, never a pass; the run says it once; and the
/// cases after it run on the new server and conform. The hostile probes
/// run first (`engine::matrix`'s schedule) and last about a second each
/// (their watchdog), so the kill lands among them, and the `exit-` cells
/// all run after it.
#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(
    not(have_target_i686_unknown_linux_gnu),
    ignore = "target i686-unknown-linux-gnu is not installed: cargo xtask install-targets"
)]
fn a_local_server_that_crashes_is_restarted() {
    let triple = "i686-unknown-linux-gnu";
    let before = local_servers(triple);
    let out = TempDir::new().unwrap();
    let run = std::thread::scope(|scope| {
        let running = scope.spawn(|| {
            command(
                out.path(),
                &[
                    "--target", triple, "-j", "1", "-b", "hostile", "-b", "exit-",
                ],
            )
        });
        let started = Instant::now();
        let server = loop {
            let new: Vec<i32> = local_servers(triple)
                .into_iter()
                .filter(|p| !before.contains(p))
                .collect();
            if let [pid] = new[..] {
                break pid;
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "no server: {new:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(1500));
        // The server this test's run started: its parent is this process,
        // which has not reaped it, so the pid is still its.
        exitmatrix::os::kill_process(server);
        running.join().unwrap()
    });
    assert_eq!(run.0, ExitCode::NotObserved.code(), "{run:?}");
    let r = report(out.path(), triple);
    let s = &r["summary"];
    assert!(s["errors"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s["deviates"], 0, "{s}");
    let cells = r["cells"].as_array().unwrap();
    let served = |c: &&Value| c["observer"] != "host-via-runner";
    for c in cells.iter().filter(served) {
        if c["verdict"] == "error" {
            let problems = c["problems"].to_string();
            assert!(problems.contains("the agent server at"), "{c}");
        } else {
            assert_eq!(c["verdict"], "conforms", "{c}");
        }
    }
    assert!(
        cells.iter().filter(served).any(|c| c["problems"]
            .to_string()
            .contains("was restarted (restart 1 of at most 3)")),
        "no row says the server was restarted"
    );
    // After the restart: every exit- cell ran on the new server.
    let exits: Vec<&Value> = cells
        .iter()
        .filter(served)
        .filter(|c| c["behaviour"].as_str().unwrap().starts_with("exit-"))
        .collect();
    assert!(!exits.is_empty());
    for c in exits {
        assert_eq!(c["verdict"], "conforms", "{c}");
    }
    let lines: Vec<&str> = run
        .1
        .lines()
        .filter(|l| l.starts_with("error: the agent server at"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.1);
    assert!(lines[0].ends_with("cells not observed)"), "{}", lines[0]);
}
