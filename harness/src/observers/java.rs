//! A Java parent as an observer: a probe's ending as `Process.waitFor()`
//! reports it.
//!
//! The Java side is `observers/JavaObserver.java`: it starts the probe with
//! `ProcessBuilder` (standard streams inherited) and writes the `int` that
//! `Process.waitFor()` returns to a file in the case directory:
//!
//! ```text
//! java -XX:-UsePerfData -Xint -XX:SharedArchiveFile=JSA -Xlog:cds+dynamic=off \
//!      -cp CLASSES JavaObserver .exitmatrix-status PROBE ARGS...
//! ```
//!
//! - The source is compiled once per observer (once per run) with the
//!   system `javac`, into a temporary directory the observer owns (removed
//!   with it), the first time a cell needs it. A JVM started on the
//!   compiled class takes about 70 ms on this project's machine; launching
//!   the source file itself (`java JavaObserver.java`) compiles it in every
//!   JVM, about 500 ms a cell.
//! - `-XX:-UsePerfData` keeps the JVM from making its shared-memory file in
//!   `/tmp/hsperfdata_<user>`, which a JVM the watchdog kills would leave
//!   behind. It changes nothing the probe sees.
//! - OpenJDK waits with `waitpid(pid, &status, 0)` and returns
//!   `WEXITSTATUS` for an exit and `0x80 + WTERMSIG` for a signal
//!   (`ProcessHandleImpl_unix.c`, `waitForProcessExit0`); it never sees a
//!   stop, so the harness continues a stopped probe
//!   ([`crate::observers::parent`]).
//!
//! # A cheaper start
//! Most of a cell is the JVM's own start, so the cells' JVMs take options
//! that make it cheaper and change nothing the probe or `waitFor` sees
//! (about 0.6× the CPU time of a plain start on this project's machine,
//! measured side by side):
//!
//! - **An application class-data sharing archive** (JEP 350, "Dynamic CDS
//!   Archiving"), made once per observer: the compiled class is put in a
//!   JAR with the system `jar` (CDS takes classes only from JARs, not from
//!   a directory), one JVM runs it on `java -version` with
//!   `-XX:ArchiveClassesAtExit`, and a second one must run on the archive
//!   with `-Xshare:on` (which refuses to start on an archive it cannot
//!   map) before any cell uses it; without `jar`, or if either run fails,
//!   the cells run on the class directory as before. The `java` manual
//!   ("Application Class Data Sharing") describes the archive as the
//!   classes' metadata, parsed and verified once and mapped at start
//!   instead of loaded again: the same classes, from the same class path,
//!   so nothing the program does changes. The archive is one more file the
//!   JVM maps, in the observer's own directory; the probe never sees it, as
//!   OpenJDK's child set-up closes every descriptor above 2 before the
//!   `exec` (`childproc.c`, `closeDescriptors`). `-Xlog:cds+dynamic=off`
//!   silences the one line (on standard output, the probe's) a JVM would
//!   print if the archive could not be mapped after all; the JVM then runs
//!   without it, as `-Xshare:auto` (the default) says.
//! - **`-Xint`**, the interpreter only: the `java` manual's "Runs the
//!   application in interpreted-only mode. Compilation to native code is
//!   disabled": the JIT compilers' threads and start-up work go, and a
//!   program that only starts a process and waits for it needs no compiled
//!   code. The Java Language Specification's semantics do not depend on
//!   whether code is interpreted or compiled.
//!
//! Options measured and left out: `-XX:TieredStopAtLevel=1` (C1 only: less
//! gain than `-Xint` here), `-XX:+UseSerialGC` (slower here, with or without
//! the archive), smaller heaps and
//! code caches (no measurable gain). A long-lived JVM per worker was not
//! built: a JVM cannot fork, and the probe would be in the server's
//! process group instead of its parent's own (see `issues show 15`).
//!
//! `java` and `javac` are looked up on the observer search path
//! ([`crate::observers::shell::DEFAULT_SEARCH_PATH`] by default), never run
//! to find out; without either the column is "not installed".

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tempfile::TempDir;

use crate::observers::observe::{Case, Observation};
use crate::observers::parent::{self, ParentColumn};
use crate::observers::shell::STATUS_FILE;
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
    /// The compiled class and its archive, made on first use.
    classes: OnceLock<Result<Compiled, String>>,
}

/// The compiled Java parent: where its class is, and the class-data
/// archive made for it, if one could be.
#[derive(Debug)]
struct Compiled {
    /// Holds everything below; removed with the observer.
    _dir: TempDir,
    /// The class path: the JAR, or the class directory if no archive.
    class_path: PathBuf,
    /// The validated dynamic CDS archive, if any.
    archive: Option<PathBuf>,
}

/// The options every JVM of the column gets, in front of the class path
/// (see the module documentation for why each changes nothing observed).
const JVM_OPTIONS: [&str; 2] = ["-XX:-UsePerfData", "-Xint"];

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

    /// The compiled class, compiling it (and archiving it) the first time.
    fn classes(&self, java: &Path, javac: &Path) -> Result<&Compiled, String> {
        self.classes
            .get_or_init(|| {
                let dir = compile(javac, &self.source)?;
                let jar = parent::find_program("jar", &self.search_path);
                let archive = jar.and_then(|jar| archive(java, &jar, dir.path()).ok());
                let class_path = match &archive {
                    Some(_) => dir.path().join(JAR),
                    None => dir.path().join(CLASSES),
                };
                Ok(Compiled {
                    _dir: dir,
                    class_path,
                    archive,
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The JVM's words in front of the status file and the probe.
    fn words(&self) -> Result<Vec<std::ffi::OsString>, String> {
        let (java, javac) = self.programs()?;
        let compiled = self.classes(java, javac)?;
        Ok(jvm_words(
            java,
            &compiled.class_path,
            compiled.archive.as_deref(),
        ))
    }

    /// Whether the cells run on a class-data archive (for tests).
    pub fn uses_archive(&self) -> Result<bool, String> {
        let (java, javac) = self.programs()?;
        Ok(self.classes(java, javac)?.archive.is_some())
    }
}

/// `java`, its options, the archive's if any, the class path and the class.
fn jvm_words(java: &Path, class_path: &Path, archive: Option<&Path>) -> Vec<std::ffi::OsString> {
    let mut words = vec![java.as_os_str().to_owned()];
    words.extend(JVM_OPTIONS.iter().map(Into::into));
    if let Some(archive) = archive {
        let mut option = std::ffi::OsString::from("-XX:SharedArchiveFile=");
        option.push(archive);
        words.push(option);
        words.push("-Xlog:cds+dynamic=off".into());
    }
    words.push("-cp".into());
    words.push(class_path.as_os_str().to_owned());
    words.push(CLASS.into());
    words
}

/// The class directory, the JAR and the archive in the observer's
/// directory.
const CLASSES: &str = "classes";
const JAR: &str = "JavaObserver.jar";
const ARCHIVE: &str = "JavaObserver.jsa";

/// Makes the class-data archive in `dir` (which holds the compiled
/// classes): the JAR, one run with `-XX:ArchiveClassesAtExit` on
/// `java -version`, then one with `-Xshare:on`, which fails unless the JVM
/// can map the archive. Returns the archive's path. Both runs start with an
/// empty environment, as the cells' JVMs do.
fn archive(java: &Path, jar: &Path, dir: &Path) -> Result<PathBuf, String> {
    let run = |program: &Path, words: Vec<std::ffi::OsString>| -> Result<(), String> {
        #[expect(
            clippy::disallowed_methods,
            reason = "prepares the Java parent, not a probe"
        )]
        let output = std::process::Command::new(program)
            .args(&words)
            .env_clear()
            .current_dir(dir)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!("{} failed ({})", program.display(), output.status))
        }
    };
    let jar_path = dir.join(JAR);
    run(
        jar,
        vec![
            "--create".into(),
            "--file".into(),
            jar_path.clone().into_os_string(),
            "-C".into(),
            dir.join(CLASSES).into_os_string(),
            ".".into(),
        ],
    )?;
    let archive = dir.join(ARCHIVE);
    // The training run starts a process, as every cell does, so that the
    // classes of `ProcessBuilder` are archived too.
    let child = [
        java.as_os_str().to_owned(),
        "-XX:-UsePerfData".into(),
        "-version".into(),
    ];
    let mut dump = vec![java.as_os_str().to_owned()];
    dump.extend(JVM_OPTIONS.iter().map(Into::into));
    let mut option = std::ffi::OsString::from("-XX:ArchiveClassesAtExit=");
    option.push(&archive);
    dump.push(option);
    dump.extend([
        "-cp".into(),
        jar_path.clone().into_os_string(),
        CLASS.into(),
        "training-status".into(),
    ]);
    dump.extend(child.iter().cloned());
    run(java, dump[1..].to_vec())?;
    let mut check = jvm_words(java, &jar_path, Some(&archive));
    check.insert(1, "-Xshare:on".into());
    check.push("check-status".into());
    check.extend(child.iter().cloned());
    run(java, check[1..].to_vec())?;
    Ok(archive)
}

/// Compiles `source` with `javac` into `classes` in a new temporary
/// directory.
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
        .arg(dir.path().join(CLASSES))
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

impl ParentColumn for Java {
    fn column(&self) -> &str {
        JAVA
    }

    fn kind(&self) -> ObserverKind {
        ObserverKind::Jvm
    }

    fn shown_program(&self) -> Option<String> {
        self.java.as_ref().map(|p| p.display().to_string())
    }

    fn found(&self) -> Result<(), String> {
        self.programs().map(drop)
    }

    fn how(&self) -> String {
        "new ProcessBuilder(PROBE, ARGS...).inheritIO().start().waitFor() (observers/JavaObserver.java)"
            .to_owned()
    }

    fn observe_under(&self, case: &Case<'_>) -> Result<Observation, String> {
        let mut runner = self.words()?;
        runner.push(STATUS_FILE.into());
        let (end, command) = parent::run_probe(runner, case, STATUS_FILE, case.continue_stops)?;
        end.number_or_ending(command)
    }
}
