//! waitid's whole `siginfo_t`: besides `si_code` and `si_status`, the
//! `waitid` reaper checks `si_pid`, `si_uid` and the `si_status` of
//! `CLD_CONTINUED` on every state it reaps. A mutated value must be
//! caught; the real kernel's values must pass.

use std::time::Duration;

use exitmatrix::observers::observe::Case;
use exitmatrix::observers::registry;
use exitmatrix::process::spawn::Invocation;
use exitmatrix::pure::catalogue::{Build, ProbeBin};
use exitmatrix::pure::decode::{self, SigInfoFields, StateChange, WaitConventions};
use exitmatrix::pure::signal::{Signal, LINUX_GENERIC};

use crate::common::probes;

/// Linux's SIGCONT (asm-generic numbering, as the host's).
fn sigcont() -> i32 {
    LINUX_GENERIC.number("SIGCONT").unwrap().0
}

fn fields(code: i32, status: i32) -> SigInfoFields {
    SigInfoFields {
        code,
        status,
        pid: 4242,
        uid: 1000,
    }
}

#[test]
fn what_the_kernel_should_say_passes() {
    for info in [
        fields(decode::CLD_EXITED, 7),
        fields(decode::CLD_KILLED, 15),
        fields(decode::CLD_DUMPED, 6),
        fields(decode::CLD_STOPPED, 19),
        fields(decode::CLD_CONTINUED, sigcont()),
    ] {
        assert_eq!(
            decode::siginfo_problem(&info, 4242, 1000, sigcont()),
            None,
            "{info:?}"
        );
    }
}

#[test]
fn a_mutated_pid_uid_or_continued_status_is_caught() {
    let check = |info: SigInfoFields| decode::siginfo_problem(&info, 4242, 1000, sigcont());
    let wrong_pid = SigInfoFields {
        pid: 4243,
        ..fields(decode::CLD_EXITED, 0)
    };
    assert!(check(wrong_pid).unwrap().contains("si_pid 4243"));
    let wrong_uid = SigInfoFields {
        uid: 0,
        ..fields(decode::CLD_KILLED, 9)
    };
    assert!(check(wrong_uid).unwrap().contains("si_uid 0"));
    // LTP's waitid tests assert SIGCONT; Linux's wait_task_continued sets it.
    let wrong_status = fields(decode::CLD_CONTINUED, 19);
    assert!(check(wrong_status)
        .unwrap()
        .contains("CLD_CONTINUED with si_status 19"));
    // si_status 0 (an all-zero siginfo_t) is not SIGCONT either.
    assert!(check(fields(decode::CLD_CONTINUED, 0)).is_some());
}

/// `si_status` of `CLD_STOPPED` is the state's signal, so a mutated one
/// is a different state and the expectation (`stopped SIGSTOP`) catches it.
#[test]
fn a_mutated_stop_signal_is_another_state() {
    let sigstop = LINUX_GENERIC.number("SIGSTOP").unwrap();
    assert_eq!(
        decode::decode_siginfo(decode::CLD_STOPPED, sigstop.0),
        StateChange::Stopped { signal: sigstop }
    );
    assert_ne!(
        decode::decode_siginfo(decode::CLD_STOPPED, sigstop.0 + 1),
        StateChange::Stopped { signal: sigstop }
    );
    assert_eq!(
        decode::decode_siginfo(decode::CLD_STOPPED, 20),
        StateChange::Stopped { signal: Signal(20) }
    );
}

/// The real waitid on a probe that stops, is continued and exits: every
/// state passes the check (the reaper would fail the case otherwise), and
/// the stop signal is SIGSTOP, as LTP asserts.
#[test]
fn the_real_siginfo_of_a_stop_continue_and_exit_passes() {
    let waitid = registry::by_name("waitid").unwrap();
    let sigstop = LINUX_GENERIC.number("SIGSTOP").unwrap();
    let invocation = Invocation {
        runner: Vec::new(),
        program: probes().path(Build::Unwind, ProbeBin::Probe).unwrap(),
        args: vec![
            "raise-then-exit".to_owned(),
            sigstop.0.to_string(),
            "7".to_owned(),
        ],
    };
    let case = Case {
        invocation: &invocation,
        core: false,
        wait: &WaitConventions::LINUX,
        timeout: Duration::from_secs(30),
        grace: Duration::from_secs(1),
        continue_stops: true,
        interrupt: None,
    };
    let seen = waitid
        .observe(&case)
        .unwrap_or_else(|e| panic!("waitid: {e}"));
    let states: Vec<StateChange> = seen.states.iter().map(|o| o.change).collect();
    assert_eq!(states[0], StateChange::Stopped { signal: sigstop });
    assert_eq!(states.last(), Some(&StateChange::Exited { code: 7 }));
    // Whether CLD_CONTINUED is reported before the exit is a race (the
    // README's table leaves it out); when it is, it passed the check.
    assert!(states.len() == 2 || states[1] == StateChange::Continued, "{states:?}");
}
