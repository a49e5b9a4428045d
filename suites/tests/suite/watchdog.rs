//! The watchdog's guard: a deadline never outlives the probe it was armed
//! for, on the paths that reap and on the paths that fail.
//!
//! The hazard these tests close: a deadline left armed after its probe was
//! reaped fires later at a process group id the kernel may have handed to
//! someone else (`kill(2)`: a negative pid names a process group; a reaped
//! leader's pid is free for reuse).

use std::path::PathBuf;
use std::time::Duration;

use exitmatrix::observers::observe::{reap_watched, Case};
use exitmatrix::process::probe::Probe;
use exitmatrix::process::reap;
use exitmatrix::process::spawn::Invocation;
use exitmatrix::process::watchdog::Watchdog;
use exitmatrix::pure::decode::WaitConventions;

fn sleeper() -> Invocation {
    Invocation {
        runner: Vec::new(),
        program: PathBuf::from("/bin/sleep"),
        args: vec!["30".into()],
    }
}

fn case(invocation: &Invocation) -> Case<'_> {
    Case {
        invocation,
        core: false,
        wait: &WaitConventions::LINUX,
        timeout: Duration::from_secs(60),
        grace: Duration::from_secs(1),
        continue_stops: true,
        interrupt: None,
    }
}

/// `kill(pid, 0)` fails with ESRCH once the pid is reaped (kill(2)).
fn exists(pid: i32) -> bool {
    // SAFETY: signal 0 checks for existence and delivers nothing.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn dropping_the_guard_disarms() {
    let dog = Watchdog::global();
    // A group id nothing uses: the deadline is far away, so the watchdog
    // never sends to it while the test looks.
    let pgid = i32::MAX - 7;
    let armed = dog.arm(pgid, Duration::from_secs(600), Duration::from_secs(1), None);
    assert!(dog.watches(pgid), "arming watches the group");
    drop(armed);
    assert!(!dog.watches(pgid), "dropping the guard disarms it");

    let armed = dog.arm(pgid, Duration::from_secs(600), Duration::from_secs(1), None);
    assert_eq!(armed.disarm(), Vec::<&str>::new(), "nothing was sent");
    assert!(!dog.watches(pgid), "disarm removes the deadline");
}

/// A reaper that fails before it sees the probe end (std's `Child::wait`
/// cannot wait for a child that std did not start: `InvalidInput`) takes
/// the error path of `reap_watched`. Before the guard, that path killed and
/// reaped the probe but left its deadline armed.
#[test]
fn a_failed_reap_disarms_before_it_reaps() {
    let invocation = sleeper();
    let case = case(&invocation);
    let mut probe = Probe::spawn(false, &invocation, false).expect("spawn /bin/sleep");
    let pid = probe.child().pid();
    assert!(exists(pid));
    let err = reap_watched(&reap::StdWait, probe.child(), &case).expect_err("std cannot wait");
    assert!(err.contains("std failed"), "{err}");
    assert!(
        !Watchdog::global().watches(pid),
        "the deadline of a reaped probe's group is still armed"
    );
    assert!(!exists(pid), "the probe was killed and reaped");
    probe.finish().expect("collect the output");
}

/// The ordinary path disarms too, and reports that nothing was sent.
#[test]
fn a_reaped_probe_leaves_no_deadline() {
    let invocation = Invocation {
        runner: Vec::new(),
        program: PathBuf::from("/bin/true"),
        args: Vec::new(),
    };
    let case = case(&invocation);
    let mut probe = Probe::spawn(false, &invocation, false).expect("spawn /bin/true");
    let pid = probe.child().pid();
    let (states, sent) = reap_watched(&reap::WaitPid, probe.child(), &case).expect("reaped");
    assert_eq!(states.len(), 1, "{states:?}");
    assert!(sent.is_empty(), "{sent:?}");
    assert!(!Watchdog::global().watches(pid));
    probe.finish().expect("collect the output");
}

/// Arming wakes the watchdog thread only for a deadline before the time it
/// already wakes at by itself; a waiting watchdog must never sleep past a
/// deadline, and one that is not waiting sees every entry before it waits.
#[test]
fn the_watchdog_is_woken_only_for_a_sooner_deadline() {
    use exitmatrix::process::watchdog::must_wake;
    use std::time::Instant;
    let now = Instant::now();
    let ms = Duration::from_millis;
    assert!(must_wake(Some(now + ms(50)), now + ms(10)));
    assert!(!must_wake(Some(now + ms(50)), now + ms(50)));
    assert!(!must_wake(Some(now + ms(50)), now + ms(10_000)));
    assert!(!must_wake(None, now + ms(10)));
}

/// A deadline sooner than the watchdog's own next wake-up is still kept:
/// with a far deadline armed (the watchdog then sleeps its full poll), a
/// probe with a 20 ms timeout is sent SIGTERM.
#[test]
fn a_sooner_deadline_is_kept_while_the_watchdog_sleeps() {
    let dog = Watchdog::global();
    let far = dog.arm(
        i32::MAX - 9,
        Duration::from_secs(600),
        Duration::from_secs(1),
        None,
    );
    std::thread::sleep(Duration::from_millis(5));
    let invocation = sleeper();
    let mut case = case(&invocation);
    case.timeout = Duration::from_millis(20);
    let mut probe = Probe::spawn(false, &invocation, false).unwrap();
    let (states, sent) = reap_watched(&reap::WaitPid, probe.child(), &case).unwrap();
    drop(far);
    probe.finish().unwrap();
    assert_eq!(sent, ["SIGTERM"], "{states:?}");
}
