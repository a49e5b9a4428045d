//! Plan 9's shell as an observer: a probe's ending as rc's `$status`.
//!
//! rc is not a POSIX shell. It has no `$?`: `$status` is a string, the wait
//! message of the last command (rc(1): "`$status` gets the process's wait
//! message (see wait(3)); it will be the null string if the command was
//! successful"), which the Unix ports make from the wait status
//! ([`crate::pure::plan9`]): `''`, `3`, `signal: kill`,
//! `signal: sys: abort (core dumped)`. The column holds those strings
//! ([`Reported::Text`]).
//!
//! The probe runs as the first command of a `-c` script, its words being
//! rc's `$*` (rc gives `-c` no `$0` word):
//!
//! ```text
//! rc -c '$*; probestatus=$status; whatis probestatus > .exitmatrix-status' PROBE ARGS...
//! ```
//!
//! - `whatis` is an rc builtin that prints a variable "in a form suitable
//!   for input to rc" (`probestatus='signal: kill'`), so the status is
//!   written exactly, quoting and all, without running a program: the
//!   harness starts rc with an empty environment, where rc's `$path` is
//!   empty and `echo` would not be found. The status is copied first,
//!   since `whatis` resets `$status` itself.
//! - rc is Debian's `9base` (`/usr/lib/plan9/bin/rc`, which 9base links as
//!   `/bin/rc` through the alternatives system) or plan9port's. It is
//!   looked up as `rc` on the observer search path and must resolve to a
//!   file in a `plan9/bin` directory: the other `rc` (Byron Rakitzis's
//!   reimplementation, Debian package `rc`) reports statuses differently,
//!   and counts as not installed. Nothing is run to find out.
//! - rc waits without `WUNTRACED` (9base `lib9/await.c` calls `wait4` with
//!   no options), so it never sees a stop; the harness continues a stopped
//!   probe ([`crate::observers::parent`]) and `$status` tells how it ended.
//! - For a command that died of a signal rc prints `PID: signal: ...` on
//!   its standard error (9base `rc/plan9ish.c`, `Waitfor`), which lands
//!   beside the probe's own output.

use std::path::{Path, PathBuf};

use crate::observers::observe::{Case, Observation};
use crate::observers::parent::{self, ParentColumn, ParentEnd};
use crate::observers::shell::STATUS_FILE;
use crate::pure::observers::{ObserverKind, RC};
use crate::pure::view::{self, Reported};

/// The script every probe runs under.
pub const SCRIPT: &str = "$*; probestatus=$status; whatis probestatus > .exitmatrix-status";

/// What `whatis` writes before the value.
const ASSIGNMENT: &str = "probestatus=";

/// The program looked up on the search path.
const PROGRAM: &str = "rc";

/// The Debian package that installs Plan 9's rc.
const PACKAGE: &str = "9base";

/// Plan 9's rc as an observer.
#[derive(Debug)]
pub struct Rc {
    /// rc's real path, or why it is not installed.
    found: Result<PathBuf, String>,
}

impl Rc {
    /// rc, looked up on `search_path`.
    pub fn new(search_path: &str) -> Rc {
        Rc {
            found: locate(search_path),
        }
    }

    fn program(&self) -> Result<&Path, String> {
        self.found.as_deref().map_err(Clone::clone)
    }
}

/// Finds `rc` on `search_path` and checks, by its real path, that it is
/// Plan 9's.
fn locate(search_path: &str) -> Result<PathBuf, String> {
    let found = parent::find_program(PROGRAM, search_path).ok_or_else(|| {
        format!(
            "not installed: no executable `{PROGRAM}` in {search_path} (Debian package {PACKAGE})"
        )
    })?;
    let real = std::fs::canonicalize(&found).map_err(|e| {
        format!(
            "not installed: cannot resolve {}: {e} (Debian package {PACKAGE})",
            found.display()
        )
    })?;
    if is_plan9_rc(&real) {
        Ok(real)
    } else {
        Err(format!(
            "not installed: `{PROGRAM}` in {search_path} is {}, not Plan 9's rc (Debian package {PACKAGE} installs it as /usr/lib/plan9/bin/rc)",
            real.display()
        ))
    }
}

/// Whether `path` is `.../plan9/bin/rc`: 9base's (`/usr/lib/plan9`) or
/// plan9port's (`/usr/local/plan9`).
pub fn is_plan9_rc(path: &Path) -> bool {
    let bin = path.parent();
    let root = bin.and_then(Path::parent);
    path.file_name().is_some_and(|n| n == PROGRAM)
        && bin.and_then(Path::file_name).is_some_and(|n| n == "bin")
        && root.and_then(Path::file_name).is_some_and(|n| n == "plan9")
}

/// Reads what `whatis probestatus` wrote: `probestatus=3`,
/// `probestatus=''`, `probestatus='signal: kill'`. The error is a lowercase
/// fragment.
pub fn parse_status(text: &str) -> Result<String, String> {
    let line = text.strip_suffix('\n').unwrap_or(text);
    let value = line
        .strip_prefix(ASSIGNMENT)
        .ok_or_else(|| format!("rc wrote {text:?}, not `{ASSIGNMENT}...`"))?;
    if value.starts_with('\'') {
        view::unquote(value).map_err(|e| format!("rc wrote {text:?}: {e}"))
    } else if value.is_empty() || value.contains(|c: char| "()' \t\n".contains(c)) {
        // rc quotes every word that needs it, and prints a list in
        // parentheses; `$status` is one word.
        Err(format!("rc wrote {text:?}, not one word"))
    } else {
        Ok(value.to_owned())
    }
}

impl ParentColumn for Rc {
    fn column(&self) -> &str {
        RC
    }

    fn kind(&self) -> ObserverKind {
        ObserverKind::Shell
    }

    fn shown_program(&self) -> Option<String> {
        self.found.as_ref().ok().map(|p| p.display().to_string())
    }

    fn found(&self) -> Result<(), String> {
        self.program().map(drop)
    }

    fn how(&self) -> String {
        format!("rc -c {} PROBE ARGS...", parent::shell_quote(SCRIPT))
    }

    fn observe_under(&self, case: &Case<'_>) -> Result<Observation, String> {
        let program = self.program()?;
        let runner = vec![program.as_os_str().to_owned(), "-c".into(), SCRIPT.into()];
        let (end, command) = parent::run_probe(runner, case, STATUS_FILE, case.continue_stops)?;
        finish(end, command)
    }
}

fn finish(end: ParentEnd, command: String) -> Result<Observation, String> {
    let reported = match end.result.as_deref() {
        None => Reported::Parent {
            ending: end.ending.change,
        },
        Some(text) => Reported::Text {
            value: parse_status(text)?,
        },
    };
    Ok(end.observation(command, vec![reported]))
}
