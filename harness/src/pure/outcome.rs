//! The words profiles use for an outcome, and their meaning.
//!
//! An outcome is a sequence of states separated by commas, ending with a
//! final one:
//!
//! ```text
//! exit 0
//! signal SIGABRT core
//! signal SIGTERM
//! stopped SIGSTOP, continued, exit 7
//! ntstatus STATUS_STACK_BUFFER_OVERRUN
//! exit 0xC0000409
//! trap unreachable
//! ```
//!
//! `ntstatus NAME` is the Windows exit code that NTSTATUS name stands for
//! (see [`crate::pure::decode::NTSTATUS`]; `STILL_ACTIVE` is 259), and `exit 0x…`
//! an exit code in hex: both are `Exited`, so `exit 0xC0000409`,
//! `exit 3221226505` and `ntstatus STATUS_STACK_BUFFER_OVERRUN` are the same
//! outcome. `trap KIND` is a WebAssembly trap (see [`crate::pure::decode::Trap`]).
//!
//! Signal names are resolved with the target's [`SignalTable`], so the same
//! words mean SIGSTOP = 19 on x86_64 Linux and 23 on MIPS Linux. A signal the
//! table does not name is written as its number (`signal 77`).

use crate::pure::decode::StateChange;
use crate::pure::signal::SignalTable;

/// An outcome, parsed and resolved for one target.
pub type Sequence = Vec<StateChange>;

/// Parses one outcome (`"stopped SIGSTOP, continued, exit 7"`).
///
/// The error is a lowercase fragment for the caller to place.
pub fn parse(text: &str, table: &SignalTable) -> Result<Sequence, String> {
    let mut states = Vec::new();
    for part in text.split(',') {
        let words: Vec<&str> = part.split_whitespace().collect();
        let signal = |name: &str| {
            table.parse(name).ok_or_else(|| {
                format!(
                    "unknown signal name `{name}` for signal table {}",
                    table.name
                )
            })
        };
        let state = match words.as_slice() {
            ["exit", code] => StateChange::Exited {
                code: exit_code(code).ok_or_else(|| format!("`{code}` is not an exit code (a whole number, or hex with 0x)"))?,
            },
            ["ntstatus", name] => StateChange::Exited {
                code: crate::pure::decode::ntstatus_code(name)
                    .map(i64::from)
                    .ok_or_else(|| format!("unknown NTSTATUS name `{name}`"))?,
            },
            ["trap", kind] => StateChange::Trapped {
                trap: crate::pure::decode::Trap::from_name(kind)
                    .ok_or_else(|| format!("unknown trap `{kind}`"))?,
            },
            ["signal", name] => StateChange::Signaled {
                signal: signal(name)?,
                core_dumped: false,
            },
            ["signal", name, "core"] => StateChange::Signaled {
                signal: signal(name)?,
                core_dumped: true,
            },
            ["stopped", name] => StateChange::Stopped { signal: signal(name)? },
            ["continued"] => StateChange::Continued,
            [] => return Err(format!("empty state in outcome `{text}`")),
            _ => {
                return Err(format!(
                    "cannot read `{}`: expected `exit N`, `signal NAME`, `signal NAME core`, `stopped NAME`, `continued`, `ntstatus NAME` or `trap KIND`",
                    part.trim()
                ))
            }
        };
        states.push(state);
    }
    match states.split_last() {
        Some((last, rest)) if last.is_final() && rest.iter().all(|s| !s.is_final()) => Ok(states),
        _ => Err(format!(
            "outcome `{text}` must end with exactly one final state (exit or signal)"
        )),
    }
}

/// An exit code: decimal, possibly negative, or hex with `0x` (Windows
/// codes, `0xC0000409`).
fn exit_code(word: &str) -> Option<i64> {
    match word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok().filter(|n| *n >= 0),
        None => word.parse().ok(),
    }
}

/// Shows a sequence in the words [`parse`] reads.
pub fn display(states: &[StateChange], table: &SignalTable) -> String {
    let parts: Vec<String> = states
        .iter()
        .map(|s| s.display(table).to_string())
        .collect();
    parts.join(", ")
}
