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
//! ```
//!
//! Signal names are resolved with the target's [`SignalTable`], so the same
//! words mean SIGSTOP = 19 on x86_64 Linux and 23 on MIPS Linux. A signal the
//! table does not name is written as its number (`signal 77`).

use crate::decode::Termination;
use crate::signal::SignalTable;

/// An outcome, parsed and resolved for one target.
pub type Sequence = Vec<Termination>;

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
            ["exit", code] => Termination::Exited {
                code: code.parse().map_err(|_| format!("`{code}` is not an exit code (a whole number)"))?,
            },
            ["signal", name] => Termination::Signaled {
                signal: signal(name)?,
                core_dumped: false,
            },
            ["signal", name, "core"] => Termination::Signaled {
                signal: signal(name)?,
                core_dumped: true,
            },
            ["stopped", name] => Termination::Stopped { signal: signal(name)? },
            ["continued"] => Termination::Continued,
            [] => return Err(format!("empty state in outcome `{text}`")),
            _ => {
                return Err(format!(
                    "cannot read `{}`: expected `exit N`, `signal NAME`, `signal NAME core`, `stopped NAME` or `continued`",
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

/// Shows a sequence in the words [`parse`] reads.
pub fn display(states: &[Termination], table: &SignalTable) -> String {
    let parts: Vec<String> = states
        .iter()
        .map(|s| s.display(table).to_string())
        .collect();
    parts.join(", ")
}
