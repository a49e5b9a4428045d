//! The outcome words of profiles: parsing, display, and their round trip.

use exitmatrix::pure::decode::StateChange;
use exitmatrix::pure::outcome;
use exitmatrix::pure::signal::{Signal, LINUX_GENERIC, LINUX_MIPS};
use proptest::prelude::*;
use rstest::rstest;

#[rstest]
#[case::exit("exit 0", vec![StateChange::Exited { code: 0 }])]
#[case::exit_negative("exit -1", vec![StateChange::Exited { code: -1 }])]
#[case::signal("signal SIGTERM", vec![StateChange::Signaled { signal: Signal(15), core_dumped: false }])]
#[case::signal_core("signal SIGABRT core", vec![StateChange::Signaled { signal: Signal(6), core_dumped: true }])]
#[case::alias("signal SIGIOT", vec![StateChange::Signaled { signal: Signal(6), core_dumped: false }])]
#[case::number("signal 77", vec![StateChange::Signaled { signal: Signal(77), core_dumped: false }])]
#[case::sequence(
    "stopped SIGSTOP, continued, exit 7",
    vec![StateChange::Stopped { signal: Signal(19) }, StateChange::Continued, StateChange::Exited { code: 7 }]
)]
fn parses(#[case] text: &str, #[case] expected: Vec<StateChange>) {
    assert_eq!(outcome::parse(text, &LINUX_GENERIC).unwrap(), expected);
}

/// The same words mean the target's own numbers: SIGSTOP is 23 on MIPS.
#[test]
fn names_resolve_with_the_targets_table() {
    let mips = outcome::parse("stopped SIGSTOP, exit 0", &LINUX_MIPS).unwrap();
    assert_eq!(mips[0], StateChange::Stopped { signal: Signal(23) });
}

#[rstest]
#[case::empty("", "empty state")]
#[case::unknown_word("vanished", "cannot read `vanished`")]
#[case::bad_code("exit lots", "not an exit code")]
#[case::unknown_signal("signal SIGFOO", "unknown signal name `SIGFOO`")]
#[case::zero_signal("signal 0", "unknown signal name `0`")]
#[case::ends_stopped("stopped SIGSTOP", "must end with exactly one final state")]
#[case::two_finals("exit 0, exit 1", "must end with exactly one final state")]
fn rejects(#[case] text: &str, #[case] needle: &str) {
    let err = outcome::parse(text, &LINUX_GENERIC).unwrap_err();
    assert!(err.contains(needle), "{err}");
}

fn state() -> impl Strategy<Value = StateChange> {
    prop_oneof![
        (1..=64i32).prop_map(|s| StateChange::Stopped { signal: Signal(s) }),
        Just(StateChange::Continued),
    ]
}

fn final_state() -> impl Strategy<Value = StateChange> {
    prop_oneof![
        any::<i64>().prop_map(|code| StateChange::Exited { code }),
        (1..=127i32, any::<bool>()).prop_map(|(s, core_dumped)| StateChange::Signaled {
            signal: Signal(s),
            core_dumped
        }),
    ]
}

proptest! {
    /// Whatever the matrix shows, a profile can say back.
    #[test]
    fn display_then_parse_round_trips(mut seq in prop::collection::vec(state(), 0..4), last in final_state()) {
        seq.push(last);
        let text = outcome::display(&seq, &LINUX_GENERIC);
        prop_assert_eq!(outcome::parse(&text, &LINUX_GENERIC).unwrap(), seq);
    }
}
