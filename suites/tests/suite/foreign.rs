//! Foreign targets: the agent's line format, Windows and WASI decoding,
//! runner selection, the runners' host views, and `test-matrix --target`
//! end to end through qemu-user, Wine and Node's WASI.
//!
//! The end-to-end tests need the toolchains and runners that
//! `cargo xtask install-targets` installs; without them they print why and
//! return (CI installs everything, so there they run).

use std::fs;
use std::path::{Path, PathBuf};

use clap::Parser;
use exitmatrix::cli::{self, ExitCode, MatrixArgs};
use exitmatrix::engine::agent::{self, AgentReport, StdView, View, WasiEnd};
use exitmatrix::pure::catalogue::{self, Capability};
use exitmatrix::pure::decode::{self, RawStatus, StateChange, Trap, WaitConventions};
use exitmatrix::pure::emulator::{Emulator, ExitFold, HostView, SignalFold};
use exitmatrix::pure::outcome;
use exitmatrix::pure::profile::Profile;
use exitmatrix::pure::signal::{SignalTable, LINUX_GENERIC, LINUX_MIPS};
use exitmatrix::pure::target::{self, Family, RunnerKind, RunnerSource};
use exitmatrix::toolchain::runners;
use proptest::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{root, target_dir};

// ---------------------------------------------------------------------------
// The agent's line format.
// ---------------------------------------------------------------------------

const UNIX_REPORT: &str = "exitmatrix-agent 1 unix
waitid 5 19
waitpid 0x137f
waitid 6 18
waitpid 0xffff
waitid 1 7
waitpid 0x0700
std exit 7
end
";

#[test]
fn a_unix_report_gives_three_views_of_one_run() {
    let r = agent::parse(UNIX_REPORT).unwrap();
    assert_eq!(r.family, "unix");
    assert_eq!(r.waitpid, [0x137f, 0xffff, 0x0700]);
    assert_eq!(r.waitid, [(5, 19, false), (6, 18, false), (1, 7, false)]);
    assert_eq!(r.std, Some(StdView::Exit { code: 7 }));
    let show = |view| {
        let states = agent::states(&r, view, &WaitConventions::LINUX).unwrap();
        let t: Vec<StateChange> = states.iter().map(|o| o.change).collect();
        outcome::display(&t, &LINUX_GENERIC)
    };
    assert_eq!(show(View::WaitPid), "stopped SIGSTOP, continued, exit 7");
    assert_eq!(show(View::WaitId), "stopped SIGSTOP, continued, exit 7");
    assert_eq!(show(View::Std), "exit 7");
}

#[test]
fn a_windows_report_keeps_all_32_bits() {
    let r = agent::parse("exitmatrix-agent 1 windows\nexit-code 0xc0000409\nend\n").unwrap();
    assert_eq!(r.exit_code, Some(0xC000_0409));
    let states = agent::states(&r, View::ExitCode, &WaitConventions::NONE).unwrap();
    assert_eq!(states[0].raw, RawStatus::ExitCode { code: 0xC000_0409 });
    assert_eq!(
        states[0].change.display(&LINUX_GENERIC).to_string(),
        "ntstatus STATUS_STACK_BUFFER_OVERRUN"
    );
}

#[test]
fn a_wasi_report_gives_a_code_or_a_trap() {
    let exit = agent::parse("exitmatrix-agent 1 wasi\nwasi-exit -1\nend\n").unwrap();
    assert_eq!(exit.wasi, Some(WasiEnd::Exit { code: -1 }));
    let trap =
        agent::parse("exitmatrix-agent 1 wasi\ntrap unreachable unreachable\nend\n").unwrap();
    assert_eq!(
        trap.wasi,
        Some(WasiEnd::Trap {
            trap: Trap::Unreachable
        })
    );
    let states = agent::states(&trap, View::Wasi, &WaitConventions::NONE).unwrap();
    assert_eq!(
        states[0].change,
        StateChange::Trapped {
            trap: Trap::Unreachable
        }
    );
    // A trap the harness does not name is kept as `other`, not refused.
    let odd = agent::parse("exitmatrix-agent 1 wasi\ntrap some-new-trap it broke\nend\n").unwrap();
    assert_eq!(odd.wasi, Some(WasiEnd::Trap { trap: Trap::Other }));
}

#[rstest::rstest]
#[case::empty("", 0, "empty report")]
#[case::not_a_report("hello\nend\n", 1, "not an agent report")]
#[case::future_version("exitmatrix-agent 2 unix\nend\n", 1, "unsupported version")]
#[case::cut_short("exitmatrix-agent 1 unix\nwaitid 1 0\n", 0, "cut short")]
#[case::unknown_record("exitmatrix-agent 1 unix\nwaitfor 3\nend\n", 2, "unknown record")]
#[case::bad_number(
    "exitmatrix-agent 1 unix\nwaitpid 0xzz\nend\n",
    2,
    "malformed `waitpid`"
)]
#[case::too_wide(
    "exitmatrix-agent 1 unix\nwaitpid 0x1ffffffff\nend\n",
    2,
    "malformed `waitpid`"
)]
#[case::after_end("exitmatrix-agent 1 unix\nend\nwaitid 1 0\n", 3, "after `end`")]
#[case::two_codes(
    "exitmatrix-agent 1 windows\nexit-code 1\nexit-code 2\nend\n",
    3,
    "second"
)]
#[case::bad_watchdog(
    "exitmatrix-agent 1 unix\nwatchdog SIGHUP\nend\n",
    2,
    "malformed `watchdog`"
)]
fn a_malformed_report_is_an_error_naming_its_line(
    #[case] text: &str,
    #[case] line: usize,
    #[case] fragment: &str,
) {
    let e = agent::parse(text).unwrap_err();
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains(fragment), "{e}");
}

#[test]
fn a_report_may_not_grow_without_bound() {
    let mut text = String::from("exitmatrix-agent 1 unix\n");
    for _ in 0..1000 {
        text.push_str("waitid 5 19\n");
    }
    text.push_str("end\n");
    let e = agent::parse(&text).unwrap_err();
    assert!(e.message.contains("more than"), "{e}");
}

#[test]
fn an_agent_error_line_fails_the_view_with_its_text() {
    let r =
        agent::parse("exitmatrix-agent 1 unix\nerror cannot start /x: not found\nend\n").unwrap();
    let e = agent::states(&r, View::WaitPid, &WaitConventions::LINUX).unwrap_err();
    assert!(e.contains("cannot start /x"), "{e}");
}

fn report_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<i32>(), any::<i32>()).prop_map(|(c, s)| format!("waitid {c} {s}")),
        any::<u32>().prop_map(|s| format!("waitpid {s:#x}")),
        any::<i32>().prop_map(|c| format!("std exit {c}")),
        any::<u32>().prop_map(|c| format!("exit-code {c:#010x}")),
        any::<i64>().prop_map(|c| format!("wasi-exit {c}")),
        "[ -~]{0,40}".prop_map(|s| s),
        Just("end".to_owned()),
        Just("watchdog SIGTERM".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// The parser is total: any text gives a report or an error.
    #[test]
    fn parsing_never_panics(text in "\\PC{0,400}") {
        let _ = agent::parse(&text);
    }

    /// Nor does any mix of well-formed and garbage lines after a header,
    /// and a report that parses always ended with `end`.
    #[test]
    fn parsing_mixed_lines_never_panics(lines in prop::collection::vec(report_line(), 0..20)) {
        let text = format!("exitmatrix-agent 1 unix\n{}\n", lines.join("\n"));
        if let Ok(r) = agent::parse(&text) {
            prop_assert_eq!(lines.iter().filter(|l| *l == "end").count(), 1);
            prop_assert!(r.waitpid.len() <= 20);
        }
    }

    /// Every 32-bit code survives the report and decodes to itself.
    #[test]
    fn windows_codes_round_trip(code in any::<u32>()) {
        let r = agent::parse(&format!("exitmatrix-agent 1 windows\nexit-code {code:#010x}\nend\n")).unwrap();
        let states = agent::states(&r, View::ExitCode, &WaitConventions::NONE).unwrap();
        let shown = states[0].change.display(&LINUX_GENERIC).to_string();
        let back = outcome::parse(&shown, &LINUX_GENERIC).unwrap();
        prop_assert_eq!(back, vec![StateChange::Exited { code: i64::from(code) }]);
    }
}

// ---------------------------------------------------------------------------
// Windows and WASI words.
// ---------------------------------------------------------------------------

#[rstest::rstest]
#[case::access_violation(0xC000_0005, "ntstatus STATUS_ACCESS_VIOLATION")]
#[case::fast_fail(0xC000_0409, "ntstatus STATUS_STACK_BUFFER_OVERRUN")]
#[case::stack_overflow(0xC000_00FD, "ntstatus STATUS_STACK_OVERFLOW")]
#[case::illegal_instruction(0xC000_001D, "ntstatus STATUS_ILLEGAL_INSTRUCTION")]
#[case::control_c(0xC000_013A, "ntstatus STATUS_CONTROL_C_EXIT")]
#[case::still_active(259, "exit 259")]
#[case::minus_one(0xFFFF_FFFF, "exit 0xFFFFFFFF")]
#[case::i32_max(0x7FFF_FFFF, "exit 2147483647")]
fn windows_codes_are_shown_by_name_or_in_hex(#[case] code: u32, #[case] shown: &str) {
    let t = decode::decode_windows_exit_code(code);
    assert_eq!(
        t,
        StateChange::Exited {
            code: i64::from(code)
        }
    );
    assert_eq!(t.display(&LINUX_GENERIC).to_string(), shown);
}

#[test]
fn every_ntstatus_name_parses_to_its_code() {
    for (code, name) in decode::NTSTATUS {
        let parsed = outcome::parse(&format!("ntstatus {name}"), &LINUX_GENERIC).unwrap();
        assert_eq!(
            parsed,
            [StateChange::Exited {
                code: i64::from(code)
            }],
            "{name}"
        );
    }
    let still = outcome::parse("ntstatus STILL_ACTIVE", &LINUX_GENERIC).unwrap();
    assert_eq!(still, outcome::parse("exit 259", &LINUX_GENERIC).unwrap());
    assert_eq!(
        outcome::parse("exit 0xC0000409", &LINUX_GENERIC).unwrap(),
        outcome::parse("exit 3221226505", &LINUX_GENERIC).unwrap()
    );
    assert!(outcome::parse("ntstatus STATUS_NO_SUCH_THING", &LINUX_GENERIC).is_err());
    assert!(outcome::parse("trap no-such-trap", &LINUX_GENERIC).is_err());
    for trap in Trap::ALL {
        let text = format!("trap {}", trap.name());
        let parsed = outcome::parse(&text, &LINUX_GENERIC).unwrap();
        assert_eq!(outcome::display(&parsed, &LINUX_GENERIC), text);
    }
}

#[test]
fn wasi_decoding_is_total() {
    assert_eq!(
        decode::decode_wasi(RawStatus::WasiExit { code: 256 }),
        StateChange::Exited { code: 256 }
    );
    let odd = RawStatus::WaitStatus { status: 0 };
    assert_eq!(
        decode::decode_wasi(odd),
        StateChange::Unrecognised { raw: odd }
    );
}

// ---------------------------------------------------------------------------
// Applicability, runners and host views.
// ---------------------------------------------------------------------------

#[test]
fn families_run_only_what_they_can() {
    let find = |name: &str| catalogue::find(name).unwrap();
    assert_eq!(
        find("raise-SIGSTOP").needs(),
        Some(Capability::PosixSignals)
    );
    // Spinning needs no signal, only something that ends it: the watchdog,
    // which the Windows agent does not have (a Windows host does).
    assert_eq!(find("hostile-spins").needs(), Some(Capability::Watchdog));
    assert_eq!(
        find("hostile-ignores-sigterm").needs(),
        Some(Capability::PosixSignals)
    );
    assert!(!Family::Windows.provides(Capability::Watchdog));
    assert!(!Family::Wasi.provides(Capability::Watchdog));
    assert!(Family::Unix.provides(Capability::Watchdog));
    assert_eq!(find("c-raise-SIGABRT").needs(), Some(Capability::CSignals));
    assert_eq!(
        find("c-raise-SIGHUP").needs(),
        Some(Capability::PosixSignals)
    );
    assert_eq!(
        find("exit-from-thread-7").needs(),
        Some(Capability::Threads)
    );
    assert_eq!(find("exit-259").needs(), None);
    assert!(Family::Windows.provides(Capability::CSignals));
    assert!(!Family::Windows.provides(Capability::PosixSignals));
    assert!(!Family::Wasi.provides(Capability::Threads));
    assert!(Family::Unix.provides(Capability::PosixSignals));
}

fn runner_for(
    triple: &str,
    cli: Option<&str>,
    env: Option<&str>,
    config: Option<&str>,
) -> (target::Runner, TempDir) {
    let dir = TempDir::new().unwrap();
    let cargo = dir.path().join(".cargo");
    fs::create_dir_all(&cargo).unwrap();
    if let Some(config) = config {
        fs::write(cargo.join("config.toml"), config).unwrap();
    }
    let var = target::runner_env_var(triple);
    let runner = runners::resolve_runner(
        target::spec(triple).unwrap().unwrap(),
        cli,
        |name| (name == var).then(|| env.map(str::to_owned)).flatten(),
        &[cargo],
        &root(),
        dir.path(),
    )
    .unwrap();
    (runner, dir)
}

#[test]
fn the_runner_comes_from_the_command_line_then_env_then_config_then_default() {
    let t = "aarch64-unknown-linux-gnu";
    assert_eq!(
        target::runner_env_var(t),
        "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER"
    );
    let config = r#"[target.aarch64-unknown-linux-gnu]
runner = ["qemu-aarch64", "-L", "/from/config"]"#;
    let (r, _d) = runner_for(
        t,
        Some("qemu-aarch64 -L /from/cli"),
        Some("qemu-aarch64 -L /from/env"),
        Some(config),
    );
    assert_eq!(
        (r.words.last().unwrap().as_str(), r.source),
        ("/from/cli", RunnerSource::CommandLine)
    );
    let (r, _d) = runner_for(t, None, Some("qemu-aarch64 -L /from/env"), Some(config));
    assert_eq!(r.words.last().unwrap(), "/from/env");
    assert!(matches!(r.source, RunnerSource::Environment(_)));
    let (r, _d) = runner_for(t, None, None, Some(config));
    assert_eq!(r.words.last().unwrap(), "/from/config");
    assert!(matches!(r.source, RunnerSource::Config(_)));
    let (r, _d) = runner_for(t, None, None, Some("runner = 'not for this target'"));
    assert_eq!(r.source, RunnerSource::Default);
    assert_eq!(
        r.words,
        ["/usr/bin/qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"]
    );
    assert_eq!(r.kind, RunnerKind::QemuUser);
}

#[test]
fn a_wine_runner_gets_its_prefix_and_quiet_settings() {
    let (r, dir) = runner_for("x86_64-pc-windows-gnu", Some("wine64"), None, None);
    assert_eq!(r.kind, RunnerKind::Wine);
    let prefix = format!("WINEPREFIX={}", dir.path().join("wine-prefix").display());
    assert_eq!(
        r.words[..4],
        [
            "/usr/bin/env".to_owned(),
            prefix,
            "WINEDEBUG=-all".into(),
            "WINEDLLOVERRIDES=winedbg.exe=d".into()
        ]
    );
    assert_eq!(r.words[4], "wine64");
    let (r, _) = runner_for("i686-unknown-linux-gnu", None, None, None);
    assert!(r.words.is_empty());
    assert_eq!(r.kind, RunnerKind::Native);
}

#[test]
fn a_bad_runner_in_config_is_an_error() {
    let dir = TempDir::new().unwrap();
    let cargo = dir.path().join(".cargo");
    fs::create_dir_all(&cargo).unwrap();
    fs::write(
        cargo.join("config.toml"),
        "[target.wasm32-wasi]\nrunner = 3\n",
    )
    .unwrap();
    let e = runners::resolve_runner(
        target::spec("wasm32-wasi").unwrap().unwrap(),
        None,
        |_| None,
        &[cargo],
        &root(),
        dir.path(),
    )
    .unwrap_err();
    assert!(e.contains("must be a string or an array"), "{e}");
}

#[test]
fn host_views_fold_as_their_runners_do() {
    let exit = |code| vec![StateChange::Exited { code }];
    let wine = HostView {
        exit: ExitFold::Low8NonZero,
        signal: SignalFold::SameName,
        trap: None,
        cite: String::new(),
    };
    let fold = |v: &HostView, t: Vec<StateChange>, table: &SignalTable| {
        v.fold(&t, table, &LINUX_GENERIC).unwrap()
    };
    assert_eq!(fold(&wine, exit(0xC000_0409), &LINUX_GENERIC), exit(9));
    assert_eq!(fold(&wine, exit(256), &LINUX_GENERIC), exit(1));
    assert_eq!(fold(&wine, exit(0), &LINUX_GENERIC), exit(0));
    // A MIPS guest's SIGSTOP (23) is the host's SIGSTOP (19).
    let qemu = HostView {
        exit: ExitFold::Low8,
        signal: SignalFold::SameName,
        trap: None,
        cite: String::new(),
    };
    let stopped = outcome::parse("stopped SIGSTOP, continued, exit 0", &LINUX_MIPS).unwrap();
    assert_eq!(
        outcome::display(&fold(&qemu, stopped, &LINUX_MIPS), &LINUX_GENERIC),
        "stopped SIGSTOP, continued, exit 0"
    );
    let raw = outcome::parse("signal 23", &LINUX_GENERIC).unwrap();
    assert_eq!(
        outcome::display(&fold(&qemu, raw, &LINUX_MIPS), &LINUX_GENERIC),
        "signal SIGSTOP"
    );
    let node = HostView {
        trap: Some("exit 1".into()),
        ..qemu.clone()
    };
    assert_eq!(
        fold(
            &node,
            vec![StateChange::Trapped {
                trap: Trap::Unreachable
            }],
            &LINUX_GENERIC
        ),
        exit(1)
    );
    assert_eq!(
        qemu.fold(
            &[StateChange::Trapped { trap: Trap::Other }],
            &LINUX_GENERIC,
            &LINUX_GENERIC
        ),
        None
    );
}

#[test]
fn every_emulator_note_loads_and_cites() {
    let dir = root().join("profiles/emulators");
    let names = exitmatrix::pure::observers::all_names();
    for kind in ["qemu-user", "wine", "node-wasi"] {
        let e = Emulator::load(&dir, kind, &names, &LINUX_GENERIC).unwrap();
        let view = e
            .host_view
            .unwrap_or_else(|| panic!("{kind} has no [host-view]"));
        assert!(view.cite.len() > 40, "{kind}: {}", view.cite);
        assert!(e
            .divergences
            .iter()
            .all(|d| d.cite.contains("observed") || d.cite.len() > 40));
    }
    // An unknown kind of runner has no notes, and that is not an error.
    assert!(
        Emulator::load(&dir, "some-emulator", &names, &LINUX_GENERIC)
            .unwrap()
            .divergences
            .is_empty()
    );
}

#[test]
fn a_divergence_naming_an_unknown_behaviour_does_not_load() {
    let dir = TempDir::new().unwrap();
    fs::write(
        dir.path().join("x.toml"),
        "[[diverge]]\nbehaviours = [\"exit-9999\"]\noutcome = \"exit 0\"\ncite = \"nothing\"\n",
    )
    .unwrap();
    let e = Emulator::load(dir.path(), "x", &["agent"], &LINUX_GENERIC).unwrap_err();
    assert!(e.contains("unknown behaviour `exit-9999`"), "{e}");
}

/// Every described target's profile (extra ones included) loads with its
/// conventions, and every cell the target runs has an expectation in its
/// in-target columns.
#[test]
fn every_foreign_profile_covers_every_applicable_cell() {
    let dir = root().join("profiles");
    let names = exitmatrix::pure::observers::all_names();
    for spec in target::known().unwrap() {
        let defaults = (
            SignalTable::by_name(spec.signals).unwrap(),
            WaitConventions::by_name(spec.wait).unwrap(),
        );
        let p = Profile::load_with(&dir, spec.triple, &names, Some(defaults))
            .unwrap_or_else(|e| panic!("{}: {e}", spec.triple));
        assert_eq!(p.signals.name, spec.signals, "{}", spec.triple);
        let mut missing = Vec::new();
        for b in catalogue::catalogue() {
            if b.needs().is_some_and(|n| !spec.family.provides(n)) {
                continue;
            }
            for build in b.builds().iter().filter(|b| spec.builds.contains(b)) {
                if *build == catalogue::Build::C && spec.c_compiler.is_none() {
                    continue;
                }
                for &column in spec
                    .family
                    .observers()
                    .iter()
                    .filter(|o| **o != exitmatrix::pure::observers::HOST_VIA_RUNNER)
                {
                    if p.expectation(&b.name, *build, column).is_none() {
                        missing.push(format!("{} {} [{build} · {column}]", spec.triple, b.name));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "cells without expectation:\n{}",
            missing.join("\n")
        );
    }
}

#[test]
fn mips_numbers_its_signals_its_own_way() {
    assert_eq!(LINUX_MIPS.number("SIGSTOP").unwrap().0, 23);
    assert_eq!(LINUX_GENERIC.number("SIGSTOP").unwrap().0, 19);
    let spec = target::spec("mips64el-unknown-linux-gnuabi64")
        .unwrap()
        .unwrap();
    assert_eq!(spec.signals, "linux-mips");
}

// ---------------------------------------------------------------------------
// End to end, through the runners.
// ---------------------------------------------------------------------------

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: MatrixArgs,
}

struct Run {
    code: u8,
    stdout: String,
    stderr: String,
    out: TempDir,
}

impl Run {
    fn report(&self, triple: &str) -> Value {
        let path = self.out.path().join(format!("report-{triple}.json"));
        serde_json::from_str(
            &fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), self.story())),
        )
        .unwrap()
    }

    fn story(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn matrix(args: &[&str]) -> Run {
    let out = TempDir::new().unwrap();
    let mut run = matrix_in(out.path(), args);
    run.out = out;
    run
}

/// As [`matrix`], with the reports written into `dir`.
fn matrix_in(dir: &Path, args: &[&str]) -> Run {
    let out = TempDir::new().unwrap();
    let mut argv = vec![
        "test-matrix".to_owned(),
        "--target-dir".to_owned(),
        target_dir().display().to_string(),
        "--out-dir".to_owned(),
        dir.display().to_string(),
    ];
    argv.extend(args.iter().map(|s| (*s).to_owned()));
    let parsed = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{e}"));
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = cli::test_matrix(&parsed.args, &mut stdout, &mut stderr);
    Run {
        code,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
        out,
    }
}

/// The cells of `report` for `behaviour`, as `(build, observer) → (raw
/// texts, observed text, verdict)`.
fn cells<'a>(
    report: &'a Value,
    behaviour: &str,
) -> Vec<(&'a str, &'a str, Vec<&'a str>, &'a str, &'a str)> {
    report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["behaviour"] == behaviour)
        .map(|c| {
            (
                c["build"].as_str().unwrap(),
                c["observer"].as_str().unwrap(),
                c["observed"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["raw_text"].as_str().unwrap())
                    .collect(),
                c["observed_text"].as_str().unwrap(),
                c["verdict"].as_str().unwrap(),
            )
        })
        .collect()
}

#[test]
#[cfg_attr(
    not(have_target_aarch64_unknown_linux_gnu),
    ignore = "target aarch64-unknown-linux-gnu is not installed: cargo xtask install-targets"
)]
fn aarch64_under_qemu_reports_the_agents_and_the_hosts_view() {
    let t = "aarch64-unknown-linux-gnu";
    let run = matrix(&[
        "--target",
        t,
        "-b",
        "exit-25",
        "-b",
        "raise-SIGSTOP",
        "-b",
        "c-abort",
        "-j",
        "2",
    ]);
    assert_eq!(run.code, ExitCode::Conforms.code(), "{}", run.story());
    let r = run.report(t);
    assert_eq!(r["foreign"]["runner"]["kind"], "qemu-user");
    let exit256 = cells(&r, "exit-256");
    let observers: Vec<&str> = exit256
        .iter()
        .filter(|c| c.0 == "unwind")
        .map(|c| c.1)
        .collect();
    assert_eq!(observers, ["waitpid", "waitid", "std", "host-via-runner"]);
    // Values really observed: the agent's raw siginfo, inside the target.
    assert!(
        exit256
            .iter()
            .any(|c| c.1 == "waitid" && c.2 == ["CLD_EXITED si_status=0"]),
        "{exit256:?}"
    );
    let stop = cells(&r, "raise-SIGSTOP");
    // The stop (0x137f: WIFSTOPPED, SIGSTOP) and the exit (0x0000) are
    // always seen; the "continued" report between them (0xffff) only when
    // the agent's waitpid runs before the continued probe exits: Linux
    // replaces a continued state nobody has collected yet with the exit
    // (wait(2): WCONTINUED reports a child "resumed by delivery of
    // SIGCONT" that has not been waited for since), a race POSIX leaves
    // open. A loaded machine loses it now and then.
    assert!(
        stop.iter().any(|c| c.1 == "waitpid"
            && (c.2 == ["0x137f", "0xffff", "0x0000"] || c.2 == ["0x137f", "0x0000"])),
        "{stop:?}"
    );
    assert!(
        run.stdout
            .contains("runner (default): /usr/bin/qemu-aarch64"),
        "{}",
        run.story()
    );
}

#[test]
#[cfg_attr(
    not(have_target_mips64el_unknown_linux_gnuabi64),
    ignore = "target mips64el-unknown-linux-gnuabi64 is not installed: cargo xtask install-targets"
)]
fn mips64el_shows_its_own_signal_numbers_inside_and_the_hosts_outside() {
    let t = "mips64el-unknown-linux-gnuabi64";
    let run = matrix(&[
        "--target",
        t,
        "-b",
        "raise-SIGSTOP",
        "-b",
        "raise-SIGUSR1",
        "--build",
        "abort",
        "-j",
        "2",
    ]);
    assert_eq!(run.code, ExitCode::Conforms.code(), "{}", run.story());
    let r = run.report(t);
    assert_eq!(r["signal_table"], "linux-mips");
    let stop = cells(&r, "raise-SIGSTOP");
    // MIPS stops with 23 (0x17); the host sees qemu stopped with its 19.
    assert!(
        stop.iter()
            .any(|c| c.1 == "waitpid" && c.2[0] == "0x177f" && c.3.starts_with("stopped SIGSTOP")),
        "{stop:?}"
    );
    assert!(
        stop.iter()
            .any(|c| c.1 == "waitid" && c.2[0] == "CLD_STOPPED si_status=23"),
        "{stop:?}"
    );
    assert!(
        stop.iter()
            .any(|c| c.1 == "host-via-runner" && c.2[0] == "0x137f"),
        "{stop:?}"
    );
    let usr1 = cells(&r, "raise-SIGUSR1");
    assert!(
        usr1.iter().any(|c| c.1 == "waitpid" && c.2 == ["0x0010"]),
        "{usr1:?}"
    );
    assert!(
        usr1.iter()
            .any(|c| c.1 == "host-via-runner" && c.2 == ["0x000a"]),
        "{usr1:?}"
    );
}

#[test]
#[cfg_attr(
    not(have_target_x86_64_pc_windows_gnu),
    ignore = "target x86_64-pc-windows-gnu is not installed: cargo xtask install-targets"
)]
fn windows_under_wine_shows_full_codes_next_to_the_hosts_folded_view() {
    let t = "x86_64-pc-windows-gnu";
    let run = matrix(&[
        "--target",
        t,
        "-b",
        "exit-259",
        "-b",
        "exit-256",
        "-b",
        "null-write",
        "-b",
        "stack-overflow",
        "-b",
        "raise-SIGSTOP",
        "--build",
        "abort",
        "-j",
        "2",
    ]);
    assert_eq!(run.code, ExitCode::Conforms.code(), "{}", run.story());
    let r = run.report(t);
    let still = cells(&r, "exit-259");
    assert!(
        still
            .iter()
            .any(|c| c.1 == "agent" && c.2 == ["0x00000103"] && c.3 == "exit 259"),
        "{still:?}"
    );
    assert!(
        still
            .iter()
            .any(|c| c.1 == "host-via-runner" && c.3 == "exit 3"),
        "{still:?}"
    );
    let null = cells(&r, "null-write");
    assert!(
        null.iter().any(|c| c.1 == "agent"
            && c.2 == ["0xC0000005"]
            && c.3 == "ntstatus STATUS_ACCESS_VIOLATION"),
        "{null:?}"
    );
    assert!(
        null.iter()
            .any(|c| c.1 == "host-via-runner" && c.3 == "exit 5"),
        "{null:?}"
    );
    let e256 = cells(&r, "exit-256");
    assert!(
        e256.iter()
            .any(|c| c.1 == "host-via-runner" && c.3 == "exit 1"),
        "{e256:?}"
    );
    // Wine's stack overflow is a known divergence: reported, never conforming.
    let so = cells(&r, "stack-overflow");
    assert!(so.iter().all(|c| c.4 == "known-divergence"), "{so:?}");
    // `-b stack-overflow` selects stack-overflow and stack-overflow-thread:
    // Wine diverges on both, in the agent's column and the host's.
    assert_eq!(r["summary"]["known_divergences"], 4);
    assert!(
        run.stdout
            .contains("known emulator divergence: stack-overflow"),
        "{}",
        run.story()
    );
    assert!(
        run.stdout.contains(
            "not applicable to windows (need posix-signals): 1 behaviours: raise-SIGSTOP"
        ),
        "{}",
        run.story()
    );
    assert!(cells(&r, "raise-SIGSTOP").is_empty());
}

#[test]
#[cfg_attr(
    not(have_target_wasm32_wasi),
    ignore = "target wasm32-wasi is not installed: cargo xtask install-targets"
)]
fn wasm32_wasi_reports_proc_exit_codes_and_traps() {
    let t = "wasm32-wasi";
    let run = matrix(&[
        "--target",
        t,
        "-b",
        "exit-256",
        "-b",
        "abort",
        "-b",
        "stack-overflow",
    ]);
    assert_eq!(run.code, ExitCode::Conforms.code(), "{}", run.story());
    let r = run.report(t);
    let e256 = cells(&r, "exit-256");
    assert!(
        e256.iter()
            .any(|c| c.1 == "agent" && c.2 == ["wasi-exit 256"]),
        "{e256:?}"
    );
    assert!(
        e256.iter()
            .any(|c| c.1 == "host-via-runner" && c.3 == "exit 0"),
        "{e256:?}"
    );
    let abort = cells(&r, "abort");
    assert!(
        abort
            .iter()
            .any(|c| c.1 == "agent" && c.3 == "trap unreachable"),
        "{abort:?}"
    );
    assert!(
        abort
            .iter()
            .any(|c| c.1 == "host-via-runner" && c.3 == "exit 1"),
        "{abort:?}"
    );
    assert_eq!(
        r["foreign"]["builds_not_made"],
        serde_json::json!(["unwind", "c"])
    );
}

/// A copy of the shipped profiles (and emulator notes) a test may change.
fn profiles_copy() -> TempDir {
    let dir = TempDir::new().unwrap();
    copy_dir(&root().join("profiles"), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path: PathBuf = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
#[cfg_attr(
    not(have_target_i686_unknown_linux_gnu),
    ignore = "target i686-unknown-linux-gnu is not installed: cargo xtask install-targets"
)]
fn a_broken_foreign_expectation_fails_with_a_diff() {
    let t = "i686-unknown-linux-gnu";
    let profiles = profiles_copy();
    let path = profiles.path().join(format!("{t}.toml"));
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("\n[[expect]]\nbehaviours = [\"exit-256\"]\nobservers = [\"waitid\"]\noutcome = \"exit 1\"\ncite = \"a deliberately wrong expectation\"\n");
    fs::write(&path, text).unwrap();
    let dir = profiles.path().display().to_string();
    let run = matrix(&["--target", t, "--profiles", &dir, "-b", "exit-256"]);
    assert_eq!(run.code, ExitCode::Deviates.code(), "{}", run.story());
    assert!(
        run.stdout.contains("deviation: exit-256 [unwind · waitid]"),
        "{}",
        run.story()
    );
    assert!(
        run.stdout
            .contains("outcome: expected exit 1, observed exit 0"),
        "{}",
        run.story()
    );
    assert!(
        run.stdout.contains("a deliberately wrong expectation"),
        "{}",
        run.story()
    );
}

#[test]
#[cfg_attr(
    not(have_target_i686_unknown_linux_gnu),
    ignore = "target i686-unknown-linux-gnu is not installed: cargo xtask install-targets"
)]
fn bless_writes_a_profile_the_next_run_passes_and_the_family_run_lists_departures() {
    let t = "i686-unknown-linux-gnu";
    let profiles = profiles_copy();
    let own = profiles.path().join(format!("{t}.toml"));
    fs::remove_file(&own).unwrap();
    let dir = profiles.path().display().to_string();
    let filter = [
        "-b",
        "exit-2",
        "-b",
        "panic-in-drop",
        "--build",
        "unwind",
        "-j",
        "2",
    ];

    let mut args = vec!["--target", t, "--profiles", &dir];
    args.extend(filter);
    let without = matrix(&args);
    assert_eq!(without.code, ExitCode::Usage.code(), "{}", without.story());
    assert!(without.stderr.contains("--bless"), "{}", without.story());

    // Against the family: the departures are listed (Linux's 8-bit waitid,
    // rustc 1.63's panic message).
    let mut family = args.clone();
    family.extend(["--profile", "posix"]);
    let run = matrix(&family);
    assert_eq!(run.code, ExitCode::Deviates.code(), "{}", run.story());
    assert!(
        run.stdout.contains("deviation: exit-256 [unwind · waitid]"),
        "{}",
        run.story()
    );
    assert!(
        run.stdout
            .contains("deviation: panic-in-drop-while-unwinding [unwind · waitpid]"),
        "{}",
        run.story()
    );

    let mut bless = args.clone();
    bless.push("--bless");
    let blessed = matrix(&bless);
    assert_eq!(
        blessed.code,
        ExitCode::Conforms.code(),
        "{}",
        blessed.story()
    );
    let text = fs::read_to_string(&own).unwrap();
    assert!(text.contains("inherits = \"posix\""), "{text}");
    assert!(
        text.contains("rustc 1.63"),
        "the tool versions are recorded:\n{text}"
    );
    assert!(text.contains("runner (default): none"), "{text}");
    assert!(text.contains("behaviours = [\"exit-256\"]"), "{text}");

    let again = matrix(&args);
    assert_eq!(again.code, ExitCode::Conforms.code(), "{}", again.story());
    let bless_twice = matrix(&bless);
    assert_eq!(
        bless_twice.code,
        ExitCode::Usage.code(),
        "{}",
        bless_twice.story()
    );
}

#[test]
fn a_missing_runner_given_by_the_user_is_a_runner_error_naming_it() {
    // `cargo xtask install-targets` cannot fix a runner the user chose: the
    // error names the runner and where it came from instead.
    let run = matrix(&[
        "--target",
        "aarch64-unknown-linux-gnu",
        "--runner",
        "/nonexistent/qemu-aarch64 -L /x",
        "-b",
        "exit-0",
    ]);
    assert_eq!(run.code, ExitCode::Runner.code(), "{}", run.story());
    assert!(
        run.stderr.contains(
            "runner `/nonexistent/qemu-aarch64` (from --runner) is not an executable file"
        ),
        "{}",
        run.story()
    );
    assert!(
        !run.stderr.contains(runners::INSTALL_COMMAND),
        "{}",
        run.story()
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.story());
}

#[test]
fn an_unknown_target_is_a_usage_error_listing_the_known_ones() {
    let run = matrix(&["--target", "sparc-sun-solaris", "-b", "exit-0"]);
    assert_eq!(run.code, ExitCode::Usage.code(), "{}", run.story());
    assert!(run.stderr.contains("wasm32-wasi"), "{}", run.story());
}

#[test]
fn agent_report_default_is_empty() {
    // The report of an agent that said nothing has no views.
    let r = AgentReport::default();
    assert!(agent::states(&r, View::WaitPid, &WaitConventions::LINUX).is_err());
}

#[test]
fn leaked_and_group_records_are_read() {
    let text = "exitmatrix-agent 1 unix\ngroup 4242\nwaitid 1 0\nwaitpid 0x0000\nstd exit 0\nleaked 4250 sleep forever\nend\n";
    let report = agent::parse(text).unwrap();
    assert_eq!(report.group, Some(4242));
    // The native path's words (process::orphans::Leak's Display).
    assert_eq!(report.leaked, ["process 4250 (sleep forever)"]);
    for bad in ["group x", "group 1 2", "leaked 12", "leaked x name"] {
        let text = format!("exitmatrix-agent 1 unix\n{bad}\nend\n");
        assert!(agent::parse(&text).is_err(), "{bad}");
    }
    let twice = "exitmatrix-agent 1 unix\ngroup 1\ngroup 2\nend\n";
    assert!(agent::parse(twice).is_err());
}

// ---------------------------------------------------------------------------
// What a probe leaves in its process group is swept, never leaked.
// ---------------------------------------------------------------------------

const SWEEP_CHILD: &str = "EXITMATRIX_TEST_AGENT_SWEEP_CHILD";

/// `hostile-grandchild-holds-stdout` starts a copy of itself that sleeps
/// forever in the probe's own process group, then exits 0
/// (probes/src/bin/probe.rs). The agent kills that group when the probe
/// ends; what is left of it is reaped by the agent (a subreaper, natively)
/// or, under qemu-user, which refuses PR_SET_CHILD_SUBREAPER, by the
/// harness from the agent's `group` record. Either way nothing may be left
/// for the run's final sweep (`leaked_after_run`, which before this fix
/// listed two `qemu-aarch64` processes), and no cell reports a leak: the
/// grandchild never left the group.
///
/// Like `orphans.rs`, the run happens in a child process of this test
/// binary that becomes a subreaper as `cargo xtask` does.
fn a_probes_grandchild_is_swept_with_its_group(triple: &str, name: &str) {
    if let Ok(out) = std::env::var(SWEEP_CHILD) {
        exitmatrix::process::orphans::adopt().expect("PR_SET_CHILD_SUBREAPER");
        let run = matrix_in(
            Path::new(&out),
            &["--target", triple, "-b", "hostile-grandchild-holds-stdout"],
        );
        print!("{}", run.stdout);
        eprint!("{}", run.stderr);
        std::process::exit(i32::from(run.code));
    }
    let out = TempDir::new().unwrap();
    let child = assert_cmd::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--include-ignored"])
        .env(SWEEP_CHILD, out.path())
        .output()
        .unwrap();
    let story = format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        child.status.code(),
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    assert_eq!(
        child.status.code(),
        Some(i32::from(ExitCode::Conforms.code())),
        "{story}"
    );
    let path = out.path().join(format!("report-{triple}.json"));
    let report: Value = serde_json::from_str(
        &fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}\n{story}", path.display())),
    )
    .unwrap();
    assert!(report.get("leaked_after_run").is_none(), "{report:#}");
    let cells = report["cells"].as_array().unwrap();
    assert!(!cells.is_empty(), "{story}");
    for cell in cells {
        assert!(cell.get("leaked").is_none(), "{cell:#}");
    }
}

#[test]
#[cfg_attr(
    not(have_target_aarch64_unknown_linux_gnu),
    ignore = "target aarch64-unknown-linux-gnu is not installed: cargo xtask install-targets"
)]
fn a_probes_grandchild_is_swept_with_its_group_under_qemu() {
    a_probes_grandchild_is_swept_with_its_group(
        "aarch64-unknown-linux-gnu",
        "foreign::a_probes_grandchild_is_swept_with_its_group_under_qemu",
    );
}

#[test]
#[cfg_attr(
    not(have_target_i686_unknown_linux_gnu),
    ignore = "target i686-unknown-linux-gnu is not installed: cargo xtask install-targets"
)]
fn a_probes_grandchild_is_swept_with_its_group_by_a_native_agent() {
    a_probes_grandchild_is_swept_with_its_group(
        "i686-unknown-linux-gnu",
        "foreign::a_probes_grandchild_is_swept_with_its_group_by_a_native_agent",
    );
}

/// A probe that never ends is given its behaviour's own bound plus the
/// start allowance of a target whose probes an emulator starts
/// (`engine::matrix::EMULATED_START_ALLOWANCE`): the watchdog's SIGTERM
/// comes no sooner than 500 ms + 1.5 s after the start, in the host's own
/// column and in the agent's alike (the agent gets the case's timeout).
#[test]
#[cfg_attr(
    not(have_target_aarch64_unknown_linux_gnu),
    ignore = "target aarch64-unknown-linux-gnu is not installed: cargo xtask install-targets"
)]
fn an_emulated_target_gives_the_hostile_probes_time_to_start() {
    let run = matrix(&[
        "--target",
        "aarch64-unknown-linux-gnu",
        "-b",
        "hostile-sleeps-forever",
        "--build",
        "abort",
    ]);
    assert_eq!(run.code, ExitCode::Conforms.code(), "{}", run.story());
    let report = run.report("aarch64-unknown-linux-gnu");
    let cells = report["cells"].as_array().unwrap();
    let bound = catalogue::HOSTILE_TIMEOUT + exitmatrix::engine::matrix::EMULATED_START_ALLOWANCE;
    assert!(cells.len() >= 2, "{report:#}");
    for cell in cells {
        assert_eq!(cell["watchdog"], serde_json::json!(["SIGTERM"]), "{cell:#}");
        let micros = cell["micros"].as_u64().unwrap();
        assert!(
            u128::from(micros) >= bound.as_micros(),
            "{} ended after {micros} us, before its bound of {bound:?}",
            cell["observer"]
        );
    }
}
