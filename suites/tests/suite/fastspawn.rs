//! The fast spawn path keeps the spawn path's guarantees: checked with
//! ordinary programs, each child waited for by pid.

use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use std::time::Duration;

use exitmatrix::observers::observe::Case;
use exitmatrix::process::fastspawn::{spawn, FastSpawned};
use exitmatrix::process::reap::{self, Observed, Pid, Reapable, Reaper};
use exitmatrix::process::spawn::{Invocation, Leftovers};
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

fn program(path: impl Into<PathBuf>) -> Invocation {
    Invocation {
        runner: Vec::new(),
        program: path.into(),
        args: Vec::new(),
    }
}

/// `waitpid(pid, &status, 0)`, retried on EINTR.
fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own child with a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return status;
        }
        let e = io::Error::last_os_error();
        assert_eq!(e.kind(), io::ErrorKind::Interrupted, "waitpid({pid}): {e}");
    }
}

/// What a finished probe showed, for failure messages.
#[derive(Debug)]
struct Ran {
    command: String,
    dir: PathBuf,
    status: i32,
    left: Leftovers,
}

impl Ran {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.left.stdout).into_owned()
    }

    fn exit_code(&self) -> Option<i32> {
        libc::WIFEXITED(self.status).then(|| libc::WEXITSTATUS(self.status))
    }
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "command: {}", self.command)?;
        writeln!(f, "directory: {}", self.dir.display())?;
        writeln!(f, "status: {:#06x}", self.status)?;
        writeln!(f, "stdout: {:?}", self.stdout())?;
        write!(
            f,
            "stderr: {:?}",
            String::from_utf8_lossy(&self.left.stderr)
        )
    }
}

fn finish(spawned: FastSpawned, command: String) -> Ran {
    let dir = spawned.dir().to_owned();
    let status = wait(spawned.pid());
    let left = spawned.finish().unwrap();
    Ran {
        command,
        dir,
        status,
        left,
    }
}

fn run_inv(invocation: &Invocation, core: bool) -> Ran {
    let spawned = spawn(invocation, core)
        .unwrap_or_else(|e| panic!("spawning {}: {e}", invocation.display()));
    finish(spawned, invocation.display())
}

fn run(script: &str) -> Ran {
    run_inv(&sh(script), false)
}

#[test]
fn environment_is_empty() {
    // `env` prints one line per variable; this machine sets RUST_BACKTRACE=1.
    let ran = run_inv(&program("/usr/bin/env"), false);
    assert_eq!(ran.exit_code(), Some(0), "{ran}");
    assert_eq!(ran.stdout(), "", "{ran}");
}

#[test]
fn stdin_is_null_and_output_is_captured_apart() {
    let ran = run("cat; echo out; echo err >&2");
    assert_eq!(ran.exit_code(), Some(0), "{ran}");
    assert_eq!(ran.stdout(), "out\n", "{ran}");
    assert_eq!(String::from_utf8_lossy(&ran.left.stderr), "err\n", "{ran}");
}

#[test]
fn the_working_directory_is_its_own_and_starts_empty() {
    let ran = run("ls -A; pwd");
    // Nothing listed: the capture files are not in the directory.
    assert_eq!(ran.stdout(), format!("{}\n", ran.dir.display()), "{ran}");
}

#[test]
fn probes_running_at_once_have_different_directories() {
    let a = spawn(&sh("cat /dev/null"), false).unwrap();
    let b = spawn(&sh("cat /dev/null"), false).unwrap();
    assert_ne!(a.dir(), b.dir());
    let (a, b) = (finish(a, "a".into()), finish(b, "b".into()));
    assert_eq!((a.exit_code(), b.exit_code()), (Some(0), Some(0)));
}

/// A directory the probe left something in, or whose mode it changed, is
/// removed, never handed to another probe.
#[rstest]
#[case::a_file("touch left-behind")]
#[case::a_directory("mkdir left-behind")]
#[case::its_mode("chmod 701 .")]
fn a_directory_left_changed_is_removed(#[case] script: &str) {
    let ran = run(script);
    assert_eq!(ran.exit_code(), Some(0), "{ran}");
    assert!(
        !ran.dir.exists(),
        "{} was not removed\n{ran}",
        ran.dir.display()
    );
    let next = run("ls -A");
    assert_eq!(next.stdout(), "", "{next}");
}

#[rstest]
#[case::off(false)]
#[case::on(true)]
fn core_limit_is_set_per_case(#[case] core: bool) {
    let ran = run_inv(&sh("grep 'Max core file size' /proc/self/limits"), core);
    let mut hard = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills a valid rlimit.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut hard) }, 0);
    let want = if core {
        hard.rlim_max
    } else {
        hard.rlim_max.min(1)
    };
    let want = if want == libc::RLIM_INFINITY {
        "unlimited".to_owned()
    } else {
        want.to_string()
    };
    let soft = ran.stdout().split_whitespace().nth(4).map(str::to_owned);
    assert_eq!(soft.as_deref(), Some(want.as_str()), "{ran}");
}

/// Ignored dispositions survive exec and the mask is inherited; the fast path
/// resets both. The test process ignores SIGUSR2 (and SIGPIPE, as every Rust
/// program does) and blocks SIGUSR1 in the spawning thread.
#[test]
fn signal_dispositions_and_mask_are_reset() {
    // SAFETY: SIGUSR2 to SIG_IGN affects nothing else in the test binary,
    // which never uses SIGUSR2 (the spawn tests ignore it too).
    unsafe { libc::signal(libc::SIGUSR2, libc::SIG_IGN) };
    let usr1 = sigset_of(&[libc::SIGUSR1]);
    let before = thread_mask();
    // SAFETY: blocks SIGUSR1 in this test's own thread only.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &usr1, std::ptr::null_mut()) };
    // grep itself, not under a shell: a shell changes its own mask while it
    // waits and clears it for the commands it runs. SigCgt is not checked:
    // exec resets caught signals anyway (and grep catches SIGSEGV).
    let grep = Invocation {
        runner: Vec::new(),
        program: PathBuf::from("grep"),
        args: vec![
            "-E".into(),
            "^Sig(Ign|Blk)".into(),
            "/proc/self/status".into(),
        ],
    };
    let spawned = spawn(&grep, false);
    let after = thread_mask();
    // SAFETY: unblocks what was blocked above, in this thread.
    unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &usr1, std::ptr::null_mut()) };
    let ran = finish(spawned.unwrap(), grep.display());
    let out = ran.stdout();
    let parent = std::fs::read_to_string("/proc/self/status").unwrap();
    for field in ["SigIgn", "SigBlk"] {
        assert!(
            out.contains(&format!("{field}:\t0000000000000000")),
            "{field}\n{ran}\nparent:\n{parent}"
        );
    }
    // The spawning thread's own mask is as it was: SIGUSR1 blocked, and
    // nothing else added by the spawn.
    // SAFETY: sigismember reads valid sets.
    unsafe {
        assert_eq!(libc::sigismember(&after, libc::SIGUSR1), 1);
        for signal in 1..32 {
            if signal != libc::SIGUSR1 {
                assert_eq!(
                    libc::sigismember(&after, signal),
                    libc::sigismember(&before, signal),
                    "signal {signal}"
                );
            }
        }
    }
}

fn sigset_of(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: an all-zero sigset_t is valid for sigemptyset to fill; then
    // sigaddset adds valid signal numbers.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

fn thread_mask() -> libc::sigset_t {
    let mut set = sigset_of(&[]);
    // SAFETY: SIG_BLOCK with no new set only reads the mask into `set`.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut set) };
    set
}

#[test]
fn probe_runs_in_its_own_process_group() {
    let spawned = spawn(&sh("echo $$; cut -d' ' -f5 /proc/$$/stat"), false).unwrap();
    let pid = spawned.pid().to_string();
    let ran = finish(spawned, "echo $$ and its pgid".into());
    let out = ran.stdout();
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(lines, [pid.as_str(), pid.as_str()], "{ran}");
}

/// A descriptor the parent leaves open across exec does not reach the probe.
#[test]
fn only_stdio_descriptors_reach_the_probe() {
    let file = std::fs::File::open("/dev/null").unwrap();
    // SAFETY: dup of a descriptor we own; plain dup is not close-on-exec.
    let leaky = unsafe { libc::dup(std::os::fd::AsRawFd::as_raw_fd(&file)) };
    assert!(leaky > 2);
    let ran = run(&format!(
        "for fd in 0 1 2 {leaky}; do [ -e /proc/$$/fd/$fd ] && echo $fd open || echo $fd closed; done"
    ));
    // SAFETY: closes the descriptor duplicated above.
    unsafe { libc::close(leaky) };
    assert_eq!(
        ran.stdout(),
        format!("0 open\n1 open\n2 open\n{leaky} closed\n"),
        "{ran}"
    );
}

#[test]
fn a_bare_name_is_looked_up_in_the_path() {
    let ran = run_inv(
        &Invocation {
            runner: Vec::new(),
            program: PathBuf::from("sh"),
            args: vec!["-c".into(), "exit 7".into()],
        },
        false,
    );
    assert_eq!(ran.exit_code(), Some(7), "{ran}");
}

/// A file `execve` refuses, written by the test: `mode` and `content`.
fn refused(dir: &Path, mode: u32, content: &[u8]) -> PathBuf {
    let path = dir.join("refused");
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(content).unwrap();
    drop(file);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[rstest]
#[case::missing(None, libc::ENOENT, Some(io::ErrorKind::NotFound))]
#[case::not_in_path(
    Some("no-such-program-exitmatrix"),
    libc::ENOENT,
    Some(io::ErrorKind::NotFound)
)]
#[case::not_executable(Some("0644"), libc::EACCES, Some(io::ErrorKind::PermissionDenied))]
#[case::a_directory(Some("dir"), libc::EACCES, Some(io::ErrorKind::PermissionDenied))]
#[case::not_a_program(Some("0755"), libc::ENOEXEC, None)]
fn exec_errors_are_reported_precisely(
    #[case] what: Option<&str>,
    #[case] errno: i32,
    #[case] kind: Option<io::ErrorKind>,
) {
    let tmp = tempfile::tempdir().unwrap();
    let path = match what {
        None => tmp.path().join("missing"),
        Some("0644") => refused(tmp.path(), 0o644, b"#!/bin/sh\nexit 0\n"),
        Some("0755") => refused(tmp.path(), 0o755, b"\x00\x01 neither ELF nor #!\n"),
        Some("dir") => tmp.path().to_owned(),
        Some(bare) => PathBuf::from(bare),
    };
    let invocation = program(&path);
    // ETXTBSY: another test's child may briefly hold the file we just wrote
    // (it inherited the descriptor between its fork and exec).
    let err = (0..50)
        .find_map(|_| match spawn(&invocation, false) {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(Duration::from_millis(10));
                None
            }
            other => Some(other),
        })
        .expect("the file stays busy")
        .map(|s| finish(s, invocation.display()))
        .expect_err("the spawn should fail");
    assert_eq!(err.raw_os_error(), Some(errno), "{}: {err}", path.display());
    if let Some(kind) = kind {
        assert_eq!(err.kind(), kind, "{}: {err}", path.display());
    }
}

#[test]
fn an_empty_program_name_is_not_found() {
    let err = spawn(&program(""), false).map(drop).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT), "{err}");
}

/// waitpid and waitid both see how the probe ended.
#[test]
fn the_probe_is_reaped_by_pid() {
    let ran = run("exit 3");
    assert_eq!(ran.exit_code(), Some(3), "{ran}");

    let spawned = spawn(&sh("kill -TERM $$"), false).unwrap();
    // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let id = libc::id_t::try_from(spawned.pid()).unwrap();
    loop {
        // SAFETY: waitid on our own child with a valid out-pointer.
        let r = unsafe { libc::waitid(libc::P_PID, id, &mut info, libc::WEXITED) };
        if r == 0 {
            break;
        }
        assert_eq!(
            io::Error::last_os_error().kind(),
            io::ErrorKind::Interrupted
        );
    }
    spawned.finish().unwrap();
    assert_eq!(info.si_code, libc::CLD_KILLED);
    // SAFETY: waitid filled the SIGCHLD fields of the union.
    assert_eq!(unsafe { info.si_status() }, libc::SIGTERM);
}

/// Spawns from several threads at once: each has its own child stack, and
/// the directory pool is shared.
#[test]
fn spawns_from_many_threads_at_once() {
    std::thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || {
                for i in 0..25 {
                    let code = (t * 25 + i) % 200;
                    let ran = run(&format!("ls -A; exit {code}"));
                    assert_eq!(ran.exit_code(), Some(code), "{ran}");
                    assert_eq!(ran.stdout(), "", "{ran}");
                }
            });
        }
    });
}

/// Reaps `child` with `reaper`, continuing stops; `before_reap` counts its
/// calls.
fn reap_with(reaper: &dyn Reaper, child: &mut dyn Reapable) -> (Vec<Observed>, usize) {
    let mut calls = 0;
    let mut before_reap = || calls += 1;
    let mut control = reap::Control {
        continue_stops: true,
        before_reap: &mut before_reap,
    };
    let states = reaper
        .reap(child, &WaitConventions::LINUX, &mut control)
        .unwrap_or_else(|e| panic!("{}: {e}", reaper.name()));
    (states, calls)
}

/// The pid reapers follow a stop of a fast-spawned probe to its exit, by
/// the probe itself or by its bare pid, and call `before_reap` once, while
/// the probe is an unreaped zombie.
#[rstest]
#[case::waitpid_probe(&reap::WaitPid, false)]
#[case::waitpid_pid(&reap::WaitPid, true)]
#[case::waitid_probe(&reap::WaitId, false)]
#[case::waitid_pid(&reap::WaitId, true)]
fn pid_reapers_follow_a_stop_to_the_exit(#[case] reaper: &dyn Reaper, #[case] bare_pid: bool) {
    let mut spawned = spawn(&sh("kill -STOP $$; exit 3"), false).unwrap();
    let pid = spawned.pid();
    let mut zombie_at_before_reap = None;
    let mut before_reap = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(')')
            .map(|(_, a)| a.trim_start().to_owned());
        zombie_at_before_reap = Some(state.is_some_and(|s| s.starts_with('Z')));
    };
    let mut control = reap::Control {
        continue_stops: true,
        before_reap: &mut before_reap,
    };
    let mut bare = Pid(pid);
    let child: &mut dyn Reapable = if bare_pid { &mut bare } else { &mut spawned };
    let states = reaper
        .reap(child, &WaitConventions::LINUX, &mut control)
        .unwrap();
    spawned.finish().unwrap();
    let seq: Vec<StateChange> = states.iter().map(|o| o.change).collect();
    let stop = StateChange::Stopped {
        signal: Signal(libc::SIGSTOP),
    };
    let exit = StateChange::Exited { code: 3 };
    assert!(
        seq == [stop, StateChange::Continued, exit] || seq == [stop, exit],
        "{}: {seq:?}",
        reaper.name()
    );
    assert_eq!(zombie_at_before_reap, Some(true), "{}", reaper.name());
}

#[rstest]
#[case::waitpid(&reap::WaitPid)]
#[case::waitid(&reap::WaitId)]
fn pid_reapers_see_a_signal_death(#[case] reaper: &dyn Reaper) {
    let mut spawned = spawn(&sh("kill -TERM $$"), false).unwrap();
    let (states, calls) = reap_with(reaper, &mut spawned);
    spawned.finish().unwrap();
    assert_eq!(calls, 1);
    assert_eq!(
        states.iter().map(|o| o.change).collect::<Vec<_>>(),
        [StateChange::Signaled {
            signal: Signal(libc::SIGTERM),
            core_dumped: false
        }]
    );
}

/// std's reaper only reports what std's `Child::wait` says, so it refuses a
/// child std did not start, and leaves it for the caller to reap.
#[test]
fn the_std_reaper_refuses_a_child_std_did_not_start() {
    assert!(reap::StdWait.needs_std_child());
    assert!(!reap::WaitPid.needs_std_child() && !reap::WaitId.needs_std_child());
    let mut spawned = spawn(&sh("exit 5"), false).unwrap();
    let mut nothing = || {};
    let mut control = reap::Control {
        continue_stops: true,
        before_reap: &mut nothing,
    };
    let err = reap::StdWait
        .reap(&mut spawned, &WaitConventions::LINUX, &mut control)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    reap::discard(&mut spawned).unwrap();
    spawned.finish().unwrap();
}

fn case(invocation: &Invocation) -> Case<'_> {
    Case {
        invocation,
        core: false,
        wait: &WaitConventions::LINUX,
        timeout: Duration::from_secs(30),
        grace: Duration::from_secs(1),
        continue_stops: true,
        interrupt: None,
    }
}

/// The `waitpid` and `waitid` observers start probes by the fast path (the
/// working directory starts empty) and the `std` observer through std's
/// `Command` (its capture files are in the directory); every guarantee
/// holds on both.
#[rstest]
#[case::waitpid("waitpid", "")]
#[case::waitid("waitid", "")]
#[case::std("std", ".exitmatrix-stderr .exitmatrix-stdout")]
fn direct_observers_spawn_by_their_reapers_path(#[case] name: &str, #[case] listing: &str) {
    // SAFETY: SIGUSR2 to SIG_IGN affects nothing else in the test binary,
    // which never uses SIGUSR2 (the spawn tests ignore it too).
    unsafe { libc::signal(libc::SIGUSR2, libc::SIG_IGN) };
    // The shell's own environment as it was exec'd (the shell itself adds
    // PWD to what `env` would print), and its ignored signals (not its
    // mask, which the shell changes while it waits for a command).
    let script = "echo $(ls -A); echo $(tr '\\0' ' ' < /proc/$$/environ); ulimit -c; \
        grep '^SigIgn' /proc/$$/status; \
        [ $$ = $(cut -d' ' -f5 /proc/$$/stat) ] && echo leader; cat; echo err >&2; exit 4";
    let invocation = sh(script);
    let observer = exitmatrix::observers::registry::by_name(name).unwrap();
    let seen = observer.observe(&case(&invocation)).unwrap();
    let out = String::from_utf8_lossy(&seen.leftovers.stdout);
    let want = format!("{listing}\n\n0\nSigIgn:\t0000000000000000\nleader\n");
    assert_eq!(out, want, "{name}: {seen:?}");
    assert_eq!(seen.leftovers.stderr, b"err\n", "{name}: {seen:?}");
    assert_eq!(
        seen.states.last().map(|o| o.change),
        Some(StateChange::Exited { code: 4 }),
        "{name}: {seen:?}"
    );
    assert!(seen.watchdog.is_empty(), "{name}: {seen:?}");
}

/// A probe that cannot be started is an error of the observer, which leaves
/// no child behind.
#[rstest]
#[case::waitpid("waitpid")]
#[case::waitid("waitid")]
#[case::std("std")]
fn a_direct_observer_reports_a_missing_probe(#[case] name: &str) {
    let invocation = program("/nonexistent/probe");
    let observer = exitmatrix::observers::registry::by_name(name).unwrap();
    let err = observer.observe(&case(&invocation)).unwrap_err();
    assert!(
        err.starts_with("cannot spawn /nonexistent/probe: ") && err.contains("No such file"),
        "{name}: {err}"
    );
}

/// A used capture file is never handed on: a grandchild that outlives its
/// probe and writes late goes into its own probe's (closed by the harness)
/// file, never into the next probe's output.
#[test]
fn a_late_write_of_an_earlier_probe_never_reaches_a_later_one() {
    // The grandchild leaves the probe's group (setsid needs no shell job
    // control) so that nothing here kills it; it writes after the next
    // probe has started and before it ends.
    let first = run("setsid sh -c 'sleep 0.3; echo late; echo late >&2' & echo early");
    assert_eq!(first.stdout(), "early\n", "{first}");
    for _ in 0..2 {
        let next = run("sleep 0.6; echo next");
        assert_eq!(next.stdout(), "next\n", "{next}");
        assert_eq!(String::from_utf8_lossy(&next.left.stderr), "", "{next}");
    }
}

/// The directory is listed in `getdents64` batches of its own buffer; a
/// probe that leaves more names than one batch holds has every one found.
#[test]
fn every_core_file_is_listed_however_many() {
    let ran = run("i=0; while [ $i -lt 300 ]; do : > core.$i; i=$((i+1)); done; : > other");
    assert_eq!(ran.exit_code(), Some(0), "{ran}");
    let mut want: Vec<String> = (0..300).map(|i| format!("core.{i}")).collect();
    want.sort();
    assert_eq!(ran.left.cores, want, "{}", ran.command);
    assert!(!ran.dir.exists(), "{} was not removed", ran.dir.display());
}

/// A disposition the process changes to "ignore" between two spawns is
/// at its default in the next probe (nothing about the ignored set is
/// remembered from one spawn to the next), and the child's resets, made
/// while it shares the parent's memory, leave the parent's own
/// dispositions as they were (clone(2): without `CLONE_SIGHAND` the child
/// has a copy of the table).
#[test]
fn a_signal_ignored_between_spawns_is_at_its_default_in_the_probe() {
    let grep = Invocation {
        runner: Vec::new(),
        program: PathBuf::from("grep"),
        args: vec!["^SigIgn".into(), "/proc/self/status".into()],
    };
    let before = run_inv(&grep, false);
    assert_eq!(before.stdout(), "SigIgn:\t0000000000000000\n", "{before}");
    // SIGRTMAX - 1: no test and neither libc nor std uses it.
    let signal = libc::SIGRTMAX() - 1;
    // SAFETY: SIG_IGN for a signal nothing in this binary uses.
    let old = unsafe { libc::signal(signal, libc::SIG_IGN) };
    let after = run_inv(&grep, false);
    // SAFETY: reads the disposition into a valid sigaction.
    let still = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut action);
        action.sa_sigaction
    };
    // SAFETY: puts back what was there.
    unsafe { libc::signal(signal, old) };
    assert_eq!(after.stdout(), "SigIgn:\t0000000000000000\n", "{after}");
    assert_eq!(still, libc::SIG_IGN, "the parent's disposition changed");
}
