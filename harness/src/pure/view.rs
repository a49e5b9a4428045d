//! What a parent reports, and how that follows from the probe's ending.
//!
//! A shell does not hand its script a wait status: it sets `$?` to a number.
//! Python's `subprocess` gives `returncode`, `multiprocessing` gives
//! `exitcode`, and `os.waitstatus_to_exitcode` gives a number or raises
//! `ValueError`; Java's `Process.waitFor()` gives a number, and Plan 9's rc
//! sets `$status` to a string, the wait message. Such a parent is a *view*
//! of the ending, and its column holds [`Reported`] values instead of wait
//! states.
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
//! 'signal: kill'        a string (rc's $status), quoted as rc quotes it:
//! ''                    the null string; 'it''s' holds one quote
//! ValueError            the parent raised this instead of giving a number
//! ValueError, 7         waitstatus_to_exitcode on a stop, then on the exit
//! parent exit 2         the parent itself ended (as waitpid saw it) before
//! parent signal SIGTERM it reported anything
//! ```

use std::fmt;

use serde::Serialize;

use crate::pure::decode::StateChange;
use crate::pure::outcome;
use crate::pure::plan9;
use crate::pure::signal::{self, SignalTable};

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
    /// A string: rc's `$status`, the wait message of a Plan 9 process
    /// (`''` for success, `3`, `signal: kill`).
    Text {
        /// The string as the parent gave it.
        value: String,
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
            Reported::Text { value } => write!(f, "'{}'", value.replace('\'', "''")),
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

/// Whether an outcome is written in reported-value words (a number, a
/// quoted string, an exception name, `parent ...`) rather than in
/// wait-state words (`exit`, `signal`, `stopped`, `continued`).
pub fn is_reported_words(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or("");
    !matches!(
        first,
        "exit" | "signal" | "stopped" | "continued" | "trap" | "ntstatus"
    )
}

/// Parses reported-value words (`"143"`, `"ValueError, 7"`,
/// `"'signal: kill'"`, `"parent exit 2"`). The error is a lowercase
/// fragment.
pub fn parse(text: &str, table: &SignalTable) -> Result<Vec<Reported>, String> {
    let mut values = Vec::new();
    for part in split_values(text)? {
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
        } else if part.starts_with('\'') {
            Reported::Text {
                value: unquote(part)?,
            }
        } else if let Ok(value) = part.parse::<i64>() {
            Reported::Code { value }
        } else if is_exception_name(part) {
            Reported::Raised {
                exception: part.to_owned(),
            }
        } else {
            return Err(format!(
                "cannot read `{part}`: expected a number, a quoted string such as `'signal: kill'`, an exception name such as `ValueError`, or `parent exit N` / `parent signal NAME`"
            ));
        };
        values.push(value);
    }
    Ok(values)
}

/// Splits `text` at the commas that are outside quotes.
fn split_values(text: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return Err(format!("unterminated quote in outcome `{text}`"));
    }
    parts.push(&text[start..]);
    Ok(parts)
}

/// The string a quoted word holds: `'it''s'` is `it's`, `''` the null
/// string. This is rc's quoting, which the profile words borrow; the error
/// is a lowercase fragment.
pub fn unquote(word: &str) -> Result<String, String> {
    let inner = word
        .strip_prefix('\'')
        .and_then(|w| w.strip_suffix('\''))
        .ok_or_else(|| format!("`{word}`: a quoted string ends with a quote"))?;
    let mut value = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return Err(format!(
                "`{word}`: a quote inside a quoted string is written twice (`''`)"
            ));
        }
        value.push(c);
    }
    Ok(value)
}

fn is_exception_name(word: &str) -> bool {
    // `::` for a namespaced class (Ruby's `Errno::ENOENT`).
    word.starts_with(|c: char| c.is_ascii_uppercase())
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// How a number N (an exit code or a signal number) becomes the reported
/// value: `offset ± N`, a number; a fixed number (Go's `-1`); `wait(N)`,
/// the raw wait word (Perl's `$?`); or a string: `plan9(N)`, Plan 9's wait
/// message, `node(N)`, Node.js's `status` and `signal`, `ruby(N)`, Ruby's
/// `Process::Status` accessors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Formula {
    /// `N`, `-N`, `128+N`, ...: a number.
    Number {
        /// Added to the signed N.
        offset: i64,
        /// Whether N is negated first (`-N`).
        negate: bool,
    },
    /// `plan9(N)`: a string, the wait message Plan 9's C library makes of
    /// the state ([`crate::pure::plan9`]; rc's `$status`): for an exit, N in
    /// decimal and the null string for 0; for a signal, `signal: ` and the
    /// signal's note, with ` (core dumped)` after a core dump.
    Plan9,
    /// `int32(N)`: N's low 32 bits read as a signed 32-bit integer (a
    /// Windows exit code, a `DWORD`, as `cmd.exe` keeps `%ERRORLEVEL%`: an
    /// `int`, so 0xC0000409 reads -1073740791).
    Int32,
    /// A number that does not depend on N (`-1`: Go's `ExitCode()` for a
    /// death by signal).
    Constant {
        /// The number.
        value: i64,
    },
    /// `wait(N)`: the raw wait word, Linux's layout (Perl's `$?`, "the
    /// 16-bit status word returned by the traditional Unix wait() system
    /// call", perlvar): an exit with code N is `N << 8`, a death by signal
    /// N is N, with 128 added after a core dump.
    WaitWord,
    /// `node(N)`: the `status` and `signal` fields of what Node.js's
    /// `child_process.spawnSync` returns, as the string `status: N, signal:
    /// null` for an exit and `status: null, signal: SIGNAME` for a death by
    /// signal (the signal's name in the profile's table, its number if the
    /// table has no name).
    Node,
    /// `ruby(N)`: the accessors of Ruby's `Process::Status` that are not
    /// `nil` or `false`, as the string `exitstatus: N` for an exit and
    /// `termsig: N` (then `, coredump?: true` after a core dump) for a
    /// death by signal.
    Ruby,
}

/// The string [`Formula::Node`] gives; `status` or `signal` is `None` for
/// JavaScript's `null`.
pub fn node_text(status: Option<i64>, signal: Option<&str>) -> String {
    format!(
        "status: {}, signal: {}",
        status.map_or_else(|| "null".to_owned(), |s| s.to_string()),
        signal.unwrap_or("null")
    )
}

/// The string [`Formula::Ruby`] gives: the accessors that are not `nil`
/// (`exitstatus`, `termsig`) or `false` (`coredump?`), in that order; both
/// `nil` is `exitstatus: nil, termsig: nil`.
pub fn ruby_text(exitstatus: Option<i64>, termsig: Option<i64>, coredump: bool) -> String {
    let mut parts = Vec::new();
    if let Some(n) = exitstatus {
        parts.push(format!("exitstatus: {n}"));
    }
    if let Some(n) = termsig {
        parts.push(format!("termsig: {n}"));
    }
    if coredump {
        parts.push("coredump?: true".to_owned());
    }
    if exitstatus.is_none() && termsig.is_none() {
        parts.insert(0, "exitstatus: nil, termsig: nil".to_owned());
    }
    parts.join(", ")
}

impl Formula {
    /// N itself.
    pub const IDENTITY: Formula = Formula::Number {
        offset: 0,
        negate: false,
    };

    /// Parses `N`, `-N`, `128+N`, `256+N`, ..., a number such as `-1`,
    /// `wait(N)`, `plan9(N)`, `node(N)` or `ruby(N)`. The error is a
    /// lowercase fragment.
    pub fn parse(text: &str) -> Result<Formula, String> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        match compact.as_str() {
            "plan9(N)" => return Ok(Formula::Plan9),
            "wait(N)" => return Ok(Formula::WaitWord),
            "node(N)" => return Ok(Formula::Node),
            "ruby(N)" => return Ok(Formula::Ruby),
            _ => {}
        }
        if let Ok(value) = compact.parse::<i64>() {
            return Ok(Formula::Constant { value });
        }
        if compact == "int32(N)" {
            return Ok(Formula::Int32);
        }
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
                    "cannot read formula `{text}`: expected `N`, `-N`, `<number>+N` (such as `128+N`), a number, `wait(N)`, `plan9(N)`, `int32(N)`, `node(N)` or `ruby(N)`"
                ))
            }
        };
        Ok(Formula::Number { offset, negate })
    }

    /// The number for `n`: `offset ± n`, or the constant. The other
    /// formulas keep `n` as it is: their value depends on whether it is an
    /// exit or a signal ([`Formula::exit`], [`Formula::signal`]).
    pub fn apply(self, n: i64) -> i64 {
        match self {
            Formula::Number { offset, negate } => offset + if negate { -n } else { n },
            Formula::Constant { value } => value,
            Formula::Plan9 | Formula::WaitWord | Formula::Node | Formula::Ruby => n,
            // The low 32 bits, reinterpreted: `as` truncates and keeps the bits.
            Formula::Int32 => i64::from(n as u32 as i32),
        }
    }

    /// What the view reports for an exit with `code`.
    pub fn exit(self, code: i64) -> Reported {
        let text = |value| Reported::Text { value };
        match self {
            Formula::Number { .. } | Formula::Constant { .. } | Formula::Int32 => Reported::Code {
                value: self.apply(code),
            },
            Formula::WaitWord => Reported::Code {
                value: (code & 0xff) << 8,
            },
            Formula::Plan9 => text(plan9::exit_message(code)),
            Formula::Node => text(node_text(Some(code), None)),
            Formula::Ruby => text(ruby_text(Some(code), None, false)),
        }
    }

    /// What the view reports for a death by `signal`, named through
    /// `table`. A number drops the core flag (`$?` is 128+N with or without
    /// a core), but the raw wait word keeps it (0x80); Plan 9's wait message
    /// says ` (core dumped)`, Ruby's `coredump?` is `true`.
    pub fn signal(
        self,
        signal: signal::Signal,
        core_dumped: bool,
        table: &SignalTable,
    ) -> Reported {
        let n = i64::from(signal.0);
        let text = |value| Reported::Text { value };
        match self {
            Formula::Number { .. } | Formula::Constant { .. } | Formula::Int32 => Reported::Code {
                value: self.apply(n),
            },
            Formula::WaitWord => Reported::Code {
                value: n | if core_dumped { 0x80 } else { 0 },
            },
            Formula::Plan9 => text(plan9::signal_message(signal, core_dumped, table)),
            Formula::Node => text(node_text(None, Some(&table.display(signal).to_string()))),
            Formula::Ruby => text(ruby_text(None, Some(n), core_dumped)),
        }
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Formula::Number { offset, negate } => {
                let n = if negate { "-N" } else { "N" };
                if offset == 0 {
                    f.write_str(n)
                } else {
                    write!(f, "{offset}+{n}")
                }
            }
            Formula::Constant { value } => write!(f, "{value}"),
            Formula::WaitWord => f.write_str("wait(N)"),
            Formula::Plan9 => f.write_str("plan9(N)"),
            Formula::Int32 => f.write_str("int32(N)"),
            Formula::Node => f.write_str("node(N)"),
            Formula::Ruby => f.write_str("ruby(N)"),
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
    /// sees them, are `states`, with signals named through `table` (the
    /// profile's: only a `plan9(N)` formula names them).
    ///
    /// A number drops the core flag (`$?` is 128+N with or without a core),
    /// and a state the view does not see leaves no value.
    pub fn apply_in(&self, states: &[StateChange], table: &SignalTable) -> Vec<Reported> {
        let effect = |e: &Effect| match e {
            Effect::Unseen => None,
            Effect::Raises { exception } => Some(Reported::Raised {
                exception: exception.clone(),
            }),
        };
        states
            .iter()
            .filter_map(|state| match *state {
                StateChange::Exited { code } => Some(self.exit.exit(code)),
                StateChange::Signaled {
                    signal,
                    core_dumped,
                } => Some(self.signal.signal(signal, core_dumped, table)),
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

    /// [`Mapping::apply_in`] with the signals named through Linux's generic
    /// table ([`signal::LINUX_GENERIC`]). A mapping of numbers names no
    /// signal, so this is `apply_in` for every table; a `plan9(N)` mapping
    /// is right this way only for a target of that numbering (x86_64,
    /// aarch64, ...), and a caller with the profile's table should pass it
    /// to `apply_in`, as [`crate::pure::profile`] does when it derives a
    /// view's expectations.
    pub fn apply(&self, states: &[StateChange]) -> Vec<Reported> {
        self.apply_in(states, &signal::LINUX_GENERIC)
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
