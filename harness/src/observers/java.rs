//! A Java parent as an observer: a probe's ending as `Process.waitFor()`
//! reports it.
//!
//! The Java side is `observers/JavaObserver.java`: it starts the probe with
//! `ProcessBuilder` (standard streams inherited) and writes the `int` that
//! `Process.waitFor()` returns to a file in the case directory:
//!
//! ```text
//! java -XX:-UsePerfData -cp CLASSES JavaObserver .exitmatrix-status PROBE ARGS...
//! ```
//!
//! - The source is compiled once per observer (once per run) with the
//!   system `javac`, into a temporary directory the observer owns (removed
//!   with it), the first time a cell needs it. A JVM started on the compiled class takes
//!   about 70 ms on this project's machine; launching the source file
//!   itself (`java JavaObserver.java`) compiles it in every JVM, about
//!   500 ms a cell.
//! - `-XX:-UsePerfData` keeps the JVM from making its shared-memory file in
//!   `/tmp/hsperfdata_<user>`, which a JVM the watchdog kills would leave
//!   behind. It changes nothing the probe sees.
//! - OpenJDK waits with `waitpid(pid, &status, 0)` and returns
//!   `WEXITSTATUS` for an exit and `0x80 + WTERMSIG` for a signal
//!   (`ProcessHandleImpl_unix.c`, `waitForProcessExit0`); it never sees a
//!   stop, so the harness continues a stopped probe
//!   ([`crate::observers::parent`]).
//!
//! `java` and `javac` are looked up on the observer search path
//! ([`crate::observers::shell::DEFAULT_SEARCH_PATH`] by default), never run
//! to find out; without either the column is "not installed".

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tempfile::TempDir;

use crate::observers::observe::{Case, Observation, Observer, ObserverInfo};
use crate::observers::parent::{self};
use crate::observers::shell::STATUS_FILE;
use crate::pure::catalogue::Behaviour;
use crate::pure::observers::{ObserverKind, JAVA};

/// The class the JVM runs.
pub const CLASS: &str = "JavaObserver";

/// The Debian package that installs `java` and `javac`.
const PACKAGE: &str = "openjdk-17-jdk-headless";

/// `observers/JavaObserver.java` in the workspace.
pub fn source_path() -> PathBuf {
    crate::toolchain::probes::workspace_root().join("observers/JavaObserver.java")
}

/// A Java parent.
#[derive(Debug)]
pub struct Java {
    /// `java`, if found on the search path.
    java: Option<PathBuf>,
    /// `javac`, if found on the search path.
    javac: Option<PathBuf>,
    search_path: String,
    source: PathBuf,
    /// The directory holding the compiled class, made on first use.
    classes: OnceLock<Result<TempDir, String>>,
}

impl Java {
    /// The Java parent, with `java` and `javac` looked up on `search_path`.
    pub fn new(search_path: &str) -> Java {
        Java {
            java: parent::find_program("java", search_path),
            javac: parent::find_program("javac", search_path),
            search_path: search_path.to_owned(),
            source: source_path(),
            classes: OnceLock::new(),
        }
    }

    fn programs(&self) -> Result<(&Path, &Path), String> {
        let missing = |program: &str| {
            format!(
                "not installed: no executable `{program}` in {} (Debian package {PACKAGE})",
                self.search_path
            )
        };
        let java = self.java.as_deref().ok_or_else(|| missing("java"))?;
        let javac = self.javac.as_deref().ok_or_else(|| missing("javac"))?;
        Ok((java, javac))
    }

    /// The directory of the compiled class, compiling it the first time.
    fn classes(&self, javac: &Path) -> Result<&Path, String> {
        self.classes
            .get_or_init(|| compile(javac, &self.source))
            .as_ref()
            .map(TempDir::path)
            .map_err(Clone::clone)
    }
}

/// Compiles `source` with `javac` into a new temporary directory.
fn compile(javac: &Path, source: &Path) -> Result<TempDir, String> {
    if !source.is_file() {
        return Err(format!(
            "the observer source {} is missing",
            source.display()
        ));
    }
    // Named as the shells' fixtures are (`exitmatrix-fixtures-*`), which
    // scripts/compare-reports.py masks in commands.
    let dir = tempfile::Builder::new()
        .prefix("exitmatrix-fixtures-")
        .suffix("-java")
        .tempdir()
        .map_err(|e| format!("cannot make a directory for the Java class: {e}"))?;
    #[expect(
        clippy::disallowed_methods,
        reason = "compiles the Java parent, not a probe"
    )]
    let output = std::process::Command::new(javac)
        .arg("-d")
        .arg(dir.path())
        .arg(source)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", javac.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} {} failed ({}): {}",
            javac.display(),
            source.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(dir)
}

impl Observer for Java {
    fn name(&self) -> &str {
        JAVA
    }

    fn available(&self) -> Result<(), String> {
        self.programs().map(drop)
    }

    fn runs(&self, behaviour: &Behaviour) -> bool {
        // The hostile probes stay with the reapers, as for every parent.
        behaviour.timeout.is_none()
    }

    fn info(&self) -> ObserverInfo {
        ObserverInfo {
            name: JAVA.to_owned(),
            kind: ObserverKind::Jvm,
            program: self.java.as_ref().map(|p| p.display().to_string()),
            installed: self.available().is_ok(),
            how: "new ProcessBuilder(PROBE, ARGS...).inheritIO().start().waitFor() (observers/JavaObserver.java)"
                .to_owned(),
        }
    }

    fn observe(&self, case: &Case<'_>) -> Result<Observation, String> {
        let (java, javac) = self.programs()?;
        let classes = self.classes(javac)?;
        let runner = vec![
            java.as_os_str().to_owned(),
            "-XX:-UsePerfData".into(),
            "-cp".into(),
            classes.as_os_str().to_owned(),
            CLASS.into(),
            STATUS_FILE.into(),
        ];
        let (end, command) = parent::run_probe(runner, case, STATUS_FILE, case.continue_stops)?;
        end.number_or_ending(command)
    }
}
