//! The spawn path's guarantees and the reapers, checked with ordinary
//! programs so that a failure points at the harness, not at a probe.

use std::path::PathBuf;

use exitmatrix::process::reap::{self, Observed};
use exitmatrix::process::spawn::{spawn, Invocation, Leftovers};
use exitmatrix::pure::decode::{StateChange, WaitConventions};
use exitmatrix::pure::signal::Signal;
use rstest::rstest;

fn sh(script: &str) -> Invocation {
    Invocation {
        runner: Vec::new(),
        program: PathBuf::from("/bin/sh"),
        args: vec!["-c".into(), script.into()],
    }
}

/// Runs `script` with the first reaper and returns its states and output.
fn run(script: &str, core: bool) -> (Vec<Observed>, Leftovers) {
    let mut spawned = spawn(&sh(script), core).unwrap();
    let states = reap::WaitPid.reap_child(&mut spawned.child);
    let left = spawned.finish().unwrap();
    (states, left)
}

trait ReapChild {
    fn reap_child(&self, child: &mut std::process::Child) -> Vec<Observed>;
}

impl<R: reap::Reaper + ?Sized> ReapChild for R {
    fn reap_child(&self, child: &mut std::process::Child) -> Vec<Observed> {
        let mut nothing = || {};
        let mut control = reap::Control {
            continue_stops: true,
            before_reap: &mut nothing,
        };
        self.reap(child, &WaitConventions::LINUX, &mut control)
            .unwrap()
    }
}

fn stdout(left: &Leftovers) -> String {
    String::from_utf8_lossy(&left.stdout).into_owned()
}

#[test]
fn environment_is_empty() {
    // `env` prints one line per variable; this machine sets RUST_BACKTRACE=1.
    let env = Invocation {
        runner: Vec::new(),
        program: PathBuf::from("/usr/bin/env"),
        args: Vec::new(),
    };
    let mut spawned = spawn(&env, false).unwrap();
    reap::WaitPid.reap_child(&mut spawned.child);
    assert_eq!(stdout(&spawned.finish().unwrap()), "");
}

#[test]
fn stdin_is_null_and_output_is_captured_apart() {
    let (states, left) = run("cat; echo out; echo err >&2", false);
    assert_eq!(
        states.last().unwrap().change,
        StateChange::Exited { code: 0 }
    );
    assert_eq!(stdout(&left), "out\n");
    assert_eq!(String::from_utf8_lossy(&left.stderr), "err\n");
}

#[test]
fn each_probe_gets_a_fresh_directory_that_is_removed() {
    let mut spawned = spawn(&sh("ls -A; pwd"), false).unwrap();
    let dir = spawned.dir().to_owned();
    reap::WaitPid.reap_child(&mut spawned.child);
    let left = spawned.finish().unwrap();
    let out = stdout(&left);
    // Only the harness's own capture files are there.
    assert_eq!(out.lines().next(), Some(".exitmatrix-stderr"), "{out}");
    assert_eq!(
        out.lines().last().map(PathBuf::from),
        Some(dir.clone()),
        "{out}"
    );
    assert!(!dir.exists(), "{} was not removed", dir.display());
}

#[rstest]
#[case::off(false, "0")]
#[case::on(true, "")]
fn core_limit_is_set_per_case(#[case] core: bool, #[case] want: &str) {
    let (_, left) = run("ulimit -c", core);
    let got = stdout(&left).trim().to_owned();
    if core {
        let mut hard = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills a valid rlimit.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut hard) }, 0);
        let want = if hard.rlim_max == libc::RLIM_INFINITY {
            "unlimited".to_owned()
        } else {
            (hard.rlim_max / 512).to_string()
        };
        assert_eq!(got, want);
    } else {
        assert_eq!(got, want);
    }
}

/// Ignored dispositions survive exec; the harness resets them. The test
/// process ignores SIGUSR2 (harmless to other tests) and the child must not.
#[test]
fn signal_dispositions_and_mask_are_reset() {
    // SAFETY: setting SIGUSR2 to SIG_IGN in this process affects nothing
    // else in the test binary, which never uses SIGUSR2.
    unsafe { libc::signal(libc::SIGUSR2, libc::SIG_IGN) };
    let (_, left) = run("grep -E '^Sig(Ign|Blk)' /proc/self/status", false);
    let out = stdout(&left);
    assert!(out.contains("SigBlk:\t0000000000000000"), "{out}");
    let mine = std::fs::read_to_string("/proc/self/status").unwrap();
    assert!(
        out.contains("SigIgn:\t0000000000000000"),
        "{out}\nparent:\n{mine}"
    );
}

#[test]
fn probe_runs_in_its_own_process_group() {
    let (_, left) = run(
        "echo $$; ps -o pgid= -p $$ 2>/dev/null || cut -d' ' -f5 /proc/$$/stat",
        false,
    );
    let out = stdout(&left);
    let mut lines = out.lines().map(str::trim);
    let pid = lines.next().unwrap();
    assert_eq!(lines.next(), Some(pid), "{out}");
}

#[test]
fn a_missing_program_is_a_spawn_error() {
    let inv = Invocation {
        runner: Vec::new(),
        program: PathBuf::from("/nonexistent/probe"),
        args: Vec::new(),
    };
    let err = spawn(&inv, false).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

/// Each reaper sees a stop, continues the child, and sees it end; std's
/// `Child::wait` reports only the end.
#[rstest]
#[case::waitpid(&reap::WaitPid, &[0x137f, 0xffff, 0x0300][..])]
#[case::waitid(&reap::WaitId, &[][..])]
#[case::std(&reap::StdWait, &[0x0300][..])]
fn reapers_follow_a_stop_to_the_exit(
    #[case] reaper: &dyn reap::Reaper,
    #[case] raw_waitpid: &[i32],
) {
    let mut spawned = spawn(&sh("kill -STOP $$; exit 3"), false).unwrap();
    let states = reaper.reap_child(&mut spawned.child);
    spawned.finish().unwrap();
    let seq: Vec<StateChange> = states.iter().map(|o| o.change).collect();
    let stop = StateChange::Stopped {
        signal: Signal(libc::SIGSTOP),
    };
    let exit = StateChange::Exited { code: 3 };
    match reaper.name() {
        "std" => assert_eq!(seq, [exit]),
        _ => assert!(
            seq == [stop, StateChange::Continued, exit] || seq == [stop, exit],
            "{}: {seq:?}",
            reaper.name()
        ),
    }
    if reaper.name() == "waitpid" && seq.len() == 3 {
        let raws: Vec<_> = states.iter().map(|o| o.raw.to_string()).collect();
        let want: Vec<_> = raw_waitpid.iter().map(|r| format!("{r:#06x}")).collect();
        assert_eq!(raws, want);
    }
}

#[rstest]
#[case::waitpid(&reap::WaitPid)]
#[case::waitid(&reap::WaitId)]
#[case::std(&reap::StdWait)]
fn reapers_agree_on_a_signal_death(#[case] reaper: &dyn reap::Reaper) {
    let mut spawned = spawn(&sh("kill -TERM $$"), false).unwrap();
    let states = reaper.reap_child(&mut spawned.child);
    spawned.finish().unwrap();
    assert_eq!(
        states.iter().map(|o| o.change).collect::<Vec<_>>(),
        [StateChange::Signaled {
            signal: Signal(libc::SIGTERM),
            core_dumped: false
        }]
    );
}
