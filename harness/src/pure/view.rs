//! What a parent reports, and how that follows from the probe's ending.
//!
//! A shell does not hand its script a wait status: it sets `$?` to a number.
//! Python's `subprocess` gives `returncode`, `multiprocessing` gives
//! `exitcode`, and `os.waitstatus_to_exitcode` gives a number or raises
//! `ValueError`. Such a parent is a *view* of the ending, and its column
//! holds [`Reported`] values instead of wait states.
//!
//! A view's expectation is not written twice. A profile's `[[observer]]`
//! table gives the view's [`Mapping`] (for bash: an exit code N is reported
//! as N, a signal N as 128+N), and the expectation of a cell is the mapping
//! applied to the expectation of the same cell for a direct reaper
//! (`waitpid`). Everything here is pure: no system call, no I/O.
//!
//! Profile words for reported values, comma-separated when there are
//! several:
//!
//! ```text
//! 143                   a number ($?, returncode, exitcode)
//! -15
//! ValueError            the parent raised this instead of giving a number
//! ValueError, 7         waitstatus_to_exitcode on a stop, then on the exit
//! parent exit 2         the parent itself ended (as waitpid saw it) before
//! parent signal SIGTERM it reported anything
//! ```

use std::fmt;

use serde::Serialize;

use crate::pure::decode::StateChange;
use crate::pure::outcome;
use crate::pure::signal::SignalTable;

/// One value a parent reported.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reported {
    /// A number: `$?`, `returncode`, `exitcode`, the result of
    /// `waitstatus_to_exitcode`.
    Code {
        /// The number as the parent gave it.
        value: i64,
    },
    /// The parent raised this exception instead of giving a number.
    Raised {
        /// The exception's class name (`ValueError`).
        exception: String,
    },
    /// The parent itself ended before it reported anything (a shell that
    /// rejected `set -o pipefail`, a shell that replaced itself with the
    /// command): its own ending, as the harness's `waitpid` saw it.
    Parent {
        /// The parent's ending.
        ending: StateChange,
    },
}

impl Reported {
    /// Shows the value with `table`'s signal names, in the words [`parse`]
    /// reads.
    pub fn display<'a>(&'a self, table: &'a SignalTable) -> impl fmt::Display + 'a {
        ReportedDisplay {
            reported: self,
            table,
        }
    }
}

struct ReportedDisplay<'a> {
    reported: &'a Reported,
    table: &'a SignalTable,
}

impl fmt::Display for ReportedDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reported {
            Reported::Code { value } => write!(f, "{value}"),
            Reported::Raised { exception } => f.write_str(exception),
            Reported::Parent { ending } => write!(f, "parent {}", ending.display(self.table)),
        }
    }
}

/// Shows a sequence of reported values, comma-separated.
pub fn display(values: &[Reported], table: &SignalTable) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|v| v.display(table).to_string())
        .collect();
    parts.join(", ")
}

/// Whether an outcome is written in reported-value words (a number, an
/// exception name, `parent ...`) rather than in wait-state words (`exit`,
/// `signal`, `stopped`, `continued`).
pub fn is_reported_words(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or("");
    !matches!(
        first,
        "exit" | "signal" | "stopped" | "continued" | "trap" | "ntstatus"
    )
}

/// Parses reported-value words (`"143"`, `"ValueError, 7"`,
/// `"parent exit 2"`). The error is a lowercase fragment.
pub fn parse(text: &str, table: &SignalTable) -> Result<Vec<Reported>, String> {
    let mut values = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err(format!("empty value in outcome `{text}`"));
        }
        let value = if let Some(ending) = part.strip_prefix("parent ") {
            let states = outcome::parse(ending, table)?;
            match states.as_slice() {
                [ending] => Reported::Parent { ending: *ending },
                _ => {
                    return Err(format!(
                        "`{part}`: a parent's own ending is one final state"
                    ))
                }
            }
        } else if let Ok(value) = part.parse::<i64>() {
            Reported::Code { value }
        } else if is_exception_name(part) {
            Reported::Raised {
                exception: part.to_owned(),
            }
        } else {
            return Err(format!(
                "cannot read `{part}`: expected a number, an exception name such as `ValueError`, or `parent exit N` / `parent signal NAME`"
            ));
        };
        values.push(value);
    }
    Ok(values)
}

fn is_exception_name(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_uppercase())
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `offset ± N`: how a number N (an exit code or a signal number) becomes
/// the reported value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Formula {
    /// Added to the signed N.
    pub offset: i64,
    /// Whether N is negated first (`-N`).
    pub negate: bool,
}

impl Formula {
    /// N itself.
    pub const IDENTITY: Formula = Formula {
        offset: 0,
        negate: false,
    };

    /// Parses `N`, `-N`, `128+N`, `256+N`, ... The error is a lowercase
    /// fragment.
    pub fn parse(text: &str) -> Result<Formula, String> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (offset, rest) = match compact.split_once('+') {
            Some((offset, rest)) => (
                offset
                    .parse::<i64>()
                    .map_err(|_| format!("`{text}`: `{offset}` is not a whole number"))?,
                rest,
            ),
            None => (0, compact.as_str()),
        };
        let negate = match rest {
            "N" => false,
            "-N" => true,
            _ => {
                return Err(format!(
                    "cannot read formula `{text}`: expected `N`, `-N` or `<number>+N` (such as `128+N`)"
                ))
            }
        };
        Ok(Formula { offset, negate })
    }

    /// The reported value for `n`.
    pub fn apply(self, n: i64) -> i64 {
        self.offset + if self.negate { -n } else { n }
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = if self.negate { "-N" } else { "N" };
        if self.offset == 0 {
            f.write_str(n)
        } else {
            write!(f, "{}+{n}", self.offset)
        }
    }
}

/// What a view reports for a state that is not an ending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Effect {
    /// Nothing: the parent never learns of the state (a shell without job
    /// control waits without `WUNTRACED`). The harness continues a stopped
    /// probe, so the parent only sees how it ends.
    Unseen,
    /// The parent raises this exception for the state.
    Raises {
        /// The exception's class name.
        exception: String,
    },
}

impl Effect {
    /// Parses `unseen` or an exception name such as `ValueError`.
    pub fn parse(text: &str) -> Result<Effect, String> {
        match text.trim() {
            "unseen" => Ok(Effect::Unseen),
            name if is_exception_name(name) => Ok(Effect::Raises {
                exception: name.to_owned(),
            }),
            other => Err(format!(
                "cannot read `{other}`: expected `unseen` or an exception name such as `ValueError`"
            )),
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::Unseen => f.write_str("unseen"),
            Effect::Raises { exception } => f.write_str(exception),
        }
    }
}

/// How one view reports each kind of state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mapping {
    /// An exit with code N (the code as `waitpid` sees it: 8 bits).
    pub exit: Formula,
    /// Death by signal N, with or without a core dump.
    pub signal: Formula,
    /// A stop.
    pub stopped: Effect,
    /// A continuation.
    pub continued: Effect,
}

impl Mapping {
    /// What the view reports for a probe whose states, as a direct reaper
    /// sees them, are `states`.
    ///
    /// The core flag is dropped (`$?` is 128+N with or without a core), and
    /// a state the view does not see leaves no value.
    pub fn apply(&self, states: &[StateChange]) -> Vec<Reported> {
        let effect = |e: &Effect| match e {
            Effect::Unseen => None,
            Effect::Raises { exception } => Some(Reported::Raised {
                exception: exception.clone(),
            }),
        };
        states
            .iter()
            .filter_map(|state| match *state {
                StateChange::Exited { code } => Some(Reported::Code {
                    value: self.exit.apply(code),
                }),
                StateChange::Signaled { signal, .. } => Some(Reported::Code {
                    value: self.signal.apply(i64::from(signal.0)),
                }),
                StateChange::Stopped { .. } => effect(&self.stopped),
                StateChange::Continued => effect(&self.continued),
                // Profiles cannot name an unrecognised status, so it never
                // reaches a mapping; a view of one would report it as is.
                StateChange::Unrecognised { .. } => None,
                // Only a WASI embedding reports a trap, and no shell or
                // Python parent runs a WebAssembly module.
                StateChange::Trapped { .. } => None,
            })
            .collect()
    }
}

impl fmt::Display for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit N → {}, signal N → {}, stopped → {}, continued → {}",
            self.exit, self.signal, self.stopped, self.continued
        )
    }
}
