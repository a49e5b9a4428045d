//! The language runtimes as observers: a probe's ending as Node.js's
//! `child_process`, Perl's `system`, Go's `os/exec` and Ruby's
//! `Process::Status` report it.
//!
//! Each runtime runs a small parent program of the project's, in
//! `observers/`, that starts the probe with that runtime's ordinary process
//! API (no shell, standard streams inherited), waits for it, and writes
//! what the API gave to a file in the case directory:
//!
//! ```text
//! node --no-warnings observers/node_observer.js .exitmatrix-status PROBE ARGS...
//! perl observers/perl_observer.pl .exitmatrix-status PROBE ARGS...
//! GO_OBSERVER .exitmatrix-status PROBE ARGS...      (go build observers/go_observer.go)
//! ruby --disable-gems observers/ruby_observer.rb .exitmatrix-status PROBE ARGS...
//! ```
//!
//! What each column holds ([`Reported`]):
//!
//! - `node`: the `status` and `signal` fields of `spawnSync`'s result, as
//!   one string (`status: 3, signal: null`, `status: null, signal:
//!   SIGTERM`; [`crate::pure::view::node_text`]).
//! - `perl`: `$?`, the raw wait word (a number). The script also writes
//!   `$? >> 8`, `$? & 127` and `$? & 128`, which perlvar says are the exit
//!   value, the signal and the core flag; the observer checks them against
//!   the harness's own decoding of the same word ([`check_perl`]).
//! - `go`: `ProcessState.ExitCode()` (a number). The program also writes
//!   the `syscall.WaitStatus` of `ProcessState.Sys()` and what its methods
//!   say (`Exited`, `ExitStatus`, `Signaled`, `Signal`, `CoreDump`), checked
//!   the same way ([`check_go`]).
//! - `ruby`: the `Process::Status` accessors that are not `nil` or `false`,
//!   as one string (`exitstatus: 3`, `termsig: 6, coredump?: true`;
//!   [`crate::pure::view::ruby_text`]).
//!
//! A check that fails adds a second value to the cell, a string saying what
//! disagreed, so the cell deviates from its one expected value instead of
//! passing quietly.
//!
//! A parent that cannot start its program writes `error NAME` instead and
//! exits 3: Node's `error.code` (`ENOENT`), the `%!` name of Perl's `$!`,
//! Go's `ErrNotExist`/`ErrPermission` (`errors.Is`) or `Errno, N`, Ruby's
//! exception class (`Errno::ENOENT`); the column reads it as the raised
//! error. The spawn-failure own cases
//! ([`crate::pure::observers::SPAWN_CASES`]) are run that way.
//!
//! None of the four waits with `WUNTRACED` (libuv's `uv__wait_children`,
//! Perl's `pp_system`, Go's `os.(*Process).wait` and Ruby's `Process.wait2`
//! with no flags), so none sees a stop: the harness continues a stopped
//! probe ([`crate::observers::parent`]).
//!
//! # Started once: Ruby
//! Ruby's start-up is most of its cells (about 9× a `waitpid` cell), and
//! Ruby can fork, so its parent does not start per cell: `ruby
//! --disable-gems ruby_observer.rb --serve` runs once per worker (a pool
//! of servers), and each cell is one request, for which the server forks a
//! case process that runs the script's own `observe` with the words above,
//! in the case directory, in a process group of its own, with the case's
//! core limit and its output in the case's capture files
//! ([`parent::run_forked`]): what the same command line started fresh
//! there would be (the script's `serve` says what it keeps equal, and a
//! suite test compares what a probe sees under both). The report's command
//! is that equivalent command line. A server that dies or says something
//! unexpected makes its cell "not observed", never a pass, and the next
//! cell starts a new one.
//!
//! The others start per cell. Perl could fork too, but a Perl server was
//! measured no faster than a fresh `perl` (p50 10.7 against 8.9 ms a
//! cell side by side on this project's machine): Perl starts in about
//! 4 ms once its script loads no module on a probe's way, which is what a
//! served cell's own costs (a case directory on disk, a fork, two round
//! trips) come to. Node.js and Go cannot fork once they run (their
//! runtimes are multithreaded), and a probe started by a long-lived
//! Node.js or Go process would be in that process's group, not in a group
//! of its parent's own.
//!
//! The Go program is built once per observer (once per run), with the
//! system `go` and a build cache of its own, into a temporary directory the
//! observer owns (removed with it), the first time a cell needs it. The
//! programs are looked up on the observer search path
//! ([`crate::observers::shell::DEFAULT_SEARCH_PATH`] by default), never run
//! to find out; without one its column is "not installed".

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;
use tempfile::TempDir;

use crate::observers::observe::{Case, Observation};
use crate::observers::parent::{self, ParentColumn, ParentEnd, ParentRun, Setting};
use crate::observers::shell::STATUS_FILE;
use crate::process::spawn::Invocation;
use crate::pure::decode::{self, StateChange, WaitConventions};
use crate::pure::observers::OwnCase;
use crate::pure::observers::{ObserverKind, GO, NODE, PERL, RUBY};
use crate::pure::view::{self, Reported};

/// One of the runtimes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// Node.js, `child_process.spawnSync`.
    Node,
    /// Perl, `system`.
    Perl,
    /// Go, `os/exec`.
    Go,
    /// Ruby, `Process.spawn` and `Process::Status`.
    Ruby,
}

impl Language {
    /// Every runtime, in column order.
    pub const ALL: [Language; 4] = [Language::Node, Language::Perl, Language::Go, Language::Ruby];

    /// The column name.
    pub fn column(self) -> &'static str {
        match self {
            Language::Node => NODE,
            Language::Perl => PERL,
            Language::Go => GO,
            Language::Ruby => RUBY,
        }
    }

    /// The program looked up on the search path.
    pub fn program(self) -> &'static str {
        match self {
            Language::Node => "node",
            Language::Perl => "perl",
            Language::Go => "go",
            Language::Ruby => "ruby",
        }
    }

    /// The Debian package that installs it.
    pub fn package(self) -> &'static str {
        match self {
            Language::Node => "nodejs",
            Language::Perl => "perl",
            Language::Go => "golang-go",
            Language::Ruby => "ruby",
        }
    }

    /// The parent program's source, in the workspace's `observers/`.
    pub fn source_name(self) -> &'static str {
        match self {
            Language::Node => "node_observer.js",
            Language::Perl => "perl_observer.pl",
            Language::Go => "go_observer.go",
            Language::Ruby => "ruby_observer.rb",
        }
    }

    /// The words between the program and the script (none for Go, whose
    /// program is the built parent itself).
    fn flags(self) -> &'static [&'static str] {
        match self {
            // Node prints warnings (an experimental API, a deprecation) on
            // stderr, beside the probe's own output.
            Language::Node => &["--no-warnings"],
            // RubyGems is not needed and takes most of Ruby's start-up.
            Language::Ruby => &["--disable-gems"],
            Language::Perl | Language::Go => &[],
        }
    }

    /// Whether its parent runs as a forking server (see the module
    /// documentation for why only Ruby's).
    pub fn serves(self) -> bool {
        self == Language::Ruby
    }

    fn how(self) -> &'static str {
        match self {
            Language::Node => {
                "child_process.spawnSync(PROBE, [ARGS...], {stdio: 'inherit'}): status and signal (observers/node_observer.js)"
            }
            Language::Perl => {
                "system { PROBE } PROBE, ARGS...: $?, $? >> 8, $? & 127, $? & 128 (observers/perl_observer.pl)"
            }
            Language::Go => {
                "exec.Command(PROBE, ARGS...).Wait(): ProcessState.ExitCode() and Sys().(syscall.WaitStatus) (observers/go_observer.go)"
            }
            Language::Ruby => {
                "Process.wait2(Process.spawn([PROBE, PROBE], ARGS...)): exitstatus, termsig, coredump? (observers/ruby_observer.rb)"
            }
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.column())
    }
}

/// A runtime's parent as an observer.
#[derive(Debug)]
pub struct Runtime {
    language: Language,
    /// The runtime's program, if found on the search path.
    program: Option<PathBuf>,
    search_path: String,
    source: PathBuf,
    /// Go only: the directory holding the built parent, made on first use.
    built: OnceLock<Result<TempDir, String>>,
}

impl Runtime {
    /// The parent of `language`, its program looked up on `search_path`.
    pub fn new(language: Language, search_path: &str) -> Runtime {
        Runtime {
            language,
            program: parent::find_program(language.program(), search_path),
            search_path: search_path.to_owned(),
            source: crate::toolchain::probes::workspace_root()
                .join("observers")
                .join(language.source_name()),
            built: OnceLock::new(),
        }
    }

    /// Every runtime's parent, in column order.
    pub fn all(search_path: &str) -> Vec<Runtime> {
        Language::ALL
            .into_iter()
            .map(|l| Runtime::new(l, search_path))
            .collect()
    }

    fn program(&self) -> Result<&Path, String> {
        self.program.as_deref().ok_or_else(|| {
            format!(
                "not installed: no executable `{}` in {} (Debian package {})",
                self.language.program(),
                self.search_path,
                self.language.package()
            )
        })
    }

    /// The words that go before the probe.
    fn words(&self) -> Result<Vec<std::ffi::OsString>, String> {
        let program = self.program()?;
        if !self.source.is_file() {
            return Err(format!(
                "the observer source {} is missing",
                self.source.display()
            ));
        }
        let mut words = Vec::new();
        if self.language == Language::Go {
            let dir = self
                .built
                .get_or_init(|| build_go(program, &self.source))
                .as_ref()
                .map_err(Clone::clone)?;
            words.push(dir.path().join(GO_BINARY).into_os_string());
        } else {
            words.push(program.as_os_str().to_owned());
            words.extend(self.language.flags().iter().map(Into::into));
            words.push(self.source.as_os_str().to_owned());
        }
        words.push(STATUS_FILE.into());
        Ok(words)
    }
}

impl Runtime {
    /// Runs the parent: Ruby's as a request to a forking server started
    /// once per worker ([`parent::run_forked`]; see the
    /// module documentation), the others fresh ([`parent::run`]).
    fn run_parent(&self, run: &ParentRun<'_>) -> Result<ParentEnd, String> {
        if !self.language.serves() || !parent::can_fork_serve() {
            return parent::run(run);
        }
        // The words that start the parent program: the program, its flags
        // and the script; the rest are the script's arguments.
        let skip = 2 + self.language.flags().len();
        let start = Invocation {
            runner: run.invocation.runner[..skip - 1].to_vec(),
            program: self.source.clone(),
            args: vec!["--serve".to_owned()],
        };
        parent::run_forked(&start, run, skip)
    }
}

/// The name of the built Go parent in its directory.
const GO_BINARY: &str = "go_observer";

/// Builds the Go parent with `go` into a new temporary directory, with a
/// build cache of its own there (so nothing is written to the user's
/// cache), cgo off (no C compiler needed) and GOPATH mode (no module
/// lookups).
fn build_go(go: &Path, source: &Path) -> Result<TempDir, String> {
    // Named as the shells' fixtures are (`exitmatrix-fixtures-*`), which
    // scripts/compare-reports.py masks in commands.
    let dir = tempfile::Builder::new()
        .prefix("exitmatrix-fixtures-")
        .suffix("-go")
        .tempdir()
        .map_err(|e| format!("cannot make a directory for the Go parent: {e}"))?;
    #[expect(
        clippy::disallowed_methods,
        reason = "builds the Go parent, not a probe"
    )]
    let output = std::process::Command::new(go)
        .arg("build")
        .arg("-o")
        .arg(dir.path().join(GO_BINARY))
        .arg(source)
        .env("GOCACHE", dir.path().join("cache"))
        .env("GOPATH", dir.path().join("gopath"))
        .env("GO111MODULE", "off")
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", go.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} build {} failed ({}): {}",
            go.display(),
            source.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(dir)
}

impl ParentColumn for Runtime {
    fn column(&self) -> &str {
        self.language.column()
    }

    fn kind(&self) -> ObserverKind {
        ObserverKind::Runtime
    }

    fn shown_program(&self) -> Option<String> {
        self.program.as_ref().map(|p| p.display().to_string())
    }

    fn found(&self) -> Result<(), String> {
        self.program().map(drop)
    }

    fn how(&self) -> String {
        self.language.how().to_owned()
    }

    fn observe_under(&self, case: &Case<'_>) -> Result<Observation, String> {
        let words = self.words()?;
        let (end, command) =
            parent::run_probe_by(words, case, STATUS_FILE, case.continue_stops, &|run| {
                self.run_parent(run)
            })?;
        finish(self.language, end, command, case.wait)
    }

    fn parent_cases(&self) -> Vec<OwnCase> {
        crate::pure::observers::SPAWN_CASES.to_vec()
    }

    fn observe_parent_case(
        &self,
        case: &OwnCase,
        setting: &Setting<'_>,
    ) -> Result<Observation, String> {
        if !crate::pure::observers::is_spawn_case(case.name) {
            return Err(format!("{} has no case `{}`", self.column(), case.name));
        }
        // The spawn failures: the fixture's path is the probe.
        let fixtures = crate::observers::spawnfail::Fixtures::create()?;
        let probe = fixtures.invocation(case.name)?;
        let mut runner = self.words()?;
        runner.extend(probe.runner.iter().cloned());
        let invocation = Invocation {
            runner,
            program: probe.program,
            args: Vec::new(),
        };
        let command = parent::display_command(&invocation);
        let end = self.run_parent(&ParentRun {
            invocation: &invocation,
            core: false,
            continue_stops: true,
            result_file: STATUS_FILE,
            setting: *setting,
        })?;
        finish(self.language, end, command, setting.wait)
    }
}

fn finish(
    language: Language,
    end: ParentEnd,
    command: String,
    wait: &WaitConventions,
) -> Result<Observation, String> {
    let reported = match end.result.as_deref() {
        None => vec![Reported::Parent {
            ending: end.ending.change,
        }],
        Some(text) => parse(language, text, wait)?,
    };
    Ok(end.observation(command, reported))
}

/// What a runtime's parent reported, read from what it wrote: one value,
/// and a second one (a string saying what disagreed) when a check fails.
/// The error is a lowercase fragment, for a file that is not in the
/// parent's format.
pub fn parse(
    language: Language,
    text: &str,
    wait: &WaitConventions,
) -> Result<Vec<Reported>, String> {
    let line = text.strip_suffix('\n').unwrap_or(text);
    let bad = |why: &str| format!("the {language} parent wrote {text:?}: {why}");
    if let Some(error) = line.strip_prefix("error ") {
        // The program could not be started: the runtime's name for the
        // error (`ENOENT`, `Errno::ENOENT`, `ErrNotExist`), then any number
        // (Go's `Errno, 20`).
        return Ok(error
            .split(", ")
            .map(|word| match word.parse::<i64>() {
                Ok(value) => Reported::Code { value },
                Err(_) => Reported::Raised {
                    exception: word.to_owned(),
                },
            })
            .collect());
    }
    match language {
        Language::Node => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Fields {
                status: Option<i64>,
                signal: Option<String>,
            }
            let fields: Fields = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
            Ok(vec![Reported::Text {
                value: view::node_text(fields.status, fields.signal.as_deref()),
            }])
        }
        Language::Perl => {
            let numbers = numbers::<4>(line).ok_or_else(|| bad("not four numbers"))?;
            let [status, high, low, core] = numbers;
            let mut values = vec![Reported::Code { value: status }];
            values.extend(check_perl(status, high, low, core, wait));
            Ok(values)
        }
        Language::Go => {
            let words: Vec<&str> = line.split(' ').collect();
            let [code, ws, exited, exit_status, signaled, signal, core] = words[..] else {
                return Err(bad("not seven words"));
            };
            let number = |w: &str| w.parse::<i64>().map_err(|_| bad("not a number"));
            let boolean = |w: &str| match w {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(bad("not true or false")),
            };
            let code = number(code)?;
            let ws = u32::try_from(number(ws)?).map_err(|_| bad("not a wait status"))?;
            let methods = GoWaitStatus {
                exited: boolean(exited)?,
                exit_status: number(exit_status)?,
                signaled: boolean(signaled)?,
                signal: number(signal)?,
                core_dump: boolean(core)?,
            };
            let mut values = vec![Reported::Code { value: code }];
            values.extend(check_go(ws, &methods, wait));
            Ok(values)
        }
        Language::Ruby => {
            let words: Vec<&str> = line.split(' ').collect();
            let [exitstatus, termsig, coredump] = words[..] else {
                return Err(bad("not three words"));
            };
            let optional = |w: &str| match w {
                "nil" => Ok(None),
                n => n
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| bad("not nil or a number")),
            };
            let coredump = match coredump {
                "true" => true,
                "false" => false,
                _ => return Err(bad("coredump? is not true or false")),
            };
            Ok(vec![Reported::Text {
                value: view::ruby_text(optional(exitstatus)?, optional(termsig)?, coredump),
            }])
        }
    }
}

fn numbers<const K: usize>(line: &str) -> Option<[i64; K]> {
    let parsed: Vec<i64> = line
        .split(' ')
        .map(|w| w.parse().ok())
        .collect::<Option<_>>()?;
    parsed.try_into().ok()
}

/// What perlvar says `$? >> 8`, `$? & 127` and `$? & 128` are ("the exit
/// value of the subprocess is really (`$? >> 8`), and `$? & 127` gives which
/// signal, if any, the process died from, and `$? & 128` reports whether
/// there was a core dump"), checked against the harness's decoding of `$?`
/// in the target's layout: for an exit with code N, (N, 0, 0); for a death
/// by signal N, (0, N, 128 or 0). `None` when they agree, else a string
/// saying how they differ.
pub fn check_perl(
    status: i64,
    high: i64,
    low: i64,
    core: i64,
    wait: &WaitConventions,
) -> Option<Reported> {
    let decoded = i32::try_from(status)
        .ok()
        .map(|raw| decode::decode_wait_status(raw, wait));
    let expected = match decoded {
        Some(StateChange::Exited { code }) => Some((code, 0, 0)),
        Some(StateChange::Signaled {
            signal,
            core_dumped,
        }) => Some((0, i64::from(signal.0), if core_dumped { 128 } else { 0 })),
        _ => None,
    };
    (expected != Some((high, low, core))).then(|| Reported::Text {
        value: format!(
            "perl: $? >> 8 = {high}, $? & 127 = {low}, $? & 128 = {core}, but $? = {status} decodes as {}",
            describe(decoded)
        ),
    })
}

/// What the methods of Go's `syscall.WaitStatus` said of the word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoWaitStatus {
    /// `Exited()`.
    pub exited: bool,
    /// `ExitStatus()`: -1 unless exited.
    pub exit_status: i64,
    /// `Signaled()`.
    pub signaled: bool,
    /// `int(Signal())`: -1 unless signaled.
    pub signal: i64,
    /// `CoreDump()`.
    pub core_dump: bool,
}

/// What Go's `syscall.WaitStatus` methods say of the raw word `ws`
/// (`syscall/syscall_linux.go`: `ExitStatus` and `Signal` are -1 when the
/// state is not an exit or a death by signal), checked against the
/// harness's decoding of the same word. `None` when they agree, else a
/// string saying how they differ.
pub fn check_go(ws: u32, methods: &GoWaitStatus, wait: &WaitConventions) -> Option<Reported> {
    let decoded = i32::try_from(ws)
        .ok()
        .map(|raw| decode::decode_wait_status(raw, wait));
    let expected = match decoded {
        Some(StateChange::Exited { code }) => Some(GoWaitStatus {
            exited: true,
            exit_status: code,
            signaled: false,
            signal: -1,
            core_dump: false,
        }),
        Some(StateChange::Signaled {
            signal,
            core_dumped,
        }) => Some(GoWaitStatus {
            exited: false,
            exit_status: -1,
            signaled: true,
            signal: i64::from(signal.0),
            core_dump: core_dumped,
        }),
        _ => None,
    };
    (expected.as_ref() != Some(methods)).then(|| Reported::Text {
        value: format!(
            "go: WaitStatus {ws:#x} says Exited {}, ExitStatus {}, Signaled {}, Signal {}, CoreDump {}, but decodes as {}",
            methods.exited,
            methods.exit_status,
            methods.signaled,
            methods.signal,
            methods.core_dump,
            describe(decoded)
        ),
    })
}

fn describe(decoded: Option<StateChange>) -> String {
    match decoded {
        Some(change) => change
            .display(&crate::pure::signal::LINUX_GENERIC)
            .to_string(),
        None => "nothing (out of range)".to_owned(),
    }
}
